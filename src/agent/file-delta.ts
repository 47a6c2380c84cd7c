/**
 * The files of a job's in-memory directories in a live migration's pre-copy and in its
 * checkpoints: each round sends the files whose bytes changed since the last (by the
 * content version `MemFs` stamps on every change), while the job runs; the pause's
 * state then leaves every file's bytes out (`SnapshotOptions.omitFiles`) and the target
 * puts back what it received. So a large file written once crosses once, not in every
 * final pause or every checkpoint.
 *
 * On the wire a file delta rides after the memory deltas of a round (one more element of
 * `deltas`, only when the job has in-memory directories): LZ4 over
 * `u32 count, then per file: u32 preopen, f64 inode, u32 length, bytes` (little-endian).
 */
import { SnapshotError } from '../errors/index.ts';
import { compressBlock, decompressBlock } from '../snapshot/index.ts';
import type { Program } from '../program/index.ts';

/** The most a file delta may decompress to: 4 GiB plus its headers (as the bound of an in-memory directory). */
const MAX_FILE_DELTA_BYTES = 2 ** 32 + 16 * 1024 * 1024;

/** One file's bytes, by where it lives. */
interface FileBytes {
  preopen: number;
  ino: number;
  data: Uint8Array;
}

function keyOf(preopen: number, ino: number): string {
  return `${preopen}:${ino}`;
}

/** Encodes (and compresses) the files' bytes. */
export function encodeFileDelta(files: readonly FileBytes[]): Uint8Array {
  const size = 4 + files.reduce((n, f) => n + 16 + f.data.length, 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint32(0, files.length, true);
  let at = 4;
  for (const f of files) {
    view.setUint32(at, f.preopen, true);
    view.setFloat64(at + 4, f.ino, true);
    view.setUint32(at + 12, f.data.length, true);
    out.set(f.data, at + 16);
    at += 16 + f.data.length;
  }
  return compressBlock(out);
}

/** Decodes an untrusted file delta. @throws SnapshotError naming what is wrong. */
export function decodeFileDelta(block: Uint8Array): FileBytes[] {
  const raw = decompressBlock(block, MAX_FILE_DELTA_BYTES, 'a file delta');
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const bad = (why: string): never => { throw new SnapshotError(`a file delta: ${why}`); };
  if (raw.length < 4) bad('too short');
  const count = view.getUint32(0, true);
  const files: FileBytes[] = [];
  let at = 4;
  for (let i = 0; i < count; i++) {
    if (at + 16 > raw.length) bad(`file ${i} is cut short`);
    const preopen = view.getUint32(at, true);
    const ino = view.getFloat64(at + 4, true);
    const length = view.getUint32(at + 12, true);
    if (!Number.isSafeInteger(ino) || ino < 1) bad(`file ${i} has no inode number`);
    if (at + 16 + length > raw.length) bad(`file ${i} is cut short`);
    files.push({ preopen, ino, data: raw.slice(at + 16, at + 16 + length) });
    at += 16 + length;
  }
  if (at !== raw.length) bad('bytes after its last file');
  return files;
}

/** The source's side: what the receiver holds of each file, by content version. */
export class FilesSent {
  readonly #sent = new Map<string, number>();

  /** The files changed since the last call (all, the first time), encoded; now counted as held. Undefined without in-memory directories. */
  changed(program: Program): { delta: Uint8Array; bytes: number } | undefined {
    if (!program.wasi.hasMemDirs) return undefined;
    const changed = program.wasi.memFiles().filter((f) => this.#sent.get(keyOf(f.preopen, f.ino)) !== f.version);
    for (const f of changed) this.#sent.set(keyOf(f.preopen, f.ino), f.version);
    return { delta: encodeFileDelta(changed), bytes: changed.reduce((n, f) => n + f.data.length, 0) };
  }

  /** For `SnapshotOptions.omitFiles`: the receiver holds this version of the file. */
  readonly held = (preopen: number, ino: number, version: number): boolean => this.#sent.get(keyOf(preopen, ino)) === version;
}

/** The receiver's side: the latest bytes of each file received. */
export class FileStore {
  readonly #files = new Map<string, Uint8Array>();

  /** Keeps the files of a (untrusted) delta. */
  apply(block: Uint8Array): void {
    for (const f of decodeFileDelta(block)) this.#files.set(keyOf(f.preopen, f.ino), f.data);
  }

  /** A copy (the bytes shared: they are never changed in place). */
  clone(): FileStore {
    const copy = new FileStore();
    for (const [k, v] of this.#files) copy.#files.set(k, v);
    return copy;
  }

  get size(): number {
    return this.#files.size;
  }

  /** Everything held, as one delta (a takeover's). */
  encodeAll(): Uint8Array {
    return encodeFileDelta([...this.#files].map(([k, data]) => {
      const [preopen, ino] = k.split(':').map(Number) as [number, number];
      return { preopen, ino, data };
    }));
  }

  /**
   * Puts the bytes held back into the in-memory files of a decoded WASI state whose bytes
   * were left out (still unvalidated: it is walked with care, and validated when restored).
   */
  fill(wasi: unknown): void {
    const preopens = (wasi as { preopens?: unknown } | null)?.preopens;
    if (!Array.isArray(preopens)) return;
    preopens.forEach((p: unknown, preopen) => {
      const nodes = (p as { mem?: { nodes?: unknown } } | null)?.mem?.nodes;
      if (!Array.isArray(nodes)) return;
      for (const node of nodes as Record<string, unknown>[]) {
        if (node === null || typeof node !== 'object' || node['type'] !== 'file' || typeof node['ino'] !== 'number') continue;
        const held = this.#files.get(keyOf(preopen, node['ino']));
        const data = node['data'];
        if (held !== undefined && data instanceof Uint8Array && data.length === 0) node['data'] = held;
      }
    });
  }
}
