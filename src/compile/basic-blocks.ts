import { endsBasicBlock, innerPc, IrOp, irLength } from './ir.ts';

/** Where the basic blocks of an exact code start, and how long each is. */
export interface BasicBlocks {
  /** 1 at each exact pc that starts a block (and at the code's end), 0 elsewhere. */
  boundary: Uint8Array;
  /** For each exact pc: instructions until the end of its basic block (inclusive). */
  toBlockEnd: Int32Array;
}

/**
 * The basic blocks of an exact code: a block starts at the code's start, at every branch
 * target, at every exception handler's target (`landings`) and after every instruction
 * that ends one (branches, returns, calls, throws, `unreachable`).
 */
export function findBasicBlocks(exact: Int32Array, landings?: Int32Array): BasicBlocks {
  const n = exact.length;
  const boundary = new Uint8Array(n + 1);
  boundary[0] = 1;
  if (landings !== undefined) for (const pc of landings) boundary[pc] = 1;
  for (let pc = 0; pc < n; pc += irLength(exact, pc)) {
    const op = exact[pc];
    switch (op) {
      case IrOp.jump: case IrOp.brIfJump: case IrOp.if: case IrOp.br: case IrOp.brIf: case IrOp.brOnNull: case IrOp.brOnNonNull: case IrOp.catchEnd:
        boundary[exact[pc + 1]] = 1;
        break;
      case IrOp.brTable: {
        const count = exact[pc + 1];
        for (let i = 0; i <= count; i++) {
          const target = exact[pc + 2 + 3 * i];
          if (target >= 0) boundary[target] = 1;
        }
        break;
      }
    }
    // A table64 call_indirect ends its block as the plain one does.
    if (endsBasicBlock(exact[innerPc(exact, pc)])) boundary[pc + irLength(exact, pc)] = 1;
  }
  const toBlockEnd = new Int32Array(n);
  let count = 0;
  const starts: number[] = [];
  for (let pc = 0; pc < n; pc += irLength(exact, pc)) starts.push(pc);
  for (let i = starts.length - 1; i >= 0; i--) {
    const pc = starts[i];
    const next = i + 1 < starts.length ? starts[i + 1] : n;
    count = boundary[next] ? 1 : count + 1;
    toBlockEnd[pc] = count;
  }
  return { boundary, toBlockEnd };
}
