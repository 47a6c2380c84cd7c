/**
 * The code section: locates each function body and expands its local declarations.
 * Instructions are not decoded here (the validator walks them with `InstructionReader`),
 * which keeps module decoding proportional to the number of functions, not code size.
 * Spec: https://webassembly.github.io/spec/core/binary/modules.html#code-section
 */
import { DecodeError } from '../errors/index.ts';
import type { FuncBody, Module, ValType } from '../wasm/index.ts';
import { createInstr, InstructionReader } from './instructions.ts';
import type { ByteReader } from './reader.ts';
import { readValType } from './types.ts';

/**
 * Most locals a function may declare. The spec only bounds the total by 2^32 - 1; far
 * fewer keep a tiny hostile body from making us allocate gigabytes, and real compilers
 * stay well below (V8 allows 50,000 as well).
 */
export const MAX_LOCALS = 50_000;

const BLOCK = 0x02;
const LOOP = 0x03;
const IF = 0x04;
const ELSE = 0x05;
const END = 0x0b;

export function readCodeSection(r: ByteReader, m: Module): void {
  const n = r.len();
  const counts: number[] = [];
  const types: ValType[] = [];
  for (let i = 0; i < n; i++) m.codes.push(readBody(r, counts, types));
}

function readBody(r: ByteReader, counts: number[], types: ValType[]): FuncBody {
  const bodyOffset = r.pos;
  const size = r.len();
  const bodyStart = r.pos;
  const codeEnd = bodyStart + size;
  const locals = readLocals(r, counts, types);
  const codeStart = r.pos;
  if (codeStart >= codeEnd || codeEnd > r.end || r.bytes[codeEnd - 1] !== END) missingEnd(r, codeStart);
  r.pos = codeEnd;
  return { locals, codeStart, codeEnd, bodyOffset };
}

/**
 * A body whose last byte is not `end` is malformed; this finds the error the reference
 * interpreter reports, since the spec test suite checks its wording. That interpreter
 * decodes the body's instructions against the whole module, not the body's size, until
 * the function's `end`, and only then compares sizes. Off the hot path: only reached
 * for a malformed module.
 */
function missingEnd(r: ByteReader, codeStart: number): never {
  const ir = new InstructionReader(r.bytes, codeStart, r.end);
  const instr = createInstr();
  // Open blocks, innermost last: true for an `if` whose `else` may still come.
  const open: boolean[] = [];
  for (;;) {
    if (ir.pos >= ir.end) ir.eof();
    const b = r.bytes[ir.pos]!;
    if (b === END || b === ELSE) {
      const inIf = open.length > 0 && open[open.length - 1] === true;
      if (b === ELSE && !inIf) throw new DecodeError('END opcode expected', ir.pos);
      ir.pos++;
      if (b === ELSE) open[open.length - 1] = false;
      else if (open.length === 0) break;
      else open.pop();
      continue;
    }
    ir.read(instr);
    if (instr.op === IF) open.push(true);
    else if (instr.op === BLOCK || instr.op === LOOP) open.push(false);
  }
  // The function's `end` was found, but not where its size says the body ends.
  throw new DecodeError('section size mismatch', ir.pos);
}

/** Reads the (count, type) pairs, checks the total, then expands them. */
function readLocals(r: ByteReader, counts: number[], types: ValType[]): ValType[] {
  const p = r.pos;
  const n = r.len();
  let total = 0;
  for (let i = 0; i < n; i++) {
    const c = r.u32();
    counts[i] = c;
    types[i] = readValType(r);
    total += c;
  }
  if (total > MAX_LOCALS) throw new DecodeError('too many locals', p);
  const locals: ValType[] = new Array<ValType>(total);
  let k = 0;
  for (let i = 0; i < n; i++) {
    const t = types[i]!;
    for (let j = counts[i]!; j > 0; j--) locals[k++] = t;
  }
  return locals;
}
