/**
 * The snapshot layer's two platforms side by side (src/snapshot/platform*.ts): Node's
 * natives (OpenSSL sha-256, zlib CRC-32, memcmp) against the portable JavaScript a
 * browser build uses (@noble/hashes, a table CRC-32, word compares), on the primitives
 * and on a whole snapshot encode + decode of a state with 16 MiB of memory ("typical"
 * contents, as in tools/bench/snapshot.ts). Each round runs every case once, interleaved,
 * so that load swings hit both alike; the report gives medians, min-max, and the
 * portable/node ratio of medians.
 *
 * Usage: npx tsx tools/bench/snapshot-platform.ts [--rounds 7] [--mib 16]
 */
import { loadavg } from 'node:os';
import { decodeSnapshot, encodeSnapshot } from '../../src/snapshot/index.ts';
import type { CanonicalState } from '../../src/snapshot/index.ts';
import { nodePlatform } from '../../src/snapshot/platform-node.ts';
import { portablePlatform } from '../../src/snapshot/platform-portable.ts';
import type { SnapshotPlatform } from '../../src/snapshot/platform.ts';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const ROUNDS = arg('--rounds', 7);
const MiB = 1 << 20;
const size = arg('--mib', 16) * MiB;

/** Memory like a C program's: sparse words, small integers, repeated records, text (deterministic). */
function typical(n: number): Uint8Array {
  const bytes = new Uint8Array(n);
  const words = new Uint32Array(bytes.buffer);
  let s = 0x9e3779b9;
  const next = (): number => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s; };
  for (let block = 0; block < words.length; block += 1024) {
    const kind = next() % 3;
    for (let i = block; i < block + 1024; i++) words[i] = kind === 0 ? (i % 16 === 0 ? next() & 0xff : 0) : kind === 1 ? (i - block) * 8 + 0x10000 : next();
  }
  return bytes;
}

const memory = typical(size);
const pages = size / 65536;
const state: CanonicalState = {
  moduleSha256: '00'.repeat(32), status: 'ready', entry: '_start',
  memories: [{ pages, max: null, stored: Array.from({ length: pages }, (_, i) => i), data: memory }],
  tables: [], globals: [], droppedData: [], droppedElems: [], frames: [], instructions: 0, wasi: null, host: {}, externs: [],
} as unknown as CanonicalState;

const cases: Record<string, (p: SnapshotPlatform) => unknown> = {
  [`sha-256 of ${size / MiB} MiB`]: (p) => p.sha256(memory),
  [`CRC-32 of ${size / MiB} MiB`]: (p) => p.crc32(memory),
  [`compare ${size / MiB} MiB`]: (p) => p.equal(memory, 0, memory, 0, memory.length),
  [`encode + decode, ${size / MiB} MiB state`]: (p) => decodeSnapshot(encodeSnapshot(state, { platform: p }), { platform: p }),
};

const platforms = [nodePlatform, portablePlatform];
const times = new Map<string, number[]>();
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, run] of Object.entries(cases)) {
    for (const p of platforms) {
      const t0 = performance.now();
      run(p);
      const ms = performance.now() - t0;
      const key = `${name}|${p.name}`;
      times.set(key, [...(times.get(key) ?? []), ms]);
    }
  }
}

const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[s.length >> 1]!; };
const fmt = (ms: number): string => (ms < 10 ? ms.toFixed(2) : ms.toFixed(0));
console.log(`snapshot platforms, ${ROUNDS} interleaved rounds, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
console.log('| case | node ms (min-max) | portable ms (min-max) | portable / node |');
console.log('|---|---|---|---|');
for (const name of Object.keys(cases)) {
  const [n, q] = platforms.map((p) => times.get(`${name}|${p.name}`)!);
  console.log(`| ${name} | ${fmt(median(n!))} (${fmt(Math.min(...n!))}-${fmt(Math.max(...n!))}) | ${fmt(median(q!))} (${fmt(Math.min(...q!))}-${fmt(Math.max(...q!))}) | ${(median(q!) / median(n!)).toFixed(2)} |`);
}
