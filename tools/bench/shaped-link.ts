/**
 * Live migration over constrained links: the broker and two agents each in a network
 * namespace of their own, the agents joined to the broker by veth links whose rate is
 * shaped by the kernel (`tc`), with 12.5 ms of delay each way (50 ms of round trip
 * between the agents, through the broker). `netem` shapes both where the kernel has it
 * (`sch_netem`); this machine's kernel has no netem, so there the rate is a token bucket
 * (`tbf`) and the delay a relay in the broker's namespace that holds every chunk of
 * bytes 12.5 ms in each direction (`--delay relay`, the default when netem is missing). The client (this process) reaches the broker over a
 * link of its own, unshaped. For each rate, a job moves a->b live, then b->a with
 * stop-and-copy, and the downtime and total time of each are reported: pre-copy should
 * keep the downtime flat as the bandwidth falls, where stop-and-copy's grows.
 *
 * Needs root and iproute2 (`ip`, `tc`); every namespace and link it makes is named
 * `wmbench-*`, inside 10.231.0.0/16, and is deleted at the end (also after a failure or
 * Ctrl-C). Not part of `npm test`.
 *
 * `--moves N` pairs (live there, stop-and-copy back) per rate: the table gives each column's
 * median and, for the downtimes, the range; a single move on a 2-core machine can land on a
 * busy moment (one did: 473 ms where its neighbours took 63-68).
 *
 * `--write KIB`: how fast the writer rewrites its memory, KiB/s (default 16); `--live-only`
 * skips the stop-and-copy moves back (the job moves back live).
 *
 * Usage: npx tsx tools/bench/shaped-link.ts [--rates 100kbit,1mbit,10mbit,100mbit] [--job writer|coremark] [--mem MIB] [--moves 3]
 *          [--write KIB] [--live-only]
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { FleetClient } from '../../src/agent/index.ts';
import type { MigrationResult } from '../../src/agent/index.ts';
import { repoRoot } from '../../test/helpers/cli.ts';
import { writerPath } from '../../test/helpers/writer.ts';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const rates = arg('--rates', '100kbit,1mbit,10mbit,100mbit').split(',');
const jobKind = arg('--job', 'writer');
const mem = Number(arg('--mem', '1'));
const moves = Number(arg('--moves', '3'));
const writeKiB = Number(arg('--write', '16'));
if (!Number.isInteger(writeKiB) || writeKiB < 0) throw new Error(`--write ${arg('--write', '16')}: KiB/s, a whole number`);
const liveOnly = process.argv.includes('--live-only');
if (!Number.isInteger(moves) || moves < 1) throw new Error(`--moves ${arg('--moves', '3')}: a whole number of at least 1`);
const PORT = 18830;
/** The relay's port in the broker's namespace: agents connect to it, it forwards to the broker. */
const RELAY_PORT = 18831;
const DELAY_MS = 12.5;
const NS = { broker: 'wmbench-broker', a: 'wmbench-a', b: 'wmbench-b' } as const;
const BROKER_IP = { a: '10.231.1.1', b: '10.231.2.1', client: '10.231.3.1' } as const;
const children: ChildProcess[] = [];

function sh(cmd: string[], allowFail = false): void {
  const r = spawnSync(cmd[0], cmd.slice(1), { encoding: 'utf8' });
  if (r.status !== 0 && !allowFail) throw new Error(`${cmd.join(' ')}: ${r.stderr.trim() || `exit ${r.status}`}`);
}

function teardown(): void {
  for (const c of children) c.kill('SIGKILL');
  for (const ns of Object.values(NS)) sh(['ip', 'netns', 'del', ns], true);
  sh(['ip', 'link', 'del', 'wmbench-c0'], true);
}

/** A veth pair from namespace `ns` (address `.2`) to the broker's (address `.1`) on 10.231.`net`.0/24. */
function link(ns: string | undefined, name: string, net: number): void {
  const inner = `${name}0`;
  const outer = `${name}1`;
  sh(['ip', 'link', 'add', inner, 'type', 'veth', 'peer', 'name', outer]);
  if (ns) sh(['ip', 'link', 'set', inner, 'netns', ns]);
  sh(['ip', 'link', 'set', outer, 'netns', NS.broker]);
  const inNs = (c: string[]): string[] => (ns ? ['ip', 'netns', 'exec', ns, ...c] : c);
  sh(inNs(['ip', 'addr', 'add', `10.231.${net}.2/24`, 'dev', inner]));
  sh(inNs(['ip', 'link', 'set', inner, 'up']));
  sh(['ip', 'netns', 'exec', NS.broker, 'ip', 'addr', 'add', `10.231.${net}.1/24`, 'dev', outer]);
  sh(['ip', 'netns', 'exec', NS.broker, 'ip', 'link', 'set', outer, 'up']);
}

/** Whether this kernel has netem (many VMs' kernels lack `sch_netem`). */
function hasNetem(): boolean {
  const r = spawnSync('ip', ['netns', 'exec', NS.broker, 'tc', 'qdisc', 'replace', 'dev', 'lo', 'root', 'netem', 'delay', '1ms'], { encoding: 'utf8' });
  spawnSync('ip', ['netns', 'exec', NS.broker, 'tc', 'qdisc', 'del', 'dev', 'lo', 'root']);
  return r.status === 0;
}

let netem = false;

/** Shapes both directions of an agent's link: `rate` (and with netem, the delay too). */
function shape(ns: string, dev: string, rate: string): void {
  for (const [where, d] of [[ns, `${dev}0`], [NS.broker, `${dev}1`]] as const) {
    const qdisc = netem
      ? ['netem', 'rate', rate, 'delay', `${DELAY_MS}ms`, 'limit', '100000']
      : ['tbf', 'rate', rate, 'burst', '16kb', 'latency', '5s'];
    sh(['ip', 'netns', 'exec', where, 'tc', 'qdisc', 'replace', 'dev', d, 'root', ...qdisc]);
  }
}

/** A TCP relay that holds every chunk DELAY_MS in each direction, for kernels without netem. */
const RELAY = `
const net = require('node:net');
const [listenPort, targetPort, delay] = process.argv.slice(1).map(Number);
net.createServer((inbound) => {
  inbound.setNoDelay(true);
  const outbound = net.connect(targetPort, '127.0.0.1', () => outbound.setNoDelay(true));
  const pipe = (from, to) => {
    from.on('data', (d) => setTimeout(() => { if (!to.destroyed) to.write(d); }, delay));
    from.on('close', () => setTimeout(() => to.destroy(), delay));
    from.on('error', () => {});
  };
  pipe(inbound, outbound);
  pipe(outbound, inbound);
}).listen(listenPort, '0.0.0.0', () => console.log('listening'));
`;

function start(ns: string, args: string[], label: string): Promise<void> {
  return startNode(ns, [resolve(repoRoot, 'bin/wasmig.js'), ...args], label);
}

function startNode(ns: string, args: string[], label: string): Promise<void> {
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return new Promise((resolveStart, reject) => {
    let text = '';
    const look = (d: Buffer): void => {
      text += d.toString();
      if (/listening|online at/.test(text)) resolveStart();
    };
    child.stdout!.on('data', look);
    child.stderr!.on('data', look);
    child.on('exit', (code) => reject(new Error(`${label} exited (${code}): ${text.slice(-500)}`)));
  });
}

process.on('SIGINT', () => { teardown(); process.exit(130); });
process.on('uncaughtException', (error) => { console.error(error); teardown(); process.exit(1); });

interface Row { rate: string; live: MigrationResult[]; stop: MigrationResult[] }
const rows: Row[] = [];
try {
  teardown();
  for (const ns of Object.values(NS)) sh(['ip', 'netns', 'add', ns]);
  for (const ns of Object.values(NS)) sh(['ip', 'netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up']);
  link(NS.a, 'wmbench-a', 1);
  link(NS.b, 'wmbench-b', 2);
  link(undefined, 'wmbench-c', 3);
  netem = hasNetem();
  // A lab inside network namespaces, measuring the unsigned protocol: open on purpose.
  await start(NS.broker, ['broker', '--host', '0.0.0.0', '--port', String(PORT), '--insecure'], 'broker');
  const agentPort = netem ? PORT : RELAY_PORT;
  if (!netem) await startNode(NS.broker, ['-e', RELAY, String(RELAY_PORT), String(PORT), String(DELAY_MS)], 'relay');
  await start(NS.a, ['agent', '--name', 'a', '--broker', `mqtt://${BROKER_IP.a}:${agentPort}`, '--insecure'], 'agent a');
  await start(NS.b, ['agent', '--name', 'b', '--broker', `mqtt://${BROKER_IP.b}:${agentPort}`, '--insecure'], 'agent b');
  const client = await FleetClient.connect({ connection: { url: `mqtt://${BROKER_IP.client}:${PORT}` } });
  const module = readFileSync(jobKind === 'coremark' ? resolve(repoRoot, 'coremark/coremark.wasm') : writerPath);
  try {
    for (const rate of rates) {
      // The job starts on an unshaped link, so the module's first trip is not measured.
      for (const ns of [NS.a, NS.b]) {
        for (const [where, d] of [[ns, ns === NS.a ? 'wmbench-a0' : 'wmbench-b0'], [NS.broker, ns === NS.a ? 'wmbench-a1' : 'wmbench-b1']] as const) {
          sh(['ip', 'netns', 'exec', where, 'tc', 'qdisc', 'del', 'dev', d, 'root'], true);
        }
      }
      const job = `shaped-${rate}`;
      await client.start(jobKind === 'coremark'
        ? { agent: 'a', module, program: 'coremark.wasm', args: ['coremark.wasm', '0', '0', '0x66', '100M'], job }
        : { agent: 'a', module, program: 'writer.wasm', args: ['writer.wasm', `mem=${mem}`, `rate=${writeKiB}`, 'secs=100000'], job });
      await new Promise((r) => setTimeout(r, 1500));
      await client.migrate(job, 'b');
      await client.migrate(job, 'a');
      shape(NS.a, 'wmbench-a', rate);
      shape(NS.b, 'wmbench-b', rate);
      const live: MigrationResult[] = [];
      const stop: MigrationResult[] = [];
      for (let m = 1; m <= moves; m++) {
        process.stderr.write(`${rate}: live ${m}/${moves}...\n`);
        live.push(await client.migrate(job, 'b', { timeoutMs: 3_600_000, deadlineMs: 3_600_000 }));
        if (liveOnly) {
          process.stderr.write(`${rate}: live back ${m}/${moves}...\n`);
          live.push(await client.migrate(job, 'a', { timeoutMs: 3_600_000, deadlineMs: 3_600_000 }));
          continue;
        }
        process.stderr.write(`${rate}: stop-and-copy ${m}/${moves}...\n`);
        stop.push(await client.migrate(job, 'a', { mode: 'stop-and-copy', timeoutMs: 3_600_000 }));
      }
      rows.push({ rate, live, stop });
    }
  } finally {
    await client.close();
  }
} finally {
  teardown();
}

console.log(`\nmigration over shaped links (each agent's link: the rate, ${DELAY_MS} ms each way, ${netem ? 'netem' : 'tbf and a delaying relay'}), job ${jobKind}${jobKind === 'writer' ? ` mem=${mem} MiB, writing ${writeKiB} KiB/s` : ''}\n`);
console.log('| link | live: downtime | live: total | live: sent | live: in the pause | rounds | stop-and-copy: downtime | stop-and-copy: sent |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
/** Median, and the range when there is more than one move. */
const ms = (results: MigrationResult[]): string => {
  const d = results.map((r) => r.downtimeMs);
  return `${median(d).toFixed(0)} ms${d.length > 1 ? ` (${Math.min(...d).toFixed(0)}-${Math.max(...d).toFixed(0)})` : ''}`;
};
const kib = (results: MigrationResult[]): string => results.length === 0 ? '' : `${(median(results.map((r) => r.bytesSent)) / 1024).toFixed(0)} KiB`;
const inPause = (results: MigrationResult[]): string => `${(median(results.map((r) => r.finalBytes)) / 1024).toFixed(1)} KiB, ${median(results.map((r) => r.finalBlocks))} blocks`;
for (const r of rows) {
  console.log(`| ${r.rate} | ${ms(r.live)} | ${(median(r.live.map((x) => x.totalMs)) / 1000).toFixed(1)} s | ${kib(r.live)} | ${inPause(r.live)} | ${median(r.live.map((x) => x.rounds))} | ${r.stop.length ? ms(r.stop) : ''} | ${kib(r.stop)} |`);
}
console.log(`\n(medians of ${moves} moves per rate, downtime ranges in brackets)`);
