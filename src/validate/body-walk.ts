import { createInstr, InstructionReader } from '../binary/index.ts';
import type { Instr } from '../binary/index.ts';
import { DecodeError } from '../errors/index.ts';
import { FunctionValidator } from './function-validator.ts';
import type { ModuleContext } from './module-context.ts';

/** What a walk over a function body does at each instruction (see {@link walkBody}). */
export interface BodyVisitor {
  /** Before the validator steps over `ins`: its state is the one before the instruction. */
  before?(ins: Instr, v: FunctionValidator): void;
  /** After the validator stepped over `ins`; `next` is the byte offset after the instruction. */
  after?(ins: Instr, v: FunctionValidator, next: number): void;
}

/**
 * Walks the body of defined function `codeIndex` in step with the spec's validation
 * algorithm, the one walk that validation, the exact translator, the native rewriter and
 * the map of a function's positions (`compile/function-points.ts`) share: each
 * instruction is read, shown to `visitor.before`, validated, then shown to `visitor.after`. Returns the validator at the end (its
 * `maxHeight`, its locals). Spec: https://webassembly.github.io/spec/core/valid/instructions.html
 * @throws DecodeError when the body ends without its final `end` or has code after it
 * @throws ValidationError when an instruction is not valid
 */
export function walkBody(ctx: ModuleContext, codeIndex: number, visitor?: BodyVisitor): FunctionValidator {
  const module = ctx.module;
  const funcIndex = module.numImportedFuncs + codeIndex;
  const body = module.codes[codeIndex];
  const v = new FunctionValidator(ctx, funcIndex, ctx.types[module.funcs[codeIndex]], body.locals);
  const reader = new InstructionReader(module.bytes, body.codeStart, body.codeEnd);
  const ins = createInstr();
  const before = visitor?.before !== undefined;
  const after = visitor?.after !== undefined;
  while (!v.finished) {
    if (reader.pos >= body.codeEnd) throw new DecodeError('END opcode expected', body.codeEnd);
    reader.read(ins);
    if (before) visitor!.before!(ins, v);
    v.step(ins);
    if (after) visitor!.after!(ins, v, reader.pos);
  }
  if (reader.pos !== body.codeEnd) throw new DecodeError('section size mismatch: code after the end of the function', reader.pos);
  return v;
}
