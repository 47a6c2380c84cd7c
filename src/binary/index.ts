/**
 * The binary layer: decoding Wasm 2.0 modules (`decodeModule`) and reading function
 * bodies one instruction at a time (`InstructionReader`).
 */
export { decodeModule, SectionId } from './module.ts';
export { InstructionReader, createInstr } from './instructions.ts';
export type { Instr } from './instructions.ts';
export { ByteReader, UNEXPECTED_END } from './reader.ts';
export { MAX_LOCALS } from './code.ts';
export { decodeNameSection } from './names.ts';
export { ByteWriter } from './writer.ts';
