/**
 * Issue 20's warm-up goal as one command: a 2 s interpreter run at 80% or more of the
 * 10 s rate. Each round runs `wasmig bench coremark --engines interp --runs 3` with
 * `--seconds 2`, then with `--seconds 10` (the built CLI), for every module in turn, and
 * takes the "cold" figure of each (the rate over a fresh process's first `--seconds` of
 * CoreMark, median of its 3 processes); the round's ratio is the 2 s figure over the
 * 10 s one. Prints every round with the load average before it, then per module the
 * median ratio, the spread, and how many rounds met 0.80.
 *
 *   npm run build && npx tsx tools/bench/warmup-goal.ts [--rounds 3]
 *       [--wasm coremark/coremark.wasm] [--wasm /tmp/wasmig-eembc-coremark/coremark-eembc.wasm]
 *
 * Without `--wasm`: our CoreMark, and EEMBC's when `tools/bench/build-eembc-coremark.sh`
 * has built it (its path is what that script prints). A round takes about 80 s per module.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { optionValues, positiveNumber } from './options.ts';
import { median } from './stats.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const cli = join(root, 'bin', 'wasmig.js');
const GOAL = 0.8;
const EEMBC = '/tmp/wasmig-eembc-coremark/coremark-eembc.wasm';

const rounds = positiveNumber('warmup-goal', '--rounds', 3);
const given = optionValues('--wasm');
const modules = given.length > 0 ? given : [join(root, 'coremark', 'coremark.wasm'), ...(existsSync(EEMBC) ? [EEMBC] : [])];
for (const m of modules) {
  if (!existsSync(m)) {
    process.stderr.write(`warmup-goal: ${m}: no such file\n`);
    process.exit(2);
  }
}
if (!existsSync(join(root, 'dist', 'cli', 'main.js'))) {
  process.stderr.write('warmup-goal: no build in dist/: run npm run build first\n');
  process.exit(2);
}

/** The interpreter's cold rate of one `bench coremark` invocation. */
function coldRate(wasm: string, seconds: number): number {
  const r = spawnSync(process.execPath, [cli, 'bench', 'coremark', '--wasm', wasm, '--engines', 'interp', '--seconds', String(seconds), '--runs', '3', '--json'], { encoding: 'utf8', timeout: 900_000 });
  const interp = r.status === 0 ? (JSON.parse(r.stdout) as { results: { engine: string; coldIterationsPerSec: number | null }[] }).results.find((x) => x.engine === 'interp') : undefined;
  if (!interp || interp.coldIterationsPerSec === null) {
    process.stderr.write(`warmup-goal: bench coremark --wasm ${wasm} --seconds ${seconds} gave no cold rate (status ${r.status}): ${r.stderr.trim().split('\n').pop() ?? ''}\n`);
    process.exit(1);
  }
  return interp.coldIterationsPerSec;
}

const load = (): string => loadavg()[0].toFixed(2);
const ratios = new Map<string, number[]>(modules.map((m) => [m, []]));
for (let round = 1; round <= rounds; round++) {
  for (const wasm of modules) {
    const before = load();
    const short = coldRate(wasm, 2);
    const long = coldRate(wasm, 10);
    const ratio = short / long;
    ratios.get(wasm)!.push(ratio);
    process.stdout.write(`round ${round} ${basename(wasm)}: cold 2 s ${short.toFixed(1)} it/s, cold 10 s ${long.toFixed(1)} it/s, ratio ${ratio.toFixed(2)} (load ${before} -> ${load()})\n`);
  }
}
for (const [wasm, rs] of ratios) {
  const met = rs.filter((r) => r >= GOAL).length;
  process.stdout.write(`${basename(wasm)}: median ratio ${median(rs).toFixed(2)} (${Math.min(...rs).toFixed(2)}-${Math.max(...rs).toFixed(2)}), ${met} of ${rs.length} rounds at ${GOAL.toFixed(2)} or more\n`);
}
