import type { SharedClones } from '../native/index.ts';
import type { StreamId } from './frames.ts';
import type { EndReport, FinalResult, ProgramSetup, RoundResult, RunStarted } from './job-protocol.ts';
import { JobRunner } from './job-runner.ts';
import type { JobRunnerPool } from './job-runner.ts';
import type { JobSpec, JobStateName } from './messages.ts';
import type { LogEntry, OutputLog } from './output-log.ts';
import type { RingRecord } from './output-ring.ts';

export { TRAP_STATUS } from './job-thread.ts';

export interface JobHooks {
  /** New output, in order, already in the log. */
  output: (job: Job, entries: LogEntry[]) => void;
  /** The job exited or failed. */
  end: (job: Job) => void;
  /** Whether the job may run now (an owner without its lease holds replicated jobs paused); default: yes. */
  mayRun?: (job: Job) => boolean;
  /** Resume clones the job's worker made (handed over as a run starts, at a final, at the end), for the agent's next jobs of the module. */
  clones?: (job: Job, clones: SharedClones) => void;
}

export interface JobInit {
  id: string;
  spec: JobSpec;
  epoch: number;
  log: OutputLog;
  hooks: JobHooks;
  /** Where the job's worker comes from (default: a worker booted for it). */
  pool?: JobRunnerPool;
}

/**
 * A setup for a worker that has the module already (since `receive`): neither the
 * module's bytes nor its native rewrite are copied to it again (a final's restore is in
 * the pause).
 */
function withoutModule(setup: ProgramSetup): ProgramSetup {
  const { native: _native, clones: _clones, ...rest } = setup;
  return { ...rest, module: new Uint8Array(0) };
}

/** Exit status of a job stopped by a `stop` request: 128 + SIGTERM, as a shell reports a killed program. */
export const STOPPED_STATUS = 143;

/**
 * The buffers under `arrays`, to be moved to the job's worker rather than copied: a
 * migration package's deltas and snapshot are views of the received blob, and posted as
 * they are, the whole blob (megabytes) was serialized on the main thread and rebuilt in
 * the worker, one more copy per move for the collector. Only for buffers nothing here
 * uses afterwards (they are detached); Node's shared pool is never moved (it copies
 * what it cannot move).
 */
function handedOver(arrays: readonly Uint8Array[]): ArrayBuffer[] {
  return [...new Set(arrays.map((a) => a.buffer))].filter((b): b is ArrayBuffer => b instanceof ArrayBuffer);
}

/**
 * A job on an agent: a program that runs in a worker thread of its own, unsliced, on
 * whichever tier it uses (`job-thread.ts`), its output captured into an
 * {@link OutputLog}, and its ownership epoch. The agent's event loop never runs guest
 * code: MQTT, heartbeats and handoffs go on whatever the job does.
 */
export class Job {
  readonly id: string;
  readonly spec: JobSpec;
  /** Ownership generation of this copy. */
  epoch: number;
  /** Highest epoch any migration attempt of this job used (attempts never reuse one). */
  epochCounter: number;
  /** The epoch of this copy's latest state handed to the broker (Agent.publishState): whether the fleet may know of this epoch. */
  publishedEpoch = 0;
  state: JobStateName = 'paused';
  /** Where the job is going while migrating. */
  target: string | undefined;
  readonly log: OutputLog;
  status: number | undefined;
  error: string | undefined;
  endedAt: number | undefined;
  /** Guest names of the directories the program has open as preopens. */
  preopens: string[] = [];
  /**
   * How the job's start went (`hop-clock.ts`): the agent stamps when the start request
   * came, the worker when it took it, compiled, instantiated, first ran and ended.
   */
  readonly stamps: Record<string, number> = {};
  readonly #hooks: JobHooks;
  readonly #runner: JobRunner;
  #discarded = false;
  /** `run` commands sent so far: a pause answered after a later `run` does not mark the job paused. */
  #runs = 0;

  constructor(init: JobInit) {
    this.id = init.id;
    this.spec = init.spec;
    this.epoch = init.epoch;
    this.epochCounter = init.epoch;
    this.log = init.log;
    this.#hooks = init.hooks;
    const hooks = {
      output: (records: RingRecord[]) => this.#output(records),
      end: (report: EndReport) => this.#end(report),
      clones: (clones: SharedClones) => { if (clones.length > 0) this.#hooks.clones?.(this, clones); },
    };
    this.#runner = init.pool ? init.pool.take(hooks) : new JobRunner(hooks);
  }

  get finished(): boolean {
    return this.state === 'exited' || this.state === 'failed';
  }

  /** Instantiates the program and enters `_start`, paused. */
  async start(setup: ProgramSetup, args: string[], env: Record<string, string>): Promise<void> {
    const r = await this.#runner.request<{ preopens: string[] }>({ op: 'start', setup, args, env });
    this.preopens = r.preopens;
  }

  /** Rebuilds the program from a whole snapshot, paused. */
  async restore(setup: ProgramSetup, snapshot: Uint8Array): Promise<void> {
    const r = await this.#runner.request<{ preopens: string[] }>({ op: 'restore', setup, snapshot });
    this.preopens = r.preopens;
  }

  /** Target of a live migration: loads the module and takes the memory, in rounds, onto `base` (or the module's initial images). */
  async receive(setup: ProgramSetup, base: ArrayBufferLike[] | undefined): Promise<void> {
    // Moved, those held in ordinary buffers; shared ones (a worker's answer) go as they are.
    await this.#runner.request({ op: 'receive', setup, base }, (base ?? []).filter((b): b is ArrayBuffer => b instanceof ArrayBuffer));
  }

  /** Target of a live migration: drops the base it offered, for the module's initial images. */
  async rebase(setup: ProgramSetup): Promise<void> {
    await this.#runner.request({ op: 'rebase', setup: withoutModule(setup) });
  }

  /**
   * Applies one pre-copy round. With `handOver`, the deltas' buffers go to the worker
   * (see {@link handedOver}).
   */
  async apply(deltas: Uint8Array[], handOver = false): Promise<{ blocks: number }> {
    return this.#runner.request({ op: 'apply', deltas }, handOver ? handedOver(deltas) : []);
  }

  /**
   * Rebuilds the program from the received memory, the final deltas and the state that
   * came without memory. With `handOver`, their buffers go to the worker (see {@link handedOver}).
   */
  async complete(setup: ProgramSetup, snapshot: Uint8Array, deltas: Uint8Array[], digests: string[], handOver = false): Promise<Record<string, number>> {
    const transfer = handOver ? handedOver([snapshot, ...deltas]) : [];
    const r = await this.#runner.request<{ preopens: string[]; stamps: Record<string, number> }>({ op: 'restore', setup: withoutModule(setup), snapshot, deltas, digests }, transfer);
    this.preopens = r.preopens;
    // When the worker took the restore and finished it (`hop-clock.ts`).
    return r.stamps;
  }

  /**
   * Starts (or resumes) running. Resolves with the worker's answer as it set the program
   * going, or undefined when it did not.
   */
  run(): Promise<RunStarted | undefined> {
    if (this.finished || this.#discarded) return Promise.resolve(undefined);
    if (this.#hooks.mayRun && !this.#hooks.mayRun(this)) {
      this.state = 'paused';
      return Promise.resolve(undefined);
    }
    this.state = 'running';
    this.#runs++;
    // The thread always accepts `run`; it fails only with a broken thread, which ends the job (failed) through its hooks.
    return this.#runner.request<RunStarted>({ op: 'run' }).then((started) => {
      if (started.clones.length > 0) this.#hooks.clones?.(this, started.clones);
      return started;
    }, () => undefined);
  }

  /** Stops within about a millisecond; resolves once the program is paused and its output logged. */
  async pause(): Promise<void> {
    if (this.finished || this.#discarded) return;
    const runs = this.#runs;
    await this.#runner.request({ op: 'pause' });
    // A `run` sent after this pause won in the worker: the job runs, whatever this answer says.
    if (!this.finished && runs === this.#runs) this.state = 'paused';
  }

  /** A whole snapshot (module not embedded), taken with the program stopped for the moment. */
  async snapshot(): Promise<Uint8Array> {
    return this.#runner.request<Uint8Array>({ op: 'snapshot' });
  }

  /** Pre-copy, source side (see `precopy-source.ts`). */
  async precopy(base: string | undefined): Promise<{ base: string | undefined }> {
    return this.#runner.request({ op: 'precopy', base });
  }

  async round(): Promise<RoundResult> {
    return this.#runner.request<RoundResult>({ op: 'round' });
  }

  /** Pauses the job and takes the pre-copy's last round (the job stays paused). */
  async final(): Promise<FinalResult> {
    const result = await this.#runner.request<FinalResult>({ op: 'final' });
    if (!this.finished) this.state = 'paused';
    return result;
  }

  /**
   * A checkpoint for the standbys (`full`: against the module's initial images, else
   * against the last checkpoint); the job runs on. Its output up to the checkpoint, and
   * none after it, is in the log when the worker answers: `seq` is the checkpoint's
   * output position.
   */
  async checkpoint(full: boolean): Promise<FinalResult & { seq: number }> {
    // The worker holds the program from the checkpoint until `go-on` (see the command).
    const goOn = (): void => { this.#runner.request({ op: 'go-on' }).catch(() => {}); };
    const result = await this.#runner.request<FinalResult>({ op: 'checkpoint', full }).catch((error: unknown) => { goOn(); throw error; });
    const seq = this.log.next;
    goOn();
    return { ...result, seq };
  }

  /** After a failed pre-copy: no image says what anyone holds any more. */
  async forget(): Promise<void> {
    await this.#runner.request({ op: 'forget' });
  }

  /** The images the target holds after a committed handoff, for a later move back here. */
  async departureImages(): Promise<{ images: ArrayBufferLike[]; digest: string | undefined }> {
    return this.#runner.request({ op: 'images' });
  }

  /**
   * Ends the job here at once, as a program killed by SIGTERM: failed, status
   * {@link STOPPED_STATUS}, `why` as its error; its end is published as any end is.
   */
  stop(why: string): void {
    this.#end({ event: 'end', kind: 'failed', status: STOPPED_STATUS, error: why });
  }

  /** Whether this copy was dropped (`discard`): it runs no more, here or anywhere. */
  get discarded(): boolean {
    return this.#discarded;
  }

  /** Drops this copy: the worker and its program stop at once. */
  discard(): void {
    this.#discarded = true;
    this.#runner.close();
  }

  #output(records: RingRecord[]): void {
    if (this.#discarded) return;
    const entries: LogEntry[] = [];
    let i = 0;
    while (i < records.length) {
      // Adjacent writes to one stream become one chunk.
      const stream: StreamId = records[i].stream;
      let j = i;
      let size = 0;
      while (j < records.length && records[j].stream === stream) size += records[j++].data.length;
      const data = j - i === 1 ? records[i].data : Buffer.concat(records.slice(i, j).map((r) => r.data), size);
      entries.push(...this.log.append(stream, data));
      i = j;
    }
    if (entries.length) this.#hooks.output(this, entries);
  }

  #end(report: EndReport): void {
    if (this.#discarded || this.finished) return;
    this.state = report.kind;
    this.status = report.status;
    if (report.kind === 'failed') this.error = report.error;
    this.endedAt = Date.now();
    Object.assign(this.stamps, report.stamps);
    this.discard();
    this.#hooks.end(this);
  }
}
