import type * as fs from 'node:fs';
import {
  Errno,
  FileType,
  RIGHTS_DIR_BASE,
  RIGHTS_DIR_INHERITING,
  RIGHTS_FILE_BASE,
  RIGHTS_STREAM_BASE,
} from './abi.ts';
import { fail } from './errno.ts';
import type { FileSystem } from './file-system.ts';
import type { WasiFdState } from './state.ts';

/** What a guest fd stands for. Directories hold no host fd: they are used by path. */
export type FdKind = 'stdio' | 'file' | 'dir';

/**
 * One guest file descriptor, as plain data: what a snapshot captures of it (its fields
 * but the fd number, which is the table's key), plus the host fd (a local resource,
 * never captured).
 */
export interface FdEntry extends Omit<WasiFdState, 'fd'> {
  /** Host fd for files and stdio; -1 for directories. */
  hostFd: number;
}

/** The largest fd number handed out: WASI guarantees fds below 2^31. */
export const MAX_FD = 0x7fffffff;

/** The greatest rights a descriptor of this type can hold. */
export function maxRightsFor(filetype: number): { base: bigint; inheriting: bigint } {
  switch (filetype) {
    case FileType.DIRECTORY:
      return { base: RIGHTS_DIR_BASE, inheriting: RIGHTS_DIR_INHERITING };
    case FileType.REGULAR_FILE:
      return { base: RIGHTS_FILE_BASE, inheriting: 0n };
    default:
      return { base: RIGHTS_STREAM_BASE, inheriting: 0n };
  }
}

/** WASI filetype of a host stat result. */
export function fileTypeOf(st: fs.Stats | fs.BigIntStats): number {
  if (st.isFile()) return FileType.REGULAR_FILE;
  if (st.isDirectory()) return FileType.DIRECTORY;
  if (st.isSymbolicLink()) return FileType.SYMBOLIC_LINK;
  if (st.isCharacterDevice()) return FileType.CHARACTER_DEVICE;
  if (st.isBlockDevice()) return FileType.BLOCK_DEVICE;
  // WASI has no FIFO type; like uvwasi we call pipes and sockets byte streams.
  if (st.isSocket() || st.isFIFO()) return FileType.SOCKET_STREAM;
  return FileType.UNKNOWN;
}

/** The fd table: guest fd number -> entry, lowest free number first (as POSIX). */
export class FdTable {
  readonly entries = new Map<number, FdEntry>();

  get(fd: number): FdEntry {
    const entry = this.entries.get(fd >>> 0);
    if (entry === undefined) fail(Errno.BADF);
    return entry;
  }

  /** The entry, after checking it holds every right in `rights` (else ENOTCAPABLE). */
  checked(fd: number, rights: bigint): FdEntry {
    const entry = this.get(fd);
    if ((entry.rightsBase & rights) !== rights) fail(Errno.NOTCAPABLE);
    return entry;
  }

  /** Inserts at the lowest free number. */
  add(entry: FdEntry): number {
    let fd = 0;
    while (this.entries.has(fd)) fd++;
    if (fd > MAX_FD) fail(Errno.MFILE);
    this.entries.set(fd, entry);
    return fd;
  }

  set(fd: number, entry: FdEntry): void {
    this.entries.set(fd, entry);
  }

  delete(fd: number): void {
    this.entries.delete(fd >>> 0);
  }
}

/** `open(2)` access flags for an entry's access mode, in the numbering of `fs`. */
export function accessFlags(fs: FileSystem, read: boolean, write: boolean): number {
  const c = fs.constants;
  if (read && write) return c.O_RDWR;
  return write ? c.O_WRONLY : c.O_RDONLY;
}

/** Whether the entry is read and written at our own offset (a regular file opened by path). */
export function isPositional(entry: FdEntry): boolean {
  return entry.kind === 'file' && entry.filetype === FileType.REGULAR_FILE;
}
