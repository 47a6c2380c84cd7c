/**
 * Exceptions in snapshots (Wasm 3.0 exception handling). An exnref names an exception
 * the store holds; a snapshot carries the exceptions its exnref values name, once each,
 * as a list (`CanonicalState.exceptions`), and an exnref as its position in that list,
 * the way an externref is a position in `externs`. Tags travel as indices of the
 * snapshot's index space (a program: its module's tags). So an exception caught by a
 * `catch_ref`, kept by a legacy `catch` for `rethrow`, or stored in a local, a global or
 * a table resumes as the same tag with the same values, bit for bit.
 */
import { SnapshotError } from '../errors/index.ts';
import { ValType } from '../wasm/index.ts';
import type { CanonicalException, CanonicalValue } from './canonical.ts';
import type { IndexSpace } from './space.ts';
import { slotToCanonical, writeCanonical } from './values.ts';
import type { RefLimits } from './values.ts';

/** The exceptions one capture meets, numbered in the order it meets them. */
export class ExceptionCollector {
  private readonly ids = new Map<number, number>();
  /** Store index of each exception, by its position in the snapshot. */
  readonly order: number[] = [];

  /** The snapshot's id for the store's exception `index`. */
  idOf(index: number): number {
    let id = this.ids.get(index);
    if (id === undefined) {
      id = this.order.length;
      this.ids.set(index, id);
      this.order.push(index);
    }
    return id;
  }
}

/** Words a value of `type` takes in a payload (a v128 four, every other two). */
function words(type: number): number {
  return type === ValType.v128 ? 4 : 2;
}

/**
 * Every exception the capture met, their own exnref values included (their ids are
 * given as the list grows, so the loop reaches them too).
 */
export function captureExceptions(collector: ExceptionCollector, space: IndexSpace): CanonicalException[] {
  const store = space.store;
  const out: CanonicalException[] = [];
  for (let i = 0; i < collector.order.length; i++) {
    const exn = store.exceptions[collector.order[i]];
    const tag = space.tags.indexOf(exn.tagAddr);
    if (tag < 0) throw new SnapshotError(`cannot capture: an exception of tag address ${exn.tagAddr}, which is outside the snapshot`);
    const params = store.tags[exn.tagAddr].type.params;
    const values: CanonicalValue[] = [];
    let at = 0;
    for (const type of params) {
      values.push(slotToCanonical(type, exn.payload, at, space));
      at += words(type);
    }
    out.push({ tag, values });
  }
  return out;
}

/**
 * Adds the state's exceptions to the store (checked against their tags' types) and sets
 * `limits` so that exnref values find them. Exceptions a failed restore added stay in
 * the store unnamed, which nothing can observe.
 * @throws SnapshotError naming the first bad exception.
 */
export function restoreExceptions(list: unknown, space: IndexSpace, limits: RefLimits): void {
  const store = space.store;
  limits.exceptionBase = store.exceptions.length;
  limits.exceptions = 0;
  if (list === undefined || list === null) return;
  if (!Array.isArray(list)) throw new SnapshotError('exceptions is not a list');
  const checked: { params: readonly number[]; values: unknown[] }[] = [];
  list.forEach((x, i) => {
    const what = `exception ${i}`;
    if (typeof x !== 'object' || x === null || Array.isArray(x)) throw new SnapshotError(`${what} is not a record`);
    const r = x as Record<string, unknown>;
    const tag = r['tag'];
    if (typeof tag !== 'number' || !Number.isInteger(tag) || tag < 0 || tag >= space.tags.length) throw new SnapshotError(`${what}: tag ${String(tag)} is not one of the ${space.tags.length} tags`);
    const params = store.tags[space.tags[tag]].type.params;
    const values = r['values'];
    if (!Array.isArray(values) || values.length !== params.length) throw new SnapshotError(`${what}: its tag carries ${params.length} values`);
    checked.push({ params, values });
  });
  const base = store.exceptions.length;
  checked.forEach((c, i) => {
    let n = 0;
    for (const type of c.params) n += words(type);
    // Kept: the restore cannot know which of them only a legacy catch names.
    store.exceptions.push({ tagAddr: space.tags[(list[i] as { tag: number }).tag], payload: new Int32Array(n), kept: true });
  });
  limits.exceptions = checked.length;
  checked.forEach((c, i) => {
    const payload = store.exceptions[base + i].payload;
    let at = 0;
    c.params.forEach((type, j) => {
      writeCanonical(type, c.values[j], space, limits, payload, at, `exception ${i} value ${j}`);
      at += words(type);
    });
  });
}
