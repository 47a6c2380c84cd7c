/**
 * What the WASI host takes from the machine, in browser builds (this file replaces
 * `system.ts` there). Clocks from `performance` (a page has no CPU-time clock: CPU time
 * is the monotonic clock), randomness from `crypto.getRandomValues`, and a host file
 * system with no files: stdout and stderr go to `OutputSink`s, stdin reads as empty, and
 * every other call on it fails with ENOSYS. A program with host preopens is refused in
 * one line (its host directory cannot be opened). Files a page's program has live in
 * in-memory directories (`WasiOptions.memDirs`, `mem-fs.ts`), the same code as on Node,
 * whose content is part of the program's state and moves with it.
 * @module
 */
import type * as NodeFs from 'node:fs';
import type * as NodePath from 'node:path';
import { LINUX_OPEN_FLAGS } from './file-system.ts';

function failure(code: string, call: string): Error {
  return Object.assign(new Error(`${code}: ${call}: no files in this browser build`), { code });
}

const stdioFds = new Set([0, 1, 2]);

/** The calls `calls-*.ts` make, each failing as a file system without files would. */
const calls = {
  constants: LINUX_OPEN_FLAGS,
  readSync(fd: number): number {
    if (fd === 0) return 0; // stdin is empty
    throw failure(stdioFds.has(fd) ? 'EBADF' : 'ENOSYS', 'read');
  },
  read(fd: number, _buffer: Uint8Array, _offset: number, _length: number, _position: null, done: (error: Error | null, bytesRead: number) => void): void {
    queueMicrotask(() => (fd === 0 ? done(null, 0) : done(failure('EBADF', 'read'), 0)));
  },
  readvSync(fd: number): number {
    if (fd === 0) return 0;
    throw failure('EBADF', 'readv');
  },
  // stdin, stdout and stderr are character devices, as /dev/null and a terminal are.
  fstatSync(fd: number): Partial<NodeFs.Stats> {
    if (!stdioFds.has(fd)) throw failure('EBADF', 'fstat');
    const no = (): boolean => false;
    return { isFile: no, isDirectory: no, isSymbolicLink: no, isCharacterDevice: () => true, isBlockDevice: no, isSocket: no, isFIFO: no };
  },
};

const unsupported = (name: string) => (): never => {
  throw failure('ENOSYS', name);
};

/** `node:fs`'s shape over no files: the few calls above, ENOSYS for the rest. */
export const fs = new Proxy(calls, {
  get(target, name: string) {
    return name in target ? (target as Record<string, unknown>)[name] : unsupported(name.replace(/Sync$/, ''));
  },
}) as unknown as typeof NodeFs;

/** POSIX path arithmetic, the part the WASI host uses. */
export const path = {
  sep: '/',
  join(...parts: string[]): string {
    return normalize(parts.filter((p) => p !== '').join('/'));
  },
  dirname(p: string): string {
    const i = p.replace(/\/+$/, '').lastIndexOf('/');
    return i < 0 ? '.' : i === 0 ? '/' : p.slice(0, i);
  },
  relative(from: string, to: string): string {
    const a = normalize(from).split('/').filter(Boolean);
    const b = normalize(to).split('/').filter(Boolean);
    let i = 0;
    while (i < a.length && i < b.length && a[i] === b[i]) i++;
    return [...a.slice(i).map(() => '..'), ...b.slice(i)].join('/');
  },
} as unknown as typeof NodePath;

function normalize(p: string): string {
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return (p.startsWith('/') ? '/' : '') + out.join('/') || (p.startsWith('/') ? '/' : '.');
}

/** The page's monotonic clock (`performance.now()`), in nanoseconds. */
export function monotonicNs(): bigint {
  return BigInt(Math.round(performance.now() * 1e6));
}

/** A page has no CPU-time clock: the monotonic one stands in. */
export function cpuTimeNs(): bigint {
  return monotonicNs();
}

/** Fills `bytes` from `crypto.getRandomValues` (at most 64 KiB per call). */
export function randomFill(bytes: Uint8Array): void {
  for (let at = 0; at < bytes.length; at += 65_536) crypto.getRandomValues(bytes.subarray(at, Math.min(bytes.length, at + 65_536)) as Uint8Array<ArrayBuffer>);
}

/**
 * Blocks for about `ms` milliseconds: with `Atomics.wait` where the page may (a worker of
 * a cross-origin isolated page), else by spinning: a page's main thread cannot sleep
 * synchronously (run such programs with `asyncBlocking`, or in a worker).
 */
export function blockFor(ms: number): void {
  if (typeof SharedArrayBuffer === 'function') {
    try {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
      return;
    } catch {
      // The main thread: Atomics.wait is not allowed there.
    }
  }
  const end = performance.now() + ms;
  while (performance.now() < end) { /* spin */ }
}
