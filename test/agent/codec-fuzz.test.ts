/**
 * Bounded decoding (issue 16), the agent's codecs: a migration package (pre-copy round,
 * final package), output frames and blob chunks, fed mutants of real encodings, refuse
 * them with a ProtocolError and nothing else, within an RSS bound; a blob receiver
 * refuses a manifest over its cap before keeping a chunk, and chunks that add up to more
 * than their manifest said. WASMIG_CODEC_FUZZ: mutants per codec (default 400).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeBlobChunk, decodeOutput, encodeBlobChunk, encodeOutput, sha256 } from '../../src/agent/frames.ts';
import { ProtocolError } from '../../src/agent/messages.ts';
import { decodeFinal, decodeRound, encodeFinal, encodeRound } from '../../src/agent/package.ts';
import { BlobReceiver } from '../../src/agent/transfer.ts';
import { BLOCK_SIZE, compressBlock, encodeBlockDelta } from '../../src/snapshot/index.ts';
import { fuzzCodec } from '../helpers/codec-fuzz.ts';

const COUNT = Number(process.env.WASMIG_CODEC_FUZZ ?? 400);
const BUDGET_MS = 3000;
const MAX_RSS_GROWTH = 256 * 1024 * 1024;
const typed = (e: unknown): boolean => e instanceof ProtocolError;

const delta = compressBlock(encodeBlockDelta({ byteLength: 131072, blockSize: BLOCK_SIZE, blocks: Uint32Array.of(1, 5), data: new Uint8Array(2 * BLOCK_SIZE).fill(9) }));
const log = { floor: 3, entries: [[3, 1, new TextEncoder().encode('a line\n')], [4, 2, new Uint8Array(100).fill(65)]] as [number, number, Uint8Array][] };

test('migration packages: rounds and final packages', () => {
  const rounds = [encodeRound({ deltas: [delta], log }), encodeRound({ deltas: [], log: { floor: 0, entries: [] } })];
  fuzzCodec({ name: 'round', valid: rounds, decode: decodeRound, typed, count: COUNT, budgetMs: BUDGET_MS, maxRssGrowth: MAX_RSS_GROWTH });
  const finals = [encodeFinal({ deltas: [delta], log, snapshot: new Uint8Array(300).fill(1) })];
  fuzzCodec({ name: 'final', valid: finals, decode: decodeFinal, typed, count: COUNT, budgetMs: BUDGET_MS, maxRssGrowth: MAX_RSS_GROWTH });
});

test('a package of a million nils is refused before it is decoded', () => {
  const nils = new Uint8Array(64 * 1024 * 1024).fill(0xc0);
  nils.set([0xdd, 0x03, 0xff, 0xff, 0xfb]); // array32 of 64M - 5 values
  assert.throws(() => decodeRound(nils), (e: unknown) => typed(e) && /would take more than \d+ bytes of memory once decoded/.test((e as Error).message));
});

test('output frames', () => {
  const frames = [encodeOutput({ job: 'job-1', epoch: 2, seq: 7, stream: 1, data: new Uint8Array(50).fill(66) }), encodeOutput({ job: 'x', epoch: 0, seq: 0, stream: 2, data: new Uint8Array(0) })];
  fuzzCodec({ name: 'output frame', valid: frames, decode: (b) => decodeOutput(Buffer.from(b)), typed, count: COUNT, budgetMs: BUDGET_MS, maxRssGrowth: MAX_RSS_GROWTH });
});

test('blob chunks', () => {
  const chunks = [encodeBlobChunk({ transfer: '00112233445566778899aabbccddeeff', index: 1, count: 3, data: new Uint8Array(1000).fill(5) })];
  fuzzCodec({ name: 'blob chunk', valid: chunks, decode: (b) => decodeBlobChunk(Buffer.from(b)), typed, count: COUNT, budgetMs: BUDGET_MS, maxRssGrowth: MAX_RSS_GROWTH });
});

test('a blob receiver refuses a manifest over its cap, and chunks beyond their manifest', async () => {
  const receiver = new BlobReceiver(1024 * 1024);
  const big = { transfer: 'aa'.repeat(16), sha256: '00'.repeat(32), size: 4 * 1024 ** 3 - 1, chunks: 1 << 20 };
  await receiver.expect(big.transfer, big, { idleMs: 5000, what: 'final handoff package' }).then(
    () => assert.unreachable('accepted'),
    (e: Error) => assert.match(e.message, /the final handoff package of 4294967295 bytes is more than the 1048576 this agent takes \(wasmig agent --max-snapshot\)/),
  );
  const data = new Uint8Array(3000).fill(1);
  const small = { transfer: 'bb'.repeat(16), sha256: sha256(data), size: 2000, chunks: 2 };
  const arriving = receiver.expect(small.transfer, small, { idleMs: 5000, what: 'module' });
  const why = receiver.accept(encodeBlobChunk({ transfer: small.transfer, index: 0, count: 2, data }));
  assert.match(why ?? '', /add up to more than the 2000 bytes of its manifest/);
  await arriving.then(() => assert.unreachable('accepted'), (e: Error) => assert.match(e.message, /more than the 2000 bytes/));
});

test.run();
