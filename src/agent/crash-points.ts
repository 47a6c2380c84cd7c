/**
 * Fault points, for tests only: an agent started with `WASMIG_CRASH_AT=ROLE:STEP[:N[:ACTION]]`
 * stops dead at that exact step of a handoff, so that the fault-matrix tests kill the
 * source, the target, the broker or a client at a known point instead of guessing with
 * timers. Unset (every production agent), each point is one comparison and nothing else.
 *
 * - ROLE: `source` or `target` (the agent's side in the handoff), or `owner`/`standby`
 *   for the failover steps.
 * - STEP: `prepare`, `first-chunk`, `middle-chunk`, `last-chunk`, `commit-sent`,
 *   `commit-received`; for failover `checkpoint-sent`, `takeover` (points that code
 *   without standbys never reaches).
 * - N: the Nth time this agent reaches that step in that role (default 1); for the chunk
 *   steps, the Nth blob of handoffs (rounds, then the final package), or `final` for the
 *   final package of any handoff.
 * - ACTION: `kill` (default): the agent logs `crash-point reached ...` and sends itself
 *   SIGKILL. `stop`: it logs the same line and sends itself SIGSTOP, frozen there with its
 *   job and its connections, until the test has killed what it meant to (the broker, a
 *   client) and sends SIGCONT.
 *
 * Where each point sits (docs/protocol.md, "Faults"): source `prepare` once `prepare` is
 * with the broker; target `prepare` once the job's worker is open, before `prepared` is
 * answered; `first-chunk`/`middle-chunk`/`last-chunk` at the source once the broker
 * acknowledged that chunk, at the target once it arrived; source `commit-sent` once the
 * broker holds the first `commit`, `commit-received` once its answer `committed` is in,
 * before the source drops its copy; target `commit-received` when `commit` arrives, before
 * the job is adopted, `commit-sent` once its answer is with the broker and the job runs.
 * Failover: owner `checkpoint-sent` once every standby acknowledged a checkpoint, before
 * its output is released and its number published; standby `takeover` once the job,
 * restored from its checkpoint, runs here and the broker holds its state at the new epoch
 * (the old owner is fenced from then on), before any standby holds a checkpoint of it.
 */
import { UsageError } from '../errors/index.ts';

/** The sides of a handoff (and of a failover) a fault point can be set for. */
export const CRASH_ROLES = ['source', 'target', 'owner', 'standby'] as const;
/** One of {@link CRASH_ROLES}. */
export type CrashRole = (typeof CRASH_ROLES)[number];

/** The steps a fault point can be set at (where each sits: the file's comment, and docs/protocol.md "Faults"). */
export const CRASH_STEPS = ['prepare', 'first-chunk', 'middle-chunk', 'last-chunk', 'commit-sent', 'commit-received', 'checkpoint-sent', 'takeover'] as const;
/** One of {@link CRASH_STEPS}. */
export type CrashStep = (typeof CRASH_STEPS)[number];

type CrashAction = 'kill' | 'stop';

interface Armed {
  role: CrashRole;
  step: CrashStep;
  /** Which occurrence, or the final package (chunk steps). */
  nth: number | 'final';
  action: CrashAction;
}

/** One agent's fault point (at most one), and how often each step was reached. */
export class CrashPoints {
  readonly #armed: Armed | undefined;
  readonly #log: (line: string) => void;
  /** Times each `role:step` was reached (only counted when armed). */
  readonly #reached = new Map<string, number>();
  /** Blobs seen per role: a blob's first chunk counts it. */
  readonly #blobs = new Map<CrashRole, number>();

  /**
   * @param spec the value of `WASMIG_CRASH_AT` (undefined or empty: disarmed)
   * @param log where the agent's log lines go
   * @throws UsageError when the spec does not parse
   */
  constructor(spec: string | undefined, log: (line: string) => void) {
    this.#log = log;
    this.#armed = spec ? CrashPoints.#parse(spec) : undefined;
  }

  /** Whether a point is set. */
  get armed(): boolean {
    return this.#armed !== undefined;
  }

  static #parse(spec: string): Armed {
    const usage = `WASMIG_CRASH_AT=${spec}: expected ROLE:STEP[:N[:ACTION]], ROLE one of ${CRASH_ROLES.join(', ')}, STEP one of ${CRASH_STEPS.join(', ')}, N a number or final, ACTION kill or stop`;
    const [role, step, nth = '1', action = 'kill', ...rest] = spec.split(':');
    if (rest.length || !(CRASH_ROLES as readonly string[]).includes(role) || !(CRASH_STEPS as readonly string[]).includes(step)) throw new UsageError(usage);
    if (action !== 'kill' && action !== 'stop') throw new UsageError(usage);
    if (nth !== 'final' && !/^[1-9]\d*$/.test(nth)) throw new UsageError(usage);
    return { role: role as CrashRole, step: step as CrashStep, nth: nth === 'final' ? 'final' : Number(nth), action };
  }

  /** The agent reached `step` as `role`: acts if that is the point set. */
  reach(role: CrashRole, step: CrashStep): void {
    const armed = this.#armed;
    if (!armed || armed.role !== role || armed.step !== step) return;
    const key = `${role}:${step}`;
    const times = (this.#reached.get(key) ?? 0) + 1;
    this.#reached.set(key, times);
    if (armed.nth === times) this.#act(`${key}:${times}`);
  }

  /** Chunk `index` of `count` of a handoff blob was sent (source) or arrived (target). */
  chunk(role: CrashRole, index: number, count: number, final: boolean): void {
    const armed = this.#armed;
    if (!armed || armed.role !== role) return;
    if (index === 0) this.#blobs.set(role, (this.#blobs.get(role) ?? 0) + 1);
    const blob = this.#blobs.get(role) ?? 0;
    if (armed.nth === 'final' ? !final : armed.nth !== blob) return;
    const at = armed.step === 'first-chunk' ? 0 : armed.step === 'middle-chunk' ? Math.floor((count - 1) / 2) : armed.step === 'last-chunk' ? count - 1 : -1;
    if (index === at) this.#act(`${role}:${armed.step}:${armed.nth} (chunk ${index + 1} of ${count})`);
  }

  #act(where: string): void {
    const action = this.#armed?.action;
    // The log goes to a pipe, written synchronously: the line is out before the signal.
    this.#log(`crash-point reached ${where}; ${action === 'stop' ? 'stopping (SIGSTOP) until SIGCONT' : 'killing this agent (SIGKILL)'}`);
    process.kill(process.pid, action === 'stop' ? 'SIGSTOP' : 'SIGKILL');
  }
}
