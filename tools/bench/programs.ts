/**
 * wasmig's tiers against V8 on a program wasmig was not tuned on: SQLite's workload
 * (tools/bench/sqlite-workload.c: build it with tools/bench/build-sqlite.sh) or brotli's
 * (tools/bench/brotli-workload.c: tools/bench/build-brotli.sh), whose one argument is a
 * size (SQLite's rows, brotli's KiB of input), with a small and a large size, every run a
 * fresh process, the engines and sizes in turn within each round.
 *
 *   npm run build && npx tsx tools/bench/programs.ts --module "$(bash tools/bench/build-sqlite.sh)"
 *       [--sizes 2000,100000] [--runs 3] [--engines interp,native,v8] [--baseline DIR]
 *   npx tsx tools/bench/programs.ts --module "$(bash tools/bench/build-brotli.sh)" --sizes 64,2048
 *
 * `--rows` is another name for `--sizes` (its name when SQLite's was the only workload).
 *
 * Engines: `interp` is `wasmig run --tier interp`, `native` `wasmig run --tier native`
 * (the built CLI), `v8` the module under node:wasi. Reported per engine, as the median
 * of the rounds with the spread (min-max):
 * - warm: the large run's wall time minus the small run's of the same round, the time
 *   of the extra work alone: start-up, loading and most of the warm-up fall out; and
 *   V8's warm time over the engine's (1/N: the engine took N times V8's time);
 * - cold: the small run's wall time, spawn to exit, and V8's over it.
 * wasmig's disk cache is a temporary directory, filled by one untimed run of each engine
 * first: every timed run starts as a user's second run does (the native tier's rewrite
 * cached), small and large alike.
 * `--baseline DIR` (another checkout, built) runs its `interp` and `native` too, in the
 * same rounds, and gives this build's warm speed over the baseline's (paired by round,
 * with a 90% bootstrap interval).
 * Every run's output must be the first run's for the same size, byte for byte, or the
 * tool fails.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { optionValues, positiveNumber } from './options.ts';
import { nodeWasiArgs } from './node-wasi.ts';
import { median, pairedRatioOfMedians } from './stats.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const cli = join(root, 'bin/wasmig.js');
const ENGINES = ['interp', 'native', 'v8'] as const;
type Engine = (typeof ENGINES)[number];
/** An engine of this build, or of the baseline's (`interp@base`). */
type Variant = string;

function fail(message: string): never {
  process.stderr.write(`programs: ${message}\n`);
  process.exit(2);
}

const [module] = optionValues('--module');
if (module === undefined) fail('--module M.wasm is needed (bash tools/bench/build-sqlite.sh or build-brotli.sh builds one and prints its path)');
if (!existsSync(module)) fail(`no module at ${module}`);
const runs = positiveNumber('programs', '--runs', 3);
const sizes = (optionValues('--sizes')[0] ?? optionValues('--rows')[0] ?? '2000,100000').split(',').map(Number);
if (sizes.length !== 2 || !sizes.every((n) => Number.isInteger(n) && n > 0) || sizes[0]! >= sizes[1]!) fail('--sizes takes two whole numbers, small then large (2000,100000)');
const engines = (optionValues('--engines')[0] ?? ENGINES.join(',')).split(',') as Engine[];
for (const e of engines) if (!ENGINES.includes(e)) fail(`--engines takes ${ENGINES.join(', ')}, not ${JSON.stringify(e)}`);
if (!existsSync(join(root, 'dist/cli/main.js'))) fail('no built CLI: npm run build first');
const [baselineDir] = optionValues('--baseline');
const baseline = baselineDir === undefined ? undefined : resolve(baselineDir);
if (baseline !== undefined && !existsSync(join(baseline, 'dist/cli/main.js'))) fail(`no built CLI in ${baseline} (npm run build there first)`);
const variants: Variant[] = engines.flatMap((e) => (baseline !== undefined && e !== 'v8' ? [e, `${e}@base`] : [e]));

const work = mkdtempSync(join(tmpdir(), 'wasmig-bench-programs-'));
function command(variant: Variant, n: number): string[] {
  const [engine, of] = variant.split('@') as [Engine, string | undefined];
  const wasmig = of === undefined ? cli : join(baseline!, 'bin/wasmig.js');
  switch (engine) {
    case 'interp': return [wasmig, 'run', '--tier', 'interp', module!, String(n)];
    case 'native': return [wasmig, 'run', '--tier', 'native', module!, String(n)];
    case 'v8': return nodeWasiArgs(module!, [String(n)]);
  }
}

const env = { ...process.env, XDG_CACHE_HOME: join(work, 'cache') };
const expected = new Map<number, string>();
const times = new Map<string, number[]>();
const load = (): string => loadavg()[0]!.toFixed(1);
const loadBefore = load();
try {
  for (const engine of variants) {
    if (engine === 'v8') continue;
    const r = spawnSync(process.execPath, command(engine, sizes[0]!), { encoding: 'utf8', env, timeout: 3_600_000 });
    if (r.status !== 0) fail(`${engine} at size ${sizes[0]} ended with status ${r.status}: ${r.stderr.trim().split('\n')[0]}`);
  }
  for (let round = 0; round < runs; round++) {
    for (const engine of variants) {
      for (const n of sizes) {
        const t0 = performance.now();
        const r = spawnSync(process.execPath, command(engine, n), { encoding: 'utf8', env, timeout: 3_600_000, maxBuffer: 1 << 26 });
        const ms = performance.now() - t0;
        if (r.status !== 0) fail(`${engine} at size ${n} ended with status ${r.status}: ${r.stderr.trim().split('\n')[0]}`);
        const want = expected.get(n);
        if (want === undefined) expected.set(n, r.stdout);
        else if (want !== r.stdout) fail(`${engine} at size ${n} printed something else than the first run of that size`);
        const key = `${engine} ${n}`;
        times.set(key, [...(times.get(key) ?? []), ms]);
        process.stderr.write('.');
      }
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
process.stderr.write('\n');

const [small, large] = sizes as [number, number];
const warm = (e: Variant): number[] => times.get(`${e} ${large}`)!.map((t, i) => t - times.get(`${e} ${small}`)![i]!);
const spread = (xs: number[], digits = 0): string => `${median(xs).toFixed(digits)} (${Math.min(...xs).toFixed(digits)}-${Math.max(...xs).toFixed(digits)})`;
const ofV8 = (ratios: number[]): string => {
  const m = median(ratios);
  if (m >= 0.5) return `${m.toFixed(2)} (${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)})`;
  return `1/${(1 / m).toFixed(0)} (1/${(1 / Math.max(...ratios)).toFixed(0)}-1/${(1 / Math.min(...ratios)).toFixed(0)})`;
};
console.log(`${module}: sizes ${small} and ${large}, ${runs} rounds, every run a fresh process; load ${loadBefore} -> ${load()}`);
console.log(`| engine | warm: size ${large} less size ${small}, ms | of V8's speed | cold: size ${small}, spawn to exit, ms | of V8's |${baseline ? ' warm speed over the baseline\'s (90% interval) |' : ''}`);
console.log(`|---|---:|---:|---:|---:|${baseline ? '---:|' : ''}`);
const hasV8 = engines.includes('v8');
for (const e of variants) {
  const w = warm(e);
  const cold = times.get(`${e} ${small}`)!;
  const warmRatio = hasV8 ? ofV8(w.map((t, i) => warm('v8')[i]! / t)) : '';
  const coldRatio = hasV8 ? (median(times.get(`v8 ${small}`)!) / median(cold)).toFixed(2) : '';
  let vsBase = '';
  if (baseline && e !== 'v8' && !e.includes('@')) {
    const r = pairedRatioOfMedians(w, warm(`${e}@base`));
    vsBase = ` ${r.ratio.toFixed(2)} (${r.low.toFixed(2)}-${r.high.toFixed(2)}) |`;
  } else if (baseline) vsBase = ' |';
  console.log(`| ${e === 'v8' ? 'v8 (node:wasi)' : e.replace('@base', ', baseline')} | ${spread(w)} | ${warmRatio} | ${spread(cold)} | ${coldRatio} |${vsBase}`);
}
