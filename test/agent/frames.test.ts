import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BLOB_HEADER, decodeBlobChunk, decodeOutput, encodeBlobChunk, encodeOutput, sha256 } from '../../src/agent/frames.ts';
import { ProtocolError } from '../../src/agent/messages.ts';

test('output chunks round-trip, with sequence numbers past 2^32', () => {
  for (const seq of [0, 1, 2 ** 32 + 5, Number.MAX_SAFE_INTEGER]) {
    const c = { job: 'job-1', epoch: 7, seq, stream: 2 as const, data: Buffer.from('hello\n') };
    const back = decodeOutput(encodeOutput(c));
    assert.equal({ ...back, data: Buffer.from(back.data).toString() }, { ...c, data: 'hello\n' });
  }
});

test('malformed output chunks are refused', () => {
  const good = encodeOutput({ job: 'j', epoch: 1, seq: 0, stream: 1, data: Buffer.alloc(3) });
  assert.throws(() => decodeOutput(good.subarray(0, 10)), (e: unknown) => e instanceof ProtocolError);
  const badStream = Buffer.from(good);
  badStream[4] = 3;
  assert.throws(() => decodeOutput(badStream), /stream 3/);
  const badMagic = Buffer.from(good);
  badMagic[0] = 0;
  assert.throws(() => decodeOutput(badMagic), (e: unknown) => e instanceof ProtocolError);
});

test('blob chunks carry their own sha256: a flipped bit is caught', () => {
  const data = Buffer.from('some module or snapshot bytes');
  const frame = encodeBlobChunk({ transfer: 'ab'.repeat(16), index: 2, count: 5, data });
  const back = decodeBlobChunk(frame);
  assert.is(back.transfer, 'ab'.repeat(16));
  assert.is(back.index, 2);
  assert.is(back.count, 5);
  assert.is(Buffer.from(back.data).toString(), data.toString());
  const flipped = Buffer.from(frame);
  flipped[BLOB_HEADER + 3] ^= 1;
  assert.throws(() => decodeBlobChunk(flipped), /fails its sha256 check/);
  assert.throws(() => decodeBlobChunk(encodeBlobChunk({ transfer: 'ab'.repeat(16), index: 5, count: 5, data })), /chunk 5 of 5/);
  assert.is(sha256(Buffer.from('')), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
});

test.run();
