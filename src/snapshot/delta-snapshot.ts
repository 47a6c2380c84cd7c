/**
 * Delta snapshots (docs/snapshot-format.md, "Delta snapshots"): a snapshot whose memories
 * are block deltas against a base the reader already holds (an earlier visit of the job,
 * a replica's checkpoint, the module's initial image), named by the module's sha256 and
 * the base's identity: the sha256 of its memory images' digests. The reader must hold a
 * base with that very identity, or the snapshot is refused; it never guesses a memory.
 * Each delta's data is XORed with the base's blocks (`MemoryImage.xor`), so the few
 * changed bytes of a block cost a few bytes once LZ4 has seen the zeros.
 */
import type { CompiledModule } from '../compile/index.ts';
import { SnapshotError } from '../errors/index.ts';
import { blockCount, decodeBlockDelta, encodeBlockDelta, MAX_MEMORY_BYTES } from './block-delta.ts';
import { uninitializedBytes } from './capture.ts';
import { PAGE_SIZE } from './canonical.ts';
import type { CanonicalMemory, CanonicalState } from './canonical.ts';
import { MemoryImage } from './memory-image.ts';
import { defaultPlatform } from './platform-default.ts';
import { toHex, utf8 } from './platform.ts';
import type { SparseMemory } from './memory-image.ts';
import { moduleSha256 } from './module-hash.ts';
import { isRecord, plainBytes } from './shape.ts';

/** What a delta snapshot is written against, and what its reader must hold. */
export interface DeltaBase {
  /** sha256 (hex) of the module whose memories the images are: the state's `moduleSha256`. */
  sha256: string;
  /** One image per memory of the state, in the state's order. */
  memories: MemoryImage[];
}

/** How a delta snapshot names its base (`base` in the body). */
export interface BaseReference {
  /** The module's sha256 (hex), as in the header. */
  module: string;
  /** The identity of the base's images (`baseIdentity`: sha256 over their digests). */
  identity: string;
}

/** Finds the base a delta snapshot names, or undefined when this side does not hold it. */
export type BaseResolver = (ref: BaseReference) => DeltaBase | undefined;

/** Per memory: what a delta snapshot carries (for `wasmig inspect`). */
export interface MemoryDeltaSummary {
  /** Blocks of the memory the delta carries. */
  blocksStored: number;
  /** Blocks the memory has. */
  blocksTotal: number;
  /** Bytes of the encoded block delta (uncompressed). */
  bytes: number;
}

/** What a delta snapshot says about its base and its deltas, readable without the base. */
export interface DeltaSummary {
  /** The base the delta applies to. */
  base: BaseReference;
  /** Per memory: what the delta carries. */
  memories: MemoryDeltaSummary[];
}

const IDENTITY_DOMAIN = 'wasmig delta base v1\0';

/** The identity of a base: sha256 (hex) over the count and digests of its images. Cheap when the images' digests are. */
export function baseIdentity(memories: readonly MemoryImage[]): string {
  return toHex(defaultPlatform.sha256(utf8(IDENTITY_DOMAIN), utf8(`${memories.length}\0`), ...memories.map((m) => utf8(m.digest()))));
}

/** A canonical memory as runs of its stored pages (views, no copy): what `MemoryImage` compares and extracts from. */
export function sparseMemory(m: CanonicalMemory): SparseMemory {
  const runs: SparseMemory['runs'][number][] = [];
  for (let i = 0; i < m.stored.length;) {
    let j = i + 1;
    while (j < m.stored.length && m.stored[j] === m.stored[j - 1] + 1) j++;
    runs.push({ at: m.stored[i] * PAGE_SIZE, bytes: m.data.subarray(i * PAGE_SIZE, j * PAGE_SIZE) });
    i = j;
  }
  return { byteLength: m.pages * PAGE_SIZE, runs };
}

/** A canonical memory's whole bytes (unstored pages are zeros). */
export function memoryBytes(m: CanonicalMemory): Uint8Array {
  const bytes = new Uint8Array(m.pages * PAGE_SIZE);
  m.stored.forEach((page, i) => bytes.set(m.data.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE), page * PAGE_SIZE));
  return bytes;
}

/** A canonical memory from whole bytes: only its non-zero pages stored. */
export function canonicalMemory(bytes: Uint8Array, max: number | null): CanonicalMemory {
  const pages = bytes.length / PAGE_SIZE;
  const zeros = new Uint8Array(PAGE_SIZE);
  const stored: number[] = [];
  for (let p = 0; p < pages; p++) if (!defaultPlatform.equal(bytes, p * PAGE_SIZE, zeros, 0, PAGE_SIZE)) stored.push(p);
  const data = uninitializedBytes(stored.length * PAGE_SIZE);
  stored.forEach((page, i) => data.set(bytes.subarray(page * PAGE_SIZE, (page + 1) * PAGE_SIZE), i * PAGE_SIZE));
  return { pages, max, stored, data };
}

/** A state's memories as images: what a reader of its full snapshot holds, a base for the next delta. */
export function imagesOf(state: CanonicalState): MemoryImage[] {
  return state.memories.map((m) => MemoryImage.from(memoryBytes(m)));
}

/** Every memory of a module as instantiation leaves it (`MemoryImage.initial`): a base any holder of the module has. */
export function initialImages(compiled: CompiledModule): MemoryImage[] {
  const count = compiled.module.numImportedMemories + compiled.module.memories.length;
  return Array.from({ length: count }, (_, i) => MemoryImage.initial(compiled, i));
}

/**
 * The base every holder of the module has: its memories as instantiation leaves them. A
 * snapshot written against it carries only what the program changed since it started.
 */
export function initialBase(compiled: CompiledModule): DeltaBase {
  return { sha256: moduleSha256(compiled.module), memories: initialImages(compiled) };
}

function checkBaseFits(state: CanonicalState, base: DeltaBase): void {
  if (state.store) throw new SnapshotError('a store image cannot be written as a delta snapshot');
  if (state.moduleSha256 === '') throw new SnapshotError('a state without a module cannot be written as a delta snapshot');
  if (base.sha256 !== state.moduleSha256) throw new SnapshotError(`the delta base is of module ${base.sha256 || '(none)'}, the state of module ${state.moduleSha256 || '(none)'}`);
  if (base.memories.length !== state.memories.length) throw new SnapshotError(`the delta base has ${base.memories.length} memories, the state ${state.memories.length}`);
}

/**
 * The body's `base` section for a state written against `base`, and the state with its
 * memories emptied (pages and max kept). With `advance`, the base's images are moved to
 * the state's memories (what the reader will hold once it has decoded the snapshot).
 * @throws SnapshotError when the base is of another module or has another number of memories.
 */
export function deltaBody(state: CanonicalState, base: DeltaBase, advance: boolean): { state: CanonicalState; section: Record<string, unknown> } {
  checkBaseFits(state, base);
  const identity = baseIdentity(base.memories);
  const deltas = state.memories.map((m, i) => {
    const current = sparseMemory(m);
    const image = base.memories[i];
    const delta = image.extract(current, image.changedBlocks(current));
    // XORed with the base's blocks, a block with a few changed bytes compresses to almost nothing.
    const wire = encodeBlockDelta(image.xor(delta));
    if (advance) image.apply(delta);
    return wire;
  });
  const emptied = state.memories.map((m): CanonicalMemory => ({ ...m, stored: [], data: new Uint8Array(0) }));
  return { state: { ...state, memories: emptied }, section: { module: state.moduleSha256, identity, memories: deltas } };
}

function str64(x: unknown, what: string): string {
  if (typeof x !== 'string' || !/^[0-9a-f]{64}$/.test(x)) throw new SnapshotError(`invalid snapshot: base.${what} is not a sha256 in hex`);
  return x;
}

/** Reads the body's `base` section: the reference and the encoded deltas (not yet decoded). */
export function readDeltaSection(x: unknown, state: CanonicalState, headerModule: string): { ref: BaseReference; deltas: Uint8Array[]; summary: DeltaSummary } {
  if (!isRecord(x)) throw new SnapshotError('invalid snapshot: the header says delta, the body has no base section');
  const ref: BaseReference = { module: str64(x['module'], 'module'), identity: str64(x['identity'], 'identity') };
  if (ref.module !== headerModule) throw new SnapshotError('invalid snapshot: the base names another module than the header');
  const list = x['memories'];
  if (!Array.isArray(list) || list.length !== state.memories.length) throw new SnapshotError(`invalid snapshot: base.memories is not a list of ${state.memories.length} deltas`);
  const deltas = list.map((d, i) => {
    if (!(d instanceof Uint8Array)) throw new SnapshotError(`invalid snapshot: base.memories[${i}] is not binary`);
    const m = state.memories[i];
    if (m.stored.length !== 0) throw new SnapshotError(`invalid snapshot: memories[${i}] of a delta snapshot stores pages`);
    return plainBytes(d);
  });
  const memories = deltas.map((bytes, i): MemoryDeltaSummary => {
    const delta = decodeDeltaOf(bytes, state.memories[i], i);
    return { blocksStored: delta.blocks.length, blocksTotal: blockCount(delta.byteLength), bytes: bytes.length };
  });
  return { ref, deltas, summary: { base: ref, memories } };
}

function decodeDeltaOf(bytes: Uint8Array, m: CanonicalMemory, i: number): ReturnType<typeof decodeBlockDelta> {
  const expected = m.pages * PAGE_SIZE;
  let delta;
  try {
    delta = decodeBlockDelta(bytes, { maxByteLength: expected });
  } catch (e) {
    if (e instanceof SnapshotError) throw new SnapshotError(`invalid snapshot: memory ${i}: ${e.message}`, { cause: e });
    throw e;
  }
  if (delta.byteLength !== expected) throw new SnapshotError(`invalid snapshot: memory ${i}: the delta is of ${delta.byteLength} bytes, the memory has ${expected}`);
  return delta;
}

function baseDescription(ref: BaseReference): string {
  return `base ${ref.identity} of module ${ref.module}`;
}

/** How a delta snapshot's memories are rebuilt. */
export interface ResolveOptions {
  /** Refuse memories larger than this (default 4 GiB). */
  maxMemoryBytes?: number;
  /** Apply the deltas to the base's own images instead of copies (saves a copy of every memory). */
  updateBase?: boolean;
}

/**
 * The whole memories of a delta snapshot: the base's images (copies, unless
 * `updateBase`) with the deltas applied. Returns the canonical memories and the new images.
 * Every delta is checked before any is applied, so a refused snapshot leaves the base as it was.
 * @throws SnapshotError when no base is given, or one with another identity.
 */
export function resolveDelta(
  state: CanonicalState, ref: BaseReference, deltas: Uint8Array[], given: DeltaBase | BaseResolver | undefined, options: ResolveOptions = {},
): { memories: CanonicalMemory[]; images: MemoryImage[] } {
  const maxMemoryBytes = options.maxMemoryBytes ?? MAX_MEMORY_BYTES;
  state.memories.forEach((m, i) => {
    if (m.pages * PAGE_SIZE > maxMemoryBytes) throw new SnapshotError(`a delta snapshot: memory ${i} of ${m.pages} pages would exceed the limit of ${maxMemoryBytes} bytes`);
  });
  const base = typeof given === 'function' ? given(ref) : given;
  if (base === undefined) throw new SnapshotError(`a delta snapshot: it needs ${baseDescription(ref)}, and none was given`);
  if (base.sha256 !== ref.module) throw new SnapshotError(`a delta snapshot: it needs ${baseDescription(ref)}; the base given is of module ${base.sha256}`);
  const identity = baseIdentity(base.memories);
  if (identity !== ref.identity) throw new SnapshotError(`a delta snapshot: it needs ${baseDescription(ref)}; the base given is ${identity}`);
  if (base.memories.length !== state.memories.length) throw new SnapshotError(`a delta snapshot: the base has ${base.memories.length} memories, the state ${state.memories.length}`);
  const decoded = deltas.map((d, i) => decodeDeltaOf(d, state.memories[i], i));
  const images = base.memories.map((image, i) => {
    const target = options.updateBase === true ? image : image.clone();
    target.apply(target.xor(decoded[i]));
    return target;
  });
  return { memories: images.map((image, i) => canonicalMemory(image.bytes, state.memories[i].max)), images };
}
