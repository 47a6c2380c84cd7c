import { fastLength } from './fast-length.ts';
import { fusedPair, fusedTriple } from './fused-ops.ts';

/**
 * The fusion pass over finished fast code, longest match first: the first part's opcode
 * becomes the fused one, every word stays where it is. The parts lie in one block: a
 * block starts with its fuel instruction, every way into the code (branches, returns,
 * `runSlowOp`) leads to the start of an instruction that is not a later part, and no
 * part is a fuel.
 */
export function fuseInstructions(code: Int32Array, length: number): void {
  for (let p = 0; p < length;) {
    const q = p + fastLength(code, p);
    if (q >= length) break;
    const r = q + fastLength(code, q);
    const triple = r < length ? fusedTriple(code[p], code[q], code[r]) : undefined;
    if (triple !== undefined) {
      code[p] = triple;
      p = r + fastLength(code, r);
      continue;
    }
    const pair = fusedPair(code[p], code[q]);
    if (pair !== undefined) {
      code[p] = pair;
      p = r;
      continue;
    }
    p = q;
  }
}
