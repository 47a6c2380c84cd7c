/**
 * Calls between compiled functions, on the JavaScript stack: the caller's arguments are
 * in its frame (`s32`), a frame record is pushed exactly as the run loop pushes one, the
 * callee's compiled function runs, and on its return the record is popped again. So the
 * frames are the loop's all along: when a callee leaves the JavaScript stack (a pause,
 * a rare instruction, a call it cannot make itself), every caller writes its words back
 * and the loop goes on in the innermost frame, returning into the callers as it would
 * into any frame.
 *
 * Only calls the loop would make without leaving it are made here: a Wasm callee of the
 * same instance, already compiled, whose frame fits, not diverted to another tier, and no
 * deeper than `MAX_NEST` compiled functions (the JavaScript stack is much smaller than
 * the thread's). Every other call is left to the loop (`enterCall` says null), which makes
 * it, or traps, as it would.
 */
import { FAST_PC_TAG } from '../../compile/index.ts';
import type { FastJsBody } from '../../compile/index.ts';
import { FuncKind } from '../state.ts';
import type { JsTierContext, WasmFunctionState } from '../state.ts';

/**
 * `leaveCall`'s answer when the callee left the JavaScript stack: the caller writes its
 * words back and leaves too. Any other answer is the fuel left after a return.
 */
export const MOVED = -1;

/** `cx.pc` after a compiled function returned to a compiled caller. */
export const RETURNED_PC = -2;

/**
 * `cx.pc` after the loop asked a compiled function to start at a block that is not one
 * of its entries: it ran nothing, and the loop runs on to the next entry. (Asked at an
 * entry with too little fuel for the stretch from there, it runs nothing either, and
 * leaves `cx.pc` at the entry: the loop tells the two apart by this.)
 */
export const NO_ENTRY_PC = -3;

/**
 * Compiled functions nested on the JavaScript stack at most, and the frame slots they
 * may hold in all: each takes a V8 frame about as large as its Wasm frame, and Node's
 * stack holds about a megabyte, part of it the embedder's. Deeper calls go through the
 * loop (the spec suite's guard-page script, with frames of thousands of slots, overflowed
 * V8's stack beside the snapshot runner's frames before the second limit).
 */
export const MAX_NEST = 200;
export const MAX_NEST_SLOTS = 8192;

/**
 * Enters function `calleeAddr` from compiled function `callerAddr` whose frame starts at
 * word `F`; the arguments start at word `F + argBase`; `next` is the caller's fast pc
 * after the call. Returns the callee's compiled function, for the call site to call with
 * the callee's frame (`F + argBase`, pc 0) and then `leaveCall`; or null (`NOT_HERE`):
 * nothing was done, the loop is to make the call. The call site calls the body itself so
 * that V8 sees one target there, and may inline it.
 */
export function enterCall(cx: JsTierContext, calleeAddr: number, callerAddr: number, F: number, argBase: number, next: number): FastJsBody | null {
  const t = cx.thread;
  const callee = t.store.funcs[calleeAddr];
  if (callee.kind !== FuncKind.wasm || callee.instance !== cx.inst) return null;
  const cf = callee.compiled;
  const fast = cf.fast;
  if (fast === undefined || fast.js === null || (t.divert !== null && t.divert[calleeAddr] === 1)) return null;
  const d = t.depth;
  const s32 = t.s32;
  const fp = F >> 1;
  const newFp = fp + (argBase >> 1);
  const slots = cx.nestSlots + cf.frameSize;
  if (cx.nest >= MAX_NEST || slots > MAX_NEST_SLOTS || d >= t.maxDepth || 3 * d + 3 > t.frames.length || newFp + cf.frameSize > s32.length >> 1) return null;
  const frames = t.frames;
  frames[3 * d] = callerAddr;
  frames[3 * d + 1] = next | FAST_PC_TAG;
  frames[3 * d + 2] = fp;
  t.depth = d + 1;
  // The callee's locals start at zero, its parameters are the caller's arguments in place.
  for (let i = 2 * (newFp + cf.numParams); i < 2 * (newFp + cf.numLocals); i++) s32[i] = 0;
  cx.nest++;
  cx.nestSlots = slots;
  return fast.js;
}

/**
 * After the body `enterCall` gave ran: the fuel left, when it returned (its results are
 * in the caller's frame from the argument base on), or `MOVED` (it left the JavaScript
 * stack; the thread is where it left off). The fuel comes back as the answer rather than
 * through `cx.fuel` so that the caller's code after a call reads nothing it did not read
 * before the callee had a compiled body (see `FastToJs#call`).
 */
export function leaveCall(cx: JsTierContext, calleeAddr: number, newF: number): number {
  const t = cx.thread;
  cx.nest--;
  cx.nestSlots -= (t.store.funcs[calleeAddr] as WasmFunctionState).compiled.frameSize;
  if (cx.pc === RETURNED_PC) {
    t.depth--;
    return cx.fuel;
  }
  if (!cx.moved) {
    // The innermost function that left: the loop goes on in its frame.
    cx.moved = true;
    t.fp = newF >> 1;
    t.funcAddr = calleeAddr;
  }
  return MOVED;
}

/**
 * The callee of a `call_indirect` through table `tableIndex` of the running instance at
 * element `index`, expecting type `typeIndex`; -1 when the loop is to do it (a trap, a
 * null or mismatched entry, which it reports).
 */
export function indirectCallee(cx: JsTierContext, typeIndex: number, tableIndex: number, index: number): number {
  const inst = cx.inst;
  const store = cx.thread.store;
  const table = store.tables[inst.tableAddrs[tableIndex]];
  const i = index >>> 0;
  if (i >= table.size) return -1;
  const ref = table.elements[i];
  if (ref === 0) return -1;
  return store.funcs[ref - 1].typeId === inst.typeIds[typeIndex] ? ref - 1 : -1;
}
