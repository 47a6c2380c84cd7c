import { ValType } from './types.ts';

/**
 * The executors keep values in 8-byte slots: a v128 takes two adjacent slots (its 16
 * bytes in memory order), every other type one. Heights, frame sizes, parameter counts
 * and branch arities in the internal code are counted in these slots.
 */
export function valueSlots(type: number): number {
  return type === ValType.v128 ? 2 : 1;
}

/** Slots a sequence of values takes (see {@link valueSlots}). */
export function slotCount(types: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < types.length; i++) n += types[i] === ValType.v128 ? 2 : 1;
  return n;
}

/** The slot offset of each value of a sequence from the first one's slot. */
export function slotOffsets(types: ArrayLike<number>): Int32Array {
  const out = new Int32Array(types.length);
  let n = 0;
  for (let i = 0; i < types.length; i++) { out[i] = n; n += types[i] === ValType.v128 ? 2 : 1; }
  return out;
}
