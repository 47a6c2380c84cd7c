/**
 * Tail calls on the native tier against the interpreter and V8 itself, side by side in
 * one process: `$sum(n, acc)` tail-calls itself n times (`return_call`, a loop with no
 * loop header: the native tier polls at its entries), and `$mixed(n)` does too but makes
 * a plain recursive call every 65,536th step (so its activations count the recursion
 * budget, given back before each tail call). Each round runs the interpreter (fast code),
 * the native tier, and V8 on the unmodified module, in turn; reported: tail calls per
 * second, median and spread (min-max) over the rounds, and each engine's median as a
 * share of V8's. And an exception-heavy loop (`$catches`: the legacy `try`/`catch` of
 * `-fwasm-exceptions`, a throw every other iteration), which the native tier runs too
 * (`native-exceptions.ts` throws across three frames). The load average goes with the
 * numbers: the machine is shared.
 *
 * Usage: npx tsx tools/bench/native-tail-calls.ts [--rounds R] [--calls N] [--interp-calls N]
 */
import { loadavg } from 'node:os';
import { NativeEngine } from '../../src/native/index.ts';
import { loadModule, Program } from '../../src/program/index.ts';
import { ValType } from '../../src/wasm/types.ts';
import { median } from './stats.ts';

const { i32, i64 } = ValType;

/** $sum (n i32, acc i64) -> i64 by return_call; $mixed (n i32) -> i32 = floor(n / 65536), by tail calls and a plain call every 65,536th. */
function tailModule(): Uint8Array<ArrayBuffer> {
  const sum = [
    0x00,
    0x20, 0, 0x45, 0x04, 0x40, 0x20, 1, 0x0f, 0x0b,
    0x20, 0, 0x41, 1, 0x6b, 0x20, 1, 0x20, 0, 0xad, 0x7c, 0x12, 0, 0x0b,
  ];
  const mixed = [
    0x00,
    0x20, 0, 0x45, 0x04, 0x40, 0x41, 0, 0x0f, 0x0b,
    0x20, 0, 0x41, 0xff, 0xff, 0x03, 0x71, 0x45, 0x04, 0x40,
    0x20, 0, 0x41, 1, 0x6b, 0x10, 1, 0x41, 1, 0x6a, 0x0f, 0x0b,
    0x20, 0, 0x41, 1, 0x6b, 0x12, 1, 0x0b,
  ];
  const section = (id: number, content: number[]): number[] => [id, ...leb(content.length), ...content];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, [2, 0x60, 2, i32, i64, 1, i64, 0x60, 1, i32, 1, i32]),
    ...section(3, [2, 0, 1]),
    ...section(7, [2, ...ascii('sum'), 0x00, 0, ...ascii('mixed'), 0x00, 1]),
    ...section(10, [2, sum.length, ...sum, mixed.length, ...mixed]),
  ]);
}

/**
 * The exception-heavy loop, with the legacy instructions clang's `-fwasm-exceptions`
 * emits: $catches (n) -> i32 calls $thrower(i) for i < n inside `try`, which throws
 * tag 0 for odd i; `catch 0` counts them (= floor(n / 2)).
 */
function exceptionModule(): Uint8Array<ArrayBuffer> {
  const thrower = [0x00, 0x20, 0, 0x41, 1, 0x71, 0x04, 0x40, 0x20, 0, 0x08, 0, 0x0b, 0x20, 0, 0x0b];
  const catches = [
    0x01, 0x02, i32,
    0x02, 0x40, 0x03, 0x40,
    0x20, 1, 0x20, 0, 0x4f, 0x0d, 1, //                 i >= n: out
    0x06, 0x40, 0x20, 1, 0x10, 0, 0x1a, //             try thrower(i) drop
    0x07, 0, 0x1a, 0x20, 2, 0x41, 1, 0x6a, 0x21, 2, //  catch 0: drop, count++
    0x0b,
    0x20, 1, 0x41, 1, 0x6a, 0x21, 1, 0x0c, 0, //         i++
    0x0b, 0x0b, 0x20, 2, 0x0b,
  ];
  const section = (id: number, content: number[]): number[] => [id, ...leb(content.length), ...content];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, [2, 0x60, 1, i32, 1, i32, 0x60, 1, i32, 0]),
    ...section(3, [2, 0, 0]),
    ...section(13, [1, 0x00, 1]),
    ...section(7, [1, ...ascii('catches'), 0x00, 1]),
    ...section(10, [2, thrower.length, ...thrower, catches.length, ...catches]),
  ]);
}

function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

function ascii(s: string): number[] {
  return [s.length, ...Array.from(s, (c) => c.charCodeAt(0))];
}

type Engine = 'interpreter' | 'native' | 'v8';

type Name = 'sum' | 'mixed' | 'catches';

/** Seconds for one run of `name` with `calls` tail calls (loop iterations for `catches`) on `engine`. */
function once(bytes: Uint8Array<ArrayBuffer>, engine: Engine, name: Name, calls: number, v8: WebAssembly.Instance): number {
  const args = name === 'sum' ? [calls, 0n] : [calls];
  const want = name === 'sum' ? BigInt(calls) * BigInt(calls + 1) / 2n : Math.floor(calls / (name === 'mixed' ? 65536 : 2));
  let got: unknown;
  const t0 = process.hrtime.bigint();
  if (engine === 'v8') {
    got = (v8.exports[name] as (...a: unknown[]) => unknown)(...args);
  } else {
    const program = Program.instantiate(loadModule(bytes), { tier: engine === 'native' ? 'native' : 'interp' });
    program.start(name, args);
    const outcome = program.run();
    if (outcome.kind !== 'returned') throw new Error(`${engine}: ${outcome.kind}`);
    got = outcome.results[0];
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (got !== want) throw new Error(`${engine} ${name}(${calls}): ${String(got)}, expected ${String(want)}`);
  return seconds;
}

function main(argv: string[]): void {
  let rounds = 5;
  let calls = 20_000_000;
  let interpCalls = 2_000_000;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--rounds') rounds = Number(argv[++i]);
    else if (argv[i] === '--calls') calls = Number(argv[++i]);
    else if (argv[i] === '--interp-calls') interpCalls = Number(argv[++i]);
    else throw new Error(`unknown option ${argv[i]} (usage: native-tail-calls.ts [--rounds R] [--calls N] [--interp-calls N])`);
  }
  const load = (): string => loadavg().map((l) => l.toFixed(1)).join(' ');
  console.log(`load average before: ${load()}; ${rounds} rounds, ${calls} tail calls natively and on V8, ${interpCalls} interpreted; a tenth of those loop iterations for $catches`);
  for (const name of ['sum', 'mixed', 'catches'] as const) {
    const bytes = name === 'catches' ? exceptionModule() : tailModule();
    const reason = new NativeEngine().cannotRun(loadModule(bytes));
    const v8 = new WebAssembly.Instance(new WebAssembly.Module(bytes));
    const rates: Record<Engine, number[]> = { interpreter: [], native: [], v8: [] };
    const scale = name === 'catches' ? 10 : 1;
    // Warm-up: V8's tiers, the rewrite.
    for (const e of ['interpreter', 'native', 'v8'] as const) once(bytes, e, name, 100_000 / scale, v8);
    for (let r = 0; r < rounds; r++) {
      for (const e of ['interpreter', 'native', 'v8'] as const) {
        const n = Math.round((e === 'interpreter' ? interpCalls : calls) / scale);
        rates[e].push(n / once(bytes, e, name, n, v8) / 1e6);
      }
    }
    const v8Median = median(rates.v8);
    console.log(`\n$${name}: M ${name === 'catches' ? 'iterations (half of them a throw and catch)' : 'tail calls'}/s, median (min-max), of V8`);
    if (reason !== undefined) console.log(`  (the native tier runs this module in the interpreter: ${reason})`);
    for (const e of ['interpreter', 'native', 'v8'] as const) {
      const xs = rates[e];
      console.log(`  ${e.padEnd(12)} ${median(xs).toFixed(2).padStart(8)} (${Math.min(...xs).toFixed(2)}-${Math.max(...xs).toFixed(2)})  ${(100 * median(xs) / v8Median).toFixed(1)}%`);
    }
  }
  console.log(`\nload average after: ${load()}`);
}

main(process.argv.slice(2));
