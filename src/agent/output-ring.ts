/**
 * A job's stdout and stderr on their way from the job's worker thread to the agent's
 * main thread: a ring buffer in shared memory. The worker runs its program unsliced, so
 * it never returns to its event loop while the program computes; a `postMessage` per
 * write would cost a structured clone each, and output buffered in the worker until the
 * next message would sit there while the program computes. Here a write is a copy into
 * shared memory and an `Atomics.notify`; the main thread wakes (`Atomics.waitAsync`)
 * and takes everything written since, however many writes that is.
 *
 * Layout: a header of three int32 words (bytes ever written, bytes ever read, closed),
 * then the data. Positions count bytes modulo 2^32 and index the data modulo its size
 * (a power of two). A record is a 4-byte little-endian header (stream << 24 | length)
 * and its bytes, which may wrap around the end of the data.
 */
import type { StreamId } from './frames.ts';

/** `Atomics.waitAsync` (ES2024; in Node since 16), typed here: the project's TypeScript lib is ES2022. */
const waitAsync = (Atomics as unknown as {
  waitAsync(array: Int32Array, index: number, value: number): { async: false; value: string } | { async: true; value: Promise<string> };
}).waitAsync;

const WRITTEN = 0;
const READ = 1;
const CLOSED = 2;
const HEADER_BYTES = 16;
const RECORD_HEADER = 4;
/** Default data size of a ring. */
export const DEFAULT_RING_BYTES = 1 << 20;

/** The shared memory of one ring: what travels to the worker. */
export type RingBuffer = SharedArrayBuffer;

export function createRingBuffer(dataBytes = DEFAULT_RING_BYTES): RingBuffer {
  if (dataBytes < 64 || (dataBytes & (dataBytes - 1)) !== 0) throw new RangeError(`a ring's size must be a power of two of at least 64 bytes, not ${dataBytes}`);
  return new SharedArrayBuffer(HEADER_BYTES + dataBytes);
}

class RingView {
  protected readonly words: Int32Array;
  protected readonly data: Uint8Array;
  protected readonly mask: number;

  constructor(buffer: RingBuffer) {
    this.words = new Int32Array(buffer, 0, HEADER_BYTES / 4);
    this.data = new Uint8Array(buffer, HEADER_BYTES);
    this.mask = this.data.length - 1;
  }

  /** Copies `bytes` into the data at position `at` (mod size), wrapping. */
  protected put(at: number, bytes: Uint8Array): void {
    const start = at & this.mask;
    const first = Math.min(bytes.length, this.data.length - start);
    this.data.set(bytes.subarray(0, first), start);
    if (first < bytes.length) this.data.set(bytes.subarray(first), 0);
  }

  /** Copies `length` bytes from position `at` (mod size) into a new array. */
  protected take(at: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    const start = at & this.mask;
    const first = Math.min(length, this.data.length - start);
    out.set(this.data.subarray(start, start + first));
    if (first < length) out.set(this.data.subarray(0, length - first), first);
    return out;
  }
}

/** The worker's end: writes block only while the ring is full (the main thread is behind). */
export class RingWriter extends RingView {
  readonly #header = new Uint8Array(RECORD_HEADER);
  readonly #maxRecord: number;

  constructor(buffer: RingBuffer) {
    super(buffer);
    this.#maxRecord = Math.min(this.data.length / 4, 0xffffff);
  }

  write(stream: StreamId, bytes: Uint8Array): void {
    for (let offset = 0; offset < bytes.length; offset += this.#maxRecord) {
      this.#record(stream, bytes.subarray(offset, offset + this.#maxRecord));
    }
  }

  #record(stream: StreamId, bytes: Uint8Array): void {
    const need = RECORD_HEADER + bytes.length;
    const written = Atomics.load(this.words, WRITTEN);
    for (;;) {
      const read = Atomics.load(this.words, READ);
      if (this.data.length - ((written - read) | 0) >= need) break;
      if (Atomics.load(this.words, CLOSED) !== 0) return; // nobody reads any more
      Atomics.wait(this.words, READ, read, 100);
    }
    const h = this.#header;
    const word = (stream << 24) | bytes.length;
    h[0] = word & 0xff; h[1] = (word >>> 8) & 0xff; h[2] = (word >>> 16) & 0xff; h[3] = word >>> 24;
    this.put(written, h);
    this.put(written + RECORD_HEADER, bytes);
    Atomics.store(this.words, WRITTEN, (written + need) | 0);
    Atomics.notify(this.words, WRITTEN);
  }
}

/** One record taken from the ring. */
export interface RingRecord {
  stream: StreamId;
  data: Uint8Array;
}

/** The main thread's end. */
export class RingReader extends RingView {
  #waiting = false;

  /** Everything written since the last call, in order (never waits). */
  drain(): RingRecord[] {
    const records: RingRecord[] = [];
    let read = Atomics.load(this.words, READ);
    const written = Atomics.load(this.words, WRITTEN);
    const d = this.data;
    const m = this.mask;
    while (read !== written) {
      // The header read in place (it may wrap): an array for each record's four bytes was garbage.
      const word = (d[read & m] | (d[(read + 1) & m] << 8) | (d[(read + 2) & m] << 16) | (d[(read + 3) & m] << 24)) >>> 0;
      const length = word & 0xffffff;
      records.push({ stream: (word >>> 24) as StreamId, data: this.take(read + RECORD_HEADER, length) });
      read = (read + RECORD_HEADER + length) | 0;
    }
    Atomics.store(this.words, READ, read);
    Atomics.notify(this.words, READ);
    return records;
  }

  /**
   * Calls `onData` on this thread's event loop whenever the writer has written, until
   * `close`. The waits hold no reference to the event loop: the worker keeps it alive.
   */
  follow(onData: () => void): void {
    if (this.#waiting) return;
    this.#waiting = true;
    const loop = (): void => {
      if (Atomics.load(this.words, CLOSED) !== 0) { this.#waiting = false; return; }
      if (Atomics.load(this.words, WRITTEN) !== Atomics.load(this.words, READ)) onData();
      // Wait while nothing is unread: a write after `onData` drained makes this return at once.
      const wait = waitAsync(this.words, WRITTEN, Atomics.load(this.words, READ));
      if (wait.async) void wait.value.then(loop);
      else setImmediate(loop);
    };
    loop();
  }

  /** Stops `follow` and unblocks a writer waiting for room (its writes are dropped from now on). */
  close(): void {
    Atomics.store(this.words, CLOSED, 1);
    Atomics.notify(this.words, WRITTEN);
    Atomics.notify(this.words, READ);
  }
}
