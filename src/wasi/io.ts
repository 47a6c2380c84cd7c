import { fs } from './system.ts';
import { Errno } from './abi.ts';
import { sleepNs } from './clock.ts';
import { WasiErrno, fail } from './errno.ts';
import type { FileSystem } from './file-system.ts';

/**
 * Synchronous byte moving between host fds and guest memory views. Streams (stdio: a
 * terminal, pipe or file the embedder handed us) have no offset of ours; files are always
 * read and written at an explicit position, since the offset is guest state we own.
 */

/** Longest pause between retries of a stream that said EAGAIN. */
const MAX_BACKOFF_NS = 50_000_000n;

function isAgain(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EAGAIN' || code === 'EWOULDBLOCK';
}

/**
 * Calls `op` until it does not fail with EAGAIN: a host fd in non-blocking mode (Node
 * often leaves pipes and terminals that way) must still look blocking to the guest,
 * unless the guest itself asked for `fdflags::nonblock`.
 */
function retryAgain<T>(op: () => T, nonblock: boolean): T {
  let backoff = 1_000_000n;
  for (;;) {
    try {
      return op();
    } catch (err) {
      if (!isAgain(err)) throw err;
      if (nonblock) fail(Errno.AGAIN);
      sleepNs(backoff);
      if (backoff < MAX_BACKOFF_NS) backoff *= 2n;
    }
  }
}

function totalLength(views: Uint8Array[]): number {
  return views.reduce((n, v) => n + v.length, 0);
}

/**
 * One read from a stream into the views, like readv(2): a single host read, so it never
 * blocks again once some bytes have arrived. Returns 0 at end of input.
 */
export function readStream(hostFd: number, views: Uint8Array[], nonblock: boolean): number {
  const total = totalLength(views);
  if (total === 0) return 0;
  const direct = views.find((v) => v.length > 0) as Uint8Array;
  if (direct.length === total) {
    return retryAgain(() => fs.readSync(hostFd, direct, 0, direct.length, null), nonblock);
  }
  const scratch = new Uint8Array(total);
  const n = retryAgain(() => fs.readSync(hostFd, scratch, 0, total, null), nonblock);
  scatter(scratch.subarray(0, n), views);
  return n;
}

/**
 * `readStream` without blocking the thread (WASI's `asyncBlocking`): one host read of up
 * to `total` bytes on libuv's thread pool; EAGAIN waits on timers, not in a sleep. The
 * bytes come back for the caller to scatter into guest memory (looked up again then).
 */
export async function readStreamAsync(hostFd: number, total: number, nonblock: boolean): Promise<Uint8Array> {
  if (total === 0) return new Uint8Array(0);
  const buffer = new Uint8Array(total);
  let backoffMs = 1;
  for (;;) {
    try {
      const n = await new Promise<number>((resolve, reject) => {
        fs.read(hostFd, buffer, 0, total, null, (err, bytesRead) => (err ? reject(err) : resolve(bytesRead)));
      });
      return buffer.subarray(0, n);
    } catch (err) {
      if (!isAgain(err)) throw err;
      if (nonblock) fail(Errno.AGAIN);
      await new Promise((resolve) => setTimeout(resolve, backoffMs));
      if (backoffMs < Number(MAX_BACKOFF_NS / 1_000_000n)) backoffMs *= 2;
    }
  }
}

/** Writes all of the views to a stream (a blocking writev(2) on a pipe or terminal does). */
export function writeStream(hostFd: number, views: Uint8Array[], nonblock: boolean): number {
  let written = 0;
  for (const view of views) {
    let done = 0;
    while (done < view.length) {
      try {
        done += retryAgain(() => fs.writeSync(hostFd, view, done, view.length - done, null), nonblock);
      } catch (err) {
        // Non-blocking and partly done: report the partial write, as write(2) would.
        if (err instanceof WasiErrno && written + done > 0) return written + done;
        throw err;
      }
    }
    written += done;
  }
  return written;
}

/** Hands all of the views to an output sink as one copy; never blocks, never fails. */
export function writeSink(sink: (data: Uint8Array) => void, views: Uint8Array[]): number {
  const total = totalLength(views);
  if (total === 0) return 0;
  const copy = new Uint8Array(total);
  let at = 0;
  for (const view of views) {
    copy.set(view, at);
    at += view.length;
  }
  sink(copy);
  return total;
}

/** preadv(2) at `position`, on the file system the fd belongs to. */
export function readAt(files: FileSystem, hostFd: number, views: Uint8Array[], position: bigint): number {
  if (totalLength(views) === 0) return 0;
  return files.readvSync(hostFd, views, toPosition(position));
}

/** pwritev(2) at `position`, on the file system the fd belongs to. */
export function writeAt(files: FileSystem, hostFd: number, views: Uint8Array[], position: bigint): number {
  if (totalLength(views) === 0) return 0;
  return files.writevSync(hostFd, views, toPosition(position));
}

/** A file position Node accepts; larger ones are EFBIG/EINVAL-like for the guest. */
export function toPosition(position: bigint): number {
  if (position < 0n) fail(Errno.INVAL);
  if (position > BigInt(Number.MAX_SAFE_INTEGER)) fail(Errno.FBIG);
  return Number(position);
}

/** Copies `data` into the views in order (a readv's scatter). */
export function scatter(data: Uint8Array, views: Uint8Array[]): void {
  let at = 0;
  for (const view of views) {
    if (at >= data.length) return;
    const chunk = data.subarray(at, at + view.length);
    view.set(chunk);
    at += chunk.length;
  }
}
