/**
 * The one place where the native tier (src/native) plugs into `wasmig bench`.
 *
 * When the tier exists: make `nativeUnavailable` return undefined and `runNative` run
 * the module's `_start` on it with WASI (argv = `args`, stdout = this process's fd 1),
 * returning the exit status. `runNative` is called in the bench child process
 * (`child.ts`), one process per engine, exactly as the interpreter is.
 */
import type { CompiledModule } from '../compile/index.ts';

/** Why the native tier cannot run here, or undefined when it can. */
export function nativeUnavailable(): string | undefined {
  return 'native tier not built';
}

/** Runs a WASI command on the native tier; returns its exit status. */
export async function runNative(compiled: CompiledModule, args: readonly string[]): Promise<number> {
  void compiled;
  void args;
  throw new Error(nativeUnavailable() ?? 'native tier not wired into the benchmark');
}
