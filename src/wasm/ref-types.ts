/**
 * Typed function references (Wasm 3.0): reference types `(ref null? ht)` whose heap type
 * `ht` is abstract (`func`, `extern`, and their bottoms `nofunc`, `noextern`) or a type
 * index. Spec: https://webassembly.github.io/spec/core/syntax/types.html#reference-types
 *
 * A value type stays one number everywhere (locals, operand types, globals, tables), so
 * that every layer keeps comparing and storing plain numbers: `funcref` and `externref`
 * keep their bytes 0x70 and 0x6f (they are `(ref null func)` and `(ref null extern)`),
 * and every other reference type is a number from {@link TYPED_REF_BASE} up that packs
 * the heap type and the nullability. Values of every function-reference type are held
 * as a `funcref` is (function address + 1, 0 for null), of the extern ones as an
 * `externref`: {@link refStorageType} says which, for the runtime and snapshots.
 */

/** The heap types that are not type indices, as the s33 of their binary byte (0x70 - 0x80, ...). */
export const HeapType = {
  /** Any function (byte 0x70). */
  func: -0x10,
  /** Any host value (byte 0x6f). */
  extern: -0x11,
  /** The bottom of the function types: only null (byte 0x73). */
  nofunc: -0x0d,
  /** The bottom of the extern types: only null (byte 0x72). */
  noextern: -0x0e,
  /** An exception (exception handling; byte 0x69: `exnref` is `(ref null exn)`). */
  exn: -0x17,
  /** The bottom of the exception types: only null (byte 0x74). */
  noexn: -0x0c,
} as const;

/** The first number of the packed reference types (above every byte and opcode of a value type). */
export const TYPED_REF_BASE = 0x1000;
/** Heap types are packed from this offset up, so that the abstract ones (-0x11..-0x0d) stay positive. */
const HEAP_BIAS = 32;

/** A reference type other than funcref and externref, packed by {@link refType}. */
export type TypedRefType = number & {
  /** A compile-time brand only: no value has this property. */
  readonly typedRef: true;
};

/** The reference type `(ref null? heap)`: funcref / externref for the nullable abstract ones. */
export function refType(heap: number, nullable: boolean): number {
  if (nullable && heap === HeapType.func) return 0x70;
  if (nullable && heap === HeapType.extern) return 0x6f;
  if (nullable && heap === HeapType.exn) return 0x69;
  return TYPED_REF_BASE + (heap + HEAP_BIAS) * 2 + (nullable ? 1 : 0);
}

/** Whether a value type is a reference type (funcref, externref or a typed reference). */
export function isRefType(t: number): boolean {
  return t === 0x70 || t === 0x6f || t === 0x69 || t >= TYPED_REF_BASE;
}

/** The heap type of a reference type: a type index (>= 0) or a {@link HeapType}. */
export function refHeap(t: number): number {
  if (t === 0x70) return HeapType.func;
  if (t === 0x6f) return HeapType.extern;
  if (t === 0x69) return HeapType.exn;
  return Math.floor((t - TYPED_REF_BASE) / 2) - HEAP_BIAS;
}

/** Whether a reference type admits null. */
export function refNullable(t: number): boolean {
  return t === 0x70 || t === 0x6f || t === 0x69 || ((t - TYPED_REF_BASE) & 1) === 1;
}

/** Whether a heap type is one of the function types (func, nofunc or a type index). */
export function isFuncHeap(heap: number): boolean {
  return heap >= 0 || heap === HeapType.func || heap === HeapType.nofunc;
}

/**
 * How values of a type are held: funcref (0x70) for every function reference, externref
 * (0x6f) for every extern one, the type itself otherwise. The runtime and the canonical
 * state store reference values by this, so typed references change neither.
 */
export function refStorageType(t: number): number {
  if (t < TYPED_REF_BASE) return t;
  const heap = refHeap(t);
  if (heap === HeapType.exn || heap === HeapType.noexn) return 0x69;
  return isFuncHeap(heap) ? 0x70 : 0x6f;
}

/** Whether a value type names a type index (a typed reference to a concrete function type). */
export function isConcreteRef(t: number): boolean {
  return t >= TYPED_REF_BASE && refHeap(t) >= 0;
}

/** A heap type's name in the text format. */
export function heapTypeName(heap: number): string {
  switch (heap) {
    case HeapType.func: return 'func';
    case HeapType.extern: return 'extern';
    case HeapType.nofunc: return 'nofunc';
    case HeapType.noextern: return 'noextern';
    case HeapType.exn: return 'exn';
    case HeapType.noexn: return 'noexn';
    default: return String(heap);
  }
}

/** A typed reference's name in the text format: `(ref null 3)`, `(ref func)`. */
export function typedRefName(t: number): string {
  return `(ref ${refNullable(t) ? 'null ' : ''}${heapTypeName(refHeap(t))})`;
}

/**
 * Ids of a module's function types under type equivalence (Wasm 3.0, spec 3.2.x "type
 * equivalence"): two types are the same when their structure is, after each type index
 * in a typed reference is replaced by the id of the type it names. Each type is its own
 * recursion group (no GC types here), so a reference to the type itself or a later one
 * is kept relative (`#0` for itself). `intern` turns a structural key into an id: a
 * validator's own map for one module, a store's for every module it holds (so that
 * `call_indirect` compares ids across modules). Plain types keep their old key,
 * `params>results` as the numbers of their value types.
 */
export function funcTypeIds(types: readonly { params: readonly number[]; results: readonly number[] }[], intern: (key: string) => number): number[] {
  const ids: number[] = [];
  for (let i = 0; i < types.length; i++) {
    const part = (t: number): string => {
      if (!isConcreteRef(t)) return String(t);
      const j = refHeap(t);
      const prefix = refNullable(t) ? 'ref null ' : 'ref ';
      return j < i ? `(${prefix}=${ids[j]})` : `(${prefix}#${j - i})`;
    };
    ids.push(intern(`${types[i].params.map(part).join(',')}>${types[i].results.map(part).join(',')}`));
  }
  return ids;
}

/**
 * A module's value type in store terms: a typed reference to a type index names the
 * store-wide id of that type instead (`typeIds`, from `funcTypeIds`), so that the types of
 * two modules compare (import matching). Other types stay as they are.
 */
export function storeValType(t: number, typeIds: readonly number[]): number {
  if (!isConcreteRef(t)) return t;
  return refType(typeIds[refHeap(t)], refNullable(t));
}

/** Matching (`a` below `b`) of two value types in store terms ({@link storeValType}): equal type ids are equivalent types. */
export function storeTypeMatches(a: number, b: number): boolean {
  if (a === b) return true;
  if (!isRefType(a) || !isRefType(b)) return false;
  if (refNullable(a) && !refNullable(b)) return false;
  const ha = refHeap(a), hb = refHeap(b);
  if (ha === hb) return true;
  if (hb === HeapType.func) return isFuncHeap(ha);
  if (hb === HeapType.extern) return ha === HeapType.noextern;
  if (hb === HeapType.exn) return ha === HeapType.noexn;
  if (ha === HeapType.nofunc) return hb >= 0;
  return false;
}
