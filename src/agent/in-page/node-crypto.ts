/**
 * `node:crypto` for the browser agent's bundles: what the agent's protocol calls, with
 * Node's bytes: sha-256, HMAC-SHA-256 and HKDF-SHA-256 (@noble/hashes, which the snapshot
 * layer's portable platform uses too), AES-256-GCM (@noble/ciphers), Ed25519 and X25519
 * key objects, signatures and key agreement (@noble/curves), randomness from
 * `crypto.getRandomValues`. All synchronous, as the agent calls them: a page's WebCrypto
 * has HMAC, AES-GCM and Ed25519 too, but only behind promises, and the protocol seals,
 * opens, signs and checks in the middle of synchronous code (the same files as on Node).
 * `test/agent/in-page-crypto.test.ts` checks each against `node:crypto`, both ways.
 * @module
 */
import { Buffer } from './buffer.ts';
import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { gcm } from '@noble/ciphers/aes.js';
import { ed25519, x25519 } from '@noble/curves/ed25519.js';

type Data = string | Uint8Array;

function bytes(data: Data): Uint8Array {
  return typeof data === 'string' ? new TextEncoder().encode(data) : data;
}

interface Digestible {
  update(data: Uint8Array): unknown;
  digest(): Uint8Array;
}

/** The part of Node's `Hash`/`Hmac` the agent uses: update, then digest once (a Buffer, or hex). */
class Digest {
  constructor(readonly inner: Digestible) {}
  update(data: Data): this {
    this.inner.update(bytes(data));
    return this;
  }
  digest(): Buffer;
  digest(encoding: 'hex'): string;
  digest(encoding?: 'hex'): Buffer | string {
    const out = Buffer.from(this.inner.digest());
    return encoding === undefined ? out : out.toString(encoding);
  }
}

function onlySha256(algorithm: string, call: string): void {
  if (algorithm !== 'sha256') throw new Error(`${call}('${algorithm}'): only sha256 in the browser agent`);
}

/** `createHash('sha256')`. */
export function createHash(algorithm: string): Digest {
  onlySha256(algorithm, 'createHash');
  return new Digest(sha256.create());
}

/** `createHmac('sha256', key)`. */
export function createHmac(algorithm: string, key: Data): Digest {
  onlySha256(algorithm, 'createHmac');
  return new Digest(hmac.create(sha256, bytes(key)));
}

/** `hkdfSync('sha256', ...)`: an ArrayBuffer, as Node's. */
export function hkdfSync(algorithm: string, secret: Data, salt: Data, info: Data, length: number): ArrayBuffer {
  onlySha256(algorithm, 'hkdfSync');
  const key = hkdf(sha256, bytes(secret), bytes(salt), bytes(info), length);
  return key.buffer.slice(key.byteOffset, key.byteOffset + key.byteLength) as ArrayBuffer;
}

/** `randomBytes(n)`, from the page's `crypto.getRandomValues` (65,536 bytes a call at most). */
export function randomBytes(size: number): Buffer {
  const out = Buffer.alloc(size);
  for (let at = 0; at < size; at += 65536) globalThis.crypto.getRandomValues(out.subarray(at, Math.min(size, at + 65536)));
  return out;
}

/** `timingSafeEqual`: compares every byte whatever the first difference. */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) throw new RangeError('Input buffers must have the same byte length');
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}


/**
 * AES-256-GCM as Node's `createCipheriv('aes-256-gcm', ...)` is used by blob-cipher.ts
 * (`setAAD`, `update`, `final`, `getAuthTag`), from @noble/ciphers: synchronous, as the
 * protocol calls it (a page's WebCrypto AES-GCM is asynchronous only). GCM here is one
 * shot: `update` keeps the data and gives nothing, `final` gives all of it; the sealed
 * bytes (`nonce || ciphertext || tag`, concatenated by the caller) are Node's, byte for byte.
 */
class GcmCipher {
  readonly #key: Uint8Array;
  readonly #nonce: Uint8Array;
  #aad: Uint8Array | undefined;
  readonly #parts: Uint8Array[] = [];
  #tag: Uint8Array | undefined;

  constructor(algorithm: string, key: Uint8Array, nonce: Uint8Array, readonly decrypting: boolean) {
    if (algorithm !== 'aes-256-gcm') throw new Error(`${decrypting ? 'createDecipheriv' : 'createCipheriv'}('${algorithm}'): only aes-256-gcm in the browser agent`);
    if (key.length !== 32) throw new RangeError('Invalid key length');
    if (nonce.length !== 12) throw new RangeError('Invalid initialization vector: the browser agent uses 12-byte nonces only');
    this.#key = key;
    this.#nonce = nonce;
  }

  setAAD(aad: Uint8Array): this {
    this.#aad = aad;
    return this;
  }

  setAuthTag(tag: Uint8Array): this {
    if (tag.length !== 16) throw new Error('Invalid authentication tag length');
    this.#tag = tag;
    return this;
  }

  update(data: Uint8Array): Buffer {
    this.#parts.push(Uint8Array.from(data));
    return Buffer.alloc(0);
  }

  final(): Buffer {
    const data = Buffer.concat(this.#parts);
    const aes = gcm(this.#key, this.#nonce, this.#aad);
    if (!this.decrypting) {
      const sealed = aes.encrypt(data);
      this.#tag = sealed.subarray(sealed.length - 16);
      return Buffer.from(sealed.subarray(0, sealed.length - 16));
    }
    if (!this.#tag) throw new Error('Unsupported state or unable to authenticate data');
    try {
      return Buffer.from(aes.decrypt(Buffer.concat([data, this.#tag])));
    } catch {
      throw new Error('Unsupported state or unable to authenticate data');
    }
  }

  getAuthTag(): Buffer {
    if (!this.#tag || this.decrypting) throw new Error('Invalid state for operation getAuthTag');
    return Buffer.from(this.#tag);
  }
}

/** `createCipheriv('aes-256-gcm', key, nonce)`. */
export function createCipheriv(algorithm: string, key: Uint8Array, nonce: Uint8Array): GcmCipher {
  return new GcmCipher(algorithm, key, nonce, false);
}

/** `createDecipheriv('aes-256-gcm', key, nonce)`: `final` throws when the tag does not match, as Node's. */
export function createDecipheriv(algorithm: string, key: Uint8Array, nonce: Uint8Array): GcmCipher {
  return new GcmCipher(algorithm, key, nonce, true);
}

type Curve = 'ed25519' | 'x25519';
const JWK_CURVE: Record<Curve, string> = { ed25519: 'Ed25519', x25519: 'X25519' };
/** PKCS #8 of a 32-byte Ed25519 or X25519 private key (RFC 8410), before the key: what Node writes. */
const PKCS8_PREFIX: Record<Curve, string> = { ed25519: '302e020100300506032b657004220420', x25519: '302e020100300506032b656e04220420' };

/**
 * Node's `KeyObject` for the two curves identities use (identity.ts, box-cipher.ts):
 * Ed25519 (signing) and X25519 (sealing), private (the 32-byte seed) or public (32
 * bytes), exported as JWK (`x`, and `d` for a private key) or, private, as PKCS #8 PEM.
 */
export class KeyObject {
  constructor(readonly type: 'private' | 'public', readonly asymmetricKeyType: Curve, readonly raw: Uint8Array) {}

  /** The public half (of a private key: derived). */
  get publicRaw(): Uint8Array {
    if (this.type === 'public') return this.raw;
    return this.asymmetricKeyType === 'ed25519' ? ed25519.getPublicKey(this.raw) : x25519.getPublicKey(this.raw);
  }

  export(options: { format: 'jwk' } | { format: 'pem'; type: 'pkcs8' }): { kty: string; crv: string; x: string; d?: string } | string {
    if (options.format === 'jwk') {
      const jwk = { kty: 'OKP', crv: JWK_CURVE[this.asymmetricKeyType], x: Buffer.from(this.publicRaw).toString('base64url') };
      return this.type === 'private' ? { ...jwk, d: Buffer.from(this.raw).toString('base64url') } : jwk;
    }
    if (this.type !== 'private' || options.type !== 'pkcs8') throw new Error('KeyObject.export: only PKCS #8 PEM of private keys in the browser agent');
    const der = Buffer.concat([Buffer.from(PKCS8_PREFIX[this.asymmetricKeyType], 'hex'), this.raw]).toString('base64');
    return `-----BEGIN PRIVATE KEY-----\n${der}\n-----END PRIVATE KEY-----\n`;
  }
}

/** `createPrivateKey(pem)`: an Ed25519 or X25519 key in PKCS #8 PEM, as `wasmig fleet add` writes them. */
export function createPrivateKey(pem: string | Uint8Array): KeyObject {
  const text = typeof pem === 'string' ? pem : new TextDecoder().decode(pem);
  const body = /-----BEGIN PRIVATE KEY-----([A-Za-z0-9+/=\s]+)-----END PRIVATE KEY-----/.exec(text);
  if (!body) throw new Error('error:1E08010C:DECODER routines::unsupported (not a PKCS #8 PEM private key)');
  const der = Buffer.from(body[1]!.replace(/\s+/g, ''), 'base64');
  const prefix = der.subarray(0, 16).toString('hex');
  const curve = (Object.keys(PKCS8_PREFIX) as Curve[]).find((c) => PKCS8_PREFIX[c] === prefix);
  if (!curve || der.length !== 48) throw new Error('unsupported private key (the browser agent reads Ed25519 and X25519 keys in PKCS #8 only)');
  return new KeyObject('private', curve, Uint8Array.from(der.subarray(16)));
}

/** `createPublicKey(privateKey)` or `createPublicKey({ key: { kty: 'OKP', crv, x }, format: 'jwk' })`. */
export function createPublicKey(from: KeyObject | { key: { kty?: string; crv?: string; x?: string }; format: 'jwk' }): KeyObject {
  if (from instanceof KeyObject) return new KeyObject('public', from.asymmetricKeyType, from.publicRaw);
  const { kty, crv, x } = from.key;
  const curve = (Object.keys(JWK_CURVE) as Curve[]).find((c) => JWK_CURVE[c] === crv);
  if (kty !== 'OKP' || !curve || typeof x !== 'string') throw new TypeError('Invalid JWK OKP key (Ed25519 or X25519 only in the browser agent)');
  const raw = Buffer.from(x, 'base64url');
  if (raw.length !== 32) throw new TypeError(`Invalid JWK ${crv} key: x is not 32 bytes`);
  return new KeyObject('public', curve, Uint8Array.from(raw));
}

/** `generateKeyPairSync('ed25519' | 'x25519')`, the seed from `crypto.getRandomValues`. */
export function generateKeyPairSync(type: string): { privateKey: KeyObject; publicKey: KeyObject } {
  if (type !== 'ed25519' && type !== 'x25519') throw new Error(`generateKeyPairSync('${type}'): only ed25519 and x25519 in the browser agent`);
  const privateKey = new KeyObject('private', type, Uint8Array.from(randomBytes(32)));
  return { privateKey, publicKey: createPublicKey(privateKey) };
}

/** `diffieHellman({ privateKey, publicKey })` for X25519: the 32-byte shared secret (throws on a low-order key, as Node does). */
export function diffieHellman(options: { privateKey: KeyObject; publicKey: KeyObject }): Buffer {
  const { privateKey, publicKey } = options;
  if (privateKey.asymmetricKeyType !== 'x25519' || publicKey.asymmetricKeyType !== 'x25519') throw new Error('diffieHellman: only X25519 in the browser agent');
  return Buffer.from(x25519.getSharedSecret(privateKey.raw, publicKey.publicRaw));
}

/** `sign(null, data, ed25519PrivateKey)`: Ed25519 (RFC 8032, deterministic: the same 64 bytes Node gives). */
export function sign(algorithm: null | undefined, data: Uint8Array, key: KeyObject): Buffer {
  if (algorithm != null || key.type !== 'private' || key.asymmetricKeyType !== 'ed25519') throw new Error('sign: only Ed25519 (sign(null, data, key)) in the browser agent');
  return Buffer.from(ed25519.sign(data, key.raw));
}

/**
 * `verify(null, data, ed25519PublicKey, signature)`. Strict RFC 8032 checks
 * (`zip215: false`: canonical encodings only), as OpenSSL, under Node, does: a signature
 * one side refuses the other refuses too.
 */
export function verify(algorithm: null | undefined, data: Uint8Array, key: KeyObject, signature: Uint8Array): boolean {
  if (algorithm != null || key.asymmetricKeyType !== 'ed25519') throw new Error('verify: only Ed25519 (verify(null, data, key, sig)) in the browser agent');
  if (signature.length !== 64) return false;
  try {
    return ed25519.verify(signature, data, key.publicRaw, { zip215: false });
  } catch {
    return false;
  }
}
