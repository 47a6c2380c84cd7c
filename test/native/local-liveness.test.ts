/**
 * Which locals are live where a safepoint can stand (src/native/local-liveness.ts): the
 * rewriter zeros the others on the safepoint's way out, so a local called dead here
 * must never be read before it is written again, on any path.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createInstr, decodeModule, InstructionReader } from '../../src/binary/index.ts';
import { LocalLiveness } from '../../src/native/index.ts';
import { ValType } from '../../src/wasm/types.ts';
import { assemble } from '../helpers/assemble.ts';
import { ModuleBuilder } from '../helpers/module-builder.ts';

const { i32 } = ValType;

/**
 * Function 1 of a module whose function 0 is `(i32) -> i32`: `(i32, i32) -> i32` with
 * locals 2 and 3 (i32), body `body`. Returns its liveness before every instruction and
 * the instructions' offsets, in order.
 */
function analyse(body: string): { liveness: LocalLiveness | undefined; at: number[] } {
  const b = new ModuleBuilder();
  const callee = b.type([i32], [i32]);
  b.func(callee, assemble('local.get 0 end'));
  b.func(b.type([i32, i32], [i32]), assemble(body), [i32, i32]);
  const module = decodeModule(b.build());
  const code = module.codes[1]!;
  const at: number[] = [];
  const reader = new InstructionReader(module.bytes, code.codeStart, code.codeEnd);
  const ins = createInstr();
  while (reader.pos < code.codeEnd) {
    at.push(reader.pos);
    reader.read(ins);
  }
  return { liveness: LocalLiveness.of(module.bytes, code.codeStart, code.codeEnd, 4, true), at };
}

/** The locals (0-3) live before instruction number `n` of the body. */
function liveBefore(r: { liveness: LocalLiveness | undefined; at: number[] }, n: number): number[] {
  return [0, 1, 2, 3].filter((i) => r.liveness!.isLive(r.at[n]!, i));
}

test('straight code: a local is live up to its last read, and dead where it is written before being read', () => {
  // 0 local.get 0, 1 call 0, 2 local.set 2, 3 local.get 2, 4 local.get 1, 5 i32.add, 6 end
  const r = analyse('local.get 0 call 0 local.set 2 local.get 2 local.get 1 i32.add end');
  assert.equal(liveBefore(r, 0), [0, 1]);
  assert.equal(liveBefore(r, 2), [1], 'after the call: 0 is read no more, 2 is written first');
  assert.equal(liveBefore(r, 3), [1, 2]);
  assert.equal(liveBefore(r, 6), [], 'nothing at the end');
});

test('a loop: what its body reads before writing is live at its start, carried around the back edge', () => {
  // 0 loop, 1 local.get 3, 2 local.get 0, 3 i32.add, 4 local.set 3, 5 local.get 0, 6 i32.const 1,
  // 7 i32.sub, 8 local.tee 0, 9 br_if 0, 10 end, 11 local.get 3, 12 end
  const r = analyse('loop local.get 3 local.get 0 i32.add local.set 3 local.get 0 i32.const 1 i32.sub local.tee 0 br_if 0 end local.get 3 end');
  assert.equal(liveBefore(r, 1), [0, 3]);
  assert.equal(liveBefore(r, 5), [0, 3], 'local 3 is read in the next turn, or after the loop');
  assert.equal(liveBefore(r, 9), [0, 3], 'the branch back carries what the loop start needs');
  assert.equal(liveBefore(r, 11), [3]);
});

test('if and else: a local read in either arm is live before the if; a branch out skips a read', () => {
  // 0 local.get 0, 1 if, 2 local.get 1, 3 local.set 2, 4 else, 5 local.get 3, 6 local.set 2, 7 end,
  // 8 block, 9 local.get 2, 10 br_if 0, 11 local.get 1, 12 local.set 2, 13 end, 14 local.get 2, 15 end
  const r = analyse('local.get 0 if local.get 1 local.set 2 else local.get 3 local.set 2 end block local.get 2 br_if 0 local.get 1 local.set 2 end local.get 2 end');
  assert.equal(liveBefore(r, 0), [0, 1, 3]);
  assert.equal(liveBefore(r, 2), [1], 'the then-arm reads 1 only');
  assert.equal(liveBefore(r, 5), [1, 3], 'the else-arm reads 3, and 1 after the if');
  assert.equal(liveBefore(r, 8), [1, 2]);
  assert.equal(liveBefore(r, 11), [1], 'past the br_if, 2 is written before it is read');
});

test('br_table and return: each target\'s live set, nothing after a return', () => {
  // 0 block, 1 block, 2 local.get 0, 3 br_table 0 1, 4 end, 5 local.get 2, 6 return, 7 end, 8 local.get 3, 9 end
  const r = analyse('block block local.get 0 br_table 0 1 end local.get 2 return end local.get 3 end');
  assert.equal(liveBefore(r, 3), [2, 3], 'either target');
  assert.equal(liveBefore(r, 5), [2]);
  assert.equal(liveBefore(r, 8), [3]);
});

test('a body with exception handling is not analysed: every local counts as live', () => {
  const b = new ModuleBuilder();
  const t = b.type([], []);
  b.tag(t);
  b.func(b.type([i32, i32], [i32]), assemble('try local.get 0 drop catch 0 end local.get 1 end'), [i32, i32]);
  const module = decodeModule(b.build());
  const code = module.codes[0]!;
  assert.is(LocalLiveness.of(module.bytes, code.codeStart, code.codeEnd, 4), undefined);
});

test.run();
