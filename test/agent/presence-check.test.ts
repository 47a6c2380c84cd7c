import { randomBytes } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DeviceIdentity, FleetAuthority } from '../../src/agent/identity.ts';
import { PresenceCheck } from '../../src/agent/presence-check.ts';
import { FleetKey } from '../../src/agent/signing.ts';
import { topics } from '../../src/agent/topics.ts';

const authority = FleetAuthority.generate();
const a = new DeviceIdentity(authority.issue('a', ['run']));
const laptop = new DeviceIdentity(authority.issue('laptop', ['start']));
const reader = new DeviceIdentity(authority.issue('reader', ['start']));
const T = Date.parse('2026-12-02T10:00:00Z');

const load = (ts: number, extra: object = {}): object => ({ v: 1, agent: 'a', instance: 'i1', at: new Date(ts).toISOString(), ts, cpu: 0, loadavg: [0, 0, 0], rss: 1, memFree: 1, memTotal: 1, jobs: 0, running: 0, ...extra });
const status = (ts: number, online: boolean, instance = 'i1'): object => ({ v: 1, agent: 'a', instance, online, ts });
const bytes = (doc: object): Buffer => Buffer.from(JSON.stringify(doc));

test('heartbeats: only the agent\'s own, signed, fresh and not older than the last one count', () => {
  let now = T;
  const lines: string[] = [];
  const check = new PresenceCheck(reader, (l) => lines.push(l), () => now);
  const topic = topics.agentLoad('a');
  assert.ok(check.accept(topic, bytes(a.sign(load(T)))));
  assert.not.ok(check.accept(topic, bytes(load(T + 1))), 'unsigned');
  assert.match(lines.join('\n'), /unsigned \(this fleet signs statuses and heartbeats\)/);
  assert.not.ok(check.accept(topic, bytes({ ...a.sign(load(T + 2)), cpu: 0.01 })), 'altered');
  assert.not.ok(check.accept(topic, bytes(laptop.sign(load(T + 3)))), 'signed by a device that is not a');
  assert.not.ok(check.accept(topics.agentLoad('b'), bytes(a.sign(load(T + 4)))), 'a\'s heartbeat on b\'s topic');
  assert.not.ok(check.accept(topics.agentLoad('ghost'), bytes(laptop.sign({ ...load(T + 5), agent: 'ghost' }))), 'a device posing as an agent that does not exist');
  assert.match(lines.join('\n'), /sent as ghost, but signed by laptop/);
  assert.not.ok(check.accept(topics.agentLoad('laptop'), bytes(laptop.sign({ ...load(T + 5), agent: 'laptop' }))), 'a device without the run role posing as an agent');
  assert.match(lines.join('\n'), /laptop may not publish agent statuses or heartbeats/);
  now = T + 10_000;
  assert.ok(check.accept(topic, bytes(a.sign(load(T + 9000)))));
  assert.not.ok(check.accept(topic, bytes(a.sign(load(T + 1000)))), 'a replayed older heartbeat');
  // A fresh listener has heard nothing newer, but a heartbeat older than the clock window is stale.
  now = T + 6 * 60_000;
  const fresh = new PresenceCheck(reader, () => {}, () => now);
  assert.not.ok(fresh.accept(topic, bytes(a.sign(load(T)))));
  assert.not.ok(fresh.accept(topic, bytes(a.sign(load(now + 6 * 60_000)))), 'from the future');
  assert.ok(fresh.accept(topic, bytes(a.sign(load(now - 1000)))));
  assert.ok(fresh.accept(topic, Buffer.alloc(0)), 'a cleared topic is nothing to believe either way');
});

test('statuses: the last will of the instance last heard counts though it is older; an older online one does not', () => {
  const check = new PresenceCheck(reader, () => {}, () => T + 60_000);
  const topic = topics.agentStatus('a');
  const will = a.sign(status(T, false));
  assert.ok(check.accept(topic, bytes(a.sign(status(T + 10, true)))));
  assert.ok(check.accept(topic, bytes(will)), 'the last will, signed at connection time');
  assert.not.ok(check.accept(topic, bytes(a.sign(status(T - 5, false, 'i0')))), 'an earlier instance\'s will');
  assert.ok(check.accept(topic, bytes(a.sign(status(T + 20, true, 'i2')))), 'a restarted agent');
  assert.not.ok(check.accept(topic, bytes(a.sign(status(T + 10, true)))), 'the old instance\'s online status, replayed');
  assert.not.ok(check.accept(topic, bytes(will)), 'its will, replayed after the new instance came');
  assert.not.ok(check.accept(topic, bytes(status(T + 30, false, 'i2'))), 'an unsigned offline status');
});

test('with the shared key: signed by the key, the same order rules', () => {
  const key = new FleetKey(randomBytes(32));
  const check = new PresenceCheck(key, () => {}, () => T);
  assert.ok(check.accept(topics.agentLoad('a'), bytes(key.sign(load(T)))));
  assert.not.ok(check.accept(topics.agentLoad('a'), bytes(load(T + 1))));
  assert.not.ok(check.accept(topics.agentLoad('a'), bytes(new FleetKey(randomBytes(32)).sign(load(T + 2)))));
  assert.ok(check.accept('wasmig/v1/jobs/j/state', bytes({ anything: true })), 'other topics are not its business');
});

test.run();
