// The test module builder must emit binaries that a real engine accepts, and that our
// decoder reads back as built.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeModule } from '../../src/binary/index.ts';
import { ValType } from '../../src/wasm/types.ts';
import { constExpr, f32, f64, ModuleBuilder, s32, s64, u32 } from '../helpers/module-builder.ts';

const { i32, i64, funcref, externref } = ValType;

test('encoders', () => {
  assert.equal(u32(0), [0]);
  assert.equal(u32(624485), [0xe5, 0x8e, 0x26]);
  assert.equal(u32(0xffffffff), [0xff, 0xff, 0xff, 0xff, 0x0f]);
  assert.equal(s32(-1), [0x7f]);
  assert.equal(s32(64), [0xc0, 0x00]);
  assert.equal(s32(-123456), [0xc0, 0xbb, 0x78]);
  assert.equal(s64(-(1n << 63n)), [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7f]);
  assert.equal(f32(1), [0, 0, 0x80, 0x3f]);
  assert.equal(f64(-2), [0, 0, 0, 0, 0, 0, 0, 0xc0]);
});

function kitchenSink(): Uint8Array {
  const b = new ModuleBuilder();
  const tv = b.type([], []);
  const ti = b.type([i32], [i32]);
  b.importFunc('env', 'log', ti);
  b.importGlobal('env', 'base', i32, false);
  const f = b.func(ti, [0x20, 0x00, 0x10, 0x00, 0x0b], [i64]);
  const g = b.func(tv, [0x41, 0x00, 0x41, 0x00, 0x41, 0x00, 0xfc, 0x08, 0x01, 0x00, 0xfc, 0x09, 0x00, 0x0b]);
  b.table(funcref, 2, 10);
  b.table(externref, 1);
  b.memory(1, 2);
  b.global(i32, true, constExpr.globalGet(0));
  b.global(funcref, false, constExpr.refFunc(f));
  b.export('f', 'func', f).export('mem', 'memory', 0).export('t', 'table', 0);
  b.start(g);
  b.elem({ mode: 'active', offset: constExpr.i32(0), funcs: [f, g] });
  b.elem({ mode: 'active', table: 1, type: externref, offset: constExpr.i32(0), exprs: [constExpr.refNull(externref)] });
  b.elem({ mode: 'passive', exprs: [constExpr.refFunc(g), constExpr.refNull(funcref)] });
  b.elem({ mode: 'declarative', funcs: [f] });
  b.data({ mode: 'active', offset: constExpr.i32(8), bytes: new TextEncoder().encode('hi') });
  b.data({ mode: 'passive', bytes: [1, 2, 3] });
  b.dataCount();
  b.custom('producers', [0x00]);
  return b.build();
}

test('a module using every builder feature is valid for V8', () => {
  const bytes = kitchenSink();
  assert.ok(WebAssembly.validate(bytes as Uint8Array<ArrayBuffer>), 'WebAssembly.validate');
});

test('and decodes back to what was built', () => {
  const m = decodeModule(kitchenSink());
  assert.is(m.types.length, 2);
  assert.is(m.imports.length, 2);
  assert.equal(m.funcs, [1, 0]);
  assert.equal(m.codes[0]!.locals, [i64]);
  assert.is(m.tables.length, 2);
  assert.is(m.globals.length, 2);
  assert.is(m.start, 2);
  assert.equal(m.elems.map((e) => [e.mode.kind, e.type, e.items.length]), [
    ['active', funcref, 2], ['active', externref, 1], ['passive', funcref, 2], ['declarative', funcref, 1],
  ]);
  assert.is(m.dataCount, 2);
  assert.equal([...m.datas[0]!.bytes], [0x68, 0x69]);
  assert.equal(m.customs.map((c) => c.name), ['producers']);
});

test('forced element encodings', () => {
  for (let flags = 0; flags < 8; flags++) {
    const b = new ModuleBuilder();
    b.table(funcref, 1);
    const t = b.type([], []);
    b.func(t, [0x0b]);
    const usesExprs = (flags & 4) !== 0;
    const items = usesExprs ? { exprs: [constExpr.refFunc(0)] } : { funcs: [0] };
    const mode = (flags & 1) === 0
      ? { mode: 'active' as const, offset: constExpr.i32(0) }
      : { mode: (flags & 2) !== 0 ? 'declarative' as const : 'passive' as const };
    b.elem({ ...mode, ...items, flags });
    const bytes = b.build();
    assert.ok(WebAssembly.validate(bytes as Uint8Array<ArrayBuffer>), `flags ${flags} valid`);
    const seg = decodeModule(bytes).elems[0]!;
    assert.is(seg.mode.kind, mode.mode, `flags ${flags}`);
    assert.equal(seg.items[0]!.instrs.map((i) => [i.op, i.a]), [[0xd2, 0]], `flags ${flags}`);
  }
});

test('imports after definitions are refused', () => {
  const b = new ModuleBuilder();
  b.func(b.type([], []), [0x0b]);
  assert.throws(() => b.importFunc('a', 'b', 0), /before function definitions/);
});

test.run();
