/**
 * A job thread's answers share their big buffers (`shared-reply.ts`) instead of moving
 * them: the thread detaches no buffer, so V8's "array buffer detaching" protector stays
 * on and the interpreter's loop keeps its fast typed-array accesses after a checkpoint,
 * a pre-copy round or a final (CoreMark as a job on the interpreter ran at 0.71 of its
 * speed after one).
 */
import { resolve } from 'node:path';
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { SHARE_FROM_BYTES, sharedCopy, sharedReplyData } from '../../src/agent/shared-reply.ts';
import { repoRoot } from '../helpers/cli.ts';
import { runProtectorChild } from '../helpers/protector-child.ts';
import { writerPath } from '../helpers/writer.ts';

const s = suite('shared replies');

const big = SHARE_FROM_BYTES + 100;
const filled = (n: number, from = 0): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i + from) & 0xff);

s('big byte arrays and buffers become shared copies of their bytes; small ones, and other objects, stay as they are', () => {
  const whole = filled(3 * big);
  const view = whole.subarray(big, 2 * big);
  const small = filled(16);
  const buffer = filled(big, 7).buffer;
  const map = new Map([[1, filled(big)]]);
  const data = { snapshot: view, nested: { deltas: [view, small], buffer }, small, map, n: 3, text: 'x', none: undefined };
  const out = sharedReplyData(data) as typeof data;

  assert.ok(out.snapshot.buffer instanceof SharedArrayBuffer);
  assert.is(out.snapshot.buffer.byteLength, big, 'the view\'s bytes only, not its whole buffer');
  assert.equal([...out.snapshot], [...view]);
  assert.ok(out.nested.deltas[0].buffer instanceof SharedArrayBuffer);
  assert.is(out.nested.deltas[1], small, `below ${SHARE_FROM_BYTES} bytes: as it is`);
  assert.is(out.small, small);
  assert.ok(out.nested.buffer instanceof SharedArrayBuffer);
  assert.equal([...new Uint8Array(out.nested.buffer)], [...new Uint8Array(buffer)]);
  assert.is(out.map, map, 'not a plain object: not walked');
  assert.is(out.n, 3);
  assert.is(out.text, 'x');
  assert.ok('none' in out);

  // The answer's own objects are copies: what the thread keeps is unchanged.
  assert.is(data.snapshot, view);
  assert.is(data.nested.deltas[0], view);
  assert.ok(data.nested.buffer instanceof ArrayBuffer);

  // Shared, not copied: a write on one side is seen on the other.
  const copy = sharedCopy(view);
  const { port1, port2 } = new MessageChannel();
  port1.postMessage({ copy, out });
  const received = receiveMessageOnPort(port2)!.message as { copy: SharedArrayBuffer; out: typeof data };
  new Uint8Array(received.copy)[0] = 0xee;
  assert.is(new Uint8Array(copy)[0], 0xee);
  assert.is(whole.byteLength, 3 * big, 'nothing of the sender detached');
  assert.is(buffer.byteLength, big);
  assert.equal([...received.out.snapshot], [...view]);
  port1.close();
});

const CHILD = `
import { readFileSync } from 'node:fs';
import { Job } from ${JSON.stringify(resolve(repoRoot, 'src/agent/job.ts'))};
import { OutputLog } from ${JSON.stringify(resolve(repoRoot, 'src/agent/output-log.ts'))};
let lines = 0;
const job = new Job({ id: 'j', spec: { program: 'writer.wasm' }, epoch: 1, log: new OutputLog(), hooks: { output: (_j, e) => { lines += e.length; }, end: () => {} } });
await job.start({ module: readFileSync(process.argv[2]), name: 'writer.wasm', preopens: [], tier: 'interp' }, ['writer.wasm', 'mem=1', 'rate=0', 'steps=100000'], {});
void job.run();
while (lines === 0) await new Promise((r) => setTimeout(r, 10));
const checkpoint = await job.checkpoint(true);
await job.precopy(undefined);
const round = await job.round();
const final = await job.final();
const images = await job.departureImages();
const snapshot = await job.snapshot();
job.discard();
const SHARE_FROM = ${SHARE_FROM_BYTES};
const big = [checkpoint.snapshot, ...checkpoint.deltas, round.deltas[0], final.snapshot, ...final.deltas, snapshot].filter((b) => b.byteLength >= SHARE_FROM);
// The target's side: a job that takes the rounds and the final (from shared memory) and runs on.
let arrived = 0;
const target = new Job({ id: 'j', spec: { program: 'writer.wasm' }, epoch: 2, log: new OutputLog(), hooks: { output: (_j, e) => { arrived += e.length; }, end: () => {} } });
const setup = { module: readFileSync(process.argv[2]), name: 'writer.wasm', preopens: [], tier: 'interp' };
await target.receive(setup, undefined);
await target.apply(round.deltas);
await target.complete(setup, final.snapshot, final.deltas, final.digests);
void target.run();
while (arrived === 0) await new Promise((r) => setTimeout(r, 10));
await target.checkpoint(true);
target.discard();
console.log(JSON.stringify({
  // The checkpoint's delta and the snapshot hold the MiB of memory; a round holds what changed.
  memoryCarried: big.includes(checkpoint.deltas[0]) && big.includes(snapshot),
  unshared: big.filter((b) => !(b.buffer instanceof SharedArrayBuffer)).map((b) => b.byteLength),
  images: images.images.map((b) => ({ shared: b instanceof SharedArrayBuffer, bytes: b.byteLength })),
  arrived,
}));
`;

s('job threads answer in shared memory and detach no buffer, where a job leaves and where it arrives (plain Node, V8\'s trace)', async () => {
  // The job thread's entry beside the child's bundle, where `thread-boot.ts` looks for it.
  const r = await runProtectorChild(CHILD, [writerPath], { 'job-thread': resolve(repoRoot, 'src/agent/job-thread.ts') });
  assert.is(r.status, 0, r.stderr);
  const result = r.result as { memoryCarried: boolean; unshared: number[]; images: { shared: boolean; bytes: number }[]; arrived: number };
  assert.ok(result.memoryCarried, 'the answers carried the job\'s memory');
  assert.equal(result.unshared, [], 'every big buffer of the answers is in shared memory');
  assert.is(result.images.length, 1);
  assert.ok(result.images[0]!.shared && result.images[0]!.bytes >= 1 << 20, 'the departure image of the job\'s memory, shared');
  assert.ok(result.arrived > 0, 'the job ran on where it arrived');
  assert.not.ok(r.detached, 'V8 reported a detached buffer');
});

s.run();
