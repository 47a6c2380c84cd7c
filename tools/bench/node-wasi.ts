/**
 * The reference the benchmarks time wasmig against: a WASI module under node:wasi, V8 on
 * the unmodified module, in a child process of its own.
 * @module
 */

/** Its source, for `node -e`: argv[1] is the module, the rest the program's arguments. */
const NODE_WASI = `
const { WASI } = require('node:wasi');
const wasi = new WASI({ version: 'preview1', args: process.argv.slice(1), env: {}, returnOnExit: true });
const m = new WebAssembly.Module(require('node:fs').readFileSync(process.argv[1]));
process.exitCode = wasi.start(new WebAssembly.Instance(m, wasi.getImportObject()));
`;

/** Node's arguments (after its own path) that run `module` with `args` under node:wasi. */
export function nodeWasiArgs(module: string, args: readonly string[] = []): string[] {
  return ['--no-warnings', '-e', NODE_WASI, module, ...args];
}
