// Child-process side of node-wasi-reference.ts: runs one WASI preview1 module
// under Node's own engine (V8) with node:wasi.  Plain JavaScript so that a bare
// `node` can run it without a TypeScript loader.
//
// argv[2]: JSON { wasm, args, env, preopens, stackSizeMb }.  The module runs in
// a worker thread, because only a worker's stack size can be raised safely
// (deep-recursion programs overflow the main thread's default V8 stack); its
// stdin, stdout and stderr are still this process's fds 0, 1 and 2, which
// node:wasi uses directly.  The outcome is written as one JSON object to fd 3,
// a pipe the parent opened:
//   { kind: 'exit', status }        the module returned from _start or called proc_exit
//   { kind: 'trap', message }       a WebAssembly.RuntimeError, or V8's stack overflow
//   { kind: 'error', message }      anything else (bad module, bad options)
import { readFileSync, writeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

async function runModule(config) {
  try {
    // Imported here, not at the top, so that merely importing this file loads nothing.
    const { WASI } = await import('node:wasi');
    const wasi = new WASI({
      version: 'preview1',
      args: config.args,
      env: config.env,
      preopens: config.preopens,
      returnOnExit: true,
    });
    const module = await WebAssembly.compile(readFileSync(config.wasm));
    const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
    const status = wasi.start(instance);
    return { kind: 'exit', status };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const isTrap =
      err instanceof WebAssembly.RuntimeError ||
      (err instanceof RangeError && /call stack/i.test(message));
    return { kind: isTrap ? 'trap' : 'error', message };
  }
}

// Does nothing when merely imported (a test runner scanning test/ may do so).
const isEntry = isMainThread && process.argv[1] === fileURLToPath(import.meta.url);
const isOurWorker = !isMainThread && workerData?.wasmigNodeWasi === true;

if (isEntry) {
  const config = JSON.parse(process.argv[2]);
  const worker = new Worker(new URL(import.meta.url), {
    workerData: { ...config, wasmigNodeWasi: true },
    resourceLimits: { stackSizeMb: config.stackSizeMb ?? 64 },
    stdin: false,
    stdout: false,
    stderr: false,
  });
  let outcome = { kind: 'error', message: 'the worker ended without an outcome' };
  worker.on('message', (m) => {
    outcome = m;
  });
  worker.on('error', (err) => {
    outcome = { kind: 'error', message: err instanceof Error ? err.message : String(err) };
  });
  worker.on('exit', () => {
    writeSync(3, JSON.stringify(outcome));
  });
} else if (isOurWorker) {
  parentPort.postMessage(await runModule(workerData));
}
