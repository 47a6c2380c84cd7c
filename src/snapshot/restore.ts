/**
 * Restore: an untrusted canonical state onto the entities of an index space (a freshly
 * allocated instance, or a store built from an image). Everything is checked against
 * the module before the store is written: counts, types, limits, references, frames.
 */
import { SnapshotError } from '../errors/index.ts';
import { refreshMemoryViews } from '../exec/index.ts';
import type { InstanceState, MemoryState, TableState, ThreadState } from '../exec/index.ts';
import { externId } from '../runtime/index.ts';
import { valTypeName, ValType } from '../wasm/index.ts';
import { PAGE_SIZE } from './canonical.ts';
import type { CanonicalMemory, CanonicalState } from './canonical.ts';
import { loadFrames } from './frames.ts';
import { restoreExceptions } from './exceptions.ts';
import type { IndexSpace } from './space.ts';
import { writeCanonical } from './values.ts';
import type { RefLimits } from './values.ts';

/** The words for a memory or table's index type, in errors. */
function width(index64: boolean | undefined): string {
  return index64 ? '64-bit' : '32-bit';
}

function checkMemory(c: CanonicalMemory, m: MemoryState, what: string): void {
  const current = m.memory.buffer.byteLength / PAGE_SIZE;
  if (!c.index64 !== !m.index64) throw new SnapshotError(`${what}: the snapshot has a ${width(c.index64)} memory, the module a ${width(m.index64)} one`);
  if (c.max !== (m.declaredMax ?? null)) throw new SnapshotError(`${what}: its maximum is ${c.max ?? 'none'}, the module declares ${m.declaredMax ?? 'none'}`);
  if (c.pages < current) throw new SnapshotError(`${what}: ${c.pages} pages are fewer than the memory's minimum of ${current}`);
  if (c.pages > m.maxPages) throw new SnapshotError(`${what}: ${c.pages} pages exceed the limit of ${m.maxPages} pages`);
}

/**
 * Writes a checked memory: grows it, clears the pages that may hold something and are
 * not stored, copies the stored pages. `dirty` lists the pages that may be non-zero
 * (a fresh instance: its data segments'); without it, every page is cleared.
 */
function applyMemory(c: CanonicalMemory, m: MemoryState, what: string, dirty: ReadonlySet<number> | undefined): void {
  const current = m.memory.buffer.byteLength / PAGE_SIZE;
  if (c.pages > current) {
    try {
      m.memory.grow(c.pages - current);
    } catch (cause) {
      throw new SnapshotError(`${what}: cannot allocate ${c.pages} pages`, { cause });
    }
  }
  refreshMemoryViews(m);
  const bytes = m.bytes;
  const stored = c.stored;
  const isStored = new Uint8Array(current);
  for (const p of stored) if (p < current) isStored[p] = 1;
  if (dirty === undefined) {
    // Clear the runs of pages that are not about to be overwritten.
    for (let p = 0; p < current;) {
      if (isStored[p]) { p++; continue; }
      let q = p + 1;
      while (q < current && !isStored[q]) q++;
      bytes.fill(0, p * PAGE_SIZE, q * PAGE_SIZE);
      p = q;
    }
  } else {
    for (const p of dirty) if (p < current && !isStored[p]) bytes.fill(0, p * PAGE_SIZE, (p + 1) * PAGE_SIZE);
  }
  for (let i = 0; i < stored.length;) {
    let j = i + 1;
    while (j < stored.length && stored[j] === stored[j - 1] + 1) j++;
    bytes.set(c.data.subarray(i * PAGE_SIZE, j * PAGE_SIZE), stored[i] * PAGE_SIZE);
    i = j;
  }
}

function checkSegments(dropped: readonly number[], segments: readonly unknown[], kind: string, where: string): void {
  const set = new Set(dropped);
  for (const i of dropped) if (i >= segments.length) throw new SnapshotError(`${where}: dropped ${kind} segment ${i} does not exist (the module has ${segments.length})`);
  for (let i = 0; i < segments.length; i++) {
    if (segments[i] === null && !set.has(i)) throw new SnapshotError(`${where}: ${kind} segment ${i} is dropped at instantiation, the snapshot says it is not`);
  }
}

function applySegments(dropped: readonly number[], segments: unknown[]): void {
  for (const i of dropped) segments[i] = null;
}

/** Makes the store's externref table hold exactly `values` at the ids the state uses. */
function restoreExterns(space: IndexSpace, values: readonly unknown[]): void {
  const store = space.store;
  const existing = store.externs;
  for (let i = 0; i < Math.min(existing.length, values.length); i++) {
    if (!Object.is(existing[i], values[i])) throw new SnapshotError(`externref ${i} differs from the host's own`);
  }
  for (let i = existing.length; i < values.length; i++) {
    if (externId(store, values[i]) !== i) throw new SnapshotError(`externref ${i} repeats an earlier host value`);
  }
}

/**
 * Restores `state` onto the entities of `space` and, when it has frames, onto `thread`
 * (which must hold no frames above its current depth). The state's shape must have been
 * checked (`checkStateShape`).
 * @throws SnapshotError when the state does not fit the module or the limits.
 */
export interface RestoreOptions {
  /**
   * Per memory of the space, the pages that may be non-zero before the restore (a freshly
   * allocated instance: where its data segments went). Others are known to be zero and
   * are left alone. Absent: every page not in the state is cleared.
   */
  dirtyPages?: (ReadonlySet<number> | undefined)[];
  /**
   * The memories hold their contents already (written while they arrived, block by
   * block): only their sizes are checked against the state, which carries no pages.
   */
  keepMemory?: boolean;
}

export function restoreState(state: CanonicalState, space: IndexSpace, thread: ThreadState | null, options: RestoreOptions = {}): void {
  const store = space.store;
  const count = (what: string, have: number, want: number): void => {
    if (have !== want) throw new SnapshotError(`the snapshot has ${have} ${what}, the module ${want}`);
  };
  count('memories', state.memories.length, space.memories.length);
  count('tables', state.tables.length, space.tables.length);
  count('globals', state.globals.length, space.globals.length);

  // 1. Check everything, computing table and global contents without writing them.
  const memories = space.memories.map((a) => store.memories[a]);
  state.memories.forEach((c, i) => {
    checkMemory(c, memories[i], `memory ${i}`);
    if (options.keepMemory) {
      const pages = memories[i].memory.buffer.byteLength / PAGE_SIZE;
      if (c.pages !== pages || c.stored.length !== 0) throw new SnapshotError(`memory ${i}: the state says ${c.pages} pages${c.stored.length ? ' and carries pages' : ''}, the memory received has ${pages}`);
    }
  });
  const limits: RefLimits = { funcs: space.funcs.length, externs: Math.max(store.externs.length, state.externs.length) };
  restoreExceptions(state.exceptions, space, limits);
  const scratch = new Int32Array(4);
  const tables: TableState[] = space.tables.map((a) => store.tables[a]);
  const tableContents = state.tables.map((c, i) => {
    const t = tables[i];
    const what = `table ${i}`;
    if (c.elemType !== t.elemType) throw new SnapshotError(`${what}: element type ${valTypeName(c.elemType)}, the module says ${valTypeName(t.elemType)}`);
    if (!c.index64 !== !t.index64) throw new SnapshotError(`${what}: the snapshot has a ${width(c.index64)} table, the module a ${width(t.index64)} one`);
    if (c.max !== (t.max ?? null)) throw new SnapshotError(`${what}: its maximum is ${c.max ?? 'none'}, the module declares ${t.max ?? 'none'}`);
    if (c.elements.length < t.size) throw new SnapshotError(`${what}: ${c.elements.length} elements are fewer than the table's minimum of ${t.size}`);
    const elements = new Int32Array(c.elements.length);
    for (let j = 0; j < elements.length; j++) {
      writeCanonical(t.elemType, c.elements[j], space, limits, scratch, 0, `${what} element ${j}`);
      elements[j] = scratch[0];
    }
    return elements;
  });
  const globalBits = state.globals.map((c, i) => {
    const g = store.globals[space.globals[i]];
    const what = `global ${i}`;
    if (c.type !== g.type || c.mutable !== g.mutable) {
      throw new SnapshotError(`${what}: ${c.mutable ? 'mut ' : ''}${valTypeName(c.type)}, the module says ${g.mutable ? 'mut ' : ''}${valTypeName(g.type)}`);
    }
    writeCanonical(g.type, c.value, space, limits, scratch, 0, what);
    const wide = g.type === ValType.v128;
    if (!g.mutable && (scratch[0] !== g.lo || scratch[1] !== g.hi || (wide && (scratch[2] !== g.lo2 || scratch[3] !== g.hi2)))) {
      throw new SnapshotError(`${what} is immutable, and the snapshot changes its value`);
    }
    return [scratch[0], scratch[1], wide ? scratch[2] : 0, wide ? scratch[3] : 0] as const;
  });
  const segmentOwners: { inst: InstanceState; data: readonly number[]; elems: readonly number[]; where: string }[] = [];
  if (state.store === undefined) {
    if (space.image) throw new SnapshotError('the snapshot is a program\'s, not a store image');
    segmentOwners.push({ inst: space.instances[0], data: state.droppedData, elems: state.droppedElems, where: 'module' });
  } else {
    if (!space.image) throw new SnapshotError('the snapshot is a store image, not a program\'s');
    count('instances', state.store.instances.length, space.instances.length);
    state.store.instances.forEach((c, k) => segmentOwners.push({ inst: space.instances[k], data: c.droppedData, elems: c.droppedElems, where: `instance ${k}` }));
  }
  for (const o of segmentOwners) {
    checkSegments(o.data, o.inst.datas, 'data', o.where);
    checkSegments(o.elems, o.inst.elems, 'element', o.where);
  }
  restoreExterns(space, state.externs);

  // 2. Frames: checked against validation, then loaded.
  if (state.frames.length) {
    if (thread === null) throw new SnapshotError('the snapshot has frames but no thread to load them into');
    loadFrames(thread, space, state.frames, limits);
  }

  // 3. Write the store.
  if (!options.keepMemory) state.memories.forEach((c, i) => applyMemory(c, memories[i], `memory ${i}`, options.dirtyPages?.[i]));
  tableContents.forEach((elements, i) => {
    tables[i].elements = elements;
    tables[i].size = elements.length;
  });
  globalBits.forEach(([lo, hi, lo2, hi2], i) => {
    const g = store.globals[space.globals[i]];
    g.lo = lo;
    g.hi = hi;
    g.lo2 = lo2;
    g.hi2 = hi2;
  });
  for (const o of segmentOwners) {
    applySegments(o.data, o.inst.datas);
    applySegments(o.elems, o.inst.elems);
  }
  if (thread !== null) thread.instructions = state.instructions;
}
