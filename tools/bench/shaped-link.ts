/**
 * Live migration over constrained links: the broker and two agents each in a network
 * namespace of their own, the agents joined to the broker by veth links shaped with
 * `tc netem` (a rate, and 12.5 ms of delay each way: 50 ms of round trip between the
 * agents, through the broker). The client (this process) reaches the broker over a
 * link of its own, unshaped. For each rate, a job moves a->b live, then b->a with
 * stop-and-copy, and the downtime and total time of each are reported: pre-copy should
 * keep the downtime flat as the bandwidth falls, where stop-and-copy's grows.
 *
 * Needs root and iproute2 (`ip`, `tc`); every namespace and link it makes is named
 * `wmbench-*`, inside 10.231.0.0/16, and is deleted at the end (also after a failure or
 * Ctrl-C). Not part of `npm test`.
 *
 * Usage: npx tsx tools/bench/shaped-link.ts [--rates 100kbit,1mbit,10mbit,100mbit] [--job writer|coremark] [--mem MIB]
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
const PORT = 18830;
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

/** Shapes both directions of an agent's link: `rate`, 12.5 ms each way. */
function shape(ns: string, dev: string, rate: string): void {
  for (const [where, d] of [[ns, `${dev}0`], [NS.broker, `${dev}1`]] as const) {
    sh(['ip', 'netns', 'exec', where, 'tc', 'qdisc', 'replace', 'dev', d, 'root', 'netem', 'rate', rate, 'delay', '12.5ms', 'limit', '100000']);
  }
}

function start(ns: string, args: string[], label: string): Promise<void> {
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, resolve(repoRoot, 'bin/wasmig.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
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

interface Row { rate: string; live: MigrationResult; stop: MigrationResult }
const rows: Row[] = [];
try {
  teardown();
  for (const ns of Object.values(NS)) sh(['ip', 'netns', 'add', ns]);
  for (const ns of Object.values(NS)) sh(['ip', 'netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up']);
  link(NS.a, 'wmbench-a', 1);
  link(NS.b, 'wmbench-b', 2);
  link(undefined, 'wmbench-c', 3);
  await start(NS.broker, ['broker', '--host', '0.0.0.0', '--port', String(PORT)], 'broker');
  await start(NS.a, ['agent', '--name', 'a', '--broker', `mqtt://${BROKER_IP.a}:${PORT}`], 'agent a');
  await start(NS.b, ['agent', '--name', 'b', '--broker', `mqtt://${BROKER_IP.b}:${PORT}`], 'agent b');
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
        : { agent: 'a', module, program: 'writer.wasm', args: ['writer.wasm', `mem=${mem}`, 'rate=16', 'secs=100000'], job });
      await new Promise((r) => setTimeout(r, 1500));
      await client.migrate(job, 'b');
      await client.migrate(job, 'a');
      shape(NS.a, 'wmbench-a', rate);
      shape(NS.b, 'wmbench-b', rate);
      process.stderr.write(`${rate}: live...\n`);
      const live = await client.migrate(job, 'b', { timeoutMs: 3_600_000, deadlineMs: 3_600_000 });
      process.stderr.write(`${rate}: stop-and-copy...\n`);
      const stop = await client.migrate(job, 'a', { mode: 'stop-and-copy', timeoutMs: 3_600_000 });
      rows.push({ rate, live, stop });
    }
  } finally {
    await client.close();
  }
} finally {
  teardown();
}

console.log(`\nmigration over shaped links (each agent's link: the rate, 12.5 ms each way), job ${jobKind}${jobKind === 'writer' ? ` mem=${mem} MiB, writing 16 KiB/s` : ''}\n`);
console.log('| link | live: downtime | live: total | live: sent | rounds | stop-and-copy: downtime | stop-and-copy: sent |');
console.log('|---|---:|---:|---:|---:|---:|---:|');
for (const r of rows) {
  console.log(`| ${r.rate} | ${r.live.downtimeMs.toFixed(0)} ms | ${(r.live.totalMs / 1000).toFixed(1)} s | ${(r.live.bytesSent / 1024).toFixed(0)} KiB | ${r.live.rounds} | ${r.stop.downtimeMs.toFixed(0)} ms | ${(r.stop.bytesSent / 1024).toFixed(0)} KiB |`);
}
