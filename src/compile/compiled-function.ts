import { slotCount } from '../wasm/index.ts';
import type { CompiledModule } from './compile-module.ts';
import type { FastFunction } from './fast-ir.ts';
import { FunctionPoints } from './function-points.ts';
import type { ExactCode, HandlerTable } from './ir.ts';
import { translateExact } from './translate.ts';
import type { CallSignatures } from './translate-fast.ts';

/**
 * A function body and the codes the executor runs, each translated the first time
 * something asks for it: a module loads with one validation walk per body, and a
 * function that never runs is never translated (a 1 MB module then loads in about a
 * third of the time, most of which V8 spent compiling the translator itself). A body
 * the host's engine validated for a plain run (`compile/body-scan.ts`) is validated here
 * when first translated, which is also when its frame size becomes known.
 */
export class CompiledFunction {
  readonly funcIndex: number;
  /** Slots the parameters take (a v128 takes two, see `wasm/slots.ts`). */
  readonly numParams: number;
  /** Slots the parameters plus declared locals take. */
  readonly numLocals: number;
  /** Slots the results take. */
  readonly numResults: number;
  /** The function's type index in its module. */
  readonly typeIndex: number;
  /** Parameter counts of the module's functions and types, shared by its functions. */
  readonly sigs: CallSignatures;
  /** The compiled module the function belongs to (what a snapshot of a frame running it names). */
  readonly owner: CompiledModule;
  /** The fast code, translated the first time the function runs on the fast path. */
  fast: FastFunction | undefined = undefined;
  private exact: ExactCode | undefined = undefined;
  private positions: FunctionPoints | undefined = undefined;
  private readonly codeIndex: number;
  /** Slots a frame needs, -1 until the body is validated (then its translating walk counts them). */
  #frameSize: number;

  /**
   * @param maxHeight the deepest operand stack in slots, from validation; -1 when the body
   *   is not validated yet (the first translation validates it and counts it)
   */
  constructor(owner: CompiledModule, codeIndex: number, maxHeight: number, sigs: CallSignatures) {
    const module = owner.module;
    const context = owner.context;
    const type = context.types[module.funcs[codeIndex]];
    this.funcIndex = module.numImportedFuncs + codeIndex;
    this.numParams = slotCount(type.params);
    this.numLocals = this.numParams + slotCount(module.codes[codeIndex].locals);
    this.numResults = slotCount(type.results);
    this.#frameSize = maxHeight < 0 ? -1 : this.numLocals + maxHeight + 1;
    this.typeIndex = module.funcs[codeIndex];
    this.sigs = sigs;
    this.owner = owner;
    this.codeIndex = codeIndex;
  }

  /** The length of its body's instructions in the module, in bytes. */
  get codeBytes(): number {
    const body = this.owner.module.codes[this.codeIndex];
    return body.codeEnd - body.codeStart;
  }

  /** Slots a frame needs: locals plus the deepest operand stack (from validation) plus one. */
  get frameSize(): number {
    if (this.#frameSize < 0) this.translate();
    return this.#frameSize;
  }

  /** The deepest operand stack in slots, -1 while the body is not validated (for `BodyFacts`). */
  get maxHeight(): number {
    return this.#frameSize >= 0 ? this.#frameSize - this.numLocals - 1 : -1;
  }

  /** The exact code (see `ir.ts`). */
  get code(): Int32Array {
    return (this.exact ?? this.translate()).code;
  }
  /** For each exact pc that starts an instruction: its byte offset in the module; -1 elsewhere. */
  get offsets(): Int32Array {
    return (this.exact ?? this.translate()).offsets;
  }
  /** For each exact pc that starts an instruction: the operand stack height before it, in slots; -1 elsewhere. */
  get heights(): Int32Array {
    return (this.exact ?? this.translate()).heights;
  }

  /** Where the function catches exceptions (see `ir.ts`); undefined when it has no try_table or try. */
  get handlers(): HandlerTable | undefined {
    return (this.exact ?? this.translate()).handlers;
  }

  /**
   * What validation knows at each exact pc (stack types, the pc of each byte offset),
   * made the first time a snapshot captures or restores a frame of this function.
   */
  get points(): FunctionPoints {
    this.positions ??= new FunctionPoints(this.owner.context, this.codeIndex, this.exact ?? this.translate());
    return this.positions;
  }

  private translate(): ExactCode {
    this.exact = translateExact(this.owner.context, this.codeIndex);
    if (this.#frameSize < 0) this.#frameSize = this.numLocals + this.exact.maxHeight + 1;
    return this.exact;
  }
}
