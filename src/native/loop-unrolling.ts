import type { BodyWriter } from './body-writer.ts';

/**
 * An innermost loop whose body is written `copies` times after one header check:
 *   loop $L  check  block $c1  B  br $exit  end  ...  block $cn  B  br $exit  end  end
 * In every copy but the last, a branch to the loop's start goes to the end of the copy's
 * block, into the next copy; in the last one, to $L. Copies share their safepoints.
 */
export interface Unrolling {
  copies: number;
  /** Where the first copy starts in the output, and its first entry in the pc maps. */
  start: number;
  marks: number;
  /** Output offsets of the branch immediates that target the loop, in the first copy. */
  backEdges: number[];
}

/**
 * Writes the first copy `first` of an unrolled body again, its back edges `delta` blocks
 * further out, and the pc marks of its original instructions (those from `u.marks` to
 * `marksEnd`), moved to where the copy puts them.
 */
export function writeCopy(w: BodyWriter, first: Uint8Array, u: Unrolling, marksEnd: number, delta: number): void {
  const out = w.out;
  const at = out.length;
  // Growth of the output, by offset in the first copy, where a depth's LEB gets longer.
  const grown: number[] = [];
  let from = 0;
  let shift = 0;
  for (const edge of u.backEdges) {
    const rel = edge - u.start;
    out.raw(first, from, rel);
    let value = 0;
    let len = 0;
    for (let b = 0x80; b & 0x80; len++) {
      b = first[rel + len];
      value |= (b & 0x7f) << (7 * len);
    }
    const before = out.length;
    out.u32(value + delta);
    shift += out.length - before - len;
    grown.push(rel + len, shift);
    from = rel + len;
  }
  out.raw(first, from, first.length);
  let g = 0;
  shift = 0;
  for (let j = u.marks; j < marksEnd; j++) {
    const rel = w.rewrittenPcs[j] - u.start;
    while (g < grown.length && grown[g] <= rel) {
      shift = grown[g + 1];
      g += 2;
    }
    w.rewrittenPcs.push(at + rel + shift);
    w.originalPcs.push(w.originalPcs[j]);
  }
}
