/**
 * In-memory directories, side by side (docs/wasi.md, "In-memory directories"):
 *
 * 1. A live migration's final pause for a job with a large file in memory (notes.c with
 *    a seed of --mib MiB of incompressible bytes, paused mid-run): the final as the
 *    agent takes it (files pre-copied, the state without their bytes) against the same
 *    final carrying every file's bytes in its state (what it would be without the
 *    pre-copy of files): time in the pause and bytes of the state.
 * 2. File I/O: notes.c run to its end writing its notes into an in-memory directory
 *    against a host directory (a temp dir), on the interpreter.
 *
 * Each round runs every case once, interleaved, so that load swings hit both alike; the
 * report gives medians, min-max, and the ratio of medians, with the load average.
 *
 * Usage: npx tsx tools/bench/mem-dir.ts [--rounds 7] [--mib 8] [--lines 300]
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Precopy } from '../../src/agent/precopy-source.ts';
import { loadModule, Program } from '../../src/program/index.ts';
import type { ProgramOptions } from '../../src/program/index.ts';
import type { MemFsState } from '../../src/wasi/index.ts';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const ROUNDS = arg('--rounds', 7);
const MIB = arg('--mib', 8);
const LINES = arg('--lines', 300);
const root = resolve(fileURLToPath(import.meta.url), '../../..');
const compiled = loadModule(readFileSync(join(root, 'test/programs/notes.wasm')));

function seed(): MemFsState {
  const big = new Uint8Array(MIB << 20);
  let x = 0x2545f491;
  for (let i = 0; i < big.length; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    big[i] = x & 0xff;
  }
  return { maxBytes: 2 * big.length + (1 << 20), nextIno: 3, nodes: [{ ino: 1, type: 'dir', atim: 0n, mtim: 0n, ctim: 0n, entries: [['big.bin', 2]] }, { ino: 2, type: 'file', atim: 0n, mtim: 0n, ctim: 0n, data: big }] };
}
const files = seed();

/** notes.c paused after its 5th note, its seed in memory. */
function paused(): Program {
  const program: Program = Program.instantiate(compiled, {
    args: ['notes.wasm', 'lines=30', 'work=2000'], env: {}, memDirs: [{ guest: '/data', files }], tier: 'interp',
    stdout: (d) => { if (new TextDecoder().decode(d).includes('wrote 5\n')) program.requestPause(); }, stderr: () => {},
  });
  program.start('_start');
  if (program.run().kind !== 'paused') throw new Error('notes.c did not pause');
  return program;
}

function runToEnd(options: ProgramOptions): number {
  const program = Program.instantiate(compiled, { args: ['notes.wasm', `lines=${LINES}`, 'work=0'], env: {}, tier: 'interp', stdout: () => {}, stderr: () => {}, ...options });
  const t0 = performance.now();
  program.start('_start');
  let outcome = program.run();
  while (outcome.kind === 'paused') outcome = program.run();
  const ms = performance.now() - t0;
  program.wasi.close();
  if (outcome.kind !== 'exited' || outcome.status !== 0) throw new Error('notes.c failed');
  return ms;
}

const host = mkdtempSync(join(tmpdir(), 'wasmig-bench-mem-dir-'));
const samples = new Map<string, number[]>();
const add = (name: string, v: number): void => { samples.set(name, [...(samples.get(name) ?? []), v]); };
const loadBefore = loadavg()[0]!;
try {
  for (let round = 0; round < ROUNDS; round++) {
    {
      // The final as agents take it: a round while running (the seed goes there), then the pause.
      const p = paused();
      const precopy = new Precopy(p, undefined);
      precopy.round();
      const final = precopy.final();
      add('final pause, files pre-copied (ms)', final.stoppedMs);
      add('final state, files pre-copied (KiB)', final.snapshot.length / 1024);
      p.wasi.close();
    }
    {
      // The same pause carrying the files in its state.
      const p = paused();
      const precopy = new Precopy(p, undefined);
      precopy.round();
      const t0 = performance.now();
      precopy.round();
      const snapshot = p.snapshot({ embedModule: false, omitMemory: true });
      add('final pause, files in the state (ms)', performance.now() - t0);
      add('final state, files in the state (KiB)', snapshot.length / 1024);
      p.wasi.close();
    }
    add(`notes.c ${LINES} notes, in-memory dir (ms)`, runToEnd({ memDirs: [{ guest: '/data' }] }));
    add(`notes.c ${LINES} notes, host dir (ms)`, runToEnd({ preopens: [{ host, guest: '/data' }] }));
  }
} finally {
  rmSync(host, { recursive: true, force: true });
}

const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2; };
const fmt = (v: number): string => (v >= 100 ? v.toFixed(0) : v.toFixed(2));
console.log(`in-memory directories: ${ROUNDS} interleaved rounds, a ${MIB} MiB seed; load average ${loadBefore.toFixed(2)} before, ${loadavg()[0]!.toFixed(2)} after`);
for (const [name, xs] of samples) console.log(`  ${name.padEnd(44)} median ${fmt(median(xs)).padStart(8)}   min-max ${fmt(Math.min(...xs))}-${fmt(Math.max(...xs))}`);
const ratio = (a: string, b: string): string => (median(samples.get(a)!) / median(samples.get(b)!)).toFixed(2);
console.log(`  ratios of medians: pause with files in the state / pre-copied ${ratio('final pause, files in the state (ms)', 'final pause, files pre-copied (ms)')}; state bytes ${ratio('final state, files in the state (KiB)', 'final state, files pre-copied (KiB)')}; in-memory / host dir run ${ratio(`notes.c ${LINES} notes, in-memory dir (ms)`, `notes.c ${LINES} notes, host dir (ms)`)}`);
