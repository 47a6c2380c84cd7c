/**
 * A loop whose body is a host call (a sleep, a read) must still pause on time. The
 * poll countdown counts loop iterations and function entries, not host calls: before
 * the tier looked at its flags after each host call, such a loop saw a pause request
 * or the end of its time slice only at its first poll, 1024 x 64 iterations in (65,024
 * host calls; with 1 ms sleeps, 77 s). Counted in host calls, not in time.
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
    if (i === 10) Atomics.store(nativeTierOf(p.store).pauseSignal, 0, 1);
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

test.run();
