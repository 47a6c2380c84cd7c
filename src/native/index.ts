/**
 * The native tier: the module rewritten so that the host's own WebAssembly engine runs
 * it at near-native speed, with safepoints at which its stack unwinds into canonical
 * frames that the interpreter (and the snapshot layer) take over. See docs/native-tier.md.
 * @module
 */
export { ByteWriter } from '../binary/index.ts';
export { DEFAULT_REWRITE_OPTIONS, DEFAULT_UNROLL, HELPER_IMPORTS, HELPER_MODULE, planUnrolling, rewriteModule, rewriteOptionsKey, scanBodies } from './rewrite.ts';
export type { InnermostLoop, RewriteOptions, RewrittenModule } from './rewrite.ts';
export type { RewrittenFunction, Safepoint } from './rewrite-function.ts';
export { LocalLiveness } from './local-liveness.ts';
export { DEFAULT_BACKGROUND_REWRITE_BYTES, DEFAULT_STACK_BUDGET, NativeTier } from './tier.ts';
export { DEFAULT_POLL_INTERVAL, POLL_PERIOD_MS } from './poll-pacing.ts';
export { nativeBacktrace, toTrap } from './traps.ts';
export type { NativeInstance } from './native-instance.ts';
export { RewriteCache } from './rewrite-cache.ts';
export type { LoopSite, ReadyClone, ReadyModule, SharedClones } from './rewrite-cache.ts';
export { DEFAULT_DISK_CACHE_BYTES, defaultCacheDir, DISK_CACHE_FORMAT, DiskRewriteCache } from './disk-cache.ts';
export type { DiskCacheConfig, DiskCacheStats, RewriteStore } from './disk-cache.ts';
export type { NativeOptions } from './tier.ts';
export { NativeExecution } from './execution.ts';
export { BackgroundRewrite } from './background.ts';
export type { ReadyRewrite } from './background.ts';
export { TieringExecution } from './tiering.ts';
export type { NativeExecutionOptions, NativeRunOptions, NativeStats } from './execution.ts';
export { AutoEngine, autoEngine, NativeEngine, nativeEngine, nativeTierOf } from './engine.ts';
