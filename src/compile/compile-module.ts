import { ValType } from '../wasm/index.ts';
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
  /**
   * Where the module first uses v128 (a body, a function type, a global), undefined if
   * nowhere, as one phrase ("function 3 (v128.const at byte 0x4f)"): both tiers run
   * SIMD; this says whether a module needs a host with SIMD at all.
   */
  simdUse: string | undefined;
  /**
   * Where the module first makes a tail call ("function 2 (return_call at byte 0x3c)"),
   * undefined if nowhere: the interpreter runs them; the native tier cannot unwind
   * through them yet, so modules with them stay in the interpreter.
   */
  tailCallUse: string | undefined;
  /**
   * Where the module first uses exception handling ("function 4 (try_table at byte
   * 0x5a)", "tag 0", "an exnref global"), undefined if nowhere: the interpreter runs it;
   * the native tier cannot unwind through handlers yet, so such modules stay in the
   * interpreter.
   */
  exceptionUse?: string;
  /**
   * Where the module first uses relaxed SIMD ("function 1 (f32x4.relaxed_madd at byte
   * 0x2e)"), undefined if nowhere: the interpreter computes the spec's deterministic
   * choice for each of those instructions, so a program migrates bit for bit; a host
   * engine computes whatever its hardware does, so such modules stay in the interpreter.
   */
  relaxedSimdUse?: string;
}

/**
 * All that {@link compileModule} keeps of validating every body: given back to it for
 * the same bytes, it need not validate them again. The native tier's disk cache keeps
 * it beside a module's rewrite (made by this same code, which its key covers), so that
 * a cached start skips a tenth of a second of validation on a 1 MB program; each body
 * is still validated as it is translated or rewritten, before it runs.
 */
export interface BodyFacts {
  /**
   * The deepest operand stack of each body (by code index), as the validator counts it;
   * -1 for a body not validated yet (`body-scan.ts`), validated when first translated.
   */
  maxHeights: Int32Array;
  /** {@link CompiledModule.simdUse} as validation found it. */
  simdUse: string | undefined;
  /** {@link CompiledModule.tailCallUse} as validation found it. */
  tailCallUse: string | undefined;
  /** {@link CompiledModule.exceptionUse} as validation found it. */
  exceptionUse: string | undefined;
  /** {@link CompiledModule.relaxedSimdUse} as validation found it. */
  relaxedSimdUse: string | undefined;
}

/** What validating the bodies of `compiled` found (see {@link BodyFacts}). */
export function bodyFacts(compiled: CompiledModule): BodyFacts {
  // A frame is its locals, the deepest operand stack and one slot more (compiled-function.ts).
  const maxHeights = Int32Array.from(compiled.functions, (f) => f.maxHeight);
  const { simdUse, tailCallUse, exceptionUse, relaxedSimdUse } = compiled;
  return { maxHeights, simdUse, tailCallUse, exceptionUse, relaxedSimdUse };
}

/**
 * Validates the module, every function body included (a module that loads is valid, as
 * the spec wants); translation waits until a function is first needed. With `known`,
 * what an earlier validation of these same bytes found, the bodies are not validated
 * again (see {@link BodyFacts}); the module's other sections are.
 */
export function compileModule(module: Module, known?: BodyFacts): CompiledModule {
  const context = validateModule(module);
  const compiled: CompiledModule = { module, context, functions: new Array(module.codes.length), simdUse: undefined, tailCallUse: undefined };
  const sigs = callSignatures(context);
  if (known !== undefined && known.maxHeights.length === module.codes.length) {
    for (let i = 0; i < module.codes.length; i++) compiled.functions[i] = new CompiledFunction(compiled, i, known.maxHeights[i]!, sigs);
    // A scan's facts (body-scan.ts) are the bodies' alone: the other sections' uses are added here.
    compiled.simdUse = firstSimdUse(context, known.simdUse);
    compiled.tailCallUse = known.tailCallUse;
    compiled.exceptionUse = known.exceptionUse ?? firstExceptionUse(context);
    compiled.relaxedSimdUse = known.relaxedSimdUse;
    return compiled;
  }
  let simdUse: string | undefined;
  for (let i = 0; i < module.codes.length; i++) {
    const validator = validateFunctionBody(context, i);
    if (validator.simdUse !== undefined) simdUse ??= `function ${module.numImportedFuncs + i} (${validator.simdUse})`;
    if (validator.tailCallUse !== undefined) compiled.tailCallUse ??= `function ${module.numImportedFuncs + i} (${validator.tailCallUse})`;
    if (validator.exceptionUse !== undefined) compiled.exceptionUse ??= `function ${module.numImportedFuncs + i} (${validator.exceptionUse})`;
    if (validator.relaxedSimdUse !== undefined) compiled.relaxedSimdUse ??= `function ${module.numImportedFuncs + i} (${validator.relaxedSimdUse})`;
    compiled.functions[i] = new CompiledFunction(compiled, i, validator.maxHeight, sigs);
  }
  compiled.simdUse = firstSimdUse(context, simdUse);
  compiled.exceptionUse ??= firstExceptionUse(context);
  return compiled;
}

/** Where a module mentions exception handling outside its bodies: a tag, or exnref in a type, global or table. */
function firstExceptionUse(context: ModuleContext): string | undefined {
  if (context.tagTypeIndices.length > 0) return 'tag 0';
  if (context.types.some((t) => t.params.includes(ValType.exnref) || t.results.includes(ValType.exnref))) return 'an exnref in a function type';
  if (context.globals.some((g) => g.type === ValType.exnref)) return 'an exnref global';
  if (context.tables.some((t) => t.elemType === ValType.exnref)) return 'an exnref table';
  return undefined;
}

/** Where a module first mentions v128: a body (found by validation), else a function type or a global. */
function firstSimdUse(context: ModuleContext, inBody: string | undefined): string | undefined {
  if (inBody !== undefined) return inBody;
  if (context.types.some((t) => t.params.includes(ValType.v128) || t.results.includes(ValType.v128))) return 'a function type';
  if (context.globals.some((g) => g.type === ValType.v128)) return 'a global';
  return undefined;
}

/** Validates and translates one function body of `compiled` now, in a new `CompiledFunction` (the exact code; the fast code stays lazy). */
export function translateFunction(compiled: CompiledModule, codeIndex: number, sigs = callSignatures(compiled.context)): CompiledFunction {
  const context = compiled.context;
  const f = new CompiledFunction(compiled, codeIndex, validateFunctionBody(context, codeIndex).maxHeight, sigs);
  void f.code;
  return f;
}
