/**
 * The documented mosquitto ACL (docs/mosquitto/wasmig.acl, docs/security.md): one user
 * per device. A device reads its own inbox and data topics and nobody else's, may send
 * to any agent, and cannot publish another agent's status. Skipped, visibly, without
 * mosquitto.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { topics } from '../../src/agent/index.ts';
import { MqttLink } from '../../src/agent/mqtt-link.ts';
import { repoRoot } from '../helpers/cli.ts';
import { mosquittoBroker, mosquittoPath, stopAll } from '../helpers/fleet.ts';
import type { BrokerProc } from '../helpers/fleet.ts';

const work = mkdtempSync(join(tmpdir(), 'wasmig-acl-devices-'));
const haveMosquitto = mosquittoPath() !== undefined && spawnSync('sh', ['-c', 'command -v mosquitto_passwd']).status === 0;
const acl = suite('the documented per-device ACL');
let broker: BrokerProc;
const links: MqttLink[] = [];

acl.before(async () => {
  if (!haveMosquitto) return;
  const passwords = join(work, 'passwd');
  for (const [i, user] of ['a', 'b', 'laptop', 'fleet-admin'].entries()) {
    const made = spawnSync('mosquitto_passwd', ['-b', ...(i === 0 ? ['-c'] : []), passwords, user, `pw-${user}`], { encoding: 'utf8' });
    assert.is(made.status, 0, made.stderr);
  }
  broker = await mosquittoBroker(work, ['allow_anonymous false', `password_file ${passwords}`, `acl_file ${resolve(repoRoot, 'docs/mosquitto/wasmig.acl')}`], 120);
});

acl.after(async () => {
  await Promise.all(links.map((l) => l.close()));
  await stopAll();
  rmSync(work, { recursive: true, force: true });
});

/** A device's connection, recording what it receives. */
async function device(user: string, filters: string[]): Promise<{ link: MqttLink; got: string[] }> {
  const got: string[] = [];
  const link = await MqttLink.open({
    connection: { url: broker.url, username: user, password: `pw-${user}`, protocol: '3.1.1' }, clientId: `acl-${user}-${links.length}`, persistent: false,
    onMessage: (topic, payload) => { got.push(`${topic} ${payload.toString()}`); },
  });
  links.push(link);
  // A subscription the ACL forbids is refused or silently empty, depending on the version: either way nothing arrives.
  await link.subscribe(filters).catch(() => {});
  return { link, got };
}

acl('a device reads only its own inbox and data; status is its owner\'s alone', async () => {
  if (!haveMosquitto) {
    console.log('\n  SKIPPED: mosquitto is not installed (apt-get install -y mosquitto): the per-device ACL test did not run');
    return;
  }
  const sniff = [topics.agentInbox('b'), topics.agentData('b'), topics.agentStatus('b')];
  const a = await device('a', [...sniff, topics.agentInbox('a')]);
  const laptop = await device('laptop', [...sniff, topics.agentInbox('laptop')]);
  const b = await device('b', [topics.agentInbox('b'), topics.agentData('b')]);
  const watcher = await device('laptop', [topics.agentStatus('b')]);
  await laptop.link.publish(topics.agentInbox('b'), 'start-from-laptop', { qos: 1 });
  await a.link.publish(topics.agentData('b'), 'chunk-from-a', { qos: 1 });
  // a cannot speak for b: a forged status never reaches b's watchers.
  await a.link.publish(topics.agentStatus('b'), 'forged-status', { qos: 1 }).catch(() => {});
  await b.link.publish(topics.agentStatus('b'), 'real-status', { qos: 1 });
  // A marker to each sniffer's own inbox, after the rest: mosquitto routes in order, so once
  // it arrives, whatever the sniffer was going to get has arrived.
  await a.link.publish(topics.agentInbox('a'), 'marker', { qos: 1 });
  await laptop.link.publish(topics.agentInbox('laptop'), 'marker', { qos: 1 });
  const arrived = (d: { got: string[] }): boolean => d.got.some((g) => g.endsWith(' marker'));
  for (let i = 0; i < 500 && (b.got.length < 2 || watcher.got.length < 1 || !arrived(a) || !arrived(laptop)); i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(arrived(a) && arrived(laptop), 'each device reads its own inbox');
  assert.equal(b.got.sort(), [`${topics.agentData('b')} chunk-from-a`, `${topics.agentInbox('b')} start-from-laptop`]);
  assert.ok(watcher.got.includes(`${topics.agentStatus('b')} real-status`), watcher.got.join('\n'));
  assert.not.ok(watcher.got.some((g) => g.includes('forged-status')), watcher.got.join('\n'));
  assert.not.ok(a.got.some((g) => g.includes('start-from-laptop') || g.includes('chunk-from-a')), a.got.join('\n'));
  assert.not.ok(laptop.got.some((g) => g.includes('start-from-laptop') || g.includes('chunk-from-a')), laptop.got.join('\n'));
});

acl('the revocation list: every device reads it, only the admin user writes it', async () => {
  if (!haveMosquitto) {
    console.log('\n  SKIPPED: mosquitto is not installed (apt-get install -y mosquitto): the per-device ACL test did not run');
    return;
  }
  const a = await device('a', [topics.fleetRevoked, topics.agentInbox('a')]);
  const admin = await device('fleet-admin', []);
  // A device may not replace the list (mosquitto drops a publish the ACL forbids).
  await a.link.publish(topics.fleetRevoked, 'from-a', { qos: 1, retain: true }).catch(() => {});
  await admin.link.publish(topics.fleetRevoked, 'from-admin', { qos: 1, retain: true });
  await a.link.publish(topics.agentInbox('a'), 'marker', { qos: 1 });
  for (let i = 0; i < 500 && !a.got.some((g) => g.endsWith(' marker')); i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(a.got.includes(`${topics.fleetRevoked} from-admin`), a.got.join('\n'));
  assert.not.ok(a.got.some((g) => g.endsWith(' from-a')), a.got.join('\n'));
  // A device connecting later gets the admin's list, retained.
  const laptop = await device('laptop', [topics.fleetRevoked]);
  for (let i = 0; i < 250 && laptop.got.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(laptop.got, [`${topics.fleetRevoked} from-admin`]);
});

acl.run();
