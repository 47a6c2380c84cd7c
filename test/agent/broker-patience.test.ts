/**
 * Waits on the broker ride out a broker restart, and only that. On a loaded machine a
 * restarted broker can take more than 5 s to listen again; a follower that was still
 * reading the retained state of its job then gave up with "no answer from the broker
 * within 5 s" and `run --on` exited 1 instead of with the job's status. Here the
 * broker's retained streams are slow (so the read is under way when it stops), it stays
 * away 6 s, and comes back holding the job's state (as the agents publish it again).
 */
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FleetClient, startBroker, topics } from '../../src/agent/index.ts';
import type { EmbeddedBroker } from '../../src/agent/index.ts';

type Store = NonNullable<Parameters<typeof startBroker>[0]>['persistence'];

/** aedes's in-memory store, holding `retained` already, whose retained streams start `delayMs` late. */
async function store(delayMs: number, retained: { topic: string; payload: string }[] = []): Promise<Store> {
  const fromAedes = createRequire(createRequire(import.meta.url).resolve('aedes'));
  const memory = fromAedes('aedes-persistence') as () => Record<string, unknown>;
  const s = memory();
  const keep = (s.storeRetained as (packet: unknown) => Promise<void>).bind(s);
  for (const r of retained) await keep({ cmd: 'publish', topic: r.topic, payload: Buffer.from(r.payload), qos: 1, retain: true });
  const combi = (s.createRetainedStreamCombi as (patterns: string[]) => Readable).bind(s);
  s.createRetainedStreamCombi = (patterns: string[]): Readable => {
    const late = async function* (): AsyncGenerator<unknown> {
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      yield* combi(patterns);
    };
    return Readable.from(late());
  };
  return s as never;
}

const STATE = JSON.stringify({ v: 1, job: 'j', agent: 'edge', instance: 'i1', epoch: 1, state: 'running', program: 'p.wasm', args: ['p'], startedAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-01T00:00:00Z' });

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

test('reading retained state waits for a broker that restarts meanwhile, then reads it again', async () => {
  let broker: EmbeddedBroker = await startBroker({ port: 0, persistence: await store(1500) });
  const port = broker.port;
  const client = await FleetClient.connect({ connection: { url: broker.url } });
  try {
    const reading = client.jobState('j');
    let outcome: unknown;
    reading.then((s) => { outcome = s; }, (e: unknown) => { outcome = e; });
    await sleep(300);
    await broker.close();
    await sleep(6000);
    assert.is(outcome, undefined, `still waiting after 6 s without a broker, not ${String(outcome)}`);
    broker = await startBroker({ port, persistence: await store(200, [{ topic: topics.jobState('j'), payload: STATE }]) });
    const s = await reading;
    assert.is(s?.agent, 'edge');
  } finally {
    await client.close();
    await broker.close();
  }
});

test('a broker gone for good ends the wait after the patience, with a clear error', async () => {
  const broker = await startBroker({ port: 0, persistence: await store(1500) });
  const client = await FleetClient.connect({ connection: { url: broker.url }, brokerPatienceMs: 2000 });
  try {
    const reading = client.jobState('j');
    await sleep(300);
    await broker.close();
    const started = Date.now();
    const error = await reading.then(() => undefined, (e: unknown) => e);
    const took = Date.now() - started;
    assert.instance(error, Error);
    assert.match((error as Error).message, /lost the broker/);
    assert.ok(took < 5000, `gave up after ${took} ms`);
  } finally {
    await client.close();
  }
});

test('a follower whose broker restarts without the agent of the job ends with the job lost, not waiting forever', async () => {
  let broker: EmbeddedBroker = await startBroker({ port: 0 });
  const port = broker.port;
  const writer = await FleetClient.connect({ connection: { url: broker.url } });
  await writer.peer.link.publish(topics.agentStatus('edge'), JSON.stringify({ v: 1, agent: 'edge', instance: 'i1', online: true, dirs: [] }), { retain: true });
  await writer.peer.link.publish(topics.jobState('j'), STATE, { retain: true });
  await writer.close();
  const client = await FleetClient.connect({ connection: { url: broker.url } });
  try {
    const following = client.follow('j', { onOutput: () => {}, lostAfterMs: 1000 });
    await sleep(300);
    // The broker restarts empty, and the agent never comes back to it.
    await broker.close();
    broker = await startBroker({ port });
    const error = await following.then(() => undefined, (e: unknown) => e);
    assert.instance(error, Error);
    assert.is((error as Error).name, 'JobLostError');
    assert.match((error as Error).message, /agent edge is not known to the broker/);
  } finally {
    await client.close();
    await broker.close();
  }
});

test.run();
