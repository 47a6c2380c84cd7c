/**
 * A job's in-memory directories as its start request carries them (`JobSpec.memDirs`):
 * the content a client loaded from a host folder (`wasmig run --on A --mem-dir
 * data=./in`), in JSON, since control messages are JSON: file bytes as base64, times as
 * decimal strings. Only the start carries a seed; the agent drops it from the spec it
 * keeps, since from then on the files live in the job's WASI state and travel with it.
 */
import { WasmigError } from '../errors/index.ts';
import { validateMemFsState } from '../wasi/index.ts';
import type { MemDirOptions, MemFsState } from '../wasi/index.ts';

/** One in-memory directory of a job's spec. */
export interface MemDirSpec {
  /** The name the program opens it by. */
  guest: string;
  /** Most bytes of file content it may hold. */
  maxBytes: number;
  /** Its content to start from (only in a start request); absent: empty. */
  seed?: MemDirSeed;
}

/** {@link MemFsState} in JSON. */
export interface MemDirSeed {
  maxBytes: number;
  nextIno: number;
  nodes: Record<string, unknown>[];
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** The content as JSON, for a start request. */
export function seedOf(state: MemFsState): MemDirSeed {
  return {
    maxBytes: state.maxBytes,
    nextIno: state.nextIno,
    nodes: state.nodes.map((n) => {
      const common = { ino: n.ino, type: n.type, atim: String(n.atim), mtim: String(n.mtim), ctim: String(n.ctim) };
      if (n.type === 'file') return { ...common, data: base64(n.data) };
      if (n.type === 'symlink') return { ...common, target: n.target };
      return { ...common, entries: n.entries };
    }),
  };
}

/**
 * The content a start request carries, checked (it came over the network) as a
 * snapshot's in-memory directory is.
 * @throws WasmigError ERR_SPEC naming the first bad field.
 */
export function stateOfSeed(seed: unknown, where: string): MemFsState {
  const fail = (what: string): never => {
    throw new WasmigError('ERR_SPEC', `invalid job spec: ${what}`);
  };
  if (typeof seed !== 'object' || seed === null || !Array.isArray((seed as MemDirSeed).nodes)) fail(`${where} is not an object with nodes`);
  const s = seed as MemDirSeed;
  const time = (v: unknown, what: string): bigint => {
    if (typeof v !== 'string' || !/^\d{1,20}$/.test(v)) fail(`${what} is not a decimal time`);
    return BigInt(v as string);
  };
  const nodes = s.nodes.map((n, j) => {
    if (typeof n !== 'object' || n === null) return fail(`${where}.nodes[${j}] is not an object`);
    const out: Record<string, unknown> = { ...n, atim: time(n['atim'], `${where}.nodes[${j}].atim`), mtim: time(n['mtim'], `${where}.nodes[${j}].mtim`), ctim: time(n['ctim'], `${where}.nodes[${j}].ctim`) };
    if (n['type'] === 'file') {
      const data = n['data'];
      if (typeof data !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(data)) fail(`${where}.nodes[${j}].data is not base64`);
      out['data'] = new Uint8Array(Buffer.from(data as string, 'base64'));
    }
    return out;
  });
  return validateMemFsState({ maxBytes: s.maxBytes, nextIno: s.nextIno, nodes }, where, fail);
}

/** What a job's worker is given for its in-memory directories at the start. */
export function memDirOptionsOf(dirs: readonly MemDirSpec[] | undefined): MemDirOptions[] {
  return (dirs ?? []).map((d, i) => ({ guest: d.guest, maxBytes: d.maxBytes, ...(d.seed === undefined ? {} : { files: stateOfSeed(d.seed, `spec.memDirs[${i}].seed`) }) }));
}

/** The spec's in-memory directories without their seeds (what the agent keeps once the job started). */
export function withoutSeeds(dirs: readonly MemDirSpec[] | undefined): MemDirSpec[] | undefined {
  return dirs?.map((d) => ({ guest: d.guest, maxBytes: d.maxBytes }));
}
