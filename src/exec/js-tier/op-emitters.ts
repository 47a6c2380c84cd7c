/**
 * The JavaScript of each fast-code instruction the JavaScript tier runs itself, written
 * over the instruction's operands (`OperandContext`): the same semantics as the run
 * loop's case for it (`run-fast.ts`, `run-fast-wide.ts`), with frame words as local
 * variables instead of `s32` elements. Every rare case leaves for the run loop
 * (`c.exit()`), which runs the instruction from the same frame, so the BigInt paths stay
 * written once, there.
 *
 * A word holds what the run loop's `s32` would hold: a 64-bit value as two words, a float
 * as its bits (`f64of`/`f32of` read them, `setF64`/`setF32` write them), so the frame the
 * tier writes back is the loop's, bit for bit.
 *
 * Instructions without an emitter (calls, returns, SIMD, the exact code's) leave for the
 * loop as well.
 */
import { TrapKind } from './operand-context.ts';
import type { OperandContext } from './operand-context.ts';

type Emit = (c: OperandContext) => string;

/** Indexed by fast opcode (below 0x400). */
export const EMITTERS: (Emit | undefined)[] = new Array(0x400).fill(undefined);

function def(ops: number | readonly number[], emit: Emit): void {
  for (const op of typeof ops === 'number' ? [ops] : ops) EMITTERS[op] = emit;
}

/** `[op, dst, a, b]` i32 binary, and `[op + 0x100, dst, a, imm]` where `immediate` says so. */
function i32Binary(op: number, expr: (a: string, b: string) => string, immediate: boolean): void {
  def(op, (c) => `${c.lo(1)} = ${expr(c.lo(2), c.lo(3))};`);
  if (immediate) def(0x100 + op, (c) => `${c.lo(1)} = ${expr(c.lo(2), c.imm(3))};`);
}

const bool = (e: string): string => `(${e} ? 1 : 0)`;
const I32_COMPARE: readonly [number, (a: string, b: string) => string][] = [
  [0x46, (a, b) => `${a} === ${b}`], [0x47, (a, b) => `${a} !== ${b}`],
  [0x48, (a, b) => `${a} < ${b}`], [0x49, (a, b) => `(${a} >>> 0) < (${b} >>> 0)`],
  [0x4a, (a, b) => `${a} > ${b}`], [0x4b, (a, b) => `(${a} >>> 0) > (${b} >>> 0)`],
  [0x4c, (a, b) => `${a} <= ${b}`], [0x4d, (a, b) => `(${a} >>> 0) <= (${b} >>> 0)`],
  [0x4e, (a, b) => `${a} >= ${b}`], [0x4f, (a, b) => `(${a} >>> 0) >= (${b} >>> 0)`],
];
for (const [op, cmp] of I32_COMPARE) {
  i32Binary(op, (a, b) => bool(cmp(a, b)), true);
  // Fused compare-and-branch: [op, a, b|imm, target, cost]; the fall-through is the next block.
  def(0xe0 + op - 0x46, (c) => `if (${cmp(c.lo(1), c.lo(2))}) ${c.branch(3)}`);
  def(0xea + op - 0x46, (c) => `if (${cmp(c.lo(1), c.imm(2))}) ${c.branch(3)}`);
}
i32Binary(0x6a, (a, b) => `(${a} + ${b}) | 0`, true);
i32Binary(0x6b, (a, b) => `(${a} - ${b}) | 0`, true);
i32Binary(0x6c, (a, b) => `Math.imul(${a}, ${b})`, true);
i32Binary(0x71, (a, b) => `${a} & ${b}`, true);
i32Binary(0x72, (a, b) => `${a} | ${b}`, true);
i32Binary(0x73, (a, b) => `${a} ^ ${b}`, true);
i32Binary(0x74, (a, b) => `${a} << ${b}`, true);
i32Binary(0x75, (a, b) => `${a} >> ${b}`, true);
i32Binary(0x76, (a, b) => `${a} >>> ${b}`, true);
def(0x77, (c) => `{ const a = ${c.lo(2)}, k = ${c.lo(3)} & 31; ${c.lo(1)} = (a << k) | (a >>> (32 - k)); }`);
def(0x78, (c) => `{ const a = ${c.lo(2)}, k = ${c.lo(3)} & 31; ${c.lo(1)} = (a >>> k) | (a << (32 - k)); }`);
def(0x45, (c) => `${c.lo(1)} = ${bool(`${c.lo(2)} === 0`)};`);
def(0x67, (c) => `${c.lo(1)} = Math.clz32(${c.lo(2)});`);
def(0x68, (c) => `{ const x = ${c.lo(2)}; ${c.lo(1)} = x === 0 ? 32 : 31 - Math.clz32(x & -x); }`);
def(0x69, (c) => `{ let x = ${c.lo(2)}; x = x - ((x >>> 1) & 0x55555555); x = (x & 0x33333333) + ((x >>> 2) & 0x33333333); `
  + `x = (x + (x >>> 4)) & 0x0f0f0f0f; ${c.lo(1)} = Math.imul(x, 0x01010101) >>> 24; }`);
def(0x6d, (c) => `{ const a = ${c.lo(2)}, b = ${c.lo(3)}; if (b === 0) ${c.trap(TrapKind.divideByZero)}`
  + ` if (a === -2147483648 && b === -1) ${c.trap(TrapKind.overflow)} ${c.lo(1)} = (a / b) | 0; }`);
def(0x6e, (c) => `{ const b = ${c.lo(3)} >>> 0; if (b === 0) ${c.trap(TrapKind.divideByZero)} ${c.lo(1)} = ((${c.lo(2)} >>> 0) / b) | 0; }`);
def(0x6f, (c) => `{ const b = ${c.lo(3)}; if (b === 0) ${c.trap(TrapKind.divideByZero)} ${c.lo(1)} = (${c.lo(2)} % b) | 0; }`);
def(0x70, (c) => `{ const b = ${c.lo(3)} >>> 0; if (b === 0) ${c.trap(TrapKind.divideByZero)} ${c.lo(1)} = ((${c.lo(2)} >>> 0) % b) | 0; }`);
// Sign extensions (in stepWide for the loop).
def(0xc0, (c) => `${c.lo(1)} = (${c.lo(2)} << 24) >> 24;`);
def(0xc1, (c) => `${c.lo(1)} = (${c.lo(2)} << 16) >> 16;`);
def(0xc2, (c) => `{ const v = (${c.lo(2)} << 24) >> 24; ${c.lo(1)} = v; ${c.hi(1)} = v >> 31; }`);
def(0xc3, (c) => `{ const v = (${c.lo(2)} << 16) >> 16; ${c.lo(1)} = v; ${c.hi(1)} = v >> 31; }`);
def(0xc4, (c) => `{ const v = ${c.lo(2)}; ${c.lo(1)} = v; ${c.hi(1)} = v >> 31; }`);

// ---- i64, as two words ----
def(0x50, (c) => `${c.lo(1)} = ${bool(`(${c.lo(2)} | ${c.hi(2)}) === 0`)};`);
const I64_COMPARE: readonly [number, string][] = [
  [0x51, 'ahi === bhi && alo === blo'], [0x52, 'ahi !== bhi || alo !== blo'],
  [0x53, 'ahi < bhi || (ahi === bhi && alo < blo)'], [0x54, '(ahi >>> 0) < (bhi >>> 0) || (ahi === bhi && alo < blo)'],
  [0x55, 'ahi > bhi || (ahi === bhi && alo > blo)'], [0x56, '(ahi >>> 0) > (bhi >>> 0) || (ahi === bhi && alo > blo)'],
  [0x57, 'ahi < bhi || (ahi === bhi && alo <= blo)'], [0x58, '(ahi >>> 0) < (bhi >>> 0) || (ahi === bhi && alo <= blo)'],
  [0x59, 'ahi > bhi || (ahi === bhi && alo >= blo)'], [0x5a, '(ahi >>> 0) > (bhi >>> 0) || (ahi === bhi && alo >= blo)'],
];
for (const [op, cmp] of I64_COMPARE) {
  def(op, (c) => `{ const ahi = ${c.hi(2)}, bhi = ${c.hi(3)}, alo = ${c.lo(2)} >>> 0, blo = ${c.lo(3)} >>> 0; ${c.lo(1)} = ${bool(cmp)}; }`);
}
// i64.add and i64.sub in word arithmetic: the carry (borrow) from an unsigned compare of
// the low words, never a sum past 2^32, so V8 has no range of values to speculate on. Its
// feedback says "small integer" until a low word past 2^31 comes by, and the code
// compiled on that feedback was thrown away there ("lost precision"): the run loop's
// copy of these, in most cold sessions of EEMBC's CoreMark (docs/interpreter-warm-up.md).
def(0x7c, (c) => `{ const al = ${c.lo(2)}, lo = (al + ${c.lo(3)}) | 0; ${c.hi(1)} = (${c.hi(2)} + ${c.hi(3)} + ((lo >>> 0) < (al >>> 0) ? 1 : 0)) | 0; ${c.lo(1)} = lo; }`);
def(0x7d, (c) => `{ const al = ${c.lo(2)}, bl = ${c.lo(3)}; ${c.hi(1)} = (${c.hi(2)} - ${c.hi(3)} - ((al >>> 0) < (bl >>> 0) ? 1 : 0)) | 0; ${c.lo(1)} = (al - bl) | 0; }`);
def(0x7e, (c) => `{ const alo = ${c.lo(2)}, blo = ${c.lo(3)}, ahi = ${c.hi(2)}, bhi = ${c.hi(3)};`
  + ' const a0 = alo & 0xffff, a1 = alo >>> 16, b0 = blo & 0xffff, b1 = blo >>> 16;'
  + ' const p01 = Math.imul(a0, b1), p10 = Math.imul(a1, b0);'
  + ' const mid = (Math.imul(a0, b0) >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);'
  + ' const high = Math.imul(a1, b1) + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16);'
  + ` ${c.hi(1)} = (high + Math.imul(alo, bhi) + Math.imul(ahi, blo)) | 0; ${c.lo(1)} = Math.imul(alo, blo); }`);
def(0x83, (c) => `{ const lo = ${c.lo(2)} & ${c.lo(3)}, hi = ${c.hi(2)} & ${c.hi(3)}; ${c.lo(1)} = lo; ${c.hi(1)} = hi; }`);
def(0x84, (c) => `{ const lo = ${c.lo(2)} | ${c.lo(3)}, hi = ${c.hi(2)} | ${c.hi(3)}; ${c.lo(1)} = lo; ${c.hi(1)} = hi; }`);
def(0x85, (c) => `{ const lo = ${c.lo(2)} ^ ${c.lo(3)}, hi = ${c.hi(2)} ^ ${c.hi(3)}; ${c.lo(1)} = lo; ${c.hi(1)} = hi; }`);
const SHIFT64: readonly [number, string][] = [
  [0x86, 'if (k < 32) { rhi = (hi << k) | (lo >>> (32 - k)); rlo = lo << k; } else { rhi = lo << (k - 32); rlo = 0; }'],
  [0x87, 'if (k < 32) { rlo = (lo >>> k) | (hi << (32 - k)); rhi = hi >> k; } else { rlo = hi >> (k - 32); rhi = hi >> 31; }'],
  [0x88, 'if (k < 32) { rlo = (lo >>> k) | (hi << (32 - k)); rhi = hi >>> k; } else { rlo = hi >>> (k - 32); rhi = 0; }'],
];
for (const [op, body] of SHIFT64) {
  def(op, (c) => `{ const k = ${c.lo(3)} & 63, lo = ${c.lo(2)}, hi = ${c.hi(2)}; let rlo = lo, rhi = hi; if (k !== 0) { ${body} } ${c.lo(1)} = rlo; ${c.hi(1)} = rhi; }`);
}
// i64 division and remainder where doubles are exact (the loop's fast paths); the rest leaves.
for (const op of [0x7f, 0x80, 0x81, 0x82]) {
  const signed = op === 0x7f || op === 0x81;
  const division = op <= 0x80;
  def(op, (c) => `{ const xlo = ${c.lo(2)}, xhi = ${c.hi(2)}, ylo = ${c.lo(3)}, yhi = ${c.hi(3)};`
    + (signed
      ? ' if (!((xhi + 0x200000) >>> 0 < 0x400000 && (yhi + 0x200000) >>> 0 < 0x400000))'
      : ' if (!((xhi >>> 0) < 0x200000 && (yhi >>> 0) < 0x200000))')
    + ` ${c.exit()}`
    + ' const x = xhi * 4294967296 + (xlo >>> 0), y = yhi * 4294967296 + (ylo >>> 0);'
    + ` if (y === 0) ${c.exit()}`
    + ` const r = ${division ? 'Math.trunc(x / y)' : 'x % y'}; ${c.lo(1)} = r | 0; ${c.hi(1)} = Math.floor(r / 4294967296); }`);
}

// ---- moves, constants, globals ----
def(0xd4, (c) => `${c.lo(1)} = ${c.lo(2)}; ${c.hi(1)} = ${c.hi(2)};`);
def(0xd5, (c) => `${c.lo(1)} = ${c.imm(2)};`);
def(0xd6, (c) => `${c.lo(1)} = ${c.imm(2)}; ${c.hi(1)} = ${c.imm(3)};`);
def(0xd7, (c) => `{ const take = ${c.lo(4)} !== 0, lo = take ? ${c.lo(2)} : ${c.lo(3)}, hi = take ? ${c.hi(2)} : ${c.hi(3)}; ${c.lo(1)} = lo; ${c.hi(1)} = hi; }`);
def(0xd8, (c) => `{ const g = globals[globalAddrs[${c.imm(2)}]]; ${c.lo(1)} = g.lo; ${c.hi(1)} = g.hi; }`);
def(0xd9, (c) => `{ const g = globals[globalAddrs[${c.imm(1)}]]; g.lo = ${c.lo(2)}; g.hi = ${c.hi(2)}; }`);
def(0xa7, (c) => `${c.lo(1)} = ${c.lo(2)};`); // i32.wrap_i64
def([0xbc, 0xbe], (c) => `${c.lo(1)} = ${c.lo(2)};`); // 32-bit reinterpretations: the bits
def([0xbd, 0xbf], (c) => `${c.lo(1)} = ${c.lo(2)}; ${c.hi(1)} = ${c.hi(2)};`);
def(0xac, (c) => `{ const v = ${c.lo(2)}; ${c.lo(1)} = v; ${c.hi(1)} = v >> 31; }`);
def(0xad, (c) => `${c.lo(1)} = ${c.lo(2)}; ${c.hi(1)} = 0;`);

// ---- branches ([op, cond, target, cost]; the fall-through is the next block) ----
def(0xd1, (c) => c.branch(1));
def(0xd2, (c) => `if (${c.lo(1)} === 0) ${c.branch(2)}`);
def(0xd3, (c) => `if (${c.lo(1)} !== 0) ${c.branch(2)}`);

// ---- memory: the DataView checks the bounds (it covers the memory exactly), and its
// RangeError is the trap, at the access `mayFault` named last ----
function load(ops: readonly number[], read: string, wide: '' | 'sign' | 'zero' | 'pair'): void {
  def(ops, (c) => {
    let store = `${c.lo(1)} = ${read};`;
    if (wide === 'sign') store = `{ const v = ${read}; ${c.lo(1)} = v; ${c.hi(1)} = v >> 31; }`;
    if (wide === 'zero') store += ` ${c.hi(1)} = 0;`;
    if (wide === 'pair') store = `${c.lo(1)} = view.getInt32(ea, true); ${c.hi(1)} = view.getInt32(ea + 4, true);`;
    return `{ const ea = (${c.lo(2)} >>> 0) + ${c.immU(3)}; ${c.mayFault()} ${store} }`;
  });
}
load([0x28, 0x2a], 'view.getInt32(ea, true)', '');
load([0x29, 0x2b], '', 'pair');
load([0x2c], 'view.getInt8(ea)', '');
load([0x2d], 'view.getUint8(ea)', '');
load([0x30], 'view.getInt8(ea)', 'sign');
load([0x31], 'view.getUint8(ea)', 'zero');
load([0x2e], 'view.getInt16(ea, true)', '');
load([0x2f], 'view.getUint16(ea, true)', '');
load([0x32], 'view.getInt16(ea, true)', 'sign');
load([0x33], 'view.getUint16(ea, true)', 'zero');
load([0x34], 'view.getInt32(ea, true)', 'sign');
load([0x35], 'view.getInt32(ea, true)', 'zero');
function store(ops: readonly number[], write: (c: OperandContext) => string): void {
  def(ops, (c) => `{ const ea = (${c.lo(1)} >>> 0) + ${c.immU(3)}; ${c.mayFault()} ${write(c)} }`);
}
store([0x36, 0x38, 0x3e], (c) => `view.setInt32(ea, ${c.lo(2)}, true);`);
// The high half first: a store that does not fit writes nothing.
store([0x37, 0x39], (c) => `view.setInt32(ea + 4, ${c.hi(2)}, true); view.setInt32(ea, ${c.lo(2)}, true);`);
store([0x3a, 0x3c], (c) => `view.setInt8(ea, ${c.lo(2)});`);
store([0x3b, 0x3d], (c) => `view.setInt16(ea, ${c.lo(2)}, true);`);

// ---- floats, through their bits ----
const f32 = (c: OperandContext, k: number): string => `f32of(${c.lo(k)})`;
const f64 = (c: OperandContext, k: number): string => `f64of(${c.lo(k)}, ${c.hi(k)})`;
const setF32 = (c: OperandContext, k: number, x: string): string => `SF32[0] = ${x}; ${c.lo(k)} = SI[0];`;
const setF64 = (c: OperandContext, k: number, x: string): string => `SF[0] = ${x}; ${c.lo(k)} = SI[0]; ${c.hi(k)} = SI[1];`;
const COMPARE: readonly [number, string][] = [[0, '==='], [1, '!=='], [2, '<'], [3, '>'], [4, '<='], [5, '>=']];
for (const [i, cmp] of COMPARE) {
  def(0x5b + i, (c) => `${c.lo(1)} = ${bool(`${f32(c, 2)} ${cmp} ${f32(c, 3)}`)};`);
  def(0x61 + i, (c) => `${c.lo(1)} = ${bool(`${f64(c, 2)} ${cmp} ${f64(c, 3)}`)};`);
}
const ARITH: readonly [number, string][] = [[0, '+'], [1, '-'], [2, '*'], [3, '/']];
for (const [i, operator] of ARITH) {
  def(0x92 + i, (c) => `{ const x = ${f32(c, 2)} ${operator} ${f32(c, 3)}; ${setF32(c, 1, 'x')} }`);
  def(0xa0 + i, (c) => `{ const x = ${f64(c, 2)} ${operator} ${f64(c, 3)}; ${setF64(c, 1, 'x')} }`);
}
def(0x9f, (c) => `{ const x = Math.sqrt(${f64(c, 2)}); ${setF64(c, 1, 'x')} }`);
def(0x99, (c) => `${c.lo(1)} = ${c.lo(2)}; ${c.hi(1)} = ${c.hi(2)} & 0x7fffffff;`); // f64.abs, on the bits
def(0x9a, (c) => `${c.lo(1)} = ${c.lo(2)}; ${c.hi(1)} = ${c.hi(2)} ^ -0x80000000;`); // f64.neg
def(0x8b, (c) => `${c.lo(1)} = ${c.lo(2)} & 0x7fffffff;`); // f32.abs
def(0x8c, (c) => `${c.lo(1)} = ${c.lo(2)} ^ -0x80000000;`); // f32.neg
def(0xb2, (c) => `{ const x = ${c.lo(2)}; ${setF32(c, 1, 'x')} }`);
def(0xb3, (c) => `{ const x = ${c.lo(2)} >>> 0; ${setF32(c, 1, 'x')} }`);
def(0xb6, (c) => `{ const x = ${f64(c, 2)}; ${setF32(c, 1, 'x')} }`);
def(0xb7, (c) => `{ const x = ${c.lo(2)}; ${setF64(c, 1, 'x')} }`);
def(0xb8, (c) => `{ const x = ${c.lo(2)} >>> 0; ${setF64(c, 1, 'x')} }`);
def(0xbb, (c) => `{ const x = ${f32(c, 2)}; ${setF64(c, 1, 'x')} }`);
def(0xb9, (c) => `{ const x = ${c.hi(2)} * 4294967296 + (${c.lo(2)} >>> 0); ${setF64(c, 1, 'x')} }`);
def(0xba, (c) => `{ const x = (${c.hi(2)} >>> 0) * 4294967296 + (${c.lo(2)} >>> 0); ${setF64(c, 1, 'x')} }`);
// Truncations that trap outside their range.
const TRUNC: readonly [number, 'f32' | 'f64', string][] = [
  [0xa8, 'f32', 'x > -2147483649 && x < 2147483648'], [0xa9, 'f32', 'x > -1 && x < 4294967296'],
  [0xaa, 'f64', 'x > -2147483649 && x < 2147483648'], [0xab, 'f64', 'x > -1 && x < 4294967296'],
];
for (const [op, from, range] of TRUNC) {
  def(op, (c) => `{ const x = ${from === 'f32' ? f32(c, 2) : f64(c, 2)}; if (!(${range})) ${c.trap(TrapKind.conversion, 'x')} ${c.lo(1)} = x | 0; }`);
}
// To i64 within 2^53 (trapping 0xae..0xb1, saturating 0x104..0x107; odd ones unsigned); the rest leaves.
for (const op of [0xae, 0xaf, 0xb0, 0xb1, 0x104, 0x105, 0x106, 0x107]) {
  const fromF64 = op === 0xb0 || op === 0xb1 || op >= 0x106;
  const range = (op & 1) === 1 ? 'x > -1' : 'x > -9007199254740992';
  def(op, (c) => `{ const x = ${fromF64 ? f64(c, 2) : f32(c, 2)}; if (!(x < 9007199254740992 && ${range})) ${c.exit()}`
    + ` const v = Math.trunc(x); ${c.lo(1)} = v | 0; ${c.hi(1)} = Math.floor(v / 4294967296); }`);
}
