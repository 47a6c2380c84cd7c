/**
 * What the native side shares with the interpreter's store besides memories (which are
 * one `WebAssembly.Memory`): globals (`WebAssembly.Global`s, float ones with bit-exact
 * accessors) and tables (`WebAssembly.Table`s with a mirror of what was last synced),
 * and their syncing when execution switches sides.
 */
import { LinkError } from '../errors/index.ts';
import type { Module } from '../wasm/index.ts';
import type { GlobalState, InstanceState, StoreState, TableState } from '../exec/index.ts';
import type { Exports, NativeInstance } from './native-instance.ts';
import type { RewrittenModule } from './rewrite.ts';
import { ValType } from '../wasm/index.ts';
import { bits64 } from './values.ts';
import type { NativeValues } from './values.ts';

/** A global both sides see: the interpreter's state and its native `WebAssembly.Global`. */
export interface GlobalLink {
  addr: number;
  state: GlobalState;
  obj: WebAssembly.Global;
  /** Bit-exact accessors for f32/f64 (NaN payloads survive). */
  get?: () => number | bigint;
  set?: (bits: number | bigint) => void;
  /** Bits last written to or read from the native side. */
  lo: number;
  hi: number;
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
  /** A value's two slot halves, for `syncOut`. */
  private readonly pair = new Int32Array(2);

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
      const link: GlobalLink = { addr, state, obj: ex[`g${g}`] as WebAssembly.Global, lo: 0, hi: 0 };
      this.addFloatAccessors(link, ex, g, rewritten);
      // What the native global holds (the module's initial value): the interpreter's may
      // have moved on (a start function, or a restore after this link), and the next
      // `syncIn` writes it across where the bits differ.
      this.readNative(link, this.pair);
      link.lo = this.pair[0];
      link.hi = this.pair[1];
      this.globals.set(addr, link);
    }
    for (let g = 0; g < m.numImportedGlobals; g++) {
      const link = this.globals.get(inst.globalAddrs[g]);
      if (link && !link.get) this.addFloatAccessors(link, ex, g, rewritten);
    }
  }

  private addFloatAccessors(link: GlobalLink, ex: Exports, g: number, rewritten: RewrittenModule): void {
    if (!rewritten.floatGlobals.has(g)) return;
    link.get = ex[`gg${g}`] as () => number | bigint;
    link.set = ex[`gs${g}`] as (bits: number | bigint) => void;
  }

  /** A global import: the native global of its address, made on first use. */
  global(addr: number): WebAssembly.Global {
    const existing = this.globals.get(addr);
    if (existing) return existing.obj;
    const state = this.state.globals[addr];
    const value = this.values.bitsToValue(state.type, state.lo, state.hi, false);
    const names: Record<number, string> = {
      [ValType.i32]: 'i32', [ValType.i64]: 'i64', [ValType.f32]: 'f32', [ValType.f64]: 'f64',
      [ValType.funcref]: 'anyfunc', [ValType.externref]: 'externref',
    };
    const obj = new WebAssembly.Global({ value: names[state.type] as WebAssembly.ValueType, mutable: state.mutable }, value);
    this.globals.set(addr, { addr, state, obj, lo: state.lo, hi: state.hi });
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
      if (!s.mutable || (s.lo === g.lo && s.hi === g.hi)) continue;
      if (g.set) g.set(s.type === ValType.f32 ? s.lo : bits64(s.lo, s.hi));
      else g.obj.value = this.values.bitsToValue(s.type, s.lo, s.hi, false);
      g.lo = s.lo;
      g.hi = s.hi;
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

  /** The bits the native global of `g` holds, into `out[0]` (low word) and `out[1]`. */
  private readNative(g: GlobalLink, out: Int32Array): void {
    if (g.get) {
      const bits = g.get();
      if (typeof bits === 'number') { out[0] = bits | 0; out[1] = 0; } else { out[0] = Number(BigInt.asIntN(32, bits)); out[1] = Number(BigInt.asIntN(32, bits >> 32n)); }
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
