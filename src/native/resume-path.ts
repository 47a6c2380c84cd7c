import { createInstr, InstructionReader } from '../binary/index.ts';
import type { BodyWriter } from './body-writer.ts';
import type { CanonicalStack } from './canonical-stack.ts';
import type { ResumeTarget } from './rewrite-function.ts';

/** A block on the way from a function's start to a resume target. */
export interface PathStep {
  /** Byte offset of the block's opcode. */
  offset: number;
  /** An `if` whose else-branch holds the safepoint. */
  inElse: boolean;
  /**
   * A legacy `try` one of whose `catch` / `catch_all` clauses holds the safepoint: the
   * clone re-enters the handler by throwing the exception the frame held in the body.
   */
  inHandler: boolean;
}

/** The blocks enclosing a resume target, outermost first (the target loop included), or undefined. */
function findPath(bytes: Uint8Array, start: number, end: number, target: ResumeTarget): PathStep[] | undefined {
  const r = new InstructionReader(bytes, start, end);
  const ins = createInstr();
  const stack: PathStep[] = [];
  while (r.pos < end) {
    r.read(ins);
    const op = ins.op;
    if (op === 0x02 || op === 0x03 || op === 0x04 || op === 0x06) {
      stack.push({ offset: ins.offset, inElse: false, inHandler: false });
      if (op === 0x03 && target.kind === 'loop' && r.pos === target.pc) return stack.map((s) => ({ ...s }));
    } else if (op === 0x05) {
      stack[stack.length - 1].inElse = true;
    } else if (op === 0x07 || op === 0x19) {
      stack[stack.length - 1].inHandler = true;
    } else if (op === 0x0b || op === 0x18) {
      // A legacy try ends at its `end` or its `delegate`.
      stack.pop();
    } else if ((op === 0x10 || op === 0x11) && target.kind === 'call' && r.pos === target.pc) {
      return stack.map((s) => ({ ...s }));
    }
  }
  return undefined;
}

/**
 * How a resume clone skips what comes before its safepoint (see {@link ResumeTarget}):
 * the blocks of the path are entered, everything else at their level is wrapped in
 * `if (!$rs)`, and the safepoint clears `$rs`. Without a target (a plain rewrite) the
 * safepoint counts as reached from the start and nothing is skipped.
 */
export class ResumeSkipping {
  /** Whether the safepoint has been reached (always, without a target). */
  reached: boolean;
  private readonly path: PathStep[] | undefined;
  /** Blocks of the path entered so far. */
  private depth = 0;
  /** Code is inside an `if (!$rs)` guard. */
  private guardOpen = false;

  /**
   * @param flag the `$rs` local
   */
  constructor(
    private readonly target: ResumeTarget | undefined,
    body: { bytes: Uint8Array; start: number; end: number; funcIndex: number },
    private readonly w: BodyWriter,
    private readonly stack: CanonicalStack,
    private readonly flag: number,
  ) {
    this.reached = target === undefined;
    this.path = target ? findPath(body.bytes, body.start, body.end, target) : undefined;
    if (target && !this.path) throw new Error(`internal: no safepoint at 0x${target.pc.toString(16)} in function ${body.funcIndex}`);
  }

  /**
   * Before an instruction at block depth `blockDepth`, while the safepoint is not reached:
   * the path's next block when this instruction opens it; otherwise code at the path's
   * level is guarded (and `else` or `end` closes the guard).
   */
  before(op: number, offset: number, blockDepth: number): PathStep | undefined {
    if (this.reached || blockDepth !== this.depth) return undefined;
    const step = this.path![this.depth];
    if (step !== undefined && offset === step.offset) {
      this.closeGuard();
      return step;
    }
    if (op === 0x05 || op === 0x0b || op === 0x07 || op === 0x19 || op === 0x18) this.closeGuard();
    else if (!this.guardOpen) this.openGuard();
    return undefined;
  }

  /** A block of the path is entered. */
  enter(): void {
    this.depth++;
  }

  /** Whether the block just entered is the target loop. */
  enteredTargetLoop(): boolean {
    return this.depth === this.path!.length && this.target!.kind === 'loop';
  }

  /** Whether the call ending at `next`, at block depth `blockDepth`, is the target call. */
  isTargetCall(next: number, blockDepth: number): boolean {
    return !this.reached && next === this.target!.pc && this.target!.kind === 'call' && blockDepth === this.depth && this.depth === this.path!.length;
  }

  /** The safepoint is reached: stop skipping (`$rs = 0`). */
  reach(): void {
    this.w.out.u8(0x41).s32(0).u8(0x21).u32(this.flag);
    this.reached = true;
  }

  /** Ends the guard, if one is open. */
  closeGuard(): void {
    if (!this.guardOpen) return;
    this.stack.spillAll();
    this.w.out.u8(0x0b);
    this.w.labels--;
    this.guardOpen = false;
  }

  /**
   * A then-branch skipped while resuming ended in a branch, a return or a throw (its
   * code went dead): close its guard. Past the guard the branch cannot fall through
   * (unguarded, its code ended in the branch; resuming, the `if` took the else-branch),
   * so `unreachable` follows: a then-branch with results would otherwise end with none.
   */
  closeDeadGuard(blockDepth: number): void {
    if (!this.guardOpen || blockDepth !== this.depth) return;
    this.w.out.u8(0x0b).u8(0x00);
    this.w.labels--;
    this.guardOpen = false;
  }

  /** Skips what follows while resuming: `if (!$rs)`, every value in scratch locals. */
  private openGuard(): void {
    this.stack.spillAll();
    this.w.out.u8(0x20).u32(this.flag).u8(0x45).u8(0x04).u8(0x40);
    this.w.labels++;
    this.guardOpen = true;
  }
}
