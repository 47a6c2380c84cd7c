/**
 * Soak: many live migrations in a row among three agents, each followed by a check of the
 * job's output so far (every line in order, none twice, each the line a run that never
 * moved prints), through aedes and through mosquitto. Reports failures (must be 0), the
 * downtime percentiles, and each process's RSS every 100 moves (flat after warm-up).
 *
 * The job is test/programs/writer.wasm printing a line per step (4 MiB, rewriting
 * 1 MiB/s); the reference lines come from running it here without pacing.
 *
 * Usage: npx tsx tools/bench/soak.ts [--moves 1000] [--brokers aedes,mosquitto]   (uses the built CLI: npm run build)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FleetClient } from '../../src/agent/index.ts';
import { agentProc, embeddedBroker, mosquittoBroker, mosquittoPath, stopAll } from '../../test/helpers/fleet.ts';
import type { BrokerProc, Proc } from '../../test/helpers/fleet.ts';
import { writerOutput, writerPath } from '../../test/helpers/writer.ts';
import { readFileSync } from 'node:fs';

// Agents and brokers from the built CLI (npm run build), as users run them.
process.env.WASMIG_BUILT = '1';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const moves = Number(arg('--moves', '1000'));
const brokers = arg('--brokers', 'aedes,mosquitto').split(',');
const work = mkdtempSync(join(tmpdir(), 'wasmig-soak-'));
const STEPS = 10_000_000;
const args = ['mem=4', 'rate=1024', `steps=${STEPS}`];
// Enough reference lines for the whole soak (a line per 10 ms step).
const reference = writerOutput(['mem=4', 'rate=1024', `steps=${Math.max(20_000, moves * 30)}`]).split('\n');

function rssKiB(pid: number): number {
  const r = spawnSync('ps', ['-o', 'rss=', '-p', String(pid)], { encoding: 'utf8' });
  return Number(r.stdout.trim()) || 0;
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

async function soak(name: string, broker: BrokerProc): Promise<void> {
  const agents: Proc[] = [];
  for (const a of ['a', 'b', 'c']) agents.push(await agentProc(a, broker.url, []));
  const client = await FleetClient.connect({ connection: { url: broker.url } });
  const job = `soak-${name}`;
  let text = '';
  let lines = 0;
  let failures = 0;
  const downtimes: number[] = [];
  try {
    await client.start({ agent: 'a', module: readFileSync(writerPath), program: 'writer.wasm', args: ['writer.wasm', ...args], job });
    const following = client.follow(job, { onOutput: (c) => { if (c.stream === 1) text += Buffer.from(c.data).toString(); } });
    following.catch(() => {});
    let at = 'a';
    console.log(`\n${name}: ${moves} moves among a, b, c`);
    console.log('| moves | failures | downtime p50 / p90 / p99 / max (ms) | RSS KiB: broker, a, b, c |');
    console.log('|---:|---:|---|---|');
    for (let i = 1; i <= moves; i++) {
      const to = ['a', 'b', 'c'].filter((x) => x !== at)[i % 2];
      try {
        const r = await client.migrate(job, to);
        downtimes.push(r.downtimeMs);
        at = to;
      } catch (error) {
        failures++;
        process.stderr.write(`move ${i} to ${to} failed: ${(error as Error).message}\n`);
      }
      // The output so far: complete lines, in order, each the reference's.
      const done = text.lastIndexOf('\n');
      const got = text.slice(0, done).split('\n');
      for (; lines < got.length; lines++) {
        if (got[lines] !== reference[lines]) {
          failures++;
          process.stderr.write(`move ${i}: line ${lines + 1} is ${JSON.stringify(got[lines])}, expected ${JSON.stringify(reference[lines])}\n`);
          break;
        }
      }
      if (i % 100 === 0 || i === moves) {
        const rss = [broker.proc.pid, ...agents.map((p) => p.pid)].map(rssKiB).join(', ');
        console.log(`| ${i} | ${failures} | ${[50, 90, 99, 100].map((p) => percentile(downtimes, p).toFixed(1)).join(' / ')} | ${rss} |`);
      }
    }
  } finally {
    await client.close();
    await stopAll();
  }
}

try {
  for (const name of brokers) {
    if (name === 'mosquitto' && !mosquittoPath()) { console.log('mosquitto is not installed: skipped'); continue; }
    const broker = name === 'mosquitto' ? await mosquittoBroker(work, ['allow_anonymous true', 'set_tcp_nodelay true'], 7200) : await embeddedBroker();
    await soak(name, broker);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
