/**
 * The target's side of a live migration's pre-copy, in the new job's worker thread: the
 * memory images being received, round by round, and at the end the program's state,
 * which came without its memory, completed with them.
 */
import type { CompiledModule } from '../compile/index.ts';
import { SnapshotError } from '../errors/index.ts';
import { decodeBlockDelta, decodeSnapshot, MemoryImage, PAGE_SIZE } from '../snapshot/index.ts';
import type { CanonicalState } from '../snapshot/index.ts';
import { combinedDigest } from './precopy-source.ts';

/** Largest memory a delta may describe: 4 GiB, wasm32's whole address space. */
const MAX_MEMORY_BYTES = 65536 * PAGE_SIZE;

export class Arrival {
  readonly #images: MemoryImage[];

  /** `base`: the images a handoff between the two agents left here; else the module's initial images. */
  constructor(compiled: CompiledModule, base: ArrayBuffer[] | undefined) {
    const count = compiled.module.imports.filter((i) => i.desc.kind === 'memory').length + compiled.module.memories.length;
    this.#images = base !== undefined && base.length === count
      ? base.map((b) => MemoryImage.from(new Uint8Array(b)))
      : Array.from({ length: count }, (_, i) => MemoryImage.initial(compiled, i));
  }

  /** Applies one round's deltas (one per memory; untrusted: checked as they are decoded). */
  apply(deltas: readonly Uint8Array[]): { blocks: number } {
    if (deltas.length !== this.#images.length) throw new SnapshotError(`a pre-copy round has ${deltas.length} memory deltas for ${this.#images.length} memories`);
    let blocks = 0;
    deltas.forEach((bytes, i) => {
      const delta = decodeBlockDelta(bytes, { maxByteLength: MAX_MEMORY_BYTES });
      this.#images[i].apply(delta);
      blocks += delta.blocks.length;
    });
    return { blocks };
  }

  /**
   * The last deltas, then the state: its memories are the images, which must match the
   * source's digests exactly (else nothing is restored and the job goes on at the source).
   */
  complete(snapshot: Uint8Array, deltas: readonly Uint8Array[], digests: readonly string[]): { state: CanonicalState; images: Uint8Array[]; digest: string } {
    this.apply(deltas);
    const mine = this.#images.map((image) => image.digest());
    if (digests.length !== mine.length || mine.some((d, i) => d !== digests[i])) {
      throw new SnapshotError(`the memory received does not match the source's (digest ${mine.join('+').slice(0, 16)}... against ${digests.join('+').slice(0, 16)}...)`);
    }
    const { state } = decodeSnapshot(snapshot);
    if (state.memories.length !== this.#images.length) throw new SnapshotError(`the state has ${state.memories.length} memories, the module ${this.#images.length}`);
    state.memories = state.memories.map((m, i) => {
      const bytes = this.#images[i].bytes;
      if (bytes.length !== m.pages * PAGE_SIZE) throw new SnapshotError(`memory ${i}: ${bytes.length} bytes received for ${m.pages} pages`);
      return { pages: m.pages, max: m.max, stored: Array.from({ length: m.pages }, (_, p) => p), data: bytes };
    });
    return { state, images: this.#images.map((image) => image.bytes), digest: combinedDigest(mine) };
  }
}
