/**
 * The priming module: a small Wasm module, built here in code, whose export `main` runs
 * every case of the interpreter's run loops at least once (`run-loop-primer.ts` says why).
 * Generated from the tables the translators use (`OPS`, `FUSED`), so that an instruction
 * added to them is primed as well; `test/runtime/priming-module.test.ts` checks that the
 * fast code of this module holds every case of `runFastLoop`.
 *
 * `main(pass)` reads its inputs from a table in its own memory, one row per pass
 * (`PRIMING_PASSES`), chosen so that over the passes every conditional branch goes both
 * ways, every 64-bit comparison looks at the low words too, and the unsigned operations
 * see values at and above 2^31 (numbers V8 holds as doubles, not small integers): type
 * feedback that stays true for real programs. No input traps: divisors are never 0 or -1,
 * truncated floats are in range, addresses are in the first page.
 */
import { FastOp, FUSED } from '../compile/index.ts';
import { OPS, ValType } from '../wasm/index.ts';
import { sleb, uleb, WASM_HEADER, wasmName, wasmSection, wasmVec } from './wasm-writer.ts';

/** How many times the primer calls `main` (with 0, 1, ...): one row of inputs each. */
export const PRIMING_PASSES = 3;

/** Where the input rows start in the module's memory, and each row's size in bytes. */
const ROWS_AT = 1024;
const ROW_SIZE = 128;

const { i32, i64, f32, f64, v128, funcref } = ValType;

// main's locals: its parameter (the pass), then these, in declaration order.
const PASS = 0;
const [BASE, A, B, C, N, U, V, Z, ZERO, D, E, T, I] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13];
const [X, Y, K64, XD, XS] = [14, 15, 16, 17, 18];
const [P, Q, PD] = [19, 20, 21];
const [R, S, RD] = [22, 23, 24];
const VV = 25;
const MAIN_LOCALS: readonly [number, number][] = [[13, i32], [5, i64], [3, f32], [3, f64], [1, v128]];

/** Each pass's inputs: [local, type, value] (i32 as int32, i64 as bigint, floats as numbers). */
const INPUTS: readonly (readonly [number, number, number | bigint][])[] = [
  // Small values; i64 operands with equal high words (so the low words are compared).
  [[A, i32, 5], [B, i32, 3], [C, i32, 0], [N, i32, 1], [U, i32, 0], [V, i32, 0], [T, i32, 0],
    [X, i64, 7n], [Y, i64, 3n], [K64, i64, 5n], [P, f32, 1.5], [Q, f32, 2.25], [R, f64, 1.5], [S, f64, 2.25]],
  // Large and negative values, branches the other way, an out-of-range br_table index.
  [[A, i32, 0x9e3779b9 | 0], [B, i32, 0x80000003 | 0], [C, i32, 1], [N, i32, 0], [U, i32, 0x80000001 | 0], [V, i32, 2], [T, i32, 5],
    [X, i64, 0x9e3779b97f4a7c15n], [Y, i64, -0x7ffffffffffffffdn], [K64, i64, 40n], [P, f32, 100.75], [Q, f32, 0.25], [R, f64, 1e9 + 0.5], [S, f64, 0.25]],
  // Zeros and equal operands: zero low words, shifts by 0, signed zeros.
  [[A, i32, 0], [B, i32, 7], [C, i32, 0], [N, i32, 1], [U, i32, 0], [V, i32, 0], [T, i32, 1],
    [X, i64, 0x500000000n], [Y, i64, 0x500000000n], [K64, i64, 0n], [P, f32, 0], [Q, f32, -0], [R, f64, 0], [S, f64, -0]],
];

// Function indices: the host import first, then the module's own.
const ECHO = 0;
const ADD2 = 1;
const TAIL2 = 2;
const RET_IF = 3;
const MAIN = 4;
// Type indices.
const T_I_I = 0;
const T_II_I = 1;

// Instruction bytes.
const lg = (i: number): number[] => [0x20, ...uleb(i)];
const ls = (i: number): number[] => [0x21, ...uleb(i)];
const c32 = (k: number): number[] => [0x41, ...sleb(k)];
const c64 = (k: bigint): number[] => [0x42, ...sleb(k)];
const memArg = (offset: number): number[] => [0x00, ...uleb(offset)];
const op = (code: number): number[] => (code >= 0x100 ? [0xfc, ...uleb(code - 0x100)] : [code]);
const block = (body: number[]): number[] => [0x02, 0x40, ...body, 0x0b];
const END = 0x0b;
/** Between two snippets: an instruction no fused instruction starts or ends with, so each snippet fuses only within itself. */
const SEPARATOR = [...c64(0x5a5an), ...ls(XS)];

/** Operand locals by type letter of a signature (`OPS[..].sig`), and the local a result goes to. */
const OPERANDS: Record<string, readonly [number, number]> = { i: [A, B], I: [X, Y], f: [P, Q], F: [R, S] };
const RESULT: Record<string, number> = { i: D, I: XD, f: PD, F: RD };
/** The i64 shifts and rotations take their count from K64 (below and above 32, and 0). */
const I64_SHIFTS = new Set([0x86, 0x87, 0x88, 0x89, 0x8a]);

/**
 * A piece of `main` and the fast opcodes it is there for (a piece is kept when the
 * program uses one of them; it may run others too, such as the constants it loads).
 */
interface Snippet {
  ops: readonly number[];
  code: number[];
  /** A fused instruction's parts: kept too when the program uses all of them (its functions not yet translated may fuse them). */
  parts?: readonly number[];
}

/** Every numeric instruction on locals; i32 binary ones also with a constant right operand (the immediate forms). */
function numericSnippets(): Snippet[] {
  const out: Snippet[] = [];
  for (let code = 0x45; code <= 0x107; code++) {
    if (code > 0xc4 && code < 0x100) continue;
    const sig = OPS[code]?.sig;
    if (sig === undefined) continue;
    const [params, result] = sig.split('>');
    const [a, b] = OPERANDS[params[0]];
    if (params.length === 1) {
      out.push({ ops: [code], code: [...lg(a), ...op(code), ...ls(RESULT[result])] });
      continue;
    }
    const right = I64_SHIFTS.has(code) ? K64 : b;
    out.push({ ops: [code], code: [...lg(a), ...lg(right), ...op(code), ...ls(RESULT[result])] });
    if (params === 'ii') {
      // Immediates below and above 2^31 (as unsigned), never 0 or -1 (divisors): the
      // immediate form where there is one (FastOp.immediate + code), else the constant
      // goes to a slot first.
      const ops = [code, FastOp.immediate + code];
      out.push({ ops, code: [...lg(a), ...c32(9), ...op(code), ...ls(RESULT[result])] });
      out.push({ ops, code: [...lg(a), ...c32(0x80000009 | 0), ...op(code), ...ls(RESULT[result])] });
    }
  }
  return out;
}

/** Every load and store, at address 0 (plus an offset) of the module's memory. */
function memorySnippets(): Snippet[] {
  const out: Snippet[] = [];
  for (let code = 0x28; code <= 0x3e; code++) {
    const [params, result] = OPS[code]!.sig!.split('>');
    if (result !== '') out.push({ ops: [code], code: [...lg(Z), ...op(code), ...memArg(8), ...ls(RESULT[result])] });
    else out.push({ ops: [code], code: [...lg(Z), ...lg(OPERANDS[params[1]][0]), ...op(code), ...memArg(32)] });
  }
  return out;
}

/**
 * The i32 compare-and-branch forms (register and immediate right operand) and the plain
 * conditional branches. Operands differ by pass so that each branch is taken in one pass
 * and not in another: (C, ZERO) for equality, (C, N) and (V, 1) signed, (U, N) and (U, 1)
 * unsigned.
 */
function branchSnippets(): Snippet[] {
  const out: Snippet[] = [];
  const branch = (cond: number[]): number[] => block([...cond, 0x0d, 0]);
  for (let cmp = 0x46; cmp <= 0x4f; cmp++) {
    const equality = cmp <= 0x47;
    const unsigned = !equality && (cmp & 1) === 1;
    const reg = [FastOp.brCmpBase + cmp - 0x46], imm = [FastOp.brCmpImmBase + cmp - 0x46];
    if (equality) {
      out.push({ ops: reg, code: branch([...lg(C), ...lg(ZERO), cmp]) });
      out.push({ ops: imm, code: branch([...lg(C), ...c32(0), cmp]) });
    } else if (unsigned) {
      out.push({ ops: reg, code: branch([...lg(U), ...lg(N), cmp]) });
      out.push({ ops: imm, code: branch([...lg(U), ...c32(1), cmp]) });
      out.push({ ops: imm, code: branch([...lg(U), ...c32(0x80000000 | 0), cmp]) });
    } else {
      out.push({ ops: reg, code: branch([...lg(C), ...lg(N), cmp]) });
      out.push({ ops: imm, code: branch([...lg(V), ...c32(1), cmp]) });
    }
  }
  out.push({ ops: [FastOp.brNz], code: branch([...lg(C)]) });
  out.push({ ops: [FastOp.brZ], code: branch([...lg(C), 0x45]) }); // eqz + br_if
  out.push({ ops: [FastOp.brZ], code: [...lg(C), 0x04, 0x40, ...c32(1), ...ls(D), END] }); // if
  // br inside if: a jump; if/else with a result: value moves, then a jump.
  out.push({ ops: [FastOp.jump], code: block([...lg(C), 0x04, 0x40, 0x0c, 1, END]) });
  out.push({ ops: [FastOp.jump, FastOp.copy], code: [...lg(C), 0x04, i32, ...lg(A), 0x05, ...lg(B), END, ...ls(D)] });
  // br_if carrying a value over an extra one (IrOp.brIf: moves, then a jump).
  out.push({ ops: [FastOp.brZ, FastOp.copy], code: [0x02, i32, ...c32(1), ...lg(A), ...lg(C), 0x0d, 0, 0x1a, 0x1a, ...lg(B), END, ...ls(D)] });
  // A loop of two rounds: a backward branch taken once, not taken once.
  out.push({ ops: [FastOp.brCmpImmBase + 2], code: [...c32(0), ...ls(I), 0x03, 0x40, ...lg(I), ...c32(1), 0x6a, ...ls(I), ...lg(I), ...c32(2), 0x48, 0x0d, 0, END] });
  // br_table: index 0, 1, and 5 (past the end: the default).
  out.push({ ops: [FastOp.brTable], code: block(block(block([...lg(T), 0x0e, ...wasmVec([[0], [1]]), 2]))) });
  return out;
}

/** Everything else: selects, globals, calls of every kind, the rare instructions the exact code runs, a SIMD one. */
function otherSnippets(): Snippet[] {
  return [
    { ops: [FastOp.select], code: [...lg(A), ...lg(B), ...lg(C), 0x1b, ...ls(D)] },
    { ops: [FastOp.select], code: [...lg(R), ...lg(S), ...lg(C), 0x1b, ...ls(RD)] },
    { ops: [FastOp.const32], code: [...c32(7), ...ls(D)] },
    { ops: [FastOp.copy], code: [...lg(A), ...ls(E)] },
    { ops: [FastOp.globalGet, FastOp.globalSet], code: [0x23, 0, ...ls(D), ...lg(A), 0x24, 0] },
    { ops: [FastOp.globalGet, FastOp.globalSet], code: [0x23, 1, ...ls(XD), ...lg(X), 0x24, 1] },
    { ops: [FastOp.call, FastOp.return], code: [...lg(A), ...lg(B), 0x10, ADD2, ...ls(D)] },
    { ops: [FastOp.callIndirect], code: [...lg(A), ...lg(B), ...lg(C), 0x11, T_II_I, 0, ...ls(D)] },
    { ops: [FastOp.call], code: [...lg(A), 0x10, ECHO, ...ls(D)] }, // a host function
    { ops: [FastOp.tailCall], code: [...lg(A), ...lg(B), 0x10, TAIL2, ...ls(D)] },
    { ops: [FastOp.return], code: [...lg(A), ...lg(C), 0x10, RET_IF, ...ls(D)] },
    { ops: [FastOp.exact1], code: [0x3f, 0, ...ls(D)] },
    { ops: [FastOp.exact1], code: [...c32(0), 0x40, 0, ...ls(D)] },
    { ops: [FastOp.exact1], code: [...c32(64), ...lg(ZERO), ...c32(8), 0xfc, 11, 0] },
    { ops: [FastOp.exact1], code: [...c32(72), ...lg(Z), ...c32(8), 0xfc, 10, 0, 0] },
    { ops: [FastOp.exact1], code: [0xfc, 16, 0, ...ls(D)] },
    { ops: [FastOp.simd], code: [...lg(VV), ...lg(VV), 0xfd, ...uleb(0xae), ...ls(VV)] },
  ];
}

/** Sample instructions for each part of a fused instruction (`FUSED`); a branch part comes last. */
const PART: Record<number, number[]> = {
  0x176: [...lg(A), ...c32(3), 0x76, ...ls(D)],
  0x171: [...lg(A), ...c32(0xff), 0x71, ...ls(E)],
  0x173: [...lg(A), ...c32(0x55), 0x73, ...ls(D)],
  0x16a: [...lg(A), ...c32(9), 0x6a, ...ls(E)],
  0x174: [...lg(A), ...c32(2), 0x74, ...ls(D)],
  0x6a: [...lg(A), ...lg(B), 0x6a, ...ls(D)],
  0x6c: [...lg(A), ...lg(B), 0x6c, ...ls(E)],
  0x73: [...lg(A), ...lg(B), 0x73, ...ls(D)],
  0x4a: [...lg(A), ...lg(B), 0x4a, ...ls(E)],
  0xd5: [...c32(7), ...ls(D)],
  0xd4: [...lg(A), ...ls(E)],
  0xd7: [...lg(A), ...lg(B), ...lg(C), 0x1b, ...ls(D)],
  0x28: [...lg(Z), 0x28, ...memArg(8), ...ls(D)],
  0x2d: [...lg(Z), 0x2d, ...memArg(9), ...ls(E)],
  0x2e: [...lg(Z), 0x2e, ...memArg(10), ...ls(D)],
  0x2f: [...lg(Z), 0x2f, ...memArg(12), ...ls(E)],
  0x36: [...lg(Z), ...lg(A), 0x36, ...memArg(32)],
  0xd3: [...lg(C), 0x0d, 0],
  0xd2: [...lg(C), 0x45, 0x0d, 0],
  0xe0: [...lg(C), ...lg(ZERO), 0x46, 0x0d, 0],
  0xe1: [...lg(C), ...lg(ZERO), 0x47, 0x0d, 0],
  0xeb: [...lg(C), ...c32(0), 0x47, 0x0d, 0],
};

/** One snippet per fused instruction: its parts in a row, in a block for the branches to leave. */
function fusedSnippets(): Snippet[] {
  return FUSED.map((f) => {
    const parts = f.slice(0, -1).map((code) => {
      const part = PART[code];
      if (part === undefined) throw new Error(`internal error: the priming module has no sample for fused part 0x${code.toString(16)}`);
      return part;
    });
    return { ops: [f[f.length - 1]], code: block(parts.flat()), parts: f.slice(0, -1) };
  });
}

/** Loads each input from the pass's row: BASE = ROWS_AT + pass * ROW_SIZE (the offset in the memarg). */
function loadInputs(): number[] {
  const out = [...lg(PASS), ...c32(ROW_SIZE), 0x6c, ...ls(BASE)];
  let at = 0;
  for (const [local, type] of INPUTS[0]) {
    const load = type === i32 ? 0x28 : type === i64 ? 0x29 : type === f32 ? 0x2a : 0x2b;
    out.push(...lg(BASE), load, ...memArg(ROWS_AT + at), ...ls(local));
    at += type === i32 || type === f32 ? 4 : 8;
  }
  return out;
}

/** The rows of inputs, as the data segment's bytes. */
function inputRows(): Uint8Array {
  const bytes = new Uint8Array(PRIMING_PASSES * ROW_SIZE);
  const view = new DataView(bytes.buffer);
  INPUTS.forEach((row, pass) => {
    let at = pass * ROW_SIZE;
    for (const [, type, value] of row) {
      if (type === i32) view.setInt32(at, value as number, true);
      else if (type === i64) view.setBigInt64(at, value as bigint, true);
      else if (type === f32) view.setFloat32(at, value as number, true);
      else view.setFloat64(at, value as number, true);
      at += type === i32 || type === f32 ? 4 : 8;
    }
  });
  return bytes;
}

function body(locals: readonly [number, number][], code: readonly number[]): number[] {
  const content = wasmVec(locals.map(([n, t]) => [...uleb(n), t]));
  content.push(...code);
  const out = uleb(content.length);
  out.push(...content);
  return out;
}

/**
 * The priming module's bytes (see above); exports `main`. With `fastOps`, `main` runs
 * only the pieces for those fast opcodes (those of the program to be primed for);
 * without, all of them.
 */
export function primingModuleBytes(fastOps?: ReadonlySet<number>): Uint8Array {
  const snippets = [...numericSnippets(), ...memorySnippets(), ...branchSnippets(), ...otherSnippets(), ...fusedSnippets()];
  const mainCode = loadInputs();
  for (const snippet of snippets) {
    const used = fastOps === undefined || snippet.ops.some((o) => fastOps.has(o)) || (snippet.parts?.every((o) => fastOps.has(o)) ?? false);
    if (used) mainCode.push(...snippet.code, ...SEPARATOR);
  }
  mainCode.push(...lg(D), END);
  const types = [[0x60, ...wasmVec([[i32]]), ...wasmVec([[i32]])], [0x60, ...wasmVec([[i32], [i32]]), ...wasmVec([[i32]])]];
  const codes = [
    body([], [...lg(0), ...lg(1), 0x6a, END]), // add2
    body([], [...lg(0), ...lg(1), 0x12, ADD2, END]), // tail2: return_call add2
    body([], [...lg(0), ...lg(1), 0x0d, 0, 0x1a, ...c32(3), END]), // retIf: br_if to the function's label
    body(MAIN_LOCALS, mainCode),
  ];
  const rows = inputRows();
  const sections = [
    WASM_HEADER,
    wasmSection(1, wasmVec(types)),
    wasmSection(2, wasmVec([[...wasmName('env'), ...wasmName('echo'), 0x00, T_I_I]])),
    wasmSection(3, wasmVec([[T_II_I], [T_II_I], [T_II_I], [T_I_I]])),
    wasmSection(4, wasmVec([[funcref, 0x00, 2]])),
    wasmSection(5, wasmVec([[0x00, 1]])),
    wasmSection(6, wasmVec([[i32, 1, ...c32(0), END], [i64, 1, ...c64(0n), END]])),
    wasmSection(7, wasmVec([[...wasmName('main'), 0x00, MAIN]])),
    wasmSection(9, wasmVec([[0x00, ...c32(0), END, ...wasmVec([[ADD2], [ADD2]])]])),
    wasmSection(10, wasmVec(codes)),
    wasmSection(11, wasmVec([[0x00, ...c32(ROWS_AT), END, ...uleb(rows.length), ...Array.from(rows)]])),
  ];
  const bytes = new Uint8Array(sections.reduce((n, s) => n + s.length, 0));
  let at = 0;
  for (const s of sections) {
    bytes.set(s, at);
    at += s.length;
  }
  return bytes;
}
