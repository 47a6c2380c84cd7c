/**
 * The snapshot file format, versions 1 to 3 (docs/snapshot-format.md): a 56-byte header, then
 * a msgpack document compressed with LZ4 (block format, uncompressed size prepended).
 *
 *     0   8  magic            89 57 53 4e 41 50 0d 0a  ("\x89WSNAP\r\n")
 *     8   2  format version   u16 LE: 1; 2 when the state holds a v128; 3 when it holds
 *                               exceptions or exception tags (Wasm 3.0)
 *    10   2  flags            u16 LE: bit 0 module embedded, bit 1 store image, bit 2 delta
 *    12   4  checksum         CRC-32 of every byte after the header
 *    16   4  payload length   u32 LE: bytes after the header
 *    20   4  body length      u32 LE: the msgpack document, uncompressed
 *    24  32  module sha256    raw digest of the module's bytes
 *
 * The body is a msgpack map `{ state, module? }` (see `canonical.ts`), encoded with
 * int64/uint64 for every bigint (`useBigInt64`), so no 64-bit value is ever rounded.
 * It is compressed by our own LZ4 block encoder (`lz4.ts`: lz4-napi's `compressSync`
 * leaks) and decompressed by our own decoder into exactly the declared size, after that
 * size passed the receiver's cap (`maxBodyBytes`); the msgpack document is then walked
 * for its heap cost before it is decoded (`bounded-msgpack.ts`).
 *
 * A delta snapshot (flag bit 2) carries its memories as block deltas against a base the
 * reader holds (`delta-snapshot.ts`); the body then has a `base` section. Older readers
 * refuse it for its unknown flag, so the format's version stays 1 (nothing is misread).
 */
import type { Encoder } from '@msgpack/msgpack';
import { SnapshotError } from '../errors/index.ts';
import { ValType } from '../wasm/index.ts';
import type { CanonicalState } from './canonical.ts';
import { msgpackCodec } from './codecs.ts';
import { defaultPlatform } from './platform-default.ts';
import { fromHex, toHex } from './platform.ts';
import type { SnapshotPlatform } from './platform.ts';
import { lz4CompressBlock, lz4DecompressBlock } from './lz4.ts';
import { decodeBoundedMsgpack } from './bounded-msgpack.ts';
import { sha256Hex } from './module-hash.ts';
import { checkStateShape, isRecord, plainBytes } from './shape.ts';
import { deltaBody, readDeltaSection, resolveDelta } from './delta-snapshot.ts';
import type { BaseReference, BaseResolver, DeltaBase, DeltaSummary } from './delta-snapshot.ts';
import type { MemoryImage } from './memory-image.ts';

export const SNAPSHOT_MAGIC = Uint8Array.of(0x89, 0x57, 0x53, 0x4e, 0x41, 0x50, 0x0d, 0x0a);
/**
 * The newest snapshot format this build writes and reads (docs/snapshot-format.md).
 * Version 2 adds v128 values (16 bytes each); version 3 the exceptions exnref values
 * name and a store image's exception tags. A state needs the lowest version that holds
 * what it has (without either, version 1, which every earlier reader takes), and files
 * of every earlier version still load.
 */
export const SNAPSHOT_FORMAT_VERSION = 3;
/** The oldest format version this build reads. */
export const OLDEST_SNAPSHOT_FORMAT_VERSION = 1;
/** The version that first carries v128 values. */
const V128_FORMAT_VERSION = 2;
/** The version that first carries exceptions (`exceptions`, a store image's `tags`). */
const EXCEPTION_FORMAT_VERSION = 3;
export const HEADER_SIZE = 56;
export const SnapshotFlags = { moduleEmbedded: 1, storeImage: 2, delta: 4 } as const;
const KNOWN_FLAGS = SnapshotFlags.moduleEmbedded | SnapshotFlags.storeImage | SnapshotFlags.delta;
/** LZ4 never expands data by more than this factor when decompressing (its best ratio is about 255:1). */
const MAX_LZ4_RATIO = 256;
/** Largest body format v1 can declare (its length is a u32). */
export const DEFAULT_MAX_BODY_BYTES = 0xffffffff;
/** What a body holds beyond its memories (module, frames, tables, host state), for the default cap. */
export const SNAPSHOT_OVERHEAD_BYTES = 64 * 1024 * 1024;

/**
 * The default cap on a snapshot's body for a receiver whose programs may have
 * `maxMemoryBytes` of linear memory: their memory plus {@link SNAPSHOT_OVERHEAD_BYTES}
 * (at most what format v1 can declare). A body beyond it could not restore anyway.
 */
export function snapshotLimitFor(maxMemoryBytes: number | undefined): number {
  if (maxMemoryBytes === undefined) return DEFAULT_MAX_BODY_BYTES;
  return Math.min(DEFAULT_MAX_BODY_BYTES, maxMemoryBytes + SNAPSHOT_OVERHEAD_BYTES);
}

const SHARED_ENCODER_LIMIT = 1 << 20;
let sharedEncoder: Encoder | undefined;

/** What the header says, readable without decompressing anything. */
export interface SnapshotHeader {
  /** The format version (see {@link SNAPSHOT_FORMAT_VERSION}). */
  version: number;
  /** Bits: 1 the module is embedded, 2 a store image, 4 a delta snapshot. */
  flags: number;
  /** CRC-32 of every byte after the header. */
  checksum: number;
  /** Bytes after the header (the compressed body). */
  payloadLength: number;
  /** Bytes of the body once decompressed (the msgpack document). */
  bodyLength: number;
  /** Hex sha256 of the module. */
  moduleSha256: string;
}

/** What {@link encodeSnapshot} writes besides the state. */
export interface EncodeOptions {
  /** The module's bytes, to carry inside the snapshot. */
  module?: Uint8Array;
  /** The host primitives to encode with (default: Node's on Node, the portable ones in browser builds); every platform writes the same bytes. */
  platform?: SnapshotPlatform;
  /**
   * Write a delta snapshot: memories as block deltas against these images, which the
   * reader must hold (see `delta-snapshot.ts`). The images are left as they are unless
   * `advanceBase` is set.
   * @internal
   */
  base?: DeltaBase;
  /**
   * With `base`: move the base's images to the state's memories (`MemoryImage.take`), as the reader's will be.
   * @internal
   */
  advanceBase?: boolean;
}

/**
 * Encodes a canonical state (and optionally its module) as a snapshot file.
 * @throws SnapshotError when the state holds values msgpack cannot carry.
 */
export function encodeSnapshot(state: CanonicalState, options: EncodeOptions = {}): Uint8Array {
  const body: Record<string, unknown> = { state };
  if (options.module) body['module'] = options.module;
  let size = 65536 + (options.module?.length ?? 0);
  if (options.base) {
    const delta = deltaBody(state, options.base, options.advanceBase === true);
    body['state'] = delta.state;
    body['base'] = delta.section;
    for (const d of delta.section['memories'] as Uint8Array[]) size += d.length;
  } else {
    for (const m of state.memories) size += m.data.length;
  }
  let encoded: Uint8Array;
  try {
    // Small states reuse one encoder's buffer; large ones get a buffer of the right size at once.
    const platform = options.platform ?? defaultPlatform;
    const { Encoder } = msgpackCodec(platform);
    // The shared encoder is the default platform's (another platform's codec may be another copy of msgpack).
    const encoder = size <= SHARED_ENCODER_LIMIT && platform === defaultPlatform
      ? (sharedEncoder ??= new Encoder({ useBigInt64: true, initialBufferSize: SHARED_ENCODER_LIMIT, ignoreUndefined: true }))
      : new Encoder({ useBigInt64: true, initialBufferSize: size, ignoreUndefined: true });
    encoded = encoder.encodeSharedRef(body);
  } catch (cause) {
    throw new SnapshotError(`cannot encode the state: ${(cause as Error).message}`, { cause });
  }
  if (encoded.length > 0xffffffff) throw new SnapshotError('the state is too large for snapshot format v1 (4 GiB)');
  const out = lz4CompressBlock(encoded, HEADER_SIZE);
  const payload = out.subarray(HEADER_SIZE);
  const view = new DataView(out.buffer, out.byteOffset, out.length);
  out.set(SNAPSHOT_MAGIC, 0);
  view.setUint16(8, holdsExceptions(state) ? EXCEPTION_FORMAT_VERSION : holdsV128(state) ? V128_FORMAT_VERSION : OLDEST_SNAPSHOT_FORMAT_VERSION, true);
  view.setUint16(10, (options.module ? SnapshotFlags.moduleEmbedded : 0) | (state.store ? SnapshotFlags.storeImage : 0) | (options.base ? SnapshotFlags.delta : 0), true);
  view.setUint32(12, (options.platform ?? defaultPlatform).crc32(payload), true);
  view.setUint32(16, payload.length, true);
  view.setUint32(20, encoded.length, true);
  if (state.moduleSha256) out.set(fromHex(state.moduleSha256), 24);
  else out.fill(0, 24, HEADER_SIZE);
  return out;
}

/**
 * Reads and checks the header alone.
 * @throws SnapshotError for a file that is not a snapshot, of another format version, or truncated.
 */
export function readSnapshotHeader(bytes: Uint8Array): SnapshotHeader {
  if (bytes.length < HEADER_SIZE) {
    const looksLike = bytes.length > 0 && SNAPSHOT_MAGIC.subarray(0, Math.min(bytes.length, 8)).every((b, i) => bytes[i] === b);
    throw new SnapshotError(looksLike ? `snapshot truncated: ${bytes.length} bytes, the header alone has ${HEADER_SIZE}` : 'not a wasmig snapshot (too short)');
  }
  for (let i = 0; i < SNAPSHOT_MAGIC.length; i++) if (bytes[i] !== SNAPSHOT_MAGIC[i]) throw new SnapshotError('not a wasmig snapshot (bad magic bytes)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const version = view.getUint16(8, true);
  if (version < OLDEST_SNAPSHOT_FORMAT_VERSION || version > SNAPSHOT_FORMAT_VERSION) {
    throw new SnapshotError(`snapshot format v${version} not supported (this wasmig reads v${OLDEST_SNAPSHOT_FORMAT_VERSION} to v${SNAPSHOT_FORMAT_VERSION})`);
  }
  const flags = view.getUint16(10, true);
  if ((flags & ~KNOWN_FLAGS) !== 0) throw new SnapshotError(`snapshot header: unknown flags 0x${flags.toString(16)}`);
  const header: SnapshotHeader = {
    version,
    flags,
    checksum: view.getUint32(12, true),
    payloadLength: view.getUint32(16, true),
    bodyLength: view.getUint32(20, true),
    moduleSha256: toHex(bytes.subarray(24, 56)),
  };
  const present = bytes.length - HEADER_SIZE;
  if (present < header.payloadLength) throw new SnapshotError(`snapshot truncated: the header announces ${header.payloadLength} bytes of payload, ${present} are present`);
  if (present > header.payloadLength) throw new SnapshotError(`snapshot has ${present - header.payloadLength} bytes of garbage after its payload`);
  return header;
}

/** A snapshot file decoded: its header, its checked state and what came with it. */
export interface DecodedSnapshot {
  /** The file's header. */
  header: SnapshotHeader;
  /** The state, its shape checked (see `checkStateShape`); checks against the module come at restore. */
  state: CanonicalState;
  /** The embedded module's bytes, if any (its hash checked). */
  module: Uint8Array | undefined;
  /** A delta snapshot's base and what it carried (its memories in `state` are whole). */
  delta?: DeltaSummary;
  /**
   * A delta snapshot's memories as images (the base's, copied, with the deltas applied):
   * what the reader holds now, a base for the next delta from the same writer.
   * @internal
   */
  images?: MemoryImage[];
}

/** Limits and the delta base for {@link decodeSnapshot}. */
export interface DecodeOptions {
  /** The host primitives to decode with (see {@link EncodeOptions.platform}). */
  platform?: SnapshotPlatform;
  /**
   * The receiver's cap (`--max-snapshot`): refuse bodies larger than this before
   * allocating anything, and bodies whose decoded values would take more heap than this
   * (default: `snapshotLimitFor(maxMemoryBytes)`, 4 GiB - 1 without it).
   */
  maxBodyBytes?: number;
  /**
   * The base of a delta snapshot, or a way to find it by reference; left unchanged.
   * @internal
   */
  base?: DeltaBase | BaseResolver;
  /**
   * A delta snapshot's memories are rebuilt while decoding, before restore checks them
   * against the module: refuse any larger than this (default 4 GiB, the Wasm limit).
   */
  maxMemoryBytes?: number;
  /**
   * Apply a delta snapshot's blocks to the base's own images rather than to copies of
   * them (saves copying every memory; the base then is the new state, also on success only).
   * @internal
   */
  updateBase?: boolean;
}

/** A snapshot decoded and checked, its delta (if any) not yet applied: memories of a delta snapshot are empty. */
interface SnapshotParts {
  header: SnapshotHeader;
  state: CanonicalState;
  module: Uint8Array | undefined;
  delta: { ref: BaseReference; deltas: Uint8Array[]; summary: DeltaSummary } | undefined;
}

/** Decompresses and parses a snapshot's body, checking the envelope: header, checksum, lengths. */
export function decodeSnapshotBody(bytes: Uint8Array, options: DecodeOptions = {}): { header: SnapshotHeader; body: Record<string, unknown> } {
  const header = readSnapshotHeader(bytes);
  const payload = bytes.subarray(HEADER_SIZE);
  if ((options.platform ?? defaultPlatform).crc32(payload) !== header.checksum) throw new SnapshotError('snapshot corrupted: checksum mismatch');
  const maxBody = options.maxBodyBytes ?? snapshotLimitFor(options.maxMemoryBytes);
  if (header.bodyLength > maxBody) throw new SnapshotError(`snapshot body of ${header.bodyLength} bytes exceeds the limit of ${maxBody} (--max-snapshot)`);
  if (payload.length < 4) throw new SnapshotError('snapshot payload too short for LZ4 data');
  const announced = new DataView(payload.buffer, payload.byteOffset, 4).getUint32(0, true);
  if (announced !== header.bodyLength) throw new SnapshotError(`snapshot payload: LZ4 size ${announced} differs from the header's body length ${header.bodyLength}`);
  if (header.bodyLength > MAX_LZ4_RATIO * payload.length + 64) throw new SnapshotError('snapshot payload: the body length is impossible for LZ4 data of this size');
  let raw: Uint8Array;
  try {
    raw = lz4DecompressBlock(payload.subarray(4), header.bodyLength);
  } catch (cause) {
    throw new SnapshotError(`snapshot payload: LZ4 data is corrupt (${(cause as Error).message})`, { cause });
  }
  const body = decodeBoundedMsgpack(raw, { budget: maxBody, useBigInt64: true, what: 'snapshot body', platform: options.platform });
  if (!isRecord(body)) throw new SnapshotError('invalid snapshot: the body is not a map');
  return { header, body };
}

/**
 * Decodes a snapshot file: the envelope, then the state's shape; an embedded module must
 * match the hash the snapshot names.
 * @throws SnapshotError for anything malformed, truncated, corrupted or of another version.
 */
export function decodeSnapshot(bytes: Uint8Array, options: DecodeOptions = {}): DecodedSnapshot {
  const { header, state, module, delta } = decodeSnapshotParts(bytes, options);
  if (delta === undefined) return { header, state, module };
  const { memories, images } = resolveDelta(state, delta.ref, delta.deltas, options.base, options);
  return { header, state: { ...state, memories }, module, delta: delta.summary, images };
}

/**
 * Decodes and checks a snapshot without applying a delta snapshot's memories (which
 * stay empty): for describing it without its base. Not exported beyond this layer: such
 * a state must never be restored.
 */
export function decodeSnapshotParts(bytes: Uint8Array, options: DecodeOptions = {}): SnapshotParts {
  const { header, body } = decodeSnapshotBody(bytes, options);
  const state = checkStateShape(body['state']);
  if (header.version < V128_FORMAT_VERSION && holdsV128(state)) throw new SnapshotError(`invalid snapshot: format v${header.version} cannot hold v128 values`);
  if (header.version < EXCEPTION_FORMAT_VERSION && holdsExceptions(state)) throw new SnapshotError(`invalid snapshot: format v${header.version} cannot hold exceptions`);
  if (state.moduleSha256 !== '' && state.moduleSha256 !== header.moduleSha256) throw new SnapshotError('invalid snapshot: header and state name different modules');
  if (Boolean(state.store) !== ((header.flags & SnapshotFlags.storeImage) !== 0)) throw new SnapshotError('invalid snapshot: the store-image flag does not match the state');
  const module = body['module'];
  let embedded: Uint8Array | undefined;
  if ((header.flags & SnapshotFlags.moduleEmbedded) !== 0) {
    if (!(module instanceof Uint8Array)) throw new SnapshotError('invalid snapshot: the header says a module is embedded, the body has none');
    if (sha256Hex(module, options.platform) !== state.moduleSha256) throw new SnapshotError('invalid snapshot: the embedded module does not match the module hash');
    embedded = plainBytes(module);
  } else if (module !== undefined) {
    throw new SnapshotError('invalid snapshot: a module is embedded but the header does not say so');
  }
  let delta: SnapshotParts['delta'];
  if ((header.flags & SnapshotFlags.delta) !== 0) {
    if (state.store) throw new SnapshotError('invalid snapshot: a store image cannot be a delta snapshot');
    delta = readDeltaSection(body['base'], state, header.moduleSha256);
  } else if (body['base'] !== undefined) {
    throw new SnapshotError('invalid snapshot: the body has a base section but the header does not say delta');
  }
  return { header, state, module: embedded, delta };
}

/**
 * Does the state hold a v128 anywhere (a global, a local, an operand)? Then it needs
 * format v2. Frames are checked against the module only at restore, so this looks at
 * them without trusting their shape.
 */
/** Whether the state needs format v3: exceptions that exnref values name, or a store image with tags. */
function holdsExceptions(state: CanonicalState): boolean {
  return (state.exceptions?.length ?? 0) > 0 || (state.store?.tags?.length ?? 0) > 0;
}

function holdsV128(state: CanonicalState): boolean {
  if (state.globals.some((g) => g.type === ValType.v128 || g.value instanceof Uint8Array)) return true;
  const wide = (values: unknown): boolean => Array.isArray(values) && values.some((v) => v instanceof Uint8Array);
  for (const f of state.frames as unknown[]) {
    if (typeof f === 'object' && f !== null && (wide((f as Record<string, unknown>)['locals']) || wide((f as Record<string, unknown>)['stack']))) return true;
  }
  return false;
}
