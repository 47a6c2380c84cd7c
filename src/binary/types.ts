/**
 * Decoders for the type encodings: value, reference, function, limits, table, memory
 * and global types. Spec: https://webassembly.github.io/spec/core/binary/types.html
 */
import { DecodeError } from '../errors/index.ts';
import { HeapType, refType } from '../wasm/index.ts';
import type { FuncType, GlobalType, Limits, MemoryType, RefType, TableType, ValType } from '../wasm/index.ts';
import type { ByteReader } from './reader.ts';

/** `(ref null ht)` and `(ref ht)`: the prefixes of a typed reference (Wasm 3.0). */
const REF_NULL = 0x63;
const REF = 0x64;
/** The shorthands of the bottom types' nullable references: nullfuncref, nullexternref. */
const NULLFUNCREF = 0x73;
const NULLEXTERNREF = 0x72;
/** nullexnref: `(ref null noexn)` (exception handling). */
const NULLEXNREF = 0x74;

const VALTYPE_BYTES = new Uint8Array(256);
// 0x69 is exnref (Wasm 3.0 exception handling).
for (const b of [0x7f, 0x7e, 0x7d, 0x7c, 0x7b, 0x70, 0x6f, 0x69]) VALTYPE_BYTES[b] = 1;

/** True for the bytes that encode a Wasm 2.0 value type, or exnref. */
export function isValTypeByte(b: number): b is ValType {
  return VALTYPE_BYTES[b] === 1;
}

/**
 * A type tag byte. The spec reads these as a 7-bit signed LEB128, so a byte with the
 * continuation bit set is "integer representation too long" rather than an unknown type.
 */
export function readTypeTag(r: ByteReader): number {
  const b = r.u8();
  if (b >= 0x80) throw new DecodeError('integer representation too long', r.pos);
  return b;
}

export function readValType(r: ByteReader): ValType {
  const p = r.pos;
  const b = readTypeTag(r);
  if (isValTypeByte(b)) return b;
  const ref = refTypeAfterTag(r, b);
  if (ref === undefined) throw new DecodeError('malformed value type', p);
  return ref;
}

export function readRefType(r: ByteReader): RefType {
  const p = r.pos;
  const b = readTypeTag(r);
  if (b === 0x70 || b === 0x6f || b === 0x69) return b;
  const ref = refTypeAfterTag(r, b);
  if (ref === undefined) throw new DecodeError('malformed reference type', p);
  return ref;
}

/**
 * A heap type (Wasm 3.0): an s33, negative for the abstract ones this runtime knows
 * (func, extern, nofunc, noextern, exn, noexn), else a type index (whether it exists is the
 * validator's question: "unknown type").
 */
export function readHeapType(r: ByteReader): number {
  const p = r.pos;
  const h = r.s33();
  if (h >= 0) return h;
  if (h === HeapType.func || h === HeapType.extern || h === HeapType.nofunc || h === HeapType.noextern || h === HeapType.exn || h === HeapType.noexn) return h;
  throw new DecodeError('malformed reference type', p); // the heap type of one
}

/** The rest of a typed reference after its tag byte `b`, or undefined when `b` starts none. */
function refTypeAfterTag(r: ByteReader, b: number): RefType | undefined {
  switch (b) {
    case REF_NULL: return refType(readHeapType(r), true) as RefType;
    case REF: return refType(readHeapType(r), false) as RefType;
    case NULLFUNCREF: return refType(HeapType.nofunc, true) as RefType;
    case NULLEXTERNREF: return refType(HeapType.noextern, true) as RefType;
    case NULLEXNREF: return refType(HeapType.noexn, true) as RefType;
    default: return undefined;
  }
}

/** `0x60 params results`. */
export function readFuncType(r: ByteReader): FuncType {
  const p = r.pos;
  if (readTypeTag(r) !== 0x60) throw new DecodeError('malformed function type', p);
  return { params: readResultType(r), results: readResultType(r) };
}

function readResultType(r: ByteReader): ValType[] {
  const n = r.len();
  const out: ValType[] = [];
  for (let i = 0; i < n; i++) out.push(readValType(r));
  return out;
}

/** Limits after their flags byte was read: u32 bounds, or u64 ones for an i64 index type. */
function readLimitsBody(r: ByteReader, hasMax: boolean, index64: boolean): Limits {
  if (index64) {
    const min = r.u64();
    const max = hasMax ? r.u64() : undefined;
    return { min, max, index64: true };
  }
  const min = r.u32();
  const max = hasMax ? r.u32() : undefined;
  return { min, max };
}

/** Limits flag bit 2 (Wasm 3.0 memory64 and table64): the index type is i64. */
const INDEX64_FLAG = 0x04;

export function readTableType(r: ByteReader): TableType {
  const elemType = readRefType(r);
  const p = r.pos;
  // 0x04 and 0x05: a 64-bit table without and with a maximum.
  if (p < r.end && (r.bytes[p] === INDEX64_FLAG || r.bytes[p] === (INDEX64_FLAG | 1))) {
    r.pos = p + 1;
    return { elemType, limits: readLimitsBody(r, r.bytes[p] === (INDEX64_FLAG | 1), true) };
  }
  // The spec reads the flags as a one-bit LEB128, hence its error messages.
  const flags = r.u1();
  return { elemType, limits: readLimitsBody(r, flags === 1, false) };
}

/**
 * Memory type. Flags 0 and 1 are Wasm 2.0; 3 (shared, with maximum) comes from the
 * threads proposal and is decoded so that validation can reject it with a clear message.
 * Flag 2 (shared without maximum) stays malformed, as the 2.0 test suite requires.
 * Flags 4 and 5 (Wasm 3.0 memory64) are 0 and 1 with an i64 index type; 7 is 3's.
 */
export function readMemoryType(r: ByteReader): MemoryType {
  const p = r.pos;
  const first = p < r.end ? r.bytes[p] : -1;
  if (first === 0x03 || first === 0x07) {
    r.pos = p + 1;
    return { limits: readLimitsBody(r, true, first === 0x07), shared: true };
  }
  if (first === INDEX64_FLAG || first === (INDEX64_FLAG | 1)) {
    r.pos = p + 1;
    return { limits: readLimitsBody(r, first === (INDEX64_FLAG | 1), true), shared: false };
  }
  const flags = r.u1();
  return { limits: readLimitsBody(r, flags === 1, false), shared: false };
}

export function readGlobalType(r: ByteReader): GlobalType {
  const type = readValType(r);
  const p = r.pos;
  const m = r.u8();
  if (m > 1) throw new DecodeError('malformed mutability', p);
  return { type, mutable: m === 1 };
}
