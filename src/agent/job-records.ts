/**
 * How many records of jobs an agent no longer holds it keeps per kind (where a job went,
 * `Agent.moved`; the latest state seen, `Agent.observed`): about 100 bytes each, so 1 MB
 * or so a kind at the bound. What dropping one costs is in docs/protocol.md ("What an
 * agent remembers of jobs that left"): nothing, as long as fewer jobs than this pass
 * through the agent within the longest time a late message about one may still arrive.
 */
export const MAX_JOB_RECORDS = 10_000;

/**
 * Per-job records of one kind, bounded: beyond `limit` the oldest (by their last `set`)
 * go, except those `keep` says are still needed (a job held here, being received, or
 * kept as a standby: bounded by other means, and their records must not be lost).
 */
export class JobRecords<V> {
  readonly #map = new Map<string, V>();
  readonly #limit: number;
  readonly #keep: (id: string) => boolean;

  constructor(limit = MAX_JOB_RECORDS, keep: (id: string) => boolean = () => false) {
    this.#limit = Math.max(1, limit);
    this.#keep = keep;
  }

  get size(): number {
    return this.#map.size;
  }

  get(id: string): V | undefined {
    return this.#map.get(id);
  }

  has(id: string): boolean {
    return this.#map.has(id);
  }

  /** Records `value` for `id` as the newest record; the oldest ones go beyond the limit. */
  set(id: string, value: V): this {
    this.#map.delete(id);
    this.#map.set(id, value);
    if (this.#map.size > this.#limit) {
      for (const old of this.#map.keys()) {
        if (this.#map.size <= this.#limit) break;
        if (old !== id && !this.#keep(old)) this.#map.delete(old);
      }
    }
    return this;
  }

  delete(id: string): boolean {
    return this.#map.delete(id);
  }
}
