/**
 * Fused fast instructions (fast-ir.ts): a trap in a later part names that part's own
 * instruction, as the exact code does.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ValType } from '../../src/wasm/types.ts';
import { ModuleBuilder } from '../helpers/module-builder.ts';
import { trapOf } from '../helpers/trap.ts';

const { i32 } = ValType;

function trapOffset(bytes: Uint8Array, fast: boolean, arg: number): number {
  const trap = trapOf(bytes, fast, arg);
  assert.is(trap.message, 'out of bounds memory access');
  return trap.backtrace[0]!.offset;
}

test('a load trapping in the second part of copy + load reports the load', () => {
  const b = new ModuleBuilder();
  const t = b.type([i32], [i32]);
  b.memory(1);
  // local.get 0, local.set 1 (a copy), local.get 1, i32.load (fused with the copy), end
  const f = b.func(t, [0x20, 0, 0x21, 1, 0x20, 1, 0x28, 2, 0, 0x0b], [i32]);
  b.export('f', 'func', f);
  const bytes = b.build();
  const exact = trapOffset(bytes, false, 0x10000);
  assert.is(trapOffset(bytes, true, 0x10000), exact);
  assert.is(trapOffset(bytes, true, -4), exact);
});

test('a store trapping in load + add + store reports the store, a load its load', () => {
  const b = new ModuleBuilder();
  const t = b.type([i32], [i32]);
  b.memory(1);
  // *(p + 4) = *p + 1, with p = local 0: local.get 0, local.get 0, i32.load, i32.const 1,
  // i32.add, i32.store offset=4 (one fused instruction), then i32.const 0
  const body = [0x20, 0, 0x20, 0, 0x28, 2, 0, 0x41, 1, 0x6a, 0x36, 2, 4, 0x41, 0, 0x0b];
  const f = b.func(t, body);
  b.export('f', 'func', f);
  const bytes = b.build();
  // 0xfffa: the load fits, the store does not; 0xfffe: the load does not.
  const store = trapOffset(bytes, false, 0xfffa), load = trapOffset(bytes, false, 0xfffe);
  assert.ok(store > load);
  assert.is(trapOffset(bytes, true, 0xfffa), store);
  assert.is(trapOffset(bytes, true, 0xfffe), load);
});

test.run();
