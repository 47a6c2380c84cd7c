/**
 * The few binary encodings a module built in code needs (the run loops' priming module,
 * `priming-module.ts`), as plain byte lists: the numbers are the binary layer's
 * `ByteWriter`'s, the lists are what the generator splices together.
 * Spec: https://webassembly.github.io/spec/core/binary/values.html
 */
import { ByteWriter } from '../binary/index.ts';

/** What a writer holds, as a plain byte list. */
function listOf(w: ByteWriter): number[] {
  return Array.from(w.bytes.subarray(0, w.length));
}

/** Unsigned LEB128 of an integer in [0, 2^32). */
export function uleb(n: number): number[] {
  return listOf(new ByteWriter().u32(n));
}

/** Signed LEB128 of a 64-bit integer (an int32 given as a number, or a bigint). */
export function sleb(value: number | bigint): number[] {
  return listOf(typeof value === 'number' ? new ByteWriter().s32(value) : new ByteWriter().s64(value));
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
