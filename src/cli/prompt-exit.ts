/**
 * Ending the process as soon as `wasmig run` (or `resume`) is done.
 *
 * Why: V8 compiles hot WebAssembly functions again with its optimizing compiler
 * (TurboFan) on worker threads while the program runs, and Node's ordinary exit
 * (`process.exitCode`, `process.exit()`, the event loop running dry) joins those threads,
 * each finishing the whole queue of its job first (V8's compile job yields only when
 * cancelled, which nothing does at exit). On a short run of a large program that is
 * the longest part of its life: SQLite's workload ran 0.1 s natively, then waited
 * 0.2-0.5 s (1 s and more on a loaded machine) for code nobody would run; node:wasi
 * itself pays it for the unmodified module.
 *
 * How: Node's own WASI, told not to return on `proc_exit` (its documented
 * `returnOnExit: false`), ends the process with the C library's `exit()` (uvwasi's
 * `proc_exit`), which runs the `atexit` handlers (Node's restores the terminal) but not
 * Node's tear-down of its thread pool, so the compile threads go with the process. A
 * WASI program under node:wasi exits this way; the CLI borrows it through a module of
 * four instructions whose one function calls `proc_exit` with the status.
 *
 * What it must keep: every byte written (the program's output is written synchronously
 * by `wasi/io.ts`; the CLI's own lines through `process.stdout` and `process.stderr`
 * are drained first), the exit status, and the `exit` event, emitted as
 * `process.exit()` emits it (preloaded tools report there). What it skips: `beforeExit`
 * (the event loop is not run dry) and whatever Node writes at its tear-down, so it is
 * not used when the process was asked for such output: `--cpu-prof`, `--heap-prof`,
 * `--prof`, an inspector, trace events, coverage (`NODE_V8_COVERAGE`), diagnostic
 * reports.
 *
 * **Off unless `WASMIG_PROMPT_EXIT=1`, and not safe as a default: why, measured.**
 * `exit()` runs the process's static destructors while V8's worker threads go on
 * working. Among those destructors is Node's per-process tracing agent, which owns the
 * `TracingController` that V8 calls the first time a thread reaches each of its trace
 * points. Node's ordinary exit joins the worker threads before it destroys the agent
 * (that join is the very wait this file skips); `exit()` does not. The core of a crashed
 * run (status 139: the built CLI, SQLite's rewrite cached, no Worker alive, only V8's,
 * libuv's and the inspector's threads) shows a compile thread in TurboFan
 * (`Pipeline::GenerateCodeForWasmFunction`) calling through the freed controller to look
 * up the category "disabled-by-default-v8.wasm.turbofan", while the main thread was in
 * `exit()`'s `_dl_fini`. So the danger is a V8 background job still running at the
 * end, which is exactly what the prompt exit is for: on SQLite's cached start the
 * TurboFan compile of a hot function of 68 KB (250-300 ms of TurboFan on a quiet
 * machine) is in flight when the program ends, in every run
 * (`--trace-wasm-compilation-times`), and nothing the CLI can see tells when no job runs.
 * Counted with `tools/prompt-exit-stress.ts` (built CLI, 4 at a time, load 11-21): 1
 * SIGSEGV in 100 cached runs of SQLite, none in 500 others (hello, exit_code, SQLite
 * with `--no-cache` (the rewriter's worker), `--tier native` cached and not). node:wasi
 * on the unmodified module ends through the same `exit()` without a crash in 400 runs,
 * probably because its hundreds of earlier TurboFan compiles have looked every category
 * up already (V8 keeps the answer at each trace point), so a late compile calls nothing
 * freed; wasmig's cached start compiles two functions with TurboFan in all. A worker
 * thread alive (ours, stopped first since, or tsx's loader hooks in the tests) is one
 * more thread that can reach the freed agent; it is not needed for the crash. A right exit status is worth more than the 0.2-0.3 s this saves.
 */
import { createRequire } from 'node:module';
import { setFlagsFromString } from 'node:v8';
import { ByteWriter } from '../binary/index.ts';

/** Options of Node (in `execArgv` or `NODE_OPTIONS`) whose output is written at its ordinary exit. */
const WRITES_AT_EXIT = /^--(cpu-prof|heap-prof|prof\b|prof-process|inspect|debug|trace-event|experimental-test-coverage|report-on|heapsnapshot)/;

/**
 * Whether the process may end at once after its command (see the file's comment):
 * nothing it was started with expects Node's ordinary tear-down.
 * @param execArgv Node's own options of the process
 * @param env its environment
 */
export function promptExitAllowed(execArgv: readonly string[] = process.execArgv, env: NodeJS.ProcessEnv = process.env): boolean {
  // Asked for only: exit() with other threads alive can crash the process (below).
  if (env.WASMIG_PROMPT_EXIT !== '1') return false;
  if (env.NODE_V8_COVERAGE !== undefined && env.NODE_V8_COVERAGE !== '') return false;
  const nodeOptions = (env.NODE_OPTIONS ?? '').split(/\s+/).filter((o) => o !== '');
  return ![...execArgv, ...nodeOptions].some((o) => WRITES_AT_EXIT.test(o));
}

/** Resolves once everything written to `stream` so far has reached its file descriptor. */
function drained(stream: NodeJS.WriteStream): Promise<void> {
  // Pipes, files and terminals are written synchronously on Linux, so this is mostly 0;
  // elsewhere (pipes on macOS) a write's callback comes after every earlier write's.
  if (stream.writableLength === 0 || stream.destroyed) return Promise.resolve();
  return new Promise((resolve) => stream.write('', () => resolve()));
}

/**
 * `(module (import "wasi_snapshot_preview1" "proc_exit" (func (param i32)))
 *  (memory (export "memory") 0) (func (export "exit") (param i32) local.get 0 call 0))`;
 * node:wasi wants a `memory` export before it lets a module call it.
 */
function exitModule(): Uint8Array<ArrayBuffer> {
  const W = (): ByteWriter => new ByteWriter();
  return new ByteWriter()
    .raw([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00])
    .section(1, W().u32(1).u8(0x60).u32(1).u8(0x7f).u32(0))
    .section(2, W().u32(1).name('wasi_snapshot_preview1').name('proc_exit').u8(0x00).u32(0))
    .section(3, W().u32(1).u32(0))
    .section(5, W().u32(1).u8(0x00).u32(0))
    .section(7, W().u32(2).name('memory').u8(0x02).u32(0).name('exit').u8(0x00).u32(1))
    .section(10, W().u32(1).u32(6).raw([0, 0x20, 0, 0x10, 0, 0x0b]))
    .toBytes() as Uint8Array<ArrayBuffer>;
}

/**
 * A function for TurboFan to compile once, reaching its trace points for WebAssembly:
 * (func $g (param i32) (result i32) local.get 0 i32.const 3 i32.mul) and an exported
 * `f (param $n i32) (result i64)` whose loop, up to $n, stores $g's result, loads,
 * adds and shifts i64s, converts to f64, takes a br_table and a select, and calls $g
 * through a table; one memory page, a table of two. Built with wat2wasm from that text.
 */
const PRIMING_MODULE = [0, 97, 115, 109, 1, 0, 0, 0, 1, 11, 2, 96, 1, 127, 1, 127, 96, 1, 127, 1, 126, 3, 3, 2, 0, 1, 4, 4, 1, 112, 0, 2, 5, 3, 1, 0, 1, 7, 5, 1, 1, 102, 0, 1, 9, 8, 1, 0, 65, 0, 11, 2, 0, 0, 10, 140, 1, 2, 7, 0, 32, 0, 65, 3, 108, 11, 129, 1, 3, 1, 127, 1, 126, 1, 124, 2, 64, 3, 64, 32, 1, 32, 0, 79, 13, 1, 32, 1, 65, 4, 108, 65, 255, 7, 113, 32, 1, 16, 0, 54, 2, 0, 32, 2, 65, 8, 40, 2, 0, 173, 124, 33, 2, 32, 2, 32, 2, 66, 7, 134, 133, 33, 2, 32, 3, 32, 1, 183, 160, 33, 3, 2, 64, 2, 64, 2, 64, 32, 1, 65, 3, 112, 14, 2, 2, 1, 0, 11, 32, 2, 66, 1, 124, 33, 2, 11, 32, 2, 66, 5, 32, 1, 69, 27, 33, 2, 11, 32, 1, 32, 1, 65, 1, 113, 17, 0, 0, 26, 32, 1, 65, 1, 106, 33, 1, 12, 0, 11, 11, 32, 2, 32, 3, 252, 6, 124, 11];

/**
 * Experiment (`WASMIG_PROMPT_EXIT_PRIME=1`, with the prompt exit): compiles a small
 * function with TurboFan on this thread before the program runs, so that V8 has looked
 * up the trace categories of TurboFan's WebAssembly pipeline (it keeps each answer at
 * its trace point) before a compile thread can do it for the first time after `exit()`
 * freed the tracing controller (see the file's comment). Liftoff is turned off for
 * this one compilation only (2-3 ms); `--no-liftoff` also turns dynamic tiering off,
 * so both are turned back on. Counted: 0 crashes in 400 cached SQLite starts, against
 * 3 in 400 unprimed (`tools/prompt-exit-stress.ts`); not enough, and not every trace
 * point (JavaScript's compiles, GC tasks), to make the prompt exit the default.
 */
export function primeTurboFanTracePoints(): void {
  setFlagsFromString('--no-liftoff');
  try {
    const instance = new WebAssembly.Instance(new WebAssembly.Module(new Uint8Array(PRIMING_MODULE)));
    (instance.exports.f as (n: number) => bigint)(4);
  } finally {
    setFlagsFromString('--liftoff');
    // Else every later function goes to TurboFan (seen with --trace-wasm-compilation-times).
    setFlagsFromString('--wasm-dynamic-tiering');
  }
}

/**
 * Ends the process with `status` once stdout and stderr are drained, without waiting
 * for V8's compile threads (see the file's comment). Returns only if that cannot be
 * done here (no node:wasi): the caller then exits the ordinary way.
 */
export async function exitPromptly(status: number): Promise<void> {
  await Promise.all([drained(process.stdout), drained(process.stderr)]);
  let exit: (status: number) => void;
  try {
    // Loaded here, not at the top: node:wasi announces itself with an ExperimentalWarning
    // on the next tick, a tick this process never reaches.
    const { WASI } = createRequire(import.meta.url)('node:wasi') as typeof import('node:wasi');
    const wasi = new WASI({ version: 'preview1', returnOnExit: false });
    const instance = new WebAssembly.Instance(new WebAssembly.Module(exitModule()), wasi.getImportObject() as WebAssembly.Imports);
    wasi.initialize(instance);
    exit = instance.exports.exit as (status: number) => void;
  } catch {
    return;
  }
  process.exitCode = status;
  process.emit('exit', status);
  exit(status);
}
