/**
 * A standby's copy of a replicated job (docs/protocol.md, "Replicas and failover"): the
 * latest complete checkpoint its owner sent, as memory images, the state without
 * memory, and the output log up to the checkpoint. Each checkpoint is a delta against
 * the one before (or against the module's initial images when `full`); it is applied to
 * copies of the images and replaces the checkpoint held only once it is whole and its
 * digests match the owner's, so a half-received, corrupt or out-of-order checkpoint
 * never replaces the last good one.
 */
import { SnapshotError } from '../errors/index.ts';
import { BLOCK_SIZE, compressBlock, decodeBlockDelta, decompressBlock, encodeBlockDelta, MAX_MEMORY_BYTES, MemoryImage } from '../snapshot/index.ts';
import { OutputLog } from './output-log.ts';
import type { FinalPackage } from './package.ts';
import { FileStore } from './file-delta.ts';

/** A delta's encoding beyond its blocks' bytes: its header and runs (generously). */
const MAX_DELTA_OVERHEAD = 16 * 1024 * 1024;

/** What the owner says of a checkpoint, in the signed `checkpoint` request. */
export interface CheckpointMeta {
  number: number;
  full: boolean;
  epoch: number;
  epochCounter: number;
  /** The output log's end at the checkpoint. */
  seq: number;
  digests: readonly string[];
}

/** Everything a takeover restores from (see `Job.receive` and `Job.complete`). */
export interface RestoreParts {
  images: ArrayBufferLike[];
  snapshot: Uint8Array;
  /** One empty delta per memory (the images are complete as they are), then the files held, if any. */
  deltas: Uint8Array[];
  digests: string[];
  log: OutputLog;
}

export class CheckpointStore {
  /** Number of the checkpoint held (0: none yet). */
  number = 0;
  /** The owner's epoch when it took the checkpoint, and the highest epoch it had handed out. */
  epoch = 0;
  epochCounter = 0;
  /** Output covered by the checkpoint (exclusive end). */
  seq = 0;
  /** When it arrived here (ms since the epoch). */
  at = 0;
  #images: MemoryImage[] = [];
  #digests: string[] = [];
  #snapshot: Uint8Array | undefined;
  /** The in-memory directories' files (a checkpoint's state goes without their bytes: `file-delta.ts`). */
  #files = new FileStore();
  #log: OutputLog;
  readonly #initial: () => MemoryImage[];
  readonly #logLimit: number;

  /** `initial`: the module's initial memory images (what a full checkpoint is a delta against). */
  constructor(initial: () => MemoryImage[], logLimit?: number) {
    this.#initial = initial;
    this.#logLimit = logLimit ?? new OutputLog().limit;
    this.#log = new OutputLog(this.#logLimit);
  }

  /** Whether a checkpoint is held (a takeover can restore from it). */
  get complete(): boolean {
    return this.#snapshot !== undefined;
  }

  /** The output log up to the checkpoint. */
  get log(): OutputLog {
    return this.#log;
  }

  /**
   * Applies checkpoint `meta.number` (untrusted bytes, already checked against the signed
   * sha256): it must follow the one held, unless `full`.
   * @throws SnapshotError or ProtocolError; the checkpoint held is then unchanged.
   */
  apply(meta: CheckpointMeta, pkg: FinalPackage): void {
    if (!meta.full && (!this.complete || meta.number !== this.number + 1 || meta.epoch !== this.epoch)) {
      throw new SnapshotError(`checkpoint ${meta.number} (epoch ${meta.epoch}) does not follow the one held here (${this.number}, epoch ${this.epoch}); a full one is needed`);
    }
    const base = meta.full ? this.#initial() : this.#images;
    if (pkg.deltas.length !== base.length && pkg.deltas.length !== base.length + 1) throw new SnapshotError(`a checkpoint has ${pkg.deltas.length} memory deltas for ${base.length} memories`);
    const files = meta.full ? new FileStore() : this.#files.clone();
    if (pkg.deltas.length > base.length) files.apply(pkg.deltas[base.length] as Uint8Array);
    const images = base.map((image, i) => {
      const raw = decompressBlock(pkg.deltas[i], MAX_MEMORY_BYTES + MAX_DELTA_OVERHEAD, `memory ${i}'s checkpoint delta`);
      // XORed by the owner with the image the standby holds: XOR again, then apply to a copy.
      const delta = image.xor(decodeBlockDelta(raw, { maxByteLength: MAX_MEMORY_BYTES }));
      const next = meta.full ? image : image.clone();
      next.apply(delta);
      return next;
    });
    const mine = images.map((image) => image.digest());
    if (meta.digests.length !== mine.length || mine.some((d, i) => d !== meta.digests[i])) {
      throw new SnapshotError(`checkpoint ${meta.number}'s memory does not match the owner's digests`);
    }
    const part = OutputLog.fromPortable(pkg.log, this.#logLimit);
    if (part.next !== meta.seq) throw new SnapshotError(`checkpoint ${meta.number}'s output ends at ${part.next}, the owner says ${meta.seq}`);
    let log = this.#log;
    if (meta.full) {
      log = new OutputLog(this.#logLimit);
      log.extend(pkg.log);
    } else {
      if (part.floor > this.#log.next) throw new SnapshotError(`checkpoint ${meta.number}'s output starts at ${part.floor}, past what is held (${this.#log.next})`);
      log.extend(pkg.log);
    }
    this.#images = images;
    this.#digests = mine;
    this.#snapshot = pkg.snapshot;
    this.#files = files;
    this.#log = log;
    this.number = meta.number;
    this.epoch = meta.epoch;
    this.epochCounter = meta.epochCounter;
    this.seq = meta.seq;
    this.at = Date.now();
  }

  /** Copies of what a takeover restores from (the store keeps its own). */
  restoreParts(): RestoreParts {
    if (!this.#snapshot) throw new SnapshotError('no checkpoint is held here');
    const log = OutputLog.fromPortable(this.#log.toPortable(), this.#logLimit);
    return {
      images: this.#images.map((image) => image.bytes.slice().buffer),
      snapshot: this.#snapshot,
      deltas: [
        ...this.#images.map((image) => compressBlock(encodeBlockDelta({ byteLength: image.byteLength, blockSize: BLOCK_SIZE, blocks: new Uint32Array(0), data: new Uint8Array(0) }))),
        // Every file held, for the restore to put back into the state.
        ...(this.#files.size > 0 ? [this.#files.encodeAll()] : []),
      ],
      digests: [...this.#digests],
      log,
    };
  }
}
