/**
 * Validating memory64 and table64 (Wasm 3.0): the address and length operands are i64
 * for a 64-bit memory or table, in accesses, memory.* and table.* instructions and
 * call_indirect; a copy between a 32- and a 64-bit one takes the narrower (i32) length;
 * a 32-bit memory's offset stays below 2^32; a 64-bit memory is at most 2^48 pages.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ValidationError } from '../../src/errors/index.ts';
import { loadModule } from '../../src/program/index.ts';
import { ValType } from '../../src/wasm/index.ts';
import { ModuleBuilder, s32, u32 } from '../helpers/module-builder.ts';

const { i32, i64, funcref } = ValType;
const i32c = [0x41, ...s32(0)];
const i64c = [0x42, 0];

/** A module with memories `mems` (true: 64-bit), tables `tables`, and one function `code` () -> (). */
function module(mems: boolean[], tables: boolean[], code: number[], results: ValType[] = []): Uint8Array {
  const b = new ModuleBuilder();
  for (const wide of mems) b.memory(1, undefined, wide);
  for (const wide of tables) b.table(funcref as never, 1, undefined, wide);
  const unit = b.type([], []);
  b.func(b.type([], results), [...code, 0x0b]);
  void unit;
  b.data({ mode: 'passive', bytes: [1] });
  b.dataCount();
  b.elem({ mode: 'passive', funcs: [] } as never);
  return b.build();
}

function valid(bytes: Uint8Array, what: string): void {
  try {
    loadModule(bytes);
  } catch (e) {
    assert.unreachable(`${what}: ${(e as Error).message}`);
  }
}

function invalid(bytes: Uint8Array, text: RegExp, what: string): void {
  assert.throws(() => loadModule(bytes), (e: unknown) => e instanceof ValidationError && text.test((e as Error).message), what);
}

/** [what, 64-bit memories/tables, code with i64 operands, the same with i32 operands, results]. */
const CASES: [string, boolean[], boolean[], number[], number[], ValType[]][] = [
  ['i32.load', [true], [], [...i64c, 0x28, 2, 0, 0x1a], [...i32c, 0x28, 2, 0, 0x1a], []],
  ['i64.store', [true], [], [...i64c, ...i64c, 0x37, 3, 0], [...i32c, ...i64c, 0x37, 3, 0], []],
  ['v128.load', [true], [], [...i64c, 0xfd, 0, 4, 0, 0x1a], [...i32c, 0xfd, 0, 4, 0, 0x1a], []],
  ['memory.grow', [true], [], [...i64c, 0x40, 0], [...i32c, 0x40, 0], [i64]],
  ['memory.fill', [true], [], [...i64c, ...i32c, ...i64c, 0xfc, 11, 0], [...i32c, ...i32c, ...i32c, 0xfc, 11, 0], []],
  ['memory.init', [true], [], [...i64c, ...i32c, ...i32c, 0xfc, 8, 0, 0], [...i32c, ...i32c, ...i32c, 0xfc, 8, 0, 0], []],
  ['memory.copy', [true], [], [...i64c, ...i64c, ...i64c, 0xfc, 10, 0, 0], [...i32c, ...i32c, ...i32c, 0xfc, 10, 0, 0], []],
  // 64-bit destination (memory 0), 32-bit source (memory 1): i64, i32, then the narrower i32 length.
  ['memory.copy 64 <- 32', [true, false], [], [...i64c, ...i32c, ...i32c, 0xfc, 10, 0, 1], [...i64c, ...i32c, ...i64c, 0xfc, 10, 0, 1], []],
  ['memory.copy 32 <- 64', [true, false], [], [...i32c, ...i64c, ...i32c, 0xfc, 10, 1, 0], [...i32c, ...i64c, ...i64c, 0xfc, 10, 1, 0], []],
  ['table.get', [], [true], [...i64c, 0x25, 0, 0x1a], [...i32c, 0x25, 0, 0x1a], []],
  ['table.set', [], [true], [...i64c, 0xd0, 0x70, 0x26, 0], [...i32c, 0xd0, 0x70, 0x26, 0], []],
  ['table.grow', [], [true], [0xd0, 0x70, ...i64c, 0xfc, 15, 0], [0xd0, 0x70, ...i32c, 0xfc, 15, 0], [i64]],
  ['table.fill', [], [true], [...i64c, 0xd0, 0x70, ...i64c, 0xfc, 17, 0], [...i32c, 0xd0, 0x70, ...i32c, 0xfc, 17, 0], []],
  ['table.init', [], [true], [...i64c, ...i32c, ...i32c, 0xfc, 12, 0, 0], [...i32c, ...i32c, ...i32c, 0xfc, 12, 0, 0], []],
  ['table.copy 32 <- 64', [], [false, true], [...i32c, ...i64c, ...i32c, 0xfc, 14, 0, 1], [...i32c, ...i64c, ...i64c, 0xfc, 14, 0, 1], []],
  ['call_indirect', [], [true], [...i64c, 0x11, 0, 0], [...i32c, 0x11, 0, 0], []],
];

for (const [what, mems, tables, good, bad, results] of CASES) {
  test(`${what}: the 64-bit operands validate, the 32-bit ones are a type mismatch`, () => {
    valid(module(mems, tables, good, results), what);
    invalid(module(mems, tables, bad, results), /type mismatch/, what);
  });
}

test('memory.size and table.size of 64-bit ones are i64, of 32-bit ones i32', () => {
  valid(module([true], [], [0x3f, 0], [i64]), 'memory64 size');
  invalid(module([true], [], [0x3f, 0], [i32]), /type mismatch/, 'memory64 size as i32');
  valid(module([false], [], [0x3f, 0], [i32]), 'i32 size');
  valid(module([], [true], [0xfc, 16, 0], [i64]), 'table64 size');
  invalid(module([], [true], [0xfc, 16, 0], [i32]), /type mismatch/, 'table64 size as i32');
});

test('a 32-bit memory offset past 2^32-1 is out of range; a 64-bit memory takes any u64', () => {
  const load = (offset: number): number[] => [...i64c, 0x28, 2, ...u32(offset), 0x1a];
  invalid(module([false], [], [...i32c, 0x28, 2, ...u32(2 ** 32), 0x1a]), /offset out of range/, '2^32 on a 32-bit memory');
  valid(module([false], [], [...i32c, 0x28, 2, ...u32(2 ** 32 - 1), 0x1a]), '2^32-1 on a 32-bit memory');
  valid(module([true], [], load(2 ** 40)), '2^40 on a 64-bit memory');
});

test('a 64-bit memory may declare 2^48 pages, not more; a 64-bit table any u64', () => {
  const mem = (min: number, max?: number): Uint8Array => {
    const b = new ModuleBuilder();
    b.memory(min, max, true);
    return b.build();
  };
  valid(mem(0, 2 ** 48), '2^48 pages');
  invalid(mem(0, 2 ** 48 + 1), /memory size must be at most 2\^48 pages/, '2^48 + 1 pages');
  invalid(mem(2, 1), /size minimum must not be greater than maximum/, 'min > max');
  const b = new ModuleBuilder();
  b.table(funcref as never, 0, 2 ** 53, true);
  valid(b.build(), 'a table64 of up to 2^53 elements');
});

test('segments of 64-bit memories and tables take i64 offsets', () => {
  const b = new ModuleBuilder();
  b.memory(1, undefined, true);
  b.data({ mode: 'active', offset: [0x41, 0, 0x0b], bytes: [1] });
  invalid(b.build(), /type mismatch/, 'an i32 offset for a 64-bit memory');
  const c = new ModuleBuilder();
  c.memory(1, undefined, true);
  c.data({ mode: 'active', offset: [0x42, 0, 0x0b], bytes: [1] });
  valid(c.build(), 'an i64 offset');
});

test.run();
