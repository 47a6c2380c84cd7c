import type { OutputLog } from './output-log.ts';

/**
 * What an agent still holds of jobs that left it, and of jobs that arrived (kept by their
 * worker): the memory images of the last handoff between it and the job's next owner.
 * A job that comes back (a -> b -> a) then needs only the blocks that changed since it
 * left, and the output logged since.
 */
export interface HeldJob {
  /** The images' combined digest: what a handoff names as its base. */
  digest: string;
  images: ArrayBufferLike[];
  /** The output log as it was when the job left. */
  log: OutputLog;
}

/** Default bound on the bytes kept: images and output logs. */
export const DEFAULT_BASE_BYTES = 512 * 1024 * 1024;

/**
 * Held jobs by id, the least recently stored dropped past a bound on their bytes: their
 * images and their output logs (up to `--log-limit` each: a bound on images alone let
 * many jobs that left keep a full log each beyond it).
 */
export class JobBases {
  readonly #held = new Map<string, HeldJob>();
  #bytes = 0;

  constructor(readonly limit = DEFAULT_BASE_BYTES) {}

  static bytesOf(held: HeldJob): number {
    return held.images.reduce((n, b) => n + b.byteLength, held.log.cost);
  }

  put(job: string, held: HeldJob): void {
    this.drop(job);
    const bytes = JobBases.bytesOf(held);
    if (bytes > this.limit) return;
    this.#held.set(job, held);
    this.#bytes += bytes;
    for (const id of this.#held.keys()) {
      if (this.#bytes <= this.limit) break;
      this.drop(id);
    }
  }

  /** What is held of `job`, without taking it. */
  peek(job: string): HeldJob | undefined {
    return this.#held.get(job);
  }

  /** Takes what is held of `job` (the images move to the job's new worker). */
  take(job: string): HeldJob | undefined {
    const held = this.#held.get(job);
    if (held) this.drop(job);
    return held;
  }

  drop(job: string): void {
    const held = this.#held.get(job);
    if (!held) return;
    this.#held.delete(job);
    this.#bytes -= JobBases.bytesOf(held);
  }

  get bytes(): number {
    return this.#bytes;
  }
}
