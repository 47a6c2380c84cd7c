/**
 * The `buffer` package (the one MQTT.js's browser build uses), given the `base64url`
 * encoding Node's Buffer has and version 6 of the package lacks: identities carry their
 * keys and signatures in base64url (identity.ts, box-cipher.ts). Its base64 decoder
 * already reads `-` and `_`; encoding maps them and drops the padding, as Node does.
 * Where `buffer` is Node's own (tests run the stand-ins in Node), nothing is changed.
 * @module
 */
import { Buffer } from 'buffer';

/** The part of a Buffer class {@link withBase64url} changes. */
interface BufferClass {
  from(value: unknown, encoding?: unknown, length?: unknown): Uint8Array;
  isEncoding(encoding: string): boolean;
  prototype: { toString(encoding?: string, start?: number, end?: number): string };
}

/** Teaches `B` (a `buffer` package's class) `base64url`, unless it knows it; returns it. */
export function withBase64url<B extends BufferClass>(B: B): B {
  if (B.isEncoding('base64url')) return B;
  const from = B.from;
  const toString = B.prototype.toString;
  const isEncoding = B.isEncoding;
  B.from = function fromWithBase64url(value: unknown, encoding?: unknown, length?: unknown) {
    return typeof value === 'string' && encoding === 'base64url' ? from.call(B, value, 'base64') : from.call(B, value, encoding, length);
  };
  B.isEncoding = (encoding: string): boolean => encoding === 'base64url' || isEncoding.call(B, encoding);
  B.prototype.toString = function toStringWithBase64url(encoding?: string, start?: number, end?: number): string {
    if (encoding !== 'base64url') return toString.call(this, encoding, start, end);
    return toString.call(this, 'base64', start, end).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  };
  return B;
}

withBase64url(Buffer as unknown as BufferClass);

export { Buffer };
