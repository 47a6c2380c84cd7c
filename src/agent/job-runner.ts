/**
 * The main thread's handle on a job's worker thread (`job-thread.ts`): it sends commands
 * and awaits their replies, raises the pause flag in shared memory so that the worker
 * takes them within a millisecond whatever its program is doing, and reads the job's
 * output from the shared ring as it is written.
 */
import { MessageChannel } from 'node:worker_threads';
import type { Worker } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { WasmigError } from '../errors/index.ts';
import type { SharedClones } from '../native/index.ts';
import type { Command, EndReport, JobCommand, ThreadMessage, WorkerBoot } from './job-protocol.ts';
import { COMMANDS_SENT, CONTROL_WORDS, PAUSE_FLAG, WAKE_WORD } from './job-protocol.ts';
import { createRingBuffer, RingReader } from './output-ring.ts';
import { bootThread, threadEntry } from './thread-boot.ts';
import type { RingRecord } from './output-ring.ts';

// The worker imports the job thread itself: the built .js files, or the .ts sources
// through tsx when wasmig runs from its sources (tests, tools).
const ENTRY = threadEntry(import.meta.url, 'job-thread');

export interface RunnerHooks {
  /** Output the program wrote, in order. */
  output: (records: RingRecord[]) => void;
  /** The program ended by itself (exited or failed); its output was delivered before. */
  end: (report: EndReport) => void;
  /** Resume clones the worker made as the program ran (see `ClonesReport`). */
  clones?: (clones: SharedClones) => void;
}

interface Pending {
  resolve: (data: unknown) => void;
  reject: (error: Error) => void;
}

/** The commands that cut a sleeping program's sleep short (see `WAKE_WORD`). */
const WAKING: ReadonlySet<string> = new Set(['final', 'pause', 'snapshot', 'checkpoint', 'precopy']);

export class JobRunner {
  readonly #worker: Worker;
  readonly #port: MessagePort;
  readonly #control: Int32Array;
  readonly #ring: RingReader;
  #hooks: RunnerHooks | undefined;
  readonly #pending = new Map<number, Pending>();
  readonly #ready: Promise<void>;
  #nextId = 1;
  #closed = false;

  /** Boots the worker at once; `attach` gives it its job's hooks (a pool boots runners ahead of their jobs). */
  constructor(hooks?: RunnerHooks) {
    this.#hooks = hooks;
    const control = new SharedArrayBuffer(4 * CONTROL_WORDS);
    const ring = createRingBuffer();
    this.#control = new Int32Array(control);
    this.#ring = new RingReader(ring);
    const { port1, port2 } = new MessageChannel();
    this.#port = port1;
    const boot: WorkerBoot = { control, ring };
    this.#worker = bootThread(ENTRY, 'startJobThread', boot, port2);
    this.#ready = new Promise((resolve, reject) => this.#pending.set(0, { resolve: () => resolve(), reject }));
    this.#ready.catch(() => {}); // not unhandled while no one waits yet: whoever awaits `ready` gets the failure
    this.#port.on('message', (message: ThreadMessage) => this.#received(message));
    this.#worker.on('error', (error) => this.#broken(new WasmigError('ERR_WORKER', `the job's worker thread failed: ${error.message}`)));
    this.#worker.on('exit', (code) => this.#broken(new WasmigError('ERR_WORKER', `the job's worker thread stopped (exit code ${code})`)));
    this.#ring.follow(() => this.#deliver());
  }

  /** Where the job's output and end go. */
  attach(hooks: RunnerHooks): void {
    this.#hooks = hooks;
    this.#deliver();
  }

  /** Resolves once the worker has booted (rejects if it could not). */
  get ready(): Promise<void> {
    return this.#ready;
  }

  /** Sends a command; resolves with the worker's answer, rejects with its error. */
  async request<T = unknown>(command: JobCommand, transfer: ArrayBuffer[] = []): Promise<T> {
    if (this.#closed) throw new WasmigError('ERR_WORKER', 'the job\'s worker thread is closed');
    await this.#ready;
    const id = this.#nextId++;
    const answer = new Promise<T>((resolve, reject) => this.#pending.set(id, { resolve: resolve as (data: unknown) => void, reject }));
    // Counted before the flag goes up: the worker lowers the flag, then compares counts.
    // Posted before the flag goes up too: a worker that sees the flag at a safepoint can
    // take the command off its port there and then (a pre-copy round, served in place).
    Atomics.add(this.#control, COMMANDS_SENT, 1);
    this.#port.postMessage({ ...command, id } satisfies Command, transfer);
    Atomics.store(this.#control, PAUSE_FLAG, 1);
    // A program asleep in a WASI call waits on the wake word (WasiOptions.wake): wakes it
    // for the commands that need it stopped.
    if (WAKING.has(command.op)) {
      Atomics.store(this.#control, WAKE_WORD, 1);
      Atomics.notify(this.#control, WAKE_WORD);
    }
    return answer;
  }

  /** Stops the worker at once (its program with it). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#ring.close();
    this.#port.close();
    void this.#worker.terminate();
    this.#fail(new WasmigError('ERR_WORKER', 'the job\'s worker thread was closed'));
  }

  get closed(): boolean {
    return this.#closed;
  }

  #deliver(): void {
    if (!this.#hooks) return;
    const records = this.#ring.drain();
    if (records.length) this.#hooks.output(records);
  }

  #received(message: ThreadMessage): void {
    // Everything the program wrote before this message is in the ring already.
    this.#deliver();
    if ('event' in message) {
      if (message.event === 'clones') this.#hooks?.clones?.(message.clones);
      else this.#hooks?.end(message);
      return;
    }
    const pending = this.#pending.get(message.re);
    if (!pending) return;
    this.#pending.delete(message.re);
    if (message.ok) pending.resolve(message.data);
    else pending.reject(new WasmigError(message.code, message.message));
  }

  #broken(error: WasmigError): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#deliver();
    this.#ring.close();
    this.#port.close();
    this.#fail(error);
    this.#hooks?.end({ event: 'end', kind: 'failed', status: 1, error: error.message });
  }

  #fail(error: Error): void {
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) p.reject(error);
  }
}

/**
 * Worker threads booted ahead of their jobs: booting one (loading wasmig's modules into
 * a fresh V8 isolate) takes tens of milliseconds from the built files, more from the
 * sources; a job that starts, or arrives in a migration, takes a spare one instead.
 */
export class JobRunnerPool {
  #spare: JobRunner | undefined;
  #closed = false;

  constructor(readonly spares = 1) {
    this.#refill();
  }

  /** A booted (or booting) runner for a new job; another is booted for the next. */
  take(hooks: RunnerHooks): JobRunner {
    let runner = this.#spare;
    this.#spare = undefined;
    if (!runner || runner.closed) runner = new JobRunner();
    runner.attach(hooks);
    this.#refill();
    return runner;
  }

  #refill(): void {
    if (this.#closed || this.spares < 1 || this.#spare) return;
    const spare = new JobRunner();
    spare.ready.catch(() => { if (this.#spare === spare) this.#spare = undefined; });
    this.#spare = spare;
  }

  close(): void {
    this.#closed = true;
    this.#spare?.close();
    this.#spare = undefined;
  }
}
