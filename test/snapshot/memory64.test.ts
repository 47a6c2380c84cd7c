/**
 * Snapshots of programs on a 64-bit memory and a 64-bit table (Wasm 3.0 memory64 and
 * table64): paused at many points, encoded, decoded and resumed in a fresh program, they
 * end as the uninterrupted run does. The canonical state marks such memories and tables
 * `index64: true`; 32-bit ones go without the field, so their states keep the shape of
 * format v3 (no bump), and a state whose index types differ from the module's is refused.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SnapshotError } from '../../src/errors/index.ts';
import { loadModule, Program } from '../../src/program/index.ts';
import { decodeModule } from '../../src/binary/index.ts';
import {
  captureState, decodeSnapshot, describeSnapshot, encodeSnapshot, initialMemoryBytes, moduleSha256, reachableSpace, rebuildStore, SNAPSHOT_FORMAT_VERSION,
} from '../../src/snapshot/index.ts';
import { Execution, Store } from '../../src/runtime/index.ts';
import { ValType } from '../../src/wasm/index.ts';
import { ModuleBuilder, s64, u32 } from '../helpers/module-builder.ts';

const { i32, i64, funcref } = ValType;
const get = (i: number): number[] => [0x20, ...u32(i)];
const set = (i: number): number[] => [0x21, ...u32(i)];

/**
 * work() -> i64 on a 64-bit memory (1 page, grown by 1) and a 64-bit table holding
 * $double and $triple: for i in 0..200, mem[8i + 2^16 - 800] (an i64 address with a
 * memarg offset) = call_indirect (i & 1) (i), then the sum of what was stored, plus
 * memory.size and table.size.
 */
function program(wideTable = true, max = 4): Uint8Array {
  const b = new ModuleBuilder();
  b.memory(1, max, true);
  const unary = b.type([i64], [i64]);
  const double = b.func(unary, [...get(0), ...get(0), 0x7c, 0x0b]);
  const triple = b.func(unary, [...get(0), ...get(0), 0x7c, ...get(0), 0x7c, 0x0b]);
  b.table(funcref as never, 2, undefined, wideTable);
  const index = wideTable ? [0x42, 1, 0x83] : [0xa7, 0x41, 1, 0x71]; // i & 1, as an i64 or an i32
  const work = b.func(b.type([], [i64]), [
    0x42, 1, 0x40, 0, 0x1a, //                                     memory.grow 1
    0x03, 0x40, //                                                 loop: i in local 0, sum in local 1
    ...get(0), 0x42, 3, 0x86, //                                   address 8i
    ...get(0), //                                                  argument i
    ...get(0), ...index, 0x11, ...u32(unary), 0, //                call_indirect (i & 1)
    0x37, 3, ...u32(65536 - 800), //                               i64.store offset=2^16-800
    ...get(0), 0x42, 1, 0x7c, 0x22, 0, 0x42, ...s64(200n), 0x54, 0x0d, 0, // i++ < 200: again
    0x0b,
    0x42, 0, ...set(0),
    0x03, 0x40, //                                                 loop: sum the stores
    ...get(1), ...get(0), 0x42, 3, 0x86, 0x29, 3, ...u32(65536 - 800), 0x7c, ...set(1),
    ...get(0), 0x42, 1, 0x7c, 0x22, 0, 0x42, ...s64(200n), 0x54, 0x0d, 0,
    0x0b,
    ...get(1), 0x3f, 0, 0x7c, 0xfc, 16, 0, ...(wideTable ? [] : [0xad]), 0x7c, 0x0b,
  ], [i64, i64]);
  b.elem({ mode: 'active', table: 0, offset: wideTable ? [0x42, 0, 0x0b] : [0x41, 0, 0x0b], funcs: [double, triple] } as never);
  b.export('work', 'func', work);
  return b.build();
}

// sum over i < 200 of 2i (even) or 3i (odd), plus 2 pages and 2 elements.
let expected = 4n;
for (let i = 0n; i < 200n; i++) expected += i % 2n === 0n ? 2n * i : 3n * i;

test('paused anywhere, snapshotted and resumed in a fresh program, the run ends the same', () => {
  const compiled = loadModule(program());
  const whole = Program.instantiate(compiled);
  whole.start('work');
  assert.equal(whole.run(), { kind: 'returned', results: [expected] });
  const steps = whole.store.thread.instructions;
  for (const k of [3, 10, 57, Math.floor(steps / 3), Math.floor(steps / 2) + 1, steps - 5]) {
    const a = Program.instantiate(compiled);
    a.start('work');
    assert.is(a.run({ until: k }).kind, 'paused', `paused after ${k}`);
    const bytes = a.snapshot();
    const b = Program.resume(bytes, { module: compiled });
    assert.equal(b.run(), { kind: 'returned', results: [expected] }, `resumed after ${k}`);
  }
});

test('a memory declaring 2^48 pages (more than the host holds) pauses and resumes; its maximum travels as declared', () => {
  const compiled = loadModule(program(true, 2 ** 48));
  const a = Program.instantiate(compiled);
  a.start('work');
  a.run({ until: 100 });
  assert.is(a.captureState().memories[0].max, 2 ** 48);
  const b = Program.resume(a.snapshot(), { module: compiled });
  assert.equal(b.run(), { kind: 'returned', results: [expected] });
});

test('a store image (the spec runner\'s snapshots) rebuilds 64-bit memories and tables, also one declaring 2^48 pages', () => {
  const compiled = loadModule(program(true, 2 ** 48));
  const world = new Store();
  const inst = world.instantiate(compiled);
  const execution = new Execution(world, inst.exports.get('work')!.addr, []);
  assert.is(execution.run({ budget: 500 }).kind, 'paused');
  const state = captureState(reachableSpace(world.state, [inst.state]), world.thread, execution.entryDepth);
  const decoded = decodeSnapshot(encodeSnapshot(state));
  const rebuilt = rebuildStore(decoded.state, { module: (sha) => (sha === moduleSha256(compiled.module) ? compiled : undefined), host: () => undefined });
  const memory = rebuilt.store.state.memories[rebuilt.instances[0].memAddrs[0]];
  assert.equal([memory.index64, memory.declaredMax, rebuilt.store.state.tables[rebuilt.instances[0].tableAddrs[0]].index64], [true, 2 ** 48, true]);
  const outcome = rebuilt.execution!.run();
  assert.equal(outcome, { kind: 'returned', results: [expected] });
});

test('the state marks the 64-bit memory and table; the format version stays v3', () => {
  const compiled = loadModule(program());
  const a = Program.instantiate(compiled);
  a.start('work');
  a.run({ until: 40 });
  const state = a.captureState();
  assert.is(state.memories[0].index64, true);
  assert.is(state.tables[0].index64, true);
  assert.is(state.memories[0].max, 4);
  assert.is(SNAPSHOT_FORMAT_VERSION, 3);
  const bytes = encodeSnapshot(state);
  const decoded = decodeSnapshot(bytes);
  assert.is(decoded.state.memories[0].index64, true);
  assert.is(decoded.state.tables[0].index64, true);
  // `wasmig inspect` says so.
  const described = describeSnapshot(decoded, bytes.length);
  assert.equal([described.memories[0].index64, described.tables[0].index64], [true, true]);
});

test('a 32-bit memory and table keep the shape they had: no index64 field', () => {
  const a = Program.instantiate(loadModule(program(false)));
  a.start('work');
  a.run({ until: 40 });
  const state = a.captureState();
  assert.not.ok('index64' in state.tables[0], 'a 32-bit table has no index64');
  assert.equal(a.run(), { kind: 'returned', results: [expected] });
});

test('a state whose index types differ from the module\'s is refused in one line', () => {
  const compiled = loadModule(program());
  const a = Program.instantiate(compiled);
  a.start('work');
  a.run({ until: 40 });
  const narrowed = a.captureState();
  delete narrowed.memories[0].index64;
  assert.throws(() => Program.resume(encodeSnapshot(narrowed), { module: compiled }), (e: unknown) => e instanceof SnapshotError && /^memory 0: the snapshot has a 32-bit memory, the module a 64-bit one$/.test((e as Error).message));
  const table = a.captureState();
  delete table.tables[0].index64;
  assert.throws(() => Program.resume(encodeSnapshot(table), { module: compiled }), (e: unknown) => e instanceof SnapshotError && /table 0: the snapshot has a 32-bit table, the module a 64-bit one/.test((e as Error).message));
  const bogus = a.captureState() as unknown as { memories: Record<string, unknown>[] };
  bogus.memories[0]['index64'] = 1;
  assert.throws(() => decodeSnapshot(encodeSnapshot(bogus as never)), (e: unknown) => e instanceof SnapshotError && /memories\[0\]\.index64 is not true or absent/.test((e as Error).message));
});

test('the initial image of a 64-bit memory (a delta base) places segments at their i64 offsets; an oversized one is refused', () => {
  const b = new ModuleBuilder();
  b.memory(1, undefined, true);
  b.data({ mode: 'active', offset: [0x42, ...s64(300n), 0x0b], bytes: [7, 8] });
  const bytes = initialMemoryBytes(decodeModule(b.build()));
  assert.equal([bytes.length, bytes[300], bytes[301]], [65536, 7, 8]);
  const big = new ModuleBuilder();
  big.memory(2 ** 40, undefined, true);
  assert.throws(() => initialMemoryBytes(decodeModule(big.build())), (e: unknown) => e instanceof SnapshotError && /memory 0 of 1099511627776 pages is more than a memory holds/.test((e as Error).message));
});

test('a snapshot taken while an import called through a 64-bit table is pending resumes by calling it again', async () => {
  // run(i) = 1000 + call_indirect (via the 64-bit table, index 2^0) fetch(i): the index is an i64.
  const b = new ModuleBuilder();
  const unary = b.type([i32], [i32]);
  const fetch = b.importFunc('env', 'fetch', unary);
  b.table(funcref as never, 2, undefined, true);
  const run = b.func(unary, [0x41, ...u32(1000), ...get(0), 0x42, 1, 0x11, ...u32(unary), 0, 0x6a, 0x0b]);
  b.elem({ mode: 'active', table: 0, offset: [0x42, 1, 0x0b], funcs: [fetch] } as never);
  b.export('run', 'func', run);
  const compiled = loadModule(b.build());
  const calls: number[] = [];
  const fetchAsync = async (x: number): Promise<number> => {
    calls.push(x);
    await new Promise((resolve) => setImmediate(resolve));
    return x * 2;
  };
  const p = Program.instantiate(compiled, { imports: { env: { fetch: fetchAsync } } });
  p.start('run', [21]);
  assert.is(p.run().kind, 'awaiting');
  const state = p.captureState();
  // The call's table index is back on the stack as an i64, above 1000 and the argument.
  assert.equal(state.frames[state.frames.length - 1].stack, [1000, 21, 1n]);
  const resumed = Program.resume(p.snapshot(), { module: compiled, imports: { env: { fetch: fetchAsync } } });
  assert.equal(await resumed.runAsync(), { kind: 'returned', results: [1042] });
  assert.equal(calls, [21, 21]);
});

test.run();
