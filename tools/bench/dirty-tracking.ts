/**
 * How to find the memory a job changed between two pre-copy rounds, measured three ways
 * (docs/live-migration.md has the results and the choice):
 * - compare: the memory against a shadow copy of what was sent, 4 KiB at a time
 *   (`MemoryImage.changedBlocks`); costs a memcmp per round and a copy of the memory;
 * - hash: a sha256 of every 4 KiB block, compared with the last round's (no copy kept);
 * - write barrier: every store also marks its block in a bitmap; costs nothing per
 *   round, but something on every store, migrating or not. Measured on V8 with a loop
 *   of stores spread over 64 MiB, and one of sequential stores, with and without the
 *   marking store that a rewritten module would add.
 *
 * And the final round's compare with nothing changed (a large idle memory: the whole
 * compare is in the pause), three ways side by side: the compare as `MemoryImage` does
 * it (64 KiB chunks); memcmp over large spans (1 MiB, 16 MiB) first, drilling down only
 * where unequal; the same split between two threads (what it would give if the memory
 * were shared with a second thread: it is not, a job's memory is its worker's own).
 *
 * Usage: npx tsx tools/bench/dirty-tracking.ts [--mib 64] [--rounds 5]
 */
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { BLOCK_SIZE, MemoryImage } from '../../src/snapshot/index.ts';
import { ValType } from '../../src/wasm/index.ts';
import { ModuleBuilder, s32, u32 } from '../../test/helpers/module-builder.ts';
import { median } from './stats.ts';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const mib = Number(arg('--mib', '64'));
const rounds = Number(arg('--rounds', '5'));
const bytes = mib << 20;

function time(f: () => void): number {
  const t0 = performance.now();
  f();
  return performance.now() - t0;
}

function report(what: string, times: number[]): void {
  console.log(`| ${what} | ${median(times).toFixed(2)} | ${Math.min(...times).toFixed(2)}-${Math.max(...times).toFixed(2)} |`);
}

// A memory that looks used: every word set.
const memory = new Uint8Array(bytes);
const words = new Uint32Array(memory.buffer);
for (let i = 0; i < words.length; i++) words[i] = Math.imul(i, 2654435761);

console.log(`\nfinding changed blocks in ${mib} MiB (ms per round; median of ${rounds}, min-max)\n`);
console.log('| method | median | spread |');
console.log('|---|---:|---:|');

const image = MemoryImage.from(memory);
const touchOnePercent = (): void => { for (let b = 0; b < bytes / BLOCK_SIZE; b += 100) memory[b * BLOCK_SIZE + 17] ^= 1; };
report('compare, nothing changed', Array.from({ length: rounds }, () => time(() => image.changedBlocks(memory))));
report('compare, 1% of blocks changed', Array.from({ length: rounds }, () => { touchOnePercent(); return time(() => image.changedBlocks(memory)); }));

// The final round's compare, nothing changed: spans first, 64 KiB and 4 KiB only where unequal.
const spanCompare = (a: Buffer, b: Buffer, span: number, from = 0, to = a.length): number => {
  let changed = 0;
  for (let s = from; s < to; s += span) {
    const e = Math.min(s + span, to);
    if (a.compare(b, s, e, s, e) === 0) continue;
    if (span > BLOCK_SIZE) changed += spanCompare(a, b, span > 16 * BLOCK_SIZE ? 16 * BLOCK_SIZE : BLOCK_SIZE, s, e);
    else changed++;
  }
  return changed;
};
{
  const live = Buffer.from(memory.buffer);
  const shadow = Buffer.from(image.bytes);
  // Every block of the image equal to the memory again (the 1% touched above put back).
  image.take(memory, image.changedBlocks(memory));
  shadow.set(memory);
  report('final compare, nothing changed: MemoryImage (64 KiB chunks)', Array.from({ length: rounds }, () => time(() => image.changedBlocks(memory))));
  for (const span of [1 << 20, 16 << 20]) {
    report(`final compare, nothing changed: memcmp ${span >> 20} MiB spans`, Array.from({ length: rounds }, () => time(() => spanCompare(live, shadow, span))));
  }
  // Two threads: both halves compared at once, the memory and the shadow in shared memory.
  const sharedLive = new Uint8Array(new SharedArrayBuffer(bytes));
  const sharedShadow = new Uint8Array(new SharedArrayBuffer(bytes));
  sharedLive.set(memory);
  sharedShadow.set(memory);
  const helper = new Worker(`
    const { parentPort, workerData } = require('node:worker_threads');
    const a = Buffer.from(workerData.a), b = Buffer.from(workerData.b), half = workerData.half;
    parentPort.on('message', () => parentPort.postMessage(a.compare(b, half, a.length, half, b.length)));
  `, { eval: true, workerData: { a: sharedLive.buffer, b: sharedShadow.buffer, half: bytes / 2 } });
  const a = Buffer.from(sharedLive.buffer);
  const b = Buffer.from(sharedShadow.buffer);
  const twoThreads = async (): Promise<number> => {
    const t0 = performance.now();
    const other = new Promise((r) => helper.once('message', r));
    helper.postMessage(0);
    a.compare(b, 0, bytes / 2, 0, bytes / 2);
    await other;
    return performance.now() - t0;
  };
  await twoThreads();
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) times.push(await twoThreads());
  report('final compare, nothing changed: memcmp in two threads (shared memory)', times);
  await helper.terminate();
}

const hashes = new Uint8Array((bytes / BLOCK_SIZE) * 32);
const hashAll = (): number => {
  let changed = 0;
  for (let b = 0; b < bytes / BLOCK_SIZE; b++) {
    const d = createHash('sha256').update(memory.subarray(b * BLOCK_SIZE, (b + 1) * BLOCK_SIZE)).digest();
    if (Buffer.compare(d, hashes.subarray(b * 32, b * 32 + 32)) !== 0) { hashes.set(d, b * 32); changed++; }
  }
  return changed;
};
hashAll();
report('sha256 per block, compared with the last round\'s', Array.from({ length: rounds }, () => time(() => hashAll())));

// The write barrier, on V8: a loop of 32-bit stores, with and without marking the block.
const BITMAP = bytes;
function storeLoop(barrier: boolean, scattered: boolean): Uint8Array {
  const b = new ModuleBuilder();
  const t = b.type([ValType.i32], []);
  // local 1: i, local 2: address
  const address = scattered
    ? [0x20, 1, 0x41, ...s32(-1640531535), 0x6c, 0x41, ...s32(bytes - 4), 0x71]
    : [0x20, 1, 0x41, 2, 0x74, 0x41, ...s32(bytes - 4), 0x71];
  const mark = barrier ? [0x20, 2, 0x41, 12, 0x76, 0x41, 1, 0x3a, 0, ...u32(BITMAP)] : [];
  const body = [
    0x03, 0x40,
    ...address, 0x22, 2,
    0x20, 1, 0x36, 2, 0,
    ...mark,
    0x20, 1, 0x41, 1, 0x6a, 0x22, 1, 0x20, 0, 0x49, 0x0d, 0,
    0x0b, 0x0b,
  ];
  const f = b.func(t, body, [ValType.i32, ValType.i32]);
  b.memory(Math.ceil((bytes + bytes / BLOCK_SIZE) / 65536));
  b.export('run', 'func', f);
  return b.build();
}

const n = 50_000_000;
console.log(`\na write barrier on V8: ${n / 1e6}M 32-bit stores (ms; median of ${rounds}, min-max)\n`);
console.log('| loop | median | spread |');
console.log('|---|---:|---:|');
for (const scattered of [true, false]) {
  const runs = [false, true].map((barrier) => {
    const instance = new WebAssembly.Instance(new WebAssembly.Module(storeLoop(barrier, scattered) as Uint8Array<ArrayBuffer>));
    return instance.exports.run as (n: number) => void;
  });
  const times: number[][] = [[], []];
  runs.forEach((run) => run(1_000_000));
  for (let r = 0; r < rounds; r++) runs.forEach((run, k) => times[k].push(time(() => run(n))));
  const kind = scattered ? 'scattered over the memory' : 'sequential';
  report(`stores ${kind}`, times[0]);
  report(`stores ${kind}, each marking its block`, times[1]);
  console.log(`| ratio | ${(median(times[1]) / median(times[0])).toFixed(2)} | |`);
}
