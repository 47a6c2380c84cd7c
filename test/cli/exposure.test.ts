/**
 * Secure by default (issue 16): `wasmig broker` and `wasmig agent` refuse an
 * unauthenticated fleet on anything but loopback, unless told `--insecure`.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isLoopback, refuseOpenFleet } from '../../src/cli/commands/exposure.ts';
import { UsageError } from '../../src/errors/index.ts';
import { wasmig } from '../helpers/cli.ts';

test('loopback is localhost, 127/8 and ::1; everything else is not', () => {
  for (const host of ['localhost', '127.0.0.1', '127.1.2.3', '::1', '[::1]', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', 'LOCALHOST']) assert.ok(isLoopback(host), host);
  for (const host of ['0.0.0.0', '::', '10.0.0.5', '192.168.1.2', 'broker.example.com', '[2001:db8::1]', '128.0.0.1', 'localhost.example.com']) assert.not.ok(isLoopback(host), host);
});

test('an open fleet off loopback is refused with one line; loopback and --insecure pass', () => {
  assert.throws(() => refuseOpenFleet('wasmig agent connecting to', 'mqtt://10.0.0.5:1883', '--key-file', false), (e: unknown) => e instanceof UsageError
    && (e as Error).message === 'wasmig agent connecting to mqtt://10.0.0.5:1883 without --key-file: anybody who reaches it could run jobs and read them; add --key-file, or --insecure to accept that');
  refuseOpenFleet('wasmig agent connecting to', 'mqtt://127.0.0.1:1883', '--key-file', false);
  refuseOpenFleet('wasmig agent connecting to', 'mqtts://[::1]:8883', '--key-file', false);
  refuseOpenFleet('wasmig agent connecting to', 'mqtt://10.0.0.5:1883', '--key-file', true);
  refuseOpenFleet('wasmig broker listening on', '127.0.0.1', '--username and --password', false);
  assert.throws(() => refuseOpenFleet('wasmig broker listening on', '0.0.0.0', '--username and --password', false), /wasmig broker listening on 0\.0\.0\.0 without --username and --password/);
});

test('the commands refuse before they listen or connect, with a usage status', () => {
  const broker = wasmig(['broker', '--host', '0.0.0.0', '--port', '0']);
  assert.is(broker.status, 2, broker.stderr);
  assert.is(broker.stderr.trim().split('\n').length, 1, broker.stderr);
  assert.match(broker.stderr, /wasmig broker listening on 0\.0\.0\.0 without --username and --password: .* or --insecure to accept that/);
  // 192.0.2.1 (TEST-NET-1) answers nobody: a refusal must come before any connection attempt.
  const agent = wasmig(['agent', '--name', 'x', '--broker', 'mqtt://192.0.2.1:1883'], { env: { ...process.env, WASMIG_KEY_FILE: '', WASMIG_IDENTITY: '' }, timeout: 20_000 });
  assert.is(agent.status, 2, agent.stderr);
  assert.match(agent.stderr, /wasmig agent connecting to mqtt:\/\/192\.0\.2\.1:1883 without --key-file or --identity: /);
});

test.run();
