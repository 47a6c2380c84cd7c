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
  const functions: CompiledFunction[] = new Array(module.codes.length);
  const sigs = callSignatures(context);
  for (let i = 0; i < module.codes.length; i++) {
    functions[i] = new CompiledFunction(context, i, validateFunctionBody(context, i).maxHeight, sigs);
  }
  return { module, context, functions };
}

/** Validates and translates one function body now (the exact code; the fast code stays lazy). */
export function translateFunction(context: ModuleContext, codeIndex: number, sigs = callSignatures(context)): CompiledFunction {
  const f = new CompiledFunction(context, codeIndex, validateFunctionBody(context, codeIndex).maxHeight, sigs);
  void f.code;
  return f;
}
