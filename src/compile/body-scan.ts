/**
 * What a module's bodies use, found by reading their instructions without validating
 * them: for a module the host's engine has validated (`WebAssembly.validate`) and will run
 * as it is (a plain module, `native/rewrite.ts`), where our own validation of every body
 * would repeat V8's (90 ms of a 1 MB program's first start). Each body is still validated
 * by us if it is ever translated (`CompiledFunction`), which also counts its frame.
 */
import { InstructionReader } from '../binary/index.ts';
import { Imm, OPCODE_SPACE, OPS, PREFIX_FD, RELAXED_SIMD_FIRST, ValType } from '../wasm/index.ts';
import type { Module } from '../wasm/index.ts';
import type { BodyFacts } from './compile-module.ts';

/** What the scan asks of an opcode (`KINDS`): bits. */
const BLOCK = 1;
const EXCEPTION = 2;
const TAIL_CALL = 4;

/**
 * Per opcode, from the opcode table: BLOCK where its immediate starts with a block type
 * (block, loop, if, try, try_table), EXCEPTION and TAIL_CALL by its feature.
 */
const KINDS = new Uint8Array(OPCODE_SPACE);
for (const info of OPS) {
  if (info === undefined) continue;
  const op = info.code;
  if (info.imm === Imm.blockType || info.imm === Imm.tryTable) KINDS[op] |= BLOCK;
  if (info.feature === 'exceptions') KINDS[op] |= EXCEPTION;
  if (info.feature === 'tailCalls') KINDS[op] |= TAIL_CALL;
}

/**
 * The facts validation would find in `module`'s bodies (the first use of SIMD, of tail
 * calls, of exception handling, of relaxed SIMD, each phrased as the validator phrases it),
 * with every stack height unknown (-1). The module's other sections (a tag, an exnref or
 * v128 global) are `compileModule`'s to add. Only for a module the host validated: an
 * invalid body may be misread here, not reported.
 * @throws DecodeError where an instruction cannot be read at all
 */
export function scanBodyFacts(module: Module): BodyFacts {
  const facts: BodyFacts = { maxHeights: new Int32Array(module.codes.length).fill(-1), simdUse: undefined, tailCallUse: undefined, exceptionUse: undefined, relaxedSimdUse: undefined };
  const firsts = new BodyFirsts();
  for (let i = 0; i < module.codes.length; i++) {
    const body = module.codes[i];
    if (facts.simdUse === undefined && (module.types[module.funcs[i]].params.includes(ValType.v128) || body.locals.includes(ValType.v128))) {
      facts.simdUse = where(module, i, 'a v128 parameter or local');
    }
    firsts.scan(new InstructionReader(module.bytes, body.codeStart, body.codeEnd));
    if (firsts.simd >= 0) facts.simdUse ??= where(module, i, firsts.simdIsBlockType ? `a v128 block type at byte 0x${firsts.simd.toString(16)}` : at(module, firsts.simd));
    if (firsts.relaxedSimd >= 0) facts.relaxedSimdUse ??= where(module, i, at(module, firsts.relaxedSimd));
    if (firsts.exception >= 0) facts.exceptionUse ??= where(module, i, at(module, firsts.exception));
    if (firsts.tailCall >= 0) facts.tailCallUse ??= where(module, i, at(module, firsts.tailCall));
  }
  return facts;
}

/** A fact's phrase, as the validator's: "function 12 (what)", for defined function `codeIndex`. */
function where(module: Module, codeIndex: number, what: string): string {
  return `function ${module.numImportedFuncs + codeIndex} (${what})`;
}

/** The instruction at `offset` and where it is: "try at byte 0x4f". */
function at(module: Module, offset: number): string {
  const op = new InstructionReader(module.bytes, offset, module.bytes.length).skipInstruction();
  return `${OPS[op]!.name} at byte 0x${offset.toString(16)}`;
}

/**
 * The byte offsets of one body's first instructions of each kind the engines ask about,
 * -1 where it has none. The loop over a body is this small method of its own so that V8
 * optimizes it after a few bodies, not by on-stack replacement of one loop over them all
 * (measured on SQLite's 1 MB of code, a cold scan in a fresh process: 35-45 ms that way,
 * 20-33 ms, median 25, this way; our validation of the same bodies takes 90-100 ms).
 */
class BodyFirsts {
  simd = -1;
  /** Whether `simd` is a block of type v128 rather than a 0xFD instruction. */
  simdIsBlockType = false;
  relaxedSimd = -1;
  exception = -1;
  tailCall = -1;

  scan(reader: InstructionReader): void {
    this.simd = this.relaxedSimd = this.exception = this.tailCall = -1;
    this.simdIsBlockType = false;
    const bytes = reader.bytes;
    const end = reader.end;
    while (reader.pos < end) {
      const offset = reader.pos;
      const op = reader.skipInstruction();
      if (op >= PREFIX_FD) {
        if (this.simd < 0) this.simd = offset;
        if (op - PREFIX_FD >= RELAXED_SIMD_FIRST && this.relaxedSimd < 0) this.relaxedSimd = offset;
      } else if (KINDS[op] !== 0) {
        const kind = KINDS[op];
        // A block type is the byte after the opcode; v128's is 0x7b.
        if ((kind & BLOCK) !== 0 && bytes[offset + 1] === ValType.v128 && this.simd < 0) {
          this.simd = offset;
          this.simdIsBlockType = true;
        }
        if ((kind & EXCEPTION) !== 0 && this.exception < 0) this.exception = offset;
        if ((kind & TAIL_CALL) !== 0 && this.tailCall < 0) this.tailCall = offset;
      }
    }
  }
}
