/**
 * Traps raised by compiled code: the run loop's messages (`numeric.ts`, `run-fast.ts`),
 * and where it happened, which the loop's handler puts in the thread for the backtrace
 * (the trapping function may be some calls deeper than the one the loop entered).
 */
import { Trap } from '../../errors/index.ts';
import { conversionTrap } from '../numeric.ts';
import type { JsTierContext } from '../state.ts';
import { TrapKind } from './operand-context.ts';

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
