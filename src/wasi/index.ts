/**
 * wasmig's WASI preview1 host (plus the older `wasi_unstable`, snapshot 0): synchronous,
 * sandboxed to its preopens, and migratable, because its whole state is plain data that
 * {@link WasiHost.captureState} returns and {@link WasiHost.restore} rebuilds elsewhere.
 *
 * Files: `abi.ts` (constants and layouts, both snapshots, and how they differ),
 * `calls-*.ts` (behaviour, by family), `paths.ts` (the sandbox), `state.ts` (the captured
 * shape and its validation), `host.ts` (the class), `imports.ts` (the import objects),
 * `signatures.ts` (each function's core type, checked when a program links). See docs/wasi.md.
 *
 * Choices where runtimes differ (each documented where it is made):
 * - sandbox escapes (absolute paths, `..` above a preopen, symlinks out) are ENOTCAPABLE,
 *   as node:wasi says; symlinks are expanded by us component by component, then checked
 *   again with realpath;
 * - fd_readdir lists "." and ".." (as wasmtime and wazero; node:wasi does not), sorted, with
 *   the listing kept in the fd so cookies survive a migration;
 * - path_readlink truncates to the buffer (POSIX, wasmtime); node:wasi says ENOBUFS;
 * - rights are narrowed, never refused, at path_open (as wasmtime), then enforced per call;
 * - append, sync and nonblock fdflags are applied by us, not by host open flags, so they
 *   are guest state that migrates; file offsets are ours too (positional host I/O);
 * - proc_raise is ENOSYS (signal 0 succeeds); sockets are ENOTSUP;
 * - a preopen may live in memory (`WasiOptions.memDirs`, `mem-fs.ts`): the same calls over
 *   a tree whose whole content is part of the state, so it moves with the program;
 * - output capture: pass host fds as `stdout`/`stderr` (a temp file or pipe), or an
 *   `OutputSink` callback (what agents do to stream a job's output).
 * @module
 */
export { WasiHost } from './host.ts';
export { formatFuncType, sameFuncType, wasiFuncType } from './signatures.ts';
export type { MemDirOptions, OutputSink, WakeWord, WasiOptions } from './host.ts';
export { MemFs } from './mem-fs.ts';
export type { MemFsOptions, MemStats } from './mem-fs.ts';
export { DEFAULT_MEM_DIR_BYTES, MAX_MEM_DIR_BYTES, isEntryName, listMemFs, memFsBytes, validateMemFsState } from './mem-fs-state.ts';
export type { MemFsListing, MemFsState, MemNodeState, NodeTimes } from './mem-fs-state.ts';
export type { FileSystem } from './file-system.ts';
export type { HostFunction } from './imports.ts';
export type { MemoryLike } from './memory.ts';
export { WASI_STATE_VERSION, validateWasiState } from './state.ts';
export type { WasiFdState, WasiState } from './state.ts';
export { Errno } from './abi.ts';
