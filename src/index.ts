/**
 * wasmig's library API: load a module, run it (WASI included) on the engine of your
 * choice (the interpreter, the native tier, or `auto`) in budgets of instructions, pause
 * it anywhere, await asynchronous imports. See README.md, "Library API".
 * @module
 */
export {
  DecodeError, ExhaustionError, ExitError, LinkError, MigrationError, SnapshotError, Trap, UncaughtException, UsageError,
  ValidationError, WasmigError,
} from './errors/index.ts';
export type { TraceFrame } from './errors/index.ts';
export type {
  ConstExpr, ConstInstr, CustomSection, DataMode, DataSegment, ElemMode, ElemSegment, Export, ExternKind, FuncBody, FuncType,
  Global, GlobalType, Import, ImportDesc, Limits, MemoryType, Module, NameMap, RefType, TableType, ValType,
} from './wasm/types.ts';
export { HeapType, refType, valTypeName } from './wasm/index.ts';
export type { TypedRefType } from './wasm/index.ts';
export { decodeModule } from './binary/index.ts';
export { validateModule } from './validate/index.ts';
export type { ValidateOptions } from './validate/index.ts';
export { compileModule } from './compile/index.ts';
export type { BodyFacts, CompiledModule } from './compile/index.ts';
export { Execution, Store, createHostGlobal, createHostMemory, createHostTable, interpreterEngine } from './runtime/index.ts';
export type {
  Engine, ExecutionLike, ExternVal, FuncRef, Imports, ImportValue, Instance, RunOptions, RunOutcome, StoreOptions, Tier,
} from './runtime/index.ts';
export { AutoEngine, autoEngine, DEFAULT_DISK_CACHE_BYTES, defaultCacheDir, DiskRewriteCache, NativeEngine, nativeEngine } from './native/index.ts';
export type { DiskCacheConfig, DiskCacheStats, NativeOptions, RewriteStore } from './native/index.ts';
export type { HostCallback } from './exec/index.ts';
export { WasiHost } from './wasi/index.ts';
export { WASI_STATE_VERSION } from './wasi/index.ts';
export type { HostFunction, MemDirOptions, MemFsState, MemNodeState, MemoryLike, NodeTimes, OutputSink, WakeWord, WasiFdState, WasiOptions, WasiState } from './wasi/index.ts';
export { defaultEngines, EngineSet, loadModule, loadModuleFile, Program } from './program/index.ts';
export type { KnownFacts, ProgramOptions, ResumeOptions, SnapshotOptions } from './program/index.ts';
export {
  captureFrames, decodeSnapshot, describeSnapshot, encodeSnapshot, moduleSha256, readSnapshotHeader, restoreFrames, sha256Hex,
  SNAPSHOT_FORMAT_VERSION,
} from './snapshot/index.ts';
export type {
  BaseReference, CanonicalException, CanonicalFrame, CanonicalFuncOrigin, CanonicalGlobal, CanonicalInstance, CanonicalMemory, CanonicalState,
  CanonicalStatus, CanonicalStore, CanonicalTable, CanonicalValue, DecodedSnapshot, DecodeOptions, DeltaSummary, EncodeOptions,
  FrameDescription, FrameHost, MemoryDeltaSummary, SnapshotDescription, SnapshotHeader, SnapshotPlatform,
} from './snapshot/index.ts';
