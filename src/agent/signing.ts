import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { UsageError } from '../errors/index.ts';
import { BlobCipher } from './blob-cipher.ts';
import type { ChunkOpener, ChunkSealer } from './blob-cipher.ts';

/**
 * JSON with object keys sorted at every level and `undefined` fields left out: the one
 * byte string a message is signed as, however its sender happened to order the fields.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  // One string built in one pass: every message in a live move's pause is written this
  // way two to four times (signed, checked), and the entries, filter, map and join this
  // replaced took about five times JSON.stringify's time on a reply with its stamps.
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      out += (i === 0 ? '' : ',') + (v === undefined ? 'null' : canonicalJson(v));
    }
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  // The default sort compares UTF-16 code units, as `<` on strings does.
  const keys = Object.keys(record).sort();
  let out = '{';
  for (const k of keys) {
    const v = record[k];
    if (v === undefined) continue;
    out += `${out.length === 1 ? '' : ','}${JSON.stringify(k)}:${canonicalJson(v)}`;
  }
  return `${out}}`;
}

/**
 * What signs a peer's messages and checks the ones it receives: the shared fleet key
 * ({@link FleetKey}) or a device identity (identity.ts).
 */
export interface MessageSigner {
  /** The device name a certificate binds this signer to (identities only). */
  readonly name?: string;
  /** The secret the fleet shares (the fleet key): it seals blobs and output alike. Identities have none. */
  readonly cipher?: BlobCipher;
  /** Opens blob chunks sealed for this device: the fleet key's cipher, or the device's X25519 key. */
  readonly opener?: ChunkOpener;
  /** Seals blob chunks for device `name`; undefined when its key is not known yet (identities learn keys from certificates that come by). */
  sealerFor?(name: string): ChunkSealer | undefined;
  /** Takes a revocation list published through the broker (identities only); returns what to log. */
  offerRevocations?(text: string): string | undefined;
  sign<T extends object>(message: T): T & { sig: string };
  /**
   * Why `message` is not acceptable (`'unsigned'` when it has no signature), or undefined.
   * `claim`: who it says sent it and what it asks, which an identity checks against the
   * certificate's name and roles (the shared key, which everybody holds, cannot).
   */
  verify(message: object, claim?: { signer?: string; type?: string }): string | undefined;
}

/** Shortest key we accept: 16 bytes (128 bits). */
const MIN_KEY_BYTES = 16;

/**
 * The fleet key: a shared secret every agent and client of a fleet holds. Messages that
 * start, move or steer jobs carry `sig` = HMAC-SHA256(key, canonical JSON of the message
 * without `sig`); snapshots are covered through the sha256 their signed manifest names.
 */
export class FleetKey implements MessageSigner {
  readonly #key: Buffer;
  readonly cipher: BlobCipher;

  constructor(key: Uint8Array) {
    if (key.length < MIN_KEY_BYTES) throw new UsageError(`the fleet key has ${key.length} bytes: it needs at least ${MIN_KEY_BYTES} (e.g. head -c 32 /dev/urandom | base64 > fleet.key)`);
    this.#key = Buffer.from(key);
    this.cipher = new BlobCipher(this.#key);
  }

  /** The fleet key opens what it sealed, for every device. */
  get opener(): ChunkOpener {
    return this.cipher;
  }

  /** The same key for every recipient (the recipient is in each chunk's context). */
  sealerFor(): ChunkSealer {
    return this.cipher;
  }

  /** Reads a key file: its bytes, without trailing white space, are the key. */
  static fromFile(path: string): FleetKey {
    let text: Buffer;
    try {
      text = readFileSync(path);
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code;
      throw new UsageError(`--key-file ${path}: ${code === 'ENOENT' ? 'no such file' : (cause as Error).message}`);
    }
    return FleetKey.fromBytes(text);
  }

  /** A key file's bytes (read by a page from a file the user picked, say): without trailing white space, they are the key. */
  static fromBytes(text: Uint8Array): FleetKey {
    let end = text.length;
    while (end > 0 && (text[end - 1] === 0x0a || text[end - 1] === 0x0d || text[end - 1] === 0x20 || text[end - 1] === 0x09)) end--;
    return new FleetKey(text.subarray(0, end));
  }

  #mac(message: object): string {
    const { sig: _sig, ...rest } = message as { sig?: unknown };
    return createHmac('sha256', this.#key).update(canonicalJson(rest)).digest('hex');
  }

  /** The message with its signature (any earlier `sig` replaced). */
  sign<T extends object>(message: T): T & { sig: string } {
    return { ...message, sig: this.#mac(message) };
  }

  /** Why the message's signature is not valid, or undefined when it is. */
  verify(message: object): string | undefined {
    const sig = (message as { sig?: unknown }).sig;
    if (sig === undefined) return 'unsigned';
    if (typeof sig !== 'string' || !/^[0-9a-f]{64}$/.test(sig)) return 'malformed signature';
    const expected = Buffer.from(this.#mac(message), 'hex');
    return timingSafeEqual(expected, Buffer.from(sig, 'hex')) ? undefined : 'bad signature (forged, altered, or signed with another key)';
  }
}
