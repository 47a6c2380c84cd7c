import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chunkContext } from '../../src/agent/blob-cipher.ts';
import { DeviceIdentity, FleetAuthority, parseRoles } from '../../src/agent/identity.ts';
import type { DeviceIdentityFile } from '../../src/agent/identity.ts';
import type { RevocationDocument } from '../../src/agent/revocation.ts';
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

test('an identity issued before certificates carried an X25519 key: a one-line error saying to re-issue it', () => {
  const file = authority.issue('old', ['run']);
  const { box: _box, ...certificate } = file.certificate;
  const { boxKey: _boxKey, ...rest } = file;
  const old = { ...rest, v: 1, certificate: { ...certificate, v: 1 } } as unknown as DeviceIdentityFile;
  assert.throws(() => new DeviceIdentity(old), (e: unknown) => e instanceof UsageError && /the certificate of old has no X25519 key .*re-issue it with wasmig fleet add old --roles/.test((e as Error).message) && !(e as Error).message.includes('\n'));
  // A message from such a device is refused with the same advice.
  const signed = { ...laptop.sign(start), cert: old.certificate };
  assert.match(agentA.verify(signed, { signer: start.from }) ?? '', /has no X25519 key .*re-issue/);
});

test('certificates expire: --days is in the certificate, and checked by every device', () => {
  const issued = new Date('2026-01-01T00:00:00Z');
  const file = authority.issue('temp', ['start'], { now: issued, days: 2 });
  assert.is(file.certificate.expires, '2026-01-03T00:00:00.000Z');
  let now = Date.parse('2026-01-02T00:00:00Z');
  const temp = new DeviceIdentity(file, { now: () => now });
  const checker = new DeviceIdentity(authority.issue('checker', ['run']), { now: () => now });
  const msg = temp.sign({ ...start, from: 'temp~1' });
  assert.is(checker.verify(msg, { signer: 'temp~1', type: 'start' }), undefined);
  now = Date.parse('2026-01-03T00:00:01Z');
  assert.match(checker.verify(msg, { signer: 'temp~1', type: 'start' }) ?? '', /the certificate of temp expired at 2026-01-03T00:00:00.000Z/);
  assert.throws(() => new DeviceIdentity(file, { now: () => now }), /expired/, 'a device does not start with its own expired certificate');
  assert.throws(() => authority.issue('x', ['run'], { days: 0 }), /--days 0/);
  // Expiry is signed: pushing it back breaks the authority's signature.
  const extended = { ...msg, cert: { ...(msg as unknown as { cert: object }).cert, expires: '2099-01-01T00:00:00.000Z' } };
  assert.match(checker.verify(extended, { signer: 'temp~1', type: 'start' }) ?? '', /not signed by this fleet's authority/);
});

test('revocation: a signed list refuses the certificates of a device issued until then; a re-issue is valid; changes are read again', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wasmig-revoked-'));
  try {
    const list = join(dir, 'revoked.json');
    const write = (doc: RevocationDocument, mtime: number): void => { writeFileSync(list, JSON.stringify(doc)); utimesSync(list, mtime, mtime); };
    write(authority.signDocument({ v: 1, kind: 'wasmig-revocations', issuedAt: '', revoked: [] } as RevocationDocument), 1000);
    let now = Date.parse('2026-06-01T00:00:00Z');
    const stolen = new DeviceIdentity(authority.issue('stolen', ['start'], { now: new Date('2026-05-01T00:00:00Z') }));
    const guard = new DeviceIdentity(authority.issue('guard', ['run']), { revoked: list, now: () => now });
    const msg = stolen.sign({ ...start, from: 'stolen~1' });
    assert.is(guard.verify(msg, { signer: 'stolen~1' }), undefined);
    write(authority.signDocument({ v: 1, kind: 'wasmig-revocations', issuedAt: '2026-06-01T00:00:00Z', revoked: [{ name: 'stolen', before: '2026-06-01T00:00:00.000Z' }] } as RevocationDocument), 2000);
    now += 5000; // the agent looks at the file again
    assert.match(guard.verify(msg, { signer: 'stolen~1' }) ?? '', /the certificate of stolen was revoked at 2026-06-01T00:00:00.000Z/);
    assert.is(guard.sealerFor('stolen'), undefined, 'nothing is sealed for a revoked device');
    const reissued = new DeviceIdentity(authority.issue('stolen', ['start'], { now: new Date('2026-06-02T00:00:00Z') }));
    assert.is(guard.verify(reissued.sign({ ...start, from: 'stolen~2' }), { signer: 'stolen~2' }), undefined);
    // A list the authority did not sign is not taken: the one in force stays.
    const lines: string[] = [];
    const logged = new DeviceIdentity(authority.issue('g2', ['run']), { revoked: list, now: () => now, log: (l) => lines.push(l) });
    write({ v: 1, kind: 'wasmig-revocations', issuedAt: '', revoked: [] }, 3000);
    now += 5000;
    assert.match(logged.verify(msg, { signer: 'stolen~1' }) ?? '', /revoked/);
    assert.match(lines.join('\n'), /changed but was not taken: not signed by this fleet's authority/);
    assert.throws(() => new DeviceIdentity(authority.issue('g3', ['run']), { revoked: join(dir, 'missing.json') }), /--revoked .*missing.json: no such file/);
    // A device cannot start with its own revoked certificate.
    write(authority.signDocument({ v: 1, kind: 'wasmig-revocations', issuedAt: '', revoked: [{ name: 'self', before: '2099-01-01T00:00:00.000Z' }] } as RevocationDocument), 4000);
    assert.throws(() => new DeviceIdentity(authority.issue('self', ['run']), { revoked: list }), /the certificate of self was revoked/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('revocation through the broker: a newer signed list is taken and kept in the file; forged, older and malformed ones are not', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wasmig-revoked-broker-'));
  try {
    const list = join(dir, 'revoked.json');
    const now = Date.parse('2026-06-01T00:00:00Z');
    const stolen = new DeviceIdentity(authority.issue('stolen', ['start'], { now: new Date('2026-05-01T00:00:00Z') }));
    const msg = stolen.sign({ ...start, from: 'stolen~1' });
    const guard = new DeviceIdentity(authority.issue('guard', ['run']), { revoked: list, revokedMayBeMissing: true, now: () => now });
    const listOf = (issuedAt: string, names: string[]): RevocationDocument => authority.signDocument({ v: 1, kind: 'wasmig-revocations', issuedAt, revoked: names.map((name) => ({ name, before: issuedAt })) } as RevocationDocument);
    assert.is(guard.verify(msg, { signer: 'stolen~1' }), undefined);
    const first = JSON.stringify(listOf('2026-06-01T00:00:00.000Z', ['stolen']));
    assert.match(guard.offerRevocations(first) ?? '', /issued at 2026-06-01T00:00:00.000Z taken from the broker: 1 device revoked$/);
    assert.match(guard.verify(msg, { signer: 'stolen~1' }) ?? '', /the certificate of stolen was revoked/);
    assert.is(guard.offerRevocations(first), undefined, 'the list in force, heard again');
    // Kept in the file: a device started later (or after a restart) enforces it before the broker says anything.
    const restarted = new DeviceIdentity(authority.issue('guard', ['run']), { revoked: list, revokedMayBeMissing: true, now: () => now });
    assert.match(restarted.verify(msg, { signer: 'stolen~1' }) ?? '', /revoked/);
    // Forged (another authority's, or altered), malformed, or older: the list in force stays.
    const other = FleetAuthority.generate().signDocument({ v: 1, kind: 'wasmig-revocations', issuedAt: '2026-07-01T00:00:00.000Z', revoked: [] } as RevocationDocument);
    assert.match(guard.offerRevocations(JSON.stringify(other)) ?? '', /not taken: not signed by this fleet's authority/);
    const altered = { ...listOf('2026-07-01T00:00:00.000Z', ['stolen']), revoked: [] };
    assert.match(guard.offerRevocations(JSON.stringify(altered)) ?? '', /not signed by this fleet's authority/);
    assert.match(guard.offerRevocations('{"v":1') ?? '', /not taken: not JSON/);
    assert.match(guard.offerRevocations(JSON.stringify(listOf('2026-05-01T00:00:00.000Z', []))) ?? '', /issued at 2026-05-01T00:00:00.000Z was not taken: the list in force was issued later/);
    assert.match(guard.verify(msg, { signer: 'stolen~1' }) ?? '', /revoked/);
    // A device that keeps no list takes none, and says why.
    const bare = new DeviceIdentity(authority.issue('bare', ['run']));
    assert.match(bare.offerRevocations(first) ?? '', /this device keeps no list/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('revocation in a tab: a list not there yet revokes nothing, and is enforced once it appears', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wasmig-revoked-later-'));
  try {
    const list = join(dir, 'revoked.json');
    let now = Date.parse('2026-06-01T00:00:00Z');
    const stolen = new DeviceIdentity(authority.issue('stolen', ['start'], { now: new Date('2026-05-01T00:00:00Z') }));
    const lines: string[] = [];
    const tab = new DeviceIdentity(authority.issue('tab', ['run']), { revoked: list, revokedMayBeMissing: true, now: () => now, log: (l) => lines.push(l) });
    const msg = stolen.sign({ ...start, from: 'stolen~1' });
    assert.is(tab.verify(msg, { signer: 'stolen~1' }), undefined);
    writeFileSync(list, JSON.stringify(authority.signDocument({ v: 1, kind: 'wasmig-revocations', issuedAt: '2026-06-01T00:00:00Z', revoked: [{ name: 'stolen', before: '2026-06-01T00:00:00.000Z' }] } as RevocationDocument)));
    // Asked at once (the page that stored it), not at the next look two seconds on.
    tab.recheckRevocations();
    assert.match(lines.join('\n'), /revoked\.json taken: 1 device revoked/);
    assert.match(tab.verify(msg, { signer: 'stolen~1' }) ?? '', /the certificate of stolen was revoked/);
    now += 5000;
    assert.match(tab.verify(msg, { signer: 'stolen~1' }) ?? '', /the certificate of stolen was revoked/);
    // Without the allowance, a missing list is still an error at start.
    assert.throws(() => new DeviceIdentity(authority.issue('g4', ['run']), { revoked: join(dir, 'none.json') }), /no such file/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('blobs are sealed to the X25519 key of a certificate that came by; only that device opens them', () => {
  const b = new DeviceIdentity(authority.issue('b', ['run']));
  const c = new DeviceIdentity(authority.issue('c', ['run']));
  assert.is(agentA.sealerFor('b'), undefined, 'no certificate of b has come by yet');
  assert.is(agentA.verify(b.sign({ ...start, from: 'b', type: 'reply' }), { signer: 'b' }), undefined);
  const sealer = agentA.sealerFor('b');
  assert.ok(sealer);
  const ctx = chunkContext('wasmig/v1/agents/b/data', 'e'.repeat(32), 0);
  const chunk = sealer.seal(ctx, Buffer.from('snapshot bytes'));
  assert.is(b.opener.open(ctx, chunk).toString(), 'snapshot bytes');
  assert.throws(() => c.opener.open(ctx, chunk), /does not decrypt/);
  assert.throws(() => agentA.opener.open(ctx, chunk), /does not decrypt/);
});

test.run();
