/**
 * Traps raised by compiled code: the run loop's messages (`numeric.ts`, `run-fast.ts`),
 * and where it happened, which the loop's handler puts in the thread for the backtrace
 * (the trapping function may be some calls deeper than the one the loop entered).
 */
import { Trap } from '../../errors/index.ts';
import { conversionTrap } from '../numeric.ts';
import type { JsTierContext, ThreadState, WasmFunctionState } from '../state.ts';
import { TrapKind } from './operand-context.ts';

/**
 * The messages of the RangeError a DataView throws for an offset past its end (V8 says
 * the same for reads and writes; asked once, not written down, so another engine's
 * wording serves as well).
 */
const OUT_OF_BOUNDS = new Set<string>();
for (const access of [(v: DataView) => v.getInt8(0), (v: DataView) => v.setInt8(0, 0)]) {
  try {
    access(new DataView(new ArrayBuffer(0)));
  } catch (error) {
    if (error instanceof RangeError) OUT_OF_BOUNDS.add(error.message);
  }
}

/**
 * Whether `error`, caught around a compiled function's code, is a memory access past
 * the end (the function's own: a callee's is a `Trap` by then). A stack overflow is a
 * RangeError too, with other words: it goes on up.
 */
export function isFault(error: unknown): boolean {
  return error instanceof RangeError && OUT_OF_BOUNDS.has(error.message);
}

/** Records where compiled function `self` (frame at word `F`) trapped, and returns the trap to throw. */
export function jsTrap(cx: JsTierContext, self: number, F: number, pc: number, fuel: number, kind: TrapKind, x: number): Trap {
  cx.trapFunc = self;
  cx.trapFp = F >> 1;
  cx.pc = pc;
  cx.fuel = fuel;
  switch (kind) {
    case TrapKind.memory: return new Trap('out of bounds memory access');
    case TrapKind.divideByZero: return new Trap('integer divide by zero');
    case TrapKind.overflow: return new Trap('integer overflow');
    default: return conversionTrap(x);
  }
}

/**
 * Puts the thread at the instruction a throw came from, in exact-code terms, for the
 * backtrace: where the run loop or `runCompiled` stood (function `funcAddr`, frame `fp`,
 * fast pc `pc`, `fuel` of its `budget` left) or, where compiled code trapped
 * (`trapFunc`), perhaps calls deeper (their frames are pushed), there. The compiled
 * code's nesting is over either way.
 */
export function placeThrow(t: ThreadState, funcAddr: number, fp: number, pc: number, fuel: number, budget: number): void {
  const cx = t.js;
  cx.nest = 0;
  cx.nestSlots = 0;
  if (cx.trapFunc >= 0) {
    funcAddr = cx.trapFunc;
    fp = cx.trapFp;
    pc = cx.pc;
    fuel = cx.fuel;
    cx.trapFunc = -1;
  }
  const fast = (t.store.funcs[funcAddr] as WasmFunctionState).compiled.fast!;
  t.fp = fp;
  t.funcAddr = funcAddr;
  t.pc = fast.exactPcAt[pc] >= 0 ? fast.exactPcAt[pc] : 0;
  t.instructions += budget - fuel;
}
