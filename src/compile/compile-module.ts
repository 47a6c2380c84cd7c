import type { Module } from '../wasm/index.ts';
import { validateModule } from '../validate/index.ts';
import type { ModuleContext } from '../validate/index.ts';
import type { CompiledFunction } from './ir.ts';
import { callSignatures, translateFunction } from './translate.ts';

/** A validated module with every function body translated; shared by all its instances. */
export interface CompiledModule {
  module: Module;
  context: ModuleContext;
  /** Indexed by code index (function index minus the imported functions). */
  functions: CompiledFunction[];
}

/** Validates the module and translates every function (one walk per body does both). */
export function compileModule(module: Module): CompiledModule {
  const context = validateModule(module);
  const functions: CompiledFunction[] = new Array(module.codes.length);
  const sigs = callSignatures(context);
  for (let i = 0; i < module.codes.length; i++) functions[i] = translateFunction(context, i, sigs);
  return { module, context, functions };
}
