/**
 * Live migration cost through a broker: downtime (paused at the source until running at
 * the target, measured by the source) and bytes sent, for a job with 1, 16 and 64 MiB of
 * touched linear memory, through the embedded broker (aedes) and through mosquitto.
 *
 * Separate processes on loopback, as a fleet would run: the broker, agents a and b, and
 * this process as the client. The job is test/programs/ticker.wasm with `mem=N`: N MiB
 * of pseudo-random (incompressible: the worst case) memory, then busy mixing it. Each
 * case moves the job a->b (the module travels too), b->a, a->b, b->a and reports the
 * median of the last three (module already cached), with where the downtime went.
 *
 * Usage: npx tsx tools/bench/migration.ts [--sizes 1,16,64] [--brokers aedes,mosquitto] [--moves 4]
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FleetClient } from '../../src/agent/index.ts';
import type { MigrationResult } from '../../src/agent/index.ts';
import { agentProc, embeddedBroker, mosquittoBroker, mosquittoPath, stopAll } from '../../test/helpers/fleet.ts';
import type { BrokerProc } from '../../test/helpers/fleet.ts';
import { tickerPath } from '../../test/helpers/ticker.ts';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const sizes = arg('--sizes', '1,16,64').split(',').map(Number);
const brokers = arg('--brokers', 'aedes,mosquitto').split(',');
const moves = Number(arg('--moves', '4'));
const work = mkdtempSync(join(tmpdir(), 'wasmig-bench-migration-'));
const ctl = join(work, 'ctl');
mkdirSync(ctl);
const ticker = readFileSync(tickerPath);

function median(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function mib(n: number): string {
  return (n / (1024 * 1024)).toFixed(2);
}

interface Row {
  broker: string;
  size: number;
  first: MigrationResult;
  rest: MigrationResult[];
}

async function measure(name: string, broker: BrokerProc, size: number): Promise<Row> {
  const dirs = ['--dir', `${ctl}::/ctl`];
  await Promise.all([agentProc('a', broker.url, dirs), agentProc('b', broker.url, dirs)]);
  const client = await FleetClient.connect({ connection: { url: broker.url } });
  try {
    const job = `bench-${name}-${size}`;
    await client.start({ agent: 'a', module: ticker, program: 'ticker.wasm', args: ['ticker.wasm', `mem=${size}`, 'lines=100000000', 'work=2000'], job });
    // Wait until the memory is filled and the job prints its first lines.
    await new Promise<void>((resolve, reject) => {
      let text = '';
      client.follow(job, {
        onOutput: (c) => {
          text += Buffer.from(c.data).toString();
          if (/tick 2\//.test(text)) resolve();
        },
      }).catch((error: Error) => { if (!/was closed/.test(error.message)) reject(error); });
    });
    const results: MigrationResult[] = [];
    for (let i = 0; i < moves; i++) results.push(await client.migrate(job, i % 2 === 0 ? 'b' : 'a'));
    return { broker: name, size, first: results[0], rest: results.slice(1) };
  } finally {
    await client.close();
    await stopAll();
  }
}

const rows: Row[] = [];
for (const name of brokers) {
  if (name === 'mosquitto' && !mosquittoPath()) {
    console.log('mosquitto is not installed: skipped (apt-get install -y mosquitto)');
    continue;
  }
  for (const size of sizes) {
    // mosquitto leaves Nagle's algorithm on unless told: a fleet's broker should say so.
    const broker = name === 'mosquitto' ? await mosquittoBroker(work, ['allow_anonymous true', 'set_tcp_nodelay true'], 600) : await embeddedBroker();
    process.stderr.write(`${name}, ${size} MiB...\n`);
    rows.push(await measure(name, broker, size));
  }
}

console.log(`\nlive migration, ${moves - 1} moves each (median; module cached), ${new Date().toISOString().slice(0, 10)}\n`);
console.log('| broker | touched memory | downtime | capture | transfer | restore | commit | rounds | bytes sent | in the pause | first move (with module) |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of rows) {
  const m = (f: (x: MigrationResult) => number): string => median(r.rest.map(f)).toFixed(0);
  console.log(`| ${r.broker} | ${r.size} MiB | ${m((x) => x.downtimeMs)} ms | ${m((x) => x.phases.capture)} ms | ${m((x) => x.phases.transfer)} ms | ${m((x) => x.phases.restore)} ms | ${m((x) => x.phases.commit)} ms | ${m((x) => x.rounds)} | ${mib(median(r.rest.map((x) => x.bytesSent)))} MiB | ${mib(median(r.rest.map((x) => x.finalBytes)))} MiB | ${r.first.downtimeMs.toFixed(0)} ms, ${mib(r.first.bytesSent)} MiB |`);
}
console.log('\n"pack": snapshot and package encoding at the source; "transfer": chunks acknowledged by the broker;');
console.log('"restore": until the target has received, verified and restored the package; "commit": the commit round trip.');
rmSync(work, { recursive: true, force: true });
