/**
 * Loading modules, in browser builds (this file replaces `load.ts` there): from bytes
 * only; a page has no files (fetch the bytes, then `loadModule`).
 */
import { decodeModule } from '../binary/index.ts';
import { compileModule } from '../compile/index.ts';
import type { BodyFacts, CompiledModule } from '../compile/index.ts';
import { UsageError } from '../errors/index.ts';
import type { Module } from '../wasm/index.ts';

/** As in `load.ts`. */
export type KnownFacts = (bytes: Uint8Array, module: Module) => BodyFacts | undefined;

/** Decodes, validates and compiles a module from its bytes (with `known`, as in `load.ts`). */
export function loadModule(bytes: Uint8Array, known?: KnownFacts): CompiledModule {
  const module = decodeModule(bytes);
  return compileModule(module, known?.(bytes, module));
}

/** Refuses: no files in a browser. */
export function loadModuleFile(path: string, _known?: KnownFacts): CompiledModule {
  throw new UsageError(`${path}: a browser has no files to load modules from (fetch the bytes, then loadModule)`);
}
