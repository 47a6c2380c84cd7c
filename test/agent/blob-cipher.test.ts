import { randomBytes } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BlobCipher, chunkContext, SEAL_OVERHEAD } from '../../src/agent/blob-cipher.ts';

const cipher = new BlobCipher(randomBytes(32));
const ctx = chunkContext('wasmig/v1/agents/b/data', 'f'.repeat(32), 3);

test('a sealed chunk opens in its place only, and not altered', () => {
  const data = randomBytes(1000);
  const sealed = cipher.seal(ctx, data);
  assert.is(sealed.length, data.length + SEAL_OVERHEAD);
  assert.ok(cipher.open(ctx, sealed).equals(data));
  for (const other of [chunkContext('wasmig/v1/agents/c/data', 'f'.repeat(32), 3), chunkContext('wasmig/v1/agents/b/data', 'e'.repeat(32), 3), chunkContext('wasmig/v1/agents/b/data', 'f'.repeat(32), 4)]) {
    assert.throws(() => cipher.open(other, sealed), /does not decrypt/);
  }
  const altered = Buffer.from(sealed);
  altered[40] ^= 1;
  assert.throws(() => cipher.open(ctx, altered), /does not decrypt/);
  assert.throws(() => new BlobCipher(randomBytes(32)).open(ctx, sealed), /does not decrypt/);
  assert.throws(() => cipher.open(ctx, sealed.subarray(0, 10)), /shorter than its nonce/);
  // Same data, fresh nonce: two seals differ.
  assert.not.ok(cipher.seal(ctx, data).equals(sealed));
});

test.run();
