/**
 * Loading modules, in browser builds (this file replaces `load.ts` there): from bytes
 * only; a page has no files (fetch the bytes, then `loadModule`).
 */
import { decodeModule } from '../binary/index.ts';
import { compileModule } from '../compile/index.ts';
import type { CompiledModule } from '../compile/index.ts';
import { UsageError } from '../errors/index.ts';

/** Decodes, validates and compiles a module from its bytes. */
export function loadModule(bytes: Uint8Array): CompiledModule {
  return compileModule(decodeModule(bytes));
}

/** Refuses: no files in a browser. */
export function loadModuleFile(path: string): CompiledModule {
  throw new UsageError(`${path}: a browser has no files to load modules from (fetch the bytes, then loadModule)`);
}
