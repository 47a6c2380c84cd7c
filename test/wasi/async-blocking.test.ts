/**
 * WASI's blocking calls made asynchronous (`asyncBlocking`): `poll_oneoff` sleeping on a
 * clock and `fd_read` from stdin return promises, the program awaits them at the call
 * (on both tiers), and the thread's event loop runs meanwhile. Without the option they
 * block, as before.
 */
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadModule, Program } from '../../src/program/index.ts';
import type { ProgramOptions } from '../../src/program/index.ts';
import { ValType } from '../../src/wasm/types.ts';
import { constExpr, ModuleBuilder } from '../helpers/module-builder.ts';

const { i32 } = ValType;
const WASI = 'wasi_snapshot_preview1';
const SLEEP_NS = 30_000_000n;

/** Little-endian bytes of a u64. */
function u64(v: bigint): number[] {
  return Array.from({ length: 8 }, (_, i) => Number((v >> BigInt(8 * i)) & 0xffn));
}

/**
 * sleep(): poll_oneoff on one relative monotonic clock of 30 ms (subscription at 0,
 * userdata 7; event at 64; count at 128). read(): fd_read(0) into 16 bytes at 256
 * (iovec at 200, nread at 240). Both return the errno.
 */
function wasiModule(sleepNs = SLEEP_NS): Uint8Array {
  const b = new ModuleBuilder();
  const t4 = b.type([i32, i32, i32, i32], [i32]);
  const tNone = b.type([], [i32]);
  const poll = b.importFunc(WASI, 'poll_oneoff', t4);
  const read = b.importFunc(WASI, 'fd_read', t4);
  const mem = b.memory(1);
  const subscription = [...u64(7n), 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, ...u64(sleepNs), ...u64(0n), 0, 0, 0, 0, 0, 0, 0, 0];
  b.data({ mode: 'active', offset: constExpr.i32(0), bytes: subscription });
  b.data({ mode: 'active', offset: constExpr.i32(200), bytes: [0, 1, 0, 0, 16, 0, 0, 0] });
  const sleep = b.func(tNone, [0x41, 0, 0x41, 0xc0, 0x00, 0x41, 1, 0x41, 0x80, 0x01, 0x10, poll, 0x0b]);
  const readStdin = b.func(tNone, [0x41, 0, 0x41, 0xc8, 0x01, 0x41, 1, 0x41, 0xf0, 0x01, 0x10, read, 0x0b]);
  b.export('sleep', 'func', sleep);
  b.export('read', 'func', readStdin);
  b.export('memory', 'memory', mem);
  return b.build();
}

const compiled = loadModule(wasiModule());

function memoryOf(p: Program): DataView {
  const e = p.export('memory');
  return new DataView(p.store.state.memories[e.kind === 'memory' ? e.addr : -1].memory.buffer);
}

for (const tier of ['interp', 'native'] as const) {
  test(`${tier}: poll_oneoff on a clock is awaited, and the event loop runs meanwhile`, async () => {
    const p = Program.instantiate(compiled, { tier, asyncBlocking: true });
    p.start('sleep');
    const began = performance.now();
    const first = p.run();
    assert.equal(first.kind === 'awaiting' && first.import, `${WASI}.poll_oneoff`);
    let turns = 0;
    const ticker = setInterval(() => { turns++; }, 1);
    try {
      assert.equal(await p.runAsync(), { kind: 'returned', results: [0] });
    } finally {
      clearInterval(ticker);
    }
    assert.ok(performance.now() - began >= 25, 'slept about 30 ms');
    assert.ok(turns >= 1, `the event loop ran ${turns} timer turns meanwhile`);
    const m = memoryOf(p);
    assert.is(m.getUint32(128, true), 1, 'one event');
    assert.is(m.getBigUint64(64, true), 7n, 'the clock\'s userdata');
  });

  test(`${tier}: fd_read from stdin is awaited and its bytes land in memory`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wasmig-stdin-'));
    const file = join(dir, 'in.txt');
    writeFileSync(file, 'hello');
    const fd = openSync(file, 'r');
    try {
      const p = Program.instantiate(compiled, { tier, asyncBlocking: true, stdin: fd });
      p.start('read');
      assert.is(p.run().kind, 'awaiting');
      assert.equal(await p.runAsync(), { kind: 'returned', results: [0] });
      const m = memoryOf(p);
      assert.is(m.getUint32(240, true), 5);
      assert.is(Buffer.from(m.buffer, 256, 5).toString(), 'hello');
    } finally {
      closeSync(fd);
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('a snapshot taken while poll_oneoff sleeps resumes elsewhere by polling again', async () => {
  for (const [from, to] of [['native', 'interp'], ['interp', 'native']] as const) {
    const p = Program.instantiate(compiled, { tier: from, asyncBlocking: true });
    p.start('sleep');
    assert.is(p.run().kind, 'awaiting');
    const snapshot = p.snapshot({ embedModule: true });
    const resumed = Program.resume(snapshot, { tier: to, asyncBlocking: true });
    const began = performance.now();
    assert.is(resumed.run().kind, 'awaiting', 'the poll made again, asynchronously');
    assert.equal(await resumed.runAsync(), { kind: 'returned', results: [0] });
    assert.ok(performance.now() - began >= 25, 'a relative timeout starts again in full');
    assert.is(memoryOf(resumed).getUint32(128, true), 1);
    await p.runAsync();
  }
});

/** A fresh wake word (`WasiOptions.wake`): one shared Int32 at 0. */
function wakeWord(): { words: Int32Array; index: number } {
  return { words: new Int32Array(new SharedArrayBuffer(4)), index: 0 };
}

for (const tier of ['interp', 'native'] as const) {
  test(`${tier}: with a wake word nobody raises, poll_oneoff blocks as before`, () => {
    const p = Program.instantiate(compiled, { tier, wake: wakeWord() });
    p.start('sleep');
    assert.equal(p.run(), { kind: 'returned', results: [0] });
    assert.is(memoryOf(p).getUint32(128, true), 1);
  });

  test(`${tier}: a wake word already raised turns the sleep into a promise, awaited at the call`, async () => {
    const wake = wakeWord();
    Atomics.store(wake.words, 0, 1);
    const p = Program.instantiate(compiled, { tier, wake });
    p.start('sleep');
    const first = p.run();
    assert.equal(first.kind === 'awaiting' && first.import, `${WASI}.poll_oneoff`);
    assert.equal(await p.runAsync(), { kind: 'returned', results: [0] });
    const m = memoryOf(p);
    assert.is(m.getUint32(128, true), 1, 'one event, once the rest of the sleep is over');
    assert.is(m.getBigUint64(64, true), 7n);
  });

  test(`${tier}: another thread raising the word ends a long sleep at once; the program can be snapshotted there`, async () => {
    // 60 s asleep; a worker raises the word after 50 ms. Before wake words the run
    // returned only once the 60 s were over.
    const long = loadModule(wasiModule(60_000_000_000n));
    const wake = wakeWord();
    const raiser = new Worker(`const { workerData } = require('node:worker_threads'); const w = new Int32Array(workerData); setTimeout(() => { Atomics.store(w, 0, 1); Atomics.notify(w, 0); }, 50);`, { eval: true, workerData: wake.words.buffer });
    try {
      const p = Program.instantiate(long, { tier, wake });
      p.start('sleep');
      const began = performance.now();
      const first = p.run();
      assert.equal(first.kind === 'awaiting' && first.import, `${WASI}.poll_oneoff`);
      assert.ok(performance.now() - began < 30_000, 'woken long before the sleep was over');
      const resumed = Program.resume(p.snapshot({ embedModule: true }), { tier, asyncBlocking: true });
      assert.is(resumed.run().kind, 'awaiting', 'the poll made again on resume');
      // Both programs are abandoned asleep: their hosts' timers must not hold the process.
      p.wasi.close();
      resumed.wasi.close();
    } finally {
      await raiser.terminate();
    }
  });
}

test('closing the host ends the timer of a sleep under way (an abandoned program held its process open until the sleep was over)', () => {
  const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const before = timers();
  const p = Program.instantiate(loadModule(wasiModule(60_000_000_000n)), { tier: 'interp', asyncBlocking: true });
  p.start('sleep');
  assert.is(p.run().kind, 'awaiting');
  assert.is(timers(), before + 1, 'the 60 s sleep is a timer');
  p.wasi.close();
  assert.is(timers(), before, 'closed with its host');
});

test('without asyncBlocking, poll_oneoff blocks as before: run() returns at once with the event', () => {
  const options: ProgramOptions = { tier: 'interp' };
  const p = Program.instantiate(compiled, options);
  p.start('sleep');
  assert.equal(p.run(), { kind: 'returned', results: [0] });
  assert.is(memoryOf(p).getUint32(128, true), 1);
});

test.run();
