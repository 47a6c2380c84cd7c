import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { UsageError } from '../errors/index.ts';
import type { AgentLoad } from './messages.ts';

/**
 * What an agent advertises in its heartbeat so that the fleet can place and move jobs
 * (placement.ts, drain.ts, scheduler.ts): labels (`--label site=plant-2`), capacity
 * (cores, `--max-jobs`; memory is in every heartbeat already), whether it is draining,
 * and host signals (a battery level, a "leaving" flag) read from `--signal-file`.
 */
export interface Advertised {
  labels: Record<string, string>;
  cores: number;
  /** Most unfinished jobs the agent takes (undefined: no limit). */
  maxJobs: number | undefined;
  draining: boolean;
  signals: Record<string, string | number | boolean>;
}

/** Label keys and values: short, printable, no `=` or `,` (they separate labels on the command line). */
const LABEL_PART = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$/;
const MAX_LABELS = 32;
const MAX_SIGNALS = 32;

/**
 * `k=v` (one `--label`), checked.
 * @throws UsageError naming the argument
 */
export function parseLabel(text: string, what = '--label'): [string, string] {
  const eq = text.indexOf('=');
  const key = eq > 0 ? text.slice(0, eq) : '';
  const value = eq > 0 ? text.slice(eq + 1) : '';
  if (!LABEL_PART.test(key) || !LABEL_PART.test(value)) {
    throw new UsageError(`${what} ${JSON.stringify(text)}: expected KEY=VALUE (letters, digits, . _ / -; at most 64 each)`);
  }
  return [key, value];
}

/** Every `--label k=v` of a command line, as a map (a key given twice is an error). */
export function parseLabels(texts: readonly string[]): Record<string, string> {
  if (texts.length > MAX_LABELS) throw new UsageError(`--label: at most ${MAX_LABELS} labels`);
  const labels: Record<string, string> = {};
  for (const text of texts) {
    const [key, value] = parseLabel(text);
    if (Object.hasOwn(labels, key)) throw new UsageError(`--label ${key}: given twice`);
    labels[key] = value;
  }
  return labels;
}

/**
 * The advertised fields of a heartbeat, checked (a heartbeat is unsigned network input:
 * anything malformed counts as absent). An agent that advertises nothing (an older one)
 * counts as one core with no labels and no job limit.
 */
export function advertisedOf(load: AgentLoad | undefined): Advertised {
  const l = (load ?? {}) as Partial<AgentLoad>;
  const labels: Record<string, string> = {};
  if (isPlain(l.labels)) {
    for (const [k, v] of Object.entries(l.labels).slice(0, MAX_LABELS)) if (typeof v === 'string' && LABEL_PART.test(k) && LABEL_PART.test(v)) labels[k] = v;
  }
  const signals: Record<string, string | number | boolean> = {};
  if (isPlain(l.signals)) {
    for (const [k, v] of Object.entries(l.signals).slice(0, MAX_SIGNALS)) if (isSignalValue(v) && LABEL_PART.test(k)) signals[k] = v;
  }
  const cores = typeof l.cores === 'number' && Number.isInteger(l.cores) && l.cores > 0 && l.cores <= 4096 ? l.cores : 1;
  const maxJobs = typeof l.maxJobs === 'number' && Number.isInteger(l.maxJobs) && l.maxJobs > 0 ? l.maxJobs : undefined;
  return { labels, cores, maxJobs, draining: l.draining === true, signals };
}

function isPlain(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function isSignalValue(v: unknown): v is string | number | boolean {
  return (typeof v === 'string' && v.length <= 256) || (typeof v === 'number' && Number.isFinite(v)) || typeof v === 'boolean';
}

/** What an agent was started with, for its heartbeats. */
export interface CapacityOptions {
  labels?: Record<string, string>;
  maxJobs?: number;
  /** A JSON object of host signals (`{"battery": 12, "leaving": true}`), read at every heartbeat. */
  signalFile?: string;
  /**
   * Test-only (`WASMIG_LOAD_FILE`): a file holding a number that the heartbeat reports as
   * the agent's CPU use, so that tests can make an agent look busy without a CPU hog,
   * whose effect on a shared 2-core machine is a matter of timing.
   */
  loadFile?: string;
}

/** The advertising side: what this agent says about itself in each heartbeat. */
export class Capacity {
  readonly labels: Record<string, string>;
  readonly maxJobs: number | undefined;
  readonly cores = availableParallelism();
  draining = false;
  readonly #signalFile: string | undefined;
  readonly #loadFile: string | undefined;
  /** The last problem with the signal file, so that it is logged once, not at every beat. */
  #lastProblem: string | undefined;

  constructor(options: CapacityOptions) {
    this.labels = { ...options.labels };
    if (options.maxJobs !== undefined && (!Number.isInteger(options.maxJobs) || options.maxJobs < 1)) throw new UsageError(`--max-jobs ${options.maxJobs}: expected a whole number of at least 1`);
    this.maxJobs = options.maxJobs;
    this.#signalFile = options.signalFile;
    this.#loadFile = options.loadFile;
  }

  /** Why this agent takes no more jobs now (`unfinished` of them run or start here), or undefined. */
  refusal(agent: string, unfinished: number): string | undefined {
    if (this.draining) return `agent ${agent} is draining (it moves its jobs away before it stops)`;
    if (this.maxJobs !== undefined && unfinished >= this.maxJobs) return `agent ${agent} is full: ${unfinished} of at most ${this.maxJobs} jobs (wasmig agent --max-jobs)`;
    return undefined;
  }

  /** The heartbeat's advertised fields; `cpu` is replaced when a test load file says so. `log` hears of a bad signal file once. */
  fields(cpu: number, log: (line: string) => void): Pick<AgentLoad, 'cpu' | 'labels' | 'cores' | 'maxJobs' | 'draining' | 'signals'> {
    const fields: Pick<AgentLoad, 'cpu' | 'labels' | 'cores' | 'maxJobs' | 'draining' | 'signals'> = {
      cpu: this.#testLoad() ?? cpu, labels: this.labels, cores: this.cores, draining: this.draining,
    };
    if (this.maxJobs !== undefined) fields.maxJobs = this.maxJobs;
    const signals = this.#signals(log);
    if (signals) fields.signals = signals;
    return fields;
  }

  #testLoad(): number | undefined {
    if (!this.#loadFile) return undefined;
    try {
      const n = Number(readFileSync(this.#loadFile, 'utf8').trim());
      return Number.isFinite(n) && n >= 0 ? n : undefined;
    } catch {
      return undefined;
    }
  }

  #signals(log: (line: string) => void): Record<string, string | number | boolean> | undefined {
    if (!this.#signalFile) return undefined;
    let problem: string | undefined;
    let signals: Record<string, string | number | boolean> | undefined;
    try {
      const o: unknown = JSON.parse(readFileSync(this.#signalFile, 'utf8'));
      if (!isPlain(o)) throw new Error('not a JSON object');
      signals = advertisedOf({ signals: o } as unknown as AgentLoad).signals;
    } catch (error) {
      // A missing file is no signal (a host writes it when it has something to say).
      problem = (error as NodeJS.ErrnoException).code === 'ENOENT' ? undefined : (error as Error).message;
    }
    if (problem !== this.#lastProblem && problem !== undefined) log(`--signal-file ${this.#signalFile}: ${problem}; no host signals sent`);
    this.#lastProblem = problem;
    return signals;
  }
}
