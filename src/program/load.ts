import { readFileSync } from 'node:fs';
import { decodeModule } from '../binary/index.ts';
import { compileModule } from '../compile/index.ts';
import type { BodyFacts, CompiledModule } from '../compile/index.ts';
import { DecodeError, UnsupportedError, UsageError, ValidationError, WasmigError } from '../errors/index.ts';
import type { Module } from '../wasm/index.ts';

/**
 * Where a loader may learn that a module's bodies were validated before, and what that
 * found (e.g. `NativeEngine.knownFacts`: the disk cache keeps it beside a rewrite; a
 * plain engine also counts the host engine's validation of a module it runs as it is).
 * Given the bytes and the module decoded from them.
 */
export type KnownFacts = (bytes: Uint8Array, module: Module) => BodyFacts | undefined;

/**
 * Decodes, validates and compiles a module from its bytes; with `known`, bodies that were
 * validated before are not validated again (see `BodyFacts`).
 */
export function loadModule(bytes: Uint8Array, known?: KnownFacts): CompiledModule {
  const module = decodeModule(bytes);
  return compileModule(module, known?.(bytes, module));
}

/**
 * Reads and compiles a module file; errors name the file (`prog.wasm: invalid module:
 * function 3 at byte 0x2a: type mismatch ...`).
 */
export function loadModuleFile(path: string, known?: KnownFacts): CompiledModule {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    throw new UsageError(`${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (cause as Error).message}`);
  }
  try {
    return loadModule(bytes, known);
  } catch (error) {
    if (error instanceof DecodeError) {
      const notWasm = bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d;
      throw new WasmigError(error.code, `${path}: ${notWasm ? 'not a WebAssembly module' : 'malformed module'}: ${error.message}`);
    }
    if (error instanceof ValidationError) throw new WasmigError(error.code, `${path}: invalid module: ${error.message}`);
    if (error instanceof UnsupportedError) throw new WasmigError(error.code, `${path}: ${error.message}`);
    throw error;
  }
}
