import { randomBytes } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chunkContext } from '../../src/agent/blob-cipher.ts';
import { BOX_OVERHEAD, BoxKeys } from '../../src/agent/box-cipher.ts';
import { sessionMacValid, withSessionMac } from '../../src/agent/session-mac.ts';

const b = BoxKeys.generate();
const c = BoxKeys.generate();
const ctx = chunkContext('wasmig/v1/agents/b/data', 'f'.repeat(32), 3);

test('a chunk sealed to a device opens with its key only, in its place only, and not altered', () => {
  const data = randomBytes(5000);
  const sealer = c.sealerFor(b.publicKey);
  const chunk = sealer.seal(ctx, data);
  assert.is(chunk.length, data.length + BOX_OVERHEAD);
  assert.ok(b.open(ctx, chunk).equals(data));
  assert.throws(() => c.open(ctx, chunk), /does not decrypt/, 'another device (even the sender) cannot open it');
  assert.throws(() => b.open(chunkContext('wasmig/v1/agents/b/data', 'f'.repeat(32), 4), chunk), /does not decrypt/);
  const altered = Buffer.from(chunk);
  altered[50] ^= 1;
  assert.throws(() => b.open(ctx, altered), /does not decrypt/);
  const otherKey = Buffer.from(chunk);
  otherKey[0] ^= 1; // another sender key: another transfer key
  assert.throws(() => b.open(ctx, otherKey), /does not decrypt/);
  assert.throws(() => b.open(ctx, chunk.subarray(0, 40)), /shorter than a sealed one's/);
});

test('a handoff session: the recipient derives the sealer\'s session key from its id, nobody else does; the MAC covers every field', () => {
  const sealer = c.sealerFor(b.publicKey);
  const session = sealer.session!;
  assert.match(session.id, /^[A-Za-z0-9_-]{43}$/);
  assert.ok(b.sessionKey(session.id)?.equals(session.key), 'the recipient derives the same key');
  assert.not.ok(c.sessionKey(session.id)?.equals(session.key), 'another device (even the sender\'s static key) does not');
  assert.not.ok(c.sealerFor(b.publicKey).session!.key.equals(session.key), 'each sealer has a session of its own');
  assert.is(b.sessionKey('not a key'), undefined);
  const message = withSessionMac({ type: 'final', job: 'j', epoch: 3, from: 'c', recipient: 'wasmig/v1/agents/b/inbox' }, session);
  assert.is(message.session, session.id);
  assert.ok(sessionMacValid(message, b.sessionKey(session.id)!));
  for (const altered of [{ ...message, epoch: 4 }, { ...message, from: 'b' }, { ...message, type: 'reply' }, { ...message, session: 'B'.repeat(43) }, { ...message, extra: 1 }]) {
    assert.not.ok(sessionMacValid(altered, session.key), JSON.stringify(altered));
  }
  assert.not.ok(sessionMacValid(message, c.sessionKey(session.id) ?? Buffer.alloc(32)), 'another key');
  assert.not.ok(sessionMacValid({ ...message, mac: 'xyz' }, session.key), 'malformed');
});

test('each transfer has its own key; the keys survive a round trip through PEM', () => {
  const data = Buffer.from('the same data');
  const one = b.sealerFor(c.publicKey).seal(ctx, data);
  const two = b.sealerFor(c.publicKey).seal(ctx, data);
  assert.not.ok(one.subarray(0, 32).equals(two.subarray(0, 32)), 'a fresh ephemeral key per sealer');
  const again = BoxKeys.fromPem(c.toPem());
  assert.is(again.publicKey, c.publicKey);
  assert.ok(again.open(ctx, one).equals(data));
  assert.ok(again.open(ctx, two).equals(data));
  assert.throws(() => BoxKeys.fromPem('not a key'), /not an X25519 private key/);
});

test.run();
