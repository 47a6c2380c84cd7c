import { FastOp } from './fast-ir.ts';

/**
 * The fast code being written: a growable Int32Array, the exact pc each instruction
 * stems from, and the branch targets (exact pcs until every block has its fuel
 * instruction, then fast pcs).
 */
export class FastCodeBuffer {
  code: Int32Array;
  length = 0;
  /** The exact pc of each fast pc that starts an instruction (sparse). */
  private readonly exactAt: number[] = [];
  /** Positions holding a branch's exact target, to become [the target's fuel instruction, its cost]. */
  private readonly targets: number[] = [];
  /** Positions holding a br_table entry's exact target, to become the target's fuel instruction. */
  private readonly entries: number[] = [];

  constructor(capacity: number) {
    this.code = new Int32Array(capacity);
  }

  emit(value: number): void {
    if (this.length === this.code.length) {
      const bigger = new Int32Array(this.code.length * 2);
      bigger.set(this.code);
      this.code = bigger;
    }
    this.code[this.length++] = value;
  }

  /** Starts an instruction that stems from the exact instruction at `exactPc`. */
  start(op: number, exactPc: number): void {
    this.exactAt[this.length] = exactPc;
    this.emit(op);
  }

  /** A branch's target and cost, written once the target block's fuel instruction is known. */
  target(exactTarget: number): void {
    this.targets.push(this.length);
    this.emit(exactTarget);
    this.emit(0);
  }

  /** A br_table entry at `position` that goes straight to the block at `exactTarget`. */
  entry(position: number, exactTarget: number): void {
    this.entries.push(position);
    this.code[position] = exactTarget;
  }

  /**
   * A fuel instruction that charges nothing: it makes a branch stub or the fall-through
   * of a branch that moves values look like a block start to the branches that charge
   * the next block themselves. Being free, it never sends execution to the exact code.
   */
  freeFuel(exactPc: number): void {
    this.start(FastOp.fuel, exactPc);
    this.emit(0);
    this.emit(exactPc);
  }

  /** Turns every target into the fast pc of its block's fuel instruction (and a branch's cost). */
  resolveTargets(fastPcAt: Int32Array): void {
    const code = this.code;
    const fuelAt = (exactTarget: number): number => {
      const target = fastPcAt[exactTarget];
      if (target < 0 || code[target] !== FastOp.fuel) throw new Error(`internal error: fast code branch to exact pc ${exactTarget} without a block`);
      return target;
    };
    for (const p of this.targets) {
      const target = fuelAt(code[p]);
      code[p] = target;
      code[p + 1] = code[target + 1];
    }
    for (const p of this.entries) code[p] = fuelAt(code[p]);
  }

  /** For each fast pc that starts an instruction, its exact pc; -1 elsewhere. */
  exactPcs(): Int32Array {
    const exactPcAt = new Int32Array(this.length).fill(-1);
    this.exactAt.forEach((e, i) => { exactPcAt[i] = e; });
    return exactPcAt;
  }
}
