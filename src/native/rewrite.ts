/**
 * The module rewriter of the native tier: from a validated module, a module that the
 * host's engine (V8) compiles and runs at near-native speed and whose stack can unwind
 * into canonical frames at any safepoint (see `rewrite-function.ts`).
 *
 * The rewritten module runs on the interpreter's store, sharing its state:
 * - memories and tables become imports (the interpreter's `WebAssembly.Memory`, and
 *   `WebAssembly.Table`s that mirror its tables); indices stay the same;
 * - globals stay where they are and are exported, so the host can sync them when it
 *   switches tiers (f32/f64 ones through getter/setter functions that keep NaN bits);
 * - active segments and the start function are gone: the interpreter's instantiation
 *   applied and ran them; active segments stay as empty passive ones (a dropped segment);
 * - every tag, imported or defined, becomes the import `wasmig.x<i>` (the tier's
 *   `WebAssembly.Tag` of its store address), so tag indices stay the same;
 * - the helper imports (`wasmig.*`) come after the original function imports, which
 *   shifts the defined functions' indices; every export is by index: `f<i>` is function
 *   i, `c<i>` its entry with float and v128 values as raw bits (`entry-code.ts`), `g<i>`
 *   a defined global.
 */
import { createInstr, InstructionReader } from '../binary/index.ts';
import { MEMORIES_SHARED } from '../exec/index.ts';
import type { ModuleContext } from '../validate/index.ts';
import { OPS, ValType } from '../wasm/index.ts';
import type { ConstExpr, FuncType, Module } from '../wasm/index.ts';
import { ByteWriter } from '../binary/index.ts';
import { expandCaught } from './exception-scan.ts';
import { LoopFinder } from './loop-finder.ts';
import type { FoundLoop } from './loop-finder.ts';
import { bitsEntry, crossesAsBits, entryTypes, needsEntry, v128FromHalves, v128Halves } from './entry-code.ts';
import { rewriteFunction } from './rewrite-function.ts';
import type { HelperIndices, ResumeTarget, RewrittenFunction } from './rewrite-function.ts';
import { zero } from './save-sequence.ts';

/** The helper imports, in the order they are imported (module `wasmig`). */
export const HELPER_IMPORTS = ['poll', 'frame', 'si', 'sl', 'sr', 'se', 'deep', 'ddrop', 'edrop', 'sv', 'th'] as const;
export const HELPER_MODULE = 'wasmig';

export interface RewriteOptions {
  /** Loop-header polling (see `FunctionRewriteOptions.loopPoll`, default 'local'); 'none' only to measure what polling costs. */
  loopPoll?: 'global' | 'local' | 'none';
  /** 'none' drops the after-call checks: only to measure what they cost (unwinding then breaks). */
  afterCall?: 'check' | 'none';
  /** Most copies of an innermost loop's body per header check (default 8; 1: no unrolling; see `planUnrolling`). */
  unroll?: number;
  /** Keep every local's value at every safepoint (the rewrite before `local-liveness.ts`): only to measure what clearing dead locals gains. */
  keepDeadLocals?: boolean;
  /** Import the memory as shared (for a native tier in another thread). */
  sharedMemory?: boolean;
  /**
   * The module's own code, byte for byte: no safepoints, no polls, no stack budget, no
   * helper imports. Such a module cannot pause, unwind or be snapshotted while it runs;
   * it is for a run nothing may pause (`wasmig run` without a pause option), where the
   * instrumentation would cost start-up (V8's optimizing compiler takes 2-5 times longer
   * on rewritten code) and buy nothing. Its memory must enforce the embedder's limit
   * itself (a shared memory's maximum does; `NativeTier` checks).
   */
  plain?: boolean;
}

/**
 * The options a rewrite takes unless told otherwise: the memory imported as this host
 * makes memories, shared where it can (`MEMORIES_SHARED`, exec/memory-object.ts).
 */
export const DEFAULT_REWRITE_OPTIONS: Readonly<RewriteOptions> = MEMORIES_SHARED ? { sharedMemory: true } : {};

/** The key of `options` in caches: the same for the same options, whatever their order. */
export function rewriteOptionsKey(options: RewriteOptions): string {
  return JSON.stringify(Object.keys(options).sort().map((k) => [k, options[k as keyof RewriteOptions]]));
}

export interface RewrittenModule {
  bytes: Uint8Array;
  /** A plain rewrite (`RewriteOptions.plain`): no helper imports, the bodies as they were. */
  plain?: boolean;
  /** By function index; undefined for imported functions. */
  functions: (RewrittenFunction | undefined)[];
  /** Functions whose entry `c<i>` takes and returns float and v128 values as raw bits (see `entry-code.ts`). */
  trampolines: Set<number>;
  /**
   * Mutable f32/f64/v128 globals, read and written through `gg<i>` / `gs<i>` as raw bits
   * (a v128 as two i64, low half first: see `entry-code.ts`).
   */
  rawGlobals: Set<number>;
  /** Defined tables and memories imported as `wasmig.t<i>` / `wasmig.m<i>`. */
  importedTables: number[];
  importedMemories: number[];
  /** `dd(i)` / `de(i)` drop data / element segment i. */
  dataDropper: boolean;
  elemDropper: boolean;
  /** Some body writes a table. */
  writesTables: boolean;
}

function sameType(a: FuncType, b: FuncType): boolean {
  return a.params.length === b.params.length && a.results.length === b.results.length &&
    a.params.every((t, i) => t === b.params[i]) && a.results.every((t, i) => t === b.results[i]);
}

/** An innermost loop that may be unrolled: the offset of its `loop` instruction, and its bytes up to its `end`. */
export interface InnermostLoop {
  at: number;
  size: number;
}

/**
 * The loops unrolling may copy: those without parameters (a loop's parameters would have
 * to be carried from copy to copy, so such a loop is left whole) and without calls. Beside
 * a call, the header check is a small share of an iteration, while each copy repeats the
 * call's after-call safepoint, whose branch to `$save` carries every local: V8's
 * optimizing compiler paid for each copy (CoreMark's rewrite: 28% less TurboFan time
 * without them, `tools/bench/native-compile-cost.ts`).
 */
function unrollable(loops: readonly FoundLoop[]): InnermostLoop[] {
  return loops.filter((l) => !l.params && !l.calls).map(({ at, size }) => ({ at, size }));
}

/** Bytes of code in a module's function bodies (what unrolling and background rewriting are sized by). */
export function codeBytes(m: Module): number {
  return m.codes.reduce((sum, c) => sum + c.codeEnd - c.codeStart, 0);
}

/** Most copies of a loop body, by default (see `planUnrolling`). */
export const DEFAULT_UNROLL = 8;
/** Bytes unrolling may add to a module's code: at least this, or a quarter of the code. */
export const UNROLL_MIN_BUDGET = 64 * 1024;

/**
 * Which innermost loops to unroll, and into how many copies: the smallest first (the
 * header check weighs most in a short body, and they cost least), as many copies as
 * `maxCopies` while the module's code grows by at most its budget. Which loops are hot
 * is unknown before running; the budget keeps a large module's compile time in hand.
 */
export function planUnrolling(loops: readonly InnermostLoop[], codeBytes: number, maxCopies: number): Map<number, number> {
  const plan = new Map<number, number>();
  if (maxCopies < 2) return plan;
  let budget = Math.max(UNROLL_MIN_BUDGET, codeBytes / 4);
  for (const loop of [...loops].sort((a, b) => a.size - b.size)) {
    const copies = Math.min(maxCopies, 1 + Math.floor(budget / loop.size));
    if (copies < 2) break;
    plan.set(loop.at, copies);
    budget -= loop.size * (copies - 1);
  }
  return plan;
}

/** What {@link scanBodies} finds in a module's bodies. */
export interface BodyScan {
  /**
   * Functions whose activations may pile up: on a cycle of the call graph that holds a
   * plain call (a cycle of tail calls alone runs in constant stack). They count a stack
   * budget on entry.
   */
  recursive: Set<number>;
  /**
   * Functions on any cycle of the call graph, tail calls included: they poll at their
   * entry, since a tail recursion repeats without a loop header.
   */
  cyclic: Set<number>;
  /**
   * Functions that may return the results of a host function they tail-called (a
   * `return_call` to an import, a `return_call_indirect`, or a tail call to such a
   * function): a host function that asks for a pause leaves no frame of theirs, so
   * their callers keep the results at their after-call safepoints.
   */
  endsInHost: Set<number>;
  writesTables: boolean;
  /**
   * Defined functions that can never unwind: no loop (no poll), not on a cycle of the
   * call graph (no entry poll, no stack budget), no call to an import (a host function
   * may ask for a pause) nor an indirect call, and calls only such functions. After a
   * call to one of them, the unwinding flag cannot be set: the call's safepoint needs
   * no check (it stays a safepoint, where paused frames re-enter natively).
   */
  quiet: Set<number>;
  loops: InnermostLoop[];
  /** Functions (defined, by function index) with a legacy `try`. */
  tries: Set<number>;
}

/**
 * What one walk over every body finds: the functions that may recurse (on a cycle of
 * the call graph, where `call_indirect` and `return_call_indirect` may reach every
 * function of its type that a table can hold), the functions that may end in a host's
 * tail call, whether any body writes a table, and the innermost loops.
 */
export function scanBodies(ctx: ModuleContext): BodyScan {
  const m = ctx.module;
  const nImp = m.numImportedFuncs;
  const n = m.codes.length;
  const edges: number[][] = Array.from({ length: n }, () => []);
  // The callees reached by tail calls (a subset of `edges`), and which may be host functions.
  const tailEdges: number[][] = Array.from({ length: n }, () => []);
  const endsInHost = new Set<number>();
  const byType = new Map<number, number[]>();
  for (const f of ctx.declaredRefs) {
    if (f < nImp) continue;
    const t = ctx.funcTypeIndices[f];
    const list = byType.get(t);
    if (list) list.push(f - nImp); else byType.set(t, [f - nImp]);
  }
  // Every function an indirect call of a type may reach, worked out once per type; a
  // function's edges take them once per type it calls indirectly (SQLite makes
  // thousands of indirect calls, to a few types).
  const targetsOfType = new Map<number, number[]>();
  const indirectTargets = (typeIndex: number): number[] => {
    let out = targetsOfType.get(typeIndex);
    if (out === undefined) {
      out = [];
      const want = ctx.types[typeIndex];
      for (const [t, list] of byType) if (sameType(ctx.types[t], want)) for (const f of list) out.push(f);
      targetsOfType.set(typeIndex, out);
    }
    return out;
  };
  const indirectTypes = new Set<number>();
  const tailIndirectTypes = new Set<number>();
  const ins = createInstr();
  let writesTables = false;
  const tries = new Set<number>();
  const loops = new LoopFinder(ctx.types);
  // May unwind by itself: polls at a loop, calls an import or an unknown function.
  const unwinds = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const body = m.codes[i];
    const r = new InstructionReader(m.bytes, body.codeStart, body.codeEnd);
    indirectTypes.clear();
    tailIndirectTypes.clear();
    while (r.pos < body.codeEnd) {
      const at = r.pos;
      r.read(ins);
      loops.step(ins, at, r.pos);
      if (ins.op === 0x03 || ins.op === 0x11 || ins.op === 0x13 || ((ins.op === 0x10 || ins.op === 0x12) && ins.a < nImp)) unwinds[i] = 1;
      if (ins.op === 0x10 && ins.a >= nImp) edges[i].push(ins.a - nImp);
      else if (ins.op === 0x11) {
        if (!indirectTypes.has(ins.a)) {
          indirectTypes.add(ins.a);
          for (const f of indirectTargets(ins.a)) edges[i].push(f);
        }
      }
      else if (ins.op === 0x06) tries.add(nImp + i);
      else if (ins.op === 0x12) {
        if (ins.a >= nImp) tailEdges[i].push(ins.a - nImp);
        else endsInHost.add(i);
      } else if (ins.op === 0x13) {
        // A table may hold host functions, and functions of other instances.
        if (!tailIndirectTypes.has(ins.a)) {
          tailIndirectTypes.add(ins.a);
          for (const f of indirectTargets(ins.a)) tailEdges[i].push(f);
        }
        endsInHost.add(i);
      } else if (OPS[ins.op]?.writesTable) writesTables = true;
    }
  }
  // A function ends in a host when it tail-calls one that does: from those known, back
  // along the tail calls (each function once, so a long chain stays linear).
  const tailCallers: number[][] = Array.from({ length: n }, () => []);
  for (let i = 0; i < n; i++) for (const c of tailEdges[i]) tailCallers[c].push(i);
  const pending = [...endsInHost];
  while (pending.length) {
    for (const caller of tailCallers[pending.pop()!]) {
      if (endsInHost.has(caller)) continue;
      endsInHost.add(caller);
      pending.push(caller);
    }
  }
  const plainEdges = edges.map((e) => e.slice());
  for (let i = 0; i < n; i++) for (const c of tailEdges[i]) edges[i].push(c);
  // Tarjan's strongly connected components, iteratively.
  const index = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const onStack = new Uint8Array(n);
  const stack: number[] = [];
  const recursive = new Set<number>();
  const cyclic = new Set<number>();
  let counter = 0;
  for (let root = 0; root < n; root++) {
    if (index[root] >= 0) continue;
    const work: [number, number][] = [[root, 0]];
    index[root] = low[root] = counter++;
    stack.push(root);
    onStack[root] = 1;
    while (work.length) {
      const top = work[work.length - 1];
      const [node, ei] = top;
      if (ei < edges[node].length) {
        top[1]++;
        const next = edges[node][ei];
        if (index[next] < 0) {
          index[next] = low[next] = counter++;
          stack.push(next);
          onStack[next] = 1;
          work.push([next, 0]);
        } else if (onStack[next]) {
          low[node] = Math.min(low[node], index[next]);
        }
        continue;
      }
      work.pop();
      if (work.length) {
        const parent = work[work.length - 1][0];
        low[parent] = Math.min(low[parent], low[node]);
      }
      if (low[node] === index[node]) {
        const comp: number[] = [];
        let x: number;
        do {
          x = stack.pop()!;
          onStack[x] = 0;
          comp.push(x);
        } while (x !== node);
        if (comp.length > 1 || edges[node].includes(node)) {
          for (const c of comp) cyclic.add(c + nImp);
          // The stack grows round the cycle only through a plain call inside it.
          const inComp = new Set(comp);
          if (comp.some((c) => plainEdges[c].some((d) => inComp.has(d)))) for (const c of comp) recursive.add(c + nImp);
        }
      }
    }
  }
  const hosts = new Set<number>();
  for (const i of endsInHost) hosts.add(i + nImp);
  // A function that calls (or tail-calls) one that may unwind may too: back along the calls.
  const callers: number[][] = Array.from({ length: n }, () => []);
  for (let i = 0; i < n; i++) for (const c of edges[i]) callers[c].push(i);
  const loud: number[] = [];
  for (let i = 0; i < n; i++) if (unwinds[i] === 1 || cyclic.has(i + nImp)) { unwinds[i] = 1; loud.push(i); }
  while (loud.length) {
    for (const caller of callers[loud.pop()!]) {
      if (unwinds[caller] === 1) continue;
      unwinds[caller] = 1;
      loud.push(caller);
    }
  }
  const quiet = new Set<number>();
  for (let i = 0; i < n; i++) if (unwinds[i] === 0) quiet.add(i + nImp);
  return { recursive, cyclic, endsInHost: hosts, writesTables, quiet, loops: unrollable(loops.found), tries };
}

/** Native stack units an activation of a recursive function is charged (about 16 bytes each). */
export function frameCost(numLocals: number): number {
  return 6 + numLocals;
}

/** Rewrites a validated module for the native tier. */
export function rewriteModule(ctx: ModuleContext, options: RewriteOptions = {}): RewrittenModule {
  const m: Module = ctx.module;
  const nImpFuncs = m.numImportedFuncs;
  const plain = options.plain === true;
  // A plain module imports no helpers, so its functions keep their indices and its bodies their bytes.
  const H = plain ? 0 : HELPER_IMPORTS.length;
  const remapFunc = (f: number): number => (f < nImpFuncs ? f : f + H);

  // ---- types: the original ones keep their indices
  const types: FuncType[] = [...m.types];
  const typeIndex = (params: number[], results: number[]): number => {
    const want = { params, results } as FuncType;
    for (let i = 0; i < types.length; i++) if (sameType(types[i], want)) return i;
    types.push(want);
    return types.length - 1;
  };
  const I32 = ValType.i32, I64 = ValType.i64;
  const helperTypes = [
    typeIndex([], [I32]), // poll
    typeIndex([I32, I32], []), // frame
    typeIndex([I32], []), // si
    typeIndex([I64], []), // sl
    typeIndex([ValType.funcref], []), // sr
    typeIndex([ValType.externref], []), // se
    typeIndex([], []), // deep
    typeIndex([I32], []), // ddrop
    typeIndex([I32], []), // edrop
    typeIndex([I64, I64], []), // sv
    typeIndex([I32, I32], []), // th
  ];

  // ---- globals: the original ones, then the helpers'
  const numGlobals = ctx.globals.length;
  const helpers: HelperIndices = {
    poll: nImpFuncs, frame: nImpFuncs + 1, saveI32: nImpFuncs + 2, saveI64: nImpFuncs + 3, saveRef: nImpFuncs + 4,
    saveExt: nImpFuncs + 5, deep: nImpFuncs + 6, droppedData: nImpFuncs + 7, droppedElem: nImpFuncs + 8, saveV128: nImpFuncs + 9, thrown: nImpFuncs + 10,
    unwinding: numGlobals, countdown: numGlobals + 1, depth: numGlobals + 2, maxPages: numGlobals + 3,
  };

  // ---- function bodies
  const functions: (RewrittenFunction | undefined)[] = new Array(nImpFuncs + m.codes.length);
  const bodies: Uint8Array[] = [];
  const funcTypes: number[] = [];
  // A plain module's bodies are not read: whether they write tables is taken as yes when it has any.
  const { recursive, cyclic, endsInHost, writesTables, quiet, loops, tries } = plain
    ? { ...NO_SCAN, writesTables: m.numImportedTables + m.tables.length > 0 } : scanBodies(ctx);
  const unrolled = plain ? new Map<number, number>() : planUnrolling(loops, codeBytes(m), options.unroll ?? DEFAULT_UNROLL);
  for (let i = 0; i < m.codes.length; i++) {
    const f = nImpFuncs + i;
    const ft = ctx.types[m.funcs[i]];
    const { body, info } = plain ? verbatimFunction(ctx, i) : rewriteFunction(ctx, i, {
      remapFunc,
      helpers,
      blockType: (results) => typeIndex([], [...results]),
      recursive: recursive.has(f),
      cyclic: cyclic.has(f),
      endsInHost: (callee) => endsInHost.has(callee),
      quiet: (callee) => quiet.has(callee),
      frameCost: frameCost(ft.params.length + m.codes[i].locals.length),
      loopPoll: options.loopPoll ?? 'local',
      afterCall: options.afterCall,
      keepDeadLocals: options.keepDeadLocals,
      unrolled,
      legacyTry: tries.has(f),
    });
    functions[f] = info;
    bodies.push(body);
    funcTypes.push(m.funcs[i]);
  }

  // ---- helper functions (appended after the original ones)
  const exports: [string, number, number][] = []; // name, kind, index
  let nextFunc = nImpFuncs + H + m.codes.length;
  const addFunc = (type: number, body: ByteWriter): number => {
    funcTypes.push(type);
    bodies.push(body.toBytes());
    return nextFunc++;
  };
  const trampolines = new Set<number>();
  for (let i = 0; i < m.codes.length; i++) {
    const f = nImpFuncs + i;
    const ft = ctx.types[m.funcs[i]];
    if (!needsEntry(ft)) continue;
    const tf = addFunc(typeIndex(entryTypes(ft.params), entryTypes(ft.results)), bitsEntry(ft, remapFunc(f)));
    exports.push([`c${f}`, 0, tf]);
    trampolines.add(f);
  }
  const rawGlobals = new Set<number>();
  ctx.globals.forEach((g, i) => {
    if (!g.mutable || !crossesAsBits(g.type)) return;
    exports.push([`gg${i}`, 0, addFunc(typeIndex([], entryTypes([g.type])), globalGetter(i, g.type))]);
    exports.push([`gs${i}`, 0, addFunc(typeIndex(entryTypes([g.type]), []), globalSetter(i, g.type))]);
    rawGlobals.add(i);
  });
  const dropper = (count: number, dropOp: number): ByteWriter => {
    const b = new ByteWriter().u32(0);
    for (let i = 0; i < count; i++) b.u8(0x02).u8(0x40);
    b.u8(0x20).u32(0).u8(0x0e).u32(count);
    for (let i = 0; i < count; i++) b.u32(i);
    b.u32(count);
    for (let i = 0; i < count; i++) b.u8(0x0b).u8(0xfc).u32(dropOp).u32(i).u8(0x0f);
    b.u8(0x0b);
    return b;
  };
  const dataDropper = m.dataCount !== undefined && m.dataCount > 0;
  if (dataDropper) exports.push(['dd', 0, addFunc(typeIndex([I32], []), dropper(m.dataCount!, 9))]);
  const elemDropper = m.elems.length > 0;
  if (elemDropper) exports.push(['de', 0, addFunc(typeIndex([I32], []), dropper(m.elems.length, 13))]);

  // ---- exports: every function, every defined global, the helper globals
  const totalFuncs = nImpFuncs + m.codes.length;
  for (let f = 0; f < totalFuncs; f++) exports.push([`f${f}`, 0, remapFunc(f)]);
  for (let g = m.numImportedGlobals; g < numGlobals; g++) exports.push([`g${g}`, 3, g]);
  exports.push(['unw', 3, helpers.unwinding], ['cd', 3, helpers.countdown], ['depth', 3, helpers.depth], ['maxp', 3, helpers.maxPages]);

  // ---- encode
  const out = new ByteWriter().raw([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
  const sec = new ByteWriter();
  const section = (id: number): void => {
    out.section(id, sec);
    sec.length = 0;
  };

  sec.funcTypes(types);
  section(1);

  const shared = options.sharedMemory === true;
  const importedTables: number[] = [];
  const importedMemories: number[] = [];
  // Every tag, imported or defined, is imported as `wasmig.x<i>`: the tier's
  // `WebAssembly.Tag` of the tag's store address, so that tags keep their identity
  // across instances and the host can read an exception's tag and values.
  const tagCount = ctx.tagTypeIndices.length;
  const originalImports = m.imports.filter((imp) => imp.desc.kind !== 'tag');
  sec.u32(originalImports.length + H + m.tables.length + m.memories.length + tagCount);
  for (const imp of originalImports) {
    sec.name(imp.module).name(imp.name);
    const d = imp.desc;
    switch (d.kind) {
      case 'func': sec.u8(0x00).u32(d.typeIndex); break;
      case 'table': sec.u8(0x01).u8(d.type.elemType).limits(d.type.limits, false); break;
      case 'memory': sec.u8(0x02); sec.limits(d.type.limits, shared); break;
      case 'global': sec.u8(0x03).u8(d.type.type).u8(d.type.mutable ? 1 : 0); break;
      default: break;
    }
  }
  if (!plain) HELPER_IMPORTS.forEach((name, i) => sec.name(HELPER_MODULE).name(name).u8(0x00).u32(helperTypes[i]));
  m.tables.forEach((t, i) => {
    const index = m.numImportedTables + i;
    sec.name(HELPER_MODULE).name(`t${index}`).u8(0x01).u8(t.elemType);
    sec.limits(t.limits, false);
    importedTables.push(index);
  });
  m.memories.forEach((mem, i) => {
    const index = m.numImportedMemories + i;
    sec.name(HELPER_MODULE).name(`m${index}`).u8(0x02);
    sec.limits(mem.limits, shared);
    importedMemories.push(index);
  });
  ctx.tagTypeIndices.forEach((t, i) => sec.name(HELPER_MODULE).name(`x${i}`).u8(0x04).u8(0x00).u32(t));
  section(2);

  sec.u32(funcTypes.length);
  for (const t of funcTypes) sec.u32(t);
  section(3);

  const constExpr = (e: ConstExpr): void => {
    for (const ins of e.instrs) {
      switch (ins.op) {
        case 0x41: sec.u8(0x41).s32(ins.a); break;
        case 0x42: sec.u8(0x42).s64((BigInt(ins.b | 0) << 32n) | BigInt(ins.a >>> 0)); break;
        case 0x43: sec.u8(0x43).raw(le32(ins.a)); break;
        case 0x44: sec.u8(0x44).raw(le32(ins.a)).raw(le32(ins.b)); break;
        case 0xd0: sec.u8(0xd0).u8(ins.a); break;
        case 0xd2: sec.u8(0xd2).u32(remapFunc(ins.a)); break;
        case 0x23: sec.u8(0x23).u32(ins.a); break;
        case 0x20c: sec.u8(0xfd).u32(0x0c).raw(Array.from(ins.bytes!)); break;
        // Extended constant expressions (Wasm 3.0): a host whose V8 takes them (Node 22
        // and later) runs such a module natively; `NativeEngine.cannotRun` asks it.
        case 0x6a: case 0x6b: case 0x6c: case 0x7c: case 0x7d: case 0x7e: sec.u8(ins.op); break;
        default: throw new Error(`internal: constant expression with opcode 0x${ins.op.toString(16)}`);
      }
    }
    sec.u8(0x0b);
  };
  sec.u32(m.globals.length + 4);
  for (const g of m.globals) {
    sec.u8(g.type.type).u8(g.type.mutable ? 1 : 0);
    constExpr(g.init);
  }
  for (const init of [0, 1_000_000, 1 << 30, 65536]) sec.u8(ValType.i32).u8(1).u8(0x41).s32(init).u8(0x0b);
  section(6);

  sec.u32(exports.length);
  for (const [name, kind, index] of exports) sec.name(name).u8(kind).u32(index);
  section(7);

  if (m.elems.length) {
    sec.u32(m.elems.length);
    for (const seg of m.elems) {
      if (seg.mode.kind === 'active') {
        // Applied at instantiation: from then on it behaves as an empty (dropped) segment.
        sec.u8(0x05).u8(seg.type).u32(0);
        continue;
      }
      sec.u8(seg.mode.kind === 'passive' ? 0x05 : 0x07).u8(seg.type).u32(seg.items.length);
      for (const item of seg.items) constExpr(item);
    }
    section(9);
  }

  if (m.dataCount !== undefined) {
    sec.u32(m.dataCount);
    section(12);
  }

  sec.u32(bodies.length);
  const bodyStarts: number[] = [];
  for (const b of bodies) {
    sec.u32(b.length);
    bodyStarts.push(sec.length);
    sec.raw(b);
  }
  // The code section's content starts after its id and size.
  const contentStart = out.length + 1 + leb128Length(sec.length);
  for (let i = 0; i < m.codes.length; i++) functions[nImpFuncs + i]!.codeOffset += contentStart + bodyStarts[i];
  section(10);

  if (m.datas.length) {
    sec.u32(m.datas.length);
    for (const d of m.datas) {
      sec.u8(0x01);
      if (d.mode.kind === 'active') sec.u32(0);
      else sec.u32(d.bytes.length).raw(d.bytes);
    }
    section(11);
  }
  moduleName(out, MODULE_NAME);

  return { bytes: out.toBytes(), ...(plain ? { plain } : {}), functions, trampolines, rawGlobals, importedTables, importedMemories, dataDropper, elemDropper, writesTables };
}

/** The module names V8 shows in stack traces (`wasm://wasm/NAME-HASH`): how backtraces tell modules apart. */
export const MODULE_NAME = 'wasmig';
export const RESUME_MODULE_PREFIX = 'wasmig-resume-';

/** A name section holding only the module's name. */
function moduleName(out: ByteWriter, name: string): void {
  const sub = new ByteWriter().name(name);
  const content = new ByteWriter().name('name').u8(0x00).u32(sub.length).append(sub);
  out.section(0, content);
}

function leb128Length(n: number): number {
  let len = 1;
  while (n >= 0x80) { n = Math.floor(n / 128); len++; }
  return len;
}

/** What a plain rewrite needs of the body scan: nothing (its bodies are not rewritten). */
const NO_SCAN: BodyScan = {
  recursive: new Set(), cyclic: new Set(), endsInHost: new Set(), writesTables: false, quiet: new Set(), loops: [], tries: new Set(),
};

/**
 * Function `i` (of the defined ones) as it is, for a plain rewrite: its body's bytes
 * (local declarations and code), and a description whose offsets map by a shift.
 */
function verbatimFunction(ctx: ModuleContext, i: number): { body: Uint8Array; info: RewrittenFunction } {
  const m = ctx.module;
  const code = m.codes[i];
  // The body starts after its size (a LEB128 at `bodyOffset`).
  let start = code.bodyOffset;
  while ((m.bytes[start++] & 0x80) !== 0);
  const params = ctx.types[m.funcs[i]].params;
  return {
    body: m.bytes.subarray(start, code.codeEnd),
    info: {
      funcIndex: m.numImportedFuncs + i,
      numLocals: params.length + code.locals.length,
      localTypes: [...params, ...code.locals],
      scratchTypes: [],
      sites: [],
      recursive: false,
      rewrittenPcs: Int32Array.of(0),
      originalPcs: Int32Array.of(code.codeStart),
      codeOffset: code.codeStart - start,
      verbatim: true,
    },
  };
}

/** The original byte offset of the instruction at `offset` of the rewritten module, in function `f`. */
export function originalOffset(f: RewrittenFunction, offset: number): number {
  const rel = offset - f.codeOffset;
  // Below the first instruction: V8's stack check at the function's entry (a stack overflow's top frame).
  if (f.verbatim === true) return f.originalPcs[0] + Math.max(0, rel);
  const pcs = f.rewrittenPcs;
  let lo = 0, hi = pcs.length - 1, found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (pcs[mid] <= rel) { found = mid; lo = mid + 1; } else hi = mid - 1;
  }
  return found < 0 ? -1 : f.originalPcs[found];
}

/** `gg<i>`: global `i`'s raw bits (a v128 as two i64). */
function globalGetter(i: number, type: number): ByteWriter {
  const b = new ByteWriter();
  if (type === ValType.v128) {
    b.u32(1).u32(1).u8(ValType.v128).u8(0x23).u32(i).u8(0x21).u32(0);
    v128Halves(b, 0);
  } else {
    b.u32(0).u8(0x23).u32(i).u8(type === ValType.f32 ? 0xbc : 0xbd);
  }
  return b.u8(0x0b);
}

/** `gs<i>`: sets global `i` from raw bits (a v128 from two i64). */
function globalSetter(i: number, type: number): ByteWriter {
  const b = new ByteWriter().u32(0);
  if (type === ValType.v128) v128FromHalves(b, 0);
  else b.u8(0x20).u32(0).u8(type === ValType.f32 ? 0xbe : 0xbf);
  return b.u8(0x24).u32(i).u8(0x0b);
}

/** A resume clone in a module of its own (see {@link ResumeTarget}). */
export interface ResumeClone {
  bytes: Uint8Array;
  /** The clone's own safepoints (its frames unwind as the function's). */
  info: RewrittenFunction;
  /** Original function indices it calls or names, imported as `f.<i>` in this order. */
  funcImports: number[];
}

/**
 * The resume clone of function `funcIndex` at one of its safepoints: a module that
 * imports what the function uses from the rewritten module's instance (`f.<i>`
 * functions, `t.<i>` tables, `m.0` memory, `g.<i>` globals and `h.*` helper globals,
 * `x.<i>` tags, `wasmig.*` helper functions) and exports `run`: (locals..., stack...)
 * -> results, float values as raw bits (a caught exception as its tag and values:
 * `caughtValueTypes`). Undefined when the function uses segment instructions (which
 * need the module's own segments): such a frame continues in the interpreter.
 * `tailCalls`: the module makes tail calls, so any function the clone calls may return
 * a host function's results (see `BodyScan.endsInHost`; a clone does not scan the module).
 */
export function rewriteResumeClone(ctx: ModuleContext, funcIndex: number, target: ResumeTarget, options: RewriteOptions = {}, tailCalls = false): ResumeClone | undefined {
  const m = ctx.module;
  const codeIndex = funcIndex - m.numImportedFuncs;
  const body = m.codes[codeIndex];
  const used = new Set<number>();
  const refs = new Set<number>();
  const ins = createInstr();
  const r = new InstructionReader(m.bytes, body.codeStart, body.codeEnd);
  const loops = new LoopFinder(ctx.types);
  let legacyTry = false;
  while (r.pos < body.codeEnd) {
    const at = r.pos;
    r.read(ins);
    loops.step(ins, at, r.pos);
    if (OPS[ins.op]?.usesSegment) return undefined;
    if (ins.op === 0x06) legacyTry = true;
    if (ins.op === 0x10 || ins.op === 0x12) used.add(ins.a);
    else if (ins.op === 0xd2) { used.add(ins.a); refs.add(ins.a); }
  }
  const funcImports = [...used].sort((a, b) => a - b);
  const remap = new Map(funcImports.map((f, i) => [f, i]));
  const F = funcImports.length;
  const types: FuncType[] = [...m.types];
  const typeIndex = (params: number[], results: number[]): number => {
    const want = { params, results } as FuncType;
    for (let i = 0; i < types.length; i++) if (sameType(types[i], want)) return i;
    types.push(want);
    return types.length - 1;
  };
  const I32 = ValType.i32, I64 = ValType.i64;
  const helperTypes = [typeIndex([], [I32]), typeIndex([I32, I32], []), typeIndex([I32], []), typeIndex([I64], []),
    typeIndex([ValType.funcref], []), typeIndex([ValType.externref], []), typeIndex([], []), typeIndex([I32], []), typeIndex([I32], []),
    typeIndex([I64, I64], []), typeIndex([I32, I32], [])];
  const numGlobals = ctx.globals.length;
  const helpers: HelperIndices = {
    poll: F, frame: F + 1, saveI32: F + 2, saveI64: F + 3, saveRef: F + 4, saveExt: F + 5, deep: F + 6, droppedData: F + 7, droppedElem: F + 8, saveV128: F + 9, thrown: F + 10,
    unwinding: numGlobals, countdown: numGlobals + 1, depth: numGlobals + 2, maxPages: numGlobals + 3,
  };
  const ft = ctx.types[m.funcs[codeIndex]];
  const { body: code, info } = rewriteFunction(ctx, codeIndex, {
    remapFunc: (f) => remap.get(f)!,
    helpers,
    blockType: (results) => typeIndex([], [...results]),
    recursive: false,
    cyclic: false,
    endsInHost: () => tailCalls,
    frameCost: 0,
    loopPoll: options.loopPoll ?? 'local',
    unrolled: planUnrolling(unrollable(loops.found), body.codeEnd - body.codeStart, options.unroll ?? DEFAULT_UNROLL),
    resume: target,
    legacyTry,
  });
  // A caught exception on the saved stack comes as plain values (`caughtValueTypes`): the clone throws it again to re-enter its handler.
  const cloneType: FuncType = { params: [...ft.params, ...body.locals, ...expandCaught(target.stackTypes, ctx)] as never[], results: ft.results };
  // V8 takes at most 1000 parameters (a v128 crosses from JS as two).
  if (entryTypes(cloneType.params).length > 1000) return undefined;
  const cloneIndex = F + HELPER_IMPORTS.length;
  const bodies: Uint8Array[] = [code];
  const funcTypes = [typeIndex(cloneType.params, cloneType.results)];
  let run = cloneIndex;
  if (needsEntry(cloneType)) {
    funcTypes.push(typeIndex(entryTypes(cloneType.params), entryTypes(cloneType.results)));
    bodies.push(bitsEntry(cloneType, cloneIndex).toBytes());
    run = cloneIndex + 1;
  }

  const out = new ByteWriter().raw([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
  const sec = new ByteWriter();
  const section = (id: number): void => {
    out.section(id, sec);
    sec.length = 0;
  };
  sec.funcTypes(types);
  section(1);
  sec.u32(F + HELPER_IMPORTS.length + ctx.tables.length + ctx.memories.length + numGlobals + 4 + ctx.tagTypeIndices.length);
  for (const f of funcImports) sec.name('f').name(String(f)).u8(0x00).u32(ctx.funcTypeIndices[f]);
  HELPER_IMPORTS.forEach((name, i) => sec.name(HELPER_MODULE).name(name).u8(0x00).u32(helperTypes[i]));
  ctx.tables.forEach((t, i) => { sec.name('t').name(String(i)).u8(0x01).u8(t.elemType); sec.limits(t.limits, false); });
  ctx.memories.forEach((mem, i) => { sec.name('m').name(String(i)).u8(0x02); sec.limits(mem.limits, options.sharedMemory === true); });
  ctx.globals.forEach((g, i) => sec.name('g').name(String(i)).u8(0x03).u8(g.type).u8(g.mutable ? 1 : 0));
  for (const name of ['unw', 'cd', 'depth', 'maxp']) sec.name('h').name(name).u8(0x03).u8(I32).u8(1);
  ctx.tagTypeIndices.forEach((t, i) => sec.name('x').name(String(i)).u8(0x04).u8(0x00).u32(t));
  section(2);
  sec.u32(funcTypes.length);
  for (const t of funcTypes) sec.u32(t);
  section(3);
  sec.u32(1).name('run').u8(0x00).u32(run);
  section(7);
  if (refs.size) {
    sec.u32(1).u8(0x03).u8(0x00).u32(refs.size);
    for (const f of refs) sec.u32(remap.get(f)!);
    section(9);
  }
  sec.u32(bodies.length);
  let bodyStart = 0;
  bodies.forEach((b, i) => {
    sec.u32(b.length);
    if (i === 0) bodyStart = sec.length;
    sec.raw(b);
  });
  const contentStart = out.length + 1 + leb128Length(sec.length);
  info.codeOffset += contentStart + bodyStart;
  section(10);
  moduleName(out, `${RESUME_MODULE_PREFIX}${funcIndex}-${target.pc}`);
  return { bytes: out.toBytes(), info, funcImports };
}

function le32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}

export { zero };
