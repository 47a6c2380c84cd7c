/**
 * The target side of a handoff against a scripted source, for what a real source never
 * does while the guard holds (docs/protocol.md, "One owner"): a commit that comes after a
 * newer epoch of the job was published, a commit repeated after the job went on, an
 * older retained state arriving over a newer one. Agent b is real; the source is a peer
 * sending `prepare`, the package and `commit` by hand, and publishing job states as other
 * agents would.
 */
import { readFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Agent, startBroker, topics } from '../../src/agent/index.ts';
import type { EmbeddedBroker } from '../../src/agent/index.ts';
import { sha256 } from '../../src/agent/frames.ts';
import { newId } from '../../src/agent/messages.ts';
import { OutputLog } from '../../src/agent/output-log.ts';
import { encodePackage } from '../../src/agent/package.ts';
import { Peer } from '../../src/agent/peer.ts';
import { takeSnapshot } from '../../src/agent/snapshot-bridge.ts';
import { chunkCount, sendBlob } from '../../src/agent/transfer.ts';
import { uploadModule } from '../../src/agent/upload.ts';
import { loadModule, Program } from '../../src/program/index.ts';
import { WasiHost } from '../../src/wasi/index.ts';
import { tickerPath } from '../helpers/ticker.ts';

const CHUNK = 64 * 1024;
const module = readFileSync(tickerPath);
const moduleSha = sha256(module);
const ARGS = ['ticker.wasm', 'lines=100000000', 'work=100'];

const s = suite('handoff target: fencing');
let broker: EmbeddedBroker;
let target: Agent;
let source: Peer;
const logs: string[] = [];

s.before(async () => {
  broker = await startBroker({ port: 0 });
  const connection = { url: broker.url };
  target = await Agent.start({ name: 'b', connection, tier: 'interp', log: (line) => logs.push(line) });
  source = await Peer.open({ connection, id: 'a', inbox: topics.agentInbox('a'), persistent: false, onRequest: () => {}, log: () => {} });
  await uploadModule(source, 'b', module, moduleSha, { chunkBytes: CHUNK });
});

s.after(async () => {
  await source.close();
  await target.stop();
  await broker.close();
});

/** A real package: the ticker, run for a while and snapshotted. */
function migrationPackage(): Uint8Array {
  const wasi = new WasiHost({ args: ARGS, env: {}, preopens: [], stdout: () => {}, stderr: () => {} });
  const program = Program.withWasi(loadModule(module), wasi, { tier: 'interp' });
  program.start('_start');
  program.run({ budget: 50_000 });
  const snapshot = takeSnapshot(program);
  wasi.close();
  return encodePackage({ snapshot, log: new OutputLog().toPortable() });
}

/** `prepare` and the package, up to b's `ready`: b then holds a restored copy at `epoch`. */
async function handOver(job: string, epoch: number): Promise<void> {
  const pkg = migrationPackage();
  const transfer = newId();
  const spec = { program: 'ticker.wasm', module: { sha256: moduleSha, size: module.length }, args: ARGS, env: {}, startedAt: new Date().toISOString() };
  const id = await source.send(topics.agentInbox('b'), {
    type: 'prepare', job, epoch, spec, transfer, sha256: sha256(pkg), size: pkg.length, chunks: chunkCount(pkg.length, CHUNK), dirs: [],
  });
  try {
    let r = await source.next(id, { timeoutMs: 10_000, who: 'agent b' });
    assert.ok(r.ok, r.message);
    assert.is(r.stage, 'prepared');
    await sendBlob(source.link, topics.agentData('b'), transfer, pkg, { chunkBytes: CHUNK });
    r = await source.next(id, { timeoutMs: 30_000, who: 'agent b' });
    assert.ok(r.ok, r.message);
    assert.is(r.stage, 'ready');
  } finally {
    source.done(id);
  }
}

function commit(job: string, epoch: number) {
  return source.request(topics.agentInbox('b'), { type: 'commit', job, epoch }, { timeoutMs: 10_000, who: 'agent b' });
}

/** Publishes job `job`'s retained state as agent `agent` would. */
async function publishState(job: string, agent: string, epoch: number, state = 'running'): Promise<void> {
  const now = new Date().toISOString();
  const doc = { v: 1, job, agent, instance: `${agent}-1`, epoch, state, program: 'ticker.wasm', args: ARGS, startedAt: now, updatedAt: now };
  await source.link.publish(topics.jobState(job), JSON.stringify(doc), { retain: true });
}

async function logged(re: RegExp): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (logs.some((l) => re.test(l))) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`agent b never logged ${re}:\n${logs.join('\n')}`);
}

s('a newer epoch published while the restored copy waits drops it; the late commit is refused', async () => {
  await handOver('late', 2);
  await publishState('late', 'c', 5);
  await logged(/job late: epoch 5 exists on c; dropped the restored copy \(epoch 2\)/);
  const r = await commit('late', 2);
  assert.not.ok(r.ok);
  assert.is(r.code, 'unknown');
  assert.match(r.message ?? '', /job late is at epoch 5 on c: commit at epoch 2 refused/);
  assert.not.ok(target.jobs.has('late'), 'no copy runs at b');
});

s('an older state arriving later does not lower the known epoch: a prepare below it is still refused', async () => {
  // After the previous test b knows epoch 5 of job `late`; a stale epoch-1 state comes,
  // then (in order, from one publisher) a prepare at epoch 3.
  await publishState('late', 'a', 1);
  const id = await source.send(topics.agentInbox('b'), {
    type: 'prepare', job: 'late', epoch: 3, spec: { program: 'ticker.wasm', module: { sha256: moduleSha, size: module.length }, args: ARGS, env: {}, startedAt: new Date().toISOString() },
    transfer: newId(), sha256: sha256(new Uint8Array(1)), size: 1, chunks: 1, dirs: [],
  });
  const r = await source.next(id, { timeoutMs: 10_000, who: 'agent b' });
  source.done(id);
  assert.not.ok(r.ok);
  assert.match(r.message ?? '', /epoch 3 is not newer than the job's epoch 5/);
});

s('a commit repeated after the job went on from here is answered "committed"', async () => {
  await handOver('onward', 2);
  let r = await commit('onward', 2);
  assert.ok(r.ok, r.message);
  assert.is(target.jobs.get('onward')?.state, 'running');
  // The job goes on to c at epoch 3 (here: c's state says so; b's copy stops).
  await publishState('onward', 'c', 3);
  await logged(/job onward: a newer copy \(epoch 3\) runs on c; this copy \(epoch 2\) stops/);
  // The first answer was lost: the source asks again. "unknown" would make it resume a second copy.
  r = await commit('onward', 2);
  assert.ok(r.ok, `${r.code}: ${r.message}`);
});

s.run();
