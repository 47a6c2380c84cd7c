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
import { listMemFs, memFsBytes, validateWasiState } from '../wasi/index.ts';

/** One frame of a snapshot's call stack, as `wasmig inspect` shows it. */
export interface FrameDescription {
  /** The function's index in its module. */
  funcIndex: number;
  /** The function's name from the module's name section, when it has one. */
  name: string | null;
  /** Byte offset of the next instruction, in the module. */
  pc: number;
  /** How many locals the frame has (parameters included). */
  localsCount: number;
  /** The first locals, as text. */
  locals: string[];
  /** How many values the frame's operand stack holds. */
  stackCount: number;
  /** The top of the operand stack (last values), as text. */
  stack: string[];
}

/** What {@link describeSnapshot} says of a snapshot: JSON-ready, no bigints, no binaries. */
export interface SnapshotDescription {
  /** Size of the whole snapshot file. */
  fileBytes: number;
  /** The snapshot format version from the header. */
  formatVersion: number;
  /** sha256 (hex) of the module the state belongs to; empty for a state without one. */
  moduleSha256: string;
  /** Whether the module's bytes travel inside the snapshot. */
  moduleEmbedded: boolean;
  /** Size of the embedded module, null when it is not embedded. */
  moduleBytes: number | null;
  /** True for a store image (several instances), false for one program's state. */
  storeImage: boolean;
  /** The state's status (`ready`, `paused`, ...), as stored. */
  status: string;
  /** The export a fresh start calls, when the state has not started yet. */
  entry: string | null;
  /** Wasm instructions executed since the program started. */
  instructions: number;
  /** Innermost first. */
  callStack: FrameDescription[];
  /** Each linear memory: its size and what of it the snapshot stores. */
  memories: {
    /** Current size in 64 KiB pages. */
    pages: number;
    /** Maximum size in pages, null when unbounded. */
    max: number | null;
    /** A 64-bit memory (Wasm 3.0 memory64). */
    index64: boolean;
    /** Pages the snapshot carries (the others are zero). */
    storedPages: number;
    /** Bytes of page data the snapshot carries. */
    storedBytes: number;
  }[];
  /**
   * A delta snapshot's base (module sha256 and base identity) and, per memory, the blocks
   * it carries out of how many and their encoded size; null for a full snapshot. Described
   * without its base, a delta snapshot's `memories` show no stored pages.
   */
  delta: {
    /** sha256 (hex) of the module the base images belong to. */
    baseModule: string;
    /** Identity (hex digest) of the base images the delta applies to. */
    base: string;
    /** Per memory: blocks carried and their size. */
    memories: MemoryDeltaSummary[];
    /** Encoded size of the whole delta section. */
    bytes: number;
  } | null;
  /** Each table: its element type, size and how many elements are set. */
  tables: {
    /** `funcref`, `externref` or `exnref`. */
    elemType: string;
    /** Current size in elements. */
    size: number;
    /** Maximum size, null when unbounded. */
    max: number | null;
    /** A 64-bit table (Wasm 3.0 table64). */
    index64: boolean;
    /** Elements that are not null. */
    nonNull: number;
  }[];
  /** How many globals the state holds. */
  globals: number;
  /**
   * The exceptions exnref values name (format v3), as text: `tag N [values]`; an exnref
   * among the locals and operands shows as its index in this list.
   */
  exceptions: string[];
  /** Indices of the data segments dropped so far. */
  droppedData: number[];
  /** Indices of the element segments dropped so far. */
  droppedElems: number[];
  /** The WASI file descriptors open in the program. */
  openFiles: {
    /** The descriptor number the program uses. */
    fd: number;
    /** What it is (`file`, `directory`, `stdio`, ...). */
    kind: string;
    /** Its path as the program sees it. */
    path: string;
    /** Opened for reading. */
    read: boolean;
    /** Opened for writing. */
    write: boolean;
    /** The current position (a bigint, as text). */
    offset: string;
  }[];
  /** The program's in-memory directories (their content travels in the snapshot). */
  memDirs: {
    /** The name the program knows it by. */
    guest: string;
    /** Bytes of file content it holds. */
    bytes: number;
    /** Its bound: the most bytes of file content it may hold. */
    maxBytes: number;
    /** Files unlinked while open (no name; their fds hold them). */
    orphans: number;
    /** Its entries, depth first. */
    files: {
      /** Path from the directory's root. */
      path: string;
      /** What it is. */
      type: 'dir' | 'file' | 'symlink';
      /** A file's bytes, a symlink's target length, 0 for a directory. */
      size: number;
      /** A symlink's target. */
      target?: string;
      /** Last modification, ns since the epoch, as text. */
      mtime: string;
    }[];
  }[];
  /** The program's argv, null without a WASI state. */
  args: string[] | null;
  /** Names of the embedder's states the snapshot carries (`Program.registerHostState`). */
  hostState: string[];
  /** Uncompressed msgpack bytes of each part; `compressed` is the file minus its header. */
  sizes: {
    /** Linear memories. */
    memory: number;
    /** The call stack. */
    frames: number;
    /** Tables. */
    tables: number;
    /** Globals. */
    globals: number;
    /** The WASI state. */
    wasi: number;
    /** The embedder's states. */
    host: number;
    /** The embedded module. */
    module: number;
    /** Everything else in the body. */
    other: number;
    /** The whole uncompressed body. */
    body: number;
    /** The file minus its header. */
    compressed: number;
  };
}

/** How many locals and stack values a frame description shows. */
const SHOWN = 8;

/**
 * A canonical value as text. A v128 (the only value carried as bytes) shows as its four
 * 32-bit lanes in hex, lane 0 first: the type alone does not say which lane shape the
 * program reads it as, and 32-bit lanes show every bit.
 */
export function formatCanonical(v: CanonicalValue | unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'bigint') return `${v}n`;
  if (v instanceof Uint8Array && v.length === 16) {
    const view = new DataView(v.buffer, v.byteOffset, 16);
    const lanes = [0, 4, 8, 12].map((at) => `0x${view.getUint32(at, true).toString(16).padStart(8, '0')}`);
    return `v128 i32x4 [${lanes.join(' ')}]`;
  }
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
    memories: state.memories.map((m) => ({ pages: m.pages, max: m.max, index64: m.index64 === true, storedPages: m.stored.length, storedBytes: m.stored.length * PAGE_SIZE })),
    tables: state.tables.map((t) => ({ elemType: t.elemType === 0x70 ? 'funcref' : t.elemType === 0x69 ? 'exnref' : 'externref', size: t.elements.length, max: t.max, index64: t.index64 === true, nonNull: t.elements.filter((e) => e !== null).length })),
    delta: decoded.delta ? { baseModule: decoded.delta.base.module, base: decoded.delta.base.identity, memories: decoded.delta.memories, bytes: deltaBytes } : null,
    globals: state.globals.length,
    exceptions: (state.exceptions ?? []).map((e) => `tag ${e.tag} [${e.values.map(formatCanonical).join(', ')}]`),
    droppedData: state.droppedData,
    droppedElems: state.droppedElems,
    openFiles,
    memDirs: describeMemDirs(state.wasi),
    args: wasi?.args ?? null,
    hostState: Object.keys(state.host),
    sizes,
  };
}

/**
 * The in-memory directories of a WASI state, checked first (their file table is untrusted:
 * a corrupt one is a one-line `SnapshotError`, as at a restore).
 */
function describeMemDirs(raw: unknown): SnapshotDescription['memDirs'] {
  const preopens = (raw as { preopens?: unknown } | null)?.preopens;
  if (!Array.isArray(preopens) || !preopens.some((p) => (p as { mem?: unknown } | null)?.mem !== undefined)) return [];
  return validateWasiState(raw).preopens.flatMap((p) => p.mem === undefined ? [] : [{
    guest: p.guest,
    bytes: memFsBytes(p.mem),
    maxBytes: p.mem.maxBytes,
    orphans: p.mem.orphans?.length ?? 0,
    files: listMemFs(p.mem).map((f) => ({ path: f.path, type: f.type, size: f.size, ...(f.target === undefined ? {} : { target: f.target }), mtime: String(f.mtim) })),
  }]);
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
