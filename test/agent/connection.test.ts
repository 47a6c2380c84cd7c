import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkName, DEFAULT_BROKER, displayUrl, resolveConnection } from '../../src/agent/connection.ts';
import { UsageError } from '../../src/errors/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'wasmig-conn-'));

test('the broker comes from the flag, else WASMIG_BROKER, else the default', () => {
  assert.is(resolveConnection({ broker: 'mqtt://flag:1' }, { WASMIG_BROKER: 'mqtt://env:2' }).url, 'mqtt://flag:1');
  assert.is(resolveConnection({}, { WASMIG_BROKER: 'mqtt://env:2' }).url, 'mqtt://env:2');
  assert.is(resolveConnection({}, {}).url, DEFAULT_BROKER);
});

test('login, CA file and MQTT version pass through; files are read at once', () => {
  const ca = join(dir, 'ca.pem');
  writeFileSync(ca, '-----BEGIN CERTIFICATE-----\n');
  const pw = join(dir, 'pw');
  writeFileSync(pw, 'from-file\n');
  const c = resolveConnection({ broker: 'mqtts://h:8883', username: 'u', passwordFile: pw, ca, mqttVersion: '3.1.1' }, {});
  assert.is(c.username, 'u');
  assert.is(c.password, 'from-file');
  assert.is(c.ca?.toString(), '-----BEGIN CERTIFICATE-----\n');
  assert.is(c.protocol, '3.1.1');
  const e = resolveConnection({}, { WASMIG_USERNAME: 'eu', WASMIG_PASSWORD: 'ep' });
  assert.is(e.username, 'eu');
  assert.is(e.password, 'ep');
});

test('bad input is a usage error that says what is wrong', () => {
  const cases: [Parameters<typeof resolveConnection>[0], RegExp][] = [
    [{ broker: 'not a url' }, /is not a URL/],
    [{ broker: 'http://h:80' }, /unsupported scheme http:/],
    [{ ca: join(dir, 'missing.pem') }, /--ca .*missing\.pem: no such file/],
    [{ mqttVersion: '4' }, /--mqtt-version 4/],
  ];
  for (const [flags, why] of cases) assert.throws(() => resolveConnection(flags, {}), (e: unknown) => e instanceof UsageError && why.test((e as Error).message));
  assert.throws(() => checkName('a/b', 'agent name'), (e: unknown) => e instanceof UsageError);
  assert.is(checkName('edge-1.local_2', 'agent name'), 'edge-1.local_2');
});

test('passwords never show in messages', () => {
  assert.is(displayUrl('mqtt://user:secret@host:1883'), 'mqtt://user:***@host:1883');
});

test.run();
