/**
 * Start-up of `wasmig run` on a 1 MB program, and what loading that module costs.
 *
 *   npx tsx tools/bench/startup.ts [--module PROG.wasm] [--runs N] [--functions N]
 *   npx tsx tools/bench/startup.ts --cache-only --module "$(bash tools/bench/build-sqlite.sh)"
 *
 * Without --module it writes a C program of N functions (default 2,300: about 1 MB of
 * Wasm) with loops, switches, 64-bit and floating-point arithmetic, memory traffic and
 * calls, and builds it for wasm32-wasi with clang (Debian's `clang lld wasi-libc
 * libclang-rt-14-dev-wasm32`, as tools/build-test-programs.sh installs), cached in the
 * temp directory. Its `main` prints a line first thing, then runs a few of the functions.
 *
 * It reports, each as the median of --runs (default 7) runs:
 * - start-up: from spawning `node bin/wasmig.js run PROG.wasm` (the built CLI: `npm run
 *   build` first) to the program's first byte on stdout, and to its exit; the same from
 *   the sources through tsx; Node's own start-up and `hello.wasm` for comparison;
 * - loading in a fresh process (what the CLI pays: cold JIT), and warm in one process:
 *   decode, module + body validation alone, `compileModule` (validation of every body; the
 *   translation waits until a function is first needed), and the translation of every
 *   body to the exact and the fast code, which the interpreter does lazily, function by
 *   function, the first time each runs;
 * - the disk cache of rewritten modules: `wasmig run` to exit with no cache (`--no-cache`:
 *   on the default tier, with no pause option, the module runs as it is and its bodies are
 *   validated; `--tier native` rewrites it with its safepoints), with the rewrite cached
 *   (a temporary cache directory, filled by one run first), and Node's own engine
 *   (node:wasi on the unmodified module), in interleaved rounds; the median, the
 *   spread (min-max) and each median's ratio to Node's, in wall time and in the child's
 *   CPU time (user + system, from /usr/bin/time where it exists), with the load average.
 *   `--cache-only` measures only this; `--first-only` only node:wasi and the first starts;
 *   `--baseline DIR` runs each wasmig row with DIR's build too (another checkout, built),
 *   in the same rounds.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeModule } from '../../src/binary/index.ts';
import { compileModule, translateFast } from '../../src/compile/index.ts';
import { callSignatures } from '../../src/compile/translate.ts';
import { validateModule } from '../../src/validate/index.ts';
import { nodeWasiArgs } from './node-wasi.ts';
import { median } from './stats.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const tsx = join(root, 'node_modules/tsx/dist/cli.mjs');
const self = fileURLToPath(import.meta.url);

// ---------------------------------------------------------------------------
// The program: generated C, built with clang.

/** A small deterministic PRNG (xorshift32), so the same N gives the same program. */
function prng(seed: number): (n: number) => number {
  let s = seed >>> 0 || 1;
  return (n: number) => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s % n;
  };
}

/** One statement of a loop body, over the locals every function has. */
function statement(r: (n: number) => number, index: number): string {
  const k = () => String(r(1 << 16) + 1);
  const callee = index > 0 ? `f${r(index)}` : '';
  switch (r(12)) {
    case 0: return `s += x * ${k()} + (s >> ${r(7) + 1});`;
    case 1: return `w ^= (int64_t)x << ${r(40)}; w = w * ${k()}LL + (w >> ${r(17) + 3});`;
    case 2: return `d = d * ${(r(900) + 100) / 1000} + (double)x / ${k()}.0;`;
    case 3: return `m[(i * ${k()} + s) & MASK] = s ^ x;`;
    case 4: return `if ((x & ${r(15) + 1}) == ${r(4)}) s -= ${k()}; else s ^= x >> ${r(9)};`;
    case 5: return `switch ((x + i) & 3) { case 0: s += ${k()}; break; case 1: s *= ${r(9) + 3}; break; case 2: w += s; break; default: d -= s; }`;
    case 6: return callee ? `if (n > 1) s += ${callee}(m, n >> 2, s ^ ${k()});` : `s += ${k()};`;
    case 7: return `x = m[(x ^ ${k()}) & MASK] + (int32_t)(w >> ${r(30) + 1});`;
    case 8: return `f = f * ${(r(50) + 1) / 64}f + (float)(x & ${k()});`;
    case 9: return `for (int32_t j = 0; j < (x & 7); j++) s += m[(j + i + ${k()}) & MASK] >> ${r(5)};`;
    case 10: return `w = (w << ${r(7) + 1}) | (uint64_t)w >> ${64 - r(7) - 1}; s += (int32_t)(w % ${k()});`;
    default: return `s = (s << ${r(5) + 1}) ^ (s >> ${r(9) + 1}) ^ ${k()};`;
  }
}

/** The C source of a program with `count` functions. */
export function generateProgram(count: number): string {
  const r = prng(0x5eed);
  const out: string[] = [
    '/* Generated by tools/bench/startup.ts: a large program for start-up measurements. */',
    '#include <stdint.h>',
    '#include <stdio.h>',
    '#include <stdlib.h>',
    '#define MASK 4095',
    'typedef int32_t (*fn_t)(int32_t *, int32_t, int32_t);',
  ];
  for (let i = 0; i < count; i++) {
    const body: string[] = [];
    const n = 2 + r(9);
    for (let j = 0; j < n; j++) body.push(`    ${statement(r, i)}`);
    out.push(
      `__attribute__((noinline)) int32_t f${i}(int32_t *m, int32_t n, int32_t a) {`,
      `  int32_t s = a ^ ${r(1 << 30)}; int64_t w = ${r(1 << 30)}LL; double d = ${r(1000)}.5; float f = ${r(100)}.25f;`,
      '  for (int32_t i = 0; i < n; i++) {',
      `    int32_t x = m[(i * ${r(4096) | 1} + a) & MASK];`,
      ...body,
      '  }',
      '  return s ^ (int32_t)w ^ (int32_t)d ^ (int32_t)f;',
      '}',
    );
  }
  out.push(`static const fn_t table[${count}] = {`);
  for (let i = 0; i < count; i += 16) {
    out.push('  ' + Array.from({ length: Math.min(16, count - i) }, (_, j) => `f${i + j},`).join(' '));
  }
  out.push(
    '};',
    'int main(int argc, char **argv) {',
    '  printf("started\\n");',
    '  fflush(stdout);',
    '  int32_t *m = calloc(MASK + 1, sizeof(int32_t));',
    '  if (!m) return 1;',
    '  for (int32_t i = 0; i <= MASK; i++) m[i] = i * 2654435761u;',
    '  int32_t s = argc;',
    `  for (int32_t k = 0; k < 16; k++) s ^= table[(uint32_t)(s + k * 7919) % ${count}](m, 8, s);`,
    '  printf("checksum %08x\\n", (unsigned)s);',
    '  return 0;',
    '}',
  );
  return out.join('\n') + '\n';
}

/** Builds the generated program (once: cached by content) and returns its path. */
function buildProgram(count: number): string {
  const source = generateProgram(count);
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), 'wasmig-startup-bench');
  const wasm = join(dir, `big-${count}-${hash}.wasm`);
  if (existsSync(wasm)) return wasm;
  mkdirSync(dir, { recursive: true });
  const c = join(dir, `big-${count}-${hash}.c`);
  writeFileSync(c, source);
  process.stderr.write(`building ${count} functions with clang (once; cached in ${dir}) ...\n`);
  const r = spawnSync('clang', ['--target=wasm32-wasi', '--sysroot=/usr', '-O2', '-Wl,--strip-debug', '-o', wasm, c], { stdio: 'inherit' });
  if (r.error !== undefined || r.status !== 0) {
    throw new Error('clang failed: install clang, lld, wasi-libc and libclang-rt-14-dev-wasm32 (see tools/build-test-programs.sh), or pass --module PROG.wasm');
  }
  return wasm;
}

// ---------------------------------------------------------------------------
// Measuring.

const ms = (x: number): string => `${x.toFixed(1)} ms`;

interface Launch {
  /** Spawn to the first byte on stdout (NaN when nothing was printed). */
  firstOutput: number;
  /** Spawn to exit. */
  exit: number;
}

/** Spawns `argv` and times its first stdout byte and its exit. */
function launch(argv: readonly string[], env?: NodeJS.ProcessEnv): Promise<Launch> {
  return new Promise((done, reject) => {
    const t0 = performance.now();
    const child = spawn(argv[0]!, argv.slice(1), { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let firstOutput = NaN;
    let stderr = '';
    child.stdout.on('data', () => {
      if (Number.isNaN(firstOutput)) firstOutput = performance.now() - t0;
    });
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (status) => {
      if (status !== 0) reject(new Error(`${argv.join(' ')} exited with ${status}: ${stderr}`));
      else done({ firstOutput, exit: performance.now() - t0 });
    });
  });
}

async function launches(argv: readonly string[], runs: number): Promise<{ firstOutput: number; exit: number }> {
  await launch(argv); // warms the file cache
  const samples: Launch[] = [];
  for (let i = 0; i < runs; i++) samples.push(await launch(argv));
  return { firstOutput: median(samples.map((s) => s.firstOutput)), exit: median(samples.map((s) => s.exit)) };
}

interface LoadTimes {
  decode: number;
  validate: number;
  compile: number;
  fast: number;
}

/** One decode, validation, compile and fast translation of `bytes`, in this process. */
function loadOnce(bytes: Uint8Array, validateToo: boolean): LoadTimes {
  const t0 = performance.now();
  const module = decodeModule(bytes);
  const t1 = performance.now();
  let validate = NaN;
  if (validateToo) {
    validateModule(module, { functions: true });
    validate = performance.now() - t1;
  }
  const t2 = performance.now();
  const compiled = compileModule(module);
  const t3 = performance.now();
  const sigs = callSignatures(compiled.context);
  for (const fn of compiled.functions) translateFast(fn, sigs);
  const t4 = performance.now();
  return { decode: t1 - t0, validate, compile: t3 - t2, fast: t4 - t3 };
}

/** Child mode: the first (cold) load in a fresh process, as JSON on stdout. */
function childCold(path: string): void {
  const bytes = new Uint8Array(readFileSync(path));
  process.stdout.write(JSON.stringify(loadOnce(bytes, false)));
}

function coldLoad(path: string): LoadTimes {
  const r = spawnSync(process.execPath, [tsx, self, '--child-cold', path], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cold load failed: ${r.stderr}`);
  const t = JSON.parse(r.stdout) as { [K in keyof LoadTimes]: number | null };
  // JSON has no NaN: a phase not measured comes back as null.
  return { decode: t.decode ?? NaN, validate: t.validate ?? NaN, compile: t.compile ?? NaN, fast: t.fast ?? NaN };
}

function medianTimes(samples: readonly LoadTimes[]): LoadTimes {
  return {
    decode: median(samples.map((s) => s.decode)),
    validate: median(samples.map((s) => s.validate)),
    compile: median(samples.map((s) => s.compile)),
    fast: median(samples.map((s) => s.fast)),
  };
}

function reportLoad(label: string, t: LoadTimes): void {
  const validate = Number.isNaN(t.validate) ? '' : `, validate alone ${ms(t.validate)}`;
  console.log(
    `  ${label}: decode ${ms(t.decode)}${validate}, compile (validate; translation lazy) ${ms(t.compile)}` +
      ` => decode + validate + compile ${ms(t.decode + t.compile)}; lazy translation of every body ${ms(t.fast)}` +
      ` (eager total ${ms(t.decode + t.compile + t.fast)})`,
  );
}

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

// ---------------------------------------------------------------------------
// The disk cache of rewritten modules, against Node's own engine.

const TIME = '/usr/bin/time';

/** Wall time to exit, and the child's CPU time (NaN without /usr/bin/time). */
async function timed(argv: readonly string[], env: NodeJS.ProcessEnv, scratch: string): Promise<{ wall: number; cpu: number }> {
  const out = join(scratch, 'time.txt');
  const withTime = existsSync(TIME) ? [TIME, '-o', out, '-f', '%U %S', ...argv] : argv;
  const { exit } = await launch(withTime, env);
  if (!existsSync(TIME)) return { wall: exit, cpu: NaN };
  const [user, sys] = readFileSync(out, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
  return { wall: exit, cpu: (user! + sys!) * 1000 };
}

const spread = (xs: readonly number[]): string => `${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)}`;
const load = (): string => loadavg().map((x) => x.toFixed(1)).join(' ');

async function cacheComparison(path: string, runs: number): Promise<void> {
  const bin = join(root, 'bin/wasmig.js');
  if (!existsSync(join(root, 'dist/cli/main.js'))) {
    console.log('disk cache: dist/ is missing: run `npm run build` first');
    return;
  }
  const scratch = mkdtempSync(join(tmpdir(), 'wasmig-startup-cache-'));
  const env = { ...process.env, WASMIG_CACHE_DIR: join(scratch, 'cache') };
  const rows: [string, string[]][] = [
    ['node:wasi (V8, unmodified module)', [process.execPath, ...nodeWasiArgs(path)]],
    // The default tier with no pause option: the module as it is (plain), its bodies'
    // validation facts cached after the first start.
    ['wasmig run --no-cache', [process.execPath, bin, 'run', '--no-cache', path]],
    ['wasmig run, cached', [process.execPath, bin, 'run', path]],
    ['wasmig run --tier native --no-cache', [process.execPath, bin, 'run', '--tier', 'native', '--no-cache', path]],
    ['wasmig run --tier native, cached', [process.execPath, bin, 'run', '--tier', 'native', path]],
  ];
  // --first-only: node:wasi and the first starts (--no-cache) alone.
  if (process.argv.includes('--first-only')) for (let i = rows.length - 1; i > 0; i--) if (!rows[i]![1].includes('--no-cache')) rows.splice(i, 1);
  // --baseline DIR: each wasmig row run by another checkout's build too (its `npm run build`
  // done), in the same interleaved rounds: a change and the code before it side by side.
  const baseline = option('baseline');
  if (baseline !== undefined) {
    const other = join(resolve(baseline), 'bin/wasmig.js');
    if (!existsSync(other)) throw new Error(`--baseline ${baseline}: no bin/wasmig.js there`);
    for (let i = rows.length - 1; i > 0; i--) {
      const [name, argv] = rows[i]!;
      rows.splice(i + 1, 0, [`${name} [baseline]`, argv.map((a) => (a === bin ? other : a))]);
    }
  }
  try {
    // Fills the cache, and the file cache, once.
    for (let i = 0; i < rows.length; i++) await launch(rows[i]![1], env);
    const before = load();
    const samples = rows.map(() => ({ wall: [] as number[], cpu: [] as number[] }));
    // Interleaved rounds: whatever the machine does meanwhile falls on every row alike.
    for (let r = 0; r < runs; r++) {
      for (let i = 0; i < rows.length; i++) {
        const t = await timed(rows[i]![1], env, scratch);
        samples[i]!.wall.push(t.wall);
        samples[i]!.cpu.push(t.cpu);
      }
    }
    console.log(`disk cache: spawn to exit, median of ${runs} interleaved rounds (min-max), ratio of medians to node:wasi; load average ${before} before, ${load()} after:`);
    const nodeWall = median(samples[0]!.wall);
    const nodeCpu = median(samples[0]!.cpu);
    for (let i = 0; i < rows.length; i++) {
      const { wall, cpu } = samples[i]!;
      const cpuText = Number.isNaN(nodeCpu) ? '' : `   CPU ${median(cpu).toFixed(0).padStart(5)} ms (${spread(cpu)})  x${(median(cpu) / nodeCpu).toFixed(2)}`;
      console.log(`  ${rows[i]![0].padEnd(49)} wall ${median(wall).toFixed(0).padStart(5)} ms (${spread(wall)})  x${(median(wall) / nodeWall).toFixed(2)}${cpuText}`);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const cold = option('child-cold');
  if (cold !== undefined) {
    childCold(cold);
    return;
  }
  const runs = Number(option('runs') ?? 7);
  const path = option('module') ?? buildProgram(Number(option('functions') ?? 2300));
  const bytes = new Uint8Array(readFileSync(path));
  const module = decodeModule(bytes);
  let code = 0;
  for (const c of module.codes) code += c.codeEnd - c.codeStart;
  console.log(`${path}: ${bytes.length} bytes, ${module.codes.length} functions, ${code} bytes of code; median of ${runs} runs`);
  if (process.argv.includes('--cache-only')) {
    await cacheComparison(path, runs);
    return;
  }

  console.log('loading the module:');
  reportLoad('fresh process (cold JIT, what `wasmig run` pays)', medianTimes(Array.from({ length: runs }, () => coldLoad(path))));
  const warm: LoadTimes[] = [];
  for (let i = 0; i < runs + 2; i++) warm.push(loadOnce(bytes, true));
  reportLoad('warm, in one process', medianTimes(warm.slice(2)));

  console.log('start-up, spawn to the first byte of stdout (and to exit):');
  const dist = join(root, 'dist/cli/main.js');
  const rows: [string, string[]][] = [['node -e 0 (Node alone)', [process.execPath, '-e', '0']]];
  if (existsSync(dist)) {
    // --no-cache: these rows measure a first start (the disk cache has its own, below).
    rows.push(['node bin/wasmig.js run hello.wasm', [process.execPath, 'bin/wasmig.js', 'run', '--no-cache', 'test/programs/hello.wasm']]);
    rows.push(['node bin/wasmig.js run 1 MB', [process.execPath, 'bin/wasmig.js', 'run', '--no-cache', path]]);
    // The default tier (auto) rewrites the whole module for V8 first; the interpreter does not.
    rows.push(['node bin/wasmig.js run --tier interp 1 MB', [process.execPath, 'bin/wasmig.js', 'run', '--tier', 'interp', path]]);
  } else {
    console.log('  (dist/ is missing: run `npm run build` to measure the built CLI)');
  }
  rows.push(['tsx src/cli/main.ts run 1 MB', [process.execPath, tsx, 'src/cli/main.ts', 'run', '--no-cache', path]]);
  for (const [label, argv] of rows) {
    const t = await launches(argv, runs);
    const first = Number.isNaN(t.firstOutput) ? 'no output' : ms(t.firstOutput);
    console.log(`  ${label.padEnd(42)} ${first.padStart(10)}  (exit ${ms(t.exit)})`);
  }
  await cacheComparison(path, runs);
}

if (process.argv[1] === self) await main();
