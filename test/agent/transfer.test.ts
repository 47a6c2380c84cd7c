import { randomBytes } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encodeBlobChunk, sha256 } from '../../src/agent/frames.ts';
import { BlobReceiver, chunkCount } from '../../src/agent/transfer.ts';

const transfer = 'cd'.repeat(16);

function chunks(data: Uint8Array, size: number): Buffer[] {
  const count = chunkCount(data.length, size);
  return Array.from({ length: count }, (_, index) => encodeBlobChunk({ transfer, index, count, data: data.subarray(index * size, (index + 1) * size) }));
}

test('chunks in any order, duplicates included, reassemble into the blob', async () => {
  const data = randomBytes(10_000);
  const receiver = new BlobReceiver();
  const done = receiver.expect(transfer, { sha256: sha256(data), size: data.length, chunks: 4 }, { idleMs: 5000, what: 'test blob' });
  const frames = chunks(data, 2500);
  for (const f of [frames[3], frames[0], frames[0], frames[2], frames[1]]) assert.is(receiver.accept(f), undefined);
  assert.equal(Buffer.from(await done), data);
});

test('a received blob has a buffer of its own, whatever its size (never a slice of Node\'s pool), so it can be handed to a worker', async () => {
  for (const size of [1, 100, 3000, 10_000, 300_000]) {
    const data = randomBytes(size);
    const receiver = new BlobReceiver();
    const frames = chunks(data, 1024);
    const done = receiver.expect(transfer, { sha256: sha256(data), size, chunks: frames.length }, { idleMs: 5000, what: 'test blob' });
    for (const f of frames.reverse()) receiver.accept(f);
    const got = await done;
    assert.equal(Buffer.from(got), data);
    assert.is(got.byteOffset, 0);
    assert.is(got.buffer.byteLength, size, `a blob of ${size} bytes in a buffer of ${got.buffer.byteLength}`);
  }
});

test('a blob whose whole does not match its manifest is refused', async () => {
  const data = randomBytes(1000);
  const receiver = new BlobReceiver();
  const done = receiver.expect(transfer, { sha256: sha256(randomBytes(1000)), size: 1000, chunks: 1 }, { idleMs: 5000, what: 'snapshot' });
  receiver.accept(chunks(data, 1000)[0]);
  await done.then(() => assert.unreachable(), (e: Error) => assert.match(e.message, /the snapshot fails its sha256 check/));
});

test('a corrupted chunk fails the transfer; chunks nobody expects are ignored', async () => {
  const data = randomBytes(1000);
  const receiver = new BlobReceiver();
  assert.is(receiver.accept(encodeBlobChunk({ transfer: 'ee'.repeat(16), index: 0, count: 1, data })), undefined);
  const done = receiver.expect(transfer, { sha256: sha256(data), size: 1000, chunks: 1 }, { idleMs: 5000, what: 'module' });
  const frame = chunks(data, 1000)[0];
  frame[frame.length - 1] ^= 0x80;
  assert.match(receiver.accept(frame) ?? '', /fails its sha256 check/);
  await done.then(() => assert.unreachable(), (e: Error) => assert.match(e.message, /sha256/));
});

test('a transfer that stops sending fails after its idle time', async () => {
  const data = randomBytes(100);
  const receiver = new BlobReceiver();
  const done = receiver.expect(transfer, { sha256: sha256(data), size: 100, chunks: 2 }, { idleMs: 50, what: 'module' });
  receiver.accept(chunks(data, 50)[0]);
  await done.then(() => assert.unreachable(), (e: Error) => assert.match(e.message, /stalled: 1 of 2 chunks/));
});

test.run();
