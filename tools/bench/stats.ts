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
