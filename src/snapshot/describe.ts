/**
 * A decoded snapshot summarized for people and tools (`wasmig inspect`): where it
 * stands, what it holds and what each part weighs. JSON-ready: no bigints, no binaries.
 */
import { decodeModule } from '../binary/index.ts';
import { PAGE_SIZE } from './canonical.ts';
import { msgpackCodec } from './codecs.ts';
import type { CanonicalValue } from './canonical.ts';
import type { DecodedSnapshot, DecodeOptions } from './format.ts';
import { decodeSnapshotParts, HEADER_SIZE, SnapshotFlags } from './format.ts';
import type { MemoryDeltaSummary } from './delta-snapshot.ts';

export interface FrameDescription {
  funcIndex: number;
  name: string | null;
  /** Byte offset of the next instruction, in the module. */
  pc: number;
  localsCount: number;
  /** The first locals, as text. */
  locals: string[];
  stackCount: number;
  /** The top of the operand stack (last values), as text. */
  stack: string[];
}

export interface SnapshotDescription {
  fileBytes: number;
  formatVersion: number;
  moduleSha256: string;
  moduleEmbedded: boolean;
  moduleBytes: number | null;
  storeImage: boolean;
  status: string;
  entry: string | null;
  instructions: number;
  /** Innermost first. */
  callStack: FrameDescription[];
  memories: { pages: number; max: number | null; storedPages: number; storedBytes: number }[];
  /**
   * A delta snapshot's base (module sha256 and base identity) and, per memory, the blocks
   * it carries out of how many and their encoded size; null for a full snapshot. Described
   * without its base, a delta snapshot's `memories` show no stored pages.
   */
  delta: { baseModule: string; base: string; memories: MemoryDeltaSummary[]; bytes: number } | null;
  tables: { elemType: string; size: number; max: number | null; nonNull: number }[];
  globals: number;
  droppedData: number[];
  droppedElems: number[];
  openFiles: { fd: number; kind: string; path: string; read: boolean; write: boolean; offset: string }[];
  args: string[] | null;
  hostState: string[];
  /** Uncompressed msgpack bytes of each part; `compressed` is the file minus its header. */
  sizes: { memory: number; frames: number; tables: number; globals: number; wasi: number; host: number; module: number; other: number; body: number; compressed: number };
}

/** How many locals and stack values a frame description shows. */
const SHOWN = 8;

export function formatCanonical(v: CanonicalValue | unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'bigint') return `${v}n`;
  return String(v);
}

function msgpackSize(x: unknown): number {
  try {
    return msgpackCodec().encode(x, { useBigInt64: true }).length;
  } catch {
    return 0;
  }
}

/** Summarizes a decoded snapshot (`bytes` is the whole file, for its size). */
export function describeSnapshot(decoded: DecodedSnapshot, fileBytes: number, moduleBytes?: Uint8Array): SnapshotDescription {
  const { state, header } = decoded;
  const module = moduleBytes ?? decoded.module;
  let names = new Map<number, string>();
  if (module) {
    try { names = decodeModule(module).names.functions; } catch { /* names are a nicety */ }
  }
  const callStack = [...state.frames].reverse().map((f): FrameDescription => ({
    funcIndex: f.funcIndex,
    name: names.get(f.funcIndex) ?? null,
    pc: f.pc,
    localsCount: f.locals.length,
    locals: f.locals.slice(0, SHOWN).map(formatCanonical),
    stackCount: f.stack.length,
    stack: f.stack.slice(-SHOWN).map(formatCanonical),
  }));
  const wasi = state.wasi as { args?: string[]; fds?: { fd: number; kind: string; preopen: number; path: string; read: boolean; write: boolean; offset: bigint; stdio: number }[]; preopens?: { guest: string }[] } | null;
  const openFiles = (wasi?.fds ?? []).map((f) => {
    const root = f.preopen >= 0 ? wasi?.preopens?.[f.preopen]?.guest ?? '?' : '';
    const path = f.kind === 'stdio' ? ['stdin', 'stdout', 'stderr'][f.stdio] ?? 'stdio' : f.path === '' ? root : `${root.endsWith('/') ? root : `${root}/`}${f.path}`;
    return { fd: f.fd, kind: f.kind, path, read: f.read, write: f.write, offset: String(f.offset) };
  });
  const deltaBytes = decoded.delta?.memories.reduce((n, m) => n + m.bytes, 0) ?? 0;
  const memoryBytes = deltaBytes + state.memories.reduce((n, m) => n + (decoded.delta ? 32 : m.data.length + 32 + 5 * m.stored.length), 0);
  const sizes = {
    memory: memoryBytes,
    frames: msgpackSize(state.frames),
    tables: msgpackSize(state.tables),
    globals: msgpackSize(state.globals),
    wasi: msgpackSize(state.wasi),
    host: msgpackSize(state.host),
    module: decoded.module?.length ?? 0,
    other: 0,
    body: header.bodyLength,
    compressed: fileBytes - HEADER_SIZE,
  };
  sizes.other = Math.max(0, sizes.body - sizes.memory - sizes.frames - sizes.tables - sizes.globals - sizes.wasi - sizes.host - sizes.module);
  return {
    fileBytes,
    formatVersion: header.version,
    moduleSha256: state.moduleSha256,
    moduleEmbedded: (header.flags & SnapshotFlags.moduleEmbedded) !== 0,
    moduleBytes: module?.length ?? null,
    storeImage: state.store !== undefined,
    status: state.status,
    entry: state.entry,
    instructions: state.instructions,
    callStack,
    memories: state.memories.map((m) => ({ pages: m.pages, max: m.max, storedPages: m.stored.length, storedBytes: m.stored.length * PAGE_SIZE })),
    tables: state.tables.map((t) => ({ elemType: t.elemType === 0x70 ? 'funcref' : 'externref', size: t.elements.length, max: t.max, nonNull: t.elements.filter((e) => e !== null).length })),
    delta: decoded.delta ? { baseModule: decoded.delta.base.module, base: decoded.delta.base.identity, memories: decoded.delta.memories, bytes: deltaBytes } : null,
    globals: state.globals.length,
    droppedData: state.droppedData,
    droppedElems: state.droppedElems,
    openFiles,
    args: wasi?.args ?? null,
    hostState: Object.keys(state.host),
    sizes,
  };
}

/**
 * Describes a snapshot file without needing anything else: a delta snapshot is described
 * from its deltas (base, blocks carried), not from whole memories.
 * @throws SnapshotError for a file that does not decode.
 */
export function inspectSnapshot(bytes: Uint8Array, moduleBytes?: Uint8Array, options: DecodeOptions = {}): SnapshotDescription {
  const parts = decodeSnapshotParts(bytes, options);
  return describeSnapshot({ header: parts.header, state: parts.state, module: parts.module, delta: parts.delta?.summary }, bytes.length, moduleBytes);
}
