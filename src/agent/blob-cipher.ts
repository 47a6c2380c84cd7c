import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { ProtocolError } from './messages.ts';

/** Bytes a sealed chunk has more than its data: the nonce before it, the tag after it. */
export const SEAL_OVERHEAD = 12 + 16;

/**
 * What a sealed blob chunk is bound to: the data topic it goes to (its recipient), its
 * transfer and its place in it. A chunk moved to another agent, transfer or place fails
 * to open.
 */
export function chunkContext(topic: string, transfer: string, index: number): string {
  return `${topic}\n${transfer}\n${index}`;
}

/** What a sealed output chunk is bound to: its job, epoch and sequence number (it goes to the job's topic or a client's). */
export function outputContext(job: string, epoch: number, seq: number): string {
  return `out\n${job}\n${epoch}\n${seq}`;
}

/** Seals chunks for one recipient (the fleet key, or one transfer's X25519 key: box-cipher.ts). */
export interface ChunkSealer {
  seal(context: string, data: Uint8Array): Buffer;
  /** With identities: the key this sealer's recipient can derive too (session-mac.ts). */
  readonly session?: SessionKey;
}

/** Opens chunks sealed for this device; throws {@link ProtocolError} when one does not open. */
export interface ChunkOpener {
  open(context: string, sealed: Uint8Array): Buffer;
  /** With identities: the session key of a sealer whose ephemeral public key is `id` (session-mac.ts), undefined when `id` is no X25519 key. */
  sessionKey?(id: string): Buffer | undefined;
}

/**
 * A secret two devices share for one handoff (identities): the source's sealer derives
 * it from its ephemeral X25519 key and the target's static one, the target from the
 * ephemeral public key the signed `prepare` names (`id`, base64url). It authenticates
 * the handoff's messages in the pause (session-mac.ts).
 */
export interface SessionKey {
  readonly id: string;
  readonly key: Buffer;
}

/**
 * AES-256-GCM with a random nonce: `prefix || nonce || ciphertext || tag`, `context` as
 * associated data (`prefix`: what goes before, in the same copy: a sender's key).
 */
export function aesSeal(key: Buffer, context: string, data: Uint8Array, prefix?: Buffer): Buffer {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(Buffer.from(context));
  const body = cipher.update(data);
  const tail = cipher.final();
  return Buffer.concat(prefix ? [prefix, nonce, body, tail, cipher.getAuthTag()] : [nonce, body, tail, cipher.getAuthTag()]);
}

/** Opens what {@link aesSeal} sealed; throws {@link ProtocolError} (`what` says what did not open). */
export function aesOpen(key: Buffer, context: string, sealed: Uint8Array, what = 'a blob chunk'): Buffer {
  if (sealed.length < SEAL_OVERHEAD) throw new ProtocolError(`${what} shorter than its nonce and tag`);
  const buf = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.length);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, buf.subarray(0, 12));
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(buf.subarray(buf.length - 16));
    return Buffer.concat([decipher.update(buf.subarray(12, buf.length - 16)), decipher.final()]);
  } catch {
    throw new ProtocolError(`${what} does not decrypt (sealed with another key, or for another agent, transfer or place)`);
  }
}

/**
 * End-to-end encryption with a symmetric secret: blob chunks (modules, pre-copy rounds,
 * final packages, checkpoints) and output chunks, with a key derived from the fleet key
 * (or, with identities, from a job's output key) by HKDF: AES-256-GCM, a random nonce
 * per chunk, the chunk's context as associated data. The broker, which does not hold the
 * secret, relays ciphertext only. (Integrity of the whole blob is still the signed
 * manifest's sha256; the tag stops a forged chunk earlier.)
 */
export class BlobCipher implements ChunkSealer, ChunkOpener {
  readonly #key: Buffer;

  constructor(secret: Uint8Array, info = 'blob chunks') {
    this.#key = Buffer.from(hkdfSync('sha256', secret, 'wasmig-e2e-v1', info, 32));
  }

  seal(context: string, data: Uint8Array): Buffer {
    return aesSeal(this.#key, context, data);
  }

  /** The data of a sealed chunk; throws {@link ProtocolError} when it does not open (forged, altered, another key or place). */
  open(context: string, sealed: Uint8Array): Buffer {
    return aesOpen(this.#key, context, sealed);
  }
}
