import type { BodyWriter } from './body-writer.ts';
import type { FunctionRewriteOptions, HelperIndices } from './rewrite-function.ts';

/** Loop iterations of one activation between two polls (with per-activation counters). */
export const LOCAL_POLL_INTERVAL = 1024;

/** The rewritten body's own locals that the safepoint code uses. */
export interface PollLocals {
  /** `$site`: the safepoint being unwound from. */
  site: number;
  /** `$tmp`: an i32 for `tee`-like sequences. */
  tmp: number;
  /** `$count`: the per-activation loop counter. */
  count: number;
}

/**
 * The code around safepoints: unwinding to `$save`, the countdowns that decide when to
 * ask the host whether to pause, the poll itself, and the native stack budget of
 * recursive functions.
 */
export class PollCode {
  constructor(
    private readonly w: BodyWriter,
    private readonly helpers: HelperIndices,
    private readonly locals: PollLocals,
    private readonly loopPoll: FunctionRewriteOptions['loopPoll'],
    /** Writes what safepoint `k`'s way out does first (clearing its dead locals). */
    private readonly beforeUnwind: (k: number) => void = () => {},
  ) {}

  /** Unwinds from safepoint `k`: `$site = k; br $save`. */
  unwindTo(k: number, depthToSave: number): void {
    this.beforeUnwind(k);
    this.w.out.u8(0x41).s32(k);
    this.w.localSet(this.locals.site);
    this.w.out.u8(0x0c).u32(depthToSave);
  }

  /**
   * Calls the host's poll; unwinds from safepoint `k` when it says so (0). Otherwise its
   * answer is the next global countdown; a per-activation counter starts over.
   */
  callPoll(k: number, local: boolean): void {
    const { w, helpers: h, locals } = this;
    const out = w.out;
    if (local) {
      // The activation's counter ran out: count one down globally, ask the host when that runs out.
      out.u8(0x41).s32(LOCAL_POLL_INTERVAL).u8(0x21).u32(locals.count);
      this.globalCountdown();
      out.u8(0x04).u8(0x40);
      w.labels++;
    }
    out.u8(0x10).u32(h.poll).u8(0x22).u32(locals.tmp).u8(0x24).u32(h.countdown).u8(0x20).u32(locals.tmp);
    out.u8(0x45).u8(0x04).u8(0x40);
    this.unwindTo(k, w.depthToSave(1));
    out.u8(0x0b);
    if (local) {
      out.u8(0x0b);
      w.labels--;
    }
  }

  /**
   * Counts a loop header down; leaves 1 on the stack when it is time to poll. The
   * per-activation counter counts the `iterations` the header covers (an unrolled loop's
   * copies), so that polls stay as far apart as without unrolling.
   */
  countdown(iterations: number): void {
    if (this.loopPoll === 'local') {
      // In a register once V8 has optimized the function: `(count -= n) < 1`.
      const count = this.locals.count;
      this.w.out.u8(0x20).u32(count).u8(0x41).s32(iterations).u8(0x6b).u8(0x22).u32(count).u8(0x41).s32(1).u8(0x48);
    } else {
      // A global countdown (the host resets it at each poll, to as little as 1): every
      // loop header counts one, so that a loop re-entered after a poll runs a copy first.
      this.globalCountdown();
    }
  }

  /** `--countdown < 0`: below zero, not at zero, so that a loop re-entered after a poll runs its body before polling again. */
  globalCountdown(): void {
    const { helpers: h, locals } = this;
    this.w.out.u8(0x23).u32(h.countdown).u8(0x41).s32(1).u8(0x6b).u8(0x22).u32(locals.tmp).u8(0x24).u32(h.countdown).u8(0x20).u32(locals.tmp).u8(0x41).s32(0).u8(0x48);
  }

  /** At the entry of a recursive function: `depth -= cost; if (depth < 0) unwind` (the native stack is about to run out). */
  stackBudgetCheck(k: number, frameCost: number): void {
    const { w, helpers: h, locals } = this;
    const out = w.out;
    out.u8(0x23).u32(h.depth).u8(0x41).s32(frameCost).u8(0x6b);
    out.u8(0x22).u32(locals.tmp).u8(0x24).u32(h.depth).u8(0x20).u32(locals.tmp);
    out.u8(0x41).s32(0).u8(0x48).u8(0x04).u8(0x40);
    out.u8(0x10).u32(h.deep);
    this.unwindTo(k, w.depthToSave(1));
    out.u8(0x0b);
  }

  /** Before a recursive function returns: gives its stack budget back. */
  stackBudgetRelease(frameCost: number): void {
    const h = this.helpers;
    this.w.out.u8(0x23).u32(h.depth).u8(0x41).s32(frameCost).u8(0x6a).u8(0x24).u32(h.depth);
  }

  /**
   * At a function's entry: entries count down the global countdown, so that recursion
   * without loops polls here, and so do many short activations whose own counters
   * never run out.
   */
  entryPoll(k: number): void {
    this.globalCountdown();
    this.w.out.u8(0x04).u8(0x40);
    this.w.labels++;
    this.callPoll(k, false);
    this.w.out.u8(0x0b);
    this.w.labels--;
  }

  /** Starts an activation's loop counter. */
  startCounter(): void {
    this.w.out.u8(0x41).s32(LOCAL_POLL_INTERVAL).u8(0x21).u32(this.locals.count);
  }
}
