import { FastOp } from './fast-ir.ts';
import type { FastCodeBuffer } from './fast-code-buffer.ts';

/** What an operand-stack entry holds while translating (wasmi's "provider"). */
export const Kind = {
  /** The value is in its canonical slot. */
  slot: 0,
  /** The value is local `a`, not copied yet. */
  local: 1,
  /** An i32/f32 constant `a`, not materialized yet. */
  const32: 2,
  /** An i64/f64 constant (`a`, `b`), not materialized yet. */
  const64: 3,
} as const;

/**
 * The fast translator's model of the operand stack: by height, whether a value is in its
 * canonical slot or still a local or a constant that no instruction has copied yet, so
 * that `local.get` and constants disappear into the instructions that use them. It also
 * remembers where the last result was written, for `local.set` to retarget it.
 * Operands are word offsets from the frame pointer: 2 x slot.
 */
export class LazyOperands {
  /** By height: a {@link Kind}. */
  readonly kind: number[] = [];
  /** By height: the local index or the constant (its low word). */
  readonly a: number[] = [];
  /** By height: a 64-bit constant's high word. */
  readonly b: number[] = [];
  /** Position of the last result operand written, while nothing else came after it; -1 otherwise. */
  lastDstPos = -1;
  /** The height that result stands for. */
  lastDstHeight = -1;

  constructor(private readonly out: FastCodeBuffer, private readonly numLocals: number) {}

  /** The word offset of the canonical slot of height `h`. */
  slot(h: number): number {
    return 2 * (this.numLocals + h);
  }

  /** Height `h` holds local `local`, not copied. */
  setLocal(h: number, local: number): void {
    this.kind[h] = Kind.local;
    this.a[h] = local;
  }

  /** Height `h` holds a 32-bit constant, not materialized. */
  setConst32(h: number, value: number): void {
    this.kind[h] = Kind.const32;
    this.a[h] = value;
  }

  /** Height `h` holds a 64-bit constant, not materialized. */
  setConst64(h: number, lo: number, hi: number): void {
    this.kind[h] = Kind.const64;
    this.a[h] = lo;
    this.b[h] = hi;
  }

  /** Whether height `h` is local `local`, not copied. */
  isLocal(h: number, local: number): boolean {
    return this.kind[h] === Kind.local && this.a[h] === local;
  }

  /** Writes the value of height `h` into its slot, if it is not there yet. */
  materialize(h: number, exactPc: number): void {
    const k = this.kind[h];
    if (k === Kind.slot) return;
    const out = this.out;
    if (k === Kind.local) { out.start(FastOp.copy, exactPc); out.emit(this.slot(h)); out.emit(2 * this.a[h]); }
    else if (k === Kind.const32) { out.start(FastOp.const32, exactPc); out.emit(this.slot(h)); out.emit(this.a[h]); }
    else { out.start(FastOp.const64, exactPc); out.emit(this.slot(h)); out.emit(this.a[h]); out.emit(this.b[h]); }
    this.kind[h] = Kind.slot;
    this.lastDstPos = -1;
  }

  /** Materializes every value below height `below`. */
  materializeAll(below: number, exactPc: number): void {
    for (let h = 0; h < below; h++) this.materialize(h, exactPc);
  }

  /** A word offset to read the value at height `h` from (constants get their slot first). */
  use(h: number, exactPc: number): number {
    if (this.kind[h] === Kind.local) return 2 * this.a[h];
    if (this.kind[h] !== Kind.slot) this.materialize(h, exactPc);
    return this.slot(h);
  }

  /** Height `h` now holds a result in its slot. */
  pushSlot(h: number): void {
    this.kind[h] = Kind.slot;
  }

  /** Every value below `height` is in its slot (a block start, the results of a call). */
  settle(height: number): void {
    for (let h = 0; h < height; h++) this.kind[h] = Kind.slot;
  }

  /** Writes the result operand of an instruction, for height `dstHeight`. */
  emitResult(dstHeight: number): void {
    this.lastDstPos = this.out.length;
    this.lastDstHeight = dstHeight;
    this.out.emit(this.slot(dstHeight));
  }
}
