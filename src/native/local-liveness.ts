import { createInstr, InstructionReader } from '../binary/index.ts';

/**
 * Which locals of a function body are live (read before being written again, on some
 * path) at the points where the rewriter puts safepoints: the body's first instruction,
 * the start of each loop's body, and the instruction after each call.
 *
 * Why: every safepoint branches to the function's one save sequence, which reads every
 * local. To V8's optimizing compiler that makes every local live at every safepoint, so
 * a local of a large function stays in a register or a stack slot from its first write
 * to the function's last safepoint, loops included. A local that is dead at a safepoint
 * holds nothing the rest of the run reads; the rewriter sets it to zero on that
 * safepoint's way out (`rewrite-function.ts`), and its value no longer flows there.
 *
 * A backward pass over the body, repeated until the live sets at loop starts stop
 * growing: a branch takes the live set of its target (after a block's or if's end, at a
 * loop's start), `local.get` adds, `local.set` and `local.tee` remove, returns and
 * `unreachable` leave nothing live. Bodies with exception handling (a throw's way to a
 * handler is not in the code) or branches on references are not analysed: every local
 * counts as live there.
 */
export class LocalLiveness {
  /** Live locals before each instruction a safepoint can stand at, by its byte offset. */
  private readonly byOffset = new Map<number, Uint32Array>();

  private constructor(readonly numLocals: number) {}

  /**
   * The liveness of the body `bytes[start, end)` (its instructions, after the local
   * declarations), with `numLocals` parameters and locals; undefined when the body has
   * instructions the analysis does not model. `everywhere`: before every instruction, not
   * only where safepoints stand (for tests that compare frames).
   */
  static of(bytes: Uint8Array, start: number, end: number, numLocals: number, everywhere = false): LocalLiveness | undefined {
    const body = DecodedBody.read(bytes, start, end, everywhere);
    if (body === undefined) return undefined;
    const liveness = new LocalLiveness(numLocals);
    liveness.solve(body);
    return liveness;
  }

  /** Whether local `index` may be read after the safepoint at `offset` (true where nothing is known). */
  isLive(offset: number, index: number): boolean {
    const set = this.byOffset.get(offset);
    return set === undefined || (set[index >>> 5]! & (1 << (index & 31))) !== 0;
  }

  private solve(body: DecodedBody): void {
    const words = (this.numLocals + 31) >>> 5;
    const n = body.ops.length;
    const empty = new Uint32Array(words);
    // Per control instruction (by its index): live after its end, at its body's start (loops), at its else.
    const afterEnd = new Map<number, Uint32Array>();
    const loopStart = new Map<number, Uint32Array>();
    const elseStart = new Map<number, Uint32Array>();
    /** Live at the label of control instruction `c` (-1: the body's, a return): a loop's start, else after its end. */
    const atLabel = (c: number): Uint32Array => (c < 0 ? empty : (body.ops[c] === 0x03 ? loopStart.get(c) : afterEnd.get(c)) ?? empty);
    const target = (i: number): Uint32Array => atLabel(body.targetOf[i]!);
    const union = (into: Uint32Array, from: Uint32Array): void => {
      for (let w = 0; w < words; w++) into[w] |= from[w]!;
    };
    for (let changed = true; changed;) {
      changed = false;
      let live = new Uint32Array(words);
      for (let i = n - 1; i >= 0; i--) {
        const op = body.ops[i]!;
        switch (op) {
          case 0x0b: { // end: of the body, nothing follows; of a block, what follows it
            const s = body.match[i]!;
            if (s < 0) live.fill(0);
            else afterEnd.set(s, live.slice());
            break;
          }
          case 0x05: { // else: the then-part falls through to the end
            const s = body.match[i]!;
            elseStart.set(s, live.slice());
            live = (afterEnd.get(s) ?? empty).slice();
            break;
          }
          case 0x04: // if: the then-part, or the else-part (its end when it has none)
            union(live, elseStart.get(i) ?? afterEnd.get(i) ?? empty);
            break;
          case 0x03: { // loop: its start is a branch target, known from the pass before
            const known = loopStart.get(i);
            if (known === undefined) {
              loopStart.set(i, live.slice());
              changed = true;
            } else {
              for (let w = 0; w < words; w++) {
                if (((live[w]! | known[w]!) >>> 0) !== known[w]) { known[w] |= live[w]!; changed = true; }
              }
            }
            break;
          }
          case 0x0c: live = target(i).slice(); break;
          case 0x0d: union(live, target(i)); break;
          case 0x0e: {
            live.fill(0);
            for (let t = body.tableStart[i]!; t < body.tableStart[i + 1]!; t++) union(live, atLabel(body.tableTargets[t]!));
            break;
          }
          case 0x00: case 0x0f: case 0x12: case 0x13: case 0x15: live.fill(0); break;
          case 0x20: live[body.local[i]! >>> 5] |= 1 << (body.local[i]! & 31); break;
          case 0x21: case 0x22: live[body.local[i]! >>> 5] &= ~(1 << (body.local[i]! & 31)); break;
        }
        if (body.safepointAt[i] === 1) this.byOffset.set(body.offsets[i]!, live.slice());
      }
    }
  }
}

/** Opcodes whose control flow the analysis does not follow: exception handling, branches on references. */
const UNMODELLED = new Set([0x06, 0x07, 0x08, 0x09, 0x0a, 0x18, 0x19, 0x1f, 0xd5, 0xd6]);

/** A body's instructions as the analysis needs them, with each branch's target resolved. */
class DecodedBody {
  readonly ops: number[] = [];
  readonly offsets: number[] = [];
  /** The local of local.get/set/tee. */
  readonly local: number[] = [];
  /** For `end` and `else`: the index of their block's opening instruction (-1: the body's end). */
  readonly match: number[] = [];
  /** For br and br_if: the index of the target's opening instruction (-1: the body itself). */
  readonly targetOf: number[] = [];
  /** br_table's targets, as `targetOf`, from `tableStart[i]` to `tableStart[i + 1]`. */
  readonly tableTargets: number[] = [];
  readonly tableStart: number[] = [];
  /** 1 where a safepoint can stand before the instruction: the first, a loop body's first, after a call. */
  readonly safepointAt: number[] = [];

  static read(bytes: Uint8Array, start: number, end: number, everywhere: boolean): DecodedBody | undefined {
    const body = new DecodedBody();
    const reader = new InstructionReader(bytes, start, end);
    const ins = createInstr();
    const open: number[] = [];
    const label = (depth: number): number => (depth < open.length ? open[open.length - 1 - depth]! : -1);
    let previous = -1;
    while (reader.pos < end) {
      ins.offset = reader.pos;
      reader.read(ins);
      const op = ins.op;
      if (UNMODELLED.has(op)) return undefined;
      const i = body.ops.length;
      body.ops.push(op);
      body.offsets.push(ins.offset);
      body.local.push(op >= 0x20 && op <= 0x22 ? ins.a : 0);
      body.match.push(0);
      body.targetOf.push(0);
      body.tableStart.push(body.tableTargets.length);
      body.safepointAt.push(everywhere || previous === -1 || previous === 0x03 || previous === 0x10 || previous === 0x11 || previous === 0x14 ? 1 : 0);
      switch (op) {
        case 0x02: case 0x03: case 0x04: open.push(i); break;
        case 0x05: body.match[i] = open[open.length - 1]!; break;
        case 0x0b: body.match[i] = open.length > 0 ? open.pop()! : -1; break;
        case 0x0c: case 0x0d: body.targetOf[i] = label(ins.a); break;
        case 0x0e:
          for (let t = 0; t < ins.a; t++) body.tableTargets.push(label(ins.targets[t]!));
          body.tableTargets.push(label(ins.b));
          break;
      }
      previous = op;
    }
    body.tableStart.push(body.tableTargets.length);
    return body;
  }
}
