import { randomBytes } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chunkContext } from '../../src/agent/blob-cipher.ts';
import { BOX_OVERHEAD, BoxKeys } from '../../src/agent/box-cipher.ts';

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
