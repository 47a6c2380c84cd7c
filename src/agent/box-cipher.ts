import { createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { UsageError } from '../errors/index.ts';
import type { ChunkOpener, ChunkSealer } from './blob-cipher.ts';
import { aesOpen, aesSeal, SEAL_OVERHEAD } from './blob-cipher.ts';
import { ProtocolError } from './messages.ts';

/** Bytes of an X25519 public key, sent before each chunk sealed to a device. */
const PUBLIC_BYTES = 32;
/** Bytes a chunk sealed to a device has more than its data: the sender's ephemeral key, nonce and tag. */
export const BOX_OVERHEAD = PUBLIC_BYTES + SEAL_OVERHEAD;
/** Transfer keys a device keeps derived (a handoff has a few transfers at a time). */
const KEYS_KEPT = 256;

function x25519Public(x: string): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x }, format: 'jwk' });
}

function rawOf(key: KeyObject): string {
  const x = (key.export({ format: 'jwk' }) as { x?: string }).x;
  if (!x) throw new UsageError('not an X25519 key');
  return x;
}

/** The AES key of one transfer: HKDF over the X25519 secret, salted with both public keys. */
function transferKey(secret: Buffer, ephemeral: Buffer, recipient: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, Buffer.concat([ephemeral, recipient]), 'wasmig-e2e-v1 x25519 transfer', 32));
}

/**
 * The HMAC key of one handoff's session (session-mac.ts): the same X25519 secret as its
 * transfers', another HKDF label, so that neither key tells anything of the other.
 */
function sessionKeyOf(secret: Buffer, ephemeral: Buffer, recipient: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, Buffer.concat([ephemeral, recipient]), 'wasmig-e2e-v1 x25519 handoff session', 32));
}

/**
 * Sealing to a device with identities (issue 16): each certificate carries the device's
 * X25519 public key. A sender makes a fresh X25519 key pair per sealer, derives its
 * AES-256-GCM key from the X25519 secret it shares with the recipient's key (HKDF), and
 * puts its ephemeral public key before every chunk (`ephemeral || nonce || ciphertext ||
 * tag`, the chunk's context, which names the transfer and the place, as associated data,
 * as with the fleet key). A sealer serves one transfer, or the transfers of one handoff
 * (its rounds and final: the key agreement then happens once at each end, before the
 * job pauses, not on the pause). Only the recipient's private key derives that key
 * again: the broker, and every other device of the fleet, see ciphertext. The ephemeral
 * key gives each sealer a key of its own; it is no forward secrecy: the recipient's key
 * is static, and whoever steals it opens what was sealed to it (re-issue and revoke a
 * stolen device).
 * Who sent a blob is not shown by the seal (anyone may seal to a device): the signed
 * manifest's sha256 says whether the blob is the one its signed sender announced.
 */
export class BoxKeys implements ChunkOpener {
  readonly #privateKey: KeyObject;
  /** This device's X25519 public key (base64url of its 32 bytes), as its certificate names it. */
  readonly publicKey: string;
  readonly #raw: Buffer;
  /** Transfer keys by the sender's ephemeral public key (hex), newest last. */
  readonly #keys = new Map<string, Buffer>();

  private constructor(privateKey: KeyObject) {
    this.#privateKey = privateKey;
    this.publicKey = rawOf(createPublicKey(privateKey));
    this.#raw = Buffer.from(this.publicKey, 'base64url');
  }

  static generate(): BoxKeys {
    return new BoxKeys(generateKeyPairSync('x25519').privateKey);
  }

  /** The device's X25519 private key from its PEM (the identity file's `boxKey`). */
  static fromPem(pem: string): BoxKeys {
    let key: KeyObject;
    try {
      key = createPrivateKey(pem);
    } catch (error) {
      throw new UsageError(`not an X25519 private key in PEM: ${(error as Error).message}`);
    }
    if (key.asymmetricKeyType !== 'x25519') throw new UsageError(`a ${key.asymmetricKeyType} key where an X25519 key belongs`);
    return new BoxKeys(key);
  }

  toPem(): string {
    return this.#privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  }

  /** A sealer (a fresh X25519 key pair) to the device whose X25519 public key is `recipient` (base64url), for one transfer or one handoff's. */
  sealerFor(recipient: string): ChunkSealer {
    const pair = generateKeyPairSync('x25519');
    const ephemeral = Buffer.from(rawOf(pair.publicKey), 'base64url');
    const secret = diffieHellman({ privateKey: pair.privateKey, publicKey: x25519Public(recipient) });
    const recipientRaw = Buffer.from(recipient, 'base64url');
    const key = transferKey(secret, ephemeral, recipientRaw);
    const session = { id: ephemeral.toString('base64url'), key: sessionKeyOf(secret, ephemeral, recipientRaw) };
    return { seal: (context, data) => aesSeal(key, context, data, ephemeral), session };
  }

  /**
   * The session key of a sealer made for this device, from its ephemeral public key `id`
   * (base64url, as the signed `prepare` names it); undefined when `id` is not one.
   */
  sessionKey(id: string): Buffer | undefined {
    if (!/^[A-Za-z0-9_-]{43}$/.test(id)) return undefined;
    const ephemeral = Buffer.from(id, 'base64url');
    try {
      const secret = diffieHellman({ privateKey: this.#privateKey, publicKey: x25519Public(id) });
      return sessionKeyOf(secret, ephemeral, this.#raw);
    } catch {
      return undefined;
    }
  }

  /** The data of a chunk sealed to this device; throws {@link ProtocolError} when it does not open. */
  open(context: string, sealed: Uint8Array, what = 'a blob chunk'): Buffer {
    if (sealed.length < BOX_OVERHEAD) throw new ProtocolError(`${what} shorter than a sealed one's key, nonce and tag (sent in clear, or with a fleet key?)`);
    const buf = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.length);
    const ephemeral = buf.subarray(0, PUBLIC_BYTES);
    const id = ephemeral.toString('hex');
    let key = this.#keys.get(id);
    if (!key) {
      let secret: Buffer;
      try {
        secret = diffieHellman({ privateKey: this.#privateKey, publicKey: x25519Public(ephemeral.toString('base64url')) });
      } catch {
        throw new ProtocolError(`${what} does not decrypt (its sender's key is not an X25519 key)`);
      }
      key = transferKey(secret, Buffer.from(ephemeral), this.#raw);
      this.#keys.set(id, key);
      if (this.#keys.size > KEYS_KEPT) this.#keys.delete(this.#keys.keys().next().value!);
    }
    return aesOpen(key, context, buf.subarray(PUBLIC_BYTES), what);
  }
}
