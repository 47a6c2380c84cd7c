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

/** Default limit of the bytes a job's log keeps (older chunks are dropped past it). */
export const DEFAULT_LOG_LIMIT = 16 * 1024 * 1024;

/**
 * A job's output, every chunk numbered (both streams share one sequence, so their
 * relative order survives), kept so that a client that was away can ask for what it
 * missed, and moved with the job when it migrates. Past `limit` bytes the oldest chunks
 * are dropped and `floor` says where the log now starts.
 */
export class OutputLog {
  #entries: LogEntry[] = [];
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

  /** Appends output (split into chunks of at most {@link MAX_CHUNK}); returns the new entries. */
  append(stream: StreamId, data: Uint8Array): LogEntry[] {
    const added: LogEntry[] = [];
    for (let at = 0; at < data.length; at += MAX_CHUNK) {
      const entry: LogEntry = { seq: this.#next++, stream, data: data.subarray(at, at + MAX_CHUNK) };
      this.#entries.push(entry);
      this.#bytes += entry.data.length;
      added.push(entry);
    }
    while (this.#bytes > this.limit && this.#entries.length > 1) {
      const old = this.#entries.shift() as LogEntry;
      this.#bytes -= old.data.length;
      this.#floor = old.seq + 1;
    }
    return added;
  }

  /** Entries with `seq >= from` (from the floor when `from` is below it). */
  since(from: number): LogEntry[] {
    if (this.#entries.length === 0 || from >= this.#next) return [];
    const first = this.#entries[0].seq;
    return this.#entries.slice(Math.max(0, from - first));
  }

  toPortable(): PortableLog {
    return { floor: this.#floor, entries: this.#entries.map((e) => [e.seq, e.stream, e.data]) };
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
    const part = OutputLog.fromPortable(x, this.limit);
    if (part.#floor > this.#next) {
      this.#entries = part.#entries;
      this.#bytes = part.#bytes;
      this.#floor = part.#floor;
      this.#next = part.#next;
      return;
    }
    for (const e of part.#entries) {
      if (e.seq < this.#next) continue;
      this.#entries.push(e);
      this.#bytes += e.data.length;
      this.#next = e.seq + 1;
    }
    while (this.#bytes > this.limit && this.#entries.length > 1) {
      const old = this.#entries.shift() as LogEntry;
      this.#bytes -= old.data.length;
      this.#floor = old.seq + 1;
    }
  }

  /** Rebuilds a log that arrived with a job (validated: it is untrusted), its chunks copied out of the package. */
  static fromPortable(x: unknown, limit = DEFAULT_LOG_LIMIT): OutputLog {
    const p = x as PortableLog;
    if (typeof p !== 'object' || p === null || !Number.isSafeInteger(p.floor) || p.floor < 0 || !Array.isArray(p.entries)) throw new ProtocolError('invalid output log');
    const log = new OutputLog(limit);
    log.#floor = p.floor;
    let expect = p.floor;
    for (const e of p.entries) {
      if (!Array.isArray(e) || e.length !== 3) throw new ProtocolError('invalid output log entry');
      const [seq, stream, data] = e;
      if (seq !== expect || (stream !== 1 && stream !== 2) || !(data instanceof Uint8Array)) throw new ProtocolError(`invalid output log entry ${String(seq)}`);
      // A copy: `data` is a view into the whole decoded package (megabytes of memory
      // images), which a kept view would pin for as long as this chunk stays logged.
      log.#entries.push({ seq, stream, data: Buffer.from(data) });
      log.#bytes += data.length;
      expect++;
    }
    log.#next = expect;
    return log;
  }

  /** An empty log continuing a sequence (the output before `next` lives elsewhere). */
  static startingAt(next: number, limit = DEFAULT_LOG_LIMIT): OutputLog {
    const log = new OutputLog(limit);
    log.#floor = next;
    log.#next = next;
    return log;
  }
}
