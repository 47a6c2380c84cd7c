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

/**
 * End-to-end encryption of blob chunks (modules, pre-copy rounds, final packages,
 * checkpoints) and of output chunks with a key derived from the fleet key: AES-256-GCM, a random nonce per
 * chunk, the chunk's context as associated data. The broker, which does not hold the
 * fleet key, relays ciphertext only. (Integrity of the whole blob is still the signed
 * manifest's sha256; the tag stops a forged chunk earlier.)
 */
export class BlobCipher {
  readonly #key: Buffer;

  constructor(secret: Uint8Array) {
    this.#key = Buffer.from(hkdfSync('sha256', secret, 'wasmig-e2e-v1', 'blob chunks', 32));
  }

  seal(context: string, data: Uint8Array): Buffer {
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, nonce);
    cipher.setAAD(Buffer.from(context));
    const body = cipher.update(data);
    const tail = cipher.final();
    return Buffer.concat([nonce, body, tail, cipher.getAuthTag()]);
  }

  /** The data of a sealed chunk; throws {@link ProtocolError} when it does not open (forged, altered, another key or place). */
  open(context: string, sealed: Uint8Array): Buffer {
    if (sealed.length < SEAL_OVERHEAD) throw new ProtocolError('a sealed chunk shorter than its nonce and tag');
    const buf = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.length);
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, buf.subarray(0, 12));
      decipher.setAAD(Buffer.from(context));
      decipher.setAuthTag(buf.subarray(buf.length - 16));
      return Buffer.concat([decipher.update(buf.subarray(12, buf.length - 16)), decipher.final()]);
    } catch {
      throw new ProtocolError('a blob chunk does not decrypt (sealed with another key, or for another agent, transfer or place)');
    }
  }
}
