/**
 * Host values behind externrefs: their ids live in the store that holds them
 * (`StoreState.externIds`), so a value keeps its id within a store and two stores
 * number their values independently.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createStoreState } from '../../src/exec/index.ts';
import { bitsToJs, externId, jsToBits } from '../../src/runtime/index.ts';
import { ValType } from '../../src/wasm/types.ts';

test('a host value keeps its id in its store, and the store holds the table of ids', () => {
  const store = createStoreState();
  const a = { name: 'a' }, b = { name: 'b' };
  assert.is(externId(store, a), 0);
  assert.is(externId(store, b), 1);
  assert.is(externId(store, a), 0);
  assert.equal(store.externs, [a, b]);
  assert.is(store.externIds.get(b), 1);
});

test('two stores number the same value independently', () => {
  const first = createStoreState(), second = createStoreState();
  const shared = Symbol('shared');
  externId(first, 'something else');
  assert.is(externId(first, shared), 1);
  assert.is(externId(second, shared), 0);
});

test('an externref goes to bits and back as the same host value', () => {
  const store = createStoreState();
  const value = { deep: [1, 2, 3] };
  const out = new Int32Array(2);
  jsToBits(store, ValType.externref, value, out, 0);
  assert.is(bitsToJs(store, ValType.externref, out[0], out[1]), value);
  jsToBits(store, ValType.externref, null, out, 0);
  assert.is(bitsToJs(store, ValType.externref, out[0], out[1]), null);
});

test.run();
