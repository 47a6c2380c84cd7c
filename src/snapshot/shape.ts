/**
 * The first check of an untrusted decoded state: is every field there, of the right
 * kind, within the ranges any module could allow? What depends on the module (types of
 * values, instruction boundaries, limits) is checked at restore, against the module.
 */
import { SnapshotError } from '../errors/index.ts';
import { MAX_MEMORY_PAGES, MAX_TABLE_ELEMENTS, ValType } from '../wasm/index.ts';
import { PAGE_SIZE } from './canonical.ts';
import type {
  CanonicalFuncOrigin, CanonicalGlobal, CanonicalInstance, CanonicalMemory, CanonicalState, CanonicalStore, CanonicalTable,
  CanonicalValue,
} from './canonical.ts';

/** Largest memory a snapshot may describe (the Wasm 32-bit limit), in pages. */
export const MAX_PAGES = MAX_MEMORY_PAGES;
/** Largest table a snapshot may describe, in elements: what either tier holds (wasm/limits.ts). */
export { MAX_TABLE_ELEMENTS };

function bad(what: string): never {
  throw new SnapshotError(`invalid snapshot: ${what}`);
}

/** A plain `Uint8Array` view of the same bytes (msgpack hands out `Buffer`s). */
export function plainBytes(b: Uint8Array): Uint8Array {
  return b.constructor === Uint8Array ? b : new Uint8Array(b.buffer, b.byteOffset, b.length);
}

export function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x) && !ArrayBuffer.isView(x);
}

function record(x: unknown, what: string): Record<string, unknown> {
  if (!isRecord(x)) bad(`${what} is not a record`);
  return x;
}

function array(x: unknown, what: string): unknown[] {
  if (!Array.isArray(x)) bad(`${what} is not an array`);
  return x;
}

function int(x: unknown, what: string, min: number, max: number): number {
  if (typeof x !== 'number' || !Number.isInteger(x) || x < min || x > max) bad(`${what} is not an integer in [${min}, ${max}]`);
  return x;
}

function str(x: unknown, what: string, maxLength = 4096): string {
  if (typeof x !== 'string' || x.length > maxLength) bad(`${what} is not a string of at most ${maxLength} characters`);
  return x;
}

function optMax(x: unknown, what: string, limit: number): number | null {
  return x === null ? null : int(x, what, 0, limit);
}

/** Ascending, distinct indices below `limit`. */
function indexList(x: unknown, what: string, limit: number): number[] {
  const list = array(x, what);
  let last = -1;
  return list.map((v, i) => {
    const n = int(v, `${what}[${i}]`, 0, limit - 1);
    if (n <= last) bad(`${what} is not strictly ascending at [${i}]`);
    last = n;
    return n;
  });
}

function value(x: unknown, what: string): CanonicalValue {
  if (x === null || typeof x === 'bigint') return x;
  if (typeof x === 'number' && Number.isInteger(x)) return x;
  if (x instanceof Uint8Array && x.length === 16) return plainBytes(x);
  return bad(`${what} is not a value (integer, bigint, 16 bytes or null)`);
}

const VAL_TYPES = new Set<number>([ValType.i32, ValType.i64, ValType.f32, ValType.f64, ValType.v128, ValType.funcref, ValType.externref, ValType.exnref]);

function valType(x: unknown, what: string): number {
  if (typeof x !== 'number' || !VAL_TYPES.has(x)) bad(`${what} is not a value type`);
  return x;
}

/** A memory or table's `index64`: true, or absent (32-bit). */
function index64(x: unknown, what: string): boolean {
  if (x === undefined || x === false) return false;
  if (x !== true) bad(`${what} is not true or absent`);
  return true;
}

/** The largest maximum a 64-bit memory declares: 2^48 pages (memory64). */
const MAX_PAGES_64 = 2 ** 48;

function memory(x: unknown, what: string): CanonicalMemory {
  const r = record(x, what);
  const wide = index64(r['index64'], `${what}.index64`);
  const pages = int(r['pages'], `${what}.pages`, 0, MAX_PAGES);
  const max = optMax(r['max'], `${what}.max`, wide ? MAX_PAGES_64 : MAX_PAGES);
  if (max !== null && pages > max) bad(`${what} has ${pages} pages, more than its maximum ${max}`);
  const stored = indexList(r['stored'], `${what}.stored`, pages);
  const data = r['data'];
  if (!(data instanceof Uint8Array)) bad(`${what}.data is not binary`);
  if (data.length !== stored.length * PAGE_SIZE) bad(`${what}.data holds ${data.length} bytes, ${stored.length} pages need ${stored.length * PAGE_SIZE}`);
  const out: CanonicalMemory = { pages, max, stored, data: plainBytes(data) };
  if (wide) out.index64 = true;
  return out;
}

function table(x: unknown, what: string): CanonicalTable {
  const r = record(x, what);
  const elemType = int(r['elemType'], `${what}.elemType`, 0, 0xff);
  if (elemType !== ValType.funcref && elemType !== ValType.externref && elemType !== ValType.exnref) bad(`${what}.elemType is not a reference type`);
  const wide = index64(r['index64'], `${what}.index64`);
  const max = optMax(r['max'], `${what}.max`, wide ? 2 ** 64 : 0xffffffff);
  const elements = array(r['elements'], `${what}.elements`);
  if (elements.length > MAX_TABLE_ELEMENTS) bad(`${what} has more than ${MAX_TABLE_ELEMENTS} elements`);
  if (max !== null && elements.length > max) bad(`${what} has ${elements.length} elements, more than its maximum ${max}`);
  const out: CanonicalTable = { elemType, max, elements: elements.map((e, i) => value(e, `${what}.elements[${i}]`)) };
  if (wide) out.index64 = true;
  return out;
}

function global(x: unknown, what: string): CanonicalGlobal {
  const r = record(x, what);
  const mutable = r['mutable'];
  if (typeof mutable !== 'boolean') bad(`${what}.mutable is not a boolean`);
  return { type: valType(r['type'], `${what}.type`), mutable, value: value(r['value'], `${what}.value`) };
}

function funcOrigin(x: unknown, what: string, instances: number): CanonicalFuncOrigin {
  const r = record(x, what);
  if (r['kind'] === 'wasm') {
    return { kind: 'wasm', instance: int(r['instance'], `${what}.instance`, 0, instances - 1), funcIndex: int(r['funcIndex'], `${what}.funcIndex`, 0, 0xffffffff) };
  }
  if (r['kind'] === 'host') {
    const types = (k: string): number[] => array(r[k], `${what}.${k}`).map((t, i) => valType(t, `${what}.${k}[${i}]`));
    return { kind: 'host', name: str(r['name'], `${what}.name`), params: types('params'), results: types('results') };
  }
  return bad(`${what}.kind is neither "wasm" nor "host"`);
}

function storeLayout(x: unknown, counts: { funcs: number; tables: number; memories: number; globals: number }): CanonicalStore {
  const r = record(x, 'store');
  const rawInstances = array(r['instances'], 'store.instances');
  // Exception tags (format v3), as their parameter types.
  const tags = r['tags'] === undefined ? [] : array(r['tags'], 'store.tags').map((t, i) => array(t, `store.tags[${i}]`).map((v, j) => valType(v, `store.tags[${i}][${j}]`)));
  const refs = (v: unknown, what: string, limit: number): number[] => array(v, what).map((n, i) => int(n, `${what}[${i}]`, 0, limit - 1));
  const instances = rawInstances.map((i, k): CanonicalInstance => {
    const w = `store.instances[${k}]`;
    const ri = record(i, w);
    const module = str(ri['module'], `${w}.module`);
    if (!/^[0-9a-f]{64}$/.test(module)) bad(`${w}.module is not a sha256`);
    return {
      module,
      funcs: refs(ri['funcs'], `${w}.funcs`, counts.funcs),
      tables: refs(ri['tables'], `${w}.tables`, counts.tables),
      memories: refs(ri['memories'], `${w}.memories`, counts.memories),
      globals: refs(ri['globals'], `${w}.globals`, counts.globals),
      ...(ri['tags'] === undefined ? {} : { tags: refs(ri['tags'], `${w}.tags`, tags.length) }),
      droppedData: indexList(ri['droppedData'], `${w}.droppedData`, 0x100000000),
      droppedElems: indexList(ri['droppedElems'], `${w}.droppedElems`, 0x100000000),
    };
  });
  const funcs = array(r['funcs'], 'store.funcs');
  if (funcs.length !== counts.funcs) bad(`store.funcs lists ${funcs.length} functions, the state references ${counts.funcs}`);
  const layout: CanonicalStore = { instances, funcs: funcs.map((f, i) => funcOrigin(f, `store.funcs[${i}]`, instances.length)) };
  if (r['tags'] !== undefined) layout.tags = tags;
  return layout;
}

/**
 * Checks the shape of an untrusted state and returns a clean copy of it (frames and
 * WASI state are checked where they are used: `loadFrames`, `WasiHost.restore`).
 * @throws SnapshotError naming the first bad field.
 */
export function checkStateShape(x: unknown): CanonicalState {
  const r = record(x, 'state');
  const moduleSha256 = str(r['moduleSha256'], 'moduleSha256');
  if (moduleSha256 !== '' && !/^[0-9a-f]{64}$/.test(moduleSha256)) bad('moduleSha256 is not a sha256 in hex');
  const status = r['status'];
  if (status !== 'ready' && status !== 'paused') bad('status is neither "ready" nor "paused"');
  const entry = r['entry'] === null ? null : str(r['entry'], 'entry');
  const memories = array(r['memories'], 'memories').map((m, i) => memory(m, `memories[${i}]`));
  const tables = array(r['tables'], 'tables').map((t, i) => table(t, `tables[${i}]`));
  const globals = array(r['globals'], 'globals').map((g, i) => global(g, `globals[${i}]`));
  const frames = array(r['frames'], 'frames');
  if (status === 'ready' && frames.length) bad('a state that is "ready" has no frames');
  if (status === 'paused' && !frames.length) bad('a state that is "paused" must have frames');
  const instructions = int(r['instructions'], 'instructions', 0, Number.MAX_SAFE_INTEGER);
  const host = r['host'] === undefined ? {} : record(r['host'], 'host');
  const externs = r['externs'] === undefined ? [] : array(r['externs'], 'externs');
  const wasi = r['wasi'] === undefined ? null : r['wasi'];
  const state: CanonicalState = {
    moduleSha256,
    status,
    entry,
    memories,
    tables,
    globals,
    droppedData: indexList(r['droppedData'], 'droppedData', 0x100000000),
    droppedElems: indexList(r['droppedElems'], 'droppedElems', 0x100000000),
    frames: frames as CanonicalState['frames'],
    instructions,
    wasi: wasi as CanonicalState['wasi'],
    host,
    externs,
  };
  // Checked against their tags where they are restored (`exceptions.ts`).
  if (r['exceptions'] !== undefined) state.exceptions = array(r['exceptions'], 'exceptions') as CanonicalState['exceptions'];
  if (r['store'] !== undefined && r['store'] !== null) {
    const funcCount = Array.isArray(record(r['store'], 'store')['funcs']) ? (record(r['store'], 'store')['funcs'] as unknown[]).length : 0;
    state.store = storeLayout(r['store'], { funcs: funcCount, tables: tables.length, memories: memories.length, globals: globals.length });
  }
  return state;
}
