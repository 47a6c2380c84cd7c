/**
 * A function's map of positions (`CompiledFunction.points`) agrees with the exact code
 * on what is live: every instruction the translator emitted has its pc, instructions
 * that emit nothing continue at the next one, and dead code, even in a block the
 * validator calls reachable again, has no pc at all.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeModule } from '../../src/binary/index.ts';
import { compileModule } from '../../src/compile/index.ts';
import { ValType } from '../../src/wasm/types.ts';
import { ModuleBuilder } from '../helpers/module-builder.ts';

const { i32 } = ValType;

function compiledBody(code: number[], results: ValType[] = [i32]) {
  const b = new ModuleBuilder();
  b.func(b.type([], results), code);
  const compiled = compileModule(decodeModule(b.build()));
  return { cf: compiled.functions[0]!, start: compiled.module.codes[0].codeStart, compiled };
}

// block; i32.const 1; br 0; (dead: block; i32.const 5; drop; end); end; i32.const 7; end
const BODY = [0x02, 0x40, 0x41, 1, 0x0c, 0, 0x02, 0x40, 0x41, 5, 0x1a, 0x0b, 0x0b, 0x41, 7, 0x0b];

test('every emitted instruction has its own pc, with the stack height the translator recorded', () => {
  const { cf } = compiledBody(BODY);
  const points = cf.points;
  let emitted = 0;
  for (let pc = 0; pc < cf.offsets.length; pc++) {
    if (cf.offsets[pc] < 0) continue;
    emitted++;
    assert.is(points.pcAt(cf.offsets[pc]), pc, `pc ${pc}`);
    assert.is(points.stackTypesAt(pc).length, cf.heights[pc], `height at pc ${pc}`);
  }
  assert.ok(emitted >= 4);
});

test('a block continues at its first instruction; dead code has no pc, even inside a block', () => {
  const { cf, start } = compiledBody(BODY);
  const points = cf.points;
  assert.is(points.pcAt(start + 0), points.pcAt(start + 2), 'block -> i32.const 1');
  for (const dead of [6, 8, 10, 11, 12]) assert.is(points.pcAt(start + dead), undefined, `byte ${dead} is dead`);
  assert.is(points.pcAt(start + 1), undefined, 'the middle of an instruction');
  assert.equal(Array.from(points.stackTypesAt(points.pcAt(start + 4)!)), [i32], 'br 0 sees the i32');
  assert.equal(Array.from(points.stackTypesAt(points.pcAt(start + 13)!)), [], 'i32.const 7 after the block');
  assert.equal(Array.from(points.stackTypesAt(points.pcAt(start + 15)!)), [i32], 'the final end');
});

test('the points are made once, by the function that owns them, and name their module', () => {
  const { cf, compiled } = compiledBody([0x41, 7, 0x0b]);
  assert.is(cf.points, cf.points);
  assert.is(cf.owner, compiled);
  assert.equal(cf.points.localTypes, []);
  assert.is(cf.points.previousInstruction(0), -1);
});

test.run();
