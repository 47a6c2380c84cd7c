/**
 * The few numbers every benchmark here reports, computed one way for all of them (each
 * used to carry its own median, some taking the upper middle of an even count).
 * @module
 */

/** The median: the middle value, or the mean of the two middle values of an even count (NaN for none). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** CPU milliseconds (user and system, every thread of this process) that `f` took. */
export function cpuMs(f: () => void): number {
  const before = process.cpuUsage();
  f();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000;
}

/**
 * The ratio of medians `median(b) / median(a)` with a bootstrap interval, for samples
 * taken in pairs (`a[i]` beside `b[i]`, as interleaved benchmarks take them): each
 * resample draws pairs, not values, so what the pairs share (the machine's load at that
 * minute) stays paired. Deterministic: the draws come from a fixed seed.
 * @param level the interval's coverage, 0.9 for the 5th to the 95th percentile
 */
export function pairedRatioOfMedians(a: readonly number[], b: readonly number[], level = 0.9, resamples = 4000): { ratio: number; low: number; high: number } {
  const n = Math.min(a.length, b.length);
  if (n === 0) return { ratio: Number.NaN, low: Number.NaN, high: Number.NaN };
  let seed = 0x9e3779b9;
  // xorshift32: enough for drawing indices, and the same draws on every run.
  const next = (): number => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 0x1_0000_0000;
  };
  const ratios: number[] = [];
  const xa = new Array<number>(n);
  const xb = new Array<number>(n);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < n; i++) {
      const j = Math.floor(next() * n);
      xa[i] = a[j]!;
      xb[i] = b[j]!;
    }
    ratios.push(median(xb) / median(xa));
  }
  ratios.sort((x, y) => x - y);
  const tail = (1 - level) / 2;
  return { ratio: median(b.slice(0, n)) / median(a.slice(0, n)), low: ratios[Math.floor(tail * resamples)]!, high: ratios[Math.ceil((1 - tail) * resamples) - 1]! };
}
