import { funcTypeIds, HeapType, isConcreteRef, isFuncHeap, isRefType, refHeap, refNullable, refType } from '../wasm/index.ts';
import type { FuncType } from '../wasm/index.ts';

/**
 * The subtyping of value types (Wasm 3.0 without GC types, spec 3.2 "matching"): numeric
 * and vector types match only themselves; a reference type `(ref null1? h1)` matches
 * `(ref null2? h2)` when null1 implies null2 and h1 is below h2: a function type index
 * below `func`, `nofunc` below every function heap type, `noextern` below `extern`, and two
 * type indices when their types are equivalent (`funcTypeIds`). Built once per module.
 */
export class TypeRelations {
  /** The module's type ids under equivalence, by type index. */
  readonly typeIds: readonly number[];

  constructor(readonly types: readonly FuncType[]) {
    const ids = new Map<string, number>();
    this.typeIds = funcTypeIds(types, (key) => {
      let id = ids.get(key);
      if (id === undefined) ids.set(key, (id = ids.size));
      return id;
    });
  }

  /** Whether a value of type `a` may stand where `b` is expected. */
  matches(a: number, b: number): boolean {
    if (a === b) return true;
    if (!isRefType(a) || !isRefType(b)) return false;
    if (refNullable(a) && !refNullable(b)) return false;
    return this.heapMatches(refHeap(a), refHeap(b));
  }

  /** Whether heap type `a` is below heap type `b`. */
  heapMatches(a: number, b: number): boolean {
    if (a === b) return true;
    if (a >= 0 && b >= 0) return this.typeIds[a] === this.typeIds[b];
    if (b === HeapType.func) return isFuncHeap(a);
    if (b === HeapType.extern) return a === HeapType.noextern;
    if (b === HeapType.exn) return a === HeapType.noexn;
    if (a === HeapType.nofunc) return b >= 0;
    return false;
  }

  /** Every type of `a` matches the type at its place in `b` (same lengths). */
  allMatch(a: readonly number[], b: readonly number[]): boolean {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!this.matches(a[i], b[i])) return false;
    return true;
  }

  /** Whether a value type names only types that exist (a typed reference's type index). */
  exists(t: number): boolean {
    return !isConcreteRef(t) || refHeap(t) < this.types.length;
  }

  /** `(ref null? $typeIndex)`: what `ref.func` gives (non-null) and `call_ref` takes (nullable). */
  static funcRef(typeIndex: number, nullable = false): number {
    return refType(typeIndex, nullable);
  }

  /** The non-nullable version of a reference type (`ref.as_non_null`, `br_on_null`). */
  static nonNull(t: number): number {
    return refType(refHeap(t), false);
  }
}

/** Whether a local of this type has a default value (every type but the non-nullable references). */
export function isDefaultable(t: number): boolean {
  return !isRefType(t) || refNullable(t);
}
