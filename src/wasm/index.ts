export * from './types.ts';
export * from './opcodes.ts';
export * from './limits.ts';
