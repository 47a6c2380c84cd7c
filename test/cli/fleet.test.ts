/** `wasmig fleet init`, `add`, `revoke` and `publish`: the authority, device identity and revocation files, and the list on the broker. */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DeviceIdentity } from '../../src/agent/identity.ts';
import { FleetClient, startBroker, topics } from '../../src/agent/index.ts';
import { cli } from '../helpers/fleet.ts';
import { wasmig } from '../helpers/cli.ts';

const work = mkdtempSync(join(tmpdir(), 'wasmig-fleet-cli-'));
const dir = join(work, 'fleet');

test('init makes the authority, add a device identity that loads; files are private', () => {
  const init = wasmig(['fleet', 'init', '--dir', dir]);
  assert.is(init.status, 0, init.stderr);
  assert.match(init.stdout, /authority key in .*authority\.key \(keep it off the devices\); public key [A-Za-z0-9_-]{43}/);
  assert.is(statSync(join(dir, 'authority.key')).mode & 0o777, 0o600);
  const add = wasmig(['fleet', 'add', 'edge-1', '--roles', 'run', '--dir', dir]);
  assert.is(add.status, 0, add.stderr);
  assert.match(add.stdout, /edge-1 \(run\) in .*edge-1\.identity/);
  const file = join(dir, 'edge-1.identity');
  assert.is(statSync(file).mode & 0o777, 0o600);
  const identity = DeviceIdentity.fromFile(file);
  assert.is(identity.name, 'edge-1');
  assert.equal(identity.certificate.roles, ['run']);
});

test('clear refusals: no overwrite, unknown roles, no authority, both ways to sign', () => {
  const again = wasmig(['fleet', 'init', '--dir', dir]);
  assert.is(again.status, 2);
  assert.match(again.stderr, /authority\.key exists already: not overwritten/);
  const role = wasmig(['fleet', 'add', 'x', '--roles', 'run,root', '--dir', dir]);
  assert.is(role.status, 2);
  assert.match(role.stderr, /unknown role "root"/);
  const none = wasmig(['fleet', 'add', 'x', '--roles', 'run', '--dir', join(work, 'nowhere')]);
  assert.is(none.status, 2);
  assert.match(none.stderr, /no fleet authority there \(wasmig fleet init --dir/);
  const both = wasmig(['ps', '--key-file', join(work, 'k'), '--identity', join(dir, 'edge-1.identity')]);
  assert.is(both.status, 2);
  assert.match(both.stderr, /--key-file and --identity are two ways to sign: give one/);
});

test('add --days puts an expiry in the certificate; revoke writes a signed list that devices enforce', () => {
  const add = wasmig(['fleet', 'add', 'temp', '--roles', 'start', '--days', '7', '--dir', dir]);
  assert.is(add.status, 0, add.stderr);
  assert.match(add.stdout, /temp \(start, valid until \d{4}-\d\d-\d\dT[^)]+\) in/);
  const temp = DeviceIdentity.fromFile(join(dir, 'temp.identity'));
  const days = (Date.parse(temp.certificate.expires ?? '') - Date.now()) / 86_400_000;
  assert.ok(days > 6.9 && days <= 7, `expires in ${days} days`);
  const bad = wasmig(['fleet', 'add', 'x', '--roles', 'run', '--days', 'soon', '--dir', dir]);
  assert.is(bad.status, 2);
  assert.match(bad.stderr, /--days soon: a number of days/);
  const revoke = wasmig(['fleet', 'revoke', 'temp', '--dir', dir]);
  assert.is(revoke.status, 0, revoke.stderr);
  assert.match(revoke.stdout, /temp's certificates issued until .* are revoked in .*revoked\.json; copy it to every device \(--revoked /);
  const list = join(dir, 'revoked.json');
  const guard = DeviceIdentity.fromFile(join(dir, 'edge-1.identity'), { revoked: list });
  const from = temp.sign({ type: 'start', from: 'temp~1' });
  assert.match(guard.verify(from, { signer: 'temp~1' }) ?? '', /the certificate of temp was revoked/);
  // A second revocation keeps the first.
  assert.is(wasmig(['fleet', 'revoke', 'other', '--dir', dir]).status, 0);
  assert.equal((JSON.parse(readFileSync(list, 'utf8')) as { revoked: { name: string }[] }).revoked.map((r) => r.name), ['temp', 'other']);
  // The revoked device cannot start with its own certificate either; --revoked needs --identity.
  const ps = wasmig(['ps', '--identity', join(dir, 'temp.identity'), '--revoked', list]);
  assert.is(ps.status, 2);
  assert.match(ps.stderr, /^wasmig: --identity .*temp\.identity: the certificate of temp was revoked at [^\n]+\n$/);
  const keyOnly = wasmig(['ps', '--key-file', join(work, 'k'), '--revoked', list]);
  assert.is(keyOnly.status, 2);
  assert.match(keyOnly.stderr, /--revoked goes with --identity/);
  // A list altered by hand is not the authority's: revoke refuses to build on it.
  writeFileSync(list, readFileSync(list, 'utf8').replace('"other"', '"edge-1"'));
  const tampered = wasmig(['fleet', 'revoke', 'x', '--dir', dir]);
  assert.is(tampered.status, 2);
  assert.match(tampered.stderr, /revoked\.json: not signed by this fleet's authority; not changed/);
});

test('an identity file from before end-to-end encryption: one line saying to re-issue it', () => {
  const file = join(dir, 'edge-1.identity');
  const current = JSON.parse(readFileSync(file, 'utf8')) as { certificate: Record<string, unknown>; boxKey?: string; v: number };
  delete current.certificate.box;
  current.certificate.v = 1;
  delete current.boxKey;
  current.v = 1;
  const old = join(work, 'old.identity');
  writeFileSync(old, JSON.stringify(current));
  const ps = wasmig(['ps', '--identity', old]);
  assert.is(ps.status, 2);
  assert.match(ps.stderr, /^wasmig: --identity .*old\.identity: the certificate of edge-1 has no X25519 key \(issued by an older wasmig, before end-to-end encryption\): re-issue it with wasmig fleet add edge-1 --roles \.\.\.\n$/);
});

test('revoke --broker publishes the signed list, retained; publish sends it again; one-line refusals', async () => {
  const broker = await startBroker({ port: 0 });
  const heard: string[] = [];
  let reader: FleetClient | undefined;
  const dir = join(work, 'published');
  try {
    assert.is((await cli(['fleet', 'init', '--dir', dir])).status, 0);
    const revoke = await cli(['fleet', 'revoke', 'edge-2', '--dir', dir, '--broker', broker.url]);
    assert.is(revoke.status, 0, revoke.stderr);
    assert.match(revoke.stdout, /edge-2's certificates issued until .* are revoked in .*revoked\.json\n/);
    assert.match(revoke.stdout, /the list \(issued .*, \d+ devices?\) is retained on mqtt:\/\/127\.0\.0\.1:\d+; agents with identities take it now/);
    // Retained: a reader that comes later gets the list the file holds.
    reader = await FleetClient.connect({ connection: { url: broker.url } });
    await reader.peer.listen([topics.fleetRevoked], (_topic, payload) => { heard.push(payload.toString()); });
    for (let i = 0; i < 100 && heard.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    const file = JSON.parse(readFileSync(join(dir, 'revoked.json'), 'utf8')) as { revoked: { name: string }[] };
    assert.equal(JSON.parse(heard[0] ?? '{}'), file);
    assert.ok(file.revoked.some((r) => r.name === 'edge-2'));
    const again = await cli(['fleet', 'publish', '--dir', dir, '--broker', broker.url]);
    assert.is(again.status, 0, again.stderr);
    for (let i = 0; i < 100 && heard.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(JSON.parse(heard[1] ?? '{}'), file);
    const noBroker = await cli(['fleet', 'publish', '--dir', dir]);
    assert.is(noBroker.status, 2);
    assert.match(noBroker.stderr, /^wasmig: missing --broker URL \(where to publish the list\)/);
    const noList = await cli(['fleet', 'publish', '--dir', join(work, 'empty'), '--broker', broker.url]);
    assert.is(noList.status, 2);
    assert.match(noList.stderr, /no fleet authority there/);
  } finally {
    await reader?.close();
    await broker.close();
  }
});

test.after(() => rmSync(work, { recursive: true, force: true }));
test.run();
