/**
 * The target side of a handoff, for what a real source never does while its guard holds
 * (docs/protocol.md, "One owner"): a commit that comes after a newer epoch of the job was
 * published, an older retained state arriving over a newer one, a commit repeated after
 * the job went on from the target. Agents a (source) and b (target) are real; b's final
 * (which commits) is held back where a test needs it to arrive late, and job states of a
 * third agent c are published by hand, as c would.
 */
import { readFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Agent, FleetClient, startBroker, topics } from '../../src/agent/index.ts';
import type { EmbeddedBroker } from '../../src/agent/index.ts';
import { sha256 } from '../../src/agent/frames.ts';
import type { FinalRequest } from '../../src/agent/messages.ts';
import { Peer } from '../../src/agent/peer.ts';
import { MigrationError } from '../../src/errors/index.ts';
import { tickerPath } from '../helpers/ticker.ts';

const ARGS = ['ticker.wasm', 'lines=100000000', 'work=100'];

const s = suite('handoff target: fencing');
let broker: EmbeddedBroker;
let source: Agent;
let target: Agent;
let client: FleetClient;
let other: Peer;
const logs: string[] = [];

s.before(async () => {
  broker = await startBroker({ port: 0 });
  const connection = { url: broker.url };
  const log = (line: string): void => { logs.push(line); };
  source = await Agent.start({ name: 'a', connection, tier: 'interp', log });
  target = await Agent.start({ name: 'b', connection, tier: 'interp', log });
  client = await FleetClient.connect({ connection });
  other = await Peer.open({ connection, id: 'c', inbox: topics.agentInbox('c'), persistent: false, onRequest: () => {}, log: () => {} });
});

s.after(async () => {
  await other.close();
  await client.close();
  await source.stop();
  await target.stop();
  await broker.close();
});

async function start(job: string): Promise<void> {
  await client.start({ agent: 'a', module: readFileSync(tickerPath), program: 'ticker.wasm', args: ARGS, job });
}

/** Publishes job `job`'s retained state as agent `agent` would. */
async function publishState(job: string, agent: string, epoch: number): Promise<void> {
  const now = new Date().toISOString();
  const doc = { v: 1, job, agent, instance: `${agent}-1`, epoch, state: 'running', program: 'ticker.wasm', args: ARGS, startedAt: now, updatedAt: now };
  await other.link.publish(topics.jobState(job), JSON.stringify(doc), { retain: true });
}

async function logged(re: RegExp): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (logs.some((l) => re.test(l))) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`no log line ${re}:\n${logs.join('\n')}`);
}

s('a newer epoch published while b receives the job drops its copy; the final that comes late is refused, and a says truly where the job went on', async () => {
  await start('late');
  // Hold b's final (which commits) back until the newer epoch is out.
  const receive = target.incoming.receive.bind(target.incoming);
  let held!: (req: FinalRequest) => void;
  const arrived = new Promise<FinalRequest>((resolve) => { held = resolve; });
  target.incoming.receive = (req) => {
    if (req.type !== 'final') return receive(req);
    held(req);
    return Promise.resolve();
  };
  const migration = client.migrate('late', 'b').then(() => undefined, (e: Error) => e);
  const req = await arrived;
  target.incoming.receive = receive;
  await publishState('late', 'c', 5);
  await logged(/agent b: job late: epoch 5 exists on c; dropped the copy being received \(epoch 2\)/);
  void receive(req);
  const error = await migration;
  assert.ok(error instanceof MigrationError, String(error));
  assert.not.ok(target.jobs.has('late'), 'no copy at b');
  // a's copy gives way to c's (epoch 5) once it sees it: only c's runs. Mostly it sees it
  // while the final is out, before b's refusal comes; then the handoff must not say that
  // the job goes on at a (it once did, with a's copy already dropped).
  await logged(/agent a: job late: a newer copy \(epoch 5\) runs on c; this copy \(epoch \d\) stops/);
  assert.not.ok(source.jobs.has('late'), 'no copy at a');
  const refused = 'agent b no longer held the copy being received when the final came \\(no handoff of job late at epoch 2 from a is under way here\\)';
  const stoppedAt = logs.findIndex((l) => /agent a: job late: a newer copy \(epoch 5\) runs on c/.test(l));
  const gaveUpAt = logs.findIndex((l) => /agent a: job late: migration to b failed/.test(l));
  assert.ok(gaveUpAt >= 0, logs.join('\n'));
  if (stoppedAt < gaveUpAt) {
    assert.match(error.message, new RegExp(`${refused}; the copy at a had already stopped \\(a newer copy runs on c\\)$`));
    assert.match(logs[gaveUpAt], /; this copy had already stopped \(a newer copy runs on c\)$/);
  } else {
    assert.match(error.message, new RegExp(`${refused}; the job goes on at a$`));
  }
});

s('an older state arriving after a newer one does not lower the known epoch: a prepare below it is refused', async () => {
  // b follows job `late` since its prepare and knows epoch 5; then an epoch-1 state
  // comes, and after it (in order: one publisher) a prepare at epoch 3.
  await publishState('late', 'a', 1);
  const module = readFileSync(tickerPath);
  const spec = { program: 'ticker.wasm', module: { sha256: sha256(module), size: module.length }, args: ARGS, env: {}, startedAt: new Date().toISOString() };
  const r = await other.request(topics.agentInbox('b'), { type: 'prepare', job: 'late', epoch: 3, spec, dirs: [] }, { timeoutMs: 10_000, who: 'agent b' });
  assert.not.ok(r.ok);
  assert.match(r.message ?? '', /epoch 3 is not newer than the job's epoch 5/);
});

s('a commit repeated after the job went on from b is answered "committed"', async () => {
  await start('onward');
  const moved = await client.migrate('onward', 'b');
  assert.is(moved.epoch, 2);
  // The job goes on to c at epoch 3 (c's state says so; b's copy stops).
  await publishState('onward', 'c', 3);
  await logged(/agent b: job onward: a newer copy \(epoch 3\) runs on c; this copy \(epoch 2\) stops/);
  // a's first commit was answered, but say the answer was lost: a asks again. "unknown"
  // would make a resume a second copy.
  const r = await other.request(topics.agentInbox('b'), { type: 'commit', job: 'onward', epoch: 2 }, { timeoutMs: 10_000, who: 'agent b' });
  assert.ok(r.ok, `${r.code}: ${r.message}`);
});

s.run();
