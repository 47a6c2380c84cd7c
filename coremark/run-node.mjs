// Runs a wasm32-wasi command module under Node's own engine (V8) with node:wasi.
// Usage: node coremark/run-node.mjs coremark/coremark.wasm [seed1 seed2 seed3 iterations]
// Output goes straight to this process's stdout/stderr; the exit code is the module's.
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import process from 'node:process';

// node:wasi prints an ExperimentalWarning when loaded; keep stderr clean.
process.removeAllListeners('warning');
const { WASI } = await import('node:wasi');

const [file, ...rest] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: node run-node.mjs MODULE.wasm [args...]\n');
  process.exit(2);
}

const wasi = new WASI({
  version: 'preview1',
  args: [basename(file), ...rest],
  env: {},
  returnOnExit: true,
});

const bytes = await readFile(file);
const module = await WebAssembly.compile(bytes);
const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
const code = wasi.start(instance);
process.exitCode = code ?? 0;
