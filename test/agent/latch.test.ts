import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Latch } from '../../src/agent/latch.ts';

const s = suite('latch');

s('wakes every waiter once, in the same turn as set, and later ones at once', () => {
  const latch = new Latch();
  const woken: string[] = [];
  latch.onSet(() => woken.push('a'));
  const undoB = latch.onSet(() => woken.push('b'));
  latch.onSet(() => woken.push('c'));
  undoB();
  assert.not.ok(latch.isSet);
  assert.equal(woken, []);
  latch.set();
  assert.ok(latch.isSet);
  assert.equal(woken, ['a', 'c']);
  latch.set();
  assert.equal(woken, ['a', 'c'], 'set twice wakes nobody again');
  latch.onSet(() => woken.push('d'));
  assert.equal(woken, ['a', 'c', 'd'], 'a waiter after the set is woken at once');
});

s.run();
