/**
 * `node:crypto` for the browser agent's bundles: the hashes, MAC, key derivation and
 * random bytes the agent's protocol uses (sha-256, HMAC-SHA-256, HKDF-SHA-256 from
 * @noble/hashes, which the snapshot layer's portable platform uses too; randomness from
 * `crypto.getRandomValues`). Ciphers and key pairs (device identities, end-to-end
 * sealing) are not here: each throws one line (see README.md).
 * @module
 */
import { Buffer } from 'buffer';
import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';

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

const absent = (name: string) => (): never => {
  throw new Error(`${name}: not in the browser agent (no device identities or sealed messages in a tab)`);
};

export const createCipheriv = absent('createCipheriv');
export const createDecipheriv = absent('createDecipheriv');
export const createPrivateKey = absent('createPrivateKey');
export const createPublicKey = absent('createPublicKey');
export const diffieHellman = absent('diffieHellman');
export const generateKeyPairSync = absent('generateKeyPairSync');
export const sign = absent('sign');
export const verify = absent('verify');
