/**
 * Both internal codes as text, one instruction a line, with opcode names: for golden
 * tests of the translators. Operands are printed as the raw words the code holds (slot
 * word offsets, targets as pcs, immediates), after the instruction's pc.
 */
import { FastOp } from '../../src/compile/fast-ir.ts';
import { IrOp, irLength } from '../../src/compile/ir.ts';
import { fastLength } from '../../src/compile/fast-length.ts';
import { FUSED } from '../../src/compile/fused-ops.ts';
import { opName } from '../../src/wasm/opcodes.ts';

const IR_NAMES = new Map<number, string>([
  [IrOp.br, 'br'], [IrOp.jump, 'jump'], [IrOp.brIf, 'br_if'], [IrOp.brIfJump, 'br_if_jump'],
  [IrOp.brTable, 'br_table'], [IrOp.brIfReturn, 'br_if_return'], [IrOp.if, 'if'], [IrOp.return, 'return'],
  [IrOp.v128LocalGet, 'v128.local.get'], [IrOp.v128LocalSet, 'v128.local.set'], [IrOp.v128LocalTee, 'v128.local.tee'],
  [IrOp.v128GlobalGet, 'v128.global.get'], [IrOp.v128GlobalSet, 'v128.global.set'], [IrOp.v128Drop, 'v128.drop'],
  [IrOp.v128Select, 'v128.select'],
]);

/** The exact code (`compile/ir.ts`), a line per instruction: `pc: name operands`. */
export function printExact(code: Int32Array): string {
  const lines: string[] = [];
  for (let pc = 0; pc < code.length; pc += irLength(code, pc)) {
    const op = code[pc]!;
    const words = Array.from(code.subarray(pc + 1, pc + irLength(code, pc)));
    lines.push([`${pc}:`, IR_NAMES.get(op) ?? opName(op), ...words].join(' '));
  }
  return lines.join('\n');
}

/** Names of the fast code's own instructions (fast-ir.ts) by opcode. */
const FAST_NAMES = new Map<number, string>();
for (const [name, op] of Object.entries(FastOp)) {
  if (name !== 'brCmpBase' && name !== 'brCmpImmBase' && name !== 'immediate') FAST_NAMES.set(op, name);
}

/** The name of one fast opcode that is not a fused one. */
function fastName(op: number): string {
  if (op === FastOp.simd) return 'simd';
  if (op >= FastOp.brCmpBase && op < FastOp.brCmpBase + 10) return `br_if.${opName(0x46 + op - FastOp.brCmpBase)}`;
  if (op >= FastOp.brCmpImmBase && op < FastOp.brCmpImmBase + 10) return `br_if.${opName(0x46 + op - FastOp.brCmpImmBase)}+imm`;
  if (op >= FastOp.immediate + 0x46) return `${opName(op - FastOp.immediate)}+imm`;
  return FAST_NAMES.get(op) ?? opName(op);
}

const FUSED_PARTS = new Map(FUSED.map((f) => [f[f.length - 1]!, f.slice(0, -1)]));

/**
 * The fast code (`compile/fast-ir.ts`), a line per instruction: `pc: name operands`; a
 * fused instruction as `pc: fusedName[first part | second part ...]`, each part with its
 * own name and operands (the code keeps every part's words in place).
 */
export function printFast(code: Int32Array): string {
  const lines: string[] = [];
  const one = new Int32Array(1);
  for (let pc = 0; pc < code.length; pc += fastLength(code, pc)) {
    const op = code[pc]!;
    const parts = FUSED_PARTS.get(op);
    if (parts === undefined) {
      lines.push([`${pc}:`, fastName(op), ...Array.from(code.subarray(pc + 1, pc + fastLength(code, pc)))].join(' '));
      continue;
    }
    const texts: string[] = [];
    let p = pc;
    parts.forEach((part, i) => {
      one[0] = part;
      const length = fastLength(one, 0);
      // The first part's opcode is replaced by the fused one; the later parts keep theirs.
      if (i > 0 && code[p] !== part) throw new Error(`printFast: fused part ${i} at ${p} is ${code[p]}, not ${part}`);
      texts.push([fastName(part), ...Array.from(code.subarray(p + 1, p + length))].join(' '));
      p += length;
    });
    lines.push(`${pc}: ${FAST_NAMES.get(op)}[${texts.join(' | ')}]`);
  }
  return lines.join('\n');
}
