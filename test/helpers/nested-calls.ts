/**
 * A small program of compiled calls for the interpreter's slice and JavaScript-tier tests,
 * and a thread standing at the start of one of a module's exports.
 */
import type { ThreadState } from '../../src/exec/index.ts';
import type { loadModule } from '../../src/program/index.ts';
import { enterFunction, Store } from '../../src/runtime/index.ts';
import { ValType } from '../../src/wasm/types.ts';
import { assemble } from './assemble.ts';
import { ModuleBuilder } from './module-builder.ts';

const { i32 } = ValType;

/**
 * outer(n): n rounds of calling inner(round), a loop of (round & 15) + 1 turns, and adding
 * what it returns; with the JavaScript tier at once, both run compiled, and a slice mostly
 * ends inside inner, called from outer: compiled code leaves in the callee. Function 0 is
 * inner, 1 outer.
 */
export function nestedModule(): Uint8Array {
  const b = new ModuleBuilder();
  const inner = b.func(b.type([i32], [i32]), assemble(`
    local.get 0 i32.const 15 i32.and local.set 1
    loop
      local.get 2 local.get 1 i32.const 3 i32.mul i32.add local.set 2
      local.get 1 i32.const 1 i32.sub local.tee 1 i32.const 0 i32.ge_s br_if 0
    end
    local.get 2 end`), [i32, i32]);
  const outer = b.func(b.type([i32], [i32]), assemble(`
    loop
      local.get 2 local.get 1 call ${inner} i32.add i32.const 1 i32.rotl local.set 2
      local.get 1 i32.const 1 i32.add local.tee 1 local.get 0 i32.lt_u br_if 0
    end
    local.get 2 end`), [i32, i32]);
  b.export('outer', 'func', outer);
  return b.build();
}

/** A thread standing at the start of export `name` of `module`, called with `arg`, in a store with `jsAfter`. */
export function enter(module: ReturnType<typeof loadModule>, name: string, arg: number, jsAfter?: number): ThreadState {
  const store = new Store(jsAfter === undefined ? {} : { jsAfter });
  const addr = store.instantiate(module).exports.get(name)!.addr;
  const t = store.thread;
  t.s32[2 * t.sp] = arg;
  t.sp++;
  enterFunction(t, addr);
  return t;
}
