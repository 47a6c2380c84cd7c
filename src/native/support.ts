import type { CompiledModule } from '../compile/index.ts';

/**
 * Why the native tier cannot run `compiled` yet, or undefined when it can. The rewriter
 * does not save and restore v128 values at its safepoints, so a module that uses SIMD
 * runs on the interpreter: the engines fall back by themselves, the rewriter refuses it
 * with this reason, and the CLI prints it as a one-line note.
 */
export function nativeUnsupported(compiled: CompiledModule): string | undefined {
  if (compiled.simdUse === undefined) return undefined;
  return `the native tier does not run SIMD yet (${compiled.simdUse} uses v128)`;
}
