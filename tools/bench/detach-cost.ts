/**
 * What a detached buffer costs the interpreter, and which starts detach one: CoreMark on
 * the interpreter, warm, in cold processes that start it fresh, with its memory grown,
 * resumed from a snapshot, or after an unrelated buffer was detached, and as an agent's
 * job in a job thread, fresh and after a checkpoint (`detach-cost-child.mjs`), builds
 * side by side, runs alternating.
 *
 *   npx tsx tools/bench/detach-cost.ts [--runs 5] [--warm 3] [--seconds 4]
 *       [--dist DIR]... [--starts fresh,grown,resumed,detached,job,checkpointed]
 *
 * `--dist` names a built wasmig (default this checkout's `dist/`, `npm run build` first);
 * give it twice to compare two builds. Each child runs with V8's
 * `--trace-protector-invalidation`, so each row also says in how many runs V8 turned its
 * "array buffer detaching" protector off (after which optimized code checks every typed
 * array access for a detached buffer: exec/memory-object.ts).
 *
 * Prints per build and start: the median rate in million Wasm instructions per CPU
 * second of the child (min-max), its ratio to the same build's fresh start, its ratio to
 * the first build's same start (ratio of medians, with a 90% bootstrap interval over
 * the runs' pairs), the runs that detached a buffer; and the load average before and
 * after.
 */
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { optionValues, positiveNumber } from './options.ts';
import { median, pairedRatioOfMedians } from './stats.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const child = join(root, 'tools/bench/detach-cost-child.mjs');
const STARTS = ['fresh', 'grown', 'resumed', 'detached', 'job', 'checkpointed'] as const;

const runs = positiveNumber('detach-cost', '--runs', 5);
const warm = positiveNumber('detach-cost', '--warm', 3);
const seconds = positiveNumber('detach-cost', '--seconds', 4);
const dists = optionValues('--dist').map((d) => resolve(d));
if (dists.length === 0) dists.push(join(root, 'dist'));
const starts = (optionValues('--starts')[0] ?? STARTS.join(',')).split(',');
for (const s of starts) {
  if (!(STARTS as readonly string[]).includes(s)) {
    process.stderr.write(`detach-cost: --starts takes ${STARTS.join(', ')}, not ${JSON.stringify(s)}\n`);
    process.exit(2);
  }
}
const wasm = join(root, 'coremark/coremark.wasm');

interface Sample { rate: number; detached: boolean }
const samples = new Map<string, Sample[]>();
const load = (): string => loadavg()[0]!.toFixed(1);
const loadBefore = load();
for (let run = 0; run < runs; run++) {
  for (const dist of dists) {
    for (const start of starts) {
      const r = spawnSync(process.execPath, ['--trace-protector-invalidation', child, dist, wasm, start, String(warm), String(seconds)], { encoding: 'utf8', timeout: (warm + seconds + 60) * 1000 });
      const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
      if (r.status !== 0 || line === undefined) {
        process.stderr.write(`detach-cost: the ${start} run of ${dist} failed (status ${r.status}): ${r.stderr.trim().split('\n')[0]}\n`);
        process.exit(1);
      }
      const key = `${dist}\0${start}`;
      const list = samples.get(key) ?? [];
      list.push({ rate: (JSON.parse(line) as { rate: number }).rate, detached: r.stdout.includes('Invalidating protector cell ArrayBufferDetaching') });
      samples.set(key, list);
      process.stderr.write('.');
    }
  }
}
process.stderr.write('\n');
console.log(`CoreMark on the interpreter, ${warm} s warm-up then ${seconds} s measured, ${runs} cold processes per row, alternating; load ${loadBefore} -> ${load()}`);
console.log('| build | start | M instructions per CPU s (min-max) | of fresh | of the first build (90% interval) | runs with a detached buffer |');
console.log('|---|---|---:|---:|---:|---:|');
for (const dist of dists) {
  const fresh = median((samples.get(`${dist}\0fresh`) ?? []).map((s) => s.rate));
  for (const start of starts) {
    const list = samples.get(`${dist}\0${start}`)!;
    const rates = list.map((s) => s.rate / 1e6);
    const m = median(rates);
    const ratio = Number.isNaN(fresh) ? '' : (m * 1e6 / fresh).toFixed(2);
    const first = samples.get(`${dists[0]}\0${start}`)!.map((s) => s.rate);
    const vs = pairedRatioOfMedians(first, list.map((s) => s.rate));
    const vsFirst = dist === dists[0] ? '' : `${vs.ratio.toFixed(2)} (${vs.low.toFixed(2)}-${vs.high.toFixed(2)})`;
    console.log(`| ${dist} | ${start} | ${m.toFixed(1)} (${Math.min(...rates).toFixed(1)}-${Math.max(...rates).toFixed(1)}) | ${ratio} | ${vsFirst} | ${list.filter((s) => s.detached).length} of ${list.length} |`);
  }
}
