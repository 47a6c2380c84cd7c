/**
 * The exact code (compile/translate.ts) of small functions, one family of instructions a
 * case, against the text kept here: a change to the translator shows as a diff of named
 * instructions. Lines are `pc: name operands`; control flow is already resolved into
 * jumps (`br target base arity`, `jump target`, `br_if_jump target`, `if elseTarget`,
 * `br_table n (target base arity) x (n + 1)`, `return arity`, `br_if_return arity`).
 */
import { test } from 'uvu';
import { ValType } from '../../src/wasm/types.ts';
import { printExact } from '../helpers/disassemble.ts';
import { assertGolden, compileCase } from '../helpers/golden.ts';
import type { GoldenCase } from '../helpers/golden.ts';

const { i32, i64, f64, v128 } = ValType;

const CASES: GoldenCase[] = [
  {
    name: 'locals: get, set and tee',
    params: [i32, i32], results: [i32], locals: [i32],
    body: 'local.get 0 local.get 1 i32.add local.tee 2 local.get 2 i32.mul local.set 2 local.get 2 end',
    expected: `
      0: local.get 0
      2: local.get 1
      4: i32.add
      5: local.tee 2
      7: local.get 2
      9: i32.mul
      10: local.set 2
      12: local.get 2
      14: return 1
    `,
  },
  {
    name: 'block: br_if out of it (a nop stays)',
    params: [i32], results: [i32],
    body: 'block local.get 0 br_if 0 nop i32.const 1 local.set 0 end local.get 0 end',
    expected: `
      0: local.get 0
      2: br_if_jump 9
      4: nop
      5: i32.const 1
      7: local.set 0
      9: local.get 0
      11: return 1
    `,
  },
  {
    name: 'loop: a conditional back edge',
    params: [i32], results: [i32],
    body: 'loop local.get 0 i32.const 1 i32.sub local.tee 0 br_if 0 end local.get 0 end',
    expected: `
      0: local.get 0
      2: i32.const 1
      4: i32.sub
      5: local.tee 0
      7: br_if_jump 0
      9: local.get 0
      11: return 1
    `,
  },
  {
    name: 'if and else with a result',
    params: [i32], results: [i32],
    body: 'local.get 0 if i32 i32.const 10 else i32.const 20 end end',
    expected: `
      0: local.get 0
      2: if 8
      4: i32.const 10
      6: jump 10
      8: i32.const 20
      10: return 1
    `,
  },
  {
    name: 'block with a type index: parameters stay in place',
    params: [i32], results: [i32],
    body: 'local.get 0 block type=0 i32.const 1 i32.add end end',
    expected: `
      0: local.get 0
      2: i32.const 1
      4: i32.add
      5: return 1
    `,
  },
  {
    name: 'br carrying a value from above the label base moves it',
    results: [i32],
    body: 'block i32 i32.const 1 i32.const 2 br 0 end end',
    expected: `
      0: i32.const 1
      2: i32.const 2
      4: br 8 0 1
      8: return 1
    `,
  },
  {
    name: 'br_table: two blocks and the function label (a return)',
    params: [i32], results: [i32],
    body: 'block i32 block i32 i32.const 7 local.get 0 br_table 0 1 2 end i32.const 1 i32.add end end',
    expected: `
      0: i32.const 7
      2: local.get 0
      4: br_table 2 15 1 1 18 1 1 -2 0 1
      15: i32.const 1
      17: i32.add
      18: return 1
    `,
  },
  {
    name: 'br_if to the function label is a conditional return',
    params: [i32], results: [i32],
    body: 'i32.const 7 local.get 0 br_if 0 drop i32.const 8 end',
    expected: `
      0: i32.const 7
      2: local.get 0
      4: br_if_return 1
      6: drop
      7: i32.const 8
      9: return 1
    `,
  },
  {
    name: 'return and unreachable; dead code emits nothing',
    params: [i32], results: [i32],
    body: 'local.get 0 if i32.const 1 return end unreachable i32.const 5 drop end',
    expected: `
      0: local.get 0
      2: if 8
      4: i32.const 1
      6: return 1
      8: unreachable
      9: return 1
    `,
  },
  {
    name: 'calls: direct and indirect',
    params: [i32], results: [i32],
    body: 'local.get 0 call 0 local.get 0 call_indirect 0 0 end',
    expected: `
      0: local.get 0
      2: call 0
      4: local.get 0
      6: call_indirect 0 0
      9: return 1
    `,
  },
  {
    name: 'globals, select and typed select (which becomes select)',
    params: [i32], results: [i32],
    body: 'global.get 0 local.get 0 i32.add global.set 0 i32.const 1 i32.const 2 local.get 0 select i32.const 3 local.get 0 select_t i32 end',
    expected: `
      0: global.get 0
      2: local.get 0
      4: i32.add
      5: global.set 0
      7: i32.const 1
      9: i32.const 2
      11: local.get 0
      13: select
      14: i32.const 3
      16: local.get 0
      18: select
      19: return 1
    `,
  },
  {
    name: 'memory: loads and stores keep their offsets; size and grow',
    params: [i32], results: [i32],
    body: 'local.get 0 local.get 0 i32.load offset=8 align=2 i32.store16 offset=2 local.get 0 i64.load8_s offset=1 i64.const -5 i64.add drop memory.size memory.grow end',
    expected: `
      0: local.get 0
      2: local.get 0
      4: i32.load 8
      6: i32.store16 2
      8: local.get 0
      10: i64.load8_s 1
      12: i64.const -5 -1
      15: i64.add
      16: drop
      17: memory.size
      18: memory.grow
      19: return 1
    `,
  },
  {
    name: 'numeric: i64, f32 and f64 constants and arithmetic, conversions, saturating truncation',
    params: [f64], results: [i64],
    body: 'local.get 0 f64.const 1.5 f64.mul f32.demote_f64 f32.sqrt f32.const -0.25 f32.add i32.trunc_sat_f32_s i64.extend_i32_u i64.const 3 i64.shl i64.eqz i64.extend_i32_s i64.const 0x7fffffffffffffff i64.xor end',
    expected: `
      0: local.get 0
      2: f64.const 0 1073217536
      5: f64.mul
      6: f32.demote_f64
      7: f32.sqrt
      8: f32.const -1098907648
      10: f32.add
      11: i32.trunc_sat_f32_s
      12: i64.extend_i32_u
      13: i64.const 3 0
      16: i64.shl
      17: i64.eqz
      18: i64.extend_i32_s
      19: i64.const -1 2147483647
      22: i64.xor
      23: return 1
    `,
  },
  {
    name: 'references',
    results: [i32],
    body: 'ref.null func ref.is_null ref.func 0 ref.is_null i32.add end',
    expected: `
      0: ref.null
      1: ref.is_null
      2: ref.func 0
      4: ref.is_null
      5: i32.add
      6: return 1
    `,
  },
  {
    name: 'tables: get, set, grow, fill, copy, init, elem.drop, size',
    params: [i32], results: [i32],
    body: 'local.get 0 table.get 0 drop local.get 0 ref.func 0 table.set 0 ref.null func i32.const 1 table.grow 0 drop i32.const 0 ref.null func i32.const 1 table.fill 0 i32.const 0 i32.const 1 i32.const 1 table.copy 0 0 i32.const 0 i32.const 0 i32.const 1 table.init 0 0 elem.drop 0 table.size 0 end',
    expected: `
      0: local.get 0
      2: table.get 0
      4: drop
      5: local.get 0
      7: ref.func 0
      9: table.set 0
      11: ref.null
      12: i32.const 1
      14: table.grow 0
      16: drop
      17: i32.const 0
      19: ref.null
      20: i32.const 1
      22: table.fill 0
      24: i32.const 0
      26: i32.const 1
      28: i32.const 1
      30: table.copy 0 0
      33: i32.const 0
      35: i32.const 0
      37: i32.const 1
      39: table.init 0 0
      42: elem.drop 0
      44: table.size 0
      46: return 1
    `,
  },
  {
    name: 'bulk memory: init, data.drop, copy, fill',
    params: [i32],
    body: 'local.get 0 i32.const 0 i32.const 3 memory.init 0 data.drop 0 local.get 0 i32.const 8 i32.const 3 memory.copy local.get 0 i32.const 0 i32.const 4 memory.fill end',
    expected: `
      0: local.get 0
      2: i32.const 0
      4: i32.const 3
      6: memory.init 0
      8: data.drop 0
      10: local.get 0
      12: i32.const 8
      14: i32.const 3
      16: memory.copy
      17: local.get 0
      19: i32.const 0
      21: i32.const 4
      23: memory.fill
      24: return 0
    `,
  },
  {
    name: 'v128: locals by slot offset (i32, v128, i64, v128 at slots 0, 1, 3, 4), two-slot moves, drop and select by type, a block carrying a v128',
    params: [i32, v128], results: [i32], locals: [i64, v128],
    body: 'local.get 1 local.get 3 i32x4.add local.tee 3 drop local.get 2 drop local.get 0 i32x4.splat local.get 3 local.get 0 select local.set 3 block v128 local.get 1 br 0 end i32x4.extract_lane 2 local.get 0 i32.add end',
    expected: `
      0: v128.local.get 1
      2: v128.local.get 4
      4: i32x4.add
      5: v128.local.tee 4
      7: v128.drop
      8: local.get 3
      10: drop
      11: local.get 0
      13: i32x4.splat
      14: v128.local.get 4
      16: local.get 0
      18: v128.select
      19: v128.local.set 4
      21: v128.local.get 1
      23: jump 25
      25: i32x4.extract_lane 2
      27: local.get 0
      29: i32.add
      30: return 1
    `,
  },
];

for (const c of CASES) {
  test(c.name, () => {
    assertGolden(c.name, printExact(compileCase(c).code), c.expected);
  });
}

test.run();
