export { IR_VERSION, IrOp, irLength } from './ir.ts';
export type { ExactCode } from './ir.ts';
export { CompiledFunction } from './compiled-function.ts';
export { compileModule, translateFunction } from './compile-module.ts';
export type { CompiledModule } from './compile-module.ts';
export { FastOp, FAST_PC_TAG } from './fast-ir.ts';
export type { FastFunction } from './fast-ir.ts';
export { translateFast } from './translate-fast.ts';
export type { CallSignatures } from './translate-fast.ts';
