import * as assert from 'uvu/assert';
import { Trap } from '../../src/errors/index.ts';
import { loadModule } from '../../src/program/index.ts';
import { Store } from '../../src/runtime/index.ts';

/**
 * The trap that `f(arg)` of the module `bytes` raises, run on the fast code or on the
 * exact code only (`fast`), in a store of its own (`jsAfter`: see `ThreadLimits`); fails
 * the test if it returns.
 */
export function trapOf(bytes: Uint8Array, fast: boolean, arg: number, jsAfter?: number): Trap {
  const store = new Store({ fast, jsAfter });
  const inst = store.instantiate(loadModule(bytes));
  try {
    store.invoke(inst.exports.get('f')!, [arg]);
  } catch (e) {
    assert.instance(e, Trap);
    return e as Trap;
  }
  throw new Error('no trap');
}

/** The trap that running `program` (started) raises; fails the test if it ends otherwise. */
export function trapOfRun(program: { run(): unknown }): Trap {
  try {
    program.run();
  } catch (e) {
    assert.instance(e, Trap);
    return e as Trap;
  }
  throw new Error('no trap');
}
