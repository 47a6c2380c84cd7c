/**
 * What the native side shares with the interpreter's store besides memories (which are
 * one `WebAssembly.Memory`): globals (`WebAssembly.Global`s, float and v128 ones with
 * bit-exact accessors) and tables (`WebAssembly.Table`s with a mirror of what was last synced),
 * and their syncing when execution switches sides.
 */
import { LinkError } from '../errors/index.ts';
import type { Module } from '../wasm/index.ts';
import type { GlobalState, InstanceState, StoreState, TableState } from '../exec/index.ts';
import type { Exports, NativeInstance } from './native-instance.ts';
import type { RewrittenModule } from './rewrite.ts';
import { ValType } from '../wasm/index.ts';
import { V128Globals } from './v128-globals.ts';
import { bits64 } from './values.ts';
import type { NativeValues } from './values.ts';

/** A global both sides see: the interpreter's state and its native `WebAssembly.Global`. */
export interface GlobalLink {
  addr: number;
  state: GlobalState;
  obj: WebAssembly.Global;
  /**
   * Bit-exact accessors for f32/f64 (NaN payloads survive) and v128 (which JS cannot
   * hold: two i64 halves, low first, returned as an array).
   */
  get?: () => number | bigint | bigint[];
  set?: (...bits: (number | bigint)[]) => void;
  /** Bits last written to or read from the native side (`lo2`, `hi2`: a v128's upper words). */
  lo: number;
  hi: number;
  lo2: number;
  hi2: number;
}

/** A table both sides see: the interpreter's state and its native `WebAssembly.Table`. */
export interface TableLink {
  addr: number;
  state: TableState;
  table: WebAssembly.Table;
  /** Elements as last synced (interpreter encoding: funcAddr + 1, extern id + 1, 0 null). */
  mirror: Int32Array;
}

/** The globals and tables of one store's native tier. */
export class SharedState {
  readonly globals = new Map<number, GlobalLink>();
  readonly tables = new Map<number, TableLink>();
  /** True once an attached module's code can change tables (they are then read back after native runs). */
  tablesWritten = false;
  /** A value's words (four for a v128), for `syncOut`. */
  private readonly pair = new Int32Array(4);
  /** Makes the native globals of v128 imports, which JS cannot make. */
  private readonly v128Globals = new V128Globals();

  constructor(private readonly state: StoreState, private readonly values: NativeValues) {}

  /**
   * Links the globals of a newly instantiated module `m` (exports `ex`): its own, at the
   * interpreter's values, and float accessors for those it imports.
   */
  linkGlobals(inst: InstanceState, m: Module, ex: Exports, rewritten: RewrittenModule): void {
    const store = this.state;
    for (let g = m.numImportedGlobals; g < m.numImportedGlobals + m.globals.length; g++) {
      const addr = inst.globalAddrs[g];
      const state = store.globals[addr];
      const link: GlobalLink = { addr, state, obj: ex[`g${g}`] as WebAssembly.Global, lo: 0, hi: 0, lo2: 0, hi2: 0 };
      this.addRawAccessors(link, ex, g, rewritten);
      if (!state.mutable && state.type === ValType.v128) {
        // Never written, and unreadable from JS: both sides evaluated the same initializer.
        link.lo = state.lo; link.hi = state.hi; link.lo2 = state.lo2; link.hi2 = state.hi2;
      } else {
        // What the native global holds (the module's initial value): the interpreter's may
        // have moved on (a start function, or a restore after this link), and the next
        // `syncIn` writes it across where the bits differ.
        this.readNative(link, this.pair);
        link.lo = this.pair[0]; link.hi = this.pair[1]; link.lo2 = this.pair[2]; link.hi2 = this.pair[3];
      }
      this.globals.set(addr, link);
    }
    for (let g = 0; g < m.numImportedGlobals; g++) {
      const link = this.globals.get(inst.globalAddrs[g]);
      if (link && !link.get) this.addRawAccessors(link, ex, g, rewritten);
    }
  }

  private addRawAccessors(link: GlobalLink, ex: Exports, g: number, rewritten: RewrittenModule): void {
    if (!rewritten.rawGlobals.has(g)) return;
    link.get = ex[`gg${g}`] as GlobalLink['get'];
    link.set = ex[`gs${g}`] as GlobalLink['set'];
  }

  /** A global import: the native global of its address, made on first use. */
  global(addr: number): WebAssembly.Global {
    const existing = this.globals.get(addr);
    if (existing) return existing.obj;
    const state = this.state.globals[addr];
    if (state.type === ValType.v128) {
      const made = this.v128Globals.make(state);
      this.globals.set(addr, { addr, state, obj: made.obj, get: made.get, set: made.set, lo: state.lo, hi: state.hi, lo2: state.lo2, hi2: state.hi2 });
      return made.obj;
    }
    const value = this.values.bitsToValue(state.type, state.lo, state.hi, false);
    const names: Record<number, string> = {
      [ValType.i32]: 'i32', [ValType.i64]: 'i64', [ValType.f32]: 'f32', [ValType.f64]: 'f64',
      [ValType.funcref]: 'anyfunc', [ValType.externref]: 'externref',
    };
    const obj = new WebAssembly.Global({ value: names[state.type] as WebAssembly.ValueType, mutable: state.mutable }, value);
    this.globals.set(addr, { addr, state, obj, lo: state.lo, hi: state.hi, lo2: 0, hi2: 0 });
    return obj;
  }

  /** The native table of table address `addr`, made on first use. */
  table(addr: number): TableLink {
    let link = this.tables.get(addr);
    if (link) return link;
    const state = this.state.tables[addr];
    const descriptor: WebAssembly.TableDescriptor = { element: state.elemType === ValType.funcref ? 'anyfunc' : 'externref' as never, initial: state.size };
    if (state.max !== undefined) descriptor.maximum = state.max;
    // Without an explicit null, an externref table would start out full of `undefined`.
    let table: WebAssembly.Table;
    try {
      table = new WebAssembly.Table(descriptor, null);
    } catch (cause) {
      // The runtime keeps tables within V8's bound (wasm/limits.ts); this is for a host that holds less.
      throw new LinkError(`table of ${state.size} elements: V8 cannot hold it (${(cause as Error).message})`);
    }
    link = { addr, state, table, mirror: new Int32Array(state.size) };
    this.tables.set(addr, link);
    return link;
  }

  /** Interpreter -> native: globals, tables and dropped segments the interpreter changed. */
  syncIn(instances: Iterable<NativeInstance>): void {
    for (const g of this.globals.values()) {
      const s = g.state;
      if (!s.mutable || (s.lo === g.lo && s.hi === g.hi && s.lo2 === g.lo2 && s.hi2 === g.hi2)) continue;
      if (s.type === ValType.v128) g.set!(bits64(s.lo, s.hi), bits64(s.lo2, s.hi2));
      else if (g.set) g.set(s.type === ValType.f32 ? s.lo : bits64(s.lo, s.hi));
      else g.obj.value = this.values.bitsToValue(s.type, s.lo, s.hi, false);
      g.lo = s.lo;
      g.hi = s.hi;
      g.lo2 = s.lo2;
      g.hi2 = s.hi2;
    }
    for (const t of this.tables.values()) {
      const s = t.state;
      if (t.table.length < s.size) t.table.grow(s.size - t.table.length, null);
      if (t.mirror.length < s.size) {
        const m = new Int32Array(s.size);
        m.set(t.mirror.subarray(0, Math.min(t.mirror.length, s.size)));
        t.mirror = m;
      }
      const el = s.elements, mirror = t.mirror;
      for (let i = 0; i < s.size; i++) {
        if (el[i] === mirror[i]) continue;
        t.table.set(i, this.values.refToValue(s.elemType, el[i]) as never);
        mirror[i] = el[i];
      }
    }
    for (const n of instances) {
      const st = n.state;
      for (let i = 0; i < n.droppedData.length; i++) {
        if (n.droppedData[i] === 0 && st.datas[i] === null) { (n.exports['dd'] as (i: number) => void)(i); n.droppedData[i] = 1; }
      }
      for (let i = 0; i < n.droppedElems.length; i++) {
        if (n.droppedElems[i] === 0 && st.elems[i] === null) { (n.exports['de'] as (i: number) => void)(i); n.droppedElems[i] = 1; }
      }
    }
  }

  /** The bits the native global of `g` holds, into `out[0]` (low word), `out[1]` (and `out[2]`, `out[3]` for a v128). */
  private readNative(g: GlobalLink, out: Int32Array): void {
    out[2] = out[3] = 0;
    if (g.get) {
      const bits = g.get();
      if (typeof bits === 'number') { out[0] = bits | 0; out[1] = 0; } else if (typeof bits === 'bigint') { out[0] = Number(BigInt.asIntN(32, bits)); out[1] = Number(BigInt.asIntN(32, bits >> 32n)); } else {
        for (let w = 0; w < 4; w++) out[w] = Number(BigInt.asIntN(32, bits[w >> 1] >> BigInt(32 * (w & 1))));
      }
    } else {
      this.values.valueToBits(g.state.type, g.obj.value, out, 0);
    }
  }

  /** Native -> interpreter: globals, and tables when native code may have written them. */
  syncOut(): void {
    for (const g of this.globals.values()) {
      const s = g.state;
      if (!s.mutable) continue;
      this.readNative(g, this.pair);
      s.lo = g.lo = this.pair[0];
      s.hi = g.hi = this.pair[1];
      if (s.type === ValType.v128) {
        s.lo2 = g.lo2 = this.pair[2];
        s.hi2 = g.hi2 = this.pair[3];
      }
    }
    if (!this.tablesWritten) return;
    for (const t of this.tables.values()) {
      const s = t.state;
      const length = t.table.length;
      if (length > s.size) {
        if (length > s.elements.length) {
          const el = new Int32Array(length);
          el.set(s.elements.subarray(0, s.size));
          s.elements = el;
        }
        s.size = length;
      }
      if (t.mirror.length < length) {
        const m = new Int32Array(length);
        m.set(t.mirror);
        t.mirror = m;
      }
      for (let i = 0; i < length; i++) {
        const ref = this.values.valueToRef(s.elemType, t.table.get(i));
        s.elements[i] = ref;
        t.mirror[i] = ref;
      }
    }
  }
}
