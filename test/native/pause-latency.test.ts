/**
 * How late a pause can come, counted in host calls and loop iterations, not in time.
 *
 * A loop whose body is a host call (a sleep, a read) must still pause on time. The
 * poll countdown counts loop iterations and function entries, not host calls: before
 * the tier looked at its flags after each host call, such a loop saw a pause request
 * or the end of its time slice only at its first poll, 1024 x 64 iterations in (65,024
 * host calls; with 1 ms sleeps, 86 s).
 *
 * And the poll that ends a slice must adapt the countdown too: in a phase where every
 * poll comes late, it is the only poll a slice has.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { nativeTierOf } from '../../src/native/index.ts';
import { loadModule, Program } from '../../src/program/index.ts';
import { ValType } from '../../src/wasm/types.ts';
import { ModuleBuilder } from '../helpers/module-builder.ts';

const { i32 } = ValType;

/** spin(n): for (i = 0; i < n; i++) wait(i); return i. */
function spinModule(): Uint8Array {
  const b = new ModuleBuilder();
  const tWait = b.type([i32], []);
  const tSpin = b.type([i32], [i32]);
  const wait = b.importFunc('env', 'wait', tWait);
  const spin = b.func(tSpin, [
    0x03, 0x40, //                                        loop
    0x20, 1, 0x10, wait, //                                 wait(i)
    0x20, 1, 0x41, 1, 0x6a, 0x22, 1, 0x20, 0, 0x48, 0x0d, 0, // while (++i < n)
    0x0b,
    0x20, 1, 0x0b,
  ], [i32]);
  b.export('spin', 'func', spin);
  return b.build();
}

const spin = loadModule(spinModule());
const N = 200_000;

/** A program running spin(N) natively; `onCall(i)` runs inside the host call of iteration i. */
function spinning(onCall: (i: number, program: Program) => void): { program: Program; calls: () => number } {
  let calls = 0;
  const program: Program = Program.instantiate(spin, {
    imports: { env: { wait: (i: unknown) => { calls++; onCall(i as number, program); } } },
    tier: 'native',
  });
  program.start('spin', [N]);
  return { program, calls: () => calls };
}

test('a pause signalled from another thread during a host call lands right after it', () => {
  const { program, calls } = spinning((i, p) => {
    // What another thread does (an agent asking its job's worker to pause).
    if (i === 10) Atomics.store(nativeTierOf(p).pauseSignal, 0, 1);
  });
  const outcome = program.run();
  assert.is(outcome.kind, 'paused');
  assert.is(calls(), 11, 'host calls before the pause');
  // The frame stands at the host call's site, its result kept: the run goes on to the end.
  assert.equal(program.run(), { kind: 'returned', results: [N] });
  assert.is(calls(), N);
});

test('a time slice that ends during a host call ends right after it', () => {
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  const { program, calls } = spinning((i) => {
    // Sleeps well past the slice's end (no one notifies `sleeper`), once.
    if (i === 2) Atomics.wait(sleeper, 0, 0, 60);
  });
  const outcome = program.run({ timeSliceMs: 50 });
  assert.is(outcome.kind, 'paused');
  // At most the three calls up to the sleep (fewer if the machine stalled first).
  assert.ok(calls() <= 3, `${calls()} host calls in a slice that ended during the third`);
  let rounds = 0;
  let last = outcome;
  while (last.kind === 'paused' && rounds++ < 10_000) last = program.run({ timeSliceMs: 50 });
  assert.equal(last, { kind: 'returned', results: [N] });
});

/**
 * slow(n): for (j = 0; j < n; j++) { acc = heavy(acc + j); mem[0] = j + 1 } with heavy a
 * loop-free chain of 100 multiply-adds: 1024 iterations (one unit of the countdown)
 * take well over the 30 µs polls aim at, on any machine.
 */
function slowModule(): Uint8Array {
  const b = new ModuleBuilder();
  const tUnary = b.type([i32], [i32]);
  const chain: number[] = [];
  for (let k = 0; k < 100; k++) chain.push(0x20, 0, 0x41, 31, 0x6c, 0x41, 7, 0x6a, 0x21, 0);
  const heavy = b.func(tUnary, [...chain, 0x20, 0, 0x0b]);
  b.memory(1);
  const slow = b.func(tUnary, [
    0x03, 0x40, //                                              loop
    0x20, 2, 0x20, 1, 0x6a, 0x10, heavy, 0x21, 2, //               acc = heavy(acc + j)
    0x41, 0, 0x20, 1, 0x41, 1, 0x6a, 0x22, 1, 0x36, 2, 0, //       mem[0] = ++j
    0x20, 1, 0x20, 0, 0x48, 0x0d, 0, //                            while (j < n)
    0x0b,
    0x20, 2, 0x0b,
  ], [i32, i32]);
  b.export('slow', 'func', slow);
  b.export('memory', 'memory', 0);
  return b.build();
}

test('the poll that pauses adapts the countdown: late polls come sooner slice after slice', () => {
  const program = Program.instantiate(loadModule(slowModule()), { tier: 'native' });
  const tier = nativeTierOf(program);
  // Every poll ends the slice (as a deadline does when polls come late).
  tier.pollHook = () => true;
  program.start('slow', [1 << 30]);
  const memory = program.export('memory');
  if (memory.kind !== 'memory') throw new Error('no memory');
  const done = (): number => new Int32Array(program.store.state.memories[memory.addr].memory.buffer)[0];
  const perSlice: number[] = [];
  for (let slice = 0; slice < 6; slice++) {
    const before = done();
    assert.is(program.run().kind, 'paused');
    perSlice.push(done() - before);
  }
  // The first slice runs the default countdown (64 units of 1024 iterations); then each
  // late poll cuts it by up to 4. Without adapting there, every slice ran 65,000.
  assert.ok(perSlice[0] > 60_000, `first slice: ${perSlice[0]} iterations`);
  assert.ok(perSlice[5] <= perSlice[0] / 16, `iterations per slice: ${perSlice.join(', ')}`);
});

test.run();
