/**
 * The browser agent's stand-ins for Node modules (src/agent/in-page/) do what Node does
 * where they claim to: the same sha-256, HMAC and HKDF bytes as node:crypto (the ciphers
 * and keys: in-page-crypto.test.ts), random
 * bytes of the asked length, timingSafeEqual's answers and its length error, POSIX
 * join and dirname, setImmediate in order and cancellable, timers with unref; and where
 * they do not, a one-line error naming the call.
 */
import * as node from 'node:crypto';
import { spawnSync } from 'node:child_process';
import * as nodePath from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as crypto from '../../../src/agent/in-page/node-crypto.ts';
import * as fs from '../../../src/agent/in-page/node-fs.ts';
import * as globals from '../../../src/agent/in-page/globals.ts';
import * as path from '../../../src/agent/in-page/node-path.ts';
import { MessageChannel, receiveMessageOnPort } from '../../../src/agent/in-page/node-worker-threads.ts';

const data = new Uint8Array(100_000).map((_, i) => (i * 31) & 255);

test('sha-256, HMAC-SHA-256 and HKDF-SHA-256: the bytes node:crypto gives', () => {
  assert.is(crypto.createHash('sha256').update(data).update('tail').digest('hex'), node.createHash('sha256').update(data).update('tail').digest('hex'));
  assert.equal([...crypto.createHash('sha256').update('').digest()], [...node.createHash('sha256').update('').digest()]);
  const key = new Uint8Array(32).fill(7);
  assert.is(crypto.createHmac('sha256', key).update('{"a":1}').digest('hex'), node.createHmac('sha256', key).update('{"a":1}').digest('hex'));
  assert.equal(new Uint8Array(crypto.hkdfSync('sha256', key, 'salt', 'job\n3', 32)), new Uint8Array(node.hkdfSync('sha256', key, 'salt', 'job\n3', 32)));
});

test('random bytes, timingSafeEqual', () => {
  const r = crypto.randomBytes(70_000);
  assert.is(r.length, 70_000);
  assert.ok(r.subarray(65_536).some((b) => b !== 0), 'past the first 64 KiB too');
  assert.is(crypto.timingSafeEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 2)), true);
  assert.is(crypto.timingSafeEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 3)), false);
  assert.throws(() => crypto.timingSafeEqual(Uint8Array.of(1), Uint8Array.of(1, 2)), /same byte length/);
});

test('what a tab has not: one line naming the call', () => {
  assert.throws(() => crypto.createHash('md5'), /^createHash\('md5'\): only sha256 in the browser agent$/);
  assert.throws(() => crypto.createCipheriv('aes-128-cbc', new Uint8Array(32), new Uint8Array(12)), /^createCipheriv\('aes-128-cbc'\): only aes-256-gcm in the browser agent$/);
  assert.throws(() => crypto.generateKeyPairSync('rsa'), /^generateKeyPairSync\('rsa'\): only ed25519 and x25519 in the browser agent$/);
  assert.throws(() => fs.readFileSync('/etc/key'), (e: Error & { code?: string }) => e.message === 'readFile /etc/key: a browser tab has no files' && e.code === 'ENOSYS');
  assert.is(fs.openSync('/dev/null'), 0);
  assert.throws(() => globals.process.kill(), /^process\.kill: not in a browser tab$/);
});

test('POSIX join and dirname, as node:path', () => {
  for (const parts of [['a', 'b'], ['/state', 'replay-guard.json'], ['a/', '/b'], ['', 'x']]) assert.is(path.join(...parts), nodePath.posix.join(...parts), parts.join(','));
  for (const p of ['/a/b', 'a/b', 'a', '/a', '/a/b/']) assert.is(path.dirname(p), nodePath.posix.dirname(p), p);
});

test('setImmediate runs in order, clearImmediate cancels; timers take unref', async () => {
  const order: number[] = [];
  await new Promise<void>((resolve) => {
    globals.setImmediate(() => order.push(1));
    const cancelled = globals.setImmediate(() => order.push(2));
    globals.setImmediate(() => order.push(3));
    globals.clearImmediate(cancelled);
    globals.setImmediate(() => resolve());
  });
  assert.equal(order, [1, 3]);
  const fired = await new Promise<boolean>((resolve) => {
    const t = globals.setTimeout(() => resolve(false), 10_000).unref();
    globals.clearTimeout(t);
    globals.setTimeout(() => resolve(true), 1);
  });
  assert.ok(fired);
});

test('ports: on(message) gets the data; nothing is ever waiting for a synchronous read', async () => {
  const { port1, port2 } = new MessageChannel();
  const got = new Promise((resolve) => port2.on('message', resolve));
  port1.postMessage({ op: 'run' });
  assert.equal(await got, { op: 'run' });
  assert.is(receiveMessageOnPort(port2), undefined);
  port1.close();
  port2.close();
});

test('setImmediate under Node: once its callbacks ran, the channel does not hold the process open', () => {
  // The whole unit suite runs in one process, and an idle channel kept it from exiting
  // after its last test (CI timed out so): a child that used setImmediate must end by itself.
  const globalsUrl = pathToFileURL(fileURLToPath(new URL('../../../src/agent/in-page/globals.ts', import.meta.url))).href;
  const script = `import { setImmediate, clearImmediate } from ${JSON.stringify(globalsUrl)};
    const dropped = setImmediate(() => console.log('cancelled ran'));
    clearImmediate(dropped);
    setImmediate(() => setImmediate(() => console.log('ran twice')));`;
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
  assert.is(child.error, undefined, 'the child did not exit by itself within 60 s');
  assert.is(child.stdout.trim(), 'ran twice');
  assert.is(child.status, 0);
});

test.run();
