import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeModule, MAX_LOCALS } from '../../src/binary/index.ts';
import { DecodeError } from '../../src/errors/index.ts';
import { ValType } from '../../src/wasm/types.ts';
import type { ConstExpr } from '../../src/wasm/types.ts';
import { constExpr, header, ModuleBuilder, name, section, u32, vec } from '../helpers/module-builder.ts';

const { i32, i64, f32, f64, v128, funcref, externref } = ValType;

function bin(...parts: number[][]): Uint8Array {
  return new Uint8Array([...header(), ...parts.flat()]);
}

function throwsDecode(bytes: Uint8Array, text: string, offset?: number): void {
  try {
    decodeModule(bytes);
  } catch (e) {
    assert.instance(e, DecodeError);
    const err = e as DecodeError;
    assert.ok(err.message.startsWith(text), `"${err.message}" should start with "${text}"`);
    if (offset !== undefined) assert.is(err.offset, offset, `offset of "${err.message}"`);
    return;
  }
  assert.unreachable(`expected DecodeError "${text}"`);
}

/** The ops and first immediates of a constant expression. */
function ops(e: ConstExpr): [number, number][] {
  return e.instrs.map((i) => [i.op, i.a]);
}

test('the empty module', () => {
  const m = decodeModule(bin());
  assert.equal(m.types, []);
  assert.equal(m.funcs, []);
  assert.is(m.start, undefined);
  assert.is(m.dataCount, undefined);
  assert.is(m.names.module, undefined);
  assert.is(m.numImportedFuncs, 0);
});

test('types, imports and index spaces', () => {
  const b = new ModuleBuilder();
  const t0 = b.type([i32, i64], [f32]);
  const t1 = b.type([], []);
  assert.is(b.type([i32, i64], [f32]), t0);
  b.importFunc('env', 'f', t1);
  b.importTable('env', 't', externref, 1, 10);
  b.importMemory('env', 'm', 2);
  b.importGlobal('env', 'g', f64, true);
  b.importFunc('env', 'h', t0);
  const m = decodeModule(b.build());
  assert.equal(m.types, [{ params: [i32, i64], results: [f32] }, { params: [], results: [] }]);
  assert.is(m.imports.length, 5);
  assert.equal(m.imports[0], { module: 'env', name: 'f', desc: { kind: 'func', typeIndex: 1 } });
  assert.equal(m.imports[1]!.desc, { kind: 'table', type: { elemType: externref, limits: { min: 1, max: 10 } } });
  assert.equal(m.imports[2]!.desc, { kind: 'memory', type: { limits: { min: 2, max: undefined }, shared: false } });
  assert.equal(m.imports[3]!.desc, { kind: 'global', type: { type: f64, mutable: true } });
  assert.is(m.numImportedFuncs, 2);
  assert.is(m.numImportedTables, 1);
  assert.is(m.numImportedMemories, 1);
  assert.is(m.numImportedGlobals, 1);
});

test('functions, tables, memories, globals, exports, start', () => {
  const b = new ModuleBuilder();
  const t = b.type([], [i32]);
  const f = b.func(t, [0x41, 0x2a, 0x0b], [i32, i32, i64, v128]);
  b.table(funcref, 0);
  b.table(externref, 3, 0xffffffff);
  b.memory(1, 65536);
  b.global(i32, false, constExpr.i32(-5));
  b.global(i64, true, constExpr.i64(-(1n << 40n)));
  b.global(funcref, false, constExpr.refFunc(0));
  b.global(f32, false, constExpr.f32(2.5));
  b.export('f', 'func', f).export('mem', 'memory', 0).export('g', 'global', 1).export('tab', 'table', 1);
  b.start(f);
  const bytes = b.build();
  const m = decodeModule(bytes);
  assert.equal(m.funcs, [0]);
  assert.equal(m.tables, [
    { elemType: funcref, limits: { min: 0, max: undefined } },
    { elemType: externref, limits: { min: 3, max: 0xffffffff } },
  ]);
  assert.equal(m.memories, [{ limits: { min: 1, max: 65536 }, shared: false }]);
  assert.equal(m.globals.map((g) => g.type), [
    { type: i32, mutable: false }, { type: i64, mutable: true }, { type: funcref, mutable: false }, { type: f32, mutable: false },
  ]);
  assert.equal(ops(m.globals[0]!.init), [[0x41, -5]]);
  const big = m.globals[1]!.init.instrs[0]!;
  assert.equal([big.op, big.a, big.b], [0x42, 0, -256]); // -(2^40): low half 0, high half -256
  assert.equal(ops(m.globals[2]!.init), [[0xd2, 0]]);
  assert.equal(ops(m.globals[3]!.init), [[0x43, 0x40200000]]);
  const init0 = m.globals[0]!.init;
  assert.is(bytes[init0.offset], 0x41);
  assert.is(init0.instrs[0]!.offset, init0.offset);
  assert.equal(m.exports, [
    { name: 'f', kind: 'func', index: 0 }, { name: 'mem', kind: 'memory', index: 0 },
    { name: 'g', kind: 'global', index: 1 }, { name: 'tab', kind: 'table', index: 1 },
  ]);
  assert.is(m.start, 0);
  const body = m.codes[0]!;
  assert.equal(body.locals, [i32, i32, i64, v128]);
  assert.equal([...bytes.subarray(body.codeStart, body.codeEnd)], [0x41, 0x2a, 0x0b]);
  assert.is(body.codeEnd, bytes.length); // the code section is the last one here
  assert.is(bytes[body.bodyOffset], 10); // the size: locals (1 + 3 groups * 2 bytes) + 3 bytes of code
});

test('v128.const in a global initialiser keeps its bytes', () => {
  const value = Array.from({ length: 16 }, (_, i) => i + 1);
  const b = new ModuleBuilder();
  b.global(v128, false, [0xfd, 0x0c, ...value, 0x0b]);
  const m = decodeModule(b.build());
  const instr = m.globals[0]!.init.instrs[0]!;
  assert.is(instr.op, 0x200 + 12);
  assert.equal([...instr.bytes!], value);
});

test('constant expressions keep every instruction up to their end', () => {
  const b = new ModuleBuilder();
  b.global(i32, false, [0x23, 0x00, 0x41, 0x01, 0x6a, 0x0b]); // global.get 0, i32.const 1, i32.add
  b.global(i32, false, [0x02, 0x40, 0x0b, 0x41, 0x00, 0x0b]); // a nested block's end does not end it
  const m = decodeModule(b.build());
  assert.equal(ops(m.globals[0]!.init), [[0x23, 0], [0x41, 1], [0x6a, 0]]);
  assert.equal(ops(m.globals[1]!.init), [[0x02, -64], [0x0b, 0], [0x41, 0]]);
});

test('element segments: all eight encodings', () => {
  const offset = constExpr.i32(4);
  const items = [constExpr.refFunc(1), constExpr.refNull(funcref)];
  const segs: [flags: number, bytes: number[]][] = [
    [0, [0x00, ...offset, ...vec([[0x01], [0x00]])]],
    [1, [0x01, 0x00, ...vec([[0x01]])]],
    [2, [0x02, 0x01, ...offset, 0x00, ...vec([[0x00]])]],
    [3, [0x03, 0x00, ...vec([[0x01]])]],
    [4, [0x04, ...offset, ...vec(items)]],
    [5, [0x05, externref, ...vec([constExpr.refNull(externref)])]],
    [6, [0x06, 0x01, ...offset, funcref, ...vec(items)]],
    [7, [0x07, funcref, ...vec(items)]],
  ];
  const bytes = bin(section(9, vec(segs.map(([, s]) => s))));
  const m = decodeModule(bytes);
  assert.is(m.elems.length, 8);
  const [e0, e1, e2, e3, e4, e5, e6, e7] = m.elems;
  assert.equal(e0!.mode.kind, 'active');
  assert.is(e0!.type, funcref);
  if (e0!.mode.kind === 'active') {
    assert.is(e0!.mode.tableIndex, 0);
    assert.equal(ops(e0!.mode.offset), [[0x41, 4]]);
  }
  assert.equal(e0!.items.map(ops), [[[0xd2, 1]], [[0xd2, 0]]]);
  assert.is(bytes[e0!.items[0]!.offset], 0x01); // an index item points at its index
  assert.equal([e1!.mode.kind, e1!.type], ['passive', funcref]);
  assert.equal(e1!.items.map(ops), [[[0xd2, 1]]]);
  assert.equal(e2!.mode.kind === 'active' && e2!.mode.tableIndex, 1);
  assert.equal(e2!.items.map(ops), [[[0xd2, 0]]]);
  assert.equal([e3!.mode.kind, e3!.type], ['declarative', funcref]);
  assert.equal([e4!.mode.kind, e4!.type], ['active', funcref]);
  assert.equal(e4!.items.map(ops), [[[0xd2, 1]], [[0xd0, funcref]]]);
  assert.equal([e5!.mode.kind, e5!.type], ['passive', externref]);
  assert.equal(e6!.mode.kind === 'active' && e6!.mode.tableIndex, 1);
  assert.equal([e7!.mode.kind, e7!.type, e7!.items.length], ['declarative', funcref, 2]);
});

test('element segments: malformed kinds', () => {
  throwsDecode(bin(section(9, [0x01, 0x08])), 'malformed elements segment kind', 11);
  throwsDecode(bin(section(9, [0x01, 0x01, 0x01, 0x00])), 'malformed element kind', 12);
  throwsDecode(bin(section(9, [0x01, 0x05, 0x7f, 0x00])), 'malformed reference type', 12);
});

test('data segments: the three encodings are views into the module', () => {
  const b = new ModuleBuilder();
  b.memory(1);
  b.data({ mode: 'active', offset: constExpr.i32(16), bytes: [1, 2, 3] });
  b.data({ mode: 'passive', bytes: [4, 5] });
  b.data({ mode: 'active', memory: 1, offset: constExpr.globalGet(0), bytes: [] });
  b.dataCount();
  const bytes = b.build();
  const m = decodeModule(bytes);
  assert.is(m.dataCount, 3);
  assert.equal(m.datas.map((d) => [...d.bytes]), [[1, 2, 3], [4, 5], []]);
  assert.is(m.datas[0]!.bytes.buffer, bytes.buffer); // a view, not a copy
  const [d0, d1, d2] = m.datas;
  assert.ok(d0!.mode.kind === 'active' && d0!.mode.memoryIndex === 0);
  if (d0!.mode.kind === 'active') assert.equal(ops(d0!.mode.offset), [[0x41, 16]]);
  assert.is(d1!.mode.kind, 'passive');
  assert.ok(d2!.mode.kind === 'active' && d2!.mode.memoryIndex === 1);
  throwsDecode(bin(section(11, [0x01, 0x03, 0x00])), 'malformed data segment kind', 11);
});

test('custom sections are kept, anywhere', () => {
  const bytes = bin(
    section(0, [...name('first'), 0xaa]),
    section(1, [0x00]),
    section(0, [...name('second')]),
  );
  const m = decodeModule(bytes);
  assert.equal(m.customs.map((c) => [c.name, [...c.bytes]]), [['first', [0xaa]], ['second', []]]);
  assert.is(bytes[m.customs[0]!.offset], 0xaa);
});

test('memory flags: shared memories are decoded for the validator to reject', () => {
  const m = decodeModule(bin(section(5, [0x01, 0x03, 0x01, 0x02])));
  assert.equal(m.memories, [{ limits: { min: 1, max: 2 }, shared: true }]);
  throwsDecode(bin(section(5, [0x01, 0x02, 0x01])), 'integer too large', 11);
  throwsDecode(bin(section(5, [0x01, 0x81, 0x00, 0x01])), 'integer representation too long', 12);
  throwsDecode(bin(section(4, [0x01, 0x70, 0x02, 0x01])), 'integer too large', 12);
});

test('locals: limits', () => {
  const fn = (locals: number[]) => bin(
    section(1, [0x01, 0x60, 0x00, 0x00]),
    section(3, [0x01, 0x00]),
    section(10, vec([[...u32(locals.length + 1), ...locals, 0x0b]])),
  );
  const ok = decodeModule(fn([0x01, ...u32(MAX_LOCALS), i32]));
  assert.is(ok.codes[0]!.locals.length, MAX_LOCALS);
  throwsDecode(fn([0x01, ...u32(MAX_LOCALS + 1), i32]), 'too many locals');
  throwsDecode(fn([0x02, ...u32(0xffffffff), i32, 0x02, i64]), 'too many locals');
  throwsDecode(fn([0x01, 0x80, 0x80, 0x80, 0x80, 0x10, i32]), 'integer too large');
  throwsDecode(fn([0x01, 0x01, 0x40]), 'malformed value type');
});

// Malformed modules: [name, bytes, expected message prefix, offset].
const malformed: [string, Uint8Array, string, number | undefined][] = [
  ['empty', new Uint8Array([]), 'unexpected end', 0],
  ['short magic', new Uint8Array([0x00, 0x61]), 'unexpected end', 2],
  ['bad magic', new Uint8Array([0x00, 0x41, 0x53, 0x4d, 1, 0, 0, 0]), 'magic header not detected', 0],
  ['short version', new Uint8Array([0x00, 0x61, 0x73, 0x6d, 1]), 'unexpected end', 5],
  ['bad version', new Uint8Array([0x00, 0x61, 0x73, 0x6d, 2, 0, 0, 0]), 'unknown binary version', 4],
  ['section id 14', bin([0x0e, 0x00]), 'malformed section id', 8], // 13 is the tag section (Wasm 3.0)
  ['duplicate section', bin(section(1, [0x00]), section(1, [0x00])), 'unexpected content after last section', 11],
  ['out of order', bin(section(3, [0x00]), section(2, [0x00])), 'unexpected content after last section', 11],
  ['data count after code', bin(section(10, [0x00]), section(12, [0x00])), 'unexpected content after last section', 11],
  ['size past the end', bin([0x01, 0x05, 0x00]), 'length out of bounds', 9],
  ['size too big by one', bin([0x01, 0x03, 0x01, 0x60]), 'unexpected end', undefined],
  ['content shorter than size', bin(section(1, [0x00, 0x00])), 'section size mismatch', 10],
  ['vector longer than content', bin([0x06, 0x01, 0x01]), 'unexpected end', 11],
  ['func without code', bin(section(1, [0x01, 0x60, 0x00, 0x00]), section(3, [0x01, 0x00])), 'function and code section have inconsistent lengths', 18],
  ['data count mismatch', bin(section(12, [0x01])), 'data count and data section have inconsistent lengths', 11],
  ['bad function type', bin(section(1, [0x01, 0x61, 0x00, 0x00])), 'malformed function type', 11],
  ['bad value type', bin(section(1, [0x01, 0x60, 0x01, 0x7a, 0x00])), 'malformed value type', 13],
  ['bad import kind', bin(section(2, [0x01, 0x00, 0x00, 0x05, 0x00])), 'malformed import kind', 13], // 4 is a tag
  ['bad export kind', bin(section(7, [0x01, 0x00, 0x05, 0x00])), 'malformed export kind', 12], // 4 is a tag
  ['bad mutability', bin(section(6, [0x01, 0x7f, 0x02, 0x41, 0x00, 0x0b])), 'malformed mutability', 12],
  ['bad UTF-8 import name', bin(section(2, [0x01, 0x01, 0xff, 0x00, 0x00, 0x00])), 'malformed UTF-8 encoding', 11],
  ['bad UTF-8 custom name', bin(section(0, [0x02, 0xc0, 0x80])), 'malformed UTF-8 encoding', 10],
  ['custom name past its size', bin([0x00, 0x01, 0x02, 0x61, 0x62]), 'unexpected end', undefined],
  ['custom name past the module', bin([0x00, 0x01, 0x05], [0x61]), 'length out of bounds', 10],
  ['illegal opcode in an initialiser', bin(section(6, [0x01, 0x7f, 0x00, 0x41, 0x00, 0x17])), 'illegal opcode', 15], // 0x0a became throw_ref
];

test('malformed modules', () => {
  for (const [what, bytes, text, offset] of malformed) {
    try {
      decodeModule(bytes);
    } catch (e) {
      assert.instance(e, DecodeError, what);
      const err = e as DecodeError;
      assert.ok(err.message.startsWith(text), `${what}: "${err.message}" should start with "${text}"`);
      if (offset !== undefined) assert.is(err.offset, offset, `${what}: offset`);
      continue;
    }
    assert.unreachable(`${what}: expected "${text}"`);
  }
});

test('function bodies without their final end', () => {
  const types = section(1, [0x01, 0x60, 0x00, 0x00]);
  const twoFuncs = section(3, [0x02, 0x00, 0x00]);
  const oneFunc = section(3, [0x01, 0x00]);
  // Between two functions, at the end of the module, and before a section starting with 0x0b.
  // (The second body's size, 5, reads as `else` when decoding runs on past the first.)
  throwsDecode(bin(types, twoFuncs, section(10, [0x02, 0x04, 0x00, 0x41, 0x01, 0x1a, 0x05, 0x00, 0x41, 0x01, 0x1a, 0x0b])), 'END opcode expected');
  throwsDecode(bin(types, oneFunc, section(10, [0x01, 0x03, 0x00, 0x41, 0x01])), 'unexpected end');
  throwsDecode(bin(types, oneFunc, section(10, [0x01, 0x03, 0x00, 0x41, 0x01]), section(11, [0x00])), 'section size mismatch');
  throwsDecode(bin(types, oneFunc, section(10, [0x01, 0x01, 0x00])), 'unexpected end');
  // A decoding error inside the body wins, as in the reference interpreter.
  throwsDecode(bin(types, oneFunc, section(10, [0x01, 0x03, 0x00, 0x41, 0x80]), [0x80, 0x80, 0x80, 0x80, 0x00]), 'integer representation too long');
});

test.run();
