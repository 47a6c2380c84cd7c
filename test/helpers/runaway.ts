/**
 * A WASI command whose `_start` calls itself forever: the call-stack exhaustion trap
 * (status 134), on the CLI, as an agent job, and in the benchmarks that compare them.
 */
import { ModuleBuilder } from './module-builder.ts';

export function runawayModule(): Uint8Array {
  const b = new ModuleBuilder();
  const f = b.func(b.type([], []), [0x10, 0, 0x0b]);
  b.memory(1);
  b.export('_start', 'func', f);
  b.export('memory', 'memory', 0);
  return b.build();
}
