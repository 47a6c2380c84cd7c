/**
 * A full garbage collection of an agent's main thread shortly after a job left it.
 *
 * A move leaves tens of MB of garbage on both agents' main threads (the package's
 * buffers, its chunks as MQTT carried them, the messages to and from the job's worker),
 * most of it array buffers outside the JavaScript heap. V8 collects them when its heap
 * or their total grows past limits it sets itself (array buffers: 64 MB more than after
 * the last full collection), or when the thread is idle, which a loaded machine seldom
 * is: in the soak the agents' resident floors rose by 5 to 13 MB per 100 moves with the
 * same 28 MB live (README, *Soak*). Collecting once the job has gone, when its worker is
 * stopped and nothing of it is left to keep, returns the move's memory at once.
 *
 * Node exposes a collection only with `--expose-gc`; set from here, before the first
 * call, it makes V8 install `gc` in contexts made after it, from which it is taken.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** How long after a departure the collection runs: after the handoff's last replies and the worker's exit. */
export const COLLECT_DELAY_MS = 200;

type Collect = (options?: { type?: 'major' | 'minor'; execution?: 'sync' | 'async' }) => void;

/** The collector, or undefined when this V8 does not give it (the agent then runs without). */
function collector(): Collect | undefined {
  try {
    setFlagsFromString('--expose-gc');
    const gc: unknown = runInNewContext('typeof gc === "function" ? gc : undefined');
    return typeof gc === 'function' ? (gc as Collect) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A hook for `AgentOptions.afterDeparture`: each call schedules one full collection
 * `delayMs` later (calls meanwhile share it); the timer does not keep the process alive.
 * Undefined when the collector cannot be had.
 */
export function collectAfterMove(delayMs = COLLECT_DELAY_MS): (() => void) | undefined {
  const gc = collector();
  if (!gc) return undefined;
  let pending: NodeJS.Timeout | undefined;
  return () => {
    if (pending) return;
    pending = setTimeout(() => {
      pending = undefined;
      // Asynchronous: V8 runs it as a task of its own. (Node 20's V8 takes a synchronous
      // `{ type: 'major' }` in 0.4 ms and frees nothing; plain `gc()` blocks for a full
      // collection, 27 ms for 50 MB of dead array buffers here.)
      gc({ type: 'major', execution: 'async' });
    }, delayMs);
    pending.unref();
  };
}
