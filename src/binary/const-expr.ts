/**
 * Constant expressions (global initialisers, segment offsets, element items), decoded
 * into `ConstInstr`s up to their final `end`. Any instruction is accepted here: whether
 * it is constant is the validator's question.
 * Spec: https://webassembly.github.io/spec/core/binary/instructions.html#expressions
 */
import type { ConstExpr, ConstInstr } from '../wasm/index.ts';
import { Imm, OPS } from '../wasm/index.ts';
import type { Instr, InstructionReader } from './instructions.ts';

const END = 0x0b;

/** Reads an expression at `r.pos` through its `end`, which is consumed but not listed. */
export function readConstExpr(r: InstructionReader, scratch: Instr): ConstExpr {
  const offset = r.pos;
  const instrs: ConstInstr[] = [];
  // Nested blocks are not constant, but their own `end`s must not end the expression.
  let depth = 0;
  for (;;) {
    r.read(scratch);
    const op = scratch.op;
    if (op === END) {
      if (depth === 0) break;
      depth--;
    } else if (OPS[op]!.imm === Imm.blockType) {
      depth++;
    }
    const instr: ConstInstr = { op, offset: scratch.offset, a: scratch.a, b: scratch.b };
    if (OPS[op]!.imm === Imm.v128) instr.bytes = r.bytes.subarray(r.pos - 16, r.pos);
    instrs.push(instr);
  }
  return { instrs, offset };
}

/** The element item `ref.func index` that the function-index encodings stand for. */
export function refFuncExpr(index: number, offset: number): ConstExpr {
  return { instrs: [{ op: 0xd2, offset, a: index, b: 0 }], offset };
}
