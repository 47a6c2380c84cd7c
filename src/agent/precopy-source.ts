/**
 * The source's side of a live migration's pre-copy, in the job's worker thread: a shadow
 * of each memory as the target is known to hold it, and rounds that send the blocks
 * which differ from it. A round stops the program only for the compare and the copy of
 * the changed blocks, then the program runs on; only the final round is taken paused.
 *
 * How changed blocks are found (docs/live-migration.md has the measurements): by
 * comparing the memory with the shadow, 4 KiB at a time. It needs no help from either
 * tier (no write barrier in the interpreter's stores or in the rewritten module, whose
 * hot loops it would slow all the time, migrating or not) and costs a memcmp of the
 * memory per round, plus a copy of the memory as the shadow while migrating.
 */
import { performance } from 'node:perf_hooks';
import type { Program } from '../program/index.ts';
import { compressBlock, encodeBlockDelta, MemoryImage } from '../snapshot/index.ts';
import type { FinalResult, RoundResult } from './job-protocol.ts';
import { FilesSent } from './file-delta.ts';

/** The live bytes of each of the program's memories, in the module's memory index order. */
export function memoriesOf(program: Program): Uint8Array[] {
  const state = program.store.state;
  return program.instance.state.memAddrs.map((addr) => new Uint8Array(state.memories[addr].memory.buffer));
}

const NO_BLOCKS = new Uint32Array(0);

/** One digest for a job's memory images: what a later handoff names as its base. */
export function combinedDigest(digests: readonly string[]): string {
  return digests.join('+');
}

export class Precopy {
  readonly #program: Program;
  readonly #shadows: MemoryImage[];
  /**
   * The worker's count of what may have written memory (`JobThread`: every run of the
   * program, every asynchronous call settled) when the last round was taken; undefined
   * until a round is, or when the count is not kept.
   */
  #writesAtLastRound: number | undefined;
  /** Set by `final`: the digest of what the target holds once it has applied everything. */
  digest: string | undefined;
  /** The in-memory directories' files the target holds (`file-delta.ts`): each round sends what changed since. */
  readonly #files = new FilesSent();

  /** `base`: images the target holds (a handoff between the two before); else the module's initial images. */
  constructor(program: Program, base: Uint8Array[] | undefined) {
    this.#program = program;
    const count = program.instance.state.memAddrs.length;
    this.#shadows = base !== undefined && base.length === count
      ? base.map((bytes) => MemoryImage.from(bytes))
      : Array.from({ length: count }, (_, i) => MemoryImage.initial(program.compiled, i));
  }

  /**
   * The blocks changed since the last round (or since the base), taken now. `writes`: the
   * worker's count of what may have written memory; when it is the count at the last
   * round, nothing ran since (a program asleep in a WASI call, or paused), so memory is
   * what the shadow holds and the compare is skipped: an idle 64 MiB job's final costs
   * no 6 ms memcmp in its pause.
   */
  round(writes?: number): RoundResult {
    const t0 = performance.now();
    const memories = memoriesOf(this.#program);
    const unchanged = writes !== undefined && writes === this.#writesAtLastRound;
    this.#writesAtLastRound = writes;
    let blocks = 0;
    let bytes = 0;
    const deltas = this.#shadows.map((shadow, i) => {
      const changed = unchanged && shadow.byteLength === memories[i].byteLength ? NO_BLOCKS : shadow.changedBlocks(memories[i]);
      const delta = shadow.extract(memories[i], changed);
      // XORed with what the target holds: a block with a few changed bytes is mostly
      // zeros, which LZ4 shrinks to almost nothing (random data stays its size).
      const wire = shadow.xor(delta);
      shadow.apply(delta);
      // Keeps the digest current now, while the job runs: from scratch it costs about
      // 45 ms per 64 MiB, a few hashes of changed units later on (the final one is paused).
      shadow.digest();
      blocks += delta.blocks.length;
      bytes += delta.data.length;
      return compressBlock(encodeBlockDelta(wire));
    });
    // The files changed since the last round, after the memory deltas (with in-memory directories only).
    const files = this.#files.changed(this.#program);
    if (files !== undefined) {
      deltas.push(files.delta);
      bytes += files.bytes;
    }
    return { deltas, blocks, bytes, stoppedMs: performance.now() - t0 };
  }

  /** The last round, with the program paused: its deltas, its state without memory, and the digests the target must reach. */
  final(writes?: number): Omit<FinalResult, 'stamps'> {
    const t0 = performance.now();
    const last = this.round(writes);
    // Every file's bytes went in this round or an earlier one: the state goes without them.
    const snapshot = this.#program.snapshot({ embedModule: false, omitMemory: true, omitFiles: this.#files.held });
    const digests = this.#shadows.map((s) => s.digest());
    this.digest = combinedDigest(digests);
    return { ...last, snapshot, digests, stoppedMs: performance.now() - t0 };
  }

  /** The shadows' bytes: after `final`, exactly what the target holds. */
  images(): Uint8Array[] {
    return this.#shadows.map((s) => s.bytes);
  }
}
