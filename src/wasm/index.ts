export * from './types.ts';
export * from './ref-types.ts';
export * from './opcodes.ts';
export * from './opcodes-simd.ts';
export * from './limits.ts';
export * from './slots.ts';
