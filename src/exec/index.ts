export { runExact } from './run.ts';
export { fastCode } from '../compile/index.ts';
export { exactReturnPc, normalizeFrames, run } from './run-fast.ts';
export {
  canonicalTypeId, canonicalTypeIds, createStoreState, createThread, FuncKind, growFrames, growSlots, refreshMemoryViews, RunStatus,
  DEFAULT_MAX_DEPTH, DEFAULT_MAX_SLOTS,
} from './state.ts';
export type {
  FunctionState, GlobalState, HostCallback, HostFunctionState, InstanceState, MemoryState, StoreState, TableState,
  ThreadLimits, ThreadState, WasmFunctionState,
} from './state.ts';
export { memoryGrow } from './bulk.ts';
export { isSharedMemory, MEMORIES_SHARED, newMemoryObject } from './memory-object.ts';
export { throwFromCall } from './exceptions.ts';
