import { ValType } from '../../src/wasm/types.ts';
import { ModuleBuilder } from './module-builder.ts';

/**
 * A module that decodes but is not valid: function 0, exported as `ok`, returns
 * `i32.const 7`; function 1, which nothing calls, returns `i64.const 7` for its i32
 * result (a type mismatch at its `end`). V8 refuses it as our validator does.
 */
export function invalidBodyModule(): Uint8Array {
  const b = new ModuleBuilder();
  const t = b.type([], [ValType.i32]);
  const ok = b.func(t, [0x41, 7, 0x0b]);
  b.func(t, [0x42, 7, 0x0b]);
  b.export('ok', 'func', ok);
  return b.build();
}
