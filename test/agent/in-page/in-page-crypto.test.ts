/**
 * The browser agent's ciphers and keys (src/agent/in-page/node-crypto.ts) against
 * node:crypto, both ways: what a tab seals Node opens and back (AES-256-GCM with
 * associated data, as blob-cipher.ts calls it), Ed25519 signatures byte-identical (the
 * scheme is deterministic) and each side verifying the other's, X25519 agreeing on the
 * same secret, keys read from the PEM Node writes and written as Node reads them, and
 * the `buffer` package given base64url as Node's Buffer has it.
 */
import * as node from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Buffer as PackageBuffer } from '../../../node_modules/buffer/index.js';
import { withBase64url } from '../../../src/agent/in-page/buffer.ts';
import * as page from '../../../src/agent/in-page/node-crypto.ts';

const data = new Uint8Array(70_000).map((_, i) => (i * 31 + 7) & 255);
const key = node.randomBytes(32);
const nonce = node.randomBytes(12);
const aad = Buffer.from('blobs/b/abc\nt1\n3');

/** Seals as blob-cipher.ts's aesSeal does, with either implementation. */
function seal(impl: typeof page | typeof node, sealKey: Uint8Array, iv: Uint8Array, bytes: Uint8Array): Buffer {
  const cipher = impl.createCipheriv('aes-256-gcm', sealKey, iv) as unknown as { setAAD(a: Uint8Array): void; update(d: Uint8Array): Buffer; final(): Buffer; getAuthTag(): Buffer };
  cipher.setAAD(aad);
  const body = cipher.update(bytes);
  const tail = cipher.final();
  return Buffer.concat([iv, body, tail, cipher.getAuthTag()]);
}

/** Opens as blob-cipher.ts's aesOpen does. */
function open(impl: typeof page | typeof node, openKey: Uint8Array, sealed: Buffer, context = aad): Buffer {
  const decipher = impl.createDecipheriv('aes-256-gcm', openKey, sealed.subarray(0, 12)) as unknown as { setAAD(a: Uint8Array): void; setAuthTag(t: Uint8Array): void; update(d: Uint8Array): Buffer; final(): Buffer };
  decipher.setAAD(context);
  decipher.setAuthTag(sealed.subarray(sealed.length - 16));
  return Buffer.concat([decipher.update(sealed.subarray(12, sealed.length - 16)), decipher.final()]);
}

test('AES-256-GCM: the same sealed bytes as Node, and each opens the other\'s', () => {
  const inPage = seal(page, key, nonce, data);
  const inNode = seal(node, key, nonce, data);
  assert.is(inPage.toString('hex'), inNode.toString('hex'));
  assert.equal(new Uint8Array(open(node, key, inPage)), data);
  assert.equal(new Uint8Array(open(page, key, inNode)), data);
  assert.is(seal(page, key, nonce, new Uint8Array(0)).toString('hex'), seal(node, key, nonce, new Uint8Array(0)).toString('hex'));
});

test('AES-256-GCM: an altered chunk, another context or another key does not open (as in Node)', () => {
  const sealed = seal(node, key, nonce, data);
  const altered = Buffer.from(sealed);
  altered[100] ^= 1;
  assert.throws(() => open(page, key, altered), /unable to authenticate/);
  assert.throws(() => open(node, key, altered), /unable to authenticate/);
  assert.throws(() => open(page, key, sealed, Buffer.from('blobs/c/abc\nt1\n3')), /unable to authenticate/);
  assert.throws(() => open(page, node.randomBytes(32), sealed), /unable to authenticate/);
});

test('Ed25519: a key Node wrote signs the same 64 bytes in the page; each verifies the other', () => {
  const nodeKey = node.generateKeyPairSync('ed25519').privateKey;
  const pem = nodeKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  const pageKey = page.createPrivateKey(pem);
  assert.is(pageKey.asymmetricKeyType, 'ed25519');
  assert.is(pageKey.export({ format: 'pem', type: 'pkcs8' }), pem, 'written back as Node wrote it');
  const x = (node.createPublicKey(nodeKey).export({ format: 'jwk' }) as { x: string }).x;
  assert.is((page.createPublicKey(pageKey).export({ format: 'jwk' }) as { x: string }).x, x);
  const message = Buffer.from('{"from":"tab","type":"start"}');
  const sigPage = page.sign(null, message, pageKey);
  const sigNode = node.sign(null, message, nodeKey);
  assert.is(sigPage.toString('hex'), sigNode.toString('hex'));
  const pagePublic = page.createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
  assert.ok(page.verify(null, message, pagePublic, sigNode));
  assert.ok(node.verify(null, message, node.createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' }), sigPage));
  const forged = Buffer.from(sigNode);
  forged[3] ^= 4;
  assert.is(page.verify(null, message, pagePublic, forged), false);
  assert.is(page.verify(null, Buffer.from('{"from":"tab","type":"stop"}'), pagePublic, sigNode), false);
  assert.is(page.verify(null, message, pagePublic, sigNode.subarray(0, 63)), false);
  // A key made in the page, read by Node.
  const made = page.generateKeyPairSync('ed25519');
  const inNode = node.createPrivateKey(made.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string);
  assert.is(node.sign(null, message, inNode).toString('hex'), page.sign(null, message, made.privateKey).toString('hex'));
});

test('X25519: page and Node agree on the secret, either side\'s key pair', () => {
  const nodePair = node.generateKeyPairSync('x25519');
  const pagePair = page.generateKeyPairSync('x25519');
  const nodeX = (nodePair.publicKey.export({ format: 'jwk' }) as { x: string }).x;
  const pageX = (pagePair.publicKey.export({ format: 'jwk' }) as { x: string }).x;
  const inPage = page.diffieHellman({ privateKey: pagePair.privateKey, publicKey: page.createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: nodeX }, format: 'jwk' }) });
  const inNode = node.diffieHellman({ privateKey: nodePair.privateKey, publicKey: node.createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: pageX }, format: 'jwk' }) });
  assert.is(inPage.toString('hex'), inNode.toString('hex'));
  const pem = nodePair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  const read = page.createPrivateKey(pem);
  assert.is(read.asymmetricKeyType, 'x25519');
  assert.is((page.createPublicKey(read).export({ format: 'jwk' }) as { x: string }).x, nodeX);
});

test('bad keys: one line', () => {
  assert.throws(() => page.createPrivateKey('not a key'), /not a PKCS #8 PEM private key/);
  const rsa = node.generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  assert.throws(() => page.createPrivateKey(rsa), /^unsupported private key \(the browser agent reads Ed25519 and X25519 keys in PKCS #8 only\)$/);
  assert.throws(() => page.createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: 'AAAA' }, format: 'jwk' }), /x is not 32 bytes/);
});

test('the buffer package learns base64url, with Node\'s bytes', () => {
  const B = withBase64url(PackageBuffer as unknown as Parameters<typeof withBase64url>[0]) as unknown as typeof Buffer;
  for (const length of [0, 1, 2, 3, 31, 32, 64]) {
    const bytes = node.randomBytes(length);
    const text = bytes.toString('base64url');
    assert.is(B.from(bytes).toString('base64url'), text);
    assert.is(B.from(text, 'base64url').toString('hex'), bytes.toString('hex'));
  }
  assert.ok(B.isEncoding('base64url') && B.isEncoding('hex'));
  assert.is(B.from('ab').toString('hex'), '6162');
});

test.run();
