import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DeviceIdentity, FleetAuthority, parseRoles } from '../../src/agent/identity.ts';
import { FleetKey } from '../../src/agent/signing.ts';
import { UsageError } from '../../src/errors/index.ts';

const authority = FleetAuthority.generate();
const agentA = new DeviceIdentity(authority.issue('a', ['run']));
const laptop = new DeviceIdentity(authority.issue('laptop', ['start']));
const ops = new DeviceIdentity(authority.issue('ops', ['admin']));
const stranger = new DeviceIdentity(FleetAuthority.generate().issue('laptop', ['admin']));

const start = { type: 'start', v: 1, id: 'a'.repeat(32), ts: 1, from: 'laptop~12345678', recipient: 'wasmig/v1/agents/a/inbox', job: 'j' };

test('a certified device\'s message verifies at every other device of the fleet', () => {
  const signed = laptop.sign(start);
  assert.is(signed.sig.length, 86);
  assert.is(agentA.verify(signed, { signer: signed.from, type: 'start' }), undefined);
  assert.is(ops.verify(signed, { signer: signed.from, type: 'start' }), undefined);
  // Field order does not matter (canonical JSON), as with the shared key.
  assert.is(agentA.verify(JSON.parse(JSON.stringify({ ...signed })), { signer: 'laptop~12345678', type: 'start' }), undefined);
});

test('roles: a device asks only what its certificate allows; admin may do all', () => {
  const prepare = laptop.sign({ ...start, type: 'prepare' });
  assert.match(agentA.verify(prepare, { signer: prepare.from, type: 'prepare' }) ?? '', /laptop may not send prepare requests \(roles: start; needs run\)/);
  const migrate = laptop.sign({ ...start, type: 'migrate' });
  assert.match(agentA.verify(migrate, { signer: migrate.from, type: 'migrate' }) ?? '', /may not send migrate requests/);
  const fromOps = ops.sign({ ...start, from: 'ops~1', type: 'prepare' });
  assert.is(agentA.verify(fromOps, { signer: 'ops~1', type: 'prepare' }), undefined);
  const state = laptop.sign({ job: 'j', agent: 'laptop', epoch: 9 });
  assert.match(agentA.verify(state, { signer: 'laptop', type: 'state' }) ?? '', /laptop may not publish job states/);
  // Replies and reads need no role.
  assert.is(agentA.verify(laptop.sign({ ...start, type: 'replay' }), { signer: 'laptop~12345678', type: 'replay' }), undefined);
});

test('a device cannot speak as another, and altered or foreign certificates fail', () => {
  const asA = laptop.sign({ ...start, from: 'a' });
  assert.match(ops.verify(asA, { signer: 'a', type: 'start' }) ?? '', /sent as a, but signed by laptop/);
  // laptop~... may not pose as a client of a device named "lap".
  assert.match(ops.verify(laptop.sign(start), { signer: 'lap~1', type: 'start' }) ?? '', /signed by laptop/);
  const signed = laptop.sign(start);
  const elevated = { ...signed, cert: { ...(signed as unknown as { cert: object }).cert, roles: ['admin'] } };
  assert.match(agentA.verify(elevated, { signer: signed.from, type: 'start' }) ?? '', /not signed by this fleet's authority/);
  assert.match(agentA.verify({ ...signed, job: 'other' }, { signer: signed.from, type: 'start' }) ?? '', /bad signature/);
  assert.match(agentA.verify(stranger.sign(start), { signer: start.from, type: 'start' }) ?? '', /not signed by this fleet's authority/);
  assert.is(agentA.verify(start), 'unsigned');
  // A shared-key signature is no identity's.
  const hmac = new FleetKey(Buffer.from('0123456789abcdef0123456789abcdef')).sign(start);
  assert.match(agentA.verify(hmac) ?? '', /malformed signature/);
});

test('identity files: the key must be the certificate\'s, the certificate the authority\'s; roles are checked', () => {
  const file = authority.issue('b', ['run']);
  const other = authority.issue('c', ['run']);
  assert.throws(() => new DeviceIdentity({ ...file, privateKey: other.privateKey }), (e: unknown) => e instanceof UsageError && /not the one the certificate names/.test((e as Error).message));
  assert.throws(() => new DeviceIdentity({ ...file, authority: FleetAuthority.generate().publicKey }), /not signed by this fleet's authority/);
  assert.equal(parseRoles('run, start'), ['run', 'start']);
  assert.throws(() => parseRoles('run,root'), /unknown role "root"/);
  assert.throws(() => authority.issue('bad/name', ['run']), /device name/);
  assert.throws(() => authority.issue('x', []), /at least one role/);
  assert.is(FleetAuthority.fromPem(authority.toPem()).publicKey, authority.publicKey);
});

test.run();
