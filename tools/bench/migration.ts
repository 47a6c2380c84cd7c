/**
 * Live migration against stop-and-copy, side by side in one run, through a broker:
 * downtime (paused at the source until running at the target, measured by the source),
 * total migration time, bytes on the wire and pre-copy rounds.
 *
 * Separate processes on loopback, as a fleet would run: the broker (aedes, wasmig's
 * embedded one, or Debian's mosquitto), agents a and b, and this process as the client.
 * The jobs:
 * - `coremark`: CoreMark itself (a few KiB of data, busy computing);
 * - `N MiB @ R MiB/s`: test/programs/writer.wasm filling N MiB with incompressible data
 *   (the worst case for the wire) and then rewriting R MiB/s of it, spread over the
 *   whole region in 4 KiB strides (R = 0: touched once, then left alone).
 * Downtime is shown two ways: the source's (the pause request until the target's answer
 * to the commit is back, what `migrate` reports) and the job's own (its last instruction
 * at the source until its first at the target, from the target's log: one clock, since
 * every process is on this machine).
 * Each case moves its job a->b->a->b... `--moves` times per mode, live and
 * stop-and-copy alternating move by move, and reports the median and the spread of the
 * moves after the first (the first also carries the module).
 *
 * `--security none,key,identity` runs each case once per way the fleet is secured, side
 * by side: `none` (an open fleet: nothing signed or sealed), `key` (the shared fleet key:
 * HMAC-signed, blobs and output sealed with AES-256-GCM; `--key-file FILE`, else a fresh
 * key), `identity` (device identities made for the run: Ed25519-signed, blobs sealed per
 * transfer to the recipient's X25519 key). `--key-file FILE` alone means `--security key`.
 * `--ahead-clones 0,256` runs each case once per number of loop resume clones the agents
 * make ahead (`wasmig agent --ahead-clones`); default: the agents' default.
 *
 * The variants of a case (ways of securing x clones ahead) run interleaved: a fleet of
 * its own each (broker, agents, job), all up at once, and round r moves every fleet's job
 * once per mode, the variants' order turned by r. On a shared, busy machine the load
 * drifts over minutes; interleaved, the drift falls on every variant alike, and move i
 * of one variant is paired with move i of the others: the change against the first way
 * of securing is given with a bootstrap interval drawn over rounds (paired). The other
 * fleets' jobs keep running while one moves, the same for every variant.
 * `--repeat N` runs every case N times with fresh fleets and pools the moves; the table
 * gives the median of each repetition, and the load average over the case.
 *
 * Usage: npx tsx tools/bench/migration.ts [--sizes coremark,1,16,64,256] [--rates 0,1,10,100]
 *          [--brokers aedes,mosquitto] [--modes live,stop-and-copy] [--moves 4] [--json FILE]
 *          [--security none,key,identity] [--key-file FILE] [--repeat 1] [--ahead-clones N,M]
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DeviceIdentity, FleetAuthority, FleetClient, FleetKey } from '../../src/agent/index.ts';
import type { MessageSigner, MigrationResult } from '../../src/agent/index.ts';
import { repoRoot } from '../../test/helpers/cli.ts';
import { agentProc, embeddedBroker, mosquittoBroker, mosquittoPath, stopAll } from '../../test/helpers/fleet.ts';
import type { BrokerProc, Proc } from '../../test/helpers/fleet.ts';
import { writerPath } from '../../test/helpers/writer.ts';
import { median, pairedRatioOfMedians } from './stats.ts';

// Agents and brokers from the built CLI (npm run build), as users run them.
process.env.WASMIG_BUILT = '1';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const sizes = arg('--sizes', 'coremark,1,16,64,256').split(',');
const rates = arg('--rates', '0,1,10,100').split(',').map(Number);
const brokers = arg('--brokers', 'aedes,mosquitto').split(',');
const modes = arg('--modes', 'live,stop-and-copy').split(',') as ('live' | 'stop-and-copy')[];
const moves = Number(arg('--moves', '4'));
const repeat = Number(arg('--repeat', '1'));
const jsonOut = process.argv.includes('--json') ? arg('--json', '') : undefined;
const work = mkdtempSync(join(tmpdir(), 'wasmig-bench-migration-'));
/** `--key-file FILE`: the fleet key of the `key` runs (signed messages, blobs sealed for their recipient). */
const keyFile = process.argv.includes('--key-file') ? arg('--key-file', '') : join(work, 'fleet.key');
if (!process.argv.includes('--key-file')) writeFileSync(keyFile, randomBytes(32).toString('base64'), { mode: 0o600 });
/** Agents' `--ahead-clones` per run ('' for their default). */
const aheads = arg('--ahead-clones', '').split(',');
const securities = arg('--security', process.argv.includes('--key-file') ? 'key' : 'none').split(',') as Security[];
type Security = 'none' | 'key' | 'identity';
for (const x of securities) if (!['none', 'key', 'identity'].includes(x)) throw new Error(`--security ${x}: none, key or identity`);
/** The `identity` runs' devices: agents a and b (run), this client (admin). */
const authority = FleetAuthority.generate();
for (const [name, roles] of [['a', ['run']], ['b', ['run']], ['bench', ['admin']]] as const) {
  writeFileSync(join(work, `${name}.identity`), JSON.stringify(authority.issue(name, [...roles])), { mode: 0o600 });
}

/** What an agent's environment and this client's key are for a way of securing the fleet. */
function secured(security: Security, agent: string): Record<string, string> {
  if (security === 'key') return { WASMIG_KEY_FILE: keyFile };
  if (security === 'identity') return { WASMIG_IDENTITY: join(work, `${agent}.identity`) };
  return {};
}
function clientKey(security: Security): MessageSigner | undefined {
  if (security === 'key') return FleetKey.fromFile(keyFile);
  if (security === 'identity') return DeviceIdentity.fromFile(join(work, 'bench.identity'));
  return undefined;
}
const writer = readFileSync(writerPath);
const coremark = readFileSync(resolve(repoRoot, 'coremark/coremark.wasm'));

const mib = (n: number): string => (n / (1024 * 1024)).toFixed(2);
const kib = (n: number): string => (n / 1024).toFixed(1);

interface Row {
  broker: string;
  security: Security;
  job: string;
  mode: string;
  first: MigrationResult;
  rest: MigrationResult[];
  /** The job's own downtime of the moves after the first, where the target logged it. */
  jobDowntimes: number[];
  /** The 1-minute load average when the case started and ended. */
  load: [number, number];
}

/** The rows of one case (broker, job, way of securing, mode) over every repetition. */
interface Pooled {
  runs: Row[];
  rest: MigrationResult[];
  jobDowntimes: number[];
}

/** The job's own downtime of a move to `agent`: the `nth` (from 0) such line of its log for `job`, once it is written. */
async function jobDowntime(agent: Proc, job: string, nth: number): Promise<number | undefined> {
  const escaped = job.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  for (let waited = 0; waited < 3000; waited += 20) {
    const found = [...agent.err.matchAll(new RegExp(`job ${escaped} runs here ([\\d.]+) ms after it stopped`, 'g'))];
    if (found.length > nth) return Number(found[nth][1]);
    await new Promise((r) => setTimeout(r, 20));
  }
  return undefined;
}

/** One way of running a case (its security and clones ahead): a broker, agents a and b, a client and the job. */
interface Fleet {
  security: Security;
  ahead: string;
  broker: BrokerProc;
  agents: [Proc, Proc];
  client: FleetClient;
  job: string;
  label: string;
  /** Where the job is now. */
  at: 'a' | 'b';
  /** Moves that reached each agent so far (which line of its log is the next move's). */
  arrivals: Map<string, number>;
  byMode: Map<string, MigrationResult[]>;
  jobDowntimes: Map<string, number[]>;
}

/** Starts a fleet of its own for one variant of a case and its job, filled and running. */
async function startFleet(name: string, size: string, rate: number, security: Security, ahead: string): Promise<Fleet> {
  // mosquitto leaves Nagle's algorithm on unless told: a fleet's broker should say so.
  const broker = name === 'mosquitto' ? await mosquittoBroker(work, ['allow_anonymous true', 'set_tcp_nodelay true'], 3600) : await embeddedBroker();
  const extra = ahead === '' ? [] : ['--ahead-clones', ahead];
  // Each fleet keeps its agents' state apart: every fleet has an a and a b.
  const stateDir = join(work, `state-${name}-${security}-${ahead}`);
  const env = (agent: string): Record<string, string> => ({ ...secured(security, agent), WASMIG_STATE_DIR: stateDir });
  const agents = await Promise.all([agentProc('a', broker.url, extra, env('a')), agentProc('b', broker.url, extra, env('b'))]) as [Proc, Proc];
  const client = await FleetClient.connect({ connection: { url: broker.url }, key: clientKey(security) });
  const small = size === 'coremark';
  const job = `bench-${name}-${size}-${rate}-${security}-${ahead}`.replace(/[^A-Za-z0-9._-]/g, '-');
  const label = (small ? 'CoreMark' : `${size} MiB @ ${rate} MiB/s`) + (ahead === '' ? '' : `, ${ahead} clones ahead`);
  await client.start(small
    ? { agent: 'a', module: coremark, program: 'coremark.wasm', args: ['coremark.wasm', '0', '0', '0x66', '100M'], job }
    : { agent: 'a', module: writer, program: 'writer.wasm', args: ['writer.wasm', `mem=${size}`, `rate=${rate * 1024}`, 'secs=100000'], job });
  if (!small) {
    // The memory is filled once the first line is out.
    await new Promise<void>((resolveWait, reject) => {
      client.follow(job, { onOutput: () => resolveWait() }).catch((error: Error) => { if (!/was closed/.test(error.message)) reject(error); });
    });
  } else {
    await new Promise((r) => setTimeout(r, 1000));
  }
  return {
    security, ahead, broker, agents, client, job, label, at: 'a', arrivals: new Map(),
    byMode: new Map(modes.map((m) => [m, []])), jobDowntimes: new Map(modes.map((m) => [m, []])),
  };
}

/** Moves the fleet's job once in `mode`, to the other agent, and records it. */
async function moveOnce(fleet: Fleet, mode: 'live' | 'stop-and-copy', counted: boolean): Promise<void> {
  const to = fleet.at === 'a' ? 'b' : 'a';
  fleet.byMode.get(mode)!.push(await fleet.client.migrate(fleet.job, to, { mode }));
  const nth = fleet.arrivals.get(to) ?? 0;
  fleet.arrivals.set(to, nth + 1);
  const own = await jobDowntime(fleet.agents[to === 'a' ? 0 : 1], fleet.job, nth);
  if (counted && own !== undefined) fleet.jobDowntimes.get(mode)!.push(own);
  fleet.at = to;
}

/**
 * One case, every variant at once: a fleet per variant, all started before the first
 * move, then the moves interleaved (round r moves each fleet's job once per mode, the
 * variants' order turned by r), so that the load's drift over minutes falls on every
 * variant alike and move i of one variant is paired with move i of the others. The
 * other fleets' jobs run on (or idle) while one moves: the same for every variant.
 */
async function measure(name: string, size: string, rate: number, variants: readonly { security: Security; ahead: string }[]): Promise<Row[]> {
  const loadBefore = loadavg()[0];
  const fleets: Fleet[] = [];
  try {
    for (const v of variants) fleets.push(await startFleet(name, size, rate, v.security, v.ahead));
    for (let i = 0; i < moves; i++) {
      for (let k = 0; k < fleets.length; k++) {
        const fleet = fleets[(i + k) % fleets.length];
        for (const mode of modes) await moveOnce(fleet, mode, i > 0);
      }
    }
    const loadAfter = loadavg()[0];
    return fleets.flatMap((f) => modes.map((mode) => {
      const all = f.byMode.get(mode)!;
      return { broker: name, security: f.security, job: f.label, mode, first: all[0], rest: all.slice(1), jobDowntimes: f.jobDowntimes.get(mode)!, load: [loadBefore, loadAfter] as [number, number] };
    }));
  } finally {
    await Promise.all(fleets.map((f) => f.client.close()));
    await stopAll();
  }
}

const variants = securities.flatMap((security) => aheads.map((ahead) => ({ security, ahead })));
const rows: Row[] = [];
for (const name of brokers) {
  if (name === 'mosquitto' && !mosquittoPath()) {
    console.log('mosquitto is not installed: skipped (apt-get install -y mosquitto)');
    continue;
  }
  for (const size of sizes) {
    for (const rate of size === 'coremark' ? [0] : rates) {
      for (let r = 0; r < repeat; r++) {
        process.stderr.write(`${name}, ${size}, ${rate} MiB/s, ${variants.map((v) => v.security + (v.ahead === '' ? '' : `/${v.ahead} ahead`)).join(', ')} interleaved${repeat > 1 ? ` (${r + 1} of ${repeat})` : ''}, load ${loadavg()[0].toFixed(1)}...\n`);
        try {
          rows.push(...(await measure(name, size, rate, variants)));
        } catch (error) {
          process.stderr.write(`  failed: ${(error as Error).message}\n`);
        }
      }
    }
  }
}

const spread = (xs: number[]): string => `${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)}`;
const pooled = new Map<string, Pooled>();
for (const r of rows) {
  const key = `${r.broker}|${r.job}|${r.security}|${r.mode}`;
  const p = pooled.get(key) ?? { runs: [], rest: [], jobDowntimes: [] };
  p.runs.push(r);
  p.rest.push(...r.rest);
  p.jobDowntimes.push(...r.jobDowntimes);
  pooled.set(key, p);
}
console.log(`\nlive migration against stop-and-copy, ${moves - 1} moves each after the first${repeat > 1 ? `, ${repeat} times, the ways of securing alternating` : ''} (median, min-max), ${new Date().toISOString().slice(0, 10)}\n`);
console.log(`| broker | job | security | mode | downtime ms (source) |${repeat > 1 ? ' each repetition\'s median |' : ''} job stopped ms | total ms | sent | in the pause | rounds | first move: downtime, sent | load |`);
console.log(`|---|---|---|---|---:|${repeat > 1 ? '---|' : ''}---:|---:|---:|---:|---:|---:|---|`);
for (const p of pooled.values()) {
  const r = p.runs[0];
  const d = p.rest.map((x) => x.downtimeMs);
  const sent = median(p.rest.map((x) => x.bytesSent));
  const paused = median(p.rest.map((x) => x.finalBytes));
  const size = (n: number): string => (n < 1024 * 1024 ? `${kib(n)} KiB` : `${mib(n)} MiB`);
  const own = p.jobDowntimes.length ? `${median(p.jobDowntimes).toFixed(1)} (${spread(p.jobDowntimes)})` : 'n/a';
  const each = repeat > 1 ? ` ${p.runs.map((x) => median(x.rest.map((m) => m.downtimeMs)).toFixed(1)).join(', ')} |` : '';
  const loads = p.runs.flatMap((x) => x.load);
  console.log(`| ${r.broker} | ${r.job} | ${r.security} | ${r.mode} | ${median(d).toFixed(1)} (${spread(d)}) |${each} ${own} | ${median(p.rest.map((x) => x.totalMs)).toFixed(0)} | ${size(sent)} | ${size(paused)} | ${median(p.rest.map((x) => x.rounds))} | ${r.first.downtimeMs.toFixed(0)} ms, ${size(r.first.bytesSent)} | ${Math.min(...loads).toFixed(1)}-${Math.max(...loads).toFixed(1)} |`);
}
if (securities.length > 1) {
  // Interleaved, move i of each way of securing happened in the same round: paired.
  console.log(`\nThe change in the source's downtime against ${securities[0]}, paired by round (the ratio of medians, and its 90% bootstrap interval over rounds)`);
  console.log(`| broker | job | mode | ${securities.slice(1).join(' | ')} |`);
  console.log(`|---|---|---|${securities.slice(1).map(() => '---:').join('|')}|`);
  const pct = (x: number): string => `${x >= 1 ? '+' : ''}${((x - 1) * 100).toFixed(0)}%`;
  for (const p of pooled.values()) {
    const r = p.runs[0];
    if (r.security !== securities[0]) continue;
    const other = (s: Security): Pooled | undefined => pooled.get(`${r.broker}|${r.job}|${s}|${r.mode}`);
    const cells = securities.slice(1).map((s) => {
      const o = other(s);
      if (!o) return 'n/a';
      const c = pairedRatioOfMedians(p.rest.map((x) => x.downtimeMs), o.rest.map((x) => x.downtimeMs));
      return `${pct(c.ratio)} (${pct(c.low)}..${pct(c.high)})`;
    });
    console.log(`| ${r.broker} | ${r.job} | ${r.mode} | ${cells.join(' | ')} |`);
  }
}
const live = [...pooled.values()].filter((p) => p.runs[0].mode === 'live');
console.log('\nWhere the live moves\' downtime went (median ms): capture at the source / transfer / restore and commit at the target, to the answer / commits asked again');
for (const p of live) {
  const r = p.runs[0];
  const m = (f: (x: MigrationResult) => number): string => median(p.rest.map(f)).toFixed(1);
  console.log(`- ${r.broker}, ${r.job}, ${r.security}: ${m((x) => x.phases.capture)} / ${m((x) => x.phases.transfer)} / ${m((x) => x.phases.restore)} / ${m((x) => x.phases.commit)}; ${p.rest.map((x) => x.reason).slice(-1)[0]}`);
}
/**
 * The pause's hops in the order the protocol makes them happen (hop-clock.ts): each
 * segment is the median, over the moves, of the time from one stamp to the next that
 * the move has (a median of differences, not a difference of medians).
 */
const HOP_ORDER = [
  'paused', 'sourceWorkerTook', 'sourceWorkerCaptured', 'sourceHadPackage', 'sourceSendingFinal',
  'targetRequestArrived', 'targetRequestChecked', 'targetHadRequest', 'targetHadPackage', 'targetDecoded', 'targetWorkerTook',
  'targetDeltasApplied', 'targetStateDecoded', 'targetWorkerRestored', 'targetAnswered',
  'sourceCommittedArrived', 'sourceCommittedChecked', 'sourceHadCommitted',
];
console.log('\nThe live moves\' pause hop by hop: median ms from each stamp to the next (one clock for every process on this machine)');
const segments = new Map<string, Map<string, number>>();
for (const p of live) {
  const r = p.runs[0];
  const names = HOP_ORDER.filter((n) => p.rest.some((x) => x.hops?.[n] !== undefined));
  const row = new Map<string, number>();
  for (let i = 1; i < names.length; i++) {
    const ds = p.rest.map((x) => (x.hops?.[names[i]] ?? NaN) - (x.hops?.[names[i - 1]] ?? NaN)).filter((x) => Number.isFinite(x));
    if (ds.length) row.set(`${names[i - 1]} > ${names[i]}`, median(ds));
  }
  segments.set(`${r.broker}, ${r.job}, ${r.security}`, row);
}
const caseNames = [...segments.keys()];
const segNames = [...new Set([...segments.values()].flatMap((m) => [...m.keys()]))];
console.log(`| hop | ${caseNames.join(' | ')} |`);
console.log(`|---|${caseNames.map(() => '---:').join('|')}|`);
for (const seg of segNames) console.log(`| ${seg} | ${caseNames.map((c) => segments.get(c)?.get(seg)?.toFixed(2) ?? '').join(' | ')} |`);
if (jsonOut) writeFileSync(jsonOut, JSON.stringify(rows, null, 1));
rmSync(work, { recursive: true, force: true });
