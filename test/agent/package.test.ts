import { randomBytes } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeFinal, decodeRound, encodeFinal, encodeRound } from '../../src/agent/package.ts';
import { ProtocolError } from '../../src/agent/messages.ts';

const log = { floor: 7, entries: Array.from({ length: 40 }, (_, i): [number, number, Uint8Array] => [7 + i, 1 + (i % 2), Buffer.from(`line ${i} of the job's output\n`)]) };

test('a round and a final decode to what was encoded', () => {
  const round = { deltas: [randomBytes(70_000), randomBytes(3)], log };
  const back = decodeRound(encodeRound(round));
  assert.equal(back.deltas.map((d) => Buffer.from(d)), round.deltas);
  assert.equal(back.log.floor, 7);
  assert.equal(back.log.entries.map(([seq, stream, data]) => [seq, stream, Buffer.from(data).toString()]), log.entries.map(([seq, stream, data]) => [seq, stream, Buffer.from(data).toString()]));
  const final = { deltas: [randomBytes(5000)], log: { floor: 0, entries: [] }, snapshot: randomBytes(1234) };
  const f = decodeFinal(encodeFinal(final));
  assert.equal(Buffer.from(f.snapshot), final.snapshot);
  assert.equal(f.deltas.map((d) => Buffer.from(d)), final.deltas);
});

test('a package is encoded into a buffer of about its own size (msgpack\'s growth took twice what it needed, all garbage)', () => {
  for (const size of [0, 100, 300_000, 4 << 20]) {
    const round = encodeRound({ deltas: [randomBytes(size)], log });
    const final = encodeFinal({ deltas: [randomBytes(size)], log, snapshot: randomBytes(size >> 4) });
    for (const bytes of [round, final]) {
      // The bound counts the most msgpack may take per value: at most a few hundred bytes over here.
      assert.ok(bytes.buffer.byteLength <= bytes.length + 1024, `${bytes.length} bytes encoded in a buffer of ${bytes.buffer.byteLength}`);
    }
  }
});

test('a package that is not one is refused in one line', () => {
  assert.throws(() => decodeFinal(encodeRound({ deltas: [], log })), (e: Error) => e instanceof ProtocolError && /no snapshot/.test(e.message));
  assert.throws(() => decodeRound(Uint8Array.of(0xc1)), (e: Error) => e instanceof ProtocolError && /does not decode/.test(e.message));
});

test.run();
