/**
 * Pools several runs of `migration.ts --security ... --json FILE`: per case (broker, job,
 * mode), the change in the source's downtime of each way of securing against the first,
 * over the moves of every run, paired by round as one run pairs them.
 *
 * Why: one interleaved run pairs its moves well, but a case's medians still move by
 * 10-20% between runs a few minutes apart (the writing jobs' last round and the other
 * fleets' work fall differently), more than one run's interval says. Pooling the runs
 * gives an estimate and an interval that carry that spread too.
 *
 * (`migration.ts --repeat N` pools repetitions within one invocation; this pools
 * invocations made apart, with different `--moves` or cases.)
 *
 * Pairs stay pairs: within a run, move i of every way happened in round i; a run's moves
 * are cut to the shortest way's count before they are joined to the others'.
 *
 * Usage: npx tsx tools/bench/migration-pool.ts RUN1.json RUN2.json ...
 */
import { readFileSync } from 'node:fs';
import { median, pairedRatioOfMedians } from './stats.ts';

/** What this tool reads of a row of migration.ts's JSON. */
interface RunRow {
  broker: string;
  security: string;
  job: string;
  mode: string;
  rest: { downtimeMs: number }[];
}

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: npx tsx tools/bench/migration-pool.ts RUN.json [RUN.json ...] (files written by migration.ts --json)');
  process.exit(2);
}

/** Per case: per way of securing, the downtimes of every run, joined run by run. */
const cases = new Map<string, Map<string, number[]>>();
const ways: string[] = [];
for (const file of files) {
  let rows: RunRow[];
  try {
    rows = JSON.parse(readFileSync(file, 'utf8')) as RunRow[];
    if (!Array.isArray(rows)) throw new Error('not a list of rows');
  } catch (error) {
    console.error(`${file}: not a migration.ts --json file (${(error as Error).message})`);
    process.exit(1);
  }
  const byCase = new Map<string, RunRow[]>();
  for (const r of rows) {
    const key = `${r.broker} | ${r.job} | ${r.mode}`;
    byCase.set(key, [...(byCase.get(key) ?? []), r]);
    if (!ways.includes(r.security)) ways.push(r.security);
  }
  for (const [key, rs] of byCase) {
    const n = Math.min(...rs.map((r) => r.rest.length));
    const pooled = cases.get(key) ?? new Map<string, number[]>();
    for (const r of rs) pooled.set(r.security, [...(pooled.get(r.security) ?? []), ...r.rest.slice(0, n).map((m) => m.downtimeMs)]);
    cases.set(key, pooled);
  }
}

const [base, ...others] = ways;
const pct = (x: number): string => `${x >= 1 ? '+' : ''}${((x - 1) * 100).toFixed(1)}%`;
console.log(`Pooled over ${files.length} runs: the source's downtime against ${base}, ratio of medians (90% bootstrap interval over rounds)`);
console.log(`| broker | job | mode | moves | ${base} median ms | ${others.join(' | ')} |`);
console.log(`|---|---|---|---:|---:|${others.map(() => '---:').join('|')}|`);
for (const [key, pooled] of cases) {
  const a = pooled.get(base);
  if (!a) continue;
  const cells = others.map((w) => {
    const b = pooled.get(w);
    if (!b || b.length !== a.length) return 'n/a';
    const c = pairedRatioOfMedians(a, b);
    return `${pct(c.ratio)} (${pct(c.low)}..${pct(c.high)})`;
  });
  console.log(`| ${key} | ${a.length} | ${median(a).toFixed(1)} | ${cells.join(' | ')} |`);
}
