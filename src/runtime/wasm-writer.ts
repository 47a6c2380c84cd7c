/**
 * The few binary encodings a module built in code needs (the run loops' priming module,
 * `priming-module.ts`): LEB128 numbers, vectors and sections, into a plain byte list.
 * Spec: https://webassembly.github.io/spec/core/binary/values.html
 */

/** Unsigned LEB128 of an integer in [0, 2^32). */
export function uleb(n: number): number[] {
  const out: number[] = [];
  n >>>= 0;
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 of a 64-bit integer (an int32 given as a number, or a bigint). */
export function sleb(value: number | bigint): number[] {
  const out: number[] = [];
  if (typeof value === 'number') {
    // int32: plain number arithmetic (`>>` keeps the sign).
    let n = value | 0;
    for (;;) {
      const byte = n & 0x7f;
      n >>= 7;
      const done = (n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0);
      out.push(done ? byte : byte | 0x80);
      if (done) return out;
    }
  }
  let n = BigInt.asIntN(64, value);
  for (;;) {
    const byte = Number(n & 0x7fn);
    n >>= 7n;
    const done = (n === 0n && (byte & 0x40) === 0) || (n === -1n && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

/** A name: its UTF-8 length, then its bytes (ASCII names only here). */
export function wasmName(s: string): number[] {
  return [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
}

/** A vector: its length, then the items one after the other. */
export function wasmVec(items: readonly (readonly number[])[]): number[] {
  const out = uleb(items.length);
  for (const item of items) out.push(...item);
  return out;
}

/** A section: id, byte size, content. */
export function wasmSection(id: number, content: readonly number[]): number[] {
  const out = [id, ...uleb(content.length)];
  out.push(...content);
  return out;
}

/** The magic number and version 1. */
export const WASM_HEADER: readonly number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
