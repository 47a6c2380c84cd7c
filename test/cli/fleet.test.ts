/** `wasmig fleet init` and `wasmig fleet add`: the authority and device identity files. */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DeviceIdentity } from '../../src/agent/identity.ts';
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

test.after(() => rmSync(work, { recursive: true, force: true }));
test.run();
