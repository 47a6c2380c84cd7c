/**
 * Snapshots: the whole machine as plain data (`canonical.ts`), captured from a paused
 * program, encoded, decoded, validated and restored elsewhere. See docs/snapshot-format.md.
 * @module
 */
export { PAGE_SIZE } from './canonical.ts';
export type {
  CanonicalException, CanonicalFrame, CanonicalFuncOrigin, CanonicalGlobal, CanonicalInstance, CanonicalMemory, CanonicalState,
  CanonicalStatus, CanonicalStore, CanonicalTable, CanonicalValue,
} from './canonical.ts';
export { captureFrames, captureThreadFrames, loadFrames, restoreFrames } from './frames.ts';
export type { FrameHost } from './frames.ts';
export { programSpace, reachableSpace, wholeStoreSpace } from './space.ts';
export type { IndexSpace } from './space.ts';
export { captureMemory, captureState } from './capture.ts';
export type { CaptureExtras } from './capture.ts';
export { restoreState } from './restore.ts';
export { rebuildStore } from './image.ts';
export type { ImageResolvers, RebuiltStore } from './image.ts';
export { checkStateShape } from './shape.ts';
export {
  decodeSnapshot, decodeSnapshotBody, encodeSnapshot, readSnapshotHeader, HEADER_SIZE, SNAPSHOT_FORMAT_VERSION, SNAPSHOT_MAGIC,
  SnapshotFlags, snapshotLimitFor, DEFAULT_MAX_BODY_BYTES, SNAPSHOT_OVERHEAD_BYTES,
} from './format.ts';
export { decodeBoundedMsgpack, msgpackHeapCost } from './bounded-msgpack.ts';
export type { BoundedDecodeOptions } from './bounded-msgpack.ts';
export type { DecodedSnapshot, DecodeOptions, EncodeOptions, SnapshotHeader } from './format.ts';
export { moduleSha256, sha256Hex } from './module-hash.ts';
export { captureProgram, restoreProgram } from './program-state.ts';
export type { CapturableProgram, ProgramCaptureOptions } from './program-state.ts';
export { describeSnapshot, formatCanonical, inspectSnapshot } from './describe.ts';
export { BLOCK_SIZE, MemoryImage } from './memory-image.ts';
export type { SparseMemory } from './memory-image.ts';
export { checkBlockDelta, decodeBlockDelta, encodeBlockDelta, MAX_MEMORY_BYTES } from './block-delta.ts';
export type { BlockDelta, BlockDeltaLimits } from './block-delta.ts';
export { initialMemoryBytes } from './initial-memory.ts';
export { baseIdentity, imagesOf, initialBase, initialImages } from './delta-snapshot.ts';
export type { BaseReference, BaseResolver, DeltaBase, DeltaSummary, MemoryDeltaSummary } from './delta-snapshot.ts';
export type { FrameDescription, SnapshotDescription } from './describe.ts';
export { compressBlock, decompressBlock } from './compress.ts';
export type { SnapshotPlatform } from './platform.ts';
export { ExceptionCollector } from './exceptions.ts';
