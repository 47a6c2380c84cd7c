/**
 * The target's side of a live migration's pre-copy, in the new job's worker thread: the
 * memory images being received, round by round, written at once into the memories of a
 * program allocated for the purpose (`Program.shell`), so that growing and filling the
 * memory stays out of the pause; at the end the program's state, which came without its
 * memory, is restored around them (`Program.finish`).
 */
import type { CompiledModule } from '../compile/index.ts';
import { SnapshotError } from '../errors/index.ts';
import { Program } from '../program/index.ts';
import type { ProgramShell, ResumeOptions } from '../program/index.ts';
import { BLOCK_SIZE, decodeBlockDelta, decompressBlock, decodeSnapshot, MemoryImage, PAGE_SIZE } from '../snapshot/index.ts';
import { hopClockMs } from './hop-clock.ts';
import type { HopStamps } from './hop-clock.ts';
import { combinedDigest } from './precopy-source.ts';
import { FileStore } from './file-delta.ts';

/** Largest memory a delta may describe: 4 GiB, wasm32's whole address space. */
const MAX_MEMORY_BYTES = 65536 * PAGE_SIZE;
/** A delta's encoding beyond its blocks' bytes: its header and runs (generously). */
const MAX_DELTA_OVERHEAD = 16 * 1024 * 1024;

export class Arrival {
  /** What the source holds of each memory: checked against its digests at the end, kept for a move back. */
  readonly #images: MemoryImage[];
  readonly #shell: ProgramShell;
  /** The job's memory cap here: what a delta or the final state may describe. */
  readonly #maxMemoryBytes: number;
  /** The in-memory directories' files received, put back into the state at the end (`file-delta.ts`). */
  readonly #files = new FileStore();

  /** `base`: the images a handoff between the two agents left here; else the module's initial images. */
  constructor(compiled: CompiledModule, base: ArrayBufferLike[] | undefined, options: ResumeOptions) {
    this.#shell = Program.shell(compiled, options);
    this.#maxMemoryBytes = Math.min(options.maxMemoryBytes ?? MAX_MEMORY_BYTES, MAX_MEMORY_BYTES);
    const count = this.#shell.memoryCount;
    this.#images = base !== undefined && base.length === count
      ? base.map((b) => MemoryImage.from(new Uint8Array(b)))
      : Array.from({ length: count }, (_, i) => MemoryImage.initial(compiled, i));
    // The live memories start as the images: what the source's deltas are taken against.
    this.#images.forEach((image, i) => {
      const memory = this.#shell.memory(i, image.byteLength);
      memory.set(image.bytes);
      memory.fill(0, image.byteLength);
    });
  }

  /**
   * Applies one round's deltas (one per memory, then the files' when the job has in-memory
   * directories; untrusted: checked as they are decoded) to the images and the memories.
   */
  apply(deltas: readonly Uint8Array[]): { blocks: number } {
    if (deltas.length !== this.#images.length && deltas.length !== this.#images.length + 1) throw new SnapshotError(`a pre-copy round has ${deltas.length} memory deltas for ${this.#images.length} memories`);
    if (deltas.length > this.#images.length) this.#files.apply(deltas[this.#images.length] as Uint8Array);
    let blocks = 0;
    deltas.slice(0, this.#images.length).forEach((bytes, i) => {
      const raw = decompressBlock(bytes, this.#maxMemoryBytes + MAX_DELTA_OVERHEAD, `memory ${i}'s pre-copy delta`);
      const image = this.#images[i];
      // XORed by the source with what this image holds: XOR again, then apply.
      const delta = image.xor(decodeBlockDelta(raw, { maxByteLength: this.#maxMemoryBytes }));
      if (delta.byteLength < image.byteLength) throw new SnapshotError(`memory ${i}: a delta of ${delta.byteLength} bytes, the memory has ${image.byteLength} already (memories only grow)`);
      image.apply(delta);
      // The digest kept current round by round, so that the final check hashes only what the last round changed.
      image.digest();
      const memory = this.#shell.memory(i, delta.byteLength);
      const from = image.bytes;
      for (const block of delta.blocks) {
        const start = block * BLOCK_SIZE;
        memory.set(from.subarray(start, Math.min(start + BLOCK_SIZE, from.length)), start);
      }
      blocks += delta.blocks.length;
    });
    return { blocks };
  }

  /**
   * The last deltas, then the state, restored around the memories received: they must
   * match the source's digests exactly (else nothing is restored and the job goes on at
   * the source).
   */
  complete(snapshot: Uint8Array, deltas: readonly Uint8Array[], digests: readonly string[]): { program: Program; images: Uint8Array[]; digest: string; stamps: HopStamps } {
    this.apply(deltas);
    const stamps: HopStamps = { targetDeltasApplied: hopClockMs() };
    const mine = this.#images.map((image) => image.digest());
    if (digests.length !== mine.length || mine.some((d, i) => d !== digests[i])) {
      throw new SnapshotError(`the memory received does not match the source's (digest ${mine.join('+').slice(0, 16)}... against ${digests.join('+').slice(0, 16)}...)`);
    }
    const { state } = decodeSnapshot(snapshot, { maxMemoryBytes: this.#maxMemoryBytes });
    this.#files.fill(state.wasi);
    stamps.targetStateDecoded = hopClockMs();
    if (state.memories.length !== this.#images.length) throw new SnapshotError(`the state has ${state.memories.length} memories, the module ${this.#images.length}`);
    state.memories.forEach((m, i) => {
      if (this.#images[i].byteLength !== m.pages * PAGE_SIZE) throw new SnapshotError(`memory ${i}: ${this.#images[i].byteLength} bytes received for ${m.pages} pages`);
    });
    const program = Program.finish(this.#shell, state);
    return { program, images: this.#images.map((image) => image.bytes), digest: combinedDigest(mine), stamps };
  }
}
