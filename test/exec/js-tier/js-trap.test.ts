/**
 * Which errors caught around compiled code are the code's own memory accesses past the
 * end: the DataView's RangeError, for reads and writes alike, and nothing else (a stack
 * overflow is a RangeError too, and must go on up as what it is).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isFault } from '../../../src/exec/js-tier/js-trap.ts';
import { Trap } from '../../../src/errors/index.ts';

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (error) {
    return error;
  }
  throw new Error('nothing thrown');
}

test('a DataView read or write past its end is a fault', () => {
  const view = new DataView(new ArrayBuffer(16));
  assert.ok(isFault(thrown(() => view.getInt32(13, true))));
  assert.ok(isFault(thrown(() => view.setInt16(15, 1, true))));
  assert.ok(isFault(thrown(() => view.getUint8(2 ** 32 + 3))));
});

test('a stack overflow, another RangeError or a trap is not', () => {
  const deep = (n: number): number => deep(n + 1) + 1;
  const overflow = thrown(() => deep(0));
  assert.instance(overflow, RangeError);
  assert.not.ok(isFault(overflow));
  assert.not.ok(isFault(thrown(() => new Array(-1))));
  assert.not.ok(isFault(new Trap('out of bounds memory access')));
  assert.not.ok(isFault(undefined));
});

test.run();
