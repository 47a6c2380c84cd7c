/**
 * Every committed move's numbers are published by its source agent (issue 19: the
 * dashboard charts each move, not only those made from its page): a move asked by a
 * plain client (as `wasmig migrate` asks) leaves a retained report on
 * `jobs/JOB/migration` with the downtime and bytes the client was answered, and no
 * `moved` record (that one is for automatic moves, which `ps` explains).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ALL_MIGRATIONS, Agent, FleetClient, readMoves, startBroker } from '../../src/agent/index.ts';
import type { EmbeddedBroker, MigrationReport } from '../../src/agent/index.ts';
import { readFileSync } from 'node:fs';
import { tickerPath } from '../helpers/ticker.ts';

const s = suite('migration reports');
let broker: EmbeddedBroker | undefined;
const agents: Agent[] = [];
let client: FleetClient | undefined;

s.after(async () => {
  await client?.close();
  for (const a of agents) await a.stop();
  await broker?.close();
});

/** The retained reports on the broker now, by job. */
async function reports(c: FleetClient): Promise<Map<string, MigrationReport>> {
  const found = new Map<string, MigrationReport>();
  const stop = await c.peer.listenRetained([ALL_MIGRATIONS], (_topic, payload) => {
    const r = JSON.parse(payload.toString()) as MigrationReport;
    found.set(r.job, r);
  });
  stop();
  return found;
}

s('a client\'s move leaves a retained report with what the client was answered', async () => {
  broker = await startBroker({ port: 0 });
  const connection = { url: broker.url };
  agents.push(await Agent.start({ name: 'a', connection, log: () => {} }), await Agent.start({ name: 'b', connection, log: () => {} }));
  client = await FleetClient.connect({ connection });
  const module = readFileSync(tickerPath);
  await client.start({ agent: 'a', module, program: 'ticker.wasm', args: ['ticker.wasm', 'lines=100000', 'sleep=20'], job: 'r1' });
  const result = await client.migrate('r1', 'b');
  let report: MigrationReport | undefined;
  // Published after the commit, beside the answer: it may reach the broker just after.
  for (let i = 0; i < 300 && !report; i++) {
    report = (await reports(client)).get('r1');
    if (!report) await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(report, 'a report on jobs/r1/migration');
  assert.equal(
    { job: report.job, from: report.from, to: report.to, epoch: report.epoch, mode: report.mode, downtimeMs: report.downtimeMs, bytesSent: report.bytesSent },
    { job: 'r1', from: 'a', to: 'b', epoch: result.epoch, mode: result.mode, downtimeMs: result.downtimeMs, bytesSent: result.bytesSent },
  );
  assert.ok(report.bytesSent > 0 && report.totalMs >= report.downtimeMs);
  assert.is((await readMoves(client.peer)).has('r1'), false, 'no automatic-move record for a client\'s move');
  await client.stop('r1');
});

s.run();
