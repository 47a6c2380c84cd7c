/**
 * Runs a WASI command module under Node's own WebAssembly engine with wasmig's WasiHost
 * as its imports. stdin, stdout and stderr are temp files handed to the host as fds
 * (WasiOptions.stdin/stdout/stderr), so the output is captured byte for byte; the result
 * has the shape test/helpers/node-wasi-reference.ts returns.
 *
 * {@link runWithWasmig} runs the module in a worker thread with a 64 MiB stack (deeply
 * recursive programs overflow the main thread's), as the node:wasi reference does;
 * {@link runInThisThread} is the body that worker runs.
 */
import * as fs from 'node:fs';
import { Worker } from 'node:worker_threads';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ExitError } from '../../../src/errors/index.ts';
import { WasiHost } from '../../../src/wasi/index.ts';

export interface WasmigRunOptions {
  args: string[];
  env?: Record<string, string>;
  preopens?: { host: string; guest: string }[];
  stdin?: string | Uint8Array;
}

export interface WasmigRunResult {
  stdout: Buffer;
  stderr: Buffer;
  /** proc_exit status, 0 when _start returned, 134 on a trap. */
  status: number;
  trap: string | undefined;
}

const compiled = new Map<string, WebAssembly.Module>();

async function compile(wasmPath: string): Promise<WebAssembly.Module> {
  let module = compiled.get(wasmPath);
  if (module === undefined) {
    module = await WebAssembly.compile(fs.readFileSync(wasmPath));
    compiled.set(wasmPath, module);
  }
  return module;
}

/** Runs `_start` of the module at `wasmPath` in a worker with a large stack. */
export function runWithWasmig(wasmPath: string, options: WasmigRunOptions): Promise<WasmigRunResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./wasmig-worker.mjs', import.meta.url), {
      workerData: { wasmigWasiRun: true, wasmPath, options },
      resourceLimits: { stackSizeMb: 64 },
    });
    let result: WasmigRunResult | undefined;
    worker.on('message', (m: { ok: true; result: WasmigRunResult } | { ok: false; error: string }) => {
      if (m.ok) result = { ...m.result, stdout: Buffer.from(m.result.stdout), stderr: Buffer.from(m.result.stderr) };
      else reject(new Error(`wasmig run of ${wasmPath} failed: ${m.error}`));
    });
    worker.on('error', reject);
    worker.on('exit', () => (result ? resolve(result) : reject(new Error(`wasmig worker for ${wasmPath} gave no result`))));
  });
}

/** Runs `_start` of the module at `wasmPath` on the calling thread. */
export async function runInThisThread(wasmPath: string, options: WasmigRunOptions): Promise<WasmigRunResult> {
  const scratch = fs.mkdtempSync(path.join(tmpdir(), 'wasmig-wasi-run-'));
  const stdinPath = path.join(scratch, 'stdin');
  fs.writeFileSync(stdinPath, options.stdin ?? '');
  const stdin = fs.openSync(stdinPath, 'r');
  const stdout = fs.openSync(path.join(scratch, 'stdout'), 'w+');
  const stderr = fs.openSync(path.join(scratch, 'stderr'), 'w+');
  const host = new WasiHost({
    args: options.args,
    env: options.env ?? {},
    preopens: options.preopens ?? [],
    stdin,
    stdout,
    stderr,
  });
  let status = 0;
  let trap: string | undefined;
  try {
    const instance = await WebAssembly.instantiate(await compile(wasmPath), host.imports);
    host.bindMemory(instance.exports['memory'] as WebAssembly.Memory);
    try {
      (instance.exports['_start'] as () => void)();
    } catch (err) {
      if (err instanceof ExitError) status = err.status;
      else if (err instanceof WebAssembly.RuntimeError || (err instanceof RangeError && /call stack/i.test(err.message))) {
        status = 134;
        trap = err.message;
      } else throw err;
    }
  } finally {
    host.close();
    for (const fd of [stdin, stdout, stderr]) fs.closeSync(fd);
  }
  const result = {
    stdout: fs.readFileSync(path.join(scratch, 'stdout')),
    stderr: fs.readFileSync(path.join(scratch, 'stderr')),
    status,
    trap,
  };
  fs.rmSync(scratch, { recursive: true, force: true });
  return result;
}
