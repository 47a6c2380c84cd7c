import { OPS } from '../wasm/index.ts';
import { FastOp } from './fast-ir.ts';
import { FUSED } from './fused-ops.ts';

/**
 * Length of each fused instruction: that of its parts, whose opcodes stay in place.
 * A constant table, filled once at load from `FUSED` (below, as it needs `fastLength`)
 * and only read after that: no state of any module or run lives here.
 */
const FUSED_LENGTH = new Map<number, number>();

/** Length in words of the fast instruction at `pc` (fast-ir.ts gives the layouts). */
export function fastLength(code: Int32Array, pc: number): number {
  const op = code[pc];
  switch (op) {
    case FastOp.fuel: case FastOp.jump: case FastOp.copy: case FastOp.const32: case FastOp.globalGet:
    case FastOp.globalSet: case FastOp.return: case FastOp.exact1: case FastOp.tailCall: case FastOp.leave: case FastOp.simd:
      return 3;
    case FastOp.brZ: case FastOp.brNz: case FastOp.const64: case FastOp.call:
      return 4;
    case FastOp.select: return 5;
    case FastOp.callIndirect: return 6;
    case FastOp.brTable: return 4 + code[pc + 2];
    case FastOp.unreachable: return 1;
  }
  if (op >= FastOp.brCmpBase && op < FastOp.brCmpImmBase + 10) return 5;
  const fused = FUSED_LENGTH.get(op);
  if (fused !== undefined) return fused;
  if (op >= FastOp.immediate + 0x46) return 4;
  if (op >= 0x28 && op <= 0x3e) return 4;
  return OPS[op]!.pops === 2 ? 4 : 3;
}

{
  // The parts are never fused instructions themselves: their lengths need no entry here.
  const one = new Int32Array(1);
  for (const f of FUSED) {
    let length = 0;
    for (let i = 0; i < f.length - 1; i++) {
      one[0] = f[i];
      length += fastLength(one, 0);
    }
    FUSED_LENGTH.set(f[f.length - 1], length);
  }
}
