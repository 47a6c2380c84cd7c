/**
 * The fast code (compile/translate-fast.ts) of small functions against the text kept
 * here: lazy locals and constants, immediates, compare-and-branch, value moves through
 * stubs, calls, the rare instructions left to the exact code, and fused instructions.
 * Lines are `pc: name operands`, operands as the words the code holds: slots as word
 * offsets from the frame pointer (2 x slot), branch targets as the fast pc of the target
 * block's `fuel` followed by its cost, `fuel cost exactPc`; a fused instruction is printed
 * as `name[part | part ...]`.
 */
import { test } from 'uvu';
import { translateFast } from '../../src/compile/index.ts';
import { ValType } from '../../src/wasm/types.ts';
import { printFast } from '../helpers/disassemble.ts';
import { assertGolden, compileCase } from '../helpers/golden.ts';
import type { GoldenCase } from '../helpers/golden.ts';

const { i32, i64, v128 } = ValType;

const CASES: GoldenCase[] = [
  {
    name: 'locals and constants fold into their users; local.set retargets the producer',
    params: [i32, i32], results: [i32], locals: [i32],
    body: 'local.get 0 local.get 1 i32.add local.set 2 local.get 2 i32.const 5 i32.mul end',
    expected: `
      0: fuel 8 0
      3: i32.add 4 0 2
      7: i32.mul+imm 6 4 5
      11: return 1 6
    `,
  },
  {
    name: 'a loop: compare with a constant fuses into its branch',
    params: [i32], results: [i32],
    body: 'loop local.get 0 i32.const 1 i32.sub local.tee 0 i32.const 10 i32.gt_s br_if 0 end local.get 0 end',
    expected: `
      0: fuel 7 0
      3: i32.sub+imm 0 0 1
      7: br_if.i32.gt_s+imm 0 10 0 7
      12: fuel 2 12
      15: copy 2 0
      18: return 1 2
    `,
  },
  {
    name: 'eqz before br_if and a plain if: branches on zero and non-zero',
    params: [i32], results: [i32],
    body: 'block local.get 0 i32.eqz br_if 0 end local.get 0 if i32 i32.const 1 else i32.const 2 end end',
    expected: `
      0: fuel 3 0
      3: brZ 0 7 2
      7: fuel 2 5
      10: brZ 0 23 1
      14: fuel 2 9
      17: const32 2 1
      20: jump 29 1
      23: fuel 1 13
      26: const32 2 2
      29: fuel 1 15
      32: return 1 2
    `,
  },
  {
    name: 'br carrying a value: a copy, then the jump',
    results: [i32],
    body: 'block i32 i32.const 1 i32.const 2 br 0 end end',
    expected: `
      0: fuel 3 0
      3: const32Const32[const32 0 1 | const32 2 2]
      9: copy 0 2
      12: jump 15 1
      15: fuel 1 8
      18: return 1 0
    `,
  },
  {
    name: 'br_if that moves values: a free fuel stub with the copies',
    params: [i32], results: [i32],
    body: 'block i32 i32.const 1 i32.const 2 local.get 0 br_if 0 drop end end',
    expected: `
      0: fuel 4 0
      3: const32Const32[const32 2 1 | const32 4 2]
      9: brZ 0 22 1
      13: fuel 0 6
      16: copy 2 4
      19: jump 25 1
      22: fuel 1 10
      25: fuel 1 11
      28: return 1 2
    `,
  },
  {
    name: 'br_table: entries that move values or return get stubs',
    params: [i32], results: [i32],
    body: 'block i32 block i32 i32.const 7 local.get 0 br_table 0 1 2 end i32.const 1 i32.add end end',
    expected: `
      0: fuel 3 0
      3: const32 2 7
      6: brTable 0 2 18 25 12
      12: fuel 0 4
      15: return 1 2
      18: fuel 2 15
      21: i32.add+imm 2 2 1
      25: fuel 1 18
      28: return 1 2
    `,
  },
  {
    name: 'br_if to the function label: a branch over a return',
    params: [i32], results: [i32],
    body: 'i32.const 7 local.get 0 br_if 0 drop i32.const 8 end',
    expected: `
      0: fuel 3 0
      3: const32 2 7
      6: brZ 0 16 3
      10: fuel 0 4
      13: return 1 2
      16: fuel 3 6
      19: const32 2 8
      22: return 1 2
    `,
  },
  {
    name: 'calls end blocks',
    params: [i32], results: [i32],
    body: 'local.get 0 call 0 local.get 0 call_indirect 0 0 end',
    expected: `
      0: fuel 2 0
      3: copy 2 0
      6: call 0 2 4
      10: fuel 2 4
      13: copy 4 0
      16: callIndirect 0 0 4 2 9
      22: fuel 1 9
      25: return 1 2
    `,
  },
  {
    name: 'rare instructions run in the exact code',
    params: [i32], results: [i32],
    body: 'i32.const 1 memory.grow drop local.get 0 table.get 0 ref.is_null end',
    expected: `
      0: fuel 7 0
      3: const32 2 1
      6: exact1 2 2
      9: copy 2 0
      12: exact1 6 2
      15: exact1 8 2
      18: return 1 2
    `,
  },
  {
    name: 'unreachable',
    params: [i32], results: [i32],
    body: 'local.get 0 if unreachable end i32.const 0 end',
    expected: `
      0: fuel 2 0
      3: brZ 0 11 2
      7: fuel 1 4
      10: unreachable
      11: fuel 2 5
      14: const32 2 0
      17: return 1 2
    `,
  },
  {
    name: 'globals, select, i64 and f64 constants',
    params: [i32], results: [i64],
    body: 'global.get 0 local.get 0 i32.add global.set 0 i64.const 5 i64.const 6 local.get 0 select f64.const 2.5 f64.const 1 f64.add drop end',
    expected: `
      0: fuel 13 0
      3: globalGet 2 0
      6: i32.add 2 2 0
      10: globalSet 0 2
      13: const64 2 5 0
      17: const64 4 6 0
      21: select 2 2 4 0
      26: const64 4 0 1074003968
      30: const64 6 0 1072693248
      34: f64.add 4 4 6
      38: return 1 2
    `,
  },
  {
    name: 'unary operations and conversions',
    params: [i32], results: [i64],
    body: 'local.get 0 f64.convert_i32_s f64.sqrt i64.trunc_sat_f64_s end',
    expected: `
      0: fuel 5 0
      3: f64.convert_i32_s 2 0
      6: f64.sqrt 2 2
      9: i64.trunc_sat_f64_s 2 2
      12: return 1 2
    `,
  },
  {
    name: 'fused pair: load then store',
    params: [i32],
    body: 'local.get 0 local.get 0 i32.load offset=4 i32.store offset=8 end',
    expected: `
      0: fuel 5 0
      3: load32Store32[i32.load 4 0 4 | i32.store 0 4 8]
      11: return 0 2
    `,
  },
  {
    name: 'fused triple: add, add, add an immediate',
    params: [i32, i32, i32], results: [i32],
    body: 'local.get 0 local.get 1 i32.add local.get 2 i32.add i32.const 3 i32.add end',
    expected: `
      0: fuel 8 0
      3: addAddAddImm[i32.add 6 0 2 | i32.add 6 6 4 | i32.add+imm 6 6 3]
      15: return 1 6
    `,
  },
  {
    name: 'fused pair: load8_u then a branch on it',
    params: [i32], results: [i32],
    body: 'block local.get 0 i32.load8_u br_if 0 end i32.const 1 end',
    expected: `
      0: fuel 3 0
      3: load8UBrNz[i32.load8_u 2 0 0 | brNz 2 11 2]
      11: fuel 2 6
      14: const32 2 1
      17: return 1 2
    `,
  },
  {
    name: 'v128: every SIMD instruction and v128 move is one simd instruction (exact pc, stack slot) with its operands materialized',
    params: [i32, v128], results: [i32], locals: [i64, v128],
    body: 'local.get 1 local.get 3 i32x4.add local.tee 3 drop local.get 2 drop local.get 0 i32x4.splat local.get 3 local.get 0 select local.set 3 block v128 local.get 1 br 0 end i32x4.extract_lane 2 local.get 0 i32.add end',
    expected: `
      0: fuel 15 0
      3: simd 0 6
      6: simd 2 8
      9: simd 4 10
      12: simd 5 8
      15: simd 7 8
      18: copy 12 0
      21: simd 13 7
      24: simd 14 8
      27: copy 20 0
      30: simd 18 11
      33: simd 19 8
      36: simd 21 6
      39: jump 42 4
      42: fuel 4 25
      45: simd 25 8
      48: i32.add 12 12 0
      52: return 1 12
    `,
  },
];

for (const c of CASES) {
  test(c.name, () => {
    const fn = compileCase(c);
    assertGolden(c.name, printFast(translateFast(fn, fn.sigs).code), c.expected);
  });
}

test.run();
