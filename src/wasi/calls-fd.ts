import type * as fs from 'node:fs';
import { path } from './system.ts';
import type { AbiFlavor } from './abi.ts';
import {
  ADVICE_MAX,
  Dirent,
  Errno,
  FDFLAGS_ALL,
  FdFlags,
  Fdstat,
  FileType,
  PreopenType,
  Prestat,
  Rights,
} from './abi.ts';
import type { WasiContext } from './context.ts';
import { fail } from './errno.ts';
import type { FdEntry } from './fd-table.ts';
import { fileTypeOf, isPositional } from './fd-table.ts';
import { timeArg } from './file-system.ts';
import { timesToSet, writeFilestat } from './filestat.ts';
import { readAt, readStream, readStreamAsync, scatter, toPosition, writeAt, writeSink, writeStream } from './io.ts';
import { utf8 } from './memory.ts';

/**
 * The `fd_*` syscalls. Results are written through out-pointers (the last parameters);
 * each function throws `WasiErrno` on failure and the import wrappers return it.
 * Rights are checked first (ENOTCAPABLE), then the kind of descriptor.
 */

/** The entry's host fd, for operations that need an open file (EBADF for directories). */
function hostFdOf(entry: FdEntry): number {
  if (entry.hostFd < 0) fail(entry.kind === 'dir' ? Errno.ISDIR : Errno.BADF);
  return entry.hostFd;
}

/** Only regular files have an offset; streams are not seekable (ESPIPE), directories EISDIR. */
function requireFile(entry: FdEntry): number {
  if (entry.kind === 'dir') fail(Errno.ISDIR);
  if (!isPositional(entry)) fail(Errno.SPIPE);
  return hostFdOf(entry);
}

function statEntry(ctx: WasiContext, entry: FdEntry): fs.BigIntStats {
  if (entry.kind === 'dir') return ctx.fsOf(entry).statSync(ctx.hostPathOf(entry), { bigint: true });
  return ctx.fsOf(entry).fstatSync(hostFdOf(entry), { bigint: true });
}

/** Honours `fdflags::sync`/`dsync` after a write: we do not open host files O_SYNC. */
function syncAfterWrite(ctx: WasiContext, entry: FdEntry): void {
  if (entry.kind !== 'file') return;
  if (entry.fdflags & (FdFlags.SYNC | FdFlags.RSYNC)) ctx.fsOf(entry).fsyncSync(entry.hostFd);
  else if (entry.fdflags & FdFlags.DSYNC) ctx.fsOf(entry).fdatasyncSync(entry.hostFd);
}

/** `fd_advise(fd, offset: u64, len: u64, advice: u8)`: checked, then ignored (advice is a hint). */
export function fdAdvise(ctx: WasiContext, fd: number, _offset: bigint, _len: bigint, advice: number): void {
  const entry = ctx.fds.checked(fd, Rights.FD_ADVISE);
  if (advice >>> 0 > ADVICE_MAX) fail(Errno.INVAL);
  if (entry.kind !== 'dir' && !isPositional(entry)) fail(Errno.SPIPE);
}

/** `fd_allocate(fd, offset: u64, len: u64)`: grows the file to at least offset+len (posix_fallocate). */
export function fdAllocate(ctx: WasiContext, fd: number, offset: bigint, len: bigint): void {
  const entry = ctx.fds.checked(fd, Rights.FD_ALLOCATE);
  const hostFd = requireFile(entry);
  const end = BigInt.asUintN(64, offset) + BigInt.asUintN(64, len);
  if (BigInt.asUintN(64, len) === 0n) fail(Errno.INVAL);
  const files = ctx.fsOf(entry);
  const size = files.fstatSync(hostFd, { bigint: true }).size;
  if (end > size) files.ftruncateSync(hostFd, toPosition(end));
}

/** `fd_close(fd)`: preopens may be closed too, as in other runtimes. */
export function fdClose(ctx: WasiContext, fd: number): void {
  const entry = ctx.fds.get(fd);
  ctx.fds.delete(fd);
  ctx.release(entry);
}

/** `fd_datasync(fd)`. */
export function fdDatasync(ctx: WasiContext, fd: number): void {
  const entry = ctx.fds.checked(fd, Rights.FD_DATASYNC);
  ctx.fsOf(entry).fdatasyncSync(hostFdOf(entry));
}

/** `fd_sync(fd)`: a directory is synced through a short-lived host fd. */
export function fdSync(ctx: WasiContext, fd: number): void {
  const entry = ctx.fds.checked(fd, Rights.FD_SYNC);
  const files = ctx.fsOf(entry);
  if (entry.kind !== 'dir') {
    files.fsyncSync(hostFdOf(entry));
    return;
  }
  const dirFd = files.openSync(ctx.hostPathOf(entry), files.constants.O_RDONLY);
  try {
    files.fsyncSync(dirFd);
  } finally {
    files.closeSync(dirFd);
  }
}

/**
 * `fd_fdstat_get(fd) -> fdstat @r0`: 24 bytes: filetype u8 @0, fdflags u16 @2,
 * rights_base u64 @8, rights_inheriting u64 @16.
 */
export function fdFdstatGet(ctx: WasiContext, fd: number, resultPtr: number): void {
  const entry = ctx.fds.get(fd);
  const mem = ctx.memory;
  mem.bytes(resultPtr, Fdstat.SIZE).fill(0);
  const at = resultPtr >>> 0;
  mem.setU8(at + Fdstat.FILETYPE, entry.filetype);
  mem.setU16(at + Fdstat.FLAGS, entry.fdflags);
  mem.setU64(at + Fdstat.RIGHTS_BASE, entry.rightsBase);
  mem.setU64(at + Fdstat.RIGHTS_INHERITING, entry.rightsInheriting);
}

/**
 * `fd_fdstat_set_flags(fd, flags: u16)`. The flags are guest state, applied by us on each
 * call (append: write at the end; sync/dsync: flush after writes; nonblock: EAGAIN instead
 * of waiting), so they migrate without reopening anything.
 */
export function fdFdstatSetFlags(ctx: WasiContext, fd: number, flags: number): void {
  const entry = ctx.fds.checked(fd, Rights.FD_FDSTAT_SET_FLAGS);
  const f = flags & 0xffff;
  if (f & ~FDFLAGS_ALL) fail(Errno.INVAL);
  entry.fdflags = f;
}

/** `fd_fdstat_set_rights(fd, base: u64, inheriting: u64)`: may only drop rights. */
export function fdFdstatSetRights(ctx: WasiContext, fd: number, base: bigint, inheriting: bigint): void {
  const entry = ctx.fds.get(fd);
  const b = BigInt.asUintN(64, base);
  const i = BigInt.asUintN(64, inheriting);
  if ((b & ~entry.rightsBase) !== 0n || (i & ~entry.rightsInheriting) !== 0n) fail(Errno.NOTCAPABLE);
  entry.rightsBase = b;
  entry.rightsInheriting = i;
}

/** `fd_filestat_get(fd) -> filestat @r0` (64 bytes in preview1, 56 in snapshot 0: see abi.ts). */
export function fdFilestatGet(ctx: WasiContext, abi: AbiFlavor, fd: number, resultPtr: number): void {
  const entry = ctx.fds.checked(fd, Rights.FD_FILESTAT_GET);
  ctx.memory.check(resultPtr, abi.filestat.size);
  writeFilestat(ctx.memory, resultPtr, abi.filestat, statEntry(ctx, entry));
}

/** `fd_filestat_set_size(fd, size: u64)`: ftruncate; the offset is left where it was. */
export function fdFilestatSetSize(ctx: WasiContext, fd: number, size: bigint): void {
  const entry = ctx.fds.checked(fd, Rights.FD_FILESTAT_SET_SIZE);
  const hostFd = requireFile(entry);
  ctx.fsOf(entry).ftruncateSync(hostFd, toPosition(BigInt.asUintN(64, size)));
}

/** `fd_filestat_set_times(fd, atim: u64, mtim: u64, fst_flags: u16)`. */
export function fdFilestatSetTimes(ctx: WasiContext, fd: number, atim: bigint, mtim: bigint, flags: number): void {
  const entry = ctx.fds.checked(fd, Rights.FD_FILESTAT_SET_TIMES);
  const times = timesToSet(flags, atim, mtim, () => ctx.clocks.realtime(), () => statEntry(ctx, entry));
  if (times === undefined) return;
  const files = ctx.fsOf(entry);
  const [a, m] = [timeArg(files, times[0]), timeArg(files, times[1])];
  if (entry.kind === 'dir') files.utimesSync(ctx.hostPathOf(entry), a, m);
  else files.futimesSync(hostFdOf(entry), a, m);
}

/** `fd_pread(fd, iovs: *iovec, iovs_len: u32, offset: u64) -> nread: u32 @r0`; the fd offset is untouched. */
export function fdPread(ctx: WasiContext, fd: number, iovs: number, iovsLen: number, offset: bigint, resultPtr: number): void {
  const entry = ctx.fds.checked(fd, Rights.FD_READ | Rights.FD_SEEK);
  const hostFd = requireFile(entry);
  const views = ctx.memory.iovecs(iovs, iovsLen);
  ctx.memory.check(resultPtr, 4);
  const n = readAt(ctx.fsOf(entry), hostFd, views, BigInt.asUintN(64, offset));
  ctx.memory.setU32(resultPtr, n);
}

/** `fd_pwrite(fd, iovs: *ciovec, iovs_len: u32, offset: u64) -> nwritten: u32 @r0`; the fd offset is untouched. */
export function fdPwrite(ctx: WasiContext, fd: number, iovs: number, iovsLen: number, offset: bigint, resultPtr: number): void {
  const entry = ctx.fds.checked(fd, Rights.FD_WRITE | Rights.FD_SEEK);
  const hostFd = requireFile(entry);
  const views = ctx.memory.iovecs(iovs, iovsLen);
  ctx.memory.check(resultPtr, 4);
  const n = writeAt(ctx.fsOf(entry), hostFd, views, BigInt.asUintN(64, offset));
  syncAfterWrite(ctx, entry);
  ctx.memory.setU32(resultPtr, n);
}

/**
 * `fd_read(fd, iovs: *iovec, iovs_len: u32) -> nread: u32 @r0`: 0 means end of file.
 * With `asyncBlocking`, a read from a stream (stdin, a pipe) returns a promise instead
 * of blocking the thread; the guest awaits it at the call.
 */
export function fdRead(ctx: WasiContext, fd: number, iovs: number, iovsLen: number, resultPtr: number): void | Promise<void> {
  const entry = ctx.fds.checked(fd, Rights.FD_READ);
  const views = ctx.memory.iovecs(iovs, iovsLen);
  ctx.memory.check(resultPtr, 4);
  let n: number;
  if (!isPositional(entry) && ctx.asyncBlocking) {
    const total = views.reduce((sum, v) => sum + v.length, 0);
    return readStreamAsync(hostFdOf(entry), total, (entry.fdflags & FdFlags.NONBLOCK) !== 0).then((bytes) => {
      // Looked up again: the views of before the wait may be of a buffer that memory.grow replaced.
      scatter(bytes, ctx.memory.iovecs(iovs, iovsLen));
      ctx.memory.setU32(resultPtr, bytes.length);
    });
  }
  if (isPositional(entry)) {
    n = readAt(ctx.fsOf(entry), hostFdOf(entry), views, entry.offset);
    entry.offset += BigInt(n);
  } else {
    n = readStream(hostFdOf(entry), views, (entry.fdflags & FdFlags.NONBLOCK) !== 0);
  }
  ctx.memory.setU32(resultPtr, n);
}

/**
 * `fd_write(fd, iovs: *ciovec, iovs_len: u32) -> nwritten: u32 @r0`. In append mode the
 * write goes to the current end of file (we emulate O_APPEND so that it is guest state).
 */
export function fdWrite(ctx: WasiContext, fd: number, iovs: number, iovsLen: number, resultPtr: number): void {
  const entry = ctx.fds.checked(fd, Rights.FD_WRITE);
  const views = ctx.memory.iovecs(iovs, iovsLen);
  ctx.memory.check(resultPtr, 4);
  let n: number;
  if (isPositional(entry)) {
    const hostFd = hostFdOf(entry);
    const files = ctx.fsOf(entry);
    if (entry.fdflags & FdFlags.APPEND) entry.offset = files.fstatSync(hostFd, { bigint: true }).size;
    n = writeAt(files, hostFd, views, entry.offset);
    entry.offset += BigInt(n);
    syncAfterWrite(ctx, entry);
  } else {
    const sink = entry.kind === 'stdio' ? ctx.sinks[entry.stdio] : undefined;
    n = sink ? writeSink(sink, views) : writeStream(hostFdOf(entry), views, (entry.fdflags & FdFlags.NONBLOCK) !== 0);
  }
  ctx.memory.setU32(resultPtr, n);
}

/** `fd_prestat_get(fd) -> prestat @r0`: tag u8 @0 (0 = dir), pr_name_len u32 @4. EBADF if not a preopen. */
export function fdPrestatGet(ctx: WasiContext, fd: number, resultPtr: number): void {
  const entry = ctx.fds.get(fd);
  if (!entry.isPreopen) fail(Errno.BADF);
  const name = utf8(ctx.preopens[entry.preopen]?.guest ?? '');
  const mem = ctx.memory;
  mem.bytes(resultPtr, Prestat.SIZE).fill(0);
  mem.setU8((resultPtr >>> 0) + Prestat.TAG, PreopenType.DIR);
  mem.setU32((resultPtr >>> 0) + Prestat.NAME_LEN, name.length);
}

/** `fd_prestat_dir_name(fd, path: *u8, path_len: u32)`: the guest name, no NUL; ENOBUFS if it does not fit (as uvwasi). */
export function fdPrestatDirName(ctx: WasiContext, fd: number, pathPtr: number, pathLen: number): void {
  const entry = ctx.fds.get(fd);
  if (!entry.isPreopen) fail(Errno.BADF);
  const name = utf8(ctx.preopens[entry.preopen]?.guest ?? '');
  if (pathLen >>> 0 < name.length) fail(Errno.NOBUFS);
  ctx.memory.write(pathPtr, name);
}

/**
 * `fd_readdir(fd, buf: *u8, buf_len: u32, cookie: u64) -> bufused: u32 @r0`.
 * Fills `buf` with records: a 24-byte `dirent` (d_next u64 @0 = cookie of the next entry,
 * d_ino u64 @8, d_namlen u32 @16, d_type u8 @20) followed by the name, no NUL. The last
 * record is cut at the end of the buffer; `bufused < buf_len` means the end was reached.
 * Cookie n is the n-th name of a sorted listing that starts with "." and ".." (as uvwasi
 * and wasmtime list them), taken at cookie 0 and kept in the fd: sorted so it is
 * deterministic, kept so cookies stay meaningful across calls and migrations.
 */
export function fdReaddir(ctx: WasiContext, fd: number, buf: number, bufLen: number, cookie: bigint, resultPtr: number): void {
  const entry = ctx.fds.checked(fd, Rights.FD_READDIR);
  if (entry.kind !== 'dir') fail(Errno.NOTDIR);
  const mem = ctx.memory;
  const len = bufLen >>> 0;
  mem.check(buf, len);
  mem.check(resultPtr, 4);
  const dirHost = ctx.hostPathOf(entry);
  const start = BigInt.asUintN(64, cookie);
  if (start === 0n || entry.dirCursor === null) {
    entry.dirCursor = ['.', '..', ...ctx.fsOf(entry).readdirSync(dirHost).sort()];
  }
  const names = entry.dirCursor;
  let used = 0;
  for (let i = start; i < BigInt(names.length) && used < len; i++) {
    const name = names[Number(i)] as string;
    const nameBytes = utf8(name);
    const record = new Uint8Array(Dirent.SIZE + nameBytes.length);
    const view = new DataView(record.buffer);
    const { ino, type } = direntInfo(ctx, entry, dirHost, name);
    view.setBigUint64(Dirent.NEXT, i + 1n, true);
    view.setBigUint64(Dirent.INO, ino, true);
    view.setUint32(Dirent.NAMLEN, nameBytes.length, true);
    view.setUint8(Dirent.TYPE, type);
    record.set(nameBytes, Dirent.SIZE);
    const take = Math.min(record.length, len - used);
    mem.write((buf >>> 0) + used, record.subarray(0, take));
    used += take;
  }
  mem.setU32(resultPtr, used);
}

function direntInfo(ctx: WasiContext, dir: FdEntry, dirHost: string, name: string): { ino: bigint; type: number } {
  // ".." of a preopen root would describe a host directory outside the sandbox: show the root.
  const target = name === '.' || (name === '..' && dir.path === '') ? dirHost : path.join(dirHost, name);
  try {
    const st = ctx.fsOf(dir).lstatSync(target, { bigint: true });
    return { ino: st.ino, type: fileTypeOf(st) };
  } catch {
    // Removed since the listing was taken: still listed, like a stale getdents buffer.
    return { ino: 0n, type: FileType.UNKNOWN };
  }
}

/**
 * `fd_renumber(fd, to)`: moves `fd` onto `to`, closing what `to` held. Both must be open
 * (EBADF otherwise), as in uvwasi and wasmtime.
 */
export function fdRenumber(ctx: WasiContext, fd: number, to: number): void {
  const from = ctx.fds.get(fd);
  const target = ctx.fds.get(to);
  if (fd >>> 0 === to >>> 0) return;
  ctx.fds.delete(fd);
  ctx.fds.set(to >>> 0, from);
  ctx.release(target);
}

/**
 * `fd_seek(fd, offset: s64, whence: u8) -> newoffset: u64 @r0`. Whence numbering differs
 * between snapshots (abi.ts). `fd_tell` rights suffice for a zero move from the current
 * offset, as the witx says. A result before the start of the file is EINVAL.
 */
export function fdSeek(ctx: WasiContext, abi: AbiFlavor, fd: number, offset: bigint, whence: number, resultPtr: number): void {
  const delta = BigInt.asIntN(64, offset);
  const w = whence & 0xff;
  const needed = w === abi.whence.CUR && delta === 0n ? Rights.FD_TELL : Rights.FD_SEEK;
  const entry = ctx.fds.get(fd);
  if ((entry.rightsBase & needed) === 0n && (entry.rightsBase & Rights.FD_SEEK) === 0n) fail(Errno.NOTCAPABLE);
  const hostFd = requireFile(entry);
  let base: bigint;
  if (w === abi.whence.SET) base = 0n;
  else if (w === abi.whence.CUR) base = entry.offset;
  else if (w === abi.whence.END) base = ctx.fsOf(entry).fstatSync(hostFd, { bigint: true }).size;
  else fail(Errno.INVAL);
  const next = base + delta;
  if (next < 0n) fail(Errno.INVAL);
  if (next >= 1n << 63n) fail(Errno.OVERFLOW);
  ctx.memory.check(resultPtr, 8);
  entry.offset = next;
  ctx.memory.setU64(resultPtr, next);
}

/** `fd_tell(fd) -> offset: u64 @r0`. */
export function fdTell(ctx: WasiContext, fd: number, resultPtr: number): void {
  const entry = ctx.fds.checked(fd, Rights.FD_TELL);
  requireFile(entry);
  ctx.memory.setU64(resultPtr, entry.offset);
}
