/**
 * Soak: many live migrations in a row among three agents, each followed by a check of the
 * job's output so far (every line in order, none twice, each the line a run that never
 * moved prints, and at least one new line since the move: the job runs where it went),
 * through aedes and through mosquitto. Reports failures (must be 0), the downtime
 * percentiles, each process's RSS (floor and peak of its readings after each move) every
 * 100 moves (flat after warm-up; --report-every N for a finer table), and the load average.
 *
 * The job is test/programs/writer.wasm printing a line per 10 ms step (4 MiB, rewriting
 * 1 MiB/s); the reference lines come from running it here without pacing, extended as
 * the soak goes (the lines of a longer run start with those of a shorter one).
 *
 * With --memory-report FILE, each window also appends a JSON line per process to FILE: its
 * smaps_rollup, resident MB per kind of mapping (anonymous rw, executable JIT code, brk
 * heap, files), the mappings that grew most since the last window and, for agents (loaded
 * with tools/bench/memory-probe.mjs), `process.memoryUsage()`, the main isolate's heap
 * spaces, the worker count and the workers' heaps; with --probe-gc also the main heap after
 * a full collection (what it holds live; off by default: collecting lowers the RSS read
 * after it). --agent-env "K=V ..." sets the agents'
 * environment (an allocator's or V8's settings, to compare mitigations; by default
 * MALLOC_MMAP_THRESHOLD_=131072 NODE_OPTIONS=--max-semi-space-size=4, README *Soak*);
 * --agent-envs "A;B;C" adds settings per agent, compared side by side in one run.
 *
 * Usage: npm run build && npx tsx tools/bench/soak.ts [--moves 1000] [--report-every 100] [--brokers aedes,mosquitto]
 *        [--memory-report FILE [--probe-gc]] [--agent-env "MALLOC_ARENA_MAX=2 NODE_OPTIONS=--max-semi-space-size=4"]
 *        [--agent-envs "A's K=V ...;B's;C's"]
 * (agents and brokers run the built CLI, as users run them)
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { FleetClient } from '../../src/agent/index.ts';
import { repoRoot } from '../../test/helpers/cli.ts';
import { agentProc, embeddedBroker, mosquittoBroker, mosquittoPath, stopAll } from '../../test/helpers/fleet.ts';
import type { BrokerProc, Proc } from '../../test/helpers/fleet.ts';
import { writerOutput, writerPath } from '../../test/helpers/writer.ts';
import { byKind, growth, probe, readRollup, readSmaps } from './process-memory.ts';
import type { Mapping } from './process-memory.ts';

// Agents and brokers from the built CLI (npm run build), as users run them.
process.env.WASMIG_BUILT = '1';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const moves = Number(arg('--moves', '1000'));
const brokers = arg('--brokers', 'aedes,mosquitto').split(',');
/** Moves between two rows of the table (RSS and downtime so far). */
const reportEvery = Number(arg('--report-every', '100'));
/** How long a move may take to show a new line of output at its target before it counts as a failure. */
const NEW_LINE_MS = 15_000;
const WRITER_ARGS = ['mem=4', 'rate=1024'];
/** Where each window's memory details go (JSON lines), if anywhere. */
const memoryReport = process.argv.includes('--memory-report') ? resolve(arg('--memory-report', '')) : undefined;
/**
 * The agents' environment beyond ours: `K=V` pairs separated by spaces. By default what
 * README (*Soak*) advises for agents: glibc's mmap threshold fixed at its initial 128 KiB
 * (left dynamic, it rises to the size of the largest buffer freed, a 4 MiB memory image,
 * and from then on such buffers come from the heap, which keeps what they leave:
 * tools/bench/malloc-threshold.ts), and V8's semi-spaces capped at 4 MB (side by side,
 * the agent with the cap kept a flat floor 30 MB lower). `--agent-env ""` runs agents
 * with glibc's and V8's defaults.
 */
/** `K=V` pairs separated by spaces; a word starting with `--` goes on the previous value (`NODE_OPTIONS=--a --b`). */
function parseEnv(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  let last = '';
  for (const word of text.split(' ').filter(Boolean)) {
    if (word.startsWith('--') && last) env[last] += ` ${word}`;
    else env[(last = word.slice(0, word.indexOf('=')))] = word.slice(word.indexOf('=') + 1);
  }
  return env;
}
const agentEnv = parseEnv(arg('--agent-env', 'MALLOC_MMAP_THRESHOLD_=131072 NODE_OPTIONS=--max-semi-space-size=4'));
/**
 * With `--agent-envs "A;B;C"`, each agent's environment beyond agentEnv (`K=V` pairs,
 * agents a, b, c in turn): settings compared side by side in one run, where every agent
 * sees the same moves under the same load (the job goes round the three), unlike two runs
 * on a shared machine whose load changes between them.
 */
const perAgentEnv = (process.argv.includes('--agent-envs') ? arg('--agent-envs', '').split(';') : []).map(parseEnv);
const agentSettings = ['a', 'b', 'c'].map((_, i) => Object.entries({ ...agentEnv, ...perAgentEnv[i] }).map(([k, v]) => `${k}=${v}`).join(' ') || 'as ours');
const probeModule = resolve(repoRoot, 'tools/bench/memory-probe.mjs');

/** The lines a run that never moved prints, as many as asked for (reruns the writer, longer, when short). */
class Reference {
  #lines: string[] = [];

  line(index: number): string {
    if (index >= this.#lines.length) {
      const steps = Math.max(20_000, 2 * (index + 1));
      // The last line is the checksum of a run of exactly `steps` steps: not a line of a longer one.
      this.#lines = writerOutput([...WRITER_ARGS, `steps=${steps}`]).split('\n').slice(0, steps + 1);
    }
    return this.#lines[index];
  }
}

/** The process whose memory counts: for a broker run under `timeout`, the broker itself. */
function measured(pid: number): number {
  const child = spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).stdout.trim().split('\n')[0];
  return child && /^\d+$/.test(child) && spawnSync('ps', ['-o', 'comm=', '-p', String(pid)], { encoding: 'utf8' }).stdout.trim() === 'timeout' ? Number(child) : pid;
}

/** Resident set of a process (MiB): from /proc where there is one (cheap enough after every move), else `ps`. */
function rssMiB(pid: number): number {
  try {
    const kib = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    if (kib) return Number(kib[1]) / 1024;
  } catch {
    // no /proc: ps
  }
  return (Number(spawnSync('ps', ['-o', 'rss=', '-p', String(pid)], { encoding: 'utf8' }).stdout.trim()) || 0) / 1024;
}

/**
 * Each process's RSS after every move of a report's window, as floor and peak: a job's
 * worker threads come and go with its moves (a V8 isolate of tens of MB each, booting
 * or tearing down at any instant), so one reading per window moved by ±50 MB from one
 * window to the next. The floor is what the process keeps: flat floors, no leak.
 */
class RssWindow {
  #low: number[] = [];
  #high: number[] = [];

  constructor(readonly pids: number[]) {}

  sample(): void {
    this.pids.forEach((pid, i) => {
      const mib = rssMiB(pid);
      this.#low[i] = Math.min(this.#low[i] ?? Infinity, mib);
      this.#high[i] = Math.max(this.#high[i] ?? 0, mib);
    });
  }

  /** Each window's floors so far, per process: [moves at the window's end, MB]. */
  readonly floors: [number, number][][] = [];

  /** `floor-peak` per process since the last report, in MB; starts a new window ending at move `moves`. */
  report(moves: number): string {
    const text = this.pids.map((_, i) => `${Math.round(this.#low[i])}-${Math.round(this.#high[i])}`).join(', ');
    this.pids.forEach((_, i) => (this.floors[i] ??= []).push([moves, this.#low[i]]));
    this.#low = [];
    this.#high = [];
    return text;
  }
}

/** Moves before the floors count: workers, caches and the allocator settle (README, *Soak*). */
const WARM_UP = 300;

/** Least-squares slope of `points` ([moves, MB]) in MB per 100 moves, or undefined with fewer than two. */
function slopePer100(points: [number, number][]): number | undefined {
  if (points.length < 2) return undefined;
  const mx = points.reduce((n, [x]) => n + x, 0) / points.length;
  const my = points.reduce((n, [, y]) => n + y, 0) / points.length;
  const sxx = points.reduce((n, [x]) => n + (x - mx) ** 2, 0);
  return (100 * points.reduce((n, [x, y]) => n + (x - mx) * (y - my), 0)) / sxx;
}

function percentile(xs: number[], p: number): string {
  if (!xs.length) return '-';
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))].toFixed(1);
}

/** Each window's memory details, per process, as JSON lines (--memory-report). */
class MemoryReport {
  #maps = new Map<number, Mapping[]>();

  constructor(readonly file: string, readonly broker: string, readonly procs: { name: string; pid: number; probe?: string }[]) {}

  async window(moves: number, failures: number): Promise<void> {
    const load = loadavg().map((x) => Math.round(x * 10) / 10);
    for (const p of this.procs) {
      const maps = readSmaps(p.pid);
      const self = p.probe ? await probe(p.pid, p.probe) : undefined;
      const line = { broker: this.broker, moves, failures, load, process: p.name, pid: p.pid, rollup: readRollup(p.pid), kinds: byKind(maps), grew: growth(this.#maps.get(p.pid) ?? [], maps), ...(self ? { self } : {}) };
      this.#maps.set(p.pid, maps);
      appendFileSync(this.file, `${JSON.stringify(line)}\n`);
    }
  }
}

async function soak(name: string, broker: BrokerProc, reference: Reference, work: string): Promise<number> {
  const agents: Proc[] = [];
  const probes: Record<string, string> = {};
  for (const a of ['a', 'b', 'c']) {
    const env = { ...agentEnv, ...perAgentEnv[agents.length] };
    if (memoryReport) {
      probes[a] = join(work, `${name}-${a}.jsonl`);
      env.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ''} --import ${probeModule}`.trim();
      env.WASMIG_MEMORY_PROBE = probes[a];
      if (process.argv.includes('--probe-gc')) env.WASMIG_MEMORY_PROBE_GC = '1';
    }
    agents.push(await agentProc(a, broker.url, [], env));
  }
  const client = await FleetClient.connect({ connection: { url: broker.url } });
  const job = `soak-${name}`;
  let text = '';
  let lines = 0;
  let failures = 0;
  let followError: string | undefined;
  let poke = (): void => {};
  const downtimes: number[] = [];
  try {
    await client.start({ agent: 'a', module: readFileSync(writerPath), program: 'writer.wasm', args: ['writer.wasm', ...WRITER_ARGS, 'steps=100000000'], job });
    client.follow(job, { onOutput: (c) => { if (c.stream === 1) { text += Buffer.from(c.data).toString(); poke(); } } }).then(
      (s) => { followError = `the job ended (${s.state}${s.error ? `: ${s.error}` : ''})`; poke(); },
      (error: unknown) => { followError = (error as Error).message; poke(); },
    );
    /** Resolves once the follower has more than `n` complete lines (false: it gave up, or NEW_LINE_MS passed). */
    const moreThan = (n: number): Promise<boolean> => new Promise((resolveWait) => {
      const timer = setTimeout(() => { poke = () => {}; resolveWait(false); }, NEW_LINE_MS);
      poke = () => {
        if (followError !== undefined || text.split('\n').length - 1 > n) { clearTimeout(timer); poke = () => {}; resolveWait(followError === undefined); }
      };
      poke();
    });
    await moreThan(0);
    console.log(`\n${name}: ${moves} moves among a, b, c; agents' environments: ${['a', 'b', 'c'].map((a, i) => `${a}: ${agentSettings[i]}`).join('; ')}`);
    console.log('| moves | failures | downtime p50 / p90 / p99 / max (ms) | RSS MB after each move, floor-peak: broker, a, b, c | load average |');
    console.log('|---:|---:|---|---|---|');
    const rss = new RssWindow([measured(broker.proc.pid), ...agents.map((p) => p.pid)]);
    const details = memoryReport ? new MemoryReport(memoryReport, name, [{ name: 'broker', pid: rss.pids[0] }, ...['a', 'b', 'c'].map((a, i) => ({ name: a, pid: agents[i].pid, probe: probes[a] }))]) : undefined;
    await details?.window(0, 0);
    for (let i = 1; i <= moves; i++) {
      // Round the three: a -> b -> c -> a (picking among the two others by i % 2 only ever used a and c).
      const to = ['a', 'b', 'c'][i % 3];
      try {
        const r = await client.migrate(job, to);
        downtimes.push(r.downtimeMs);
      } catch (error) {
        failures++;
        process.stderr.write(`move ${i} to ${to} failed: ${(error as Error).message}\n`);
      }
      // The job goes on: a new line after the move...
      const before = text.split('\n').length - 1;
      if (!(await moreThan(before))) {
        failures++;
        process.stderr.write(`move ${i}: ${followError ?? `no new line of output within ${NEW_LINE_MS / 1000} s`}\n`);
        if (followError !== undefined) break;
      }
      // ...and the output so far: complete lines, in order, each the reference's.
      const got = text.slice(0, text.lastIndexOf('\n')).split('\n');
      for (; lines < got.length; lines++) {
        if (got[lines] !== reference.line(lines)) {
          failures++;
          process.stderr.write(`move ${i}: line ${lines + 1} is ${JSON.stringify(got[lines])}, expected ${JSON.stringify(reference.line(lines))}\n`);
          lines = got.length;
          break;
        }
      }
      rss.sample();
      if (i % reportEvery === 0 || i === moves) {
        console.log(`| ${i} | ${failures} | ${[50, 90, 99, 100].map((p) => percentile(downtimes, p)).join(' / ')} | ${rss.report(i)} | ${loadavg().map((x) => x.toFixed(1)).join(' ')} |`);
        await details?.window(i, failures);
      }
    }
    console.log(`${name}: ${moves} moves, ${failures} failures, ${lines} lines checked`);
    // What the job's logs may add to an agent: the output plus a 16-byte record per line
    // (output-log.ts), twice (the running log and a left job's base; README, *Soak*).
    const logFill = (2 * (text.length + 16 * lines)) / 2 ** 20 / (moves / 100);
    const slopes = rss.floors.map((f) => slopePer100(f.filter(([m]) => m > WARM_UP)));
    console.log(`floor slope after move ${WARM_UP}, MB per 100 moves: ${['broker', 'a', 'b', 'c'].map((p, i) => `${p} ${slopes[i]?.toFixed(1) ?? '-'}`).join(', ')} (the job's logs: up to ${logFill.toFixed(1)} per agent)`);
  } finally {
    await client.close();
    await stopAll();
  }
  return failures;
}

if (!existsSync(resolve(repoRoot, 'dist/cli/main.js'))) {
  console.error('soak: dist/ is missing: npm run build first');
  process.exit(2);
}
const work = mkdtempSync(join(tmpdir(), 'wasmig-soak-'));
let failed = 0;
try {
  const reference = new Reference();
  for (const name of brokers) {
    if (name === 'mosquitto' && !mosquittoPath()) { console.log('mosquitto is not installed: skipped'); continue; }
    const broker = name === 'mosquitto' ? await mosquittoBroker(work, ['allow_anonymous true', 'set_tcp_nodelay true'], 7200) : await embeddedBroker();
    failed += await soak(name, broker, reference, work);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
process.exitCode = failed ? 1 : 0;
