/**
 * Revocation through the broker (issue 16): `wasmig fleet revoke NAME --broker URL`
 * publishes the authority's list, retained; an agent with an identity takes it while it
 * runs, keeps it in its state dir, and still enforces it after a restart when the broker
 * has lost it; a forged list changes nothing. No file is copied to the agent.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Agent, DeviceIdentity, FleetAuthority, FleetClient, publishRevocations, startBroker, topics } from '../../src/agent/index.ts';
import type { EmbeddedBroker, RevocationDocument } from '../../src/agent/index.ts';
import { tickerPath } from '../helpers/ticker.ts';

const work = mkdtempSync(join(tmpdir(), 'wasmig-revocation-publish-'));
const ticker = readFileSync(tickerPath);
const authority = FleetAuthority.generate();
const laptopFile = authority.issue('laptop', ['start']);
const agentFile = authority.issue('a', ['run']);
const stateDir = join(work, 'a');
const listFile = join(stateDir, 'revoked.json');

const s = suite('revocation lists through the broker');
let broker: EmbeddedBroker;
const logs: string[] = [];
let agent: Agent | undefined;
const clients: FleetClient[] = [];

/** Agent a, its identity keeping the lists it takes in its state dir (what `wasmig agent` does with no --revoked). */
async function startAgent(): Promise<Agent> {
  const key = new DeviceIdentity(agentFile, { revoked: listFile, revokedMayBeMissing: true, log: (l) => logs.push(l) });
  agent = await Agent.start({ name: 'a', connection: { url: broker.url }, key, stateDir, heartbeatMs: 500, log: (l) => logs.push(l) });
  return agent;
}

async function laptop(): Promise<FleetClient> {
  const c = await FleetClient.connect({ connection: { url: broker.url }, key: new DeviceIdentity(laptopFile) });
  clients.push(c);
  return c;
}

async function until(what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 300 && !check(); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(check(), `${what} (log:\n${logs.join('\n')})`);
}

const startJob = (c: FleetClient, job: string): Promise<unknown> =>
  c.start({ agent: 'a', module: ticker, program: 'ticker.wasm', args: ['ticker.wasm', 'lines=2'], job });

s.before(async () => {
  broker = await startBroker({ port: 0 });
  await startAgent();
});

s.after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await agent?.stop();
  await broker.close();
  rmSync(work, { recursive: true, force: true });
});

s('a list published on the broker is taken by a running agent, kept in its state dir, and enforced after a restart without the broker\'s copy', async () => {
  const ops = await laptop();
  await startJob(ops, 'before');
  const issuedAt = new Date().toISOString();
  const list = authority.signDocument({ v: 1, kind: 'wasmig-revocations', issuedAt, revoked: [{ name: 'laptop', before: issuedAt }] } as RevocationDocument);
  await publishRevocations({ url: broker.url }, list);
  await until('agent a took the list', () => logs.some((l) => l.includes(`issued at ${issuedAt} taken from the broker: 1 device revoked`)));
  await startJob(ops, 'after').then(() => assert.unreachable('a revoked device started a job'), (e: Error) => assert.match(e.message, /the certificate of laptop was revoked/));
  assert.equal(JSON.parse(readFileSync(listFile, 'utf8')), list, 'the list is kept in the state dir');

  // The broker loses the list (cleared here); a forged one, unsigned, is retained instead.
  await agent!.stop();
  agent = undefined;
  await ops.peer.link.publish(topics.fleetRevoked, '', { qos: 1, retain: true });
  await ops.peer.link.publish(topics.fleetRevoked, JSON.stringify({ v: 1, kind: 'wasmig-revocations', issuedAt: '2099-01-01T00:00:00.000Z', revoked: [] }), { qos: 1, retain: true });
  logs.length = 0;
  await startAgent();
  await until('agent a refused the forged list', () => logs.some((l) => /revocation list from the broker was not taken: not signed by this fleet's authority/.test(l)));
  await startJob(ops, 'restarted').then(() => assert.unreachable('a revoked device started a job after a restart'), (e: Error) => assert.match(e.message, /the certificate of laptop was revoked/));
});

s.run();
