/**
 * The thread record keeps one layout (V8 map) for a program's whole run: a run that
 * passes 2^31 instructions (2.4 s of CoreMark on a warm interpreter) must not change it,
 * or V8 throws away the compiled run loops and compiles them again (docs/interpreter-warm-up.md).
 */
import { setFlagsFromString } from 'node:v8';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createStoreState, createThread } from '../../src/exec/index.ts';

// V8's own test helper, on for this process only: whether two objects share a map.
setFlagsFromString('--allow-natives-syntax');
const haveSameMap = new Function('a', 'b', 'return %HaveSameMap(a, b)') as (a: object, b: object) => boolean;

test('a thread whose instruction count passes 2^31 keeps the layout of a fresh one', () => {
  const fresh = createThread(createStoreState());
  const long = createThread(createStoreState());
  assert.ok(haveSameMap(fresh, long));
  long.instructions += 2 ** 31 + 5;
  assert.is(long.instructions, 2 ** 31 + 5);
  assert.ok(haveSameMap(fresh, long), 'the count became a double and the thread changed its map');
  assert.is(fresh.instructions, 0);
});

test.run();
