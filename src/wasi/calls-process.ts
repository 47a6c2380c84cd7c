import { ExitError } from '../errors/index.ts';
import { Errno, Signal } from './abi.ts';
import type { WasiContext } from './context.ts';
import { fail } from './errno.ts';
import { utf8 } from './memory.ts';
import { randomFill } from './system.ts';

/**
 * Process-level syscalls: argv, environment, clocks, randomness, exit, signals,
 * scheduling and sockets. Each function throws `WasiErrno` on failure; the import
 * wrappers turn that into the return value (0 on success).
 */

/** Writes a list of NUL-terminated strings: pointers at `ptrs` (u32 each), bytes at `buf`. */
function writeStringList(ctx: WasiContext, items: string[], ptrs: number, buf: number): void {
  const mem = ctx.memory;
  const encoded = items.map((s) => utf8(s));
  const total = encoded.reduce((n, e) => n + e.length + 1, 0);
  mem.check(ptrs, items.length * 4);
  mem.check(buf, total);
  let at = buf >>> 0;
  encoded.forEach((bytes, i) => {
    mem.setU32((ptrs >>> 0) + i * 4, at);
    mem.write(at, bytes);
    mem.setU8(at + bytes.length, 0);
    at += bytes.length + 1;
  });
}

/** Writes (count u32 @countPtr, total bytes incl. NULs u32 @sizePtr). */
function writeStringListSizes(ctx: WasiContext, items: string[], countPtr: number, sizePtr: number): void {
  const total = items.reduce((n, s) => n + utf8(s).length + 1, 0);
  ctx.memory.setU32(countPtr, items.length);
  ctx.memory.setU32(sizePtr, total);
}

function environStrings(ctx: WasiContext): string[] {
  return ctx.env.map(([k, v]) => `${k}=${v}`);
}

/** `args_get(argv: **u8, argv_buf: *u8)`: argv[i] pointers (u32) at argv, "arg\0" bytes at argv_buf. */
export function argsGet(ctx: WasiContext, argv: number, argvBuf: number): void {
  writeStringList(ctx, ctx.args, argv, argvBuf);
}

/** `args_sizes_get() -> (argc: u32 @r0, argv_buf_size: u32 @r1)`. */
export function argsSizesGet(ctx: WasiContext, countPtr: number, sizePtr: number): void {
  writeStringListSizes(ctx, ctx.args, countPtr, sizePtr);
}

/** `environ_get(environ: **u8, environ_buf: *u8)`: like args_get with "KEY=VALUE\0" strings. */
export function environGet(ctx: WasiContext, environ: number, environBuf: number): void {
  writeStringList(ctx, environStrings(ctx), environ, environBuf);
}

/** `environ_sizes_get() -> (count: u32 @r0, buf_size: u32 @r1)`. */
export function environSizesGet(ctx: WasiContext, countPtr: number, sizePtr: number): void {
  writeStringListSizes(ctx, environStrings(ctx), countPtr, sizePtr);
}

/** `clock_res_get(id: u32) -> (resolution: u64 @r0)`. */
export function clockResGet(ctx: WasiContext, id: number, resultPtr: number): void {
  ctx.memory.setU64(resultPtr, ctx.clocks.resolution(id >>> 0));
}

/** `clock_time_get(id: u32, precision: u64) -> (time: u64 @r0)`; precision is a hint we ignore. */
export function clockTimeGet(ctx: WasiContext, id: number, _precision: bigint, resultPtr: number): void {
  ctx.memory.setU64(resultPtr, ctx.clocks.now(id >>> 0));
}

/** `random_get(buf: *u8, len: u32)`: fills `len` bytes with cryptographic randomness. */
export function randomGet(ctx: WasiContext, buf: number, len: number): void {
  const view = ctx.memory.bytes(buf, len);
  // Neither Node's nor the browser's source fills views of a SharedArrayBuffer: fill a copy then.
  if (view.buffer instanceof ArrayBuffer) {
    randomFill(view);
  } else {
    const copy = new Uint8Array(view.length);
    randomFill(copy);
    view.set(copy);
  }
}

/** `proc_exit(code: u32)`: records the status and unwinds the guest with `ExitError`. */
export function procExit(ctx: WasiContext, code: number): never {
  const status = code >>> 0;
  ctx.exitCode = status;
  throw new ExitError(status);
}

/**
 * `proc_raise(sig: u8)`: signal 0 (none) succeeds and does nothing; any other signal is
 * ENOSYS. Delivering it for real would act on the embedding Node process (uvwasi does
 * that), and wasi-libc's raise() never calls this (it emulates signals itself).
 */
export function procRaise(_ctx: WasiContext, sig: number): void {
  const s = sig >>> 0;
  if (s > Signal.MAX) fail(Errno.INVAL);
  if (s !== Signal.NONE) fail(Errno.NOSYS);
}

/** `sched_yield()`: one guest thread per host: nothing to yield to. */
export function schedYield(_ctx: WasiContext): void {}

/**
 * `sock_accept`, `sock_recv`, `sock_send`, `sock_shutdown`: no fd is ever a socket here
 * (preopened sockets are not supported), so an open fd gives ENOTSUP and a closed one EBADF.
 */
export function sockUnsupported(ctx: WasiContext, fd: number): void {
  ctx.fds.get(fd);
  fail(Errno.NOTSUP);
}
