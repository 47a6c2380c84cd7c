/**
 * The `name` custom section: module name (subsection 0), function names (1) and local
 * names (2); other subsections are skipped. A malformed name section is ignored, as
 * engines do: names are debugging aids and must never make a module fail to load.
 * Spec: https://webassembly.github.io/spec/core/appendix/custom.html#name-section
 */
import { DecodeError } from '../errors/index.ts';
import type { NameMap } from '../wasm/index.ts';
import { ByteReader } from './reader.ts';

/** An empty `NameMap`. */
export function emptyNames(): NameMap {
  return { module: undefined, functions: new Map(), locals: new Map() };
}

/** Decodes the content of a `name` section (after its name); undefined when malformed. */
export function decodeNameSection(bytes: Uint8Array, start: number, end: number): NameMap | undefined {
  const r = new ByteReader(bytes, start, end);
  const names = emptyNames();
  try {
    let lastId = -1;
    while (!r.atEnd()) {
      const id = r.u8();
      // Each subsection appears at most once, in increasing order of id.
      if (id <= lastId) return undefined;
      lastId = id;
      const size = r.len();
      const subEnd = r.pos + size;
      if (subEnd > end) return undefined;
      const sub = new ByteReader(bytes, r.pos, subEnd);
      if (id === 0) names.module = sub.name();
      else if (id === 1) readNameMap(sub, names.functions);
      else if (id === 2) readIndirectNameMap(sub, names.locals);
      else sub.pos = subEnd;
      if (!sub.atEnd()) return undefined;
      r.pos = subEnd;
    }
  } catch (e) {
    if (e instanceof DecodeError) return undefined;
    throw e;
  }
  return names;
}

function readNameMap(r: ByteReader, into: Map<number, string>): void {
  const n = r.len();
  for (let i = 0; i < n; i++) {
    const index = r.u32();
    into.set(index, r.name());
  }
}

function readIndirectNameMap(r: ByteReader, into: Map<number, Map<number, string>>): void {
  const n = r.len();
  for (let i = 0; i < n; i++) {
    const index = r.u32();
    const inner = new Map<number, string>();
    readNameMap(r, inner);
    into.set(index, inner);
  }
}
