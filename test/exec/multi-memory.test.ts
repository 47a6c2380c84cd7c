/**
 * Multi-memory (Wasm 3.0): loads, stores, memory.size/grow/fill/init/copy naming memory
 * 1 beside memory 0, on both codes, one instruction at a time, and through a snapshot
 * that carries both memories to a fresh program.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ValidationError } from '../../src/errors/index.ts';
import { loadModule, Program } from '../../src/program/index.ts';
import { Execution, Store } from '../../src/runtime/index.ts';
import { ValType } from '../../src/wasm/types.ts';
import { ModuleBuilder, s32, u32 } from '../helpers/module-builder.ts';

const { i32, i64 } = ValType;
/** A memarg naming memory `mem`: flags with bit 6, the index, the offset. */
const memArg = (align: number, mem: number, offset: number): number[] => [64 + align, ...u32(mem), ...u32(offset)];
const i32c = (n: number): number[] => [0x41, ...s32(n)];

/**
 * $work () -> i64, on memory 0 (1 page) and memory 1 (1 page, max 3):
 * mem1[8] = 0x11223344 (i32.store), mem0[8] = 7, mem1 grows by 2 (old size 1),
 * mem1[0..4) filled with 0xab, passive data "xyz" into mem1 at 100, 4 bytes of mem1 at 8
 * copied to mem0 at 16, then mem0[16] (i32) + size(mem1) + mem1[100] (load8_u)
 * + mem0[8] (load8_u), as an i64 (i64.load32_u of mem1[8] added too).
 */
function twoMemories(): Uint8Array {
  const b = new ModuleBuilder();
  b.memory(1);
  b.memory(1, 3);
  const t = b.type([], [i64]);
  const work = b.func(t, [
    ...i32c(8), ...i32c(0x11223344), 0x36, ...memArg(2, 1, 0), // mem1[8] = 0x11223344
    ...i32c(8), ...i32c(7), 0x3a, 0, 0, //                                           mem0[8] = 7 (store8)
    ...i32c(2), 0x40, 1, 0x1a, //                                                    memory.grow 1 by 2, drop
    ...i32c(0), ...i32c(0xab), ...i32c(4), 0xfc, 11, 1, //                           memory.fill 1
    ...i32c(100), ...i32c(0), ...i32c(3), 0xfc, 8, 0, 1, //                          memory.init data 0 into mem 1
    ...i32c(16), ...i32c(8), ...i32c(4), 0xfc, 10, 0, 1, //                          memory.copy mem0 <- mem1
    ...i32c(16), 0x28, 2, 0, //                                                      mem0[16]
    0x3f, 1, 0x6a, //                                                                + memory.size 1
    ...i32c(100), 0x2d, ...memArg(0, 1, 0), 0x6a, //                                 + mem1[100]
    ...i32c(8), 0x2d, 0, 0, 0x6a, //                                                 + mem0[8]
    0xad, //                                                                         as i64
    ...i32c(4), 0x35, ...memArg(2, 1, 4), 0x7c, //                                   + mem1[8] as u32
    0x0b,
  ]);
  b.data({ mode: 'passive', bytes: [0x78, 0x79, 0x7a] });
  b.dataCount();
  b.export('work', 'func', work);
  return b.build();
}

const EXPECTED = 0x11223344n + 3n + 0x78n + 7n + 0x11223344n;

for (const fast of [false, true]) {
  const code = fast ? 'fast' : 'exact';
  test(`${code} code: two memories, each instruction on the memory it names`, () => {
    const store = new Store({ fast });
    const inst = store.instantiate(loadModule(twoMemories()));
    assert.equal(store.invokeRaw(inst.exports.get('work')!.addr, []), [EXPECTED]);
    const [m0, m1] = inst.state.memAddrs.map((a) => store.state.memories[a].bytes);
    assert.is(m0.length, 65536);
    assert.is(m1.length, 3 * 65536);
    assert.equal([...m1.subarray(0, 4)], [0xab, 0xab, 0xab, 0xab]);
    assert.is(m0[0], 0, 'memory 0 untouched by the fill of memory 1');
  });

  test(`${code} code: run one instruction at a time, the same result`, () => {
    const store = new Store({ fast });
    const inst = store.instantiate(loadModule(twoMemories()));
    const execution = new Execution(store, inst.exports.get('work')!.addr, []);
    let outcome = execution.run({ budget: 1 });
    while (outcome.kind === 'paused') outcome = execution.run({ budget: 1 });
    assert.equal(outcome, { kind: 'returned', results: [EXPECTED] });
  });
}

test('a snapshot taken halfway carries both memories; the resumed program ends the same', () => {
  const compiled = loadModule(twoMemories());
  const whole = Program.instantiate(compiled);
  whole.start('work');
  const expected = whole.run();
  assert.equal(expected, { kind: 'returned', results: [EXPECTED] });
  const steps = whole.store.thread.instructions;
  for (const k of [6, 12, Math.floor(steps / 2), steps - 3]) {
    const a = Program.instantiate(compiled);
    a.start('work');
    assert.is(a.run({ until: k }).kind, 'paused');
    const state = a.captureState();
    assert.is(state.memories.length, 2);
    const b = Program.resume(a.snapshot(), { module: compiled });
    assert.equal(b.run(), expected, `paused after ${k}`);
    assert.is(b.store.state.memories[b.instance.state.memAddrs[1]].bytes.length, 3 * 65536);
  }
});

test('a memory index out of range is a validation error naming it', () => {
  const b = new ModuleBuilder();
  b.memory(1);
  b.func(b.type([], [i32]), [...i32c(0), 0x28, ...memArg(2, 1, 0), 0x0b]);
  assert.throws(() => loadModule(b.build()), (e: unknown) => e instanceof ValidationError && /unknown memory 1/.test((e as Error).message));
});

test.run();
