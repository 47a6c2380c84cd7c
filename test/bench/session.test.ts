import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runSession } from '../../src/bench/session.ts';
import type { SessionRun } from '../../src/bench/session.ts';

/**
 * A fake engine: its rate after `spent` seconds of running is `rateAt(spent)`; a run of n
 * iterations takes n / rate seconds (the rate at the run's start, held through it).
 */
function engine(rateAt: (spent: number) => number): { runOnce: (n: number) => Promise<SessionRun['report']>; asked: number[] } {
  let spent = 0;
  const asked: number[] = [];
  return {
    asked,
    async runOnce(n) {
      asked.push(n);
      const rate = rateAt(spent);
      const seconds = n / rate;
      spent += seconds;
      return { iterations: n, seconds, iterationsPerSec: rate, validated: true, problem: undefined };
    },
  };
}

test('a JIT that warms up after 1.5 s: the timed run is warm, the cold rate is the first 2 s', async () => {
  const e = engine((t) => (t < 1.5 ? 10 : 1000));
  const r = await runSession(e.runOnce, { seconds: 2, firstGuess: 5 });
  assert.ok(r.stable);
  assert.is(r.stoppedBecause, undefined);
  const timed = r.runs[r.runs.length - 1];
  assert.is(timed.report.iterationsPerSec, 1000);
  assert.is(timed.asked, 2000);
  // Steady at the cold rate (10/s) for 1.5 s is not warm: at least 3 s of warm-up.
  assert.ok(r.warmupSeconds >= 3, String(r.warmupSeconds));
  assert.equal(e.asked.slice(0, 5), [5, 5, 5, 5, 500]);
  assert.ok(r.coldIterationsPerSec! < 1000 && r.coldIterationsPerSec! > 10, String(r.coldIterationsPerSec));
});

test('the first run grows at most 100-fold', async () => {
  const e = engine(() => 1e6);
  await runSession(e.runOnce, { seconds: 1, firstGuess: 1 });
  assert.equal(e.asked.slice(0, 3), [1, 100, 10_000]);
});

test('a rate that never settles: warm-up stops at its cap and says so', async () => {
  let k = 0;
  const e = engine(() => (++k % 2 ? 100 : 200));
  const r = await runSession(e.runOnce, { seconds: 1, firstGuess: 50 });
  assert.is(r.stable, false);
  assert.ok(r.warmupSeconds >= 20 && r.warmupSeconds < 22, String(r.warmupSeconds));
});

test('a fixed count: one warm-up run of it, then the timed one', async () => {
  const e = engine(() => 100);
  const r = await runSession(e.runOnce, { seconds: 5, firstGuess: 5, iterations: 7 });
  assert.equal(e.asked, [7, 7]);
  assert.is(r.runs.length, 2);
});

test('a module that runs its own count stops the session at once, saying so', async () => {
  const r = await runSession(async () => ({ iterations: 2000, seconds: 2.3, iterationsPerSec: 869.6, validated: true, problem: undefined }), { seconds: 2, firstGuess: 5 });
  assert.is(r.runs.length, 1);
  assert.is(r.stoppedBecause, 'the module ran 2000 iterations, not the 5 asked for');
});

test('a run without a report stops the session', async () => {
  const r = await runSession(async () => ({ iterations: undefined, seconds: undefined, iterationsPerSec: undefined, validated: false, problem: 'no CoreMark report in the output' }), { seconds: 2, firstGuess: 5 });
  assert.is(r.runs.length, 1);
  assert.is(r.stoppedBecause, 'no CoreMark report in the output');
  assert.is(r.coldIterationsPerSec, undefined);
});

test.run();
