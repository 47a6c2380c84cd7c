/**
 * Reads instructions one at a time into a caller-owned `Instr`, without allocating.
 * Spec: https://webassembly.github.io/spec/core/binary/instructions.html
 *
 * The reader only decodes: it does not track blocks or types (the validator does), so it
 * can start at any instruction boundary, e.g. a pc taken from a snapshot.
 */
import { DecodeError } from '../errors/index.ts';
import { Imm, OPCODE_SPACE, OPS, PREFIX_FC, PREFIX_FD, refType } from '../wasm/index.ts';
import { ByteReader } from './reader.ts';
import { isValTypeByte, readHeapType, readValType } from './types.ts';

/**
 * One decoded instruction. The meaning of `a`, `b`, `c`, `targets`, `types` and `bytes`
 * depends on the opcode's immediate kind (`Imm` in `wasm/opcodes.ts`); fields an opcode
 * does not use are 0 (`a`, `b`, `c`) or hold stale data (the arrays).
 */
export interface Instr {
  /** Opcode code: the byte, 0x100 + sub-opcode after 0xFC, 0x200 + sub-opcode after 0xFD. */
  op: number;
  /** Absolute byte offset of the opcode in the module. */
  offset: number;
  a: number;
  b: number;
  c: number;
  /** The memory index of a memarg (Wasm 3.0 multi-memory; 0 when the binary gives none). */
  mem: number;
  /** br_table labels: `targets[0..a)`; try_table's clauses (see `Imm.tryTable`); the array is reused from one instruction to the next. */
  targets: number[];
  /** Typed select: `types[0..a)`; reused like `targets`. */
  types: number[];
  /** v128.const value or i8x16.shuffle lanes; reused, copy it to keep it. */
  bytes: Uint8Array;
}

/** A fresh `Instr` to hand to `InstructionReader.read` again and again. */
export function createInstr(): Instr {
  return { op: 0, offset: 0, a: 0, b: 0, c: 0, mem: 0, targets: [], types: [], bytes: new Uint8Array(16) };
}

/** Immediate kind by code, -1 for codes that are not instructions (a flat table for speed). */
const IMM_BY_CODE = new Int8Array(OPCODE_SPACE).fill(-1);
for (const info of OPS) if (info !== undefined) IMM_BY_CODE[info.code] = info.imm;

/** Bit 6 of a memarg's flags: a memory index follows them. */
const MEM_INDEX_FLAG = 64;

/** The position after the LEB128 at `p` (its bytes with the continuation bit, then one without). */
function skipLeb(bytes: Uint8Array, p: number): number {
  while (bytes[p++]! >= 0x80);
  return p;
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(2, '0')}`;
}

/**
 * Decodes the instructions in `bytes[start, end)`. Set `pos` to jump; `read` advances it
 * past one instruction and throws `DecodeError` on malformed input, including reading
 * beyond `end` ("unexpected end of section or function").
 */
export class InstructionReader extends ByteReader {
  constructor(bytes: Uint8Array, start: number, end: number) {
    super(bytes, start, end);
  }

  /** Where `skipInstruction` decodes the instructions it does not step over by itself. */
  private scratch: Instr | undefined = undefined;

  /**
   * Moves `pos` past the instruction there and returns its code, stepping over the common
   * immediates without decoding them: a scan for opcodes (`compile/body-scan.ts`) over
   * a module the host's engine has validated (SQLite's 1 MB of code, warm: 10 ms, where
   * `read` takes 15-20). A LEB128 is not checked for its length here; anything else
   * malformed throws as `read` does.
   */
  skipInstruction(): number {
    const bytes = this.bytes;
    const start = this.pos;
    if (start >= this.end) this.eof();
    const byte = bytes[start]!;
    if (byte === 0xfc || byte === 0xfd) return this.skipByReading(start);
    let p = start + 1;
    switch (IMM_BY_CODE[byte]) {
      case Imm.none:
        break;
      case Imm.index: case Imm.i32: case Imm.i64: case Imm.memIndex:
        p = skipLeb(bytes, p);
        break;
      case Imm.callIndirect:
        p = skipLeb(bytes, skipLeb(bytes, p));
        break;
      case Imm.memArg: {
        // The flags, a memory index when their bit 6 says one follows, the offset.
        const flags = bytes[p]!;
        if (flags >= MEM_INDEX_FLAG) return this.skipByReading(start);
        p = skipLeb(bytes, p + 1);
        break;
      }
      case Imm.blockType: {
        // The empty type or one value type (its byte says so: 0x40, 0x6f..0x7f); a type index or a typed reference is read.
        const t = bytes[p]!;
        if (t !== 0x40 && (t < 0x6f || t > 0x7f)) return this.skipByReading(start);
        p += 1;
        break;
      }
      case Imm.f32:
        p += 4;
        break;
      case Imm.f64:
        p += 8;
        break;
      default:
        return this.skipByReading(start);
    }
    if (p > this.end) { this.pos = this.end; this.eof(); }
    this.pos = p;
    return byte;
  }

  private skipByReading(start: number): number {
    this.pos = start;
    this.scratch ??= createInstr();
    this.read(this.scratch);
    return this.scratch.op;
  }

  /** Decodes the instruction at `pos` into `instr` and moves `pos` past it. */
  read(instr: Instr): void {
    const bytes = this.bytes;
    const start = this.pos;
    if (start >= this.end) this.eof();
    let code = bytes[start]!;
    this.pos = start + 1;
    if (code === 0xfc) {
      const sub = this.u32();
      if (sub >= 0x100 || IMM_BY_CODE[PREFIX_FC + sub]! < 0) {
        throw new DecodeError(`illegal opcode ${hex(code)} ${hex(sub)}`, start);
      }
      code = PREFIX_FC + sub;
    } else if (code === 0xfd) {
      const sub = this.u32();
      if (sub >= 0x200 || IMM_BY_CODE[PREFIX_FD + sub]! < 0) {
        throw new DecodeError(`illegal opcode ${hex(code)} ${hex(sub)}`, start);
      }
      code = PREFIX_FD + sub;
    }
    const imm = IMM_BY_CODE[code]!;
    instr.op = code;
    instr.offset = start;
    instr.a = 0;
    instr.b = 0;
    instr.c = 0;
    switch (imm) {
      case Imm.none:
        return;
      case Imm.index:
        instr.a = this.u32();
        return;
      case Imm.i32:
        instr.a = this.s32();
        return;
      case Imm.memArg:
        this.memArg(instr);
        return;
      case Imm.blockType:
        instr.a = this.blockType();
        return;
      case Imm.i64:
        instr.a = this.s64();
        instr.b = this.hi;
        return;
      case Imm.f32:
        instr.a = this.u32le();
        return;
      case Imm.f64:
        instr.a = this.u32le();
        instr.b = this.u32le();
        return;
      case Imm.brTable: {
        const n = this.u32();
        const targets = instr.targets;
        // A hostile count cannot grow the array past the code size: each label reads a byte.
        for (let i = 0; i < n; i++) targets[i] = this.u32();
        instr.a = n;
        instr.b = this.u32();
        return;
      }
      case Imm.callIndirect:
        instr.a = this.u32();
        instr.b = this.u32();
        return;
      case Imm.selectTypes: {
        const n = this.u32();
        const types = instr.types;
        for (let i = 0; i < n; i++) types[i] = readValType(this);
        instr.a = n;
        return;
      }
      case Imm.refType:
        // `ref.null ht`: a heap type (Wasm 3.0: a type index too), kept as its nullable reference type.
        instr.a = refType(readHeapType(this), true);
        return;
      case Imm.memIndex:
        instr.a = this.u32();
        return;
      case Imm.dataMem:
        instr.a = this.u32();
        instr.b = this.u32();
        return;
      case Imm.memMem:
        instr.a = this.u32();
        instr.b = this.u32();
        return;
      case Imm.twoIndices:
        instr.a = this.u32();
        instr.b = this.u32();
        return;
      case Imm.v128:
      case Imm.shuffle: {
        const p = this.pos;
        if (p + 16 > this.end) { this.pos = this.end; this.eof(); }
        const out = instr.bytes;
        for (let i = 0; i < 16; i++) out[i] = bytes[p + i]!;
        this.pos = p + 16;
        return;
      }
      case Imm.lane:
        instr.a = this.u8();
        return;
      case Imm.memArgLane:
        this.memArg(instr);
        instr.c = this.u8();
        return;
      case Imm.tryTable: {
        instr.a = this.blockType();
        const n = this.u32();
        const targets = instr.targets;
        // As br_table: each clause reads at least two bytes, so a hostile count stops at the code's end.
        for (let i = 0; i < n; i++) {
          const p = this.pos;
          const kind = this.u8();
          if (kind > 3) throw new DecodeError('malformed catch clause', p);
          targets[3 * i] = kind;
          targets[3 * i + 1] = kind < 2 ? this.u32() : 0;
          targets[3 * i + 2] = this.u32();
        }
        instr.b = n;
        return;
      }
      default:
        throw new DecodeError(`illegal opcode ${hex(code)}`, start);
    }
  }

  /**
   * Alignment exponent into `a`, offset into `b` (a u64 as a number, see `ByteReader.u64`),
   * memory index into `mem`: flag bit 6
   * says a memory index follows the flags (Wasm 3.0 multi-memory), else it is 0.
   */
  private memArg(instr: Instr): void {
    const p = this.pos;
    let align = this.u32();
    instr.mem = 0;
    if (align >= MEM_INDEX_FLAG && align < 2 * MEM_INDEX_FLAG) {
      align -= MEM_INDEX_FLAG;
      instr.mem = this.u32();
    }
    // Wasm 3.0: flags from 128 up are malformed; an alignment of 32 to 63 is only invalid (validation says so).
    else if (align >= 2 * MEM_INDEX_FLAG) throw new DecodeError('malformed memop flags', p);
    instr.a = align;
    // A u64 (memory64); validation bounds it to u32 for a 32-bit memory.
    instr.b = this.u64();
  }

  /**
   * Block type as the s33 of `Imm.blockType`: one byte 0x40 (-64) or a value type
   * (-1..-17), else a non-negative type index; a typed reference (Wasm 3.0), which the
   * s33 cannot hold, is its packed value type negated (below -0x1000, see `blockTypeOf`).
   */
  private blockType(): number {
    const p = this.pos;
    if (p >= this.end) this.eof();
    const byte = this.bytes[p]!;
    if ((byte & 0xc0) === 0x40) {
      if (byte !== 0x40 && !isValTypeByte(byte)) return -readValType(this);
      this.pos = p + 1;
      return byte - 0x80;
    }
    const index = this.s33();
    if (index < 0) throw new DecodeError('malformed block type', p);
    return index;
  }
}
