import { writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ENGINE_NAMES, ENGINES, formatJson, formatMarkdown, formatSvg, formatTable, isEngineName, runBench, terminalProgress } from '../../bench/index.ts';
import type { EngineName } from '../../bench/index.ts';
import { UsageError, WasmigError } from '../../errors/index.ts';
import { loadModuleFile } from '../../program/index.ts';
import { flag, integer, one, parseArgs } from '../args.ts';
import type { OptionSpec } from '../args.ts';

export const BENCH_OPTIONS: OptionSpec[] = [
  { name: 'wasm', value: true },
  { name: 'engines', value: true },
  { name: 'seconds', value: true },
  { name: 'iterations', value: true },
  { name: 'runs', value: true },
  { name: 'json' },
  { name: 'markdown' },
  { name: 'svg', value: true },
];

const DEFAULT_SECONDS = 2;
const DEFAULT_RUNS = 3;

export const BENCH_USAGE = `usage: wasmig bench coremark [OPTIONS]

Runs CoreMark on several engines, each in child processes of its own, and compares
their iterations per second with V8's. Every engine runs the same module, with the
2K performance seeds (0x0 0x0 0x66 ITERATIONS 7 1 2000), so any CoreMark build for
WASI preview1 works; its CRCs are checked against the published ones.

The engines in Node (interp, native, v8) warm up first: CoreMark runs again and again
in the child process until three runs in a row agree within 5% (after 3 s at least),
and only then is a run timed. Their first seconds in a fresh process are slower (V8 is
still compiling), and are reported apart as "cold": the rate over the process's first
--seconds of CoreMark. wasm3 and iwasm are timed in a fresh process per run. Each
engine is measured --runs times, the engines in turn round by round; the table shows
the median and the spread (lowest-highest run), and "vs v8" the median of the rounds'
ratios to V8's run of the same round.

options:
  --wasm FILE         the CoreMark module (default: wasmig's own, coremark/coremark.wasm)
  --engines LIST      comma-separated, from: ${ENGINE_NAMES.join(', ')}
                      (default: all; wasm3 and iwasm are skipped when not on PATH)
${ENGINE_NAMES.map((n) => `                        ${n.padEnd(7)} ${ENGINES[n].description}`).join('\n')}
  --seconds S         about how long each timed run lasts (default ${DEFAULT_SECONDS}); the iteration
                      count comes from the warm-up (or, for wasm3 and iwasm, from short
                      calibration runs)
  --iterations N      run exactly N iterations on every engine (no calibration; the
                      engines in Node warm up with one run of N first)
  --runs N            timed runs per engine (default ${DEFAULT_RUNS}): median and spread
  --json              print {"results": [...]} instead of the table
  --markdown          print the table as Markdown
  --svg FILE          also write a bar chart of the results to FILE

exit status: 0 when every engine that ran validated; 1 when one failed or did not
validate (skipped engines do not count); 2 for a usage error.`;

/** Our CoreMark, beside src/ (and beside dist/ once built). */
export const DEFAULT_COREMARK = fileURLToPath(new URL('../../../coremark/coremark.wasm', import.meta.url));

export function parseEngines(list: string): EngineName[] {
  const names = list.split(',').map((s) => s.trim()).filter(Boolean);
  if (names.length === 0) throw new UsageError(`--engines needs at least one of ${ENGINE_NAMES.join(', ')}`);
  for (const n of names) {
    if (!isEngineName(n)) throw new UsageError(`unknown engine ${JSON.stringify(n)}: choose from ${ENGINE_NAMES.join(', ')}`);
  }
  return [...new Set(names as EngineName[])];
}

function parseSeconds(text: string | undefined): number {
  if (text === undefined) return DEFAULT_SECONDS;
  const s = Number(text);
  if (!/^\d*\.?\d+$/.test(text.trim()) || !(s > 0)) throw new UsageError(`--seconds needs a positive number, not ${JSON.stringify(text)}`);
  return s;
}

/** `wasmig bench coremark`: returns the process exit status. */
export async function benchCommand(argv: readonly string[]): Promise<number> {
  const p = parseArgs(argv, BENCH_OPTIONS, false);
  const [what, ...extra] = p.positionals;
  if (what === undefined) throw new UsageError(`missing the benchmark's name (coremark)\n\n${BENCH_USAGE}`);
  if (what !== 'coremark') throw new UsageError(`unknown benchmark ${JSON.stringify(what)}: only coremark is known\n\n${BENCH_USAGE}`);
  if (extra.length) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}\n\n${BENCH_USAGE}`);
  const engines = parseEngines(one(p, 'engines') ?? ENGINE_NAMES.join(','));
  const seconds = parseSeconds(one(p, 'seconds'));
  const iterations = integer(p, 'iterations', 1);
  const runs = integer(p, 'runs', 1) ?? DEFAULT_RUNS;
  if (iterations !== undefined && one(p, 'seconds') !== undefined) throw new UsageError('--seconds and --iterations exclude each other');
  const json = flag(p, 'json');
  const markdown = flag(p, 'markdown');
  if (json && markdown) throw new UsageError('--json and --markdown exclude each other');
  const svg = one(p, 'svg');
  if (svg === '') throw new UsageError('--svg needs a file name');
  const wasm = one(p, 'wasm') ?? DEFAULT_COREMARK;

  // Fail before starting any engine: the file must exist and be a valid WASI command.
  const compiled = loadModuleFile(wasm);
  if (!compiled.module.exports.some((e) => e.name === '_start' && e.kind === 'func')) {
    throw new WasmigError('ERR_BENCH_MODULE', `${wasm}: not a WASI command module (it exports no _start function)`);
  }

  const results = await runBench({ wasm, engines, seconds, iterations, runs, progress: terminalProgress() });

  if (json) process.stdout.write(`${formatJson(results)}\n`);
  if (markdown) process.stdout.write(`${formatMarkdown(results)}\n`);
  const each = iterations === undefined ? `about ${seconds} s` : `${iterations} iteration${iterations === 1 ? '' : 's'}`;
  const subtitle = `${each} per run, median of ${runs} run${runs === 1 ? '' : 's'}${runs > 1 && engines.length > 1 ? ', engines in turn' : ''}`;
  if (!json && !markdown) {
    const cold = iterations === undefined ? `cold: the first ${seconds} s of a fresh process` : 'cold: the first runs of a fresh process';
    process.stdout.write(`CoreMark (${basename(wasm)}), ${subtitle}; interp, native and v8 warmed up in the process first (${cold})\n\n${formatTable(results)}\n`);
  }
  if (svg !== undefined) {
    try {
      writeFileSync(svg, formatSvg(results, { module: basename(wasm), subtitle }));
    } catch (cause) {
      throw new WasmigError('ERR_BENCH_SVG', `cannot write ${svg}: ${(cause as Error).message}`, { cause });
    }
  }
  return results.every((r) => r.status === 'skipped' || r.status === 'unavailable' || (r.status === 'ok' && r.validated)) ? 0 : 1;
}
