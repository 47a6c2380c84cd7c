/**
 * A `RewrittenModule` as bytes and back, for the disk cache (`disk-cache.ts`). Flat: one
 * stream of 32-bit integers (counts, pcs, safepoint stacks) and one of bytes (value
 * types), so that loading is two typed-array views and a walk, not a document to parse:
 * the pc maps and safepoint stacks of the loaded module are views into one buffer.
 * A 1 MB program's 15,000 safepoints and 500,000 pc pairs load in a few milliseconds;
 * a msgpack document of the same took 100 ms to decode, cold.
 *
 *   u32 key length, key (UTF-8), zeros to a multiple of 4
 *   u32 length, the validation's findings (`BodyFacts`) as JSON (UTF-8), zeros to a multiple of 4
 *   u32 count of ints, the ints (this machine's byte order)
 *   u32 count of bytes, the bytes
 *   the rewritten module's bytes (to the end)
 */
import type { BodyFacts } from '../compile/index.ts';
import type { RewrittenModule } from './rewrite.ts';
import type { RewrittenFunction, Safepoint } from './rewrite-function.ts';

const KINDS: readonly Safepoint['kind'][] = ['entry', 'loop', 'call'];

/** What an entry holds: the rewrite, and what validating the original module's bodies found. */
export interface StoredRewrite {
  rewritten: RewrittenModule;
  facts: BodyFacts;
}

/** A string, zero-padded to a multiple of 4 bytes, after its u32 length. */
function padded(text: string): { bytes: Uint8Array; size: number } {
  const bytes = new TextEncoder().encode(text);
  return { bytes, size: 4 + ((bytes.length + 3) & ~3) };
}

/** Writes `m` and `facts` (and the key they are stored under) as bytes. */
export function encodeRewrite(key: string, m: RewrittenModule, facts: BodyFacts): Uint8Array {
  const ints: number[] = [];
  const bytes: number[] = [];
  // Loops, not spreads: a spread of a long array overflows the call stack.
  const add = (to: number[], xs: Iterable<number>): void => {
    for (const x of xs) to.push(x);
  };
  const list = (xs: Iterable<number>): void => {
    const a = [...xs];
    ints.push(a.length);
    add(ints, a);
  };
  ints.push((m.dataDropper ? 1 : 0) | (m.elemDropper ? 2 : 0) | (m.writesTables ? 4 : 0) | (m.plain === true ? 8 : 0));
  list(m.trampolines);
  list(m.rawGlobals);
  list(m.importedTables);
  list(m.importedMemories);
  ints.push(m.functions.length);
  for (const f of m.functions) {
    if (f === undefined) {
      ints.push(-1);
      continue;
    }
    ints.push(f.funcIndex, f.numLocals, f.recursive ? 1 : 0, f.codeOffset, f.localTypes.length, f.scratchTypes.length, f.rewrittenPcs.length);
    add(bytes, f.localTypes);
    add(bytes, f.scratchTypes);
    add(ints, f.rewrittenPcs);
    add(ints, f.originalPcs);
    // The sites' share of each stream first, so that loading can leave them for later.
    let siteInts = 0;
    let siteBytes = 0;
    for (const s of f.sites) {
      siteInts += 5 + s.stack.length;
      siteBytes += s.types.length + s.callResults.length;
    }
    ints.push(f.sites.length, siteInts, siteBytes);
    for (const s of f.sites) {
      ints.push(s.pc, KINDS.indexOf(s.kind), s.results, s.stack.length, s.callResults.length);
      add(ints, s.stack);
      add(bytes, s.types);
      add(bytes, s.callResults);
    }
  }
  const keyText = padded(key);
  const factsText = padded(JSON.stringify({ ...facts, maxHeights: [...facts.maxHeights] }));
  const out = new Uint8Array(keyText.size + factsText.size + 4 + ints.length * 4 + 4 + bytes.length + m.bytes.length);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const text of [keyText, factsText]) {
    view.setUint32(at, text.bytes.length, true);
    out.set(text.bytes, at + 4);
    at += text.size;
  }
  view.setUint32(at, ints.length, true);
  at += 4;
  new Int32Array(out.buffer, at, ints.length).set(ints);
  at += ints.length * 4;
  view.setUint32(at, bytes.length, true);
  out.set(bytes, at + 4);
  at += 4 + bytes.length;
  out.set(m.bytes, at);
  return out;
}

/** The key a payload of {@link encodeRewrite} was stored under. */
export function rewriteKey(payload: Uint8Array): string {
  const n = new DataView(payload.buffer, payload.byteOffset, payload.byteLength).getUint32(0, true);
  if (4 + n > payload.length) throw new RangeError('the key runs past the end');
  return new TextDecoder().decode(payload.subarray(4, 4 + n));
}

/**
 * Reads back what {@link encodeRewrite} wrote. `payload` should start at a multiple of 4
 * in its buffer (it is copied otherwise). Throws a RangeError on a payload that does not
 * hold together (the disk cache then treats the entry as corrupt).
 */
export function decodeRewrite(payload: Uint8Array): StoredRewrite {
  if (payload.byteOffset % 4 !== 0) payload = new Uint8Array(payload);
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const need = (end: number): void => {
    if (end > payload.length) throw new RangeError('truncated rewrite');
  };
  let at = 4 + ((view.getUint32(0, true) + 3) & ~3);
  need(at + 4);
  const factsLength = view.getUint32(at, true);
  need(at + 4 + factsLength);
  const facts = readFacts(new TextDecoder().decode(payload.subarray(at + 4, at + 4 + factsLength)));
  at += 4 + ((factsLength + 3) & ~3);
  need(at + 4);
  const nInts = view.getUint32(at, true);
  at += 4;
  need(at + nInts * 4 + 4);
  const ints = new Int32Array(payload.buffer, payload.byteOffset + at, nInts);
  at += nInts * 4;
  const nBytes = view.getUint32(at, true);
  at += 4;
  need(at + nBytes);
  const bytes = payload.subarray(at, at + nBytes);
  const wasm = payload.slice(at + nBytes);

  let i = 0;
  let b = 0;
  const int = (): number => {
    if (i >= ints.length) throw new RangeError('truncated rewrite');
    return ints[i++]!;
  };
  const intsOf = (n: number): Int32Array => {
    if (n < 0 || i + n > ints.length) throw new RangeError('truncated rewrite');
    i += n;
    return ints.subarray(i - n, i);
  };
  const bytesOf = (n: number): Uint8Array => {
    if (n < 0 || b + n > bytes.length) throw new RangeError('truncated rewrite');
    b += n;
    return bytes.subarray(b - n, b);
  };
  const list = (): number[] => [...intsOf(int())];
  const count = (): number => {
    const n = int();
    if (n < 0 || n > ints.length) throw new RangeError('a count past the end');
    return n;
  };

  const flags = int();
  const trampolines = new Set(list());
  const rawGlobals = new Set(list());
  const importedTables = list();
  const importedMemories = list();
  const functions: (RewrittenFunction | undefined)[] = new Array(count());
  for (let f = 0; f < functions.length; f++) {
    const funcIndex = int();
    if (funcIndex < 0) continue;
    const numLocals = int(), recursive = int() === 1, codeOffset = int(), nLocals = int(), nScratch = int(), nPcs = int();
    const localTypes = [...bytesOf(nLocals)];
    const scratchTypes = [...bytesOf(nScratch)];
    const rewrittenPcs = intsOf(nPcs);
    const originalPcs = intsOf(nPcs);
    const nSites = count(), nSiteInts = count(), nSiteBytes = int();
    const siteInts = intsOf(nSiteInts);
    const siteBytes = bytesOf(nSiteBytes);
    checkSites(siteInts, siteBytes, nSites);
    let sites: Safepoint[] | undefined;
    // Made when first read (a pause, a resume): most of a program's functions never
    // unwind, and a large module's 15,000 safepoints took most of the load's time.
    // An own enumerable getter, so that a structured clone reads it like a field.
    functions[f] = {
      funcIndex, numLocals, localTypes, scratchTypes, recursive, rewrittenPcs, originalPcs, codeOffset,
      // Every body of a plain rewrite is the original one.
      ...((flags & 8) !== 0 ? { verbatim: true } : {}),
      get sites(): Safepoint[] {
        sites ??= readSites(siteInts, siteBytes, nSites);
        return sites;
      },
    };
  }
  const rewritten: RewrittenModule = {
    bytes: wasm, functions, trampolines, rawGlobals, importedTables, importedMemories,
    dataDropper: (flags & 1) !== 0, elemDropper: (flags & 2) !== 0, writesTables: (flags & 4) !== 0,
    ...((flags & 8) !== 0 ? { plain: true } : {}),
  };
  return { rewritten, facts };
}

/** Checks that `nSites` safepoints fill `ints` and `bytes` exactly (a RangeError otherwise), allocating nothing. */
function checkSites(ints: Int32Array, bytes: Uint8Array, nSites: number): void {
  let i = 0;
  let b = 0;
  for (let s = 0; s < nSites; s++) {
    if (i + 5 > ints.length) throw new RangeError('truncated safepoints');
    const kind = ints[i + 1]!, nStack = ints[i + 3]!, nCall = ints[i + 4]!;
    if (KINDS[kind] === undefined) throw new RangeError('unknown safepoint kind');
    if (nStack < 0 || nCall < 0) throw new RangeError('a negative count');
    i += 5 + nStack;
    b += nStack + nCall;
  }
  if (i !== ints.length || b !== bytes.length) throw new RangeError('safepoints do not fill their share');
}

/** The safepoints `checkSites` checked: views into the entry's streams. */
function readSites(ints: Int32Array, bytes: Uint8Array, nSites: number): Safepoint[] {
  const sites: Safepoint[] = new Array(nSites);
  let i = 0;
  let b = 0;
  for (let s = 0; s < nSites; s++) {
    const pc = ints[i]!, kind = KINDS[ints[i + 1]!]!, results = ints[i + 2]!, nStack = ints[i + 3]!, nCall = ints[i + 4]!;
    i += 5;
    const stack = ints.subarray(i, i + nStack);
    i += nStack;
    const types = bytes.subarray(b, b + nStack);
    const callResults = bytes.subarray(b + nStack, b + nStack + nCall);
    b += nStack + nCall;
    sites[s] = { pc, kind, results, stack, types, callResults };
  }
  return sites;
}

/** The `BodyFacts` of an entry, checked for shape (a RangeError otherwise). */
function readFacts(json: string): BodyFacts {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    throw new RangeError('the validation facts are not JSON');
  }
  const o = raw as Record<string, unknown>;
  const text = (v: unknown): string | undefined => {
    if (v === undefined || typeof v === 'string') return v;
    throw new RangeError('a validation fact is not a string');
  };
  if (typeof o !== 'object' || o === null || !Array.isArray(o.maxHeights) || !o.maxHeights.every((h) => Number.isInteger(h) && h >= -1)) {
    throw new RangeError('no stack heights in the validation facts');
  }
  return {
    maxHeights: Int32Array.from(o.maxHeights as number[]),
    simdUse: text(o.simdUse), tailCallUse: text(o.tailCallUse), exceptionUse: text(o.exceptionUse), relaxedSimdUse: text(o.relaxedSimdUse),
  };
}
