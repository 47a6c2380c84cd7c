/**
 * Resume clones made ahead: once per module an agent runs or receives jobs of, a thread
 * of the agent's (`clone-thread.ts`) makes the resume clones of the module's loops, and
 * the agent keeps them for every job of that module it starts or receives later.
 *
 * Why: a job that arrives by migration stands, on top of its stack, at a loop's poll,
 * and its first instruction waited for that frame's resume clone (rewritten and compiled
 * in the job's fresh worker: 1-4 ms warm, 8-16 ms for the first one in a thread). With
 * the clones made ahead, off the job's threads, the job runs as soon as it is committed.
 * The cost is paid once per module and agent: CoreMark's 141 loops took 0.66-0.72 s of
 * wall time and about 1.1 s of CPU (thread start, module load and V8's compiles
 * included), SQLite's first 256 1.4 s and 2.2 s (quiet machine, from the sources).
 * Innermost loops come first, and at most `limit` are made, so a module with thousands
 * of loops costs a bounded time.
 */
import { MessageChannel } from 'node:worker_threads';
import type { MessagePort, Worker } from 'node:worker_threads';
import type { ReadyModule, SharedClones } from '../native/index.ts';
import type { CloneOrder, ClonesMade } from './clone-thread.ts';
import { bootThread, threadEntry } from './thread-boot.ts';

/** Loop clones made ahead per module, by default (`AgentOptions.aheadClones`). */
export const DEFAULT_AHEAD_CLONES = 256;

const ENTRY = threadEntry(import.meta.url, 'clone-thread');

export class CloneMaker {
  #worker: Worker | undefined;
  #port: MessagePort | undefined;
  /** Modules asked for, by sha256: each is made once. */
  readonly #asked = new Set<string>();
  /** Modules whose clones are all made, by sha256 (tests and measurements wait for these). */
  readonly #done = new Set<string>();
  readonly #waiters: (() => void)[] = [];
  #closed = false;

  /**
   * @param keep takes the clones made for a module (by its sha256), batch by batch
   * @param limit most loop clones made per module (0: none made ahead)
   */
  constructor(private readonly keep: (sha: string, clones: SharedClones) => void, readonly limit = DEFAULT_AHEAD_CLONES) {}

  /** Makes the loop clones of a module ahead, the first time it is asked for. */
  ask(sha: string, module: Uint8Array, native: ReadyModule): void {
    if (this.#closed || this.limit <= 0 || this.#asked.has(sha)) return;
    this.#asked.add(sha);
    this.#start().postMessage({ sha, module, native, limit: this.limit } satisfies CloneOrder);
  }

  /** True once every clone asked for module `sha` is made and kept. */
  done(sha: string): boolean {
    return this.#done.has(sha);
  }

  /** Resolves once module `sha`'s clones are all made (at once if they are, or none were asked for). */
  async whenDone(sha: string): Promise<void> {
    // The thread does not keep the process alive; whoever waits for it does, while it waits.
    if (this.#waiting++ === 0) { this.#worker?.ref(); this.#port?.ref(); }
    try {
      while (this.#asked.has(sha) && !this.#done.has(sha) && !this.#closed) await new Promise<void>((resolve) => this.#waiters.push(resolve));
    } finally {
      if (--this.#waiting === 0) { this.#worker?.unref(); this.#port?.unref(); }
    }
  }

  /** Callers of `whenDone` still waiting (the thread keeps the process alive while any is). */
  #waiting = 0;

  #start(): MessagePort {
    if (this.#port) return this.#port;
    const { port1, port2 } = new MessageChannel();
    this.#port = port1;
    this.#worker = bootThread(ENTRY, 'startCloneThread', undefined, port2);
    // Work ahead of need: it never keeps the agent's process alive.
    if (this.#waiting === 0) this.#worker.unref();
    port1.on('message', (message: ClonesMade | { re: 0; ok: boolean }) => {
      if (!('sha' in message)) return;
      if (message.clones.length > 0) this.keep(message.sha, message.clones);
      if (message.done) {
        this.#done.add(message.sha);
        for (const wake of this.#waiters.splice(0)) wake();
      }
    });
    if (this.#waiting === 0) port1.unref();
    // A thread that fails only makes jobs wait for their clones, as they did without it.
    this.#worker.on('error', () => this.close());
    return port1;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#port?.close();
    void this.#worker?.terminate();
    for (const wake of this.#waiters.splice(0)) wake();
  }
}
