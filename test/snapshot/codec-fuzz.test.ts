/**
 * Bounded decoding (issue 16): each snapshot-layer codec fed mutants of real encodings
 * (a program's snapshot file, its msgpack body re-wrapped in a correct envelope, a
 * delta snapshot, a compressed block) refuses them with a SnapshotError and nothing
 * else, and its RSS stays bounded though mutants declare sizes of up to 4 GiB.
 * fuzz.test.ts goes further with the mutants that decode (restore and run them).
 * WASMIG_CODEC_FUZZ: mutants per codec (default 400); WASMIG_FUZZ_SEED.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SnapshotError } from '../../src/errors/index.ts';
import { loadModule, Program } from '../../src/program/index.ts';
import { compressBlock, decodeSnapshot, decompressBlock, encodeSnapshot, HEADER_SIZE, initialBase, SNAPSHOT_MAGIC } from '../../src/snapshot/index.ts';
import { crc32 } from '../../src/snapshot/checksum.ts';
import { lz4CompressBlock, lz4DecompressBlock } from '../../src/snapshot/lz4.ts';
import { ValType } from '../../src/wasm/index.ts';
import { fuzzCodec } from '../helpers/codec-fuzz.ts';
import { ModuleBuilder } from '../helpers/module-builder.ts';

const COUNT = Number(process.env.WASMIG_CODEC_FUZZ ?? 400);
const BUDGET_MS = 4000;
const MAX_RSS_GROWTH = 256 * 1024 * 1024;
const CAP = 16 * 1024 * 1024;
const typed = (e: unknown): boolean => e instanceof SnapshotError;

/** A paused loop with a memory (data in two pages), a table and a global: frames, pages, elements. */
const compiled = loadModule((() => {
  const b = new ModuleBuilder();
  const t = b.type([], []);
  b.memory(3);
  b.table(ValType.funcref, 8);
  const g = b.global(ValType.i32, true, Uint8Array.of(0x41, 0x00, 0x0b));
  // loop: global.get g; i32.const 1; i32.add; global.set g; br 0
  const f = b.func(t, Uint8Array.of(0x03, 0x40, 0x23, g, 0x41, 0x01, 0x6a, 0x24, g, 0x0c, 0x00, 0x0b, 0x0b));
  b.data({ mode: 'active', offset: Uint8Array.of(0x41, 0x80, 0x08, 0x0b), bytes: new TextEncoder().encode('hello, limits') });
  b.data({ mode: 'active', offset: Uint8Array.of(0x41, 0x80, 0x80, 0x04, 0x0b), bytes: new Uint8Array(300).fill(7) });
  b.export('_start', 'func', f);
  return b.build();
})());

function paused(until: number): Program {
  const p = Program.instantiate(compiled, { tier: 'interp' });
  p.start('_start');
  p.run({ until });
  return p;
}

const files = [paused(100).snapshot(), paused(1001).snapshot({ embedModule: true })];

/** A snapshot file around any body: the envelope right, so the body's decoder is what is tested. */
function wrap(body: Uint8Array): Uint8Array {
  const block = lz4CompressBlock(body);
  const out = new Uint8Array(HEADER_SIZE + block.length);
  out.set(SNAPSHOT_MAGIC);
  const view = new DataView(out.buffer);
  view.setUint16(8, 1, true);
  out.set(block, HEADER_SIZE);
  view.setUint32(12, crc32(block), true);
  view.setUint32(16, block.length, true);
  view.setUint32(20, body.length, true);
  out.set(files[0].subarray(24, HEADER_SIZE), 24);
  return out;
}
const bodyOf = (file: Uint8Array): Uint8Array => {
  const payload = file.subarray(HEADER_SIZE);
  return lz4DecompressBlock(payload.subarray(4), new DataView(payload.buffer, payload.byteOffset).getUint32(0, true));
};

test('snapshot files: mutants are refused with a SnapshotError, within an RSS bound', () => {
  const r = fuzzCodec({ name: 'snapshot file', valid: files, decode: (b) => decodeSnapshot(b, { maxBodyBytes: CAP }), typed, count: COUNT, budgetMs: BUDGET_MS, maxRssGrowth: MAX_RSS_GROWTH });
  assert.ok(r.refused > 0);
});

test('snapshot bodies in a correct envelope: the msgpack and the state are checked', () => {
  const bodies = files.map(bodyOf);
  const r = fuzzCodec({ name: 'snapshot body', valid: bodies, decode: (b) => decodeSnapshot(wrap(b), { maxBodyBytes: CAP }), typed, count: COUNT, budgetMs: BUDGET_MS, maxRssGrowth: MAX_RSS_GROWTH });
  assert.ok(r.refused > 0);
});

test('delta snapshots: mutants of the file and of its body', () => {
  const p = paused(500);
  const base = initialBase(compiled);
  const delta = encodeSnapshot(p.captureState(), { base });
  assert.ok(decodeSnapshot(delta, { base }).delta, 'a delta snapshot');
  fuzzCodec({ name: 'delta file', valid: [delta], decode: (b) => decodeSnapshot(b, { base, maxBodyBytes: CAP }), typed, count: COUNT / 2, budgetMs: BUDGET_MS / 2, maxRssGrowth: MAX_RSS_GROWTH });
  const body = bodyOf(delta);
  fuzzCodec({
    name: 'delta body', valid: [body], count: COUNT / 2, budgetMs: BUDGET_MS / 2, maxRssGrowth: MAX_RSS_GROWTH, typed,
    decode: (b) => { const file = wrap(b); new DataView(file.buffer).setUint16(10, 4, true); return decodeSnapshot(file, { base, maxBodyBytes: CAP }); },
  });
});

test('compressed blocks: a size over the bound or data that lies about it is refused', () => {
  const blocks = [compressBlock(new Uint8Array(70_000).fill(3)), compressBlock(Uint8Array.from({ length: 5000 }, (_, i) => (i * 31) & 0xff))];
  fuzzCodec({ name: 'compressed block', valid: blocks, decode: (b) => decompressBlock(b, 1 << 20), typed, count: COUNT, budgetMs: BUDGET_MS, maxRssGrowth: MAX_RSS_GROWTH });
});

test.run();
