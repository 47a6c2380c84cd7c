import type { Module } from '../wasm/index.ts';
import { validateFunctionBody, validateModule } from '../validate/index.ts';
import type { ModuleContext } from '../validate/index.ts';
import { CompiledFunction } from './compiled-function.ts';
import { callSignatures } from './translate.ts';

/** A validated module, its function bodies translated when first needed; shared by all its instances. */
export interface CompiledModule {
  /** The decoded module. */
  module: Module;
  /**
   * What validation found (types, index spaces), which translation reads.
   * @internal
   */
  context: ModuleContext;
  /**
   * Indexed by code index (function index minus the imported functions).
   * @internal
   */
  functions: CompiledFunction[];
}

/**
 * Validates the module, every function body included (a module that loads is valid, as
 * the spec wants); translation waits until a function is first needed.
 */
export function compileModule(module: Module): CompiledModule {
  const context = validateModule(module);
  const compiled: CompiledModule = { module, context, functions: new Array(module.codes.length) };
  const sigs = callSignatures(context);
  for (let i = 0; i < module.codes.length; i++) {
    compiled.functions[i] = new CompiledFunction(compiled, i, validateFunctionBody(context, i).maxHeight, sigs);
  }
  return compiled;
}

/** Validates and translates one function body of `compiled` now, in a new `CompiledFunction` (the exact code; the fast code stays lazy). */
export function translateFunction(compiled: CompiledModule, codeIndex: number, sigs = callSignatures(compiled.context)): CompiledFunction {
  const context = compiled.context;
  const f = new CompiledFunction(compiled, codeIndex, validateFunctionBody(context, codeIndex).maxHeight, sigs);
  void f.code;
  return f;
}
