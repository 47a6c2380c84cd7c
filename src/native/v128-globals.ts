/**
 * Native globals of type v128 for imports that no attached module exports (a host's
 * global, say). JavaScript can neither make a v128 `WebAssembly.Global` (V8: "must be a
 * WebAssembly type") nor read or write one, so a tiny module makes it: it defines the
 * global, exports it, and exports `get`/`set` that move its bits as two i64 halves, low
 * first (the convention of `entry-code.ts`). A mutable global starts at zero and is set
 * through `set`; an immutable one can only be born with its value, so its module holds
 * the value as its initializer and is compiled for it (imports of immutable v128
 * globals from the host are rare; the module is under 100 bytes).
 */
import type { GlobalState } from '../exec/index.ts';
import { ValType } from '../wasm/index.ts';
import { ByteWriter } from '../binary/index.ts';
import { v128FromHalves } from './entry-code.ts';
import { bits64 } from './values.ts';

/** A native v128 global with its bit-exact accessors. */
export interface V128Global {
  obj: WebAssembly.Global;
  get: () => bigint[];
  set: (lo: number | bigint, hi: number | bigint) => void;
}

/** Makes native v128 globals; keeps the compiled module of the mutable ones. */
export class V128Globals {
  private mutableModule: WebAssembly.Module | undefined;

  /** A native global holding `state`'s value, of its mutability. */
  make(state: GlobalState): V128Global {
    let module: WebAssembly.Module;
    if (state.mutable) module = this.mutableModule ??= compile(true, new Uint8Array(16));
    else module = compile(false, valueBytes(state));
    const ex = new WebAssembly.Instance(module).exports;
    const get = ex['get'] as () => bigint[];
    const set = (ex['set'] ?? ((): void => { throw new Error('internal: an immutable v128 global was written'); })) as V128Global['set'];
    if (state.mutable) set(bits64(state.lo, state.hi), bits64(state.lo2, state.hi2));
    return { obj: ex['g'] as WebAssembly.Global, get, set };
  }
}

/** The 16 bytes of a global's v128 value, in memory order. */
function valueBytes(state: GlobalState): Uint8Array {
  const out = new Uint8Array(16);
  new Int32Array(out.buffer).set([state.lo, state.hi, state.lo2, state.hi2]);
  return out;
}

/** The module: global `g` (mutable or not) initialized to `value`, `get`, and `set` for a mutable one. */
function compile(mutable: boolean, value: Uint8Array): WebAssembly.Module {
  const out = new ByteWriter().raw([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
  const sec = new ByteWriter();
  const section = (id: number): void => {
    out.section(id, sec);
    sec.length = 0;
  };
  const I64 = ValType.i64;
  sec.funcTypes([{ params: [], results: [I64, I64] }, { params: [I64, I64], results: [] }]);
  section(1);
  const funcs = mutable ? 2 : 1;
  sec.u32(funcs).u32(0);
  if (mutable) sec.u32(1);
  section(3);
  sec.u32(1).u8(ValType.v128).u8(mutable ? 1 : 0).u8(0xfd).u32(0x0c).raw(Array.from(value)).u8(0x0b);
  section(6);
  sec.u32(1 + funcs).name('g').u8(0x03).u32(0).name('get').u8(0x00).u32(0);
  if (mutable) sec.name('set').u8(0x00).u32(1);
  section(7);
  // get: both halves by i64x2.extract_lane; set: the value rebuilt from its halves.
  const get = new ByteWriter().u32(0);
  get.u8(0x23).u32(0).u8(0xfd).u32(0x1d).u8(0).u8(0x23).u32(0).u8(0xfd).u32(0x1d).u8(1).u8(0x0b);
  const bodies = [get];
  if (mutable) {
    const set = new ByteWriter().u32(0);
    v128FromHalves(set, 0);
    bodies.push(set.u8(0x24).u32(0).u8(0x0b));
  }
  sec.u32(bodies.length);
  for (const b of bodies) sec.u32(b.length).append(b);
  section(10);
  return new WebAssembly.Module(out.toBytes() as Uint8Array<ArrayBuffer>);
}
