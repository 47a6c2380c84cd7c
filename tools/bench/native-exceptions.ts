/**
 * An exception-heavy loop on the interpreter, the native tier and V8 with the unmodified
 * module, side by side in one process (issue 18): `$bench(n)` calls `$b1(i)` inside a
 * legacy `try`/`catch $e` for i < n, `$b1` calls `$b2` calls `$b3`, which throws for odd
 * i, so half the iterations throw across three frames to the handler. Each round runs
 * the three in turn; reported: iterations per second, median (min-max), and each
 * median's share of V8's, with the load average before and after (a shared machine).
 *
 * Usage: npx tsx tools/bench/native-exceptions.ts [--rounds R] [--iterations N] [--interp-iterations N]
 */
import { loadavg } from 'node:os';
import { NativeEngine } from '../../src/native/index.ts';
import type { CompiledModule } from '../../src/compile/index.ts';
import { loadModule, Program } from '../../src/program/index.ts';
import { legacyThrowModule } from '../../test/helpers/legacy-exception-module.ts';
import { median } from './stats.ts';

type Engine = 'interpreter' | 'native' | 'v8';

/** The result of `$bench(n)`: i for odd i, i + 3 for even i. */
function expected(n: number): number {
  let sum = 0;
  for (let i = 0; i < n; i++) sum = (sum + (i & 1 ? i : i + 3)) | 0;
  return sum;
}

/** Seconds for one run of `$bench(n)` on `engine`. */
function once(compiled: CompiledModule, engine: Engine, n: number, v8: WebAssembly.Instance): number {
  let got: unknown;
  const t0 = process.hrtime.bigint();
  if (engine === 'v8') got = (v8.exports['bench'] as (n: number) => number)(n);
  else {
    // One compiled module for every round, as V8's instance is one: the native tier's
    // rewrite (and V8's code for it, optimized by then) is made once, in the warm-up.
    const program = Program.instantiate(compiled, { tier: engine === 'native' ? 'native' : 'interp' });
    program.start('bench', [n]);
    const outcome = program.run();
    if (outcome.kind !== 'returned') throw new Error(`${engine}: ${outcome.kind}`);
    got = outcome.results[0];
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (got !== expected(n)) throw new Error(`${engine} $bench(${n}): ${String(got)}, expected ${expected(n)}`);
  return seconds;
}

function main(argv: string[]): void {
  let rounds = 7;
  let iterations = 400_000;
  let interpIterations = 100_000;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--rounds') rounds = Number(argv[++i]);
    else if (argv[i] === '--iterations') iterations = Number(argv[++i]);
    else if (argv[i] === '--interp-iterations') interpIterations = Number(argv[++i]);
    else throw new Error(`unknown option ${argv[i]} (usage: native-exceptions.ts [--rounds R] [--iterations N] [--interp-iterations N])`);
  }
  const load = (): string => loadavg().map((l) => l.toFixed(1)).join(' ');
  const bytes = legacyThrowModule();
  const compiled = loadModule(bytes);
  const reason = new NativeEngine().cannotRun(compiled);
  if (reason !== undefined) console.log(`(the native tier runs this module in the interpreter: ${reason})`);
  console.log(`load average before: ${load()}; ${rounds} rounds, ${iterations} iterations natively and on V8, ${interpIterations} interpreted`);
  const v8 = new WebAssembly.Instance(new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>));
  const rates: Record<Engine, number[]> = { interpreter: [], native: [], v8: [] };
  // Warm-up: V8's tiers, the rewrite.
  for (const e of ['interpreter', 'native', 'v8'] as const) once(compiled, e, 20_000, v8);
  for (let r = 0; r < rounds; r++) {
    for (const e of ['interpreter', 'native', 'v8'] as const) {
      const n = e === 'interpreter' ? interpIterations : iterations;
      rates[e].push(n / once(compiled, e, n, v8) / 1e6);
    }
  }
  const v8Median = median(rates.v8);
  console.log('\n$bench: M iterations/s (half of them a throw across three frames), median (min-max), of V8');
  for (const e of ['interpreter', 'native', 'v8'] as const) {
    const xs = rates[e];
    console.log(`  ${e.padEnd(12)} ${median(xs).toFixed(3).padStart(8)} (${Math.min(...xs).toFixed(3)}-${Math.max(...xs).toFixed(3)})  ${(100 * median(xs) / v8Median).toFixed(1)}%`);
  }
  console.log(`\nload average after: ${load()}`);
}

main(process.argv.slice(2));
