/**
 * What V8's optimizing compiler (TurboFan) pays for the native tier's rewrite: the
 * compile time and machine-code size of a module, unmodified and rewritten, in total
 * and per large function (issue 20).
 *
 *   npx tsx tools/bench/native-compile-cost.ts [--module PROG.wasm] [--rounds N] [--top K]
 *       [--baseline DIR] [--unroll N] [--poll local|global|none] [--no-after-call] [--save-by call|branch]
 *   npx tsx tools/bench/native-compile-cost.ts --module "$(bash tools/bench/build-sqlite.sh)"
 *
 * Each variant is compiled in a fresh `node --single-threaded --no-liftoff
 * --no-wasm-lazy-compilation --trace-wasm-compilation-times` (every function by
 * TurboFan, on the main thread, one after another: the time of `new WebAssembly.Module`
 * is TurboFan's whole time, with no other compile thread sharing the two cores), in
 * rounds that alternate the variants, so that each sees the same machine. The child's
 * trace gives each function's time (whole milliseconds) and code size.
 *
 * Variants: the unmodified module; the rewrite by this checkout; with `--baseline DIR`,
 * the rewrite by another checkout (a worktree of the build to compare with), whose
 * `src/` is imported as it stands there. Default module: CoreMark.
 *
 * Reports per variant the compile time (median and min-max over the rounds, with the
 * load average before and after), the child's CPU time, the total code size; then the
 * `--top` (default 8) functions that cost the rewrite most, with their time and code
 * size in each variant (time: median of the rounds).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { median } from './stats.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const modulePath = arg('--module') ?? join(root, 'coremark', 'coremark.wasm');
const rounds = Number(arg('--rounds') ?? 3);
const top = Number(arg('--top') ?? 8);
const baseline = arg('--baseline');
const options: Record<string, unknown> = {};
if (arg('--unroll') !== undefined) options.unroll = Number(arg('--unroll'));
if (arg('--poll') !== undefined) options.loopPoll = arg('--poll');
if (process.argv.includes('--no-after-call')) options.afterCall = 'none';
if (arg('--save-by') !== undefined) options.saveBy = arg('--save-by');

/** One variant's bytes, and how its function indices map to the original's. */
interface Variant {
  name: string;
  path: string;
  /** Original function index of each of this variant's function indices (-1: added by the rewrite). */
  original: (index: number) => number;
}

/** The rewrite of `bytes` by the checkout at `dir` (its own sources, as they stand there). */
async function rewriteWith(dir: string, bytes: Uint8Array): Promise<{ bytes: Uint8Array; helpers: number; imported: number; defined: number }> {
  const program = await import(pathToFileURL(join(dir, 'src/program/index.ts')).href);
  const native = await import(pathToFileURL(join(dir, 'src/native/index.ts')).href);
  const compiled = program.loadModule(bytes);
  const rewritten = native.rewriteModule(compiled.context, options);
  const m = compiled.module;
  return { bytes: rewritten.bytes, helpers: native.HELPER_IMPORTS.length, imported: m.numImportedFuncs, defined: m.codes.length };
}

const original = new Uint8Array(readFileSync(modulePath));
const tmp = mkdtempSync(join(tmpdir(), 'wasmig-compile-cost-'));
const variants: Variant[] = [{ name: 'unmodified', path: modulePath, original: (i) => i }];
let names = new Map<number, string>();
{
  const { decodeModule } = await import('../../src/binary/index.ts');
  names = decodeModule(original).names?.functions ?? names;
}
const rewrites: [string, string][] = [['rewritten', root]];
if (baseline !== undefined) rewrites.unshift(['baseline', resolve(baseline)]);
for (const [name, dir] of rewrites) {
  const r = await rewriteWith(dir, original);
  const path = join(tmp, `${name}.wasm`);
  writeFileSync(path, r.bytes);
  // Helpers are imported after the original imports; defined functions follow, in order; entries and the rest come after.
  variants.push({
    name, path,
    original: (i) => (i < r.imported ? i : i < r.imported + r.helpers ? -1 : i - r.helpers < r.imported + r.defined ? i - r.helpers : -1),
  });
}

const child = `
const { readFileSync } = require('node:fs');
const bytes = readFileSync(process.argv[1]);
const cpu = process.cpuUsage();
const t0 = performance.now();
new WebAssembly.Module(bytes);
const ms = performance.now() - t0;
const used = process.cpuUsage(cpu);
console.log('TOTAL ' + ms + ' ' + (used.user + used.system) / 1000);
`;
const traceLine = /^Compiled function \S+#(\d+) using TurboFan, took (\d+) ms and .* codesize (\d+)/;

interface Sample {
  ms: number;
  cpuMs: number;
  load: [number, number];
  /** By function index of the variant: [ms, code bytes]. */
  functions: Map<number, [number, number]>;
}

function compileOnce(v: Variant): Sample {
  const before = loadavg()[0];
  const r = spawnSync(process.execPath, ['--single-threaded', '--no-liftoff', '--no-wasm-lazy-compilation', '--trace-wasm-compilation-times', '-e', child, v.path], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`compiling ${v.name} failed:\n${r.stderr}`);
  const functions = new Map<number, [number, number]>();
  let ms = Number.NaN;
  let cpuMs = Number.NaN;
  for (const line of r.stdout.split('\n')) {
    const m = traceLine.exec(line);
    if (m) functions.set(Number(m[1]), [Number(m[2]), Number(m[3])]);
    else if (line.startsWith('TOTAL ')) [ms, cpuMs] = line.slice(6).split(' ').map(Number);
  }
  return { ms, cpuMs, load: [before, loadavg()[0]], functions };
}

const samples = new Map<string, Sample[]>(variants.map((v) => [v.name, []]));
for (let round = 0; round < rounds; round++) {
  // Alternate the order too, so that no variant always runs first.
  const order = round % 2 === 0 ? variants : [...variants].reverse();
  for (const v of order) samples.get(v.name)!.push(compileOnce(v));
}
rmSync(tmp, { recursive: true, force: true });

const fmt = (x: number): string => x.toLocaleString('en-US', { maximumFractionDigits: 0 });
console.log(`${modulePath}: ${rounds} rounds, every function compiled by TurboFan on one thread (--single-threaded --no-liftoff)`);
console.log('| variant | compile ms, median (min-max) | CPU ms, median | code KB | functions | load avg |');
console.log('|---|---:|---:|---:|---:|---|');
for (const v of variants) {
  const s = samples.get(v.name)!;
  const ms = s.map((x) => x.ms);
  const code = [...s[0].functions.values()].reduce((a, [, c]) => a + c, 0);
  const loads = s.flatMap((x) => x.load);
  console.log(`| ${v.name} | ${fmt(median(ms))} (${fmt(Math.min(...ms))}-${fmt(Math.max(...ms))}) | ${fmt(median(s.map((x) => x.cpuMs)))} | ${fmt(code / 1024)} | ${s[0].functions.size} | ${Math.min(...loads).toFixed(1)}-${Math.max(...loads).toFixed(1)} |`);
}

// Per original function: its median time and code size in each variant.
const perFunction = new Map<number, Map<string, [number, number]>>();
for (const v of variants) {
  const s = samples.get(v.name)!;
  for (const index of s[0].functions.keys()) {
    const orig = v.original(index);
    if (orig < 0) continue;
    const ms = median(s.map((x) => x.functions.get(index)?.[0] ?? Number.NaN));
    const code = s[0].functions.get(index)![1];
    if (!perFunction.has(orig)) perFunction.set(orig, new Map());
    perFunction.get(orig)!.set(v.name, [ms, code]);
  }
}
const last = variants[variants.length - 1].name;
const costly = [...perFunction.entries()].sort((a, b) => (b[1].get(last)?.[0] ?? 0) - (a[1].get(last)?.[0] ?? 0)).slice(0, top);
console.log(`\nThe ${top} functions that cost the ${last} module most (ms, median; code KB):`);
console.log(`| function | ${variants.map((v) => `${v.name} ms | KB`).join(' | ')} |`);
console.log(`|---|${variants.map(() => '---:|---:').join('|')}|`);
for (const [index, by] of costly) {
  const cells = variants.map((v) => {
    const x = by.get(v.name);
    return x === undefined ? '- | -' : `${fmt(x[0])} | ${fmt(x[1] / 1024)}`;
  });
  console.log(`| ${index} ${names.get(index) ?? ''} | ${cells.join(' | ')} |`);
}
