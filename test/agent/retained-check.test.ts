/**
 * What the dashboard believes of the retained messages it shows (`RetainedCheck`, issue
 * 16 and 19): the rules `wasmig ps` follows, with the fleet key and with device identities.
 */
import { randomBytes } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DeviceIdentity, FleetAuthority, FleetKey, topics } from '../../src/agent/index.ts';
import { migrationTopic } from '../../src/agent/move-log.ts';
import { RetainedCheck } from '../../src/agent/retained-check.ts';

const bytes = (o: object): Uint8Array => new TextEncoder().encode(JSON.stringify(o));
const state = {
  v: 1, job: 'j1', agent: 'a', instance: 'i-1', epoch: 3, state: 'running', program: 'p.wasm', args: ['p.wasm'],
  startedAt: '2026-12-03T00:00:00.000Z', updatedAt: '2026-12-03T00:00:01.000Z',
};
const report = { v: 1, job: 'j1', from: 'a', agent: 'a', to: 'b', epoch: 4, mode: 'pre-copy', rounds: 2, downtimeMs: 7.1, totalMs: 300, bytesSent: 2400, at: '2026-12-03T00:00:02.000Z' };
const status = (signer: { sign<T extends object>(m: T): T }, agent: string, ts: number): Uint8Array =>
  bytes(signer.sign({ v: 1, agent, instance: 'i-1', online: true, tier: 'auto', signed: true, ts }));

test('the fleet key: signed states, reports and statuses are believed; unsigned, altered or foreign ones are not', () => {
  const key = new FleetKey(randomBytes(32));
  const other = new FleetKey(randomBytes(32));
  const check = new RetainedCheck(key);
  assert.is(check.distrust(topics.jobState('j1'), bytes(key.sign(state))), undefined);
  assert.is(check.distrust(topics.jobState('j1'), bytes(state)), 'unsigned');
  assert.ok(check.distrust(topics.jobState('j1'), bytes({ ...key.sign(state), epoch: 9 })));
  assert.ok(check.distrust(topics.jobState('j1'), bytes(other.sign(state))));
  assert.is(check.distrust(topics.jobState('j2'), bytes(key.sign(state))), 'not a state of job j2');
  assert.is(check.distrust(migrationTopic('j1'), bytes(key.sign(report))), undefined);
  assert.is(check.distrust(migrationTopic('j1'), bytes(report)), 'unsigned');
  assert.is(check.distrust(migrationTopic('j2'), bytes(key.sign(report))), 'not a migration report of job j2');
  assert.is(check.distrust(migrationTopic('j1'), new TextEncoder().encode('{')), 'not JSON');
  const now = Date.now();
  assert.is(check.distrust(topics.agentStatus('a'), status(key, 'a', now)), undefined);
  assert.match(check.distrust(topics.agentStatus('a'), status(key, 'a', now - 60_000)) ?? '', 'replayed');
  assert.match(check.distrust(topics.agentStatus('b'), status(key, 'a', now)) ?? '', 'on b\'s topic');
  assert.match(check.distrust(topics.agentStatus('c'), status(other, 'c', now)) ?? '', 'signature');
  // Cleared messages and topics it does not know say nothing.
  assert.is(check.distrust(topics.jobState('j1'), new Uint8Array(0)), undefined);
  assert.is(check.distrust(topics.jobOut('j1'), bytes({})), undefined);
});

test('identities: a state or report counts only from the agent it names', () => {
  const authority = FleetAuthority.generate();
  const a = new DeviceIdentity(authority.issue('a', ['run']));
  const b = new DeviceIdentity(authority.issue('b', ['run']));
  const laptop = new DeviceIdentity(authority.issue('laptop', ['start']));
  const check = new RetainedCheck(laptop);
  assert.is(check.distrust(topics.jobState('j1'), bytes(a.sign(state))), undefined);
  assert.match(check.distrust(topics.jobState('j1'), bytes(b.sign(state))) ?? '', 'signed by b');
  assert.is(check.distrust(migrationTopic('j1'), bytes(a.sign(report))), undefined);
  assert.match(check.distrust(migrationTopic('j1'), bytes(b.sign(report))) ?? '', 'signed by b');
  // A device without the run role may not publish states.
  assert.match(check.distrust(topics.jobState('j1'), bytes(laptop.sign({ ...state, agent: 'laptop' }))) ?? '', 'may not publish job states');
  assert.is(check.distrust(topics.agentStatus('a'), status(a, 'a', Date.now())), undefined);
});

test.run();
