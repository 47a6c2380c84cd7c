export { createHostGlobal, createHostMemory, createHostTable, Store } from './store.ts';
export type { StoreOptions } from './store.ts';
export { allocateInstance, createMemory, evalConst } from './instantiate.ts';
export type { ExternVal, ImportValue, Imports, Instance, InstantiateOptions } from './instantiate.ts';
export { callHost, captureBacktrace, enterFunction, runToReturn, SLICE } from './invoke.ts';
export { bitsToBigInt, bitsToJs, externId, jsToBits } from './values.ts';
export type { FuncRef } from './values.ts';
export { Execution } from './execution.ts';
export type { RunOptions, RunOutcome } from './execution.ts';
