/**
 * The source's pre-copy rounds (`Precopy`): a round finds the blocks changed since the
 * last one; given the worker's count of what may have written memory, a round whose
 * count is the last round's skips the compare (nothing ran since), and any other count
 * compares again.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { memoriesOf, Precopy } from '../../src/agent/precopy-source.ts';
import { loadModule, Program } from '../../src/program/index.ts';
import { ModuleBuilder } from '../helpers/module-builder.ts';

function program(): Program {
  const b = new ModuleBuilder();
  const mem = b.memory(4);
  b.export('memory', 'memory', mem);
  return Program.instantiate(loadModule(b.build()), { tier: 'interp' });
}

test('a round with the count of the last skips the compare; another count finds the change', () => {
  const p = program();
  const precopy = new Precopy(p, undefined);
  const memory = memoriesOf(p)[0];
  memory[70_000] = 1;
  assert.is(precopy.round(1).blocks, 1, 'the first round sends what differs from the initial image');
  memory[5] = 2;
  // The contract: the same count means nothing ran, so nothing is compared (the write
  // above stands for one the count would have seen; this shows the compare is skipped).
  assert.is(precopy.round(1).blocks, 0, 'same count: no compare');
  assert.is(precopy.round(2).blocks, 1, 'a new count: the change is found');
  assert.is(precopy.round(2).blocks, 0, 'and once sent, nothing is left');
});

test('without a count every round compares', () => {
  const p = program();
  const precopy = new Precopy(p, undefined);
  const memory = memoriesOf(p)[0];
  assert.is(precopy.round().blocks, 0);
  memory[9] = 3;
  assert.is(precopy.round().blocks, 1);
});

test('the final after an unchanged count carries no blocks, and its digests still match the memory', () => {
  const p = program();
  const precopy = new Precopy(p, undefined);
  memoriesOf(p)[0][123_456] = 7;
  const first = precopy.round(4);
  assert.is(first.blocks, 1);
  const final = precopy.final(4);
  assert.is(final.blocks, 0);
  const fresh = new Precopy(p, undefined);
  const again = fresh.final();
  assert.equal(final.digests, again.digests, 'the skipped compare left the shadow equal to the memory');
});

test.run();
