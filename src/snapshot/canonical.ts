/**
 * The canonical machine state: the one format every part of wasmig agrees on (see
 * `../shared/design.md`, "The canonical state"). Spec-level and independent of any
 * internal code: positions are byte offsets in the original module, values are raw bits
 * or module indices, so a state captured by one tier, version or device resumes on any
 * other. Plain data only (numbers, bigints, strings, arrays, `Uint8Array`): msgpack
 * encodes it as is.
 *
 * Index spaces: in a program's state (no `store` section) every index is the module's
 * own (function index, memory index, ...: imports first, then definitions). In a store
 * image (`store` present: several linked instances, as the spec-test harness builds),
 * indices are store addresses and `store` says what each one is.
 * @module
 */
import type { WasiState } from '../wasi/index.ts';

/**
 * One value as it travels:
 * - i32: number, signed (-2^31 .. 2^31-1);
 * - i64: bigint, signed;
 * - f32: number holding the raw IEEE bits as an unsigned 32-bit integer (NaN payloads survive);
 * - f64: bigint holding the raw IEEE bits as an unsigned 64-bit integer;
 * - funcref: the function's index (module function index; store address in a store image) or null;
 * - externref: the host reference's id (index into `CanonicalState.externs`) or null;
 * - v128: its 16 bytes in memory order (lane 0 first, little-endian lanes); format v2 only.
 * - exnref: the exception's position in `CanonicalState.exceptions`, or null; format v3 only.
 */
export type CanonicalValue = number | bigint | Uint8Array | null;

/** A thrown exception an exnref names (Wasm 3.0 exception handling; format v3). */
export interface CanonicalException {
  /** Its tag: an index of the state's tag space (a program: the module's tag index; a store image: a position in `store.tags`). */
  tag: number;
  /** The values it carries, typed as the tag's parameters. */
  values: CanonicalValue[];
}

/** One activation of a Wasm function. */
export interface CanonicalFrame {
  /** Module function index (a store address in a store image). */
  funcIndex: number;
  /**
   * Byte offset in the module of the next instruction to execute. For a caller frame:
   * the instruction after the call (the callee's results are pushed onto `stack` when
   * it returns). An offset of `block`, `loop` or a block's `end`, which execute nothing,
   * stands for the next instruction that does.
   */
  pc: number;
  /** Parameters, then declared locals, typed as the function declares them. */
  locals: CanonicalValue[];
  /** The operand stack, bottom first. For a caller frame, without the callee's arguments. */
  stack: CanonicalValue[];
}

/** Size of a WebAssembly page. */
export const PAGE_SIZE = 65536;

/** A linear memory in a snapshot: its size and its non-zero pages. */
export interface CanonicalMemory {
  /** Current size in 64 KiB pages. */
  pages: number;
  /** The maximum the memory's type declares, or null (a 64-bit memory's: up to 2^48). */
  max: number | null;
  /**
   * true for a 64-bit memory (Wasm 3.0 memory64, addressed with i64); absent for a 32-bit
   * one, so that 32-bit states keep the shape they had (snapshot format v3 either way).
   */
  index64?: true;
  /** Indices of the pages stored, strictly ascending; every other page is all zeros. */
  stored: number[];
  /** The stored pages, 65536 bytes each, in the order of `stored`. */
  data: Uint8Array;
}

/** A table in a snapshot. */
export interface CanonicalTable {
  /** Element type: the binary code of funcref (0x70) or externref (0x6f). */
  elemType: number;
  /** Declared maximum, or null (a 64-bit table's: a u64, exact up to 2^53, rounded above as its module's decoding rounds it). */
  max: number | null;
  /** true for a 64-bit table (Wasm 3.0 table64, indexed with i64); absent for a 32-bit one. */
  index64?: true;
  /** Every element (the table's current size is its length). */
  elements: CanonicalValue[];
}

/** A global in a snapshot. */
export interface CanonicalGlobal {
  /** Value type: its binary code (i32 0x7f, i64 0x7e, f32 0x7d, f64 0x7c, v128 0x7b, funcref 0x70, externref 0x6f). */
  type: number;
  /** Whether the global's type is mutable. */
  mutable: boolean;
  /** Its value. */
  value: CanonicalValue;
}

/** Where a store image's function comes from. */
export type CanonicalFuncOrigin =
  | {
    /** A function defined by a Wasm instance of the image. */
    kind: 'wasm';
    /** Index into `CanonicalStore.instances`. */
    instance: number;
    /** The function's index in that instance's module. */
    funcIndex: number;
  }
  | {
    /** A host function. */
    kind: 'host';
    /** `module.name` it was imported as. */
    name: string;
    /** Its parameter types (binary codes). */
    params: number[];
    /** Its result types (binary codes). */
    results: number[];
  };

/** One instance of a store image: its module and its index spaces as store addresses. */
export interface CanonicalInstance {
  /** sha256 (hex) of the module's bytes. */
  module: string;
  /** Its function index space, as positions in `CanonicalStore.funcs`. */
  funcs: number[];
  /** Its table index space, as positions in the state's `tables`. */
  tables: number[];
  /** Its memory index space, as positions in the state's `memories`. */
  memories: number[];
  /** Its global index space, as positions in the state's `globals`. */
  globals: number[];
  /** Its tag index space, as positions in `CanonicalStore.tags` (format v3; absent: no tags). */
  tags?: number[];
  /** Its data segments dropped so far. */
  droppedData: number[];
  /** Its element segments dropped so far. */
  droppedElems: number[];
}

/** The layout of a multi-instance store (absent in a program's state). */
export interface CanonicalStore {
  /** Every instance the image holds. */
  instances: CanonicalInstance[];
  /** Where each function of the image comes from. */
  funcs: CanonicalFuncOrigin[];
  /** Every exception tag of the image, as its parameter types (format v3; absent: none). */
  tags?: number[][];
}

/** Whether a program's execution had begun when the state was taken. */
export type CanonicalStatus = 'ready' | 'paused';

/** The whole machine. */
export interface CanonicalState {
  /** sha256 (hex, lower case) of the module's bytes (a store image: of its first instance's module). */
  moduleSha256: string;
  /** 'ready': instantiated, entry point not called yet (`frames` empty); 'paused': running, stopped between two instructions. */
  status: CanonicalStatus;
  /** The export the execution entered (`_start` for a WASI command), or null. */
  entry: string | null;
  /** The linear memories, in the module's index space (imports first). */
  memories: CanonicalMemory[];
  /** The tables, in the module's index space. */
  tables: CanonicalTable[];
  /** The globals, in the module's index space. */
  globals: CanonicalGlobal[];
  /** Data segments dropped (`data.drop`, or active ones applied at instantiation). */
  droppedData: number[];
  /** Element segments dropped (`elem.drop`, active and declarative ones). */
  droppedElems: number[];
  /** Wasm activations, bottom (the entry function) to top (the one to run next). */
  frames: CanonicalFrame[];
  /** Wasm instructions executed since the program started (see README, "Instruction count"). */
  instructions: number;
  /** The WASI host's state, or null when the program has no WASI host. */
  wasi: WasiState | null;
  /** The embedder's own host state, by name (plain msgpack-able data). */
  host: Record<string, unknown>;
  /** Host values behind externref ids (plain data; usually empty). */
  externs: unknown[];
  /** The exceptions exnref values name (format v3; absent when none does). */
  exceptions?: CanonicalException[];
  /** Present only in a store image: what the store's addresses are. */
  store?: CanonicalStore;
}
