import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MAX_SKEW_MS, ReplayGuard } from '../../src/agent/replay-guard.ts';
import { canonicalJson, FleetKey } from '../../src/agent/signing.ts';
import { UsageError } from '../../src/errors/index.ts';

const key = new FleetKey(Buffer.from('0123456789abcdef0123456789abcdef'));

test('canonical JSON sorts keys at every level and drops undefined fields', () => {
  assert.is(canonicalJson({ b: 1, a: { d: [1, { z: 0, y: undefined, x: 'q' }], c: null } }), '{"a":{"c":null,"d":[1,{"x":"q","z":0}]},"b":1}');
  assert.is(canonicalJson({ a: 1, b: 2 }), canonicalJson({ b: 2, a: 1 }));
});

test('canonical JSON is byte for byte what every earlier version signed (agents of two versions verify each other)', () => {
  // Written by the first implementation; the one-pass rewrite must not change a byte.
  const doc = { 'é': [1, undefined, { Z: -0, a: 1e21, 'a b': 'q"\n\u2028' }], B: new Uint8Array([3, 1]), 10: true, 9: false, '': null, f: () => 1, n: Number.NaN, nested: [[], {}] };
  assert.is(canonicalJson(doc), '{"":null,"10":true,"9":false,"B":{"0":3,"1":1},"f":null,"n":null,"nested":[[],{}],"é":[1,null,{"Z":0,"a":1e+21,"a b":"q\\"\\n\u2028"}]}');
});

test('a signed message verifies, whatever the order of its fields', () => {
  const signed = key.sign({ type: 'start', job: 'j1', n: 3 });
  assert.is(key.verify(signed), undefined);
  assert.is(key.verify({ n: 3, sig: signed.sig, job: 'j1', type: 'start' }), undefined);
});

test('altered, unsigned, badly signed or other-key messages are refused, each with its reason', () => {
  const signed = key.sign({ type: 'start', job: 'j1' });
  assert.match(key.verify({ ...signed, job: 'j2' }) ?? '', /bad signature/);
  assert.is(key.verify({ type: 'start', job: 'j1' }), 'unsigned');
  assert.is(key.verify({ ...signed, sig: 'xyz' }), 'malformed signature');
  const other = new FleetKey(Buffer.from('another key of at least 16 bytes'));
  assert.match(other.verify(signed) ?? '', /bad signature/);
});

test('keys shorter than 16 bytes are refused', () => {
  assert.throws(() => new FleetKey(Buffer.from('short')), (e: unknown) => e instanceof UsageError && /at least 16/.test((e as Error).message));
  assert.throws(() => FleetKey.fromFile('/nonexistent/fleet.key'), (e: unknown) => e instanceof UsageError && /no such file/.test((e as Error).message));
});

test('the replay guard refuses a message seen before, or with a far-off clock', () => {
  const guard = new ReplayGuard();
  const now = Date.now();
  assert.is(guard.check('x', 'a'.repeat(32), now, { now }), undefined);
  assert.match(guard.check('x', 'a'.repeat(32), now, { now }) ?? '', /replayed/);
  assert.match(guard.check('x', 'b'.repeat(32), now - MAX_SKEW_MS - 1, { now }) ?? '', /minutes away/);
});

test.run();
