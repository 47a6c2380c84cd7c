/**
 * How a job thread hands its big buffers (snapshots, memory deltas, images) to the main
 * thread without detaching any.
 *
 * Moving a buffer (`postMessage` with a transfer list) detaches it in the sender, and the
 * first detach in a V8 isolate turns its "array buffer detaching" protector off for the
 * rest of the isolate's life: from then on the interpreter's compiled loop checks every
 * typed-array access for a detached buffer. CoreMark as a job on the interpreter ran at
 * 0.71 of its speed after its first checkpoint (docs/interpreter-speed.md).
 * Cloning instead copies the bytes in the message's serializer, about 1 ms per MiB here,
 * and a view is cloned with its whole underlying buffer. So each big buffer of a reply is
 * copied once, the view's bytes only, into a `SharedArrayBuffer`, which a message shares
 * rather than copies or moves. (A job thread always has `SharedArrayBuffer`s: its control
 * words are one.)
 *
 * The main thread gets views of shared memory that no one writes after the reply: Node's
 * hashes, ciphers, signatures, files, LZ4 and MQTT take them as they take any bytes.
 */

/** Below this, a buffer goes in the message as it is (cloned): a shared one costs more to make. */
export const SHARE_FROM_BYTES = 4096;

/** How deep the walk looks into a reply's objects and arrays (replies are shallow). */
const MAX_DEPTH = 4;

/**
 * `data` with every `Uint8Array` and `ArrayBuffer` of `SHARE_FROM_BYTES` or more replaced
 * by a copy in shared memory. Objects and arrays on the way are copied, never changed:
 * the thread may keep what it answered with.
 */
export function sharedReplyData(data: unknown): unknown {
  return shared(data, 0);
}

/** A copy of `bytes` in a `SharedArrayBuffer` of their length. */
export function sharedCopy(bytes: Uint8Array): SharedArrayBuffer {
  const copy = new SharedArrayBuffer(bytes.byteLength);
  new Uint8Array(copy).set(bytes);
  return copy;
}

function shared(value: unknown, depth: number): unknown {
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) return value;
  if (value instanceof Uint8Array) {
    if (value.byteLength < SHARE_FROM_BYTES || value.buffer instanceof SharedArrayBuffer) return value;
    return new Uint8Array(sharedCopy(value));
  }
  if (value instanceof ArrayBuffer) return value.byteLength < SHARE_FROM_BYTES ? value : sharedCopy(new Uint8Array(value));
  if (Array.isArray(value)) return value.map((v) => shared(v, depth + 1));
  // Only plain objects are walked: anything else (a compiled module, a Map) is cloned as it is.
  if (Object.getPrototypeOf(value) !== Object.prototype) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) out[key] = shared(v, depth + 1);
  return out;
}
