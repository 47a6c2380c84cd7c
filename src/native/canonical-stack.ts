import { ValType } from '../wasm/index.ts';
import type { BodyWriter } from './body-writer.ts';

/** Where a value of the canonical operand stack is. */
const Place = {
  /** In its scratch local (a local of its stack position and type). */
  scratch: 0,
  /** On the Wasm stack. */
  wasm: 1,
} as const;

/**
 * The rewriter's model of the canonical operand stack (see rewrite-function.ts): the
 * type of each value and whether it is on the Wasm stack or in the scratch local of its
 * position and type. Values in scratch locals always form the bottom part. The methods
 * that move values write the `local.set` / `local.get` that move them.
 */
export class CanonicalStack {
  /** By position, bottom first. */
  readonly types: number[] = [];
  private readonly place: number[] = [];
  /** Types of the scratch locals, in the order they were needed (and are saved). */
  readonly scratchTypes: number[] = [];
  private readonly scratchBy = new Map<number, number>();
  /**
   * Positions that hold a legacy catch's exception (an exnref of the canonical stack,
   * which V8 11.3 has no value for): the scratch local of the handler's recording area
   * (see `rewrite-function.ts`), whose first local says which tag, -1 when the handler
   * has no safepoint and so never saves it.
   */
  private readonly caught = new Map<number, number>();

  /**
   * @param w the body being written
   * @param scratchBase the index of the first scratch local
   */
  constructor(private readonly w: BodyWriter, readonly scratchBase: number) {}

  get height(): number {
    return this.types.length;
  }

  /** The scratch local (counted from the first) of stack position `pos` with type `t`; made when first needed. */
  scratch(pos: number, t: number): number {
    const key = pos * 256 + t;
    let s = this.scratchBy.get(key);
    if (s === undefined) {
      s = this.scratchTypes.length;
      this.scratchTypes.push(t);
      this.scratchBy.set(key, s);
    }
    return s;
  }

  /** A scratch local of type `t` of no stack position (a handler's recording area). */
  fresh(t: number): number {
    this.scratchTypes.push(t);
    return this.scratchTypes.length - 1;
  }

  /**
   * Pushes a legacy catch's exception: it stands below the handler's values, in no
   * Wasm value; `area` is the scratch local of its recording area (-1: none).
   */
  pushCaught(area: number): void {
    this.caught.set(this.types.length, area);
    this.types.push(ValType.exnref);
    this.place.push(Place.scratch);
  }

  /** Whether the value at position `p` is in its scratch local. */
  inScratch(p: number): boolean {
    return this.place[p] === Place.scratch;
  }

  /** Moves every value on the Wasm stack into its scratch local. */
  spillAll(): void {
    for (let p = this.types.length - 1; p >= 0 && this.place[p] === Place.wasm; p--) {
      this.w.localSet(this.scratchBase + this.scratch(p, this.types[p]));
      this.place[p] = Place.scratch;
    }
  }

  /**
   * Moves every value on the Wasm stack into its scratch local, unless the local `flag`
   * is set: then the local keeps what it holds. A resume clone that throws a handler's
   * exception again lands in the clause with its values, which the saved stack already
   * holds, and its scratch locals hold what the safepoint saved there, maybe others.
   */
  spillUnless(flag: number): void {
    for (let p = this.types.length - 1; p >= 0 && this.place[p] === Place.wasm; p--) {
      const t = this.types[p];
      const local = this.scratchBase + this.scratch(p, t);
      // new, old, !flag: select keeps new when the flag is clear.
      this.w.localGet(local);
      this.w.out.u8(0x20).u32(flag).u8(0x45);
      if (t === ValType.funcref || t === ValType.externref) this.w.out.u8(0x1c).u32(1).u8(t);
      else this.w.out.u8(0x1b);
      this.w.localSet(local);
      this.place[p] = Place.scratch;
    }
  }

  /** Makes sure the top `n` values are on the Wasm stack. */
  need(n: number): void {
    if (this.onWasmStack() >= n) return;
    this.spillAll();
    this.reload(n);
  }

  /** The top `n` values on the Wasm stack, everything below them in scratch locals. */
  isolate(n: number): void {
    this.need(n);
    if (this.onWasmStack() > n) {
      this.spillAll();
      this.reload(n);
    }
  }

  /** Puts the top `n` values (all in scratch locals) back on the Wasm stack. */
  reload(n: number): void {
    for (let p = this.types.length - n; p < this.types.length; p++) {
      this.w.localGet(this.scratchBase + this.scratch(p, this.types[p]));
      this.place[p] = Place.wasm;
    }
  }

  pop(n: number): void {
    // Array.prototype.pop, not a shorter length: V8 sets `length` in its runtime, a call
    // that cost the rewrite of SQLite about a tenth of its time.
    for (let i = 0; i < n; i++) {
      this.types.pop();
      this.place.pop();
    }
  }

  /** Pops down to `height` values. */
  popTo(height: number): void {
    this.pop(this.types.length - height);
  }

  /** A value pushed on the Wasm stack. */
  push(t: number): void {
    this.types.push(t);
    this.place.push(Place.wasm);
  }

  /**
   * For a safepoint: where each value but the top `skip` is saved (its index among the
   * saved values: the `numLocals` locals first, then the scratch locals) and its type.
   * Every one of them must be in its scratch local.
   */
  saved(skip: number, numLocals: number, funcIndex: number): { stack: Int32Array; types: Uint8Array } {
    const n = this.types.length - skip;
    const stack = new Int32Array(n);
    const types = new Uint8Array(n);
    for (let p = 0; p < n; p++) {
      if (this.place[p] !== Place.scratch) throw new Error(`internal: stack value ${p} of function ${funcIndex} is not saved at a safepoint`);
      if (this.types[p] === ValType.exnref) {
        const area = this.caught.get(p) ?? -1;
        if (area < 0) throw new Error(`internal: the caught exception at stack position ${p} of function ${funcIndex} is not recorded at a safepoint`);
        stack[p] = numLocals + area;
      } else stack[p] = numLocals + this.scratch(p, this.types[p]);
      types[p] = this.types[p];
    }
    return { stack, types };
  }

  /** Values on top that are on the Wasm stack. */
  private onWasmStack(): number {
    let w = 0;
    for (let p = this.types.length - 1; p >= 0 && this.place[p] === Place.wasm; p--) w++;
    return w;
  }
}
