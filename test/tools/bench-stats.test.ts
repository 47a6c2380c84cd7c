import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cpuMs, median, pairedRatioOfMedians } from '../../tools/bench/stats.ts';

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

test('pairedRatioOfMedians: the ratio of medians, inside its interval; pairs that share a drift give a narrow interval', () => {
  // b is a at +10%, both drifting together over a wide range: paired draws see the 10%.
  const a = Array.from({ length: 40 }, (_, i) => 10 + (i % 13) * 3);
  const b = a.map((x) => x * 1.1);
  const r = pairedRatioOfMedians(a, b);
  assert.ok(Math.abs(r.ratio - 1.1) < 1e-9, `ratio ${r.ratio}`);
  assert.ok(r.low <= r.ratio && r.ratio <= r.high, `${r.low}..${r.high}`);
  assert.ok(Math.abs(r.low - 1.1) < 1e-9 && Math.abs(r.high - 1.1) < 1e-9, `an exact 10% in every pair: ${r.low}..${r.high}`);
  // The same values unpaired (b reversed) give a wide interval around the same ratio.
  const loose = pairedRatioOfMedians(a, [...b].reverse());
  assert.ok(loose.high - loose.low > 0.2, `unpaired: ${loose.low}..${loose.high}`);
  assert.equal(pairedRatioOfMedians(a, b), r, 'the same draws every time');
  assert.ok(Number.isNaN(pairedRatioOfMedians([], []).ratio));
});

test.run();
