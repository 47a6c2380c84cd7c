import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createInstr, InstructionReader } from '../../src/binary/index.ts';
import type { Instr } from '../../src/binary/index.ts';
import { DecodeError } from '../../src/errors/index.ts';
import { Imm, Op, OPS, PREFIX_FC, PREFIX_FD } from '../../src/wasm/opcodes.ts';
import { f32, f64, s32, s64, u32 } from '../helpers/module-builder.ts';

/** Reads one instruction from `bytes` placed at offset 3 (so offsets are absolute). */
function readOne(bytes: number[]): { instr: Instr; reader: InstructionReader } {
  const all = new Uint8Array([0xee, 0xee, 0xee, ...bytes, 0xee]);
  const reader = new InstructionReader(all, 3, 3 + bytes.length);
  const instr = createInstr();
  reader.read(instr);
  assert.is(reader.pos, 3 + bytes.length, `instruction ${bytes} fully consumed`);
  assert.is(instr.offset, 3);
  return { instr, reader };
}

function throwsDecode(bytes: number[], text: string, offset: number): void {
  const all = new Uint8Array(bytes);
  const reader = new InstructionReader(all, 0, all.length);
  try {
    reader.read(createInstr());
  } catch (e) {
    assert.instance(e, DecodeError, `for ${bytes}`);
    const err = e as DecodeError;
    assert.ok(err.message.startsWith(text), `"${err.message}" should start with "${text}"`);
    assert.is(err.offset, offset, `offset of "${err.message}"`);
    return;
  }
  assert.unreachable(`expected "${text}" for ${bytes}`);
}

type Case = [name: string, bytes: number[], op: number, a: number, b: number, c: number];

const cases: Case[] = [
  ['nop', [0x01], 0x01, 0, 0, 0],
  ['block empty', [0x02, 0x40], 0x02, -64, 0, 0],
  ['block i32', [0x02, 0x7f], 0x02, -1, 0, 0],
  ['loop f64', [0x03, 0x7c], 0x03, -4, 0, 0],
  ['if v128', [0x04, 0x7b], 0x04, -5, 0, 0],
  ['block funcref', [0x02, 0x70], 0x02, -16, 0, 0],
  ['block externref', [0x02, 0x6f], 0x02, -17, 0, 0],
  ['block type index 3', [0x02, 0x03], 0x02, 3, 0, 0],
  ['block type index 200', [0x02, 0xc8, 0x01], 0x02, 200, 0, 0],
  ['br 2', [0x0c, 0x02], 0x0c, 2, 0, 0],
  ['call 300', [0x10, ...u32(300)], 0x10, 300, 0, 0],
  ['call_indirect type 5 table 1', [0x11, 0x05, 0x01], 0x11, 5, 1, 0],
  ['local.get 0xffffffff', [0x20, ...u32(0xffffffff)], 0x20, 0xffffffff, 0, 0],
  ['i32.load align 2 offset 0x10000', [0x28, 0x02, ...u32(0x10000)], 0x28, 2, 0x10000, 0],
  ['i64.store offset 2^32-1', [0x37, 0x03, ...u32(0xffffffff)], 0x37, 3, 0xffffffff, 0],
  ['memory.size', [0x3f, 0x00], 0x3f, 0, 0, 0],
  ['memory.grow', [0x40, 0x00], 0x40, 0, 0, 0],
  ['i32.const -1', [0x41, ...s32(-1)], 0x41, -1, 0, 0],
  ['i32.const min', [0x41, ...s32(-0x80000000)], 0x41, -0x80000000, 0, 0],
  ['i64.const -2', [0x42, ...s64(-2n)], 0x42, -2, -1, 0],
  ['i64.const 2^32', [0x42, ...s64(0x100000000n)], 0x42, 0, 1, 0],
  ['i64.const max', [0x42, ...s64(0x7fffffffffffffffn)], 0x42, -1, 0x7fffffff, 0],
  ['f32.const 1.5', [0x43, ...f32(1.5)], 0x43, 0x3fc00000, 0, 0],
  ['f32.const -0', [0x43, ...f32(-0)], 0x43, -0x80000000, 0, 0],
  ['f64.const 1.0', [0x44, ...f64(1)], 0x44, 0, 0x3ff00000, 0],
  ['f64.const nan payload', [0x44, 0x01, 0, 0, 0, 0, 0, 0xf8, 0x7f], 0x44, 1, 0x7ff80000, 0],
  ['i32.add', [0x6a], 0x6a, 0, 0, 0],
  ['ref.null externref', [0xd0, 0x6f], 0xd0, 0x6f, 0, 0],
  ['ref.func 7', [0xd2, 0x07], 0xd2, 7, 0, 0],
  ['i32.trunc_sat_f32_s', [0xfc, 0x00], PREFIX_FC + 0, 0, 0, 0],
  ['memory.init 4', [0xfc, 0x08, 0x04, 0x00], PREFIX_FC + 8, 4, 0, 0],
  ['memory.init, long sub-opcode', [0xfc, 0x88, 0x00, 0x04, 0x00], PREFIX_FC + 8, 4, 0, 0],
  ['data.drop 2', [0xfc, 0x09, 0x02], PREFIX_FC + 9, 2, 0, 0],
  ['memory.copy', [0xfc, 0x0a, 0x00, 0x00], PREFIX_FC + 10, 0, 0, 0],
  ['memory.fill', [0xfc, 0x0b, 0x00], PREFIX_FC + 11, 0, 0, 0],
  ['table.init elem 3 table 1', [0xfc, 0x0c, 0x03, 0x01], PREFIX_FC + 12, 3, 1, 0],
  ['table.copy dst 1 src 2', [0xfc, 0x0e, 0x01, 0x02], PREFIX_FC + 14, 1, 2, 0],
  ['table.fill 1', [0xfc, 0x11, 0x01], PREFIX_FC + 17, 1, 0, 0],
  ['v128.load align 4 offset 16', [0xfd, 0x00, 0x04, 0x10], PREFIX_FD + 0, 4, 16, 0],
  ['i8x16.extract_lane_s 15', [0xfd, 0x15, 0x0f], PREFIX_FD + 0x15, 15, 0, 0],
  ['v128.load8_lane', [0xfd, 0x54, 0x00, 0x08, 0x0c], PREFIX_FD + 0x54, 0, 8, 12],
  ['v128.load64_zero', [0xfd, 0x5d, 0x03, 0x00], PREFIX_FD + 0x5d, 3, 0, 0],
  ['i16x8.avgr_u (two-byte sub-opcode)', [0xfd, 0x9b, 0x01], PREFIX_FD + 0x9b, 0, 0, 0],
  ['f64x2.convert_low_i32x4_u', [0xfd, 0xff, 0x01], PREFIX_FD + 0xff, 0, 0, 0],
  ['i8x16.relaxed_swizzle (relaxed SIMD, Wasm 3.0)', [0xfd, 0x80, 0x02], PREFIX_FD + 0x100, 0, 0, 0],
  ['i32x4.relaxed_dot_i8x16_i7x16_add_s', [0xfd, 0x93, 0x02], PREFIX_FD + 0x113, 0, 0, 0],
];

test('immediates of each kind', () => {
  for (const [name, bytes, op, a, b, c] of cases) {
    const { instr } = readOne(bytes);
    assert.is(instr.op, op, `${name}: op`);
    assert.is(instr.a, a, `${name}: a`);
    assert.is(instr.b, b, `${name}: b`);
    assert.is(instr.c, c, `${name}: c`);
  }
});

test('br_table reuses its targets array', () => {
  const instr = createInstr();
  const targets = instr.targets;
  const bytes = new Uint8Array([0x0e, 0x03, 0x00, 0x01, 0x80, 0x01, 0x05, 0x0e, 0x00, 0x07]);
  const r = new InstructionReader(bytes, 0, bytes.length);
  r.read(instr);
  assert.is(instr.a, 3);
  assert.equal(instr.targets.slice(0, 3), [0, 1, 128]);
  assert.is(instr.b, 5);
  r.read(instr);
  assert.is(instr.a, 0);
  assert.is(instr.b, 7);
  assert.is(instr.targets, targets);
  assert.is(r.pos, bytes.length);
});

test('typed select lists its types', () => {
  const { instr } = readOne([0x1c, 0x02, 0x7f, 0x6f]);
  assert.is(instr.op, Op['select_t']!);
  assert.is(instr.a, 2);
  assert.equal(instr.types.slice(0, 2), [0x7f, 0x6f]);
});

test('v128.const and i8x16.shuffle fill bytes', () => {
  const value = Array.from({ length: 16 }, (_, i) => 0xf0 + i);
  const { instr } = readOne([0xfd, 0x0c, ...value]);
  assert.is(instr.op, PREFIX_FD + 12);
  assert.equal([...instr.bytes], value);
  const lanes = Array.from({ length: 16 }, (_, i) => 31 - i);
  const shuffle = readOne([0xfd, 0x0d, ...lanes]).instr;
  assert.is(shuffle.op, PREFIX_FD + 13);
  assert.equal([...shuffle.bytes], lanes);
});

test('every opcode in the table is accepted', () => {
  for (const info of OPS) {
    if (info === undefined) continue;
    const code = info.code;
    const prefix = code >= PREFIX_FD ? [0xfd, ...u32(code - PREFIX_FD)] : code >= PREFIX_FC ? [0xfc, ...u32(code - PREFIX_FC)] : [code];
    // Enough zero bytes for any immediate; a br_table with 0 labels, select with 0 types.
    const first = info.imm === Imm.blockType ? 0x40 : info.imm === Imm.refType ? 0x70 : 0x00;
    const bytes = new Uint8Array([...prefix, first, ...new Array<number>(20).fill(0)]);
    const r = new InstructionReader(bytes, 0, bytes.length);
    const instr = createInstr();
    r.read(instr);
    assert.is(instr.op, code, info.name);
  }
});

test('Wasm 3.0 multi-memory immediates: memory indices after memory instructions and in memargs', () => {
  const cases: [name: string, bytes: number[], a: number, b: number, mem: number][] = [
    ['memory.size 1', [0x3f, 0x01], 1, 0, 0],
    ['memory.grow, a long zero', [0x40, 0x80, 0x00], 0, 0, 0],
    ['memory.init 4 into memory 1', [0xfc, 0x08, 0x04, 0x01], 4, 1, 0],
    ['memory.copy into 0 from 1', [0xfc, 0x0a, 0x00, 0x01], 0, 1, 0],
    ['memory.fill 2', [0xfc, 0x0b, 0x02], 2, 0, 0],
    ['i32.load memory 1 align 2 offset 16', [0x28, 0x42, 0x01, 0x10], 2, 16, 1],
    ['i32.load align 2^32 (invalid, not malformed)', [0x28, 0x20, 0x00], 32, 0, 0],
    ['v128.load memory 300', [0xfd, 0x00, 0x44, ...u32(300), 0x00], 4, 0, 300],
  ];
  for (const [what, bytes, a, b, mem] of cases) {
    const all = new Uint8Array(bytes);
    const instr = createInstr();
    new InstructionReader(all, 0, all.length).read(instr);
    assert.equal([instr.a, instr.b, instr.mem], [a, b, mem], what);
  }
});

test('malformed instructions', () => {
  const bad: [bytes: number[], text: string, offset: number][] = [
    [[0x17], 'illegal opcode', 0], // 0x06 became the legacy try
    [[0x27], 'illegal opcode', 0],
    [[0xff], 'illegal opcode', 0],
    [[0xfc, 0x12], 'illegal opcode', 0],
    [[0xfc, 0x80, 0x02], 'illegal opcode', 0], // 0x100 after 0xFC
    [[0xfd, 0x9a, 0x01], 'illegal opcode', 0], // a gap in the SIMD opcodes
    [[0xfd, 0x80, 0x80, 0x04], 'illegal opcode', 0],
    [[0xfd, 0x94, 0x02], 'illegal opcode', 0], // 0x114, past the last relaxed SIMD opcode (the bf16 dot product is not in Wasm 3.0)
    [[0x28, 0x80, 0x01, 0x00], 'malformed memop flags', 1], // flags 128: neither an alignment nor a memory index
    [[0xfd, 0x00, 0x80, 0x02, 0x00], 'malformed memop flags', 2],
    [[0x28, 0x41, 0x00], 'unexpected end', 3], // the memory index bit, then no offset
    [[0x02, 0x7a], 'malformed value type', 1],
    [[0x02, 0xff, 0x7f], 'malformed block type', 1], // -1 in two bytes: no such type index
    [[0x1c, 0x01, 0x40], 'malformed value type', 2],
    [[0xd0, 0x7f], 'malformed reference type', 1],
    [[0x41, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00], 'integer representation too long', 6],
    [[0x42, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02], 'integer too large', 10],
    [[0x44, 0x00, 0x00, 0x00], 'unexpected end', 4],
    [[0x0e, 0x02, 0x00], 'unexpected end', 3],
    [[0xfd, 0x0c, 0x01, 0x02], 'unexpected end', 4],
    [[0x10], 'unexpected end', 1],
    [[0xfc], 'unexpected end', 1],
  ];
  for (const [bytes, text, offset] of bad) throwsDecode(bytes, text, offset);
});

test('stops at its end bound, not at the end of the bytes', () => {
  const bytes = new Uint8Array([0x41, 0x05, 0x0b, 0x41, 0x06]);
  const r = new InstructionReader(bytes, 0, 2);
  const instr = createInstr();
  r.read(instr);
  assert.is(instr.a, 5);
  try {
    r.read(instr);
    assert.unreachable('read past end');
  } catch (e) {
    assert.instance(e, DecodeError);
    assert.is((e as DecodeError).offset, 2);
  }
  // An immediate cut by the bound.
  const cut = new InstructionReader(bytes, 3, 4);
  try {
    cut.read(instr);
    assert.unreachable('immediate past end');
  } catch (e) {
    assert.instance(e, DecodeError);
  }
});

test('skipInstruction steps over each instruction as read does, and returns its code', () => {
  for (const [name, bytes, op] of cases) {
    const all = new Uint8Array([0xee, 0xee, 0xee, ...bytes, 0xee]);
    const reader = new InstructionReader(all, 3, 3 + bytes.length);
    assert.is(reader.skipInstruction(), op, name);
    assert.is(reader.pos, 3 + bytes.length, `${name}: fully stepped over`);
  }
  // A memarg with a memory index, a typed select, a br_table: the kinds it reads rather than steps over.
  for (const bytes of [[0x28, 0x42, 0x01, 0x10], [0x1c, 0x01, 0x7f], [0x0e, 0x02, 0x00, 0x01, 0x02]]) {
    const reader = new InstructionReader(new Uint8Array(bytes), 0, bytes.length);
    assert.is(reader.skipInstruction(), bytes[0]);
    assert.is(reader.pos, bytes.length);
  }
});

test('skipInstruction stops at its end bound: an immediate cut by it throws', () => {
  // i32.const with its LEB cut; f64.const with 4 of its 8 bytes; a memarg cut after the flags.
  for (const bytes of [[0x41, 0x85], [0x44, 0, 0, 0, 0], [0x28, 0x02]]) {
    const reader = new InstructionReader(new Uint8Array([...bytes, 0x80, 0x80, 0x01, 0, 0, 0, 0]), 0, bytes.length);
    assert.throws(() => reader.skipInstruction(), (e: unknown) => e instanceof DecodeError, `${bytes}`);
  }
  const empty = new InstructionReader(new Uint8Array([0x01]), 1, 1);
  assert.throws(() => empty.skipInstruction(), (e: unknown) => e instanceof DecodeError);
});

test('unused immediates are reset to 0', () => {
  const bytes = new Uint8Array([0x11, 0x05, 0x01, 0x6a]);
  const r = new InstructionReader(bytes, 0, bytes.length);
  const instr = createInstr();
  r.read(instr);
  r.read(instr);
  assert.is(instr.op, 0x6a);
  assert.is(instr.a, 0);
  assert.is(instr.b, 0);
});

test.run();
