import type * as fs from 'node:fs';
import { Errno, FstFlags } from './abi.ts';
import type { FilestatLayout } from './abi.ts';
import { fail } from './errno.ts';
import { fileTypeOf } from './fd-table.ts';
import type { GuestMemory } from './memory.ts';

/**
 * Writes a `filestat` record at `ptr` in the given snapshot's layout (see abi.ts):
 * dev u64, ino u64, filetype u8, nlink (u64, or u32 in snapshot 0), size u64, atim,
 * mtim, ctim (u64 ns). Padding bytes are zeroed so the output is deterministic.
 */
export function writeFilestat(mem: GuestMemory, ptr: number, layout: FilestatLayout, st: fs.BigIntStats): void {
  const out = mem.bytes(ptr, layout.size);
  out.fill(0);
  const base = ptr >>> 0;
  mem.setU64(base + layout.dev, st.dev);
  mem.setU64(base + layout.ino, st.ino);
  mem.setU8(base + layout.filetype, fileTypeOf(st));
  if (layout.nlinkBits === 64) mem.setU64(base + layout.nlink, st.nlink);
  else mem.setU32(base + layout.nlink, Number(BigInt.asUintN(32, st.nlink)));
  mem.setU64(base + layout.fileSize, st.size);
  mem.setU64(base + layout.atim, st.atimeNs);
  mem.setU64(base + layout.mtim, st.mtimeNs);
  mem.setU64(base + layout.ctim, st.ctimeNs);
}

/**
 * The (atime, mtime) pair in nanoseconds for utimes-like calls (see `timeArg`), from `fstflags`: each time is
 * the given value, "now", or left as it is (read lazily from `current`). Setting both a
 * value and "now" for the same time is EINVAL, as are unknown flag bits.
 * Returns undefined when nothing is to change.
 */
export function timesToSet(
  flags: number,
  atim: bigint,
  mtim: bigint,
  nowNs: () => bigint,
  current: () => fs.BigIntStats,
): [bigint, bigint] | undefined {
  const f = flags & 0xffff;
  if (f & ~0xf) fail(Errno.INVAL);
  if ((f & FstFlags.ATIM && f & FstFlags.ATIM_NOW) || (f & FstFlags.MTIM && f & FstFlags.MTIM_NOW)) fail(Errno.INVAL);
  if (f === 0) return undefined;
  let stat: fs.BigIntStats | undefined;
  const keep = (which: 'atimeNs' | 'mtimeNs'): bigint => (stat ??= current())[which];
  const a = f & FstFlags.ATIM ? BigInt.asUintN(64, atim) : f & FstFlags.ATIM_NOW ? nowNs() : keep('atimeNs');
  const m = f & FstFlags.MTIM ? BigInt.asUintN(64, mtim) : f & FstFlags.MTIM_NOW ? nowNs() : keep('mtimeNs');
  return [a, m];
}
