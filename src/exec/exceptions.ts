/**
 * Exception handling in the run loops (Wasm 3.0 `throw`, `throw_ref`, the legacy
 * `rethrow`): one instruction that goes from the throw to its handler. A throw looks
 * for a handler frame by frame (the function's `HandlerTable`, see `compile/ir.ts`),
 * and only once one is found does it pop the frames and land: the values go where the
 * clause says and the thread stands at the handler's first instruction. So a paused
 * thread is never between a throw and its handler: a pause lands before the throw or
 * inside the handler, with the exception's values or its exnref on the operand stack,
 * and snapshots carry nothing beyond frames, operands and exnref values.
 *
 * Exceptions live in the store (`StoreState.exceptions`); an exnref is an index + 1.
 * An exception no code holds a reference to (caught by `catch` or `catch_all`, or at
 * the end of the legacy catch that kept it) is dropped from the store when it is the
 * newest one, so a program that throws and catches in a loop does not grow it; one
 * handed out by `catch_ref` or `catch_all_ref` stays while the store lives.
 */
import { Trap, UncaughtException } from '../errors/index.ts';
import { ClauseKind, FAST_PC_TAG, IrOp } from '../compile/index.ts';
import { RunStatus } from './state.ts';
import type { ThreadState, WasmFunctionState } from './state.ts';

/**
 * Runs the throw instruction at the thread's pc (its registers saved in `t`, `t.sp`
 * above the instruction's operands): makes or finds the exception, then delivers it.
 * Returns `RunStatus.yielded` when the thread stands at a handler (go on from its
 * registers), `RunStatus.returned` when a handler of the execution's outermost function
 * returned from it; throws {@link UncaughtException} when no frame catches.
 */
export function runThrow(t: ThreadState): RunStatus {
  const fn = t.store.funcs[t.funcAddr] as WasmFunctionState;
  const code = fn.compiled.code;
  const pc = t.pc;
  const s32 = t.s32;
  const store = t.store;
  let ref: number;
  switch (code[pc]) {
    case IrOp.throw: {
      const tagAddr = fn.instance.tagAddrs[code[pc + 1]];
      const slots = slotsOf(store.tags[tagAddr].type.params);
      const payload = s32.slice(2 * (t.sp - slots), 2 * t.sp);
      t.sp -= slots;
      store.exceptions.push({ tagAddr, payload, kept: false });
      ref = store.exceptions.length;
      break;
    }
    case IrOp.throwRef:
      ref = s32[2 * --t.sp];
      if (ref === 0) throw new Trap('null exception reference');
      break;
    default: // IrOp.rethrow
      ref = s32[2 * (t.fp + code[pc + 1])];
      break;
  }
  // Thrown again, an exception may end up named twice (a legacy catch inside the catch
  // body that rethrew it): from then on the store keeps it.
  if (code[pc] !== IrOp.throw) store.exceptions[ref - 1].kept = true;
  return deliver(t, ref);
}

/**
 * An exception that a call made by the thread's top frame threw (a call the driver
 * made for it: the native tier's code, which ran the callee): delivered from that
 * frame's call, whose return address is the thread's pc, as if the callee had been
 * interpreted. Returns and throws as {@link runThrow}.
 */
export function throwFromCall(t: ThreadState, tagAddr: number, payload: Int32Array): RunStatus {
  const store = t.store;
  store.exceptions.push({ tagAddr, payload, kept: false });
  let pc = t.pc;
  if ((pc & FAST_PC_TAG) !== 0) pc = (store.funcs[t.funcAddr] as WasmFunctionState).compiled.fast!.exactPcAt[pc & ~FAST_PC_TAG];
  // Inside the call instruction, as a caller's return address is looked up.
  t.pc = pc - 1;
  return deliver(t, store.exceptions.length);
}

/** Slots a list of value types takes (a v128 two). */
function slotsOf(types: readonly number[]): number {
  let n = 0;
  for (const ty of types) n += ty === 0x7b ? 2 : 1;
  return n;
}

/** Finds the handler of exception `ref` from the thread's pc outwards, and lands there. */
function deliver(t: ThreadState, ref: number): RunStatus {
  const store = t.store;
  const exn = store.exceptions[ref - 1];
  const frames = t.frames;
  let funcAddr = t.funcAddr;
  let fp = t.fp;
  let depth = t.depth;
  // In the throwing frame the throw's own pc; in a caller, a pc inside its call.
  let at = t.pc;
  for (;;) {
    const fn = store.funcs[funcAddr] as WasmFunctionState;
    const table = fn.compiled.handlers;
    if (table !== undefined) {
      const { tries, clauses } = table;
      const count = tries.length >> 2;
      let r = -1;
      for (let i = count - 1; i >= 0; i--) if (tries[4 * i] <= at && at < tries[4 * i + 1]) { r = i; break; }
      const tagAddrs = fn.instance.tagAddrs;
      while (r >= 0) {
        const end = r + 1 < count ? tries[4 * (r + 1) + 3] : clauses.length / 5;
        for (let c = tries[4 * r + 3]; c < end; c++) {
          const kind = clauses[5 * c];
          const tag = clauses[5 * c + 1];
          if (tag >= 0 && tagAddrs[tag] !== exn.tagAddr) continue;
          t.funcAddr = funcAddr; t.fp = fp; t.depth = depth;
          return land(t, exn.payload, ref, kind, clauses[5 * c + 2], clauses[5 * c + 3]);
        }
        r = tries[4 * r + 2];
      }
    }
    if (depth === 0 || frames[3 * (depth - 1)] < 0) {
      // The registers stay at the throw, for the backtrace; the tag as the thrower's module numbers it.
      const tagIndex = (store.funcs[t.funcAddr] as WasmFunctionState).instance.tagAddrs.indexOf(exn.tagAddr);
      throw new UncaughtException(exn.tagAddr, exn.payload, `uncaught exception (tag ${tagIndex >= 0 ? tagIndex : `at store address ${exn.tagAddr}`})`);
    }
    depth--;
    const caller = frames[3 * depth];
    let ra = frames[3 * depth + 1];
    const callerFn = store.funcs[caller] as WasmFunctionState;
    if ((ra & FAST_PC_TAG) !== 0) ra = callerFn.compiled.fast!.exactPcAt[ra & ~FAST_PC_TAG];
    at = ra - 1;
    fp = frames[3 * depth + 2];
    funcAddr = caller;
  }
}

/** Lets exception `ref` go when nothing can name it any more and it is the store's newest. */
function release(t: ThreadState, ref: number): void {
  const exceptions = t.store.exceptions;
  if (ref === exceptions.length && !exceptions[ref - 1].kept) exceptions.pop();
}

/**
 * `IrOp.catchEnd` at the thread's pc (registers saved in `t`): the legacy catch body's
 * results move down over its exnref, which is let go, and the thread goes on at the
 * target.
 */
export function runCatchEnd(t: ThreadState): void {
  const code = (t.store.funcs[t.funcAddr] as WasmFunctionState).compiled.code;
  const pc = t.pc;
  const s32 = t.s32;
  const base = t.fp + code[pc + 2];
  const arity = code[pc + 3];
  release(t, s32[2 * base]);
  s32.copyWithin(2 * base, 2 * (t.sp - arity), 2 * t.sp);
  t.sp = base + arity;
  t.pc = code[pc + 1];
}

/**
 * Puts what clause `kind` passes at fp + `base` and goes to `target` (-2: returns from
 * the function, the values being its results).
 */
function land(t: ThreadState, payload: Int32Array, ref: number, kind: number, target: number, base: number): RunStatus {
  const store = t.store;
  const s32 = t.s32;
  let w = 2 * (t.fp + (target === -2 ? 0 : base));
  const putRef = (): void => { s32[w] = ref; s32[w + 1] = 0; w += 2; };
  if (kind === ClauseKind.legacyCatch || kind === ClauseKind.legacyCatchAll) putRef();
  if (kind === ClauseKind.catch || kind === ClauseKind.catchRef || kind === ClauseKind.legacyCatch) {
    s32.set(payload, w);
    w += payload.length;
  }
  if (kind === ClauseKind.catchRef || kind === ClauseKind.catchAllRef) {
    putRef();
    store.exceptions[ref - 1].kept = true;
  }
  // Nothing names an exception caught without a reference: the newest one can go.
  if (kind === ClauseKind.catch || kind === ClauseKind.catchAll) release(t, ref);
  t.sp = w >> 1;
  if (target !== -2) {
    t.pc = target;
    return RunStatus.yielded;
  }
  // A clause naming the function's own label: a return with those values.
  const d = --t.depth;
  const caller = t.frames[3 * d];
  if (caller < 0) {
    t.pc = 0; t.funcAddr = caller;
    return RunStatus.returned;
  }
  let ra = t.frames[3 * d + 1];
  const callerFn = store.funcs[caller] as WasmFunctionState;
  if ((ra & FAST_PC_TAG) !== 0) ra = callerFn.compiled.fast!.exactPcAt[ra & ~FAST_PC_TAG];
  t.pc = ra; t.fp = t.frames[3 * d + 2]; t.funcAddr = caller;
  return RunStatus.yielded;
}
