/**
 * Golden tests of the translators: small functions, written with opcode names, whose
 * translated code is printed (test/helpers/disassemble.ts) and compared with the text the
 * test keeps. To see what a changed translator now produces, run the test with
 * `WASMIG_GOLDEN_PRINT=1`: each case's code is printed as it is, ready to be read and,
 * when it is right, pasted in.
 */
import * as assert from 'uvu/assert';
import { decodeModule } from '../../src/binary/index.ts';
import { compileModule } from '../../src/compile/index.ts';
import type { CompiledFunction } from '../../src/compile/index.ts';
import { ValType } from '../../src/wasm/types.ts';
import type { ValType as ValTypeT } from '../../src/wasm/types.ts';
import { assemble } from './assemble.ts';
import { ModuleBuilder } from './module-builder.ts';

/** One function to translate. */
export interface GoldenCase {
  name: string;
  params?: ValTypeT[];
  results?: ValTypeT[];
  locals?: ValTypeT[];
  /** The body with opcode names, its final `end` included. */
  body: string;
  /** The translated code as the disassembler prints it. */
  expected: string;
}

/**
 * The function of `c` compiled in a module that gives every instruction family something
 * to act on: function 0 is `(i32) -> i32` (its type is type 0, for call and
 * call_indirect), function 1 the case's; table 0 (funcref, 4 entries), memory 0 (1 page),
 * global 0 (mutable i32), passive element segment 0 (function 0) and data segment 0 ("abc").
 */
export function compileCase(c: GoldenCase): CompiledFunction {
  const b = new ModuleBuilder();
  const calleeType = b.type([ValType.i32], [ValType.i32]);
  const type = b.type(c.params ?? [], c.results ?? []);
  b.func(calleeType, assemble('local.get 0 end'));
  b.func(type, assemble(c.body), c.locals ?? []);
  b.table(ValType.funcref, 4);
  b.memory(1);
  b.global(ValType.i32, true, assemble('i32.const 0 end'));
  b.elem({ mode: 'passive', funcs: [0] });
  b.data({ mode: 'passive', bytes: [0x61, 0x62, 0x63] });
  b.dataCount();
  return compileModule(decodeModule(b.build())).functions[1]!;
}

/** Compares a printed code with the expected text (each line's indentation and blank lines aside). */
export function assertGolden(name: string, actual: string, expected: string): void {
  if (process.env['WASMIG_GOLDEN_PRINT'] === '1') console.log(`\n--- ${name}\n${actual}\n`);
  const lines = expected.split('\n').map((line) => line.trim()).filter((line) => line.length > 0);
  assert.fixture(actual, lines.join('\n'));
}
