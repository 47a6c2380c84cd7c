import type * as NodeFs from 'node:fs';

/**
 * The part of `node:fs` the WASI calls use, as one object a preopen carries: Node's own
 * `fs` for a host directory (`system.ts`), a {@link MemFs} for an in-memory one. The calls
 * are the same code over either; only the object differs, so a preopen in memory behaves
 * as a host one does, errno for errno (each reports failures as Node does, with an
 * `err.code` such as `'ENOENT'`).
 */
export type FileSystem = Pick<
  typeof NodeFs,
  | 'constants'
  | 'openSync'
  | 'closeSync'
  | 'fstatSync'
  | 'statSync'
  | 'lstatSync'
  | 'readvSync'
  | 'writevSync'
  | 'ftruncateSync'
  | 'futimesSync'
  | 'utimesSync'
  | 'lutimesSync'
  | 'fsyncSync'
  | 'fdatasyncSync'
  | 'readdirSync'
  | 'mkdirSync'
  | 'rmdirSync'
  | 'unlinkSync'
  | 'renameSync'
  | 'linkSync'
  | 'symlinkSync'
  | 'readlinkSync'
  | 'realpathSync'
> & {
  /**
   * True when the times calls take nanoseconds as bigints (an in-memory file system keeps
   * them exact, so they migrate bit for bit); Node's take seconds as numbers.
   */
  readonly nanosecondTimes?: boolean;
};

/**
 * Linux's `open` flag values, as `fs.constants` gives them on Linux: the file systems
 * that are not Node's (an in-memory directory, a browser build's) use the same numbers,
 * so the WASI calls build flags one way over every file system.
 */
export const LINUX_OPEN_FLAGS = {
  O_RDONLY: 0, O_WRONLY: 1, O_RDWR: 2, O_CREAT: 0o100, O_EXCL: 0o200, O_NOCTTY: 0o400, O_TRUNC: 0o1000, O_APPEND: 0o2000,
  O_DIRECTORY: 0o200000, O_NOFOLLOW: 0o400000, O_SYNC: 0o4010000, O_DSYNC: 0o10000, O_NONBLOCK: 0o4000,
} as const;

/** A time in nanoseconds as the file system's times calls take it (see {@link FileSystem.nanosecondTimes}). */
export function timeArg(fs: FileSystem, ns: bigint): number {
  if (fs.nanosecondTimes === true) return ns as unknown as number;
  // Split to keep the microseconds exact: Number(ns) / 1e9 would round twice.
  return Number(ns / 1_000_000_000n) + Number(ns % 1_000_000_000n) / 1e9;
}
