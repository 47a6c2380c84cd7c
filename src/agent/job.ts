import { performance } from 'node:perf_hooks';
import { ExhaustionError, Trap, WasmigError } from '../errors/index.ts';
import type { Program } from '../program/index.ts';
import type { RunOutcome } from '../runtime/index.ts';
import type { OutputSink } from '../wasi/index.ts';
import type { StreamId } from './frames.ts';
import type { JobSpec, JobStateName } from './messages.ts';
import type { LogEntry, OutputLog } from './output-log.ts';

/** Exit status of a job that trapped: 128 + SIGABRT, as `wasmig run` says. */
export const TRAP_STATUS = 134;

/** How long one slice of a job should run before the agent looks at its network. */
const SLICE_MS = 8;
const MIN_BUDGET = 2_000;
const MAX_BUDGET = 20_000_000;

export interface JobHooks {
  /** New output, in order, already in the log. */
  output: (job: Job, entries: LogEntry[]) => void;
  /** The job exited or failed. */
  end: (job: Job) => void;
}

export interface JobInit {
  id: string;
  spec: JobSpec;
  epoch: number;
  log: OutputLog;
  hooks: JobHooks;
}

/**
 * A job on an agent: a {@link Program} run in slices of about {@link SLICE_MS} ms that
 * yield to the event loop (heartbeats, other jobs and migrations go on meanwhile), its
 * output captured into an {@link OutputLog}, its ownership epoch.
 */
export class Job {
  readonly id: string;
  readonly spec: JobSpec;
  /** Ownership generation of this copy. */
  epoch: number;
  /** Highest epoch any migration attempt of this job used (attempts never reuse one). */
  epochCounter: number;
  state: JobStateName = 'paused';
  /** Where the job is going while migrating. */
  target: string | undefined;
  program!: Program;
  readonly log: OutputLog;
  status: number | undefined;
  error: string | undefined;
  endedAt: number | undefined;
  readonly #hooks: JobHooks;
  #pending: { stream: StreamId; data: Uint8Array }[] = [];
  #loop: Promise<void> | undefined;
  #stop = false;
  #discarded = false;
  #budget = 20_000;

  constructor(init: JobInit) {
    this.id = init.id;
    this.spec = init.spec;
    this.epoch = init.epoch;
    this.epochCounter = init.epoch;
    this.log = init.log;
    this.#hooks = init.hooks;
  }

  /** The output sink for stdout (1) or stderr (2) of this job's program. */
  sink(stream: StreamId): OutputSink {
    return (data) => { this.#pending.push({ stream, data }); };
  }

  get finished(): boolean {
    return this.state === 'exited' || this.state === 'failed';
  }

  /** Starts (or resumes) running slices. */
  run(): void {
    if (this.finished || this.#loop || this.#discarded) return;
    this.state = 'running';
    this.#stop = false;
    this.#loop = this.#slices().finally(() => { this.#loop = undefined; });
  }

  /** Stops at the next slice boundary; resolves once the program is paused and its output logged. */
  async pause(): Promise<void> {
    this.#stop = true;
    await this.#loop;
    this.#flush();
    if (!this.finished) this.state = 'paused';
  }

  /** Drops this copy: no more slices, host files closed. */
  discard(): void {
    this.#stop = true;
    this.#discarded = true;
    this.#pending = [];
    try {
      this.program?.wasi.close();
    } catch {
      // Best effort: the files may be gone already.
    }
  }

  async #slices(): Promise<void> {
    const program = this.program;
    while (!this.#stop) {
      const t0 = performance.now();
      let outcome: RunOutcome;
      try {
        // The interpreter counts instructions; the native tier, which does not, stops on time.
        outcome = program.run({ budget: this.#budget, timeSliceMs: SLICE_MS });
      } catch (error) {
        this.#flush();
        this.#fail(error);
        return;
      }
      const ms = performance.now() - t0;
      // Aim at SLICE_MS per slice, whatever the program does (sleeps included).
      const scale = ms > 0.05 ? SLICE_MS / ms : 4;
      this.#budget = Math.round(Math.min(MAX_BUDGET, Math.max(MIN_BUDGET, this.#budget * Math.min(4, Math.max(0.1, scale)))));
      this.#flush();
      if (outcome.kind !== 'paused') {
        this.#end(outcome.kind === 'exited' ? outcome.status : 0);
        return;
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  #flush(): void {
    if (this.#pending.length === 0) return;
    const pending = this.#pending;
    this.#pending = [];
    const entries: LogEntry[] = [];
    let i = 0;
    while (i < pending.length) {
      // Adjacent writes to one stream become one chunk.
      const stream = pending[i].stream;
      let j = i;
      let size = 0;
      while (j < pending.length && pending[j].stream === stream) size += pending[j++].data.length;
      const data = j - i === 1 ? pending[i].data : Buffer.concat(pending.slice(i, j).map((p) => p.data), size);
      entries.push(...this.log.append(stream, data));
      i = j;
    }
    if (entries.length) this.#hooks.output(this, entries);
  }

  #end(status: number): void {
    this.state = 'exited';
    this.status = status;
    this.endedAt = Date.now();
    this.discard();
    this.#hooks.end(this);
  }

  #fail(error: unknown): void {
    this.state = 'failed';
    this.endedAt = Date.now();
    if (error instanceof Trap) {
      this.status = TRAP_STATUS;
      this.error = `${error instanceof ExhaustionError ? 'exhausted' : 'trap'}: ${error.message}`;
    } else {
      this.status = 1;
      this.error = error instanceof WasmigError ? error.message : `internal error: ${(error as Error)?.message ?? String(error)}`;
    }
    this.discard();
    this.#hooks.end(this);
  }
}
