/**
 * The child process of `wasmig bench` for the engines that live in Node: one process
 * per run, so that engines do not share a heap, a JIT or a garbage collector.
 *
 *   node child.ts ENGINE MODULE.wasm [ARGS...]
 *
 * ENGINE is `interp`, `native` or `v8`. The program's own output goes to this process's
 * stdout; the exit status is the program's; a failure is one line on stderr and status
 * 70 (134 after a trap, as `wasmig run`).
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { Trap } from '../errors/index.ts';
import { loadModuleFile, Program } from '../program/index.ts';
import { runNative } from './native-engine.ts';

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

async function childMain(argv: readonly string[]): Promise<number> {
  const [engine, wasm, ...args] = argv;
  try {
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
