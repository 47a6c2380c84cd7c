import { ByteWriter } from '../binary/index.ts';

/**
 * The code of one rewritten body as it is written: the bytes, how many blocks of the
 * rewritten code enclose the current position (for branch depths), and where each
 * original instruction went (for backtraces).
 */
export class BodyWriter {
  readonly out = new ByteWriter();
  /** Blocks of the rewritten code around the current position: $save and $body to begin with. */
  labels = 2;
  /** Positions in `out` where original instructions were emitted, ascending. */
  readonly rewrittenPcs: number[] = [];
  /** The original byte offset of the instruction emitted at each of `rewrittenPcs`. */
  readonly originalPcs: number[] = [];

  constructor(private readonly bytes: Uint8Array) {}

  /** Notes that the instruction at original offset `offset` is emitted from here. */
  mark(offset: number): void {
    this.rewrittenPcs.push(this.out.length);
    this.originalPcs.push(offset);
  }

  /** Copies the original instruction at bytes `start .. end` unchanged. */
  copy(start: number, end: number): void {
    this.mark(start);
    this.out.raw(this.bytes, start, end);
  }

  localGet(index: number): void {
    this.out.u8(0x20).u32(index);
  }

  localSet(index: number): void {
    this.out.u8(0x21).u32(index);
  }

  /** The branch depth, from here, of the rewritten block whose label index is `label`. */
  depthOf(label: number): number {
    return this.labels - 1 - label;
  }

  /** The depth of $save (label 0) from inside `extra` more blocks opened here. */
  depthToSave(extra: number): number {
    return this.labels - 1 + extra;
  }
}
