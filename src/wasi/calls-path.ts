import type * as fs from 'node:fs';
import type { AbiFlavor } from './abi.ts';
import { Errno, FDFLAGS_ALL, FileType, LookupFlags, OFLAGS_ALL, OFlags, Rights, RIGHTS_NEED_WRITE } from './abi.ts';
import type { Located, WasiContext } from './context.ts';
import { fail } from './errno.ts';
import type { FdEntry } from './fd-table.ts';
import { accessFlags, fileTypeOf, maxRightsFor } from './fd-table.ts';
import { timesToSet, writeFilestat } from './filestat.ts';
import type { FileSystem } from './file-system.ts';
import { timeArg } from './file-system.ts';

/**
 * The `path_*` syscalls. Every path is a (ptr, len) UTF-8 string resolved under a
 * directory fd by the sandbox rules of paths.ts; the directory fd must hold the right
 * named by the witx for the operation. Results go through out-pointers.
 */

function follows(lookupFlags: number): boolean {
  return (lookupFlags & LookupFlags.SYMLINK_FOLLOW) !== 0;
}

function locateArg(ctx: WasiContext, dirFd: number, rights: bigint, ptr: number, len: number, follow: boolean): Located {
  const guestPath = ctx.memory.string(ptr, len);
  return ctx.locate(dirFd, rights, guestPath, follow);
}

function statOrUndefined(files: FileSystem, host: string, follow: boolean): fs.BigIntStats | undefined {
  try {
    return follow ? files.statSync(host, { bigint: true }) : files.lstatSync(host, { bigint: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Refuses operations that would remove or move a preopen root itself. */
function notRoot(loc: Located): void {
  if (loc.rel === '') fail(Errno.BUSY);
}

/**
 * `path_open(fd, dirflags: u32, path: *u8, path_len: u32, oflags: u16, fs_rights_base: u64,
 * fs_rights_inheriting: u64, fdflags: u16) -> fd: u32 @r0`.
 *
 * Rights are lenient as in wasmtime: the requested rights are narrowed to what the
 * directory may hand down and what the file type supports, never refused (toolchains such
 * as Go ask for every right). The host file is opened read and/or write as those rights
 * need; directories get no host fd. `creat|excl` never follows a final symlink (EEXIST).
 */
export function pathOpen(
  ctx: WasiContext,
  dirFd: number,
  dirFlags: number,
  pathPtr: number,
  pathLen: number,
  oflags: number,
  rightsBase: bigint,
  rightsInheriting: bigint,
  fdflags: number,
  resultPtr: number,
): void {
  const o = oflags & 0xffff;
  const flags = fdflags & 0xffff;
  if (o & ~OFLAGS_ALL || flags & ~FDFLAGS_ALL) fail(Errno.INVAL);
  let needed = Rights.PATH_OPEN;
  if (o & OFlags.CREAT) needed |= Rights.PATH_CREATE_FILE;
  if (o & OFlags.TRUNC) needed |= Rights.PATH_FILESTAT_SET_SIZE;
  const exclusive = (o & OFlags.CREAT) !== 0 && (o & OFlags.EXCL) !== 0;
  const follow = follows(dirFlags) && !exclusive;
  const loc = locateArg(ctx, dirFd, needed, pathPtr, pathLen, follow);
  ctx.memory.check(resultPtr, 4);

  const st = statOrUndefined(loc.fs, loc.host, follow);
  if (st === undefined) {
    if (!(o & OFlags.CREAT)) fail(Errno.NOENT);
    if (o & OFlags.DIRECTORY) fail(Errno.INVAL);
  } else {
    if (exclusive) fail(Errno.EXIST);
    if (st.isSymbolicLink()) fail(Errno.LOOP);
    if (o & OFlags.DIRECTORY && !st.isDirectory()) fail(Errno.NOTDIR);
  }

  const requestedBase = BigInt.asUintN(64, rightsBase) & loc.dir.rightsInheriting;
  const requestedInheriting = BigInt.asUintN(64, rightsInheriting) & loc.dir.rightsInheriting;

  let entry: FdEntry;
  if (st?.isDirectory()) {
    if (requestedBase & RIGHTS_NEED_WRITE || o & OFlags.TRUNC) fail(Errno.ISDIR);
    const max = maxRightsFor(FileType.DIRECTORY);
    entry = {
      kind: 'dir',
      hostFd: -1,
      stdio: -1,
      preopen: loc.dir.preopen,
      path: loc.rel,
      isPreopen: false,
      filetype: FileType.DIRECTORY,
      offset: 0n,
      oflags: o,
      fdflags: flags,
      read: true,
      write: false,
      rightsBase: requestedBase & max.base,
      rightsInheriting: requestedInheriting & max.inheriting,
      dirCursor: null,
    };
  } else {
    entry = openFileEntry(loc, o, flags, requestedBase, requestedInheriting);
  }
  ctx.memory.setU32(resultPtr, ctx.fds.add(entry));
}

function openFileEntry(loc: Located, o: number, fdflags: number, base: bigint, inheriting: bigint): FdEntry {
  const files = loc.fs;
  const c = files.constants;
  const read = (base & (Rights.FD_READ | Rights.FD_READDIR)) !== 0n;
  const write = (base & RIGHTS_NEED_WRITE) !== 0n;
  let hostFlags = accessFlags(files, read || !write, write) | c.O_NOFOLLOW;
  if (o & OFlags.CREAT) hostFlags |= c.O_CREAT;
  if (o & OFlags.EXCL) hostFlags |= c.O_EXCL;
  if (o & OFlags.TRUNC) hostFlags |= c.O_TRUNC;
  // Non-blocking open so that a FIFO in the sandbox cannot hang the whole host.
  hostFlags |= c.O_NONBLOCK;
  const hostFd = files.openSync(loc.host, hostFlags, 0o666);
  let filetype: number;
  try {
    filetype = fileTypeOf(files.fstatSync(hostFd));
    if (filetype === FileType.DIRECTORY) fail(Errno.ISDIR);
  } catch (err) {
    files.closeSync(hostFd);
    throw err;
  }
  const max = maxRightsFor(filetype);
  return {
    kind: 'file',
    hostFd,
    stdio: -1,
    preopen: loc.dir.preopen,
    path: loc.rel,
    isPreopen: false,
    filetype,
    offset: 0n,
    oflags: o,
    fdflags,
    read: read || !write,
    write,
    rightsBase: base & max.base,
    rightsInheriting: inheriting & max.inheriting,
    dirCursor: null,
  };
}

/** `path_create_directory(fd, path: *u8, path_len: u32)`. */
export function pathCreateDirectory(ctx: WasiContext, dirFd: number, pathPtr: number, pathLen: number): void {
  const loc = locateArg(ctx, dirFd, Rights.PATH_CREATE_DIRECTORY, pathPtr, pathLen, false);
  if (loc.rel === '') fail(Errno.EXIST);
  loc.fs.mkdirSync(loc.host);
}

/** The status of a host path, of the link itself unless `follow`. */
function statPath(files: FileSystem, host: string, follow: boolean): fs.BigIntStats {
  return follow ? files.statSync(host, { bigint: true }) : files.lstatSync(host, { bigint: true });
}

/** `path_filestat_get(fd, flags: u32, path: *u8, path_len: u32) -> filestat @r0` (layout per snapshot, abi.ts). */
export function pathFilestatGet(
  ctx: WasiContext,
  abi: AbiFlavor,
  dirFd: number,
  lookupFlags: number,
  pathPtr: number,
  pathLen: number,
  resultPtr: number,
): void {
  const follow = follows(lookupFlags);
  const loc = locateArg(ctx, dirFd, Rights.PATH_FILESTAT_GET, pathPtr, pathLen, follow);
  ctx.memory.check(resultPtr, abi.filestat.size);
  writeFilestat(ctx.memory, resultPtr, abi.filestat, statPath(loc.fs, loc.host, follow));
}

/** `path_filestat_set_times(fd, flags: u32, path: *u8, path_len: u32, atim: u64, mtim: u64, fst_flags: u16)`. */
export function pathFilestatSetTimes(
  ctx: WasiContext,
  dirFd: number,
  lookupFlags: number,
  pathPtr: number,
  pathLen: number,
  atim: bigint,
  mtim: bigint,
  fstFlags: number,
): void {
  const follow = follows(lookupFlags);
  const loc = locateArg(ctx, dirFd, Rights.PATH_FILESTAT_SET_TIMES, pathPtr, pathLen, follow);
  const current = (): fs.BigIntStats => statPath(loc.fs, loc.host, follow);
  const times = timesToSet(fstFlags, atim, mtim, () => ctx.clocks.realtime(), current);
  if (times === undefined) {
    current();
    return;
  }
  const [a, m] = [timeArg(loc.fs, times[0]), timeArg(loc.fs, times[1])];
  if (follow) loc.fs.utimesSync(loc.host, a, m);
  else loc.fs.lutimesSync(loc.host, a, m);
}

/** `path_link(old_fd, old_flags: u32, old_path, old_path_len, new_fd, new_path, new_path_len)`: a hard link. */
export function pathLink(
  ctx: WasiContext,
  oldFd: number,
  oldFlags: number,
  oldPtr: number,
  oldLen: number,
  newFd: number,
  newPtr: number,
  newLen: number,
): void {
  const from = locateArg(ctx, oldFd, Rights.PATH_LINK_SOURCE, oldPtr, oldLen, follows(oldFlags));
  const to = locateArg(ctx, newFd, Rights.PATH_LINK_TARGET, newPtr, newLen, false);
  // Both under one preopen's file system, or EXDEV (as link(2) across devices).
  if (from.fs !== to.fs) fail(Errno.XDEV);
  from.fs.linkSync(from.host, to.host);
}

/**
 * `path_readlink(fd, path: *u8, path_len: u32, buf: *u8, buf_len: u32) -> bufused: u32 @r0`:
 * the link's target bytes, truncated to buf_len like readlink(2), no NUL.
 */
export function pathReadlink(
  ctx: WasiContext,
  dirFd: number,
  pathPtr: number,
  pathLen: number,
  buf: number,
  bufLen: number,
  resultPtr: number,
): void {
  const loc = locateArg(ctx, dirFd, Rights.PATH_READLINK, pathPtr, pathLen, false);
  ctx.memory.check(buf, bufLen);
  ctx.memory.check(resultPtr, 4);
  const target = loc.fs.readlinkSync(loc.host, { encoding: 'buffer' });
  const n = Math.min(target.length, bufLen >>> 0);
  ctx.memory.write(buf, target.subarray(0, n));
  ctx.memory.setU32(resultPtr, n);
}

/** `path_remove_directory(fd, path: *u8, path_len: u32)`: ENOTEMPTY unless empty; never the preopen root. */
export function pathRemoveDirectory(ctx: WasiContext, dirFd: number, pathPtr: number, pathLen: number): void {
  const guestPath = ctx.memory.string(pathPtr, pathLen);
  // rmdir(".") is EINVAL in POSIX: the name must name an entry of its parent.
  if (guestPath === '.' || guestPath.endsWith('/.')) fail(Errno.INVAL);
  const loc = ctx.locate(dirFd, Rights.PATH_REMOVE_DIRECTORY, guestPath, false);
  notRoot(loc);
  loc.fs.rmdirSync(loc.host);
}

/** `path_rename(fd, old_path, old_path_len, new_fd, new_path, new_path_len)`. */
export function pathRename(
  ctx: WasiContext,
  oldFd: number,
  oldPtr: number,
  oldLen: number,
  newFd: number,
  newPtr: number,
  newLen: number,
): void {
  const from = locateArg(ctx, oldFd, Rights.PATH_RENAME_SOURCE, oldPtr, oldLen, false);
  const to = locateArg(ctx, newFd, Rights.PATH_RENAME_TARGET, newPtr, newLen, false);
  notRoot(from);
  notRoot(to);
  if (from.fs !== to.fs) fail(Errno.XDEV);
  from.fs.renameSync(from.host, to.host);
}

/**
 * `path_symlink(old_path: *u8, old_path_len: u32, fd, new_path: *u8, new_path_len: u32)`:
 * creates `new_path` pointing at `old_path` (stored as given). An absolute target is
 * refused (ENOTCAPABLE, as cap-std does): it would name a host path. A relative target
 * that climbs out is created but can never be followed (paths.ts).
 */
export function pathSymlink(
  ctx: WasiContext,
  oldPtr: number,
  oldLen: number,
  dirFd: number,
  newPtr: number,
  newLen: number,
): void {
  const target = ctx.memory.string(oldPtr, oldLen);
  if (target.startsWith('/')) fail(Errno.NOTCAPABLE);
  if (target.includes('\0')) fail(Errno.INVAL);
  const loc = locateArg(ctx, dirFd, Rights.PATH_SYMLINK, newPtr, newLen, false);
  loc.fs.symlinkSync(target, loc.host);
}

/** `path_unlink_file(fd, path: *u8, path_len: u32)`: EISDIR for a directory (as Linux). */
export function pathUnlinkFile(ctx: WasiContext, dirFd: number, pathPtr: number, pathLen: number): void {
  const loc = locateArg(ctx, dirFd, Rights.PATH_UNLINK_FILE, pathPtr, pathLen, false);
  notRoot(loc);
  loc.fs.unlinkSync(loc.host);
}
