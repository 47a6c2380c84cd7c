import { createHash } from 'node:crypto';
import { WasmigError } from '../errors/index.ts';
import { BLOB_HEADER, decodeBlobChunk, encodeBlobChunk } from './frames.ts';
import { ProtocolError } from './messages.ts';
import type { MqttLink } from './mqtt-link.ts';
import type { ChunkOpener, ChunkSealer } from './blob-cipher.ts';
import { chunkContext } from './blob-cipher.ts';

/**
 * Blobs (modules, migration packages) cut into chunks, each with its own sha256, sent at
 * QoS 1 with a window of unacknowledged chunks; the receiver checks every chunk, then the
 * sha256 of the whole, which a signed manifest named beforehand.
 */

/** Default chunk size: large enough for throughput, small enough for any broker. */
export const DEFAULT_CHUNK_BYTES = 256 * 1024;

/** Chunks in flight (published, not yet acknowledged by the broker). */
const WINDOW = 8;

/** What a signed manifest says about a blob before it comes. */
export interface BlobManifest {
  sha256: string;
  size: number;
  chunks: number;
}

export function chunkCount(size: number, chunkBytes: number): number {
  return Math.max(1, Math.ceil(size / chunkBytes));
}

/** Chunk size for a link: the default, or less when an MQTT 5 broker said its limit. */
export function chunkBytesFor(link: MqttLink, wanted = DEFAULT_CHUNK_BYTES): number {
  const max = link.maxPacketSize;
  if (max === undefined) return wanted;
  return Math.max(1024, Math.min(wanted, max - BLOB_HEADER - 512));
}

/**
 * Publishes `bytes` as chunks of transfer `transfer` to `topic`; resolves with the bytes
 * put on the wire (payloads and topic names) once the broker acknowledged every chunk.
 */
export async function sendBlob(
  link: MqttLink,
  topic: string,
  transfer: string,
  bytes: Uint8Array,
  options: { chunkBytes: number; onProgress?: (sent: number, total: number) => void; signal?: AbortSignal; cipher?: ChunkSealer },
): Promise<number> {
  const count = chunkCount(bytes.length, options.chunkBytes);
  const inFlight = new Set<Promise<void>>();
  let wire = 0;
  let sent = 0;
  let failure: unknown;
  for (let index = 0; index < count; index++) {
    if (options.signal?.aborted) throw options.signal.reason;
    if (failure) throw failure;
    const data = bytes.subarray(index * options.chunkBytes, (index + 1) * options.chunkBytes);
    const sealed = options.cipher ? options.cipher.seal(chunkContext(topic, transfer, index), data) : data;
    const frame = encodeBlobChunk({ transfer, index, count, data: sealed });
    wire += frame.length + topic.length + 8;
    const p: Promise<void> = link.publish(topic, frame, { qos: 1 }).then(
      () => { inFlight.delete(p); sent += data.length; options.onProgress?.(sent, bytes.length); },
      (error: unknown) => { inFlight.delete(p); failure ??= error; },
    );
    inFlight.add(p);
    if (inFlight.size >= WINDOW) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  if (failure) throw failure;
  if (options.signal?.aborted) throw options.signal.reason;
  return wire;
}

interface Pending {
  manifest: BlobManifest;
  parts: (Uint8Array | undefined)[];
  received: number;
  /** Bytes of the chunks received: never more than the manifest's size. */
  bytes: number;
  resolve: (bytes: Uint8Array) => void;
  reject: (error: Error) => void;
  idle: NodeJS.Timeout;
  idleMs: number;
  what: string;
}

/** Chunks that came before their manifest, kept for a moment: at most this many bytes... */
const EARLY_BYTES = 32 * 1024 * 1024;
/** ...for at most this long. */
const EARLY_MS = 5_000;

interface Early {
  chunks: Buffer[];
  bytes: number;
  at: number;
}

/**
 * Reassembles the blobs a peer was told to expect. A handoff sends a blob's chunks right
 * after the signed message that announces it, on another topic, so chunks may come
 * first: those of an unknown transfer wait, within a bound, for their manifest; the rest
 * are dropped.
 */
export class BlobReceiver {
  readonly #pending = new Map<string, Pending>();
  /** The largest blob this receiver takes: a manifest announcing more is refused before any chunk is kept. */
  readonly maxBytes: number;

  constructor(maxBytes = 2 ** 32) {
    this.maxBytes = maxBytes;
  }

  readonly #early = new Map<string, Early>();
  #earlyBytes = 0;
  /** Opens sealed chunks (blob-cipher.ts, box-cipher.ts) when the fleet encrypts them: the data topic they came to, and what opens them. */
  sealed?: { topic: string; cipher: ChunkOpener };
  /** Called for each accepted chunk (progress logs, fault injection in tests). */
  onChunk?: (transfer: string, index: number, count: number, what: string) => void;

  /**
   * Expects transfer `transfer`; resolves with its bytes once every chunk arrived and the
   * whole matches the manifest's sha256. Rejects when `idleMs` pass without a chunk.
   */
  expect(transfer: string, manifest: BlobManifest, options: { idleMs: number; what: string }): Promise<Uint8Array> {
    if (this.#pending.has(transfer)) return Promise.reject(new ProtocolError(`transfer ${transfer} is already under way`));
    if (manifest.size > this.maxBytes) return Promise.reject(new WasmigError('ERR_TOO_LARGE', `the ${options.what} of ${manifest.size} bytes is more than the ${this.maxBytes} this agent takes (wasmig agent --max-snapshot)`));
    return new Promise((resolve, reject) => {
      const p: Pending = {
        manifest, parts: new Array(manifest.chunks).fill(undefined), received: 0, bytes: 0, resolve, reject, idleMs: options.idleMs, what: options.what,
        idle: setTimeout(() => this.#stall(transfer), options.idleMs),
      };
      this.#pending.set(transfer, p);
      const early = this.#early.get(transfer);
      if (early) {
        this.#early.delete(transfer);
        this.#earlyBytes -= early.bytes;
        for (const chunk of early.chunks) this.accept(chunk);
      }
    });
  }

  /** Keeps a chunk whose manifest has not come yet (oldest dropped past the bounds). */
  #keepEarly(transfer: string, payload: Buffer): void {
    const now = Date.now();
    for (const [id, e] of this.#early) {
      if (now - e.at <= EARLY_MS && this.#earlyBytes + payload.length <= EARLY_BYTES) break;
      this.#early.delete(id);
      this.#earlyBytes -= e.bytes;
    }
    if (payload.length > EARLY_BYTES) return;
    let e = this.#early.get(transfer);
    if (!e) { e = { chunks: [], bytes: 0, at: now }; this.#early.set(transfer, e); }
    e.chunks.push(payload);
    e.bytes += payload.length;
    this.#earlyBytes += payload.length;
  }

  #stall(transfer: string): void {
    const p = this.#pending.get(transfer);
    if (!p) return;
    this.cancel(transfer, new WasmigError('ERR_TRANSFER', `the ${p.what} transfer stalled: ${p.received} of ${p.manifest.chunks} chunks after ${Math.round(p.idleMs / 1000)} s without data`));
  }

  /** Stops expecting a transfer; its promise rejects with `error`. */
  cancel(transfer: string, error: Error): void {
    const p = this.#pending.get(transfer);
    if (!p) return;
    clearTimeout(p.idle);
    this.#pending.delete(transfer);
    p.reject(error);
  }

  /** Takes one chunk off the wire; returns why it was dropped, if it was. */
  accept(payload: Buffer): string | undefined {
    let transferId = '';
    try {
      transferId = payload.length >= 20 ? payload.toString('hex', 4, 20) : '';
      const chunk = decodeBlobChunk(payload);
      const p = this.#pending.get(chunk.transfer);
      if (!p) { this.#keepEarly(chunk.transfer, payload); return undefined; } // early, late or foreign
      if (chunk.count !== p.manifest.chunks) throw new ProtocolError(`chunk says ${chunk.count} chunks, the manifest ${p.manifest.chunks}`);
      if (p.parts[chunk.index] !== undefined) return undefined; // a duplicate (QoS 1 may redeliver)
      const data = this.sealed ? this.sealed.cipher.open(chunkContext(this.sealed.topic, chunk.transfer, chunk.index), chunk.data) : chunk.data;
      p.bytes += data.length;
      if (p.bytes > p.manifest.size) throw new ProtocolError(`the chunks of the ${p.what} add up to more than the ${p.manifest.size} bytes of its manifest`);
      // Kept as it came (a view of its MQTT payload, or what the cipher opened), not
      // copied: the whole is copied out once, on completion.
      p.parts[chunk.index] = data;
      p.received++;
      clearTimeout(p.idle);
      p.idle = setTimeout(() => this.#stall(chunk.transfer), p.idleMs);
      this.onChunk?.(chunk.transfer, chunk.index, chunk.count, p.what);
      if (p.received === p.manifest.chunks) this.#complete(chunk.transfer, p);
      return undefined;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (this.#pending.has(transferId)) this.cancel(transferId, new WasmigError('ERR_TRANSFER', message));
      return message;
    }
  }

  #complete(transfer: string, p: Pending): void {
    clearTimeout(p.idle);
    this.#pending.delete(transfer);
    const hash = createHash('sha256');
    let size = 0;
    for (const part of p.parts) { hash.update(part as Uint8Array); size += (part as Uint8Array).length; }
    const digest = hash.digest('hex');
    if (size !== p.manifest.size) { p.reject(new WasmigError('ERR_TRANSFER', `the ${p.what} has ${size} bytes, its manifest says ${p.manifest.size}`)); return; }
    if (digest !== p.manifest.sha256) { p.reject(new WasmigError('ERR_TRANSFER', `the ${p.what} fails its sha256 check (got ${digest.slice(0, 12)}..., signed manifest says ${p.manifest.sha256.slice(0, 12)}...)`)); return; }
    p.resolve(joinParts(p.parts as Uint8Array[], size));
  }
}

/**
 * The chunks of a blob as one array with a buffer of its own: never a slice of Node's
 * shared pool (`Buffer.concat` takes small ones from it), so a migration package's buffer
 * can be handed over to the job's worker thread whole (`Job.apply`), not copied for it.
 */
function joinParts(parts: readonly Uint8Array[], size: number): Uint8Array {
  const whole = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    whole.set(part, at);
    at += part.length;
  }
  return whole;
}
