/**
 * Extended constant expressions (Wasm 3.0): i32/i64 add, sub and mul, and global.get of
 * any immutable global defined before (for a global's initializer) or of any global (for
 * a segment's offset), checked by validation and evaluated at instantiation.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ValidationError } from '../../src/errors/index.ts';
import { loadModule } from '../../src/program/index.ts';
import { Store } from '../../src/runtime/index.ts';
import { ValType } from '../../src/wasm/types.ts';
import { ModuleBuilder, s32, s64, u32 } from '../helpers/module-builder.ts';

const { i32, i64 } = ValType;
const i32c = (n: number): number[] => [0x41, ...s32(n)];
const i64c = (n: bigint): number[] => [0x42, ...s64(n)];
const get = (g: number): number[] => [0x23, ...u32(g)];

test('globals and a data offset computed from earlier globals, wrapping as the instructions do', () => {
  const b = new ModuleBuilder();
  b.memory(1);
  const base = b.global(i32, false, [...i32c(0x7fffffff), 0x0b]);
  const next = b.global(i32, false, [...get(base), ...i32c(2), 0x6a, ...i32c(3), 0x6c, 0x0b]); // (max + 2) * 3 wraps
  const wide = b.global(i64, false, [...i64c(1n << 62n), ...i64c(4n), 0x7e, ...i64c(5n), 0x7d, 0x0b]); // 2^64 - 5 wraps
  const off = b.global(i32, false, [...i32c(100), 0x0b]);
  b.data({ mode: 'active', offset: [...get(off), ...i32c(7), 0x6b, 0x0b], bytes: [0xab] });
  b.export('next', 'global', next).export('wide', 'global', wide).export('memory', 'memory', 0);
  const store = new Store();
  const inst = store.instantiate(loadModule(b.build()));
  assert.is(store.state.globals[inst.exports.get('next')!.addr].lo, Math.imul(0x7fffffff + 2, 3) | 0);
  const w = store.state.globals[inst.exports.get('wide')!.addr];
  assert.equal([w.lo, w.hi], [-5, -1]);
  assert.is(store.state.memories[inst.exports.get('memory')!.addr].bytes[93], 0xab);
});

test('invalid constant expressions are validation errors that say what and where', () => {
  const cases: [string, (b: ModuleBuilder) => void, RegExp][] = [
    ['mixed operand types', (b) => { b.global(i32, false, [...i32c(1), ...i64c(2n), 0x6a, 0x0b]); }, /type mismatch: i32\.add in global 0 needs two i32 operands/],
    ['a missing operand', (b) => { b.global(i64, false, [...i64c(2n), 0x7c, 0x0b]); }, /type mismatch: i64\.add in global 0/],
    ['a later global', (b) => { b.global(i32, false, [...get(1), 0x0b]); b.global(i32, false, [...i32c(1), 0x0b]); }, /unknown global 1 in global 0/],
    ['a mutable global', (b) => { b.global(i32, true, [...i32c(1), 0x0b]); b.global(i32, false, [...get(0), 0x0b]); }, /constant expression required: global 0 is mutable/],
    ['division', (b) => { b.global(i32, false, [...i32c(1), ...i32c(1), 0x6d, 0x0b]); }, /constant expression required in global 0/],
  ];
  for (const [what, build, message] of cases) {
    const b = new ModuleBuilder();
    build(b);
    assert.throws(() => loadModule(b.build()), (e: unknown) => e instanceof ValidationError && message.test((e as Error).message), what);
  }
});

test.run();
