/**
 * Memory image costs, for 1, 16 and 64 MiB memories: finding changed blocks with nothing
 * and with every block changed, taking and applying deltas, and the digest from scratch
 * and after a one-block change. Then what XOR against the base does to a compressed
 * delta of a few changed bytes per block, and a delta snapshot against a full one when
 * one block changed.
 *
 * Usage: npx tsx tools/bench/memory-image.ts [--sizes 1,16,64] [--max-time S]
 * Benchmark.js runs each case for about --max-time seconds (default 1) and reports the
 * mean and its relative margin of error.
 */
import Benchmark from 'benchmark';
import { BLOCK_SIZE, decodeSnapshot, encodeBlockDelta, encodeSnapshot, imagesOf, MemoryImage } from '../../src/snapshot/index.ts';
import type { CanonicalState } from '../../src/snapshot/index.ts';
import { lz4CompressBlock } from '../../src/snapshot/lz4.ts';

const MiB = 1 << 20;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

/** Deterministic contents: half the blocks zero, the rest small integers and noise, as a C heap. */
function memoryOf(bytes: number): Uint8Array {
  const m = new Uint8Array(bytes);
  const words = new Uint32Array(m.buffer);
  let s = 0x9e3779b9;
  for (let i = 0; i < words.length; i++) {
    if (((i >>> 10) & 1) === 0) continue;
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    words[i] = i % 4 === 0 ? s : i & 0xffff;
  }
  return m;
}

/** A copy of `m` with the byte at `offset` changed in every `stride`-th block. */
function touched(m: Uint8Array, stride: number, offset: number): Uint8Array {
  const c = m.slice();
  for (let at = 0; at < c.length; at += stride * BLOCK_SIZE) c[at + offset] ^= 0x5a;
  return c;
}

/** The median time of `run` over 5 fresh `setup`s, in ms. */
function medianMs<T>(setup: () => T, run: (x: T) => void): number {
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const x = setup();
    const t = performance.now();
    run(x);
    times.push(performance.now() - t);
  }
  return times.sort((a, b) => a - b)[2];
}

const sizes = arg('--sizes', '1,16,64').split(',').map(Number);
const maxTime = Number(arg('--max-time', '1'));
const rows: string[] = [];
for (const mib of sizes) {
  const memory = memoryOf(mib * MiB);
  // The worst case for the compare: each block differs in its last byte only.
  const everything = touched(memory, 1, BLOCK_SIZE - 1);
  const image = MemoryImage.from(memory);
  image.digest();
  const allBlocks = image.changedBlocks(everything);
  const allDelta = image.extract(everything, allBlocks);
  const results: Record<string, number> = {};
  const suite = new Benchmark.Suite(`${mib} MiB`);
  const add = (name: string, fn: () => void): void => { suite.add(name, fn, { maxTime, minSamples: 5 }); };
  add('compare, none changed', () => { image.changedBlocks(memory); });
  add('compare, all changed', () => { image.changedBlocks(everything); });
  add('extract all', () => { image.extract(everything, allBlocks); });
  let flip = 0;
  const small = memory.slice();
  const follower = MemoryImage.from(small);
  follower.digest();
  add('apply 7 blocks + digest', () => {
    small[(flip++ % 7) * BLOCK_SIZE + 3] ^= 1;
    follower.apply(follower.extract(small, Uint32Array.of(0, 1, 2, 3, 4, 5, 6)));
    follower.digest();
  });
  suite.on('cycle', (e: Benchmark.Event) => {
    const b = e.target as unknown as Benchmark;
    results[String(b.name)] = b.stats.mean * 1000;
    console.log(`${`${mib} MiB`.padEnd(7)} ${String(b.name).padEnd(22)} ${(b.stats.mean * 1000).toFixed(2).padStart(9)} ms ±${b.stats.rme.toFixed(1)}% (${b.stats.sample.length} runs)`);
  });
  suite.run();
  // These need a fresh image each time, which benchmark.js cannot leave out of the timing.
  results['apply all'] = medianMs(() => image.clone(), (copy) => copy.apply(allDelta));
  results['digest from scratch'] = medianMs(() => MemoryImage.from(memory), (fresh) => fresh.digest());
  console.log(`${`${mib} MiB`.padEnd(7)} ${'apply all'.padEnd(22)} ${results['apply all'].toFixed(2).padStart(9)} ms (median of 5)`);
  console.log(`${`${mib} MiB`.padEnd(7)} ${'digest from scratch'.padEnd(22)} ${results['digest from scratch'].toFixed(2).padStart(9)} ms (median of 5)`);
  const ms = (n: string): string => results[n].toFixed(2);
  rows.push(`| ${mib} MiB | ${ms('compare, none changed')} | ${ms('compare, all changed')} | ${ms('extract all')} | ${ms('apply all')} | ${ms('digest from scratch')} | ${ms('apply 7 blocks + digest')} |`);
}
console.log('\n| memory | compare, none changed | compare, all changed | extract all | apply all | digest from scratch | apply 7 blocks + digest |');
console.log('|---|---|---|---|---|---|---|');
for (const r of rows) console.log(r);

// XOR against the base before LZ4: one byte changed in every 7th block (zero and non-zero ones).
const base = MemoryImage.from(memoryOf(4 * MiB));
const next = touched(base.bytes, 7, 100);
const delta = base.extract(next, base.changedBlocks(next));
const plain = lz4CompressBlock(encodeBlockDelta(delta)).length;
const xored = lz4CompressBlock(encodeBlockDelta(base.xor(delta))).length;
console.log(`\n${delta.blocks.length} blocks with one byte changed each: LZ4 of the delta ${plain} bytes, of the delta XORed with the base ${xored} bytes`);
// A paused program's snapshot, full and as a delta against the memory it had one write ago.
const PAGE = 65536;
for (const mib of sizes) {
  const memory = memoryOf(mib * MiB);
  const stored: number[] = [];
  for (let p = 0; p < memory.length / PAGE; p++) if (memory.subarray(p * PAGE, (p + 1) * PAGE).some((b) => b !== 0)) stored.push(p);
  const data = new Uint8Array(stored.length * PAGE);
  stored.forEach((p, i) => data.set(memory.subarray(p * PAGE, (p + 1) * PAGE), i * PAGE));
  const state: CanonicalState = {
    moduleSha256: 'ab'.repeat(32), status: 'ready', entry: null, memories: [{ pages: memory.length / PAGE, max: null, stored, data }],
    tables: [], globals: [], droppedData: [], droppedElems: [], frames: [], instructions: 0, wasi: null, host: {}, externs: [],
  };
  const base = { sha256: state.moduleSha256, memories: imagesOf(state) };
  base.memories[0].digest();
  data[PAGE + 12345] ^= 1;
  const full = encodeSnapshot(state);
  const delta = encodeSnapshot(state, { base });
  const encodeFull = medianMs(() => null, () => encodeSnapshot(state));
  const encodeDelta = medianMs(() => null, () => encodeSnapshot(state, { base }));
  const decodeFull = medianMs(() => null, () => decodeSnapshot(full));
  const decodeDelta = medianMs(() => null, () => decodeSnapshot(delta, { base }));
  console.log(`${mib} MiB, one byte changed: full snapshot ${full.length} bytes, encode ${encodeFull.toFixed(1)} ms, decode ${decodeFull.toFixed(1)} ms; delta ${delta.length} bytes, encode ${encodeDelta.toFixed(1)} ms, decode ${decodeDelta.toFixed(1)} ms`);
}
console.log(`node ${process.version}, ${process.arch}; means of benchmark.js samples (apply all, digest from scratch: medians of 5)`);
