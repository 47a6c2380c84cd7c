/**
 * A fake guest for syscall-level tests: a WasiHost over a temp directory preopened as
 * ".", a real WebAssembly.Memory, and helpers to lay out strings and iovecs in it and
 * call the imports the way an engine would (i32 as number, i64 as bigint).
 */
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { WasiHost } from '../../../src/wasi/index.ts';
import type { WasiOptions } from '../../../src/wasi/index.ts';

export const PREOPEN_FD = 3;

/** Scratch area layout used by the helpers: strings from 1024, iovecs at 256, results at 64. */
export const RESULT = 64;
const IOVEC = 256;
const STRINGS = 1024;

export interface Guest {
  host: WasiHost;
  memory: WebAssembly.Memory;
  /** Host root of the "." preopen. */
  root: string;
  /** Host fd of the captured stdout file. */
  stdoutFd: number;
  call(name: string, ...args: (number | bigint)[]): number;
  /** Module `wasi_unstable` instead of preview1. */
  callUnstable(name: string, ...args: (number | bigint)[]): number;
  /** Writes `text` at a fresh address and returns [ptr, len]. */
  str(text: string): [number, number];
  /** Writes bytes at a fresh address and returns [ptr, len]. */
  bytes(data: Uint8Array): [number, number];
  /** Writes one iovec {buf, len} at the iovec area and returns its pointer. */
  iovec(buf: number, len: number): number;
  u32(ptr: number): number;
  u64(ptr: number): bigint;
  u16(ptr: number): number;
  u8(ptr: number): number;
  read(ptr: number, len: number): Uint8Array;
  text(ptr: number, len: number): string;
  /** Opens `p` under the preopen with all rights; returns the new fd. */
  open(p: string, oflags?: number, rights?: bigint, fdflags?: number): number;
  stdout(): string;
  dispose(): void;
}

export function makeRoot(): string {
  return fs.realpathSync(fs.mkdtempSync(path.join(tmpdir(), 'wasmig-wasi-unit-')));
}

export function makeGuest(extra: Partial<WasiOptions> = {}, rootDir?: string): Guest {
  const root = rootDir ?? makeRoot();
  const stdoutPath = path.join(root, '..', `${path.basename(root)}.stdout`);
  const stdoutFd = fs.openSync(stdoutPath, 'w+');
  const host = new WasiHost({
    args: ['prog', 'arg one'],
    env: { A: '1', B: 'two' },
    preopens: [{ host: root, guest: '.' }],
    stdout: stdoutFd,
    ...extra,
  });
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 4 });
  host.bindMemory(memory);
  let next = STRINGS;
  const view = () => new DataView(memory.buffer);
  const g: Guest = {
    host,
    memory,
    root,
    stdoutFd,
    call: (name, ...args) => {
      const fn = host.imports['wasi_snapshot_preview1']?.[name];
      if (fn === undefined) throw new Error(`no import ${name}`);
      return fn(...args) as number;
    },
    callUnstable: (name, ...args) => {
      const fn = host.imports['wasi_unstable']?.[name];
      if (fn === undefined) throw new Error(`no import ${name}`);
      return fn(...args) as number;
    },
    str: (text) => g.bytes(new TextEncoder().encode(text)),
    bytes: (data) => {
      const ptr = next;
      new Uint8Array(memory.buffer).set(data, ptr);
      next += data.length + 8;
      return [ptr, data.length];
    },
    iovec: (buf, len) => {
      view().setUint32(IOVEC, buf, true);
      view().setUint32(IOVEC + 4, len, true);
      return IOVEC;
    },
    u32: (ptr) => view().getUint32(ptr, true),
    u64: (ptr) => view().getBigUint64(ptr, true),
    u16: (ptr) => view().getUint16(ptr, true),
    u8: (ptr) => view().getUint8(ptr),
    read: (ptr, len) => new Uint8Array(memory.buffer).slice(ptr, ptr + len),
    text: (ptr, len) => new TextDecoder().decode(g.read(ptr, len)),
    open: (p, oflags = 0, rights = (1n << 30n) - 1n, fdflags = 0) => {
      const [ptr, len] = g.str(p);
      const errno = g.call('path_open', PREOPEN_FD, 1, ptr, len, oflags, rights, rights, fdflags, RESULT);
      if (errno !== 0) throw new Error(`path_open ${p}: errno ${errno}`);
      return g.u32(RESULT);
    },
    stdout: () => fs.readFileSync(stdoutPath, 'utf8'),
    dispose: () => {
      host.close();
      fs.closeSync(stdoutFd);
      fs.rmSync(stdoutPath, { force: true });
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
  return g;
}
