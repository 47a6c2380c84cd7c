// Worker side of run-wasmig.ts: loads the TypeScript sources through tsx (a worker does
// not inherit the parent's loader), runs one module and posts the outcome. Does nothing
// when merely imported, as a test runner scanning test/ may do (and it may load this file
// as CommonJS: hence no top-level await).
import { isMainThread, parentPort, workerData } from 'node:worker_threads';

async function main() {
  try {
    const { register } = await import('tsx/esm/api');
    register();
    const { runInThisThread } = await import(new URL('./run-wasmig.ts', import.meta.url).href);
    const result = await runInThisThread(workerData.wasmPath, workerData.options);
    parentPort.postMessage({ ok: true, result });
  } catch (err) {
    parentPort.postMessage({ ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  }
}

if (!isMainThread && workerData?.wasmigWasiRun === true) void main();
