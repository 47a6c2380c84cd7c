/**
 * Snapshot cost: capture+encode (`program.snapshot()`) and decode+restore
 * (`Program.resume`) time, and snapshot size, for a paused program with 1, 16 and
 * 256 MiB of touched linear memory. Two kinds of memory contents: "random"
 * (incompressible, the worst case for time and size) and "typical" (what C programs
 * leave: runs of zeros, small integers, repeated records, some text).
 *
 * Usage: npx tsx tools/bench/snapshot.ts [--sizes 1,16,256] [--kinds random,typical] [--max-time S]
 * Benchmark.js runs each case for about --max-time seconds (default 3) and reports the
 * mean and its relative margin of error.
 */
import Benchmark from 'benchmark';
import { loadModule, Program } from '../../src/program/index.ts';
import { ValType } from '../../src/wasm/types.ts';
import { ModuleBuilder } from '../../test/helpers/module-builder.ts';

const MiB = 1 << 20;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

/** A module with a memory and a loop to pause in: `spin(n)` counts down from n. */
function spinModule(pages: number): Uint8Array {
  const b = new ModuleBuilder();
  const t = b.type([ValType.i32], [ValType.i32]);
  b.memory(pages);
  const spin = b.func(t, [
    0x03, 0x40, //                        loop
    0x20, 0, 0x41, 1, 0x6b, 0x22, 0, //   n = n - 1 (tee)
    0x0d, 0, //                           br_if 0
    0x0b, 0x20, 0, 0x0b,
  ]);
  b.export('spin', 'func', spin);
  b.export('memory', 'memory', 0);
  return b.build();
}

/** Fills `bytes` with the contents of the given kind (deterministic). */
function fill(bytes: Uint8Array, kind: string): void {
  let s = 0x9e3779b9;
  const next = (): number => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s; };
  const words = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length >>> 2);
  if (kind === 'random') {
    for (let i = 0; i < words.length; i++) words[i] = next();
    return;
  }
  // typical: 4 KiB blocks of different characters, like a heap and a stack.
  const text = new TextEncoder().encode('tick 17/100 checksum 3f9a00c1 status ok; ');
  for (let block = 0; block < words.length; block += 1024) {
    const kindOf = next() % 4;
    for (let i = block; i < Math.min(block + 1024, words.length); i++) {
      switch (kindOf) {
        case 0: words[i] = i % 16 === 0 ? next() & 0xff : 0; break; // sparse
        case 1: words[i] = (i - block) * 8 + 0x10000; break; // pointers and small integers
        case 2: words[i] = (i % 4 === 0 ? next() : words[i - 4 >= block ? i - 4 : i] ?? 0) >>> 0; break; // repeated records
        default: words[i] = text[(i * 4) % text.length] | (text[(i * 4 + 1) % text.length] << 8) | (text[(i * 4 + 2) % text.length] << 16) | (text[(i * 4 + 3) % text.length] << 24); // text
      }
    }
  }
}

interface Case { label: string; program: Program; snapshot: Uint8Array; compiled: ReturnType<typeof loadModule> }

function setup(mib: number, kind: string): Case {
  const pages = (mib * MiB) / 65536 + 1;
  const compiled = loadModule(spinModule(pages));
  const program = Program.instantiate(compiled, {});
  const mem = program.store.state.memories[0];
  fill(new Uint8Array(mem.memory.buffer, 0, mib * MiB), kind);
  program.start('spin', [1_000_000]);
  program.run({ until: 1001 });
  return { label: `${mib} MiB ${kind}`, program, compiled, snapshot: program.snapshot() };
}

const sizes = arg('--sizes', '1,16,256').split(',').map(Number);
const kinds = arg('--kinds', 'random,typical').split(',');
const maxTime = Number(arg('--max-time', '3'));

const rows: string[] = [];
for (const mib of sizes) {
  for (const kind of kinds) {
    const c = setup(mib, kind);
    const results: Record<string, Benchmark> = {};
    const suite = new Benchmark.Suite(c.label);
    suite.add('capture+encode', () => { c.program.snapshot(); }, { maxTime, minSamples: 5 });
    suite.add('decode+restore', () => { Program.resume(c.snapshot, { module: c.compiled }).wasi.close(); }, { maxTime, minSamples: 5 });
    suite.on('cycle', (e: Benchmark.Event) => {
      const b = e.target as unknown as Benchmark;
      results[b.name ?? ''] = b;
      console.log(`${c.label.padEnd(18)} ${String(b.name).padEnd(15)} ${(b.stats.mean * 1000).toFixed(1).padStart(8)} ms ±${b.stats.rme.toFixed(1)}% (${b.stats.sample.length} runs)`);
    });
    suite.run();
    const ms = (name: string): string => (results[name].stats.mean * 1000).toFixed(1);
    const ratio = (c.snapshot.length / (mib * MiB)) * 100;
    rows.push(`| ${mib} MiB | ${kind} | ${ms('capture+encode')} ms | ${ms('decode+restore')} ms | ${(c.snapshot.length / MiB).toFixed(2)} MiB (${ratio.toFixed(0)}%) |`);
  }
}
console.log('\n| touched memory | contents | capture+encode | decode+restore | snapshot size |');
console.log('|---|---|---|---|---|');
for (const r of rows) console.log(r);
console.log(`\nnode ${process.version}, ${process.arch}; means of benchmark.js samples`);
