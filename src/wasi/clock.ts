import { ClockId, Errno } from './abi.ts';
import { fail } from './errno.ts';
import { blockFor, cpuTimeNs, monotonicNs } from './system.ts';
import type { WakeWord } from './host.ts';

/** Clock readings carried across a migration (nanoseconds). */
export interface ClockCapture {
  /** The guest's monotonic clock at capture; it resumes from here on the new host. */
  monotonic: bigint;
  /** The guest's CPU-time clock at capture; it resumes from here too. */
  cpu: bigint;
}


/**
 * The guest's clocks. Monotonic and CPU time are the host's plus an offset, so that after
 * a migration they continue from the captured value instead of jumping (the new host's
 * hrtime has an unrelated origin). Realtime is the host's wall clock: it is shared truth.
 * Process and thread CPU time are the same clock: the guest is one thread of the host.
 */
export class Clocks {
  #monotonicOffset = 0n;
  #cpuOffset = 0n;

  constructor(resumeFrom?: ClockCapture) {
    if (resumeFrom !== undefined) {
      this.#monotonicOffset = resumeFrom.monotonic - monotonicNs();
      this.#cpuOffset = resumeFrom.cpu - cpuTimeNs();
    }
  }

  monotonic(): bigint {
    return monotonicNs() + this.#monotonicOffset;
  }

  realtime(): bigint {
    // timeOrigin + now() has microseconds but ignores wall-clock adjustments (NTP steps)
    // made since the process started; Date.now() follows them. Use the precise one while
    // the two agree to within a millisecond.
    const wall = Date.now();
    const precise = performance.timeOrigin + performance.now();
    const ms = Math.abs(precise - wall) <= 1 ? precise : wall;
    return BigInt(Math.trunc(ms * 1000)) * 1000n;
  }

  cpu(): bigint {
    return cpuTimeNs() + this.#cpuOffset;
  }

  /** The current time of clock `id` (EINVAL for an unknown clock). */
  now(id: number): bigint {
    switch (id) {
      case ClockId.REALTIME:
        return this.realtime();
      case ClockId.MONOTONIC:
        return this.monotonic();
      case ClockId.PROCESS_CPUTIME_ID:
      case ClockId.THREAD_CPUTIME_ID:
        return this.cpu();
      default:
        return fail(Errno.INVAL);
    }
  }

  /** Resolution of clock `id` in ns: what the host sources above can actually tell apart. */
  resolution(id: number): bigint {
    switch (id) {
      case ClockId.REALTIME:
        return 1000n;
      case ClockId.MONOTONIC:
        return 1n;
      case ClockId.PROCESS_CPUTIME_ID:
      case ClockId.THREAD_CPUTIME_ID:
        return 1000n;
      default:
        return fail(Errno.INVAL);
    }
  }

  capture(): ClockCapture {
    return { monotonic: this.monotonic(), cpu: this.cpu() };
  }
}

/**
 * Blocks the thread for `ns` nanoseconds, or until `wake`'s word is raised: returns the
 * nanoseconds left then (0 when it slept the whole time). The wait is on the word itself
 * (`Atomics.wait`), so a raise that notifies ends it at once; where a thread may not wait
 * (a page's main thread), it sleeps in steps of a millisecond, looking at the word.
 */
export function sleepNsUnlessWoken(ns: bigint, wake: WakeWord): bigint {
  if (ns <= 0n) return 0n;
  const deadline = monotonicNs() + ns;
  for (;;) {
    const left = deadline - monotonicNs();
    if (left <= 0n) return 0n;
    if (Atomics.load(wake.words, wake.index) !== 0) return left;
    try {
      Atomics.wait(wake.words, wake.index, 0, Number(left) / 1e6);
    } catch {
      blockFor(Math.min(1, Number(left) / 1e6));
    }
  }
}

/** Blocks the thread for `ns` nanoseconds (`blockFor` in `system.ts`: `Atomics.wait` on Node). */
export function sleepNs(ns: bigint): void {
  if (ns <= 0n) return;
  const deadline = monotonicNs() + ns;
  for (;;) {
    const left = deadline - monotonicNs();
    if (left <= 0n) return;
    blockFor(Number(left) / 1e6);
  }
}
