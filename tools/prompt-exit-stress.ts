/**
 * Runs `wasmig run` many times with the prompt exit (src/cli/prompt-exit.ts) and counts
 * the runs whose status or output differ from the ordinary exit's: the evidence for when
 * ending the process with `exit()` is safe.
 *
 *   npx tsx tools/prompt-exit-stress.ts [--runs N] [--parallel P] [--via built|tsx]
 *       [--case NAME]... [--env K=V]... [--cores DIR]
 *
 * Cases (all by default): `hello`, `exit_code` (status 7), `sqlite` (the workload of
 * tools/bench/build-sqlite.sh, rewrite cached), `sqlite-nocache` (the rewriter's worker
 * path), `sqlite-native` and `sqlite-native-nocache` (`--tier native`), and `node-wasi`
 * (no wasmig: node:wasi runs the module unmodified and ends as the prompt exit does). `--via built`
 * runs `node bin/wasmig.js` (`npm run build` first); `--via tsx` runs the sources as the
 * tests do (test/helpers/cli.ts), under tsx's loader-hooks thread. Each case's expected
 * stdout, stderr and status come from one run with `WASMIG_PROMPT_EXIT=0` first; every
 * run is then compared byte for byte. Processes run with `ulimit -c unlimited` in a
 * directory of their own slot, so a crash's core file (core_pattern `core`) is kept as
 * DIR/core.CASE.RUN for gdb (`gdb -batch -ex 'thread apply all bt' node CORE`). The runs
 * go round the cases, P at a time; the load average is sampled every 50 runs.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const programs = join(root, 'test/programs');
const sqlite = '/tmp/wasmig-sqlite-bench/12.11.1/sqlite-workload.wasm';

function option(name: string): string[] {
  const out: string[] = [];
  for (let i = 2; i < process.argv.length; i++) if (process.argv[i] === name && i + 1 < process.argv.length) out.push(process.argv[++i]);
  return out;
}
const runs = Number(option('--runs')[0] ?? 200);
const parallel = Number(option('--parallel')[0] ?? 4);
const via = option('--via')[0] ?? 'built';
const coreDir = resolve(option('--cores')[0] ?? join(tmpdir(), 'wasmig-stress-cores'));
const extraEnv = Object.fromEntries(option('--env').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));

/** `node`: not wasmig but Node alone (the script below), given `args`. */
interface Case { name: string; args: string[]; node?: true; env?: NodeJS.ProcessEnv }
const CASES: Case[] = [
  { name: 'hello', args: ['run', join(programs, 'hello.wasm')] },
  { name: 'exit_code', args: ['run', join(programs, 'exit_code.wasm'), '7'] },
  { name: 'sqlite', args: ['run', sqlite] },
  { name: 'sqlite-nocache', args: ['run', '--no-cache', sqlite] },
  { name: 'sqlite-native', args: ['run', '--tier', 'native', sqlite] },
  { name: 'sqlite-native-nocache', args: ['run', '--tier', 'native', '--no-cache', sqlite] },
  { name: 'node-wasi', args: [sqlite], node: true },
  // The experiment of prompt-exit.ts's primeTurboFanTracePoints.
  { name: 'sqlite-primed', args: ['run', sqlite], env: { WASMIG_PROMPT_EXIT_PRIME: '1' } },
];
const picked = option('--case');
const cases = picked.length === 0 ? CASES : CASES.filter((c) => picked.includes(c.name));
if (cases.length === 0) throw new Error(`no such case: ${picked.join(', ')}`);

const command = via === 'tsx'
  ? [process.execPath, join(root, 'node_modules/tsx/dist/cli.mjs'), join(root, 'src/cli/main.ts')]
  : [process.execPath, join(root, 'bin/wasmig.js')];
const cache = mkdtempSync(join(tmpdir(), 'wasmig-stress-cache-'));
mkdirSync(coreDir, { recursive: true });

// Case `node-wasi`: node:wasi runs the module unmodified, then the process ends as the
// prompt exit ends it (proc_exit of a second WASI instance, returnOnExit: false), or,
// with WASMIG_PROMPT_EXIT=0, the ordinary way: the same exit() with no wasmig code and
// no Worker, whose background compilation has drained by then far more often.
const nodeChild = join(cache, 'node-wasi.mjs');
writeFileSync(nodeChild, `
import { readFileSync } from 'node:fs';
import { WASI } from 'node:wasi';
const wasi = new WASI({ version: 'preview1', args: ['prog'], returnOnExit: true });
const instance = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(process.argv[2])), wasi.getImportObject());
const status = wasi.start(instance);
if (process.env.WASMIG_PROMPT_EXIT === '1') {
  const exiter = new WASI({ version: 'preview1', returnOnExit: false });
  const exit = new WebAssembly.Instance(new WebAssembly.Module(new Uint8Array(${JSON.stringify([...exitModuleBytes()])})), exiter.getImportObject());
  exiter.initialize(exit);
  exit.exports.exit(status);
}
process.exitCode = status;
`);

/** The prompt exit's module (prompt-exit.ts): one function that calls proc_exit. */
function exitModuleBytes(): Uint8Array {
  const name = (s: string): number[] => [s.length, ...Buffer.from(s)];
  const section = (id: number, body: number[]): number[] => [id, body.length, ...body];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 1, 0x7f, 0]),
    ...section(2, [1, ...name('wasi_snapshot_preview1'), ...name('proc_exit'), 0x00, 0]),
    ...section(3, [1, 0]),
    ...section(5, [1, 0x00, 0]),
    ...section(7, [2, ...name('memory'), 0x02, 0, ...name('exit'), 0x00, 1]),
    ...section(10, [1, 6, 0, 0x20, 0, 0x10, 0, 0x0b]),
  ]);
}

interface Outcome { status: number | null; signal: string | null; stdout: Buffer; stderr: Buffer }
function runOnce(c: Case, env: NodeJS.ProcessEnv, cwd: string): Promise<Outcome> {
  const argv = [...(c.node ? [process.execPath, '--no-warnings', nodeChild] : command), ...c.args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  return new Promise((done) => {
    const child = spawn('/bin/sh', ['-c', `ulimit -c unlimited; exec ${argv}`], { cwd, env: { ...process.env, WASMIG_CACHE_DIR: cache, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('close', (status, signal) => done({ status, signal, stdout: Buffer.concat(out), stderr: Buffer.concat(err) }));
  });
}

// Expected outcomes, from the ordinary exit (this also fills the cache for the cached cases).
const expected = new Map<string, Outcome>();
for (const c of cases) {
  const r = await runOnce(c, { ...c.env, ...extraEnv, WASMIG_PROMPT_EXIT: '0' }, root);
  const again = await runOnce(c, { ...c.env, ...extraEnv, WASMIG_PROMPT_EXIT: '0' }, root);
  if (r.status !== again.status || !r.stdout.equals(again.stdout) || !r.stderr.equals(again.stderr)) throw new Error(`${c.name}: the ordinary exit is not deterministic`);
  expected.set(c.name, r);
  console.log(`${c.name}: expected status ${r.status}, ${r.stdout.length} bytes of stdout, ${r.stderr.length} of stderr`);
}

const tally = new Map<string, { runs: number; bad: Map<string, number> }>();
for (const c of cases) tally.set(c.name, { runs: 0, bad: new Map() });
const loads: number[] = [];
let next = 0;
const started = Date.now();
async function slot(k: number): Promise<void> {
  const cwd = join(coreDir, `slot-${process.pid}-${k}`);
  mkdirSync(cwd, { recursive: true });
  for (;;) {
    const i = next++;
    if (i >= runs) return;
    const c = cases[i % cases.length];
    const r = await runOnce(c, { ...c.env, WASMIG_PROMPT_EXIT: '1', ...extraEnv }, cwd);
    if (i % 50 === 0) loads.push(loadavg()[0]);
    const want = expected.get(c.name)!;
    const t = tally.get(c.name)!;
    t.runs++;
    let what = '';
    if (r.status !== want.status) what = `status ${r.status ?? `signal ${r.signal}`}`;
    else if (!r.stdout.equals(want.stdout)) what = `stdout differs (${r.stdout.length} bytes)`;
    else if (!r.stderr.equals(want.stderr)) what = `stderr differs: ${JSON.stringify(r.stderr.toString('utf8').slice(0, 200))}`;
    if (what !== '') {
      t.bad.set(what, (t.bad.get(what) ?? 0) + 1);
      const core = join(cwd, 'core');
      let kept = '';
      if (existsSync(core)) { kept = join(coreDir, `core.${c.name}.${i}`); renameSync(core, kept); }
      console.log(`run ${i} ${c.name}: ${what}${kept === '' ? '' : `, core ${kept}`}; stderr ${JSON.stringify(r.stderr.toString('utf8').slice(-300))}`);
    }
  }
}
await Promise.all(Array.from({ length: parallel }, (_, k) => slot(k)));
rmSync(cache, { recursive: true, force: true });

console.log(`\n${runs} runs via ${via}, ${parallel} at a time, ${((Date.now() - started) / 1000).toFixed(0)} s, load ${Math.min(...loads).toFixed(1)}-${Math.max(...loads).toFixed(1)}; env ${JSON.stringify(extraEnv)}`);
for (const [name, t] of tally) {
  const bad = [...t.bad].map(([w, n]) => `${n} × ${w}`).join('; ');
  console.log(`  ${name}: ${t.runs} runs, ${bad === '' ? 'all as expected' : bad}`);
}
