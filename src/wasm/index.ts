export * from './types.ts';
export * from './opcodes.ts';
