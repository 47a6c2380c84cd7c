import type { StreamId } from './frames.ts';
import { ProtocolError } from './messages.ts';

/** One logged chunk of output. */
export interface LogEntry {
  seq: number;
  stream: StreamId;
  data: Uint8Array;
}

/** A log as it travels inside a migration package. */
export interface PortableLog {
  floor: number;
  entries: [number, number, Uint8Array][];
}

/** Largest chunk: bigger writes are split, so one message never gets huge. */
export const MAX_CHUNK = 64 * 1024;

/** Default limit of the memory a job's log takes (older chunks are dropped past it). */
export const DEFAULT_LOG_LIMIT = 16 * 1024 * 1024;

/**
 * What one chunk costs besides its bytes, counted against the limit: its record in the
 * index (segment, offset, length, stream: four 32-bit words). So a program that writes a
 * byte at a time fills its log with at most limit / 17 chunks, not limit chunks.
 */
export const CHUNK_COST = 16;

/** The first segment's size; each next one doubles, up to {@link MAX_CHUNK}. */
const FIRST_SEGMENT = 4096;
/** Index words per chunk. */
const WORDS = 4;

/**
 * A job's output, every chunk numbered (both streams share one sequence, so their
 * relative order survives), kept so that a client that was away can ask for what it
 * missed, and moved with the job when it migrates. Past `limit` (bytes of output plus
 * {@link CHUNK_COST} per chunk) the oldest chunks are dropped and `floor` says where the
 * log now starts.
 *
 * Chunks are copied into segments of up to 64 KiB and indexed by a ring of 32-bit words;
 * {@link since} hands out views into the segments. Kept as one `Uint8Array` and one record
 * per chunk, a line of output cost about 385 bytes of memory beside its own (its array
 * buffer, its view, its record): a soak's job printing 60-byte lines made each agent's
 * logs grow by tens of MB per 1,000 moves, and a "16 MiB" log could take seven times that.
 */
export class OutputLog {
  /** Segments still holding kept chunks, oldest first; `#segmentBase` numbers the first. */
  #segments: Uint8Array[] = [];
  #segmentBase = 0;
  /** Bytes used in the last segment. */
  #used = 0;
  /** Ring of index records, `WORDS` per chunk; the record of `#floor` starts at `#head`. */
  #index = new Int32Array(16 * WORDS);
  #head = 0;
  #bytes = 0;
  #floor = 0;
  #next = 0;

  constructor(readonly limit = DEFAULT_LOG_LIMIT) {}

  /** Sequence number of the next chunk. */
  get next(): number {
    return this.#next;
  }

  /** Oldest sequence number still kept. */
  get floor(): number {
    return this.#floor;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** What the log counts against its limit: its bytes plus {@link CHUNK_COST} per chunk (about the memory it takes). */
  get cost(): number {
    return this.#bytes + CHUNK_COST * (this.#next - this.#floor);
  }

  /** Chunks kept. */
  get chunks(): number {
    return this.#next - this.#floor;
  }

  /** Appends output (split into chunks of at most {@link MAX_CHUNK}); returns the new entries. */
  append(stream: StreamId, data: Uint8Array): LogEntry[] {
    const added: LogEntry[] = [];
    for (let at = 0; at < data.length; at += MAX_CHUNK) added.push(this.#push(stream, data.subarray(at, at + MAX_CHUNK)));
    this.#trim();
    return added;
  }

  /** Entries with `from <= seq < to` (from the floor when `from` is below it): views into the log's segments. */
  since(from: number, to = this.#next): LogEntry[] {
    const entries: LogEntry[] = [];
    for (let seq = Math.max(from, this.#floor); seq < Math.min(to, this.#next); seq++) entries.push(this.#entry(seq));
    return entries;
  }

  toPortable(): PortableLog {
    return { floor: this.#floor, entries: this.since(this.#floor).map((e) => [e.seq, e.stream, e.data]) };
  }

  /** The entries from `from` on, as they travel (the part of the log a receiver does not have yet). */
  portableSince(from: number): PortableLog {
    const entries = this.since(from);
    return { floor: Math.max(this.#floor, Math.min(from, this.#next)), entries: entries.map((e) => [e.seq, e.stream, e.data]) };
  }

  /**
   * Appends a part of a log that arrived (validated): entries already here are skipped;
   * a part that starts past this log's end (the sender dropped what lay between)
   * replaces this log.
   * @throws ProtocolError when the part is malformed.
   */
  extend(x: unknown): void {
    const part = OutputLog.#validate(x);
    if (part.floor > this.#next) this.#reset(part.floor);
    for (const [seq, stream, data] of part.entries) if (seq >= this.#next) this.#push(stream, data);
    this.#trim();
  }

  /** Rebuilds a log that arrived with a job (validated: it is untrusted), its chunks copied out of the package. */
  static fromPortable(x: unknown, limit = DEFAULT_LOG_LIMIT): OutputLog {
    const part = OutputLog.#validate(x);
    const log = new OutputLog(limit);
    log.#reset(part.floor);
    // Copies (into the log's segments): `data` is a view into the whole decoded package
    // (megabytes of memory images), which a kept view would pin.
    for (const [, stream, data] of part.entries) log.#push(stream, data);
    log.#trim();
    return log;
  }

  /** Checks a portable log's shape: numbered from its floor on, one by one, streams 1 or 2. */
  static #validate(x: unknown): { floor: number; entries: [number, StreamId, Uint8Array][] } {
    const p = x as PortableLog;
    if (typeof p !== 'object' || p === null || !Number.isSafeInteger(p.floor) || p.floor < 0 || !Array.isArray(p.entries)) throw new ProtocolError('invalid output log');
    let expect = p.floor;
    for (const e of p.entries) {
      if (!Array.isArray(e) || e.length !== 3) throw new ProtocolError('invalid output log entry');
      const [seq, stream, data] = e;
      if (seq !== expect || (stream !== 1 && stream !== 2) || !(data instanceof Uint8Array) || data.length > MAX_CHUNK) throw new ProtocolError(`invalid output log entry ${String(seq)}`);
      expect++;
    }
    return { floor: p.floor, entries: p.entries as [number, StreamId, Uint8Array][] };
  }

  /** Empties the log, its next chunk numbered `next`. */
  #reset(next: number): void {
    this.#segments = [];
    this.#segmentBase = 0;
    this.#used = 0;
    this.#index = new Int32Array(16 * WORDS);
    this.#head = 0;
    this.#bytes = 0;
    this.#floor = next;
    this.#next = next;
  }

  /** Copies one chunk (at most {@link MAX_CHUNK} bytes) in as the next; the caller trims. */
  #push(stream: StreamId, data: Uint8Array): LogEntry {
    let segment = this.#segments[this.#segments.length - 1];
    if (segment === undefined || this.#used + data.length > segment.length) {
      const size = Math.max(data.length, Math.min(MAX_CHUNK, segment === undefined ? FIRST_SEGMENT : 2 * segment.length));
      segment = new Uint8Array(size);
      this.#segments.push(segment);
      this.#used = 0;
    }
    const offset = this.#used;
    segment.set(data, offset);
    this.#used += data.length;
    const count = this.#next - this.#floor;
    if ((count + 1) * WORDS > this.#index.length) this.#grow();
    const at = (this.#head + count * WORDS) % this.#index.length;
    this.#index[at] = this.#segmentBase + this.#segments.length - 1;
    this.#index[at + 1] = offset;
    this.#index[at + 2] = data.length;
    this.#index[at + 3] = stream;
    this.#bytes += data.length;
    return { seq: this.#next++, stream, data: segment.subarray(offset, offset + data.length) };
  }

  /** Doubles the index ring, its records in order from the start. */
  #grow(): void {
    const old = this.#index;
    const index = new Int32Array(old.length * 2);
    index.set(old.subarray(this.#head));
    index.set(old.subarray(0, this.#head), old.length - this.#head);
    this.#index = index;
    this.#head = 0;
  }

  /** Drops the oldest chunks (always keeping the newest) while the log costs more than its limit, and the segments they leave empty. */
  #trim(): void {
    while (this.cost > this.limit && this.#next - this.#floor > 1) {
      this.#bytes -= this.#index[this.#head + 2];
      this.#head = (this.#head + WORDS) % this.#index.length;
      this.#floor++;
    }
    const first = this.#next > this.#floor ? this.#index[this.#head] : this.#segmentBase + this.#segments.length - 1;
    while (this.#segmentBase < first) {
      this.#segments.shift();
      this.#segmentBase++;
    }
  }

  #entry(seq: number): LogEntry {
    const at = (this.#head + (seq - this.#floor) * WORDS) % this.#index.length;
    const segment = this.#segments[this.#index[at] - this.#segmentBase];
    const offset = this.#index[at + 1];
    return { seq, stream: this.#index[at + 3] as StreamId, data: segment.subarray(offset, offset + this.#index[at + 2]) };
  }

  /** An empty log continuing a sequence (the output before `next` lives elsewhere). */
  static startingAt(next: number, limit = DEFAULT_LOG_LIMIT): OutputLog {
    const log = new OutputLog(limit);
    log.#floor = next;
    log.#next = next;
    return log;
  }
}
