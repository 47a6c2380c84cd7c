/**
 * Innermost loops of a function body, found by one walk of its instructions: what the
 * rewriter unrolls (`planUnrolling`) and whose resume clones agents make first
 * (`RewriteCache.loopSitesWithoutClones`: a paused frame on top of its stack most often
 * stands at an innermost loop's header).
 * @module
 */
import { createInstr, InstructionReader } from '../binary/index.ts';
import type { Instr } from '../binary/index.ts';
import type { FuncType, Module } from '../wasm/index.ts';

/** An innermost loop of a body. */
export interface FoundLoop {
  /** Offset of its `loop` instruction. */
  at: number;
  /** Offset just after that instruction: where its body starts and its safepoint stands. */
  body: number;
  /** Bytes from `at` to the end of its `end`. */
  size: number;
  /** Whether the loop takes parameters (its block type names a function type with some). */
  params: boolean;
  /** Whether its body makes a call (`call`, `call_indirect`; tail calls leave the loop). */
  calls: boolean;
}

/** Finds innermost loops while a walk reads a body, one instruction at a time. */
export class LoopFinder {
  /** Innermost loops, in the order their `end`s were read. */
  readonly found: FoundLoop[] = [];
  /** Open blocks: a loop's offsets (at -1 for other blocks), and whether it may still be innermost. */
  readonly #open: { at: number; body: number; innermost: boolean; params: boolean; calls: boolean }[] = [];
  readonly #types: readonly FuncType[];

  constructor(types: readonly FuncType[]) {
    this.#types = types;
  }

  /** Every innermost loop of function body `codeIndex` of `m`. */
  static inBody(m: Module, types: readonly FuncType[], codeIndex: number): FoundLoop[] {
    const body = m.codes[codeIndex];
    if (body === undefined) return [];
    const finder = new LoopFinder(types);
    const r = new InstructionReader(m.bytes, body.codeStart, body.codeEnd);
    const ins = createInstr();
    while (r.pos < body.codeEnd) {
      const at = r.pos;
      r.read(ins);
      finder.step(ins, at, r.pos);
    }
    return finder.found;
  }

  /** `ins` was read at offset `at`; the reader is now at `next`. */
  step(ins: Instr, at: number, next: number): void {
    const op = ins.op;
    // block, if, try, try_table open a block that is not a loop.
    if (op === 0x02 || op === 0x04 || op === 0x06 || op === 0x1f) this.#open.push({ at: -1, body: -1, innermost: false, params: false, calls: false });
    else if (op === 0x03) {
      for (const b of this.#open) b.innermost = false;
      this.#open.push({ at, body: next, innermost: true, params: ins.a >= 0 && this.#types[ins.a]!.params.length > 0, calls: false });
    } else if (op === 0x0b || op === 0x18) {
      // end, or the delegate that ends a legacy try.
      const b = this.#open.pop();
      if (b !== undefined && b.at >= 0 && b.innermost) this.found.push({ at: b.at, body: b.body, size: next - b.at, params: b.params, calls: b.calls });
    } else if ((op === 0x10 || op === 0x11) && this.#open.length > 0) {
      // The call is in the nearest open loop (blocks may be open inside it).
      for (let i = this.#open.length - 1; i >= 0; i--) {
        if (this.#open[i].at >= 0) {
          this.#open[i].calls = true;
          break;
        }
      }
    }
  }
}
