/**
 * Issue 16: a rogue MQTT client with broker access but no key publishes agent statuses
 * and heartbeats: a "ghost" agent, online and idle, that placement would choose; a false
 * offline status for a running agent; a heartbeat that says an agent drains, to steer
 * placement away from it. In a fleet with identities (and one with the shared key) they
 * reach nobody: placement, `ps` and followers see the agents as they are once the agents
 * put back what the rogue overwrote (a retained topic keeps one message: the broker ACL,
 * not signatures, stops the overwrite), and never the ghost or a false word. The same
 * rogue in an open fleet fools placement, so the test sees the attack work when nothing
 * stops it.
 */
import { randomBytes } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Agent, DeviceIdentity, FleetAuthority, FleetClient, FleetKey, place, readAgents, startBroker, topics } from '../../src/agent/index.ts';
import type { EmbeddedBroker, MessageSigner } from '../../src/agent/index.ts';
import { MqttLink } from '../../src/agent/mqtt-link.ts';

const s = suite('rogue statuses and heartbeats');
let broker: EmbeddedBroker;

s.before(async () => {
  broker = await startBroker({ port: 0 });
});

s.after(async () => {
  await broker.close();
});

/** Starts agents `prefix`a and `prefix`b, lets the rogue publish, and returns what placement and the fleet view make of it. */
async function underAttack(prefix: string, keyOf: (device: string) => MessageSigner | undefined): Promise<{ chosen: string; online: string[]; draining: boolean | undefined; logs: string[] }> {
  // The ghost sorts first: placement takes it among equally idle agents.
  const [a, b, ghost] = [`${prefix}a`, `${prefix}b`, `${prefix}0ghost`];
  const logs: string[] = [];
  const agents = await Promise.all([a, b].map((name) => Agent.start({ name, connection: { url: broker.url }, key: keyOf(name), heartbeatMs: 500, log: (l) => logs.push(`${name}: ${l}`) })));
  const rogue = await MqttLink.open({ connection: { url: broker.url }, clientId: `wasmig-rogue-${prefix}`, persistent: false, onMessage: () => {} });
  const client = await FleetClient.connect({ connection: { url: broker.url }, key: keyOf('laptop'), log: (l) => logs.push(`client: ${l}`) });
  try {
    const now = Date.now();
    const idle = { v: 1, at: new Date(now + 60_000).toISOString(), ts: now + 60_000, cpu: 0, loadavg: [0, 0, 0], rss: 1, memFree: 2 ** 40, memTotal: 2 ** 40, jobs: 0, running: 0, heartbeatMs: 300, cores: 64 };
    // A ghost agent, online and idle: placement would choose it.
    await rogue.publish(topics.agentStatus(ghost), JSON.stringify({ v: 1, agent: ghost, instance: 'g1', online: true, ts: now }), { retain: true, qos: 1 });
    await rogue.publish(topics.agentLoad(ghost), JSON.stringify({ ...idle, agent: ghost, instance: 'g1' }), { retain: true, qos: 1 });
    // b looks offline; a looks draining (its instance copied from its real status).
    const statusOfA = await client.agentStatus(a);
    const statusOfB = await client.agentStatus(b);
    await rogue.publish(topics.agentStatus(b), JSON.stringify({ v: 1, agent: b, instance: statusOfB?.instance ?? '', online: false, ts: now + 60_000 }), { retain: true, qos: 1 });
    await rogue.publish(topics.agentLoad(a), JSON.stringify({ ...idle, agent: a, instance: statusOfA?.instance ?? '', draining: true }), { retain: true, qos: 1 });
    // Fresh readers, as `run --on any` and `ps` are: until both agents are seen with a
    // heartbeat (an open fleet: at once), each look must show nothing the rogue said.
    const looks: { chosen: string; online: string[]; draining: boolean | undefined }[] = [];
    for (let i = 0; i < 80; i++) {
      const reader = await FleetClient.connect({ connection: { url: broker.url }, key: keyOf('reader'), log: (l) => logs.push(`reader: ${l}`) });
      try {
        const seen = await readAgents(reader.peer);
        const chosen = seen.some((x) => x.load) ? place(seen, { labels: {} }).chosen.name : '';
        looks.push({ chosen, online: seen.map((x) => x.name), draining: seen.find((x) => x.name === a)?.advertised.draining });
        if (keyOf(a) === undefined || (seen.length === 2 && seen.every((x) => x.load))) break;
      } finally {
        await reader.close();
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    if (keyOf(a) !== undefined) {
      for (const look of looks) {
        assert.not.ok(look.online.includes(ghost), `the ghost was seen: ${JSON.stringify(look)}`);
        assert.not.ok(look.draining, `a looked draining: ${JSON.stringify(look)}`);
      }
    }
    return { ...looks[looks.length - 1], logs };
  } finally {
    await client.close();
    // The rogue's retained messages go, so that they do not outlive the test.
    for (const t of [topics.agentStatus(ghost), topics.agentLoad(ghost)]) await rogue.publish(t, '', { retain: true, qos: 1 });
    await rogue.publish(topics.agentLoad(a), '', { retain: true, qos: 1 });
    await rogue.close();
    await Promise.all(agents.map((x) => x.stop()));
  }
}

s('in an open fleet the rogue steers placement (the control)', async () => {
  const r = await underAttack('open-', () => undefined);
  assert.is(r.chosen, 'open-0ghost');
  assert.ok(r.online.includes('open-0ghost'));
});

s('with identities the rogue\'s statuses and heartbeats reach nobody, and are logged', async () => {
  const authority = FleetAuthority.generate();
  const r = await underAttack('id-', (device) => new DeviceIdentity(authority.issue(device, device.endsWith('a') || device.endsWith('b') ? ['run'] : ['start'])));
  assert.equal(r.online, ['id-a', 'id-b']);
  assert.not.ok(r.draining, 'a does not look draining');
  assert.ok(['id-a', 'id-b'].includes(r.chosen));
  assert.match(r.logs.join('\n'), /reader: ignored a heartbeat on wasmig\/v1\/agents\/id-0ghost\/load: unsigned/);
  assert.match(r.logs.join('\n'), /id-b: the broker held a status of this agent that it did not sign \(forged or replayed\): publishing its own again/);
});

s('with the shared key too', async () => {
  const key = new FleetKey(randomBytes(32));
  const r = await underAttack('key-', () => key);
  assert.equal(r.online, ['key-a', 'key-b']);
  assert.not.ok(r.draining);
});

s.run();
