import type { Instr } from '../binary/index.ts';
import type { FunctionValidator } from '../validate/index.ts';

/**
 * Which instructions of a body the exact translator emits code for, tracked along the
 * validated walk (`walkBody`): an instruction is live when it is reachable and no block
 * around it was entered from dead code (a dead block emits nothing, even where the
 * validator says reachable again). The translator decides what to emit by it, and the
 * map from byte offsets to exact pcs (`function-points.ts`) decides by it which offsets
 * have a pc: one definition, so the two cannot disagree.
 */
export class CodeLiveness {
  /** Whether the instruction being visited emits code (set by {@link CodeLiveness.before}). */
  live = false;
  /** Whether the innermost enclosing block emits code. */
  private emitting = true;
  /** Each open block's liveness at its start, innermost last. */
  private readonly blocks: boolean[] = [];

  /** Before the validator steps over an instruction: decides whether it is live. */
  before(v: FunctionValidator): boolean {
    this.live = this.emitting && v.reachable;
    return this.live;
  }

  /** After the validator stepped over `ins`: opens or closes its block. */
  after(ins: Instr): void {
    switch (ins.op) {
      case 0x02: case 0x03: case 0x04: case 0x06: case 0x1f: // block, loop, if, try, try_table: code inside is emitted if the block is
        this.blocks.push(this.live);
        this.emitting = this.live;
        return;
      case 0x05: case 0x07: case 0x19: // else, catch, catch_all: the other part is emitted if the block was (a handler reaches a catch)
        this.emitting = this.blocks[this.blocks.length - 1];
        return;
      case 0x0b: case 0x18: // end, delegate: back to what surrounded the block (the function's own end opens nothing)
        if (this.blocks.length) this.emitting = this.blocks.pop()!;
        return;
    }
  }
}
