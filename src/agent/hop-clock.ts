/**
 * One clock for every process and worker thread of a machine: milliseconds since the
 * epoch, at `performance.now()`'s resolution. A handoff's hops (source pause, final sent,
 * target has it, restored, ready, commit, running) are stamped with it in both agents and
 * in their jobs' workers, so that the downtime can be split hop by hop when both agents
 * share a machine (a benchmark on loopback). Across machines the stamps are only as close
 * as the machines' clocks. (`performance` is the global one, as in browsers and workers:
 * the peer, which a browser runs too, stamps the messages it receives with it.)
 */
/** Now, in milliseconds since the epoch, comparable between the threads and processes of one machine. */
export function hopClockMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Named instants of one handoff, as `hopClockMs` stamps. */
export type HopStamps = Record<string, number>;

/** Stamps that came in a message: only finite numbers are kept (they are for measuring, never for deciding). */
export function hopStampsFrom(value: unknown): HopStamps {
  const out: HopStamps = {};
  if (value === null || typeof value !== 'object') return out;
  for (const [name, at] of Object.entries(value as Record<string, unknown>)) {
    if (typeof at === 'number' && Number.isFinite(at)) out[name] = at;
  }
  return out;
}

/**
 * When a message came off the link and when its signature and replay checks were done
 * (the peer's `received`), as the stamps `NAMEArrived` and `NAMEChecked`: the hops
 * between the broker and the code that acts on the message.
 */
export function receivedStamps(name: string, message: { received?: { at: number; checked: number } }): HopStamps {
  const r = message.received;
  return r === undefined ? {} : { [`${name}Arrived`]: r.at, [`${name}Checked`]: r.checked };
}

/** The steps of a job's start, in the order they happen, as the end's log line names them. */
const START_STEPS: readonly [string, string][] = [
  ['workerTookStart', 'worker took it'], ['workerCompiled', 'compiled'], ['workerInstantiated', 'instantiated'],
  ['workerRan', 'running'], ['workerEnded', 'ended'],
];

/**
 * For a job's end in the agent's log: when each step of its life came, in ms after its
 * start request (`stamps.startRequest`), the end published at `now`; empty for a job that
 * did not start here (it arrived in a migration).
 */
export function describeStartHops(stamps: HopStamps, now: number): string {
  const from = stamps.startRequest;
  if (from === undefined) return '';
  const steps = START_STEPS.filter(([name]) => stamps[name] !== undefined).map(([name, what]) => `${what} +${(stamps[name] - from).toFixed(1)}`);
  return ` (ms after its start request: ${[...steps, `end published +${(now - from).toFixed(1)}`].join(', ')})`;
}
