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

/** A time in nanoseconds as the file system's times calls take it (see {@link FileSystem.nanosecondTimes}). */
export function timeArg(fs: FileSystem, ns: bigint): number {
  if (fs.nanosecondTimes === true) return ns as unknown as number;
  // Split to keep the microseconds exact: Number(ns) / 1e9 would round twice.
  return Number(ns / 1_000_000_000n) + Number(ns % 1_000_000_000n) / 1e9;
}
