import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cpuMs, median } from '../../tools/bench/stats.ts';

test('median: the middle of an odd count, the mean of the two middles of an even one, NaN of none', () => {
  assert.is(median([3, 1, 2]), 2);
  assert.is(median([4, 1, 3, 2]), 2.5);
  assert.is(median([7]), 7);
  assert.ok(Number.isNaN(median([])));
  const xs = [5, 1, 4];
  median(xs);
  assert.equal(xs, [5, 1, 4], 'the input is left as it was');
});

test('cpuMs: counts the CPU a busy loop takes, not less than nothing', () => {
  let x = 0;
  const ms = cpuMs(() => { for (let i = 0; i < 3e6; i++) x += i % 7; });
  assert.ok(ms > 0 && Number.isFinite(ms), `${ms} ms`);
  assert.ok(x > 0);
});

test.run();
