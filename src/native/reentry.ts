/**
 * Lazy re-entry: how paused frames get back to native code without waiting for all of
 * their resume clones.
 *
 * A resume clone (see `rewrite-function.ts`) takes a few milliseconds to rewrite and
 * compile in a fresh thread; a migrated CoreMark arrives with about eight frames, each
 * at a safepoint of its own, and waiting for every clone before the first instruction
 * was most of the job's downtime. Lazily, the frames go back to native code from the
 * top down as their clones are made: the top frames whose clones are at hand run
 * natively over the rest, which wait in the interpreter at their calls; a frame without
 * a clone runs in the interpreter (its calls go native) until it returns. Clones are
 * made as frames come to the top: a frame that stands at a safepoint on top of the stack
 * gets its clone before it goes on (in the interpreter, a loop of its own would keep it
 * there until it returns); the frames below get theirs ahead, from the top down, with at
 * most as much time spent making them as the program has had to run. A migrated job
 * thus waits for one clone, not one per frame.
 *
 * The interpreter gives control back when an interpreted frame returns into the frame
 * below it (a *return barrier*: the record of its caller says "return to the host" for
 * the slice), since that frame then stands at its call's safepoint, where a clone can
 * take it up.
 */
import { exactReturnPc, normalizeFrames } from '../exec/index.ts';
import type { ThreadState } from '../exec/index.ts';
import type { CanonicalFrame, IndexSpace } from '../snapshot/index.ts';
import type { NativeTier } from './tier.ts';

/**
 * Stacks deeper than this re-enter eagerly (every clone made at once): looking at the
 * frames costs time per frame, and a deep recursion's frames share a few clones anyway.
 */
export const LAZY_REENTRY_MAX_FRAMES = 256;

/** The clone-making side of a lazy re-entry: which clone next, and whether there is time for it now. */
export class CloneSchedule {
  /** Time spent making clones, and since when the program has been given time to run (ms). */
  #making = 0;
  #since = -1;

  /** Tests: which functions' clones may be made (by function index in the frames' space); all when unset. */
  gate: ((funcIndex: number) => boolean) | undefined;

  constructor(private readonly tier: NativeTier) {}

  /**
   * Makes the top frame's clone if it is missing and can be made: a frame a clone can
   * take up never goes on in the interpreter, where a loop of its own (not calls) would
   * keep it until it returns. True when it made it.
   */
  makeTop(frames: readonly CanonicalFrame[], space: IndexSpace): boolean {
    const top = frames.length - 1;
    if (top < 0 || !this.tier.cloneMissing(frames, top, space)) return false;
    if (this.gate !== undefined && !this.gate(frames[top].funcIndex)) return false;
    const start = performance.now();
    const made = this.tier.makeResumeClone(frames, top, space);
    this.#making += performance.now() - start;
    return made;
  }

  /**
   * Makes the missing clones of `frames` from the top down while the time spent making
   * them stays within the time the program has had, or while `more` says so. The first
   * look without `more` makes none: it starts the program's clock. True when it made any.
   */
  makeSome(frames: readonly CanonicalFrame[], space: IndexSpace, more?: () => boolean): boolean {
    if (this.#since < 0) {
      this.#since = performance.now();
      if (more === undefined) return false;
    }
    let made = false;
    for (let i = frames.length - 1; i >= 0; i--) {
      if (!this.tier.cloneMissing(frames, i, space)) continue;
      if (this.gate !== undefined && !this.gate(frames[i].funcIndex)) break;
      const ran = performance.now() - this.#since - this.#making;
      if (more ? !more() : this.#making > ran) break;
      const start = performance.now();
      const ok = this.tier.makeResumeClone(frames, i, space);
      this.#making += performance.now() - start;
      made ||= ok;
      // A frame no clone can take up runs interpreted until it returns: those below wait for that.
      if (!ok) break;
    }
    return made;
  }
}

/**
 * A return barrier on the top frame of the thread: while set, that frame's return ends
 * the interpreter's run (as a return to the host does), leaving its caller on top at
 * its call's safepoint. Only above `floor` (the execution's own host return).
 */
export class ReturnBarrier {
  #index = -1;
  #caller = 0;

  /** Sets the barrier under the thread's top frame, if a frame of the execution is below it. */
  set(t: ThreadState, floor: number): void {
    const index = t.depth - 1;
    if (index <= floor) return;
    this.#index = index;
    this.#caller = t.frames[3 * index];
    t.frames[3 * index] = -1;
  }

  /**
   * Takes the barrier away. `returned`: the run ended with a return; if it was the
   * barrier's, the caller is put back on top (its results on its stack) and true comes back.
   */
  clear(t: ThreadState, returned: boolean): boolean {
    const index = this.#index;
    if (index < 0) return false;
    this.#index = -1;
    const frames = t.frames;
    frames[3 * index] = this.#caller;
    if (t.depth !== index) return false;
    if (!returned) {
      // The top frame tail-called a host function (or, through `divert`, a native one):
      // the interpreter saw the barrier as the host below and left no frame to return
      // to (`funcAddr` -1). The call is the caller's to wait for, at its return address,
      // with the arguments on the stack: where a tail call leaves it without a barrier.
      if (t.funcAddr >= 0 || t.pendingHostCall < 0) return false;
      this.#restoreCaller(t, index);
      return false;
    }
    this.#restoreCaller(t, index);
    return true;
  }

  /**
   * An exception thrown above the barrier reached it (the interpreter took it for the
   * host below and threw it out): takes the barrier away and puts its caller on top at
   * its call, for the exception to go on from there (`throwFromCall`). False when no
   * barrier is set.
   */
  throwPast(t: ThreadState): boolean {
    const index = this.#index;
    if (index < 0) return false;
    this.#index = -1;
    t.frames[3 * index] = this.#caller;
    t.depth = index;
    this.#restoreCaller(t, index);
    return true;
  }

  /** Puts the barrier's caller back on top of the thread, at its return address. */
  #restoreCaller(t: ThreadState, index: number): void {
    const frames = t.frames;
    t.funcAddr = this.#caller;
    t.pc = exactReturnPc(t, this.#caller, frames[3 * index + 1]);
    t.fp = frames[3 * index + 2];
    normalizeFrames(t);
  }
}
