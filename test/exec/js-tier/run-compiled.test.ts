/**
 * `runCompiled`, which runs compiled functions one after another without the run loop:
 * it goes on in the callee a compiled function left in, returns into compiled callers up
 * to the outermost function, ends a slice at a starved entry as the loop would, and leaves
 * everything else to the loop at the right place.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FastOp } from '../../../src/compile/index.ts';
import { fastCode, run, RunStatus } from '../../../src/exec/index.ts';
import type { ThreadState, WasmFunctionState } from '../../../src/exec/index.ts';
import { LOOP_AT, runCompiled } from '../../../src/exec/js-tier/index.ts';
import { loadModule } from '../../../src/program/index.ts';
import { enter, nestedModule } from '../../helpers/nested-calls.ts';

const module = loadModule(nestedModule());
const ROUNDS = 400;

const fastOf = (t: ThreadState): ReturnType<typeof fastCode> => fastCode((t.store.funcs[t.funcAddr] as WasmFunctionState).compiled);

/** A thread of outer(ROUNDS), both functions compiled at once, sliced until it stands in inner (the callee). */
function standingInInner(): ThreadState {
  const t = enter(module, 'outer', ROUNDS, 0);
  const outerAddr = t.funcAddr;
  for (let slice = 0; slice < 1000; slice++) {
    assert.is(run(t, 53, true), RunStatus.yielded);
    if (t.funcAddr !== outerAddr && fastOf(t).js !== null) return t;
  }
  throw new Error('the slices never stopped in inner');
}

function whole(): ThreadState {
  const t = enter(loadModule(nestedModule()), 'outer', ROUNDS, -1);
  assert.is(run(t, 1e9), RunStatus.returned);
  return t;
}

test('from a compiled callee, through its return, on to the outermost function\'s return, with its result', () => {
  const expected = whole();
  const t = standingInInner();
  const depth = t.depth;
  const status = runCompiled(t, 1e8, -1, true, true);
  assert.ok(status >= LOOP_AT, `status ${status}`);
  const pc = status - LOOP_AT;
  assert.is(fastOf(t).code[pc], FastOp.return, 'it stops at the outermost function\'s return');
  assert.is(t.depth, depth - 1, 'the callee\'s frame was popped');
  assert.is(t.frames[3 * (t.depth - 1)], -1, 'the function it stands in is the outermost');
  // The return was charged with its block: every instruction of the run is counted.
  assert.is(t.instructions, expected.instructions);
  // `[return, n, src]`: the result waits in word src of the frame.
  const src = fastOf(t).code[pc + 2];
  assert.is(t.s32[2 * t.fp + src], expected.s32[2 * expected.fp]);
});

test('a starved entry ends a slice that may end early once it has run something, else goes to the loop', () => {
  const t = standingInInner();
  const at = { pc: t.pc, instructions: t.instructions, funcAddr: t.funcAddr };
  // Three instructions cover no stretch of compiled code.
  const first = runCompiled(t, 3, -1, true, false);
  assert.ok(first >= LOOP_AT - 1, `status ${first}`);
  assert.is(fastOf(t).exactPcAt[first - LOOP_AT], at.pc, 'the loop goes on at the same block');
  assert.equal({ pc: t.pc, instructions: t.instructions, funcAddr: t.funcAddr }, at);
  assert.is(runCompiled(t, 3, -1, true, true), RunStatus.yielded);
  assert.equal({ pc: t.pc, instructions: t.instructions, funcAddr: t.funcAddr }, at);
  // An exact run is the loop's to count out.
  assert.ok(runCompiled(t, 3, -1, false, true) >= LOOP_AT);
});

test('code that is not compiled is left to the loop where it stands', () => {
  // A module of its own: compiled code belongs to the module, whichever store compiled it.
  const t = enter(loadModule(nestedModule()), 'outer', ROUNDS, -1);
  assert.is(run(t, 20), RunStatus.yielded);
  const before = { pc: t.pc, instructions: t.instructions };
  assert.is(runCompiled(t, 1000, -1, true, true), LOOP_AT - 1);
  assert.equal({ pc: t.pc, instructions: t.instructions }, before);
});

test('slices of every size end where one run ends, with the same count', () => {
  const expected = whole();
  for (const budget of [40, 97, 1000, 12_345]) {
    const t = enter(module, 'outer', ROUNDS, 0);
    while (run(t, budget, true) === RunStatus.yielded);
    assert.is(t.instructions, expected.instructions, `sliced by ${budget}`);
    assert.is(t.s32[2 * t.fp], expected.s32[2 * expected.fp], `sliced by ${budget}`);
  }
});

test.run();
