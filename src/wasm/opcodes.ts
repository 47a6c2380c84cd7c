/**
 * The one opcode table (as wasm3 keeps one): every instruction's code, name, the kind
 * of its immediates, for the plain numeric instructions their stack signature, and the
 * facts the translators and the native rewriter ask about an instruction (how many
 * values it pops, whether it is control flow, whether it writes a table or uses a
 * segment, how many immediate words the internal code keeps).
 *
 * Codes: single-byte opcodes are their byte; the 0xFC prefix maps to 0x100 + sub-opcode,
 * the 0xFD (SIMD) prefix to 0x200 + sub-opcode. Spec: https://webassembly.github.io/spec/core/binary/instructions.html
 */
import { SIMD_ROWS } from './opcodes-simd.ts';

/** What follows an opcode in the binary; the decoder's `InstructionReader` reads it into `Instr`. */
export const Imm = {
  none: 0,
  /** `a` = the block type as the s33 the binary holds: -64 empty, -1..-17 a value type, >= 0 a type index. */
  blockType: 1,
  /** `a` = one u32 index (local, global, function, label, table, elem, data). */
  index: 2,
  /** `targets[0..a)` = labels, `b` = default label. */
  brTable: 3,
  /** `a` = type index, `b` = table index. */
  callIndirect: 4,
  /** `a` = alignment exponent, `b` = offset (u32, as a non-negative number), `mem` = memory index. */
  memArg: 5,
  /** `a` = the value (signed 32 bit). */
  i32: 6,
  /** `a` = low 32 bits, `b` = high 32 bits (both as signed int32). */
  i64: 7,
  /** `a` = the raw bits (as signed int32). */
  f32: 8,
  /** `a` = low 32 bits, `b` = high 32 bits of the raw bits. */
  f64: 9,
  /** `types[0..a)` = the value types of a typed `select`. */
  selectTypes: 10,
  /**
   * `a` = the nullable reference type of a heap type (`ref.null ht`): 0x70 / 0x6f for
   * func / extern, a packed typed reference otherwise (`wasm/ref-types.ts`).
   */
  refType: 11,
  /** `a` = memory index (a u32 since Wasm 3.0's multi-memory, one 0 byte before): memory.size, memory.grow, memory.fill. */
  memIndex: 12,
  /** `a` = data index, `b` = memory index: memory.init. */
  dataMem: 13,
  /** `a` = destination memory, `b` = source memory: memory.copy. */
  memMem: 14,
  /** `a` = first index, `b` = second index: table.init (elem, table), table.copy (dst, src). */
  twoIndices: 15,
  /** `bytes[0..16)` = the v128 constant. */
  v128: 16,
  /** `a` = lane index byte. */
  lane: 17,
  /** memArg in `a`/`b`, lane index byte in `c`. */
  memArgLane: 18,
  /** `bytes[0..16)` = the 16 lane indices. */
  shuffle: 19,
  /**
   * try_table (Wasm 3.0): `a` = block type as for `Imm.blockType`, `b` = number of catch
   * clauses, `targets[3i..3i+3)` = clause i's kind (0 catch, 1 catch_ref, 2 catch_all,
   * 3 catch_all_ref), tag index (0 for catch_all*) and label.
   */
  tryTable: 20,
} as const;
export type Imm = (typeof Imm)[keyof typeof Imm];

export interface OpInfo {
  code: number;
  name: string;
  imm: Imm;
  /**
   * Stack signature of plain instructions as `params>results` with i=i32, I=i64, f=f32,
   * F=f64, V=v128 (e.g. `ii>i`); undefined where validation needs special rules.
   */
  sig: string | undefined;
  /**
   * Values a plain instruction pops (from `sig`, or stated where the types depend on
   * locals, globals, tables or operands, as for `drop` and `select`); -1 where the count
   * depends on a type or a label (control flow, calls).
   */
  pops: number;
  /**
   * Structured control, branches, `return`, calls and `unreachable`: after one of them
   * the next instruction does not simply follow (the translators end a basic block).
   */
  control: boolean;
  /** Writes a table's elements or size (the native tier then refreshes its mirrors of the tables). */
  writesTable: boolean;
  /** Reads or drops one of the module's data or element segments. */
  usesSegment: boolean;
  /**
   * The proposal an instruction belongs to where engines ask whether a module uses it
   * (`compile/body-scan.ts`; the validator finds the same first uses as it validates):
   * exception handling, the legacy instructions included, or tail calls.
   */
  feature: 'exceptions' | 'tailCalls' | undefined;
  /**
   * 32-bit words of immediates the internal code (`compile/ir.ts`) keeps after the
   * opcode of a plain instruction: a memarg keeps its offset (not its alignment), a
   * 64-bit constant two words, a memory index (always 0) and a reference type nothing.
   * Control instructions are rewritten by the translator, with lengths of their own.
   */
  codeWords: number;
}

/** Facts about an instruction that its signature does not give (see {@link OpInfo}). */
interface Facts {
  pops?: number;
  control?: true;
  writesTable?: true;
  usesSegment?: true;
  feature?: OpInfo['feature'];
}

const CONTROL: Facts = { control: true };
const EXCEPTIONS: Facts = { control: true, feature: 'exceptions' };
const TAIL_CALLS: Facts = { control: true, feature: 'tailCalls' };

export const PREFIX_FC = 0x100;
export const PREFIX_FD = 0x200;
export const OPCODE_SPACE = 0x400;

/**
 * Rows: code, name, immediates, then the stack signature (plain instructions) or, where
 * there is none, the facts a signature would give; facts beyond a signature come last.
 */
const table: [number, string, Imm, (string | Facts)?, Facts?][] = [
  [0x00, 'unreachable', Imm.none, CONTROL],
  [0x01, 'nop', Imm.none, { pops: 0 }],
  [0x02, 'block', Imm.blockType, CONTROL],
  [0x03, 'loop', Imm.blockType, CONTROL],
  [0x04, 'if', Imm.blockType, CONTROL],
  [0x05, 'else', Imm.none, CONTROL],
  // Exception handling: the legacy instructions (try, catch, rethrow, delegate,
  // catch_all) toolchains still emit, and Wasm 3.0's throw, throw_ref and try_table.
  [0x06, 'try', Imm.blockType, EXCEPTIONS],
  [0x07, 'catch', Imm.index, EXCEPTIONS],
  [0x08, 'throw', Imm.index, EXCEPTIONS],
  [0x09, 'rethrow', Imm.index, EXCEPTIONS],
  [0x0a, 'throw_ref', Imm.none, EXCEPTIONS],
  [0x0b, 'end', Imm.none, CONTROL],
  [0x0c, 'br', Imm.index, CONTROL],
  [0x0d, 'br_if', Imm.index, CONTROL],
  [0x0e, 'br_table', Imm.brTable, CONTROL],
  [0x0f, 'return', Imm.none, CONTROL],
  [0x10, 'call', Imm.index, CONTROL],
  [0x11, 'call_indirect', Imm.callIndirect, CONTROL],
  // Wasm 3.0 tail calls: the callee replaces the caller's frame.
  [0x12, 'return_call', Imm.index, TAIL_CALLS],
  [0x13, 'return_call_indirect', Imm.callIndirect, TAIL_CALLS],
  // Wasm 3.0 typed function references: calls through a reference (type index immediate).
  [0x14, 'call_ref', Imm.index, CONTROL],
  [0x15, 'return_call_ref', Imm.index, TAIL_CALLS],
  [0x18, 'delegate', Imm.index, EXCEPTIONS],
  [0x19, 'catch_all', Imm.none, EXCEPTIONS],
  [0x1a, 'drop', Imm.none, { pops: 1 }],
  [0x1b, 'select', Imm.none, { pops: 3 }],
  [0x1c, 'select_t', Imm.selectTypes, { pops: 3 }],
  [0x1f, 'try_table', Imm.tryTable, EXCEPTIONS],
  [0x20, 'local.get', Imm.index, { pops: 0 }],
  [0x21, 'local.set', Imm.index, { pops: 1 }],
  [0x22, 'local.tee', Imm.index, { pops: 1 }],
  [0x23, 'global.get', Imm.index, { pops: 0 }],
  [0x24, 'global.set', Imm.index, { pops: 1 }],
  [0x25, 'table.get', Imm.index, { pops: 1 }],
  [0x26, 'table.set', Imm.index, { pops: 2, writesTable: true }],
  [0x28, 'i32.load', Imm.memArg, 'i>i'],
  [0x29, 'i64.load', Imm.memArg, 'i>I'],
  [0x2a, 'f32.load', Imm.memArg, 'i>f'],
  [0x2b, 'f64.load', Imm.memArg, 'i>F'],
  [0x2c, 'i32.load8_s', Imm.memArg, 'i>i'],
  [0x2d, 'i32.load8_u', Imm.memArg, 'i>i'],
  [0x2e, 'i32.load16_s', Imm.memArg, 'i>i'],
  [0x2f, 'i32.load16_u', Imm.memArg, 'i>i'],
  [0x30, 'i64.load8_s', Imm.memArg, 'i>I'],
  [0x31, 'i64.load8_u', Imm.memArg, 'i>I'],
  [0x32, 'i64.load16_s', Imm.memArg, 'i>I'],
  [0x33, 'i64.load16_u', Imm.memArg, 'i>I'],
  [0x34, 'i64.load32_s', Imm.memArg, 'i>I'],
  [0x35, 'i64.load32_u', Imm.memArg, 'i>I'],
  [0x36, 'i32.store', Imm.memArg, 'ii>'],
  [0x37, 'i64.store', Imm.memArg, 'iI>'],
  [0x38, 'f32.store', Imm.memArg, 'if>'],
  [0x39, 'f64.store', Imm.memArg, 'iF>'],
  [0x3a, 'i32.store8', Imm.memArg, 'ii>'],
  [0x3b, 'i32.store16', Imm.memArg, 'ii>'],
  [0x3c, 'i64.store8', Imm.memArg, 'iI>'],
  [0x3d, 'i64.store16', Imm.memArg, 'iI>'],
  [0x3e, 'i64.store32', Imm.memArg, 'iI>'],
  [0x3f, 'memory.size', Imm.memIndex, '>i'],
  [0x40, 'memory.grow', Imm.memIndex, 'i>i'],
  [0x41, 'i32.const', Imm.i32, '>i'],
  [0x42, 'i64.const', Imm.i64, '>I'],
  [0x43, 'f32.const', Imm.f32, '>f'],
  [0x44, 'f64.const', Imm.f64, '>F'],
  [0x45, 'i32.eqz', Imm.none, 'i>i'],
  [0x46, 'i32.eq', Imm.none, 'ii>i'],
  [0x47, 'i32.ne', Imm.none, 'ii>i'],
  [0x48, 'i32.lt_s', Imm.none, 'ii>i'],
  [0x49, 'i32.lt_u', Imm.none, 'ii>i'],
  [0x4a, 'i32.gt_s', Imm.none, 'ii>i'],
  [0x4b, 'i32.gt_u', Imm.none, 'ii>i'],
  [0x4c, 'i32.le_s', Imm.none, 'ii>i'],
  [0x4d, 'i32.le_u', Imm.none, 'ii>i'],
  [0x4e, 'i32.ge_s', Imm.none, 'ii>i'],
  [0x4f, 'i32.ge_u', Imm.none, 'ii>i'],
  [0x50, 'i64.eqz', Imm.none, 'I>i'],
  [0x51, 'i64.eq', Imm.none, 'II>i'],
  [0x52, 'i64.ne', Imm.none, 'II>i'],
  [0x53, 'i64.lt_s', Imm.none, 'II>i'],
  [0x54, 'i64.lt_u', Imm.none, 'II>i'],
  [0x55, 'i64.gt_s', Imm.none, 'II>i'],
  [0x56, 'i64.gt_u', Imm.none, 'II>i'],
  [0x57, 'i64.le_s', Imm.none, 'II>i'],
  [0x58, 'i64.le_u', Imm.none, 'II>i'],
  [0x59, 'i64.ge_s', Imm.none, 'II>i'],
  [0x5a, 'i64.ge_u', Imm.none, 'II>i'],
  [0x5b, 'f32.eq', Imm.none, 'ff>i'],
  [0x5c, 'f32.ne', Imm.none, 'ff>i'],
  [0x5d, 'f32.lt', Imm.none, 'ff>i'],
  [0x5e, 'f32.gt', Imm.none, 'ff>i'],
  [0x5f, 'f32.le', Imm.none, 'ff>i'],
  [0x60, 'f32.ge', Imm.none, 'ff>i'],
  [0x61, 'f64.eq', Imm.none, 'FF>i'],
  [0x62, 'f64.ne', Imm.none, 'FF>i'],
  [0x63, 'f64.lt', Imm.none, 'FF>i'],
  [0x64, 'f64.gt', Imm.none, 'FF>i'],
  [0x65, 'f64.le', Imm.none, 'FF>i'],
  [0x66, 'f64.ge', Imm.none, 'FF>i'],
  [0x67, 'i32.clz', Imm.none, 'i>i'],
  [0x68, 'i32.ctz', Imm.none, 'i>i'],
  [0x69, 'i32.popcnt', Imm.none, 'i>i'],
  [0x6a, 'i32.add', Imm.none, 'ii>i'],
  [0x6b, 'i32.sub', Imm.none, 'ii>i'],
  [0x6c, 'i32.mul', Imm.none, 'ii>i'],
  [0x6d, 'i32.div_s', Imm.none, 'ii>i'],
  [0x6e, 'i32.div_u', Imm.none, 'ii>i'],
  [0x6f, 'i32.rem_s', Imm.none, 'ii>i'],
  [0x70, 'i32.rem_u', Imm.none, 'ii>i'],
  [0x71, 'i32.and', Imm.none, 'ii>i'],
  [0x72, 'i32.or', Imm.none, 'ii>i'],
  [0x73, 'i32.xor', Imm.none, 'ii>i'],
  [0x74, 'i32.shl', Imm.none, 'ii>i'],
  [0x75, 'i32.shr_s', Imm.none, 'ii>i'],
  [0x76, 'i32.shr_u', Imm.none, 'ii>i'],
  [0x77, 'i32.rotl', Imm.none, 'ii>i'],
  [0x78, 'i32.rotr', Imm.none, 'ii>i'],
  [0x79, 'i64.clz', Imm.none, 'I>I'],
  [0x7a, 'i64.ctz', Imm.none, 'I>I'],
  [0x7b, 'i64.popcnt', Imm.none, 'I>I'],
  [0x7c, 'i64.add', Imm.none, 'II>I'],
  [0x7d, 'i64.sub', Imm.none, 'II>I'],
  [0x7e, 'i64.mul', Imm.none, 'II>I'],
  [0x7f, 'i64.div_s', Imm.none, 'II>I'],
  [0x80, 'i64.div_u', Imm.none, 'II>I'],
  [0x81, 'i64.rem_s', Imm.none, 'II>I'],
  [0x82, 'i64.rem_u', Imm.none, 'II>I'],
  [0x83, 'i64.and', Imm.none, 'II>I'],
  [0x84, 'i64.or', Imm.none, 'II>I'],
  [0x85, 'i64.xor', Imm.none, 'II>I'],
  [0x86, 'i64.shl', Imm.none, 'II>I'],
  [0x87, 'i64.shr_s', Imm.none, 'II>I'],
  [0x88, 'i64.shr_u', Imm.none, 'II>I'],
  [0x89, 'i64.rotl', Imm.none, 'II>I'],
  [0x8a, 'i64.rotr', Imm.none, 'II>I'],
  [0x8b, 'f32.abs', Imm.none, 'f>f'],
  [0x8c, 'f32.neg', Imm.none, 'f>f'],
  [0x8d, 'f32.ceil', Imm.none, 'f>f'],
  [0x8e, 'f32.floor', Imm.none, 'f>f'],
  [0x8f, 'f32.trunc', Imm.none, 'f>f'],
  [0x90, 'f32.nearest', Imm.none, 'f>f'],
  [0x91, 'f32.sqrt', Imm.none, 'f>f'],
  [0x92, 'f32.add', Imm.none, 'ff>f'],
  [0x93, 'f32.sub', Imm.none, 'ff>f'],
  [0x94, 'f32.mul', Imm.none, 'ff>f'],
  [0x95, 'f32.div', Imm.none, 'ff>f'],
  [0x96, 'f32.min', Imm.none, 'ff>f'],
  [0x97, 'f32.max', Imm.none, 'ff>f'],
  [0x98, 'f32.copysign', Imm.none, 'ff>f'],
  [0x99, 'f64.abs', Imm.none, 'F>F'],
  [0x9a, 'f64.neg', Imm.none, 'F>F'],
  [0x9b, 'f64.ceil', Imm.none, 'F>F'],
  [0x9c, 'f64.floor', Imm.none, 'F>F'],
  [0x9d, 'f64.trunc', Imm.none, 'F>F'],
  [0x9e, 'f64.nearest', Imm.none, 'F>F'],
  [0x9f, 'f64.sqrt', Imm.none, 'F>F'],
  [0xa0, 'f64.add', Imm.none, 'FF>F'],
  [0xa1, 'f64.sub', Imm.none, 'FF>F'],
  [0xa2, 'f64.mul', Imm.none, 'FF>F'],
  [0xa3, 'f64.div', Imm.none, 'FF>F'],
  [0xa4, 'f64.min', Imm.none, 'FF>F'],
  [0xa5, 'f64.max', Imm.none, 'FF>F'],
  [0xa6, 'f64.copysign', Imm.none, 'FF>F'],
  [0xa7, 'i32.wrap_i64', Imm.none, 'I>i'],
  [0xa8, 'i32.trunc_f32_s', Imm.none, 'f>i'],
  [0xa9, 'i32.trunc_f32_u', Imm.none, 'f>i'],
  [0xaa, 'i32.trunc_f64_s', Imm.none, 'F>i'],
  [0xab, 'i32.trunc_f64_u', Imm.none, 'F>i'],
  [0xac, 'i64.extend_i32_s', Imm.none, 'i>I'],
  [0xad, 'i64.extend_i32_u', Imm.none, 'i>I'],
  [0xae, 'i64.trunc_f32_s', Imm.none, 'f>I'],
  [0xaf, 'i64.trunc_f32_u', Imm.none, 'f>I'],
  [0xb0, 'i64.trunc_f64_s', Imm.none, 'F>I'],
  [0xb1, 'i64.trunc_f64_u', Imm.none, 'F>I'],
  [0xb2, 'f32.convert_i32_s', Imm.none, 'i>f'],
  [0xb3, 'f32.convert_i32_u', Imm.none, 'i>f'],
  [0xb4, 'f32.convert_i64_s', Imm.none, 'I>f'],
  [0xb5, 'f32.convert_i64_u', Imm.none, 'I>f'],
  [0xb6, 'f32.demote_f64', Imm.none, 'F>f'],
  [0xb7, 'f64.convert_i32_s', Imm.none, 'i>F'],
  [0xb8, 'f64.convert_i32_u', Imm.none, 'i>F'],
  [0xb9, 'f64.convert_i64_s', Imm.none, 'I>F'],
  [0xba, 'f64.convert_i64_u', Imm.none, 'I>F'],
  [0xbb, 'f64.promote_f32', Imm.none, 'f>F'],
  [0xbc, 'i32.reinterpret_f32', Imm.none, 'f>i'],
  [0xbd, 'i64.reinterpret_f64', Imm.none, 'F>I'],
  [0xbe, 'f32.reinterpret_i32', Imm.none, 'i>f'],
  [0xbf, 'f64.reinterpret_i64', Imm.none, 'I>F'],
  [0xc0, 'i32.extend8_s', Imm.none, 'i>i'],
  [0xc1, 'i32.extend16_s', Imm.none, 'i>i'],
  [0xc2, 'i64.extend8_s', Imm.none, 'I>I'],
  [0xc3, 'i64.extend16_s', Imm.none, 'I>I'],
  [0xc4, 'i64.extend32_s', Imm.none, 'I>I'],
  [0xd0, 'ref.null', Imm.refType, { pops: 0 }],
  [0xd1, 'ref.is_null', Imm.none, { pops: 1 }],
  [0xd2, 'ref.func', Imm.index, { pops: 0 }],
  // Wasm 3.0 typed function references: null checks (the branches take a label index).
  [0xd4, 'ref.as_non_null', Imm.none, { pops: 1 }],
  [0xd5, 'br_on_null', Imm.index, CONTROL],
  [0xd6, 'br_on_non_null', Imm.index, CONTROL],
  [PREFIX_FC + 0, 'i32.trunc_sat_f32_s', Imm.none, 'f>i'],
  [PREFIX_FC + 1, 'i32.trunc_sat_f32_u', Imm.none, 'f>i'],
  [PREFIX_FC + 2, 'i32.trunc_sat_f64_s', Imm.none, 'F>i'],
  [PREFIX_FC + 3, 'i32.trunc_sat_f64_u', Imm.none, 'F>i'],
  [PREFIX_FC + 4, 'i64.trunc_sat_f32_s', Imm.none, 'f>I'],
  [PREFIX_FC + 5, 'i64.trunc_sat_f32_u', Imm.none, 'f>I'],
  [PREFIX_FC + 6, 'i64.trunc_sat_f64_s', Imm.none, 'F>I'],
  [PREFIX_FC + 7, 'i64.trunc_sat_f64_u', Imm.none, 'F>I'],
  [PREFIX_FC + 8, 'memory.init', Imm.dataMem, 'iii>', { usesSegment: true }],
  [PREFIX_FC + 9, 'data.drop', Imm.index, '>', { usesSegment: true }],
  [PREFIX_FC + 10, 'memory.copy', Imm.memMem, 'iii>'],
  [PREFIX_FC + 11, 'memory.fill', Imm.memIndex, 'iii>'],
  [PREFIX_FC + 12, 'table.init', Imm.twoIndices, 'iii>', { writesTable: true, usesSegment: true }],
  [PREFIX_FC + 13, 'elem.drop', Imm.index, '>', { usesSegment: true }],
  [PREFIX_FC + 14, 'table.copy', Imm.twoIndices, 'iii>', { writesTable: true }],
  [PREFIX_FC + 15, 'table.grow', Imm.index, { pops: 2, writesTable: true }],
  [PREFIX_FC + 16, 'table.size', Imm.index, '>i'],
  [PREFIX_FC + 17, 'table.fill', Imm.index, { pops: 3, writesTable: true }],
];

/** Immediate kinds of the SIMD instructions (0xFD prefix), by sub-opcode range. */
function simdImm(sub: number): Imm {
  if (sub <= 11) return Imm.memArg; // v128.load* and v128.store
  if (sub === 12) return Imm.v128;
  if (sub === 13) return Imm.shuffle;
  if (sub >= 21 && sub <= 34) return Imm.lane; // extract_lane / replace_lane
  if (sub >= 84 && sub <= 91) return Imm.memArgLane; // load*_lane / store*_lane
  if (sub === 92 || sub === 93) return Imm.memArg; // v128.load32_zero / load64_zero
  return Imm.none;
}

/** Words of immediates the internal code keeps, by immediate kind (see {@link OpInfo.codeWords}). */
function codeWords(imm: Imm): number {
  switch (imm) {
    case Imm.index: case Imm.memArg: case Imm.i32: case Imm.f32: case Imm.dataMem: return 1;
    case Imm.callIndirect: case Imm.i64: case Imm.f64: case Imm.twoIndices: return 2;
    case Imm.lane: return 1;
    case Imm.memArgLane: return 2; // offset, lane
    case Imm.v128: case Imm.shuffle: return 4; // 16 bytes, little-endian words
    default: return 0;
  }
}

function opInfo(code: number, name: string, imm: Imm, sigOrFacts?: string | Facts, more?: Facts): OpInfo {
  const sig = typeof sigOrFacts === 'string' ? sigOrFacts : undefined;
  const facts: Facts = { ...(typeof sigOrFacts === 'object' ? sigOrFacts : {}), ...more };
  return {
    code, name, imm, sig,
    pops: sig !== undefined ? sig.indexOf('>') : (facts.pops ?? -1),
    control: facts.control === true,
    writesTable: facts.writesTable === true,
    usesSegment: facts.usesSegment === true,
    feature: facts.feature,
    codeWords: codeWords(imm),
  };
}

/** Indexed by code; undefined for codes that are not instructions. */
export const OPS: (OpInfo | undefined)[] = new Array(OPCODE_SPACE).fill(undefined);
for (const [code, name, imm, sigOrFacts, more] of table) OPS[code] = opInfo(code, name, imm, sigOrFacts, more);
for (const [sub, name, sig] of SIMD_ROWS) OPS[PREFIX_FD + sub] = opInfo(PREFIX_FD + sub, name, simdImm(sub), sig);

/** Opcode constants by name, for the validator and compiler (`Op.i32_add`). */
export const Op = Object.fromEntries(table.map(([code, name]) => [name.replace(/\./g, '_'), code])) as Record<string, number>;

export function opName(code: number): string {
  return OPS[code]?.name ?? `opcode 0x${code.toString(16)}`;
}
