/**
 * The child process of `wasmig bench` for the engines that live in Node: one process
 * per session, so that engines do not share a heap, a JIT or a garbage collector.
 *
 *   node child.ts ENGINE MODULE.wasm [ARGS...]
 *     one run: the program's own output goes to this process's stdout; the exit status
 *     is the program's
 *   node child.ts --session OPTIONS_JSON ENGINE MODULE.wasm
 *     a warm-up session (session.ts): CoreMark runs in this process until the engine is
 *     warm, then the timed run; the programs' output is kept and read here; prints one
 *     line, `SESSION ` and the `SessionResult` as JSON
 *
 * ENGINE is `interp`, `native` or `v8`. A failure is one line on stderr and status 70
 * (134 after a trap, as `wasmig run`).
 */
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { CompiledModule } from '../compile/index.ts';
import { Trap } from '../errors/index.ts';
import { loadModuleFile, Program } from '../program/index.ts';
import { runNative } from './native-engine.ts';
import { coremarkArgs, parseReport } from './report.ts';
import { runSession } from './session.ts';
import type { SessionOptions, SessionRun } from './session.ts';

/** Our interpreter: the same path as `wasmig run --tier interp`. */
function runInterp(wasm: string, args: readonly string[]): number {
  const program = Program.instantiate(loadModuleFile(wasm), { args: [basename(wasm), ...args] });
  program.start('_start');
  for (;;) {
    const outcome = program.run({ budget: 1e9 });
    if (outcome.kind === 'exited') return outcome.status;
    if (outcome.kind === 'returned') return 0;
  }
}

/** The unmodified module on Node's own engine through node:wasi. */
async function runV8(wasm: string, args: readonly string[]): Promise<number> {
  // node:wasi warns that it is experimental; keep stderr for real failures.
  process.removeAllListeners('warning');
  const { WASI } = await import('node:wasi');
  const wasi = new WASI({ version: 'preview1', args: [basename(wasm), ...args], env: {}, returnOnExit: true });
  const module = await WebAssembly.compile(readFileSync(wasm));
  const instance = await WebAssembly.instantiate(module, wasi.getImportObject() as WebAssembly.Imports);
  return wasi.start(instance) ?? 0;
}

/** Runs a program on a fresh instance to its end, with its output kept; returns the output and exit status. */
function runKept(compiled: CompiledModule, args: readonly string[], tier: 'interp' | 'native'): { text: string; status: number } {
  const chunks: Uint8Array[] = [];
  const keep = (data: Uint8Array): void => { chunks.push(data.slice()); };
  const program = Program.instantiate(compiled, { args: ['coremark.wasm', ...args], tier, stdout: keep, stderr: keep });
  program.start('_start');
  let status = 0;
  for (;;) {
    const outcome = program.run({ budget: 1e9 });
    if (outcome.kind === 'exited') status = outcome.status;
    if (outcome.kind === 'exited' || outcome.kind === 'returned') break;
  }
  return { text: Buffer.concat(chunks).toString('utf8'), status };
}

/**
 * `runOnce` for a session on `engine`: every run a fresh instance of one module. V8's
 * compiled module is made once (its optimized code is what warms up); node:wasi writes
 * to a file descriptor, so its output goes through a temporary file.
 */
async function sessionRunner(engine: string, wasm: string): Promise<{ runOnce: (n: number) => Promise<SessionRun['report']>; close(): void }> {
  /**
   * The run's report. A build that prints no time (no clock) gets the run's wall time, as
   * in a separate process; an exit status other than 0 is said with the report's problem.
   */
  const report = ({ text, status }: { text: string; status: number }, since: number): SessionRun['report'] => {
    const wall = (performance.now() - since) / 1000;
    const { iterations, seconds, iterationsPerSec, validated, problem } = parseReport(text);
    const s = seconds !== undefined && seconds > 0 ? seconds : wall;
    const problems = [problem, status === 0 ? undefined : `exit status ${status}`].filter(Boolean).join('; ');
    return { iterations, seconds: s, iterationsPerSec: iterationsPerSec ?? (iterations === undefined ? undefined : iterations / s), validated, problem: problems || undefined };
  };
  if (engine === 'interp' || engine === 'native') {
    const compiled = loadModuleFile(wasm);
    return {
      async runOnce(n) {
        const since = performance.now();
        return report(runKept(compiled, coremarkArgs(n), engine), since);
      },
      close() {},
    };
  }
  if (engine !== 'v8') throw new Error(`unknown engine ${JSON.stringify(engine)}`);
  process.removeAllListeners('warning');
  const { WASI } = await import('node:wasi');
  const module = await WebAssembly.compile(readFileSync(wasm));
  const dir = mkdtempSync(join(tmpdir(), 'wasmig-bench-'));
  let count = 0;
  return {
    async runOnce(n) {
      const file = join(dir, `out-${count++}.txt`);
      const fd = openSync(file, 'w+');
      const since = performance.now();
      let status = 0;
      try {
        const wasi = new WASI({ version: 'preview1', args: [basename(wasm), ...coremarkArgs(n)], env: {}, returnOnExit: true, stdout: fd, stderr: fd });
        const instance = await WebAssembly.instantiate(module, wasi.getImportObject() as WebAssembly.Imports);
        status = wasi.start(instance) ?? 0;
      } finally {
        closeSync(fd);
      }
      const text = readFileSync(file, 'utf8');
      rmSync(file, { force: true });
      return report({ text, status }, since);
    },
    close: () => rmSync(dir, { recursive: true, force: true }),
  };
}

async function sessionMain(optionsJson: string, engine: string, wasm: string): Promise<number> {
  const options = JSON.parse(optionsJson) as SessionOptions;
  const runner = await sessionRunner(engine, wasm);
  try {
    const result = await runSession(runner.runOnce, options);
    process.stdout.write(`SESSION ${JSON.stringify(result)}\n`);
    return 0;
  } finally {
    runner.close();
  }
}

async function childMain(argv: readonly string[]): Promise<number> {
  const [engine, wasm, ...args] = argv;
  try {
    if (engine === '--session') return await sessionMain(wasm, args[0], args[1]);
    switch (engine) {
      case 'interp': return runInterp(wasm, args);
      case 'v8': return await runV8(wasm, args);
      case 'native': return await runNative(loadModuleFile(wasm), args);
      default: throw new Error(`unknown engine ${JSON.stringify(engine)}`);
    }
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const trap = error instanceof Trap || error instanceof WebAssembly.RuntimeError;
    process.stderr.write(`${trap ? 'trap: ' : ''}${message}\n`);
    return trap ? 134 : 70;
  }
}

const invokedDirectly = process.argv[1] !== undefined && /[\\/]bench[\\/]child\.(ts|js)$/.test(process.argv[1]);
if (invokedDirectly) {
  childMain(process.argv.slice(2)).then((code) => { process.exitCode = code; });
}
