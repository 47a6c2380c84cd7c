/**
 * Reading the broker's retained states is a barrier: a broker that streams the retained
 * messages of a subscription late (aedes does while it routes a large migration) must
 * not make `ps`, `attach` or `migrate` see an empty fleet. Here the broker's store hands
 * out its retained messages 300 ms late (1.5 s in one test: more than the second the
 * old barrier gave a marker before it fell back to counting quiet round trips), and
 * stores them 100 ms late; everything that reads them still finds them.
 */
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FleetClient, startBroker, topics } from '../../src/agent/index.ts';
import type { EmbeddedBroker } from '../../src/agent/index.ts';

const DELAY_MS = 300;
/** A longer delay for the next retained stream only. */
let nextDelayMs: number | undefined;
/** The delay of every retained stream (a test makes them all slower). */
let delayMs = DELAY_MS;

/**
 * aedes's own in-memory store, whose retained streams start `DELAY_MS` late, and which
 * takes 100 ms to store a retained message (aedes acknowledges a publish before it
 * stores it, so a marker may not be there yet when the subscription comes).
 */
function slowRetainedStore(): NonNullable<Parameters<typeof startBroker>[0]>['persistence'] {
  const fromAedes = createRequire(createRequire(import.meta.url).resolve('aedes'));
  const memory = fromAedes('aedes-persistence') as () => Record<string, unknown>;
  const store = memory();
  const keep = (store.storeRetained as (packet: unknown) => Promise<void>).bind(store);
  store.storeRetained = async (packet: unknown): Promise<void> => {
    await new Promise((resolve) => setTimeout(resolve, 100));
    await keep(packet);
  };
  const combi = (store.createRetainedStreamCombi as (patterns: string[]) => Readable).bind(store);
  store.createRetainedStreamCombi = (patterns: string[]): Readable => {
    const delay = nextDelayMs ?? delayMs;
    nextDelayMs = undefined;
    const late = async function* (): AsyncGenerator<unknown> {
      await new Promise((resolve) => setTimeout(resolve, delay));
      yield* combi(patterns);
    };
    return Readable.from(late());
  };
  return store as never;
}

function state(job: string, agent: string): string {
  return JSON.stringify({ v: 1, job, agent, instance: 'i1', epoch: 1, state: 'running', program: 'p.wasm', args: ['p'], startedAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-01T00:00:00Z' });
}

let broker: EmbeddedBroker;
let client: FleetClient;

test.before(async () => {
  broker = await startBroker({ port: 0, persistence: slowRetainedStore() });
  const writer = await FleetClient.connect({ connection: { url: broker.url } });
  await writer.peer.link.publish(topics.jobState('late-job'), state('late-job', 'edge-x'), { retain: true });
  await writer.peer.link.publish(topics.agentStatus('edge-x'), JSON.stringify({ v: 1, agent: 'edge-x', instance: 'i1', online: true, since: '2026-01-01T00:00:00Z', dirs: [], mqtt: '3.1.1', signed: false }), { retain: true });
  await writer.close();
  client = await FleetClient.connect({ connection: { url: broker.url } });
});

test.after(async () => {
  await client.close();
  await broker.close();
});

test('ps waits for retained states that the broker sends late', async () => {
  const view = await client.list();
  assert.equal(view.jobs.map((j) => j.job), ['late-job']);
  assert.equal(view.agents.map((a) => a.agent), ['edge-x']);
});

test('looking up one job waits for it too', async () => {
  const s = await client.jobState('late-job');
  assert.is(s?.agent, 'edge-x');
});

test('a job the broker does not hold is reported absent, after the barrier, not after a timeout', async () => {
  const started = Date.now();
  assert.is(await client.jobState('no-such-job'), undefined);
  const took = Date.now() - started;
  assert.ok(took >= DELAY_MS - 50 && took < 3000, `took ${took} ms`);
});

test('a filter another listener has just subscribed to is read behind the marker too', async () => {
  // As `follow` watches the agent of a job while `migrate` reads its status: the first
  // subscription's retained messages come late, after the marker of the second.
  nextDelayMs = 1500;
  const stop = await client.peer.listen([topics.agentStatus('edge-x')], () => {});
  try {
    const status = await client.agentStatus('edge-x');
    assert.is(status?.agent, 'edge-x');
  } finally {
    stop();
  }
});

test('ps lists the fleet when every retained stream, markers included, comes more than a second late', async () => {
  // What `ps` right after a large migration met now and then: the broker was slow to send
  // retained messages, the barrier took its marker for lost after a second, counted two
  // quiet round trips, and listed what had arrived by then: nothing.
  delayMs = 1500;
  try {
    const view = await client.list();
    assert.equal(view.jobs.map((j) => j.job), ['late-job']);
    assert.equal(view.agents.map((a) => a.agent), ['edge-x']);
  } finally {
    delayMs = DELAY_MS;
  }
});

test('the markers do not stay on the broker', async () => {
  // Their clearing is not waited for; this store takes 100 ms to store it.
  await new Promise((resolve) => setTimeout(resolve, 300));
  const leftovers: string[] = [];
  const peek = await FleetClient.connect({ connection: { url: broker.url } });
  const stop = await peek.peer.listenRetained(['wasmig/v1/clients/+/+'], (topic, payload) => { if (payload.length) leftovers.push(topic); });
  stop();
  await peek.close();
  assert.equal(leftovers, []);
});

test.run();
