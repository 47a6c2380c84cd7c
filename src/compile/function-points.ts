import { walkBody } from '../validate/index.ts';
import { isRefType, refNullable, refStorageType } from '../wasm/index.ts';
import type { ModuleContext } from '../validate/index.ts';
import type { ExactCode } from './ir.ts';
import { CodeLiveness } from './liveness.ts';

/**
 * What validation knows at each position of a function, recovered by one more validated
 * walk of its body when first asked (a snapshot's capture or restore): the exact pc of
 * each byte offset, and the operand stack's types before each instruction. Label and
 * control stacks are never stored in a snapshot; they follow from the pc, because the
 * exact code has every branch resolved. This is what lets a restore check an untrusted
 * frame against the function's typing.
 */
export class FunctionPoints {
  /** Types of the parameters and declared locals, as their values are held (typed references as funcref or externref). */
  readonly localTypes: readonly number[];
  /** Per exact pc that starts an instruction: index into `types` of its stack's types; -1 elsewhere. */
  private readonly typeStart: Int32Array;
  /** Operand stack types before each instruction, concatenated, as their values are held (see `localTypes`). */
  private readonly types: Uint8Array;
  /** Parallel to `types`: 1 where validation types the value as a non-nullable reference (Wasm 3.0), which a restore must not set to null. */
  private readonly nonNull: Uint8Array;
  /** Per exact pc that starts an instruction: how many values its stack holds (`exact.heights` counts slots). */
  private readonly typeCount: Int32Array;
  /** Byte offset of every live instruction boundary to the exact pc that continues there. */
  private readonly pcs = new Map<number, number>();
  private readonly exact: ExactCode;

  /**
   * Walks body `codeIndex` beside its exact code, which must come from the same walk's
   * translator (`translateExact`): the shared {@link CodeLiveness} says which offsets it
   * emitted code for.
   */
  constructor(context: ModuleContext, codeIndex: number, exact: ExactCode) {
    this.exact = exact;
    const { offsets, heights } = exact;
    const funcIndex = context.module.numImportedFuncs + codeIndex;
    const typeStart = new Int32Array(offsets.length).fill(-1);
    const typeCount = new Int32Array(offsets.length);
    const types: number[] = [];
    const nonNull: number[] = [];
    // Offsets of live instructions that emit nothing (block, loop, a block's end): they continue at the next one that does.
    const pending: number[] = [];
    const liveness = new CodeLiveness();
    let next = 0;
    const v = walkBody(context, codeIndex, {
      before: (ins, v) => {
        if (!liveness.before(v)) return;
        while (next < offsets.length && offsets[next] < 0) next++;
        if (next < offsets.length && offsets[next] === ins.offset) {
          if (heights[next] !== v.slotHeight) throw new Error(`internal: stack height mismatch in function ${funcIndex} at byte ${ins.offset}`);
          typeStart[next] = types.length;
          typeCount[next] = v.vals.length;
          // A typed reference (Wasm 3.0) is held, captured and restored as a funcref or externref.
          for (let i = 0; i < v.vals.length; i++) {
            const t = v.vals[i];
            types.push(refStorageType(t));
            nonNull.push(isRefType(t) && !refNullable(t) ? 1 : 0);
          }
          this.pcs.set(ins.offset, next);
          for (const p of pending) this.pcs.set(p, next);
          pending.length = 0;
          next++;
        } else {
          pending.push(ins.offset);
        }
      },
      after: (ins) => liveness.after(ins),
    });
    this.localTypes = v.locals.map(refStorageType);
    this.typeStart = typeStart;
    this.typeCount = typeCount;
    this.types = Uint8Array.from(types);
    this.nonNull = Uint8Array.from(nonNull);
  }

  /** The exact pc that continues at byte offset `offset`; undefined when it is not a live instruction boundary. */
  pcAt(offset: number): number | undefined {
    return this.pcs.get(offset);
  }

  /** The operand stack types before the instruction at exact pc `pc`. */
  stackTypesAt(pc: number): Uint8Array {
    const start = this.typeStart[pc];
    return this.types.subarray(start, start + this.typeCount[pc]);
  }

  /** Parallel to {@link FunctionPoints.stackTypesAt}: 1 for each value validation types as a non-nullable reference. */
  stackNonNullAt(pc: number): Uint8Array {
    const start = this.typeStart[pc];
    return this.nonNull.subarray(start, start + this.typeCount[pc]);
  }

  /** The exact pc of the instruction that ends right before `pc` (-1 at the start). */
  previousInstruction(pc: number): number {
    const offsets = this.exact.offsets;
    let p = pc - 1;
    while (p >= 0 && offsets[p] < 0) p--;
    return p;
  }
}
