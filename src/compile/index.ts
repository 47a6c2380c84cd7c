export { IR_VERSION, IrOp, irLength } from './ir.ts';
export type { CompiledFunction } from './ir.ts';
export { translateFunction } from './translate.ts';
export { compileModule } from './compile-module.ts';
export type { CompiledModule } from './compile-module.ts';
