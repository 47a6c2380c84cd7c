/**
 * Snapshots through the library API: what a state holds, that it survives the file
 * format bit for bit, and what the format refuses.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeModule } from '../../src/binary/index.ts';
import { SnapshotError } from '../../src/errors/index.ts';
import { loadModule, Program } from '../../src/program/index.ts';
import {
  decodeSnapshot, encodeSnapshot, HEADER_SIZE, moduleSha256, readSnapshotHeader, sha256Hex,
} from '../../src/snapshot/index.ts';
import { ValType } from '../../src/wasm/types.ts';
import { constExpr, ModuleBuilder, s32, s64, u32 } from '../helpers/module-builder.ts';

const { i32, i64, f32, f64, funcref, externref } = ValType;

/**
 * A module that exercises every kind of state: a host import with embedder state, a
 * memory it grows and writes far up, a passive data segment it drops, a table, globals
 * of every type with NaN payloads and 64-bit extremes, and a loop to pause anywhere in.
 */
export function machineModule(): Uint8Array {
  const b = new ModuleBuilder();
  const tTick = b.type([i32], [i32]);
  const tWork = b.type([i32], [i64]);
  const tick = b.importFunc('env', 'tick', tTick);
  b.memory(1, 10);
  b.table(funcref, 4, 8);
  b.global(i64, true, constExpr.i64(-(2n ** 63n)));
  b.global(f32, true, constExpr.f32(0));
  b.global(i32, false, constExpr.i32(42));
  b.global(funcref, true, constExpr.refNull(funcref));
  b.global(externref, true, constExpr.refNull(externref));
  b.global(f64, true, constExpr.f64(0));
  b.global(i64, true, constExpr.i64(2n ** 63n - 1n));
  const work = b.func(tWork, [
    0x41, ...s32(0x7fa00001), 0xbe, 0x24, 1, //                      g1 = f32 NaN with a payload
    0x42, ...s64(0x7ff0000000000123n), 0xbf, 0x24, 5, //             g5 = f64 NaN with a payload
    0x41, ...s32(0x7fa00002), 0xbe, 0x21, 3, //                      $f = another f32 NaN
    0x23, 5, 0x21, 4, //                                              $d = g5
    0xd2, 1, 0x24, 3, //                                              g3 = ref.func work
    0x41, 3, 0x40, 0, 0x1a, //                                        memory.grow 3
    0x41, ...s32(3 * 65536), 0x41, ...s32(0xdeadbeef | 0), 0x36, 2, 0, // i32.store at page 3
    0xfc, 9, 1, //                                                    data.drop 1
    0x03, 0x40, //                                                    loop
    0x20, 2, 0x42, 31, 0x7e, 0x20, 1, 0x10, tick, 0xac, 0x7c, 0x21, 2, //  $acc = $acc * 31 + i64(tick($i))
    0x20, 1, 0x41, 1, 0x6a, 0x22, 1, 0x20, 0, 0x48, 0x0d, 0, //       while (++$i < $n)
    0x0b,
    0x20, 2, 0x23, 0, 0x85, 0x23, 6, 0x7c, //                         $acc ^ g0 + g6
    0x0b,
  ], [i32, i64, f32, f64]);
  b.export('work', 'func', work);
  b.export('memory', 'memory', 0);
  b.elem({ mode: 'active', offset: constExpr.i32(1), funcs: [work, work] });
  b.elem({ mode: 'passive', funcs: [work] });
  b.data({ mode: 'active', offset: constExpr.i32(16), bytes: [...new TextEncoder().encode('hello')] });
  b.data({ mode: 'passive', bytes: [1, 2, 3] });
  b.dataCount();
  return b.build();
}

/** The embedder's side: `env.tick` with a counter that must travel with the snapshot. */
function embedder(start = 0): { counter: number; imports: { env: { tick: (x: number) => number } } } {
  const e = {
    counter: start,
    imports: { env: { tick: (x: number): number => x * 7 + e.counter++ } },
  };
  return e;
}

const bytes = machineModule();
const compiled = loadModule(bytes);

function fresh(): { program: Program; host: ReturnType<typeof embedder> } {
  const host = embedder();
  const program = Program.instantiate(compiled, { imports: host.imports });
  program.registerHostState('tick', () => ({ counter: host.counter }));
  program.start('work', [8]);
  return { program, host };
}

function resumeFrom(snapshot: Uint8Array): { program: Program; host: ReturnType<typeof embedder> } {
  // The embedder rebuilds its side from the host state the snapshot carries.
  const decoded = decodeSnapshot(snapshot);
  const saved = decoded.state.host['tick'] as { counter: number } | undefined;
  const host = embedder(saved?.counter ?? 0);
  const program = Program.resume(decoded, { module: compiled, imports: host.imports });
  program.registerHostState('tick', () => ({ counter: host.counter }));
  return { program, host };
}

const whole = fresh();
const expected = whole.program.run();
const total = whole.program.store.thread.instructions;

test('the machine module returns a value that depends on every part of its state', () => {
  assert.is(expected.kind, 'returned');
  assert.ok(total > 100, String(total));
});

test('paused at every instruction, snapshotted, resumed in a fresh program: the same result', () => {
  for (let k = 0; k < total; k++) {
    const a = fresh();
    assert.equal(a.program.run({ until: k }), { kind: 'paused', instructions: k });
    const snap = a.program.snapshot();
    const b = resumeFrom(snap);
    assert.equal(b.program.run(), expected, `paused after ${k}`);
    assert.is(b.program.store.thread.instructions, total);
  }
});

test('a state survives encode and decode bit for bit: NaN payloads, 64-bit extremes, refs', () => {
  const a = fresh();
  a.program.run({ until: 60 });
  const state = a.program.captureState();
  const g = state.globals;
  assert.is(g[0].value, -(2n ** 63n));
  assert.is(g[1].value, 0x7fa00001);
  assert.is(g[3].value, 1); // ref.func work: function index 1 (the import is 0)
  assert.is(g[4].value, null);
  assert.is(g[5].value, 0x7ff0000000000123n);
  assert.is(g[6].value, 2n ** 63n - 1n);
  const top = state.frames[state.frames.length - 1];
  assert.is(top.locals[3], 0x7fa00002);
  assert.is(top.locals[4], 0x7ff0000000000123n);
  assert.equal(state.tables[0].elements, [null, 1, 1, null]);
  assert.equal(state.droppedData, [0, 1]);
  assert.equal(state.droppedElems, [0]);
  // Only the non-zero pages travel: page 0 (the "hello" segment) and page 3.
  assert.equal(state.memories[0].stored, [0, 3]);
  assert.is(state.memories[0].pages, 4);
  const decoded = decodeSnapshot(encodeSnapshot(state));
  assert.equal(decoded.state, state);
  // And restored, then captured again: the same state.
  const b = resumeFrom(a.program.snapshot());
  const noClock = (s: typeof state): unknown => ({ ...s, wasi: { ...s.wasi!, clock: null } });
  assert.equal(noClock(b.program.captureState()), noClock(state));
});

test('a chain of hops, each resuming the last snapshot, ends as the uninterrupted run', () => {
  let current = fresh().program;
  const hops = 10;
  for (let h = 1; h <= hops; h++) {
    const until = Math.floor((total * h) / (hops + 1));
    assert.equal(current.run({ until }), { kind: 'paused', instructions: until });
    current = resumeFrom(current.snapshot({ embedModule: h % 2 === 0 })).program;
  }
  assert.equal(current.run(), expected);
});

test('a snapshot before the start resumes and runs from the beginning', () => {
  const host = embedder();
  const program = Program.instantiate(compiled, { imports: host.imports });
  const snap = program.snapshot({ embedModule: true });
  const state = decodeSnapshot(snap).state;
  assert.is(state.status, 'ready');
  assert.equal(state.frames, []);
  const again = Program.resume(snap, { imports: embedder().imports });
  assert.equal(again.start('work', [8]).run(), expected);
});

test('a program that has finished cannot be snapshotted', () => {
  assert.throws(() => whole.program.snapshot(), (e: unknown) => e instanceof SnapshotError && /finished/.test((e as Error).message));
});

test('embedder host state travels and can be given at snapshot time', () => {
  const a = fresh();
  a.program.run({ until: 70 });
  const snap = a.program.snapshot({ hostState: { job: { id: 'x1', retries: 2n } } });
  const b = Program.resume(snap, { module: compiled, imports: embedder().imports });
  assert.equal(b.hostState['job'], { id: 'x1', retries: 2n });
  assert.ok(typeof (b.hostState['tick'] as { counter: number }).counter === 'number');
  // Carried on to the next snapshot even without re-registering.
  b.run({ until: 120 });
  assert.equal(decodeSnapshot(b.snapshot()).state.host['job'], { id: 'x1', retries: 2n });
});

test('a module names itself by the sha256 of its bytes, computed once and kept by the module', () => {
  const module = decodeModule(new ModuleBuilder().build());
  assert.is(module.sha256, undefined, 'the decoder does not hash');
  const sha = moduleSha256(module);
  assert.is(sha, sha256Hex(module.bytes));
  assert.is(module.sha256, sha);
  module.sha256 = 'f'.repeat(64); // what it keeps is what it answers: not hashed again
  assert.is(moduleSha256(module), 'f'.repeat(64));
});

test('the module: embedded or given, and it must be the right one', () => {
  const a = fresh();
  a.program.run({ until: 10 });
  const bare = a.program.snapshot();
  const embedded = a.program.snapshot({ embedModule: true });
  assert.ok(embedded.length > bare.length);
  assert.is(readSnapshotHeader(bare).moduleSha256, moduleSha256(compiled.module));
  assert.throws(() => Program.resume(bare, { imports: embedder().imports }), (e: unknown) => e instanceof SnapshotError && /does not embed its module/.test((e as Error).message));
  Program.resume(embedded, { imports: embedder().imports });
  const other = new ModuleBuilder();
  other.func(other.type([], []), [0x0b]);
  assert.throws(() => Program.resume(bare, { module: other.build(), imports: embedder().imports }), (e: unknown) => e instanceof SnapshotError && /is not the snapshot's/.test((e as Error).message));
});

test('the header: magic, version, truncation, checksum, trailing bytes', () => {
  const a = fresh();
  a.program.run({ until: 10 });
  const snap = a.program.snapshot();
  const expectError = (b: Uint8Array, pattern: RegExp): void => {
    assert.throws(() => decodeSnapshot(b), (e: unknown) => e instanceof SnapshotError && pattern.test((e as Error).message), String(pattern));
  };
  const copy = (): Uint8Array => snap.slice();
  expectError(new TextEncoder().encode('hello, not a snapshot at all, clearly not one.....'), /not a wasmig snapshot/);
  const v4 = copy(); v4[8] = 4;
  expectError(v4, /format v4 not supported \(this wasmig reads v1 to v3\)/);
  const v0 = copy(); v0[8] = 0;
  expectError(v0, /format v0 not supported/);
  expectError(snap.subarray(0, 20), /truncated/);
  expectError(snap.subarray(0, snap.length - 1), /truncated/);
  const flipped = copy(); flipped[HEADER_SIZE + 10] ^= 0x40;
  expectError(flipped, /checksum/);
  expectError(Uint8Array.from([...snap, 0]), /garbage/);
  const flags = copy(); flags[10] = 0x80;
  expectError(flags, /unknown flags/);
});

test('limits of the resuming side are enforced: a memory larger than allowed is refused', () => {
  const a = fresh();
  a.program.run({ until: 60 });
  const snap = a.program.snapshot();
  assert.throws(() => Program.resume(snap, { module: compiled, imports: embedder().imports, maxMemoryBytes: 3 * 65536 }), (e: unknown) => e instanceof SnapshotError && /exceed the limit/.test((e as Error).message));
});

test('u32 helper stays in use', () => {
  assert.equal(u32(1), [1]);
});

test.run();
