/**
 * Call frames between a thread (frame records, slots, internal pcs) and their canonical
 * form (function index, byte offset, locals, operand stack). Loading checks every frame
 * against validation at its pc before anything of it is used.
 */
import { innerPc } from '../compile/index.ts';
import type { CompiledModule, FunctionPoints } from '../compile/index.ts';
import { SnapshotError } from '../errors/index.ts';
import { exactReturnPc, FuncKind, growFrames, growSlots, normalizeFrames } from '../exec/index.ts';
import type { InstanceState, StoreState, ThreadState, WasmFunctionState } from '../exec/index.ts';
import { Execution } from '../runtime/index.ts';
import type { Store } from '../runtime/index.ts';
import type { CanonicalFrame } from './canonical.ts';
import { programSpace } from './space.ts';
import type { IndexSpace } from './space.ts';
import { slotToCanonical, writeCanonical } from './values.ts';
import { slotCount, slotOffsets, ValType } from '../wasm/index.ts';
import type { FuncType } from '../wasm/index.ts';
import type { RefLimits } from './values.ts';

/** What {@link captureFrames} and {@link restoreFrames} need of a program (a `Program` fits). */
export interface FrameHost {
  /** The program's store. */
  store: {
    /** The store's entities. */
    state: StoreState;
    /** The thread whose frames are captured or restored. */
    thread: ThreadState;
  };
  /** The program's instance. */
  instance: {
    /** Its module. */
    compiled: CompiledModule;
    /** Its entities' addresses. */
    state: InstanceState;
  };
  /** The running execution, if any: its `entryDepth` is where its frames begin. */
  execution?: {
    /** Depth of the execution's host-return frame in the thread. */
    entryDepth: number;
  } | undefined;
}

/**
 * The Wasm frames of a paused program, bottom to top (empty before it started).
 * @throws SnapshotError when the thread cannot be captured (a host call in progress,
 * a function outside the program's module on the stack).
 */
export function captureFrames(program: FrameHost): CanonicalFrame[] {
  const t = program.store.thread;
  const floor = program.execution?.entryDepth ?? 0;
  if (t.funcAddr < 0 && t.pendingHostCall >= 0) throw new SnapshotError('cannot capture: the program\'s own function tail-called an import that has not returned yet');
  if (t.depth <= floor) return [];
  return captureThreadFrames(t, programSpace(program.store.state, program.instance), floor);
}

/**
 * Loads canonical frames into a fresh program's thread (no frames yet), checking each
 * against its function's validation. This is how a state unwound from another tier
 * continues in the interpreter. Returns the execution that continues from the top frame:
 * `program.execution` if given (created with `{ resumed: true }` before the call), else a
 * new one, to assign to `program.execution`.
 * @throws SnapshotError for a frame that does not fit the module.
 */
export function restoreFrames(program: FrameHost, frames: readonly CanonicalFrame[]): Execution {
  const t = program.store.thread;
  const space = programSpace(program.store.state, program.instance);
  let execution = program.execution as Execution | undefined;
  if (t.depth !== (execution?.entryDepth ?? 0)) throw new SnapshotError('cannot restore frames into a thread that is running');
  if (execution === undefined) {
    const f = (frames[0] as unknown as Record<string, unknown> | undefined)?.['funcIndex'];
    if (typeof f !== 'number' || !Number.isInteger(f) || f < 0 || f >= space.funcs.length) throw new SnapshotError('frame 0: function index out of range');
    if (program.store.state.funcs[space.funcs[f]].kind !== FuncKind.wasm) throw new SnapshotError('frame 0: a host function');
    execution = new Execution(program.store as Store, space.funcs[f], [], { resumed: true });
  }
  loadFrames(t, space, frames, { funcs: space.funcs.length, externs: program.store.state.externs.length });
  return execution;
}

function wasmFunction(store: StoreState, addr: number, where: string): WasmFunctionState {
  const fn = store.funcs[addr];
  if (fn === undefined || fn.kind !== FuncKind.wasm) throw new SnapshotError(`${where}: function address ${addr} is not a Wasm function`);
  return fn;
}

/**
 * The type a caller frame's call instruction calls by: that of the function `call`
 * names, or the type `call_indirect` names. The frame above may run another function of
 * other parameters (the callee tail-called it), never of other results.
 */
function calledType(caller: WasmFunctionState, outer: number): FuncType {
  const code = caller.compiled.code;
  const context = caller.compiled.owner.context;
  const call = innerPc(code, outer); // a table64 call_indirect: past its prefix
  // call names a function; call_indirect and call_ref (Wasm 3.0) a type.
  return code[call] === 0x10 ? context.types[context.funcTypeIndices[code[call + 1]]] : context.types[code[call + 1]];
}

/** Arguments a caller frame's call instruction took off its stack (params, plus the table index of call_indirect or the reference of call_ref). */
function callOperands(caller: WasmFunctionState, call: number): number {
  const op = caller.compiled.code[innerPc(caller.compiled.code, call)];
  return calledType(caller, call).params.length + (op === 0x11 || op === 0x14 ? 1 : 0);
}

function sameResults(a: FuncType, b: FuncType): boolean {
  return a.results.length === b.results.length && a.results.every((t, i) => t === b.results[i]);
}

/**
 * The thread's frames above `floor`, bottom to top, in canonical form. The thread must
 * be stopped between two instructions, or at a call not made yet (`pendingHostCall`:
 * an asynchronous import awaited, a call the native tier is to make): the top frame then
 * stands at the call instruction with its operands on the stack, so that the state,
 * resumed, makes the call again (an embedder's promise cannot travel).
 */
export function captureThreadFrames(t: ThreadState, space: IndexSpace, floor: number): CanonicalFrame[] {
  normalizeFrames(t);
  const store = t.store;
  const n = t.depth - floor;
  if (t.funcAddr < 0 && t.pendingHostCall >= 0) throw new SnapshotError('cannot capture: the program\'s own function tail-called an import that has not returned yet');
  if (n <= 0) return [];
  if (t.frames[3 * floor] !== -1) throw new SnapshotError('cannot capture: the execution does not start at the given depth');
  const addrs = new Array<number>(n), pcs = new Array<number>(n), fps = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const d = floor + i + 1;
    if (d < t.depth) {
      const caller = t.frames[3 * d];
      if (caller < 0) throw new SnapshotError('cannot capture: a host function is on the call stack');
      addrs[i] = caller;
      pcs[i] = t.frames[3 * d + 1];
      fps[i] = t.frames[3 * d + 2];
    } else {
      addrs[i] = t.funcAddr;
      pcs[i] = exactReturnPc(t, t.funcAddr, t.pc);
      fps[i] = t.fp;
    }
  }
  const s32 = t.s32;
  const out: CanonicalFrame[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const where = `frame ${i}`;
    const fn = wasmFunction(store, addrs[i], where);
    const funcIndex = space.funcIndexOf[addrs[i]];
    if (funcIndex === undefined || funcIndex < 0) throw new SnapshotError(`cannot capture: ${where} runs a function outside the snapshot's module`);
    const cf = fn.compiled;
    const points = cf.points;
    const pc = pcs[i];
    let types: Uint8Array;
    let at = pc;
    let reissued: CanonicalFrame['stack'] = [];
    if (i === n - 1 && t.pendingHostCall >= 0) {
      at = points.previousInstruction(pc);
      // A tail call to an import leaves its frame first: the caller then waits at its own
      // call of another function, a state no canonical frame describes.
      if (cf.code[at] === 0x10 && fn.instance.funcAddrs[cf.code[at + 1]] !== t.pendingHostCall) {
        throw new SnapshotError('cannot capture: a tail call to an import has not returned yet');
      }
      types = points.stackTypesAt(at);
      // call_indirect took its table index off the stack already: any slot holding the callee
      // does (an i64 through a 64-bit table, table64).
      const inner = innerPc(cf.code, at);
      if (cf.code[inner] === 0x11) {
        types = types.subarray(0, types.length - 1);
        const slot = tableSlotOf(store, fn.instance, cf.code[inner + 2], t.pendingHostCall);
        reissued = [inner !== at ? BigInt(slot) : slot];
      }
      // call_ref (Wasm 3.0) took its reference off the stack already: the callee's own reference is it.
      if (cf.code[at] === 0x14) {
        if (store.funcs[t.pendingHostCall].typeId !== fn.instance.typeIds[cf.code[at + 1]]) {
          throw new SnapshotError('cannot capture: a tail call to an import has not returned yet');
        }
        types = types.subarray(0, types.length - 1);
        reissued = [slotToCanonical(ValType.funcref, Int32Array.of(t.pendingHostCall + 1, 0), 0, space)];
      }
    } else if (i === n - 1) {
      types = points.stackTypesAt(pc);
    } else {
      const call = points.previousInstruction(pc);
      const all = points.stackTypesAt(call);
      types = all.subarray(0, all.length - callOperands(fn, call));
    }
    const fp = fps[i];
    const top = i + 1 < n ? fps[i + 1] : t.sp;
    const base = fp + cf.numLocals;
    const operandSlots = slotCount(types);
    if (top - base !== operandSlots) throw new Error(`internal: ${where} has ${top - base} operand slots, validation says ${operandSlots}`);
    // Values by type: a v128 takes two slots.
    const localTypes = points.localTypes;
    const locals = new Array(localTypes.length);
    for (let j = 0, at = 2 * fp; j < localTypes.length; j++) {
      locals[j] = slotToCanonical(localTypes[j], s32, at, space);
      at += localTypes[j] === ValType.v128 ? 4 : 2;
    }
    const stack = new Array(types.length);
    for (let j = 0, at = 2 * base; j < types.length; j++) {
      stack[j] = slotToCanonical(types[j], s32, at, space);
      at += types[j] === ValType.v128 ? 4 : 2;
    }
    for (const v of reissued) stack.push(v);
    out[i] = { funcIndex, pc: cf.offsets[at], locals, stack };
  }
  return out;
}

/**
 * The exact pc for a byte offset taken from a snapshot.
 * @throws SnapshotError when the offset is not a live instruction boundary of the function.
 */
function internalPc(points: FunctionPoints, offset: number, funcIndex: number, where: string): number {
  const pc = points.pcAt(offset);
  if (pc === undefined) throw new SnapshotError(`${where}: pc 0x${offset.toString(16)} is not an instruction boundary of function ${funcIndex}`);
  return pc;
}

/** The first element of table `tableIndex` of `inst` that holds function `funcAddr` (for a pending call_indirect). */
function tableSlotOf(store: StoreState, inst: InstanceState, tableIndex: number, funcAddr: number): number {
  const table = store.tables[inst.tableAddrs[tableIndex]];
  for (let i = 0; i < table.size; i++) if (table.elements[i] === funcAddr + 1) return i;
  throw new SnapshotError('cannot capture: the pending indirect call\'s function is no longer in its table');
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/**
 * Checks untrusted frames against the module and loads them into `t`, which must hold
 * no frames above its current depth. The first frame returns to the host.
 */
export function loadFrames(t: ThreadState, space: IndexSpace, frames: readonly unknown[], limits: RefLimits): void {
  const store = t.store;
  const n = frames.length;
  if (n === 0) return;
  if (t.depth + n > t.maxDepth) throw new SnapshotError(`${n} frames exceed the call depth limit of ${t.maxDepth}`);
  // Check everything first: nothing is written until the whole stack is known to be valid.
  const addrs = new Array<number>(n), pcs = new Array<number>(n);
  const fns = new Array<WasmFunctionState>(n);
  /** Each frame's operand stack types, as validation gives them (checked, then used to write the values). */
  const stackTypes = new Array<Uint8Array>(n);
  /** Parallel to `stackTypes`: the values that must not be null (non-nullable references, Wasm 3.0). */
  const stackNonNull = new Array<Uint8Array>(n);
  let slots = t.sp;
  for (let i = 0; i < n; i++) {
    const where = `frame ${i}`;
    const f = frames[i];
    if (!isRecord(f)) throw new SnapshotError(`${where} is not a record`);
    const funcIndex = f['funcIndex'];
    if (typeof funcIndex !== 'number' || !Number.isInteger(funcIndex) || funcIndex < 0 || funcIndex >= space.funcs.length) {
      throw new SnapshotError(`${where}: function index ${String(funcIndex)} is out of range`);
    }
    const addr = space.funcs[funcIndex];
    const fn = store.funcs[addr];
    if (fn.kind !== FuncKind.wasm) throw new SnapshotError(`${where}: function ${funcIndex} is a host function`);
    const offset = f['pc'];
    if (typeof offset !== 'number' || !Number.isInteger(offset)) throw new SnapshotError(`${where}: pc is not an integer`);
    const points = fn.compiled.points;
    addrs[i] = addr;
    fns[i] = fn;
    pcs[i] = internalPc(points, offset, fn.compiled.funcIndex, where);
    const locals = f['locals'], stack = f['stack'];
    if (!Array.isArray(locals)) throw new SnapshotError(`${where}: locals is not an array`);
    if (!Array.isArray(stack)) throw new SnapshotError(`${where}: stack is not an array`);
    const numLocals = points.localTypes.length;
    if (locals.length !== numLocals) throw new SnapshotError(`${where}: function ${funcIndex} has ${numLocals} locals, the snapshot gives ${locals.length}`);
    slots += fn.compiled.numLocals + stack.length;
    if (slots + fn.compiled.frameSize > t.maxSlots) throw new SnapshotError(`${where}: the value stack exceeds its limit of ${t.maxSlots} slots`);
  }
  for (let i = 0; i < n; i++) {
    const where = `frame ${i}`;
    const fn = fns[i];
    const cf = fn.compiled;
    const points = cf.points;
    const f = frames[i] as Record<string, unknown>;
    const stack = f['stack'] as unknown[];
    let types: Uint8Array;
    if (i === n - 1) {
      types = points.stackTypesAt(pcs[i]);
      stackNonNull[i] = points.stackNonNullAt(pcs[i]);
    } else {
      const call = points.previousInstruction(pcs[i]);
      const op = call >= 0 ? cf.code[innerPc(cf.code, call)] : -1;
      if (op !== 0x10 && op !== 0x11 && op !== 0x14) throw new SnapshotError(`${where}: pc 0x${cf.offsets[pcs[i]].toString(16)} does not follow a call, but the frame has a callee`);
      const callee = fns[i + 1];
      if (cf.owner.tailCallUse !== undefined) {
        // The function called may have tail-called another: any function with its results.
        if (!sameResults(callee.type, calledType(fn, call))) throw new SnapshotError(`frame ${i + 1}: its function's results differ from those its caller's call expects`);
      } else if (op === 0x10) {
        const expected = fn.instance.funcAddrs[cf.code[call + 1]]; // a plain call: no prefix
        if (expected !== addrs[i + 1]) throw new SnapshotError(`frame ${i + 1}: runs function ${(frames[i + 1] as Record<string, unknown>)['funcIndex']}, but its caller calls another one`);
      } else if (callee.typeId !== fn.instance.typeIds[cf.code[innerPc(cf.code, call) + 1]]) {
        throw new SnapshotError(`frame ${i + 1}: its function's type differs from the type its caller's ${op === 0x14 ? 'call_ref' : 'call_indirect'} expects`);
      }
      const all = points.stackTypesAt(call);
      const keep = all.length - callOperands(fn, call);
      types = all.subarray(0, keep);
      stackNonNull[i] = points.stackNonNullAt(call).subarray(0, keep);
    }
    if (stack.length !== types.length) {
      throw new SnapshotError(`${where}: the operand stack has ${stack.length} values, validation at pc 0x${cf.offsets[pcs[i]].toString(16)} says ${types.length}`);
    }
    stackTypes[i] = types;
    for (let j = 0; j < types.length; j++) {
      if (stackNonNull[i][j] === 1 && (stack[j] === null || stack[j] === undefined)) throw new SnapshotError(`${where}: stack value ${j} is null, validation types it as a non-nullable reference`);
    }
  }
  // Everything fits: write.
  let fp = t.sp;
  let depth = t.depth;
  const ensureFrames = (): void => { while (3 * depth + 3 > t.frames.length) growFrames(t); };
  ensureFrames();
  t.frames[3 * depth] = -1;
  t.frames[3 * depth + 1] = t.pc;
  t.frames[3 * depth + 2] = t.fp;
  depth++;
  for (let i = 0; i < n; i++) {
    const where = `frame ${i}`;
    const cf = fns[i].compiled;
    const f = frames[i] as Record<string, unknown>;
    const locals = f['locals'] as unknown[];
    const stack = f['stack'] as unknown[];
    if (fp + cf.frameSize > t.s32.length >> 1 && !growSlots(t, fp + cf.frameSize)) throw new SnapshotError(`${where}: the value stack exceeds its limit`);
    const s32 = t.s32;
    const localTypes = cf.points.localTypes;
    const localSlot = slotOffsets(localTypes);
    for (let j = 0; j < locals.length; j++) writeCanonical(localTypes[j], locals[j], space, limits, s32, 2 * (fp + localSlot[j]), `${where} local ${j}`);
    const base = fp + cf.numLocals;
    const types = stackTypes[i];
    const stackSlot = slotOffsets(types);
    for (let j = 0; j < stack.length; j++) writeCanonical(types[j], stack[j], space, limits, s32, 2 * (base + stackSlot[j]), `${where} stack ${j}`);
    const top = base + slotCount(types);
    if (i < n - 1) {
      ensureFrames();
      t.frames[3 * depth] = addrs[i];
      t.frames[3 * depth + 1] = pcs[i];
      t.frames[3 * depth + 2] = fp;
      depth++;
      fp = top;
    } else {
      t.funcAddr = addrs[i];
      t.pc = pcs[i];
      t.fp = fp;
      t.sp = top;
    }
  }
  t.depth = depth;
}
