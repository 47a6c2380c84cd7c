/**
 * A small harness for fuzzing one codec: mutants of valid encodings (bytes flipped,
 * cut, inserted; length fields and counts made huge) fed to its decoder, which must
 * either decode or throw the codec's typed error, and never grow the process's RSS past
 * a bound. Bounded by a count and a time budget (whichever ends first), seeded so that a
 * failure replays (WASMIG_FUZZ_SEED).
 */
import * as assert from 'uvu/assert';
import { Seeded } from './seeded.ts';

/** What a fuzz run did: for the log, and for asserting it ran at all. */
export interface FuzzReport { mutants: number; decoded: number; refused: number; rssGrowth: number }

/** Length-like values worth planting: 0, off by one, and far past any real size. */
const HUGE = [0, 1, 0x7f, 0xff, 0xffff, 0x7fffffff, 0xfffffffe, 0xffffffff];

/** One mutant of `bytes`: random edits, and sometimes a huge number written over 4 aligned bytes. */
export function mutate(bytes: Uint8Array, random: Seeded): Uint8Array {
  let out = Uint8Array.from(bytes);
  const edits = 1 + random.int(4);
  for (let e = 0; e < edits; e++) {
    const kind = random.int(5);
    if (out.length === 0) { out = Uint8Array.of(random.int(256)); continue; }
    const at = random.int(out.length);
    if (kind === 0) out[at] ^= 1 << random.int(8);
    else if (kind === 1) out[at] = random.int(256);
    else if (kind === 2) out = out.slice(0, at);
    else if (kind === 3) { const extra = new Uint8Array(1 + random.int(16)).map(() => random.int(256)); out = Uint8Array.from([...out.subarray(0, at), ...extra, ...out.subarray(at)]); }
    else if (at + 4 <= out.length) new DataView(out.buffer).setUint32(at, HUGE[random.int(HUGE.length)], random.int(2) === 0);
  }
  return out;
}

/**
 * Feeds `count` mutants of the `valid` encodings to `decode` (at most `budgetMs`); any
 * error must satisfy `typed`; the RSS may grow by at most `maxRssGrowth` bytes.
 */
export function fuzzCodec(options: {
  name: string;
  valid: Uint8Array[];
  decode: (bytes: Uint8Array) => unknown;
  typed: (error: unknown) => boolean;
  count: number;
  budgetMs: number;
  maxRssGrowth: number;
  /** Mutants made from a mutant's bytes by the codec's own writer (a valid envelope around bad content). */
  rewrap?: (bytes: Uint8Array) => Uint8Array;
}): FuzzReport {
  const random = new Seeded(Number(process.env.WASMIG_FUZZ_SEED ?? 20261202) ^ options.name.length);
  const start = performance.now();
  const before = process.memoryUsage().rss;
  let peak = before;
  const report: FuzzReport = { mutants: 0, decoded: 0, refused: 0, rssGrowth: 0 };
  for (let i = 0; i < options.count && performance.now() - start < options.budgetMs; i++) {
    const base = options.valid[random.int(options.valid.length)];
    let mutant = mutate(base, random);
    if (options.rewrap && random.int(2) === 0) mutant = options.rewrap(mutant);
    report.mutants++;
    try {
      options.decode(mutant);
      report.decoded++;
    } catch (error) {
      assert.ok(options.typed(error), `${options.name}, mutant ${i}: ${(error as Error)?.stack ?? String(error)}`);
      report.refused++;
    }
    if (i % 16 === 0) peak = Math.max(peak, process.memoryUsage().rss);
  }
  report.rssGrowth = Math.max(peak, process.memoryUsage().rss) - before;
  assert.ok(report.rssGrowth < options.maxRssGrowth, `${options.name}: RSS grew by ${(report.rssGrowth / 2 ** 20).toFixed(0)} MiB`);
  assert.ok(report.mutants > 0);
  return report;
}
