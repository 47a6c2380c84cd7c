/**
 * glibc's malloc keeps what a Node process frees, outside wasmig: a minimal reproduction
 * of what the soak's agents showed (their `[heap]` mapping, glibc's main arena, rising
 * in steps to 100-130 MB and never coming back down).
 *
 * Each round does what an agent's main thread does per move, in plain Node: transient
 * ArrayBuffers of 64 KiB to 4 MiB (a memory image, transfer chunks), dropped and left to
 * V8's garbage collector, and one small buffer that stays (a log segment). glibc serves
 * requests above its mmap threshold (128 KiB at first) with mmap and gives them back on
 * free; but each free of such a block raises the threshold to its size (up to 32 MiB, the
 * "dynamic mmap threshold"), so after the first 4 MiB buffer is freed every later one
 * comes from the heap instead, where the small buffers that stay pin it: it only ever
 * gives back its top. With the threshold fixed (MALLOC_MMAP_THRESHOLD_, which also turns
 * the dynamic adjustment off) the heap holds about what stays.
 *
 * The same rounds run in child processes, one per setting, side by side; each prints its
 * `[heap]` and total RSS every 100 rounds.
 *
 * Usage: npx tsx tools/bench/malloc-threshold.ts [--rounds 1000]   (Linux with glibc)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';

const rounds = Number(process.argv[process.argv.indexOf('--rounds') + 1]) || 1000;

/** Resident MB of the `[heap]` mapping and of the whole process. */
function heapAndRss(): [number, number] {
  const smaps = readFileSync('/proc/self/smaps', 'utf8');
  const at = smaps.indexOf('[heap]');
  const heap = at < 0 ? 0 : Number(/Rss:\s+(\d+)/.exec(smaps.slice(at))![1]) / 1024;
  return [heap, Number(/VmRSS:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]) / 1024];
}

async function child(): Promise<void> {
  const kept: Uint8Array[] = [];
  let recent: Uint8Array[] = [];
  const rows: string[] = [];
  for (let round = 1; round <= rounds; round++) {
    recent.push(new Uint8Array(4 << 20).fill(1));
    for (let c = 0; c < 8; c++) recent.push(new Uint8Array((64 + ((round * 37 + c * 101) % 960)) << 10).fill(2));
    if (round % 3 === 0) kept.push(new Uint8Array(64 << 10).fill(3));
    if (recent.length > 40) recent = recent.slice(-9);
    if (round % 100 === 0) rows.push(heapAndRss().map((x) => x.toFixed(0)).join('/'));
    await new Promise((resolve) => setImmediate(resolve));
  }
  console.log(JSON.stringify({ rows, keptMB: (kept.length * 64) / 1024 }));
}

if (process.argv.includes('--child')) {
  await child();
} else if (!existsSync('/proc/self/smaps')) {
  console.log('malloc-threshold: no /proc/self/smaps (not Linux): skipped');
} else {
  const settings: Record<string, Record<string, string>> = {
    'glibc default': {},
    'MALLOC_ARENA_MAX=2': { MALLOC_ARENA_MAX: '2' },
    'MALLOC_TRIM_THRESHOLD_=131072': { MALLOC_TRIM_THRESHOLD_: '131072' },
    'MALLOC_MMAP_THRESHOLD_=131072': { MALLOC_MMAP_THRESHOLD_: '131072' },
  };
  console.log(`${rounds} rounds, load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  console.log(`| setting | [heap] / RSS MB every 100 rounds | kept at the end |`);
  console.log('|---|---|---:|');
  for (const [name, env] of Object.entries(settings)) {
    // The children run under tsx, as this process does: every setting pays the same for it.
    const r = spawnSync(process.execPath, ['--import', 'tsx', process.argv[1], '--child', '--rounds', String(rounds)], { env: { ...process.env, ...env }, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${name}: ${r.stderr.trim().split('\n').pop()}`);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { rows: string[]; keptMB: number };
    console.log(`| ${name} | ${out.rows.join(', ')} | ${out.keptMB.toFixed(1)} MB |`);
  }
}
