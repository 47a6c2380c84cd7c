/**
 * A flag that is set once, and wakes whoever waits for it at that moment: for waits on
 * something a message handler will see, without polling for it on a timer.
 */
export class Latch {
  #set = false;
  readonly #waiters = new Set<() => void>();

  get isSet(): boolean {
    return this.#set;
  }

  /** Sets the flag and wakes every waiter (once). */
  set(): void {
    if (this.#set) return;
    this.#set = true;
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const wake of waiters) wake();
  }

  /** Calls `wake` when the flag is set (at once if it is); returns the undo. */
  onSet(wake: () => void): () => void {
    if (this.#set) { wake(); return () => {}; }
    this.#waiters.add(wake);
    return () => this.#waiters.delete(wake);
  }
}
