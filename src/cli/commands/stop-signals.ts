/**
 * SIGTERM and SIGINT, counted: a long-running command (an agent draining its jobs) does
 * something gentle on the first and stops at once on the second. With
 * WASMIG_EXIT_WITH_PARENT=1 a parent that is gone counts as a signal (servers started by
 * tests stop by themselves even if the test runner dies).
 */
export class StopSignals {
  readonly #waiters: ((why: string) => void)[] = [];
  readonly #pending: string[] = [];
  readonly #onInt = (): void => this.#signal('SIGINT');
  readonly #onTerm = (): void => this.#signal('SIGTERM');
  #timer: NodeJS.Timeout | undefined;

  constructor() {
    process.on('SIGINT', this.#onInt);
    process.on('SIGTERM', this.#onTerm);
    if (process.env.WASMIG_EXIT_WITH_PARENT === '1') {
      const parent = process.ppid;
      this.#timer = setInterval(() => { if (process.ppid !== parent) this.#signal('parent exited'); }, 500);
    }
  }

  /** Resolves at the next signal (or one that came since the last call) with its name. */
  next(): Promise<string> {
    const pending = this.#pending.shift();
    if (pending !== undefined) return Promise.resolve(pending);
    return new Promise((resolve) => { this.#waiters.push(resolve); });
  }

  /** Stops listening: signals get their default action again. */
  close(): void {
    process.off('SIGINT', this.#onInt);
    process.off('SIGTERM', this.#onTerm);
    if (this.#timer) clearInterval(this.#timer);
  }

  #signal(why: string): void {
    const waiter = this.#waiters.shift();
    if (waiter) waiter(why);
    else this.#pending.push(why);
  }
}
