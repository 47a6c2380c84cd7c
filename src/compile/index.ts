export { IR_VERSION, IrOp, irLength } from './ir.ts';
export type { CompiledFunction } from './ir.ts';
export { translateFunction } from './translate.ts';
export { compileModule } from './compile-module.ts';
export type { CompiledModule } from './compile-module.ts';
export { FastOp, FAST_PC_TAG } from './fast-ir.ts';
export type { FastFunction } from './fast-ir.ts';
export { translateFast } from './translate-fast.ts';
export type { CallSignatures } from './translate-fast.ts';
