import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ClockSizedSlice } from '../../src/runtime/index.ts';
import type { SlicePolicy } from '../../src/runtime/index.ts';

/** The slice after one of `first` instructions took each of `tookMs` in turn. */
function after(policy: SlicePolicy, tookMs: number[]): number {
  const slice = new ClockSizedSlice(policy);
  for (const ms of tookMs) slice.record(ms);
  return slice.size;
}

const halving: SlicePolicy = { first: 1024, min: 256, max: 4096, targetMs: 1, tolerance: 2, maxGrowth: 2, maxShrink: 2 };
const scaling: SlicePolicy = { first: 1000, min: 100, max: 100_000, targetMs: 10, tolerance: 1, maxGrowth: 4, maxShrink: Infinity };

test('with a tolerance, a slice near its target keeps its size, and one far off doubles or halves', () => {
  const cases: [number[], number][] = [
    [[], 1024],
    [[0.5], 1024], [[1], 1024], [[2], 1024],
    [[0.49], 2048], [[0], 2048], [[0, 0, 0], 4096], [[0, 0, 0, 0], 4096],
    [[2.01], 512], [[1000], 512], [[1000, 1000, 1000], 256],
  ];
  for (const [took, size] of cases) assert.is(after(halving, took), size, `took ${took.join(', ')} ms`);
});

test('without one, every slice is scaled toward the target, growing at most by maxGrowth', () => {
  const cases: [number[], number][] = [
    [[10], 1000], [[20], 500], [[5], 2000], [[1000], 100], [[1], 4000], [[0], 4000],
    [[0, 0, 0, 0, 0, 0, 0, 0, 0], 100_000], [[3], 3333],
  ];
  for (const [took, size] of cases) assert.is(after(scaling, took), size, `took ${took.join(', ')} ms`);
});

test.run();
