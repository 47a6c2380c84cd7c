/**
 * An asynchronous import in progress: the host function returned a promise, and the
 * thread stands at its call (the function's address in `pendingHostCall`, its arguments
 * on the stack), which is plain data like any pause. The execution keeps this object
 * beside the thread; once the promise settles, `run` writes the value as the call's
 * results, or traps for a rejection.
 */
import { Trap } from '../errors/index.ts';

/** True for what an import may return to be awaited: a promise or any thenable. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

/** One import awaited: which host function, and its promise's outcome once settled. */
export class HostSuspension {
  /** Set once the import's promise settled. */
  private outcome: { ok: true; value: unknown } | { ok: false; error: unknown } | undefined;
  /** Resolves once `outcome` is set; never rejects (a rejection becomes a trap in `run`). */
  readonly settled: Promise<void>;

  constructor(readonly funcAddr: number, readonly importName: string, promise: PromiseLike<unknown>) {
    this.settled = Promise.resolve(promise).then(
      (value) => { this.outcome = { ok: true, value }; },
      (error: unknown) => { this.outcome = { ok: false, error }; },
    );
  }

  /** True once the promise settled. */
  get ready(): boolean {
    return this.outcome !== undefined;
  }

  /**
   * The settled value, to be written as the call's results.
   * @throws Trap when the promise was rejected (the guest traps at the call).
   */
  value(): unknown {
    const o = this.outcome;
    if (o === undefined) throw new Error('internal: the import has not settled');
    if (o.ok) return o.value;
    const reason = o.error instanceof Error ? o.error.message : String(o.error);
    const trap = new Trap(`host function ${this.importName} failed: ${reason}`);
    (trap as { cause?: unknown }).cause = o.error;
    throw trap;
  }
}
