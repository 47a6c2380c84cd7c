import { DecodeError, ValidationError } from '../errors/index.ts';
import type { Instr } from '../binary/index.ts';
import { Imm, OPS, PREFIX_FC, PREFIX_FD, RELAXED_SIMD_FIRST, simdLaneCount, simdNaturalAlignment } from '../wasm/index.ts';
import { isRefType, TYPED_REF_BASE, ValType, valTypeName } from '../wasm/index.ts';
import type { FuncType } from '../wasm/index.ts';
import type { ModuleContext } from './module-context.ts';
import { isDefaultable, TypeRelations } from './ref-subtyping.ts';

/** Stands for "any type" on the polymorphic stack below an unconditional branch. */
export const UNKNOWN = 0;

/** A control frame of the spec's validation algorithm (appendix "Validation Algorithm"). */
export interface ControlFrame {
  /**
   * The opcode that opened it: block 0x02, loop 0x03, if 0x04, else 0x05, try_table 0x1f,
   * and the legacy try 0x06, catch 0x07, catch_all 0x19; -1 for the function body.
   */
  opcode: number;
  startTypes: number[];
  endTypes: number[];
  /** Operand stack height when the frame was entered, after its parameters were popped. */
  height: number;
  /** The same height in 8-byte slots (a v128 takes two). */
  slotHeight: number;
  unreachable: boolean;
  /** Non-defaultable locals set when the frame was entered: those set inside it are unset again at its end (Wasm 3.0). */
  initHeight: number;
}

const SIG_TYPES: Record<string, number> = { i: ValType.i32, I: ValType.i64, f: ValType.f32, F: ValType.f64, V: ValType.v128 };
const EMPTY: number[] = [];

/** Parsed `params>results` signatures of the plain instructions, indexed by opcode. */
const SIGS: ({ params: number[]; results: number[] } | undefined)[] = OPS.map((info) => {
  if (!info?.sig) return undefined;
  const [p, r] = info.sig.split('>');
  return { params: [...p].map((c) => SIG_TYPES[c]), results: [...r].map((c) => SIG_TYPES[c]) };
});

/** Natural alignment (log2 of the access size) of each load and store. */
function naturalAlignment(op: number): number {
  switch (op) {
    case 0x28: case 0x2a: case 0x34: case 0x35: case 0x36: case 0x38: case 0x3e: return 2;
    case 0x29: case 0x2b: case 0x37: case 0x39: return 3;
    case 0x2c: case 0x2d: case 0x30: case 0x31: case 0x3a: case 0x3c: return 0;
    default: return 1; // 16-bit accesses
  }
}

/**
 * Validates one function body, one instruction at a time (spec 3.3). The compiler drives
 * it, reading `height`, `reachable` and the control frames between steps, as wasmi's
 * translator drives its validator: one walk over the code does both jobs.
 */
export class FunctionValidator {
  readonly vals: number[] = [];
  readonly ctrls: ControlFrame[] = [];
  /** Greatest operand stack height seen, in slots: the frame size the executor must reserve. */
  maxHeight = 0;
  /**
   * Operand stack height in the executor's 8-byte slots: a v128 takes two, every other
   * value one. The translators place values by it; `height` counts values.
   */
  slotHeight = 0;
  /** True once the final `end` of the body has been consumed. */
  finished = false;
  readonly locals: number[];
  /**
   * The body's first use of SIMD (a v128 local or block type, or a 0xFD instruction and
   * its byte offset), undefined if none. Validation accepts it; the compiler asks,
   * because the executor cannot run it yet.
   */
  simdUse: string | undefined;
  /**
   * The body's first tail call (`return_call` or `return_call_indirect` and its byte
   * offset), undefined if none: the native tier cannot unwind through them yet, so the
   * engines ask.
   */
  tailCallUse: string | undefined;
  /**
   * Per local: 1 while it holds a value (always, but for a non-defaultable local before its
   * first `local.set` or `local.tee` in the current block: spec 3.3.5, "uninitialized local").
   */
  private readonly localInit: Uint8Array;
  /** The non-defaultable locals set so far, innermost block last: ends of blocks unset theirs. */
  private readonly initStack: number[] = [];
  private readonly relations: TypeRelations;
  /**
   * The body's first exception-handling instruction and its byte offset, undefined if
   * none: the native tier leaves such modules to the interpreter, so the engines ask.
   */
  exceptionUse: string | undefined;
  /**
   * The body's first relaxed SIMD instruction (Wasm 3.0, 0xFD 0x100 and up) and its byte
   * offset, undefined if none: the native tier leaves such modules to the interpreter,
   * whose choices among the results the spec allows are fixed (V8's are the hardware's).
   */
  relaxedSimdUse: string | undefined;

  constructor(
    readonly ctx: ModuleContext,
    readonly funcIndex: number,
    readonly type: FuncType,
    declaredLocals: readonly number[],
  ) {
    this.locals = [...type.params, ...declaredLocals];
    if (this.locals.includes(ValType.v128)) this.simdUse = 'a v128 parameter or local';
    this.relations = ctx.relations;
    this.localInit = new Uint8Array(this.locals.length).fill(1);
    for (let i = type.params.length; i < this.locals.length; i++) {
      const t = this.locals[i];
      if (t < TYPED_REF_BASE) continue;
      if (!this.relations.exists(t)) this.fail('unknown type', -1);
      ctx.typedRefUse ??= `function ${funcIndex} (a local of type ${valTypeName(t)})`;
      if (!isDefaultable(t)) this.localInit[i] = 0;
    }
    this.ctrls.push({ opcode: -1, startTypes: EMPTY, endTypes: type.results, height: 0, slotHeight: 0, unreachable: false, initHeight: 0 });
  }

  get height(): number {
    return this.vals.length;
  }

  /** False after an unconditional branch, until the enclosing block ends. */
  get reachable(): boolean {
    return !this.ctrls[this.ctrls.length - 1].unreachable;
  }

  /** Types a branch to `depth` carries: a loop's parameters, otherwise the results. */
  labelTypes(frame: ControlFrame): number[] {
    return frame.opcode === 0x03 ? frame.startTypes : frame.endTypes;
  }

  frameAt(depth: number, offset: number): ControlFrame {
    if (depth >= this.ctrls.length) this.fail('unknown label', offset);
    return this.ctrls[this.ctrls.length - 1 - depth];
  }

  /** Parameter and result types of a block type immediate (s33). */
  blockType(bt: number, offset: number): FuncType {
    if (bt === -64) return { params: EMPTY as never[], results: EMPTY as never[] };
    if (bt < -0x80) {
      // A typed reference (see the decoder's `blockType`).
      const t = -bt;
      if (!this.relations.exists(t)) this.fail('unknown type', offset);
      this.noteTypedRef(`a block of type ${valTypeName(t)} at byte 0x${offset.toString(16)}`);
      return { params: [], results: [t as ValType] };
    }
    if (bt < 0) {
      const t = bt + 0x80;
      if (t === ValType.v128) this.simdUse ??= `a v128 block type at byte 0x${offset.toString(16)}`;
      return { params: [], results: [t as ValType] };
    }
    if (bt >= this.ctx.types.length) this.fail('unknown type', offset);
    return this.ctx.types[bt];
  }

  fail(message: string, offset: number): never {
    throw new ValidationError(message, offset < 0 ? { funcIndex: this.funcIndex } : { funcIndex: this.funcIndex, offset });
  }

  private push(t: number): void {
    this.vals.push(t);
    this.slotHeight += t === ValType.v128 ? 2 : 1;
    if (this.slotHeight > this.maxHeight) this.maxHeight = this.slotHeight;
  }

  private pushAll(types: readonly number[]): void {
    for (let i = 0; i < types.length; i++) this.push(types[i]);
  }

  private pop(offset: number): number {
    const frame = this.ctrls[this.ctrls.length - 1];
    if (this.vals.length === frame.height) {
      if (frame.unreachable) return UNKNOWN;
      this.fail('type mismatch: operand stack is empty', offset);
    }
    const t = this.vals.pop()!;
    this.slotHeight -= t === ValType.v128 ? 2 : 1;
    return t;
  }

  private popExpect(expected: number, offset: number): number {
    const actual = this.pop(offset);
    if (actual !== expected && actual !== UNKNOWN && expected !== UNKNOWN && !this.relations.matches(actual, expected)) {
      this.fail(`type mismatch: expected ${valTypeName(expected)}, found ${valTypeName(actual)}`, offset);
    }
    return actual;
  }

  private popAll(types: readonly number[], offset: number): void {
    for (let i = types.length - 1; i >= 0; i--) this.popExpect(types[i], offset);
  }

  private pushCtrl(opcode: number, startTypes: number[], endTypes: number[]): void {
    this.ctrls.push({ opcode, startTypes, endTypes, height: this.vals.length, slotHeight: this.slotHeight, unreachable: false, initHeight: this.initStack.length });
    this.pushAll(startTypes);
  }

  private popCtrl(offset: number): ControlFrame {
    const frame = this.ctrls[this.ctrls.length - 1];
    this.popAll(frame.endTypes, offset);
    if (this.vals.length !== frame.height) this.fail('type mismatch: values remain on the stack at the end of a block', offset);
    this.ctrls.pop();
    // Locals set inside the block are unset after it (and in an `else`, which starts afresh).
    while (this.initStack.length > frame.initHeight) this.localInit[this.initStack.pop()!] = 0;
    return frame;
  }

  private setUnreachable(): void {
    const frame = this.ctrls[this.ctrls.length - 1];
    while (this.vals.length > frame.height) this.vals.pop(); // not `length =`: a runtime call in V8
    this.slotHeight = frame.slotHeight;
    frame.unreachable = true;
  }

  private checkLocal(index: number, offset: number): number {
    if (index >= this.locals.length) this.fail(`unknown local ${index}`, offset);
    return this.locals[index];
  }

  /** `local.set` / `local.tee`: a non-defaultable local holds a value from here to the end of the block. */
  private initLocal(index: number): void {
    if (this.localInit[index] === 0) {
      this.localInit[index] = 1;
      this.initStack.push(index);
    }
  }

  private checkMemory(index: number, offset: number): void {
    if (index >= this.ctx.memories.length) this.fail(`unknown memory ${index}`, offset);
  }

  /** The type of memory `index`'s addresses (it exists): i64 for a 64-bit memory (memory64), else i32. */
  private memoryAddress(index: number): number {
    return this.ctx.memories[index].limits.index64 ? ValType.i64 : ValType.i32;
  }

  /** The type of table `index`'s element indices (it exists): i64 for a 64-bit table (table64), else i32. */
  private tableAddress(index: number): number {
    return this.ctx.tables[index].limits.index64 ? ValType.i64 : ValType.i32;
  }

  /** A memarg's alignment against the access's natural one, and its offset against a 32-bit memory's range. */
  private checkMemArg(ins: Instr, natural: number): void {
    if (ins.a > natural) this.fail('alignment must not be larger than natural', ins.offset);
    if (ins.b > 0xffffffff && !this.ctx.memories[ins.mem].limits.index64) this.fail('offset out of range', ins.offset);
  }

  /**
   * The signature of a memory or table instruction without a memarg when a 64-bit memory
   * or table (Wasm 3.0) makes some of its operands or results i64; undefined when none
   * does (the opcode table's signature holds). A copy between a 32- and a 64-bit memory
   * or table takes an i32 length, the narrower of the two (spec 3.3.7, 3.3.6).
   */
  private addressSig(op: number, ins: Instr): { params: number[]; results: number[] } | undefined {
    const i32 = ValType.i32;
    const narrower = (a: number, b: number): number => (a === ValType.i64 && b === ValType.i64 ? ValType.i64 : i32);
    let params: number[], results: number[] = [];
    switch (op) {
      case 0x3f: results = [this.memoryAddress(ins.a)]; params = []; break;
      case 0x40: params = [this.memoryAddress(ins.a)]; results = params; break;
      case PREFIX_FC + 8: params = [this.memoryAddress(ins.b), i32, i32]; break;
      case PREFIX_FC + 10: {
        const d = this.memoryAddress(ins.a), s = this.memoryAddress(ins.b);
        params = [d, s, narrower(d, s)];
        break;
      }
      case PREFIX_FC + 11: { const a = this.memoryAddress(ins.a); params = [a, i32, a]; break; }
      case PREFIX_FC + 12: params = [this.tableAddress(ins.b), i32, i32]; break;
      case PREFIX_FC + 14: {
        const d = this.tableAddress(ins.a), s = this.tableAddress(ins.b);
        params = [d, s, narrower(d, s)];
        break;
      }
      case PREFIX_FC + 16: results = [this.tableAddress(ins.a)]; params = []; break;
      default: return undefined;
    }
    return params.includes(ValType.i64) || results.includes(ValType.i64) ? { params, results } : undefined;
  }

  private checkTable(index: number, offset: number): number {
    if (index >= this.ctx.tables.length) this.fail(`unknown table ${index}`, offset);
    return this.ctx.tables[index].elemType;
  }

  private checkElem(index: number, offset: number): number {
    if (index >= this.ctx.elemTypes.length) this.fail(`unknown elem segment ${index}`, offset);
    return this.ctx.elemTypes[index];
  }

  private checkData(index: number, offset: number): void {
    // With data segments, the spec makes a missing data count section a malformed
    // binary (the decoder could not know the segments yet); with none, there is simply
    // no segment to name.
    const count = this.ctx.dataCount ?? this.ctx.module.datas.length;
    if (this.ctx.dataCount === undefined && count > 0) throw new DecodeError('data count section required', offset);
    if (index >= count) this.fail(`unknown data segment ${index}`, offset);
  }

  private funcType(index: number, offset: number): FuncType {
    if (index >= this.ctx.funcTypeIndices.length) this.fail(`unknown function ${index}`, offset);
    return this.ctx.types[this.ctx.funcTypeIndices[index]];
  }

  /** Checks one instruction against the current type state and applies its effect. */
  step(ins: Instr): void {
    const op = ins.op;
    const offset = ins.offset;
    if (this.finished) this.fail('instructions after the end of the function', offset);
    const sig = SIGS[op];
    if (op >= PREFIX_FD) {
      this.stepSimd(ins, sig!);
      return;
    }
    if (sig !== undefined && OPS[op]!.imm !== Imm.memArg) {
      if (op >= PREFIX_FC && op <= PREFIX_FC + 17) {
        if (op === PREFIX_FC + 8) { this.checkMemory(ins.b, offset); this.checkData(ins.a, offset); }
        else if (op === PREFIX_FC + 9) this.checkData(ins.a, offset);
        else if (op === PREFIX_FC + 10) { this.checkMemory(ins.a, offset); this.checkMemory(ins.b, offset); }
        else if (op === PREFIX_FC + 11) this.checkMemory(ins.a, offset);
        else if (op === PREFIX_FC + 12) {
          const et = this.checkElem(ins.a, offset);
          if (!this.relations.matches(et, this.checkTable(ins.b, offset))) this.fail('type mismatch: element segment and table types differ', offset);
        } else if (op === PREFIX_FC + 13) this.checkElem(ins.a, offset);
        else if (op === PREFIX_FC + 14) {
          if (!this.relations.matches(this.checkTable(ins.b, offset), this.checkTable(ins.a, offset))) this.fail('type mismatch: table types differ', offset);
        } else if (op === PREFIX_FC + 16) this.checkTable(ins.a, offset);
      } else if (op === 0x3f || op === 0x40) this.checkMemory(ins.a, offset);
      const wide = this.addressSig(op, ins);
      this.popAll(wide?.params ?? sig.params, offset);
      this.pushAll(wide?.results ?? sig.results);
      return;
    }
    if (sig !== undefined) {
      // loads and stores
      this.checkMemory(ins.mem, offset);
      this.checkMemArg(ins, naturalAlignment(op));
      for (let i = sig.params.length - 1; i > 0; i--) this.popExpect(sig.params[i], offset);
      this.popExpect(this.memoryAddress(ins.mem), offset);
      this.pushAll(sig.results);
      return;
    }
    switch (op) {
      case 0x00: this.setUnreachable(); return;
      case 0x01: return;
      case 0x02: case 0x03: {
        const bt = this.blockType(ins.a, offset);
        this.popAll(bt.params, offset);
        this.pushCtrl(op, bt.params, bt.results);
        return;
      }
      case 0x04: {
        const bt = this.blockType(ins.a, offset);
        this.popExpect(ValType.i32, offset);
        this.popAll(bt.params, offset);
        this.pushCtrl(op, bt.params, bt.results);
        return;
      }
      case 0x05: {
        const frame = this.ctrls[this.ctrls.length - 1];
        if (frame.opcode !== 0x04) this.fail('else without a matching if', offset);
        this.popCtrl(offset);
        this.pushCtrl(0x05, frame.startTypes, frame.endTypes);
        return;
      }
      case 0x06: case 0x07: case 0x08: case 0x09: case 0x0a: case 0x18: case 0x19: case 0x1f:
        this.stepException(ins);
        return;
      case 0x0b: {
        const frame = this.popCtrl(offset);
        if (frame.opcode === 0x04 && !this.relations.allMatch(frame.startTypes, frame.endTypes)) {
          this.fail('type mismatch: if without else must leave its parameters unchanged', offset);
        }
        // A legacy catch holds its caught exception below its frame (see stepException).
        if (frame.opcode === 0x07 || frame.opcode === 0x19) this.pop(offset);
        this.pushAll(frame.endTypes);
        if (this.ctrls.length === 0) this.finished = true;
        return;
      }
      case 0x0c: {
        const frame = this.frameAt(ins.a, offset);
        this.popAll(this.labelTypes(frame), offset);
        this.setUnreachable();
        return;
      }
      case 0x0d: {
        const frame = this.frameAt(ins.a, offset);
        this.popExpect(ValType.i32, offset);
        const types = this.labelTypes(frame);
        this.popAll(types, offset);
        this.pushAll(types);
        return;
      }
      case 0x0e: {
        this.popExpect(ValType.i32, offset);
        const defaultTypes = this.labelTypes(this.frameAt(ins.b, offset));
        const arity = defaultTypes.length;
        for (let i = 0; i < ins.a; i++) {
          const types = this.labelTypes(this.frameAt(ins.targets[i], offset));
          if (types.length !== arity) this.fail('type mismatch: br_table targets differ in arity', offset);
          // Pop and push back, so that each target is checked against the same values.
          const saved: number[] = [];
          for (let j = types.length - 1; j >= 0; j--) saved.push(this.popExpect(types[j], offset));
          for (let j = saved.length - 1; j >= 0; j--) this.push(saved[j]);
        }
        this.popAll(defaultTypes, offset);
        this.setUnreachable();
        return;
      }
      case 0x0f:
        this.popAll(this.type.results, offset);
        this.setUnreachable();
        return;
      case 0x10: {
        const ft = this.funcType(ins.a, offset);
        this.popAll(ft.params, offset);
        this.pushAll(ft.results);
        return;
      }
      case 0x11: {
        if (!this.relations.matches(this.checkTable(ins.b, offset), ValType.funcref)) this.fail('type mismatch: call_indirect needs a funcref table', offset);
        if (ins.a >= this.ctx.types.length) this.fail(`unknown type ${ins.a}`, offset);
        const ft = this.ctx.types[ins.a];
        this.popExpect(this.tableAddress(ins.b), offset);
        this.popAll(ft.params, offset);
        this.pushAll(ft.results);
        return;
      }
      case 0x12: {
        // return_call (spec 3.3.8): the callee's results are the function's own.
        const ft = this.funcType(ins.a, offset);
        this.tailCall(ft, offset);
        return;
      }
      case 0x13: {
        if (!this.relations.matches(this.checkTable(ins.b, offset), ValType.funcref)) this.fail('type mismatch: return_call_indirect needs a funcref table', offset);
        if (ins.a >= this.ctx.types.length) this.fail(`unknown type ${ins.a}`, offset);
        this.popExpect(this.tableAddress(ins.b), offset);
        this.tailCall(this.ctx.types[ins.a], offset);
        return;
      }
      case 0x1a: this.pop(offset); return;
      case 0x1b: {
        this.popExpect(ValType.i32, offset);
        const t1 = this.pop(offset);
        const t2 = this.pop(offset);
        if (isRefType(t1) || isRefType(t2)) this.fail('type mismatch: select without a type needs numeric operands', offset);
        if (t1 !== t2 && t1 !== UNKNOWN && t2 !== UNKNOWN) this.fail('type mismatch: select operands differ', offset);
        this.push(t1 === UNKNOWN ? t2 : t1);
        return;
      }
      case 0x1c: {
        if (ins.a !== 1) this.fail('invalid result arity', offset);
        const t = ins.types[0];
        if (!this.relations.exists(t)) this.fail('unknown type', offset);
        if (t >= TYPED_REF_BASE) this.noteTypedRef(`select of ${valTypeName(t)} at byte 0x${offset.toString(16)}`);
        this.popExpect(ValType.i32, offset);
        this.popExpect(t, offset);
        this.popExpect(t, offset);
        this.push(t);
        return;
      }
      case 0x20: {
        const t = this.checkLocal(ins.a, offset);
        if (this.localInit[ins.a] === 0) this.fail('uninitialized local', offset);
        this.push(t);
        return;
      }
      case 0x21: this.popExpect(this.checkLocal(ins.a, offset), offset); this.initLocal(ins.a); return;
      case 0x22: {
        const t = this.checkLocal(ins.a, offset);
        this.popExpect(t, offset);
        this.initLocal(ins.a);
        this.push(t);
        return;
      }
      case 0x23: {
        if (ins.a >= this.ctx.globals.length) this.fail(`unknown global ${ins.a}`, offset);
        this.push(this.ctx.globals[ins.a].type);
        return;
      }
      case 0x24: {
        if (ins.a >= this.ctx.globals.length) this.fail(`unknown global ${ins.a}`, offset);
        const g = this.ctx.globals[ins.a];
        if (!g.mutable) this.fail('global is immutable', offset);
        this.popExpect(g.type, offset);
        return;
      }
      case 0x25: {
        const t = this.checkTable(ins.a, offset);
        this.popExpect(this.tableAddress(ins.a), offset);
        this.push(t);
        return;
      }
      case 0x26: {
        const t = this.checkTable(ins.a, offset);
        this.popExpect(t, offset);
        this.popExpect(this.tableAddress(ins.a), offset);
        return;
      }
      case 0xd0:
        if (!this.relations.exists(ins.a)) this.fail('unknown type', offset);
        this.push(ins.a);
        return;
      case 0xd1: {
        const t = this.pop(offset);
        if (t !== UNKNOWN && !isRefType(t)) this.fail('type mismatch: ref.is_null needs a reference', offset);
        this.push(ValType.i32);
        return;
      }
      case 0xd2: {
        this.funcType(ins.a, offset);
        if (!this.ctx.declaredRefs.has(ins.a)) this.fail('undeclared function reference', offset);
        // Wasm 3.0: the reference is typed, `(ref $t)` of the function's type.
        this.push(TypeRelations.funcRef(this.ctx.funcTypeIndices[ins.a]));
        return;
      }
      case 0x14: case 0x15: case 0xd4: case 0xd5: case 0xd6:
        this.stepTypedRef(ins);
        return;
      case PREFIX_FC + 15: {
        const t = this.checkTable(ins.a, offset);
        const at = this.tableAddress(ins.a);
        this.popExpect(at, offset);
        this.popExpect(t, offset);
        this.push(at);
        return;
      }
      case PREFIX_FC + 17: {
        const t = this.checkTable(ins.a, offset);
        const at = this.tableAddress(ins.a);
        this.popExpect(at, offset);
        this.popExpect(t, offset);
        this.popExpect(at, offset);
        return;
      }
      default:
        this.fail(`unexpected instruction ${OPS[op]?.name ?? op}`, offset);
    }
  }

  /**
   * The instructions of typed function references (Wasm 3.0, spec 3.3.x): `call_ref`,
   * `return_call_ref`, `ref.as_non_null`, `br_on_null`, `br_on_non_null`.
   */
  private stepTypedRef(ins: Instr): void {
    const op = ins.op;
    const offset = ins.offset;
    this.noteTypedRef(`${OPS[op]!.name} at byte 0x${offset.toString(16)}`);
    switch (op) {
      case 0x14: case 0x15: {
        if (ins.a >= this.ctx.types.length) this.fail(`unknown type ${ins.a}`, offset);
        this.popExpect(TypeRelations.funcRef(ins.a, true), offset);
        const ft = this.ctx.types[ins.a];
        if (op === 0x15) { this.tailCall(ft, offset); return; }
        this.popAll(ft.params, offset);
        this.pushAll(ft.results);
        return;
      }
      case 0xd4: {
        const t = this.popRef(offset);
        this.push(t === UNKNOWN ? UNKNOWN : TypeRelations.nonNull(t));
        return;
      }
      case 0xd5: {
        const frame = this.frameAt(ins.a, offset);
        const t = this.popRef(offset);
        const types = this.labelTypes(frame);
        this.popAll(types, offset);
        this.pushAll(types);
        this.push(t === UNKNOWN ? UNKNOWN : TypeRelations.nonNull(t));
        return;
      }
      default: {
        // br_on_non_null: the label takes the values below the reference, then the reference (non-null).
        const frame = this.frameAt(ins.a, offset);
        const types = this.labelTypes(frame);
        if (types.length === 0) this.fail('type mismatch: br_on_non_null needs a label that takes a reference', offset);
        const last = types[types.length - 1];
        const t = this.popRef(offset);
        if (t !== UNKNOWN && !this.relations.matches(TypeRelations.nonNull(t), last)) {
          this.fail(`type mismatch: expected ${valTypeName(last)}, found ${valTypeName(TypeRelations.nonNull(t))}`, offset);
        }
        const below = types.slice(0, -1);
        this.popAll(below, offset);
        this.pushAll(below);
        return;
      }
    }
  }

  /** The parameter types of tag `index` (the values its exceptions carry). */
  tagParams(index: number, offset: number): number[] {
    const tags = this.ctx.tagTypeIndices;
    if (index >= tags.length) this.fail(`unknown tag ${index}`, offset);
    return this.ctx.types[tags[index]].params;
  }

  /**
   * Exception handling (Wasm 3.0 and the legacy instructions). A legacy `catch` or
   * `catch_all` keeps the exception it caught as an exnref on the operand stack just
   * below its own frame, where `rethrow` finds it and `end` drops it: so the operand
   * stack at every pc says everything a paused handler needs (stack heights, snapshots
   * and the translators follow from validation, as for every other value).
   */
  private stepException(ins: Instr): void {
    const op = ins.op;
    const offset = ins.offset;
    this.exceptionUse ??= `${OPS[op]!.name} at byte 0x${offset.toString(16)}`;
    switch (op) {
      case 0x08: // throw
        this.popAll(this.tagParams(ins.a, offset), offset);
        this.setUnreachable();
        return;
      case 0x0a: // throw_ref
        this.popExpect(ValType.exnref, offset);
        this.setUnreachable();
        return;
      case 0x1f: { // try_table: its labels are those outside it
        const bt = this.blockType(ins.a, offset);
        for (let i = 0; i < ins.b; i++) {
          const kind = ins.targets[3 * i];
          const types = kind < 2 ? [...this.tagParams(ins.targets[3 * i + 1], offset)] : [];
          if (kind === 1 || kind === 3) types.push(ValType.exnref);
          const label = this.labelTypes(this.frameAt(ins.targets[3 * i + 2], offset));
          if (!this.relations.allMatch(types, label)) this.fail('type mismatch: catch clause does not match its label', offset);
        }
        this.popAll(bt.params, offset);
        this.pushCtrl(op, bt.params, bt.results);
        return;
      }
      case 0x06: { // try
        const bt = this.blockType(ins.a, offset);
        this.popAll(bt.params, offset);
        this.pushCtrl(op, bt.params, bt.results);
        return;
      }
      case 0x07: case 0x19: { // catch, catch_all
        const frame = this.ctrls[this.ctrls.length - 1];
        if (frame.opcode !== 0x06 && frame.opcode !== 0x07) this.fail(`${op === 0x07 ? 'catch' : 'catch_all'} without a matching try`, offset);
        const params = op === 0x07 ? this.tagParams(ins.a, offset) : EMPTY;
        this.popCtrl(offset);
        if (frame.opcode === 0x07) this.pop(offset); // the previous catch's exception
        this.push(ValType.exnref);
        this.pushCtrl(op, params as number[], frame.endTypes);
        return;
      }
      case 0x18: { // delegate: ends a try without catches
        const frame = this.ctrls[this.ctrls.length - 1];
        if (frame.opcode !== 0x06) this.fail('delegate without a matching try', offset);
        this.popCtrl(offset);
        this.frameAt(ins.a, offset);
        this.pushAll(frame.endTypes);
        return;
      }
      case 0x09: { // rethrow
        const frame = this.frameAt(ins.a, offset);
        if (frame.opcode !== 0x07 && frame.opcode !== 0x19) this.fail('invalid rethrow label', offset);
        this.setUnreachable();
        return;
      }
    }
  }

  /** Records the module's first use of typed function references, for the native tier (`ModuleContext.typedRefUse`). */
  private noteTypedRef(what: string): void {
    this.ctx.typedRefUse ??= `function ${this.funcIndex} (${what})`;
  }

  /** Pops a value that must be a reference (or the unknown type below an unconditional branch). */
  private popRef(offset: number): number {
    const t = this.pop(offset);
    if (t !== UNKNOWN && !isRefType(t)) this.fail(`type mismatch: expected a reference, found ${valTypeName(t)}`, offset);
    return t;
  }

  /** The rest of a tail call once its callee's type is known: its arguments, then nothing follows. */
  private tailCall(ft: FuncType, offset: number): void {
    this.tailCallUse ??= `${OPS[this.ctx.module.bytes[offset]]!.name} at byte 0x${offset.toString(16)}`;
    if (!this.relations.allMatch(ft.results, this.type.results)) this.fail('type mismatch: a tail call\'s results must be the function\'s results', offset);
    this.popAll(ft.params, offset);
    this.setUnreachable();
  }

  /**
   * A SIMD instruction: every one has a plain signature; memory accesses also check the
   * memory and their alignment, lane immediates their bound (spec 3.3.3, 3.3.7).
   */
  private stepSimd(ins: Instr, sig: { params: number[]; results: number[] }): void {
    const offset = ins.offset;
    const sub = ins.op - PREFIX_FD;
    this.simdUse ??= `${OPS[ins.op]!.name} at byte 0x${offset.toString(16)}`;
    if (sub >= RELAXED_SIMD_FIRST) this.relaxedSimdUse ??= `${OPS[ins.op]!.name} at byte 0x${offset.toString(16)}`;
    const alignment = simdNaturalAlignment(sub);
    if (alignment >= 0) {
      this.checkMemory(ins.mem, offset);
      this.checkMemArg(ins, alignment);
    }
    const lanes = simdLaneCount(sub);
    if (lanes > 0) {
      if (OPS[ins.op]!.imm === Imm.shuffle) {
        for (let i = 0; i < 16; i++) if (ins.bytes[i] >= lanes) this.fail('invalid lane index', offset);
      } else if ((OPS[ins.op]!.imm === Imm.memArgLane ? ins.c : ins.a) >= lanes) {
        this.fail('invalid lane index', offset);
      }
    }
    if (alignment >= 0 && this.memoryAddress(ins.mem) === ValType.i64) {
      // memory64: the address (the first operand) is an i64.
      for (let i = sig.params.length - 1; i > 0; i--) this.popExpect(sig.params[i], offset);
      this.popExpect(ValType.i64, offset);
    } else this.popAll(sig.params, offset);
    this.pushAll(sig.results);
  }
}
