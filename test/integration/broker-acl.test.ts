/**
 * A broker whose ACL forbids the barrier's marker topics (docs/brokers.md, item 5):
 * mosquitto refuses them (MQTT 5: a PUBACK saying "not authorized"; 3.1.1: silently, or
 * a refused SUBSCRIBE). Reading retained state falls back to quiet round trips, says so
 * once, and `ps` still lists the fleet: it used to fail with the broker's refusal.
 * Skipped, visibly, without mosquitto.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { FleetClient, topics } from '../../src/agent/index.ts';
import { mosquittoBroker, mosquittoPath, stopAll } from '../helpers/fleet.ts';
import type { BrokerProc } from '../helpers/fleet.ts';

const work = mkdtempSync(join(tmpdir(), 'wasmig-acl-'));
const haveMosquitto = mosquittoPath() !== undefined;
const acl = suite('a broker that forbids the marker topics');
let broker: BrokerProc;

const STATE = JSON.stringify({ v: 1, job: 'acl-job', agent: 'x', instance: 'i1', epoch: 1, state: 'running', program: 'p.wasm', args: ['p'], startedAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-01T00:00:00Z' });

acl.before(async () => {
  if (!haveMosquitto) return;
  const file = join(work, 'acl');
  // Everything of the protocol except the markers (wasmig/v1/clients/C/marker-N).
  writeFileSync(file, ['topic readwrite wasmig/v1/jobs/#', 'topic readwrite wasmig/v1/agents/#', 'topic readwrite wasmig/v1/clients/+/inbox', 'topic readwrite wasmig/v1/clients/+/out', ''].join('\n'));
  broker = await mosquittoBroker(work, ['allow_anonymous true', `acl_file ${file}`], 120);
  const writer = await FleetClient.connect({ connection: { url: broker.url } });
  await writer.peer.link.publish(topics.jobState('acl-job'), STATE, { retain: true });
  await writer.close();
});

acl.after(async () => {
  await stopAll();
  rmSync(work, { recursive: true, force: true });
});

for (const version of ['5', '3.1.1'] as const) {
  acl(`ps lists the fleet over MQTT ${version}, by quiet round trips`, async () => {
    if (!haveMosquitto) {
      console.log('\n  SKIPPED: mosquitto is not installed (apt-get install -y mosquitto): the marker ACL test did not run');
      return;
    }
    const lines: string[] = [];
    const client = await FleetClient.connect({ connection: { url: broker.url, protocol: version }, log: (line) => lines.push(line) });
    try {
      const started = Date.now();
      const view = await client.list();
      const took = Date.now() - started;
      assert.equal(view.jobs.map((j) => j.job), ['acl-job']);
      assert.ok(lines.some((l) => /reading retained messages by quiet round trips from now on/.test(l)), lines.join('\n'));
      // Refused outright over MQTT 5; over 3.1.1 the marker may just never come (10 s).
      assert.ok(took < (version === '5' ? 5000 : 15_000), `took ${took} ms`);
      // Remembered: the next read does not try markers again.
      const again = Date.now();
      assert.is((await client.jobState('acl-job'))?.agent, 'x');
      assert.ok(Date.now() - again < 5000);
    } finally {
      await client.close();
    }
  });
}

acl.run();
