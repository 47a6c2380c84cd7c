/**
 * The native tier (src/native) in `wasmig bench`: the module rewritten with safepoints,
 * run on the host's own WebAssembly engine, with wasmig's WASI. Called in the bench
 * child process (`child.ts`), one process per engine, as the interpreter is.
 */
import type { CompiledModule } from '../compile/index.ts';
import { Program } from '../program/index.ts';

/** Why the native tier cannot run here, or undefined when it can. */
export function nativeUnavailable(): string | undefined {
  return typeof WebAssembly === 'object' ? undefined : 'this host has no WebAssembly engine';
}

/** Runs a WASI command on the native tier; returns its exit status. */
export async function runNative(compiled: CompiledModule, args: readonly string[]): Promise<number> {
  const program = Program.instantiate(compiled, { args: ['coremark.wasm', ...args], tier: 'native' });
  program.start('_start');
  for (;;) {
    const outcome = program.run();
    if (outcome.kind === 'exited') return outcome.status;
    if (outcome.kind === 'returned') return 0;
  }
}
