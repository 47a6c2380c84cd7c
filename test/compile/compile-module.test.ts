/**
 * `compileModule` validates every body when the module loads but translates each one only
 * when it is first needed.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeModule } from '../../src/binary/index.ts';
import { compileModule, translateFunction } from '../../src/compile/index.ts';
import { ValidationError } from '../../src/errors/index.ts';
import { Store } from '../../src/runtime/index.ts';
import { ValType } from '../../src/wasm/types.ts';
import { invalidBodyModule } from '../helpers/invalid-module.ts';
import { ModuleBuilder } from '../helpers/module-builder.ts';

const { i32 } = ValType;

test('an invalid body fails the load, even in a function nothing calls', () => {
  assert.throws(() => compileModule(decodeModule(invalidBodyModule())), (e: unknown) => e instanceof ValidationError);
});

test('lazily translated functions run, and equal the eager translation', () => {
  const b = new ModuleBuilder();
  const t = b.type([i32], [i32]);
  // (local i32) block: local.get 0, local.tee 1, i32.const 3, i32.mul, br_if-free body
  const f = b.func(t, [0x20, 0, 0x22, 1, 0x41, 3, 0x6c, 0x20, 1, 0x6a, 0x0b], [i32]);
  b.export('f', 'func', f);
  const compiled = compileModule(decodeModule(b.build()));
  const eager = translateFunction(compiled, 0);
  const lazy = compiled.functions[0]!;
  assert.is(lazy.frameSize, eager.frameSize);
  assert.equal(Array.from(lazy.code), Array.from(eager.code));
  assert.equal(Array.from(lazy.offsets), Array.from(eager.offsets));
  assert.equal(Array.from(lazy.heights), Array.from(eager.heights));
  const store = new Store();
  const inst = store.instantiate(compileModule(decodeModule(b.build())));
  assert.equal(store.invoke(inst.exports.get('f')!, [5]), [20]);
});

test.run();
