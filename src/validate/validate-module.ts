import { ValidationError } from '../errors/index.ts';
import { isConcreteRef, OPS, PREFIX_FD, refHeap, TYPED_REF_BASE, ValType, valTypeName } from '../wasm/index.ts';
import type { ConstExpr, Limits, Module } from '../wasm/index.ts';
import type { FunctionValidator } from './function-validator.ts';
import { walkBody } from './body-walk.ts';
import { buildModuleContext } from './module-context.ts';
import type { ModuleContext } from './module-context.ts';
import { isDefaultable, TypeRelations } from './ref-subtyping.ts';

const MAX_PAGES = 65536;
const MAX_TABLE = 0xffffffff;
/** memory64: 2^48 pages of 64 KiB, the whole 64-bit address space. */
const MAX_PAGES_64 = 2 ** 48;
/** table64: any u64 (the decoder bounds it already). */
const MAX_TABLE_64 = Infinity;

/** What {@link validateModule} checks besides the module's structure. */
export interface ValidateOptions {
  /** Also type-check every function body (the compiler does it itself while translating). */
  functions?: boolean;
}

/**
 * Module-level validation (spec 3.4): index spaces, limits, constant expressions,
 * segments, exports, start. Returns the context the function validators need.
 */
export function validateModule(module: Module, options: ValidateOptions = {}): ModuleContext {
  const ctx = buildModuleContext(module);
  const fail = (message: string, offset?: number): never => {
    throw new ValidationError(message, offset === undefined ? undefined : { offset });
  };

  // Typed references (Wasm 3.0) name types that must exist, wherever a value type appears.
  const checkType = (t: number, where: string): void => {
    if (t < TYPED_REF_BASE) return;
    if (!ctx.relations.exists(t)) fail(`unknown type in ${where}: ${valTypeName(t)}`);
    ctx.typedRefUse ??= `${where} (${valTypeName(t)})`;
  };
  module.types.forEach((ft, i) => {
    for (const t of [...ft.params, ...ft.results]) {
      checkType(t, `type ${i}`);
      // Each type is its own recursion group (no GC types): it may name itself and the types before it.
      if (isConcreteRef(t) && refHeap(t) > i) fail(`unknown type in type ${i}: ${valTypeName(t)} names a later type`);
    }
  });

  for (const imp of module.imports) {
    const d = imp.desc;
    if (d.kind === 'global') checkType(d.type.type, `import ${imp.module}.${imp.name}`);
    if (d.kind === 'table') checkType(d.type.elemType, `import ${imp.module}.${imp.name}`);
    if (d.kind === 'func' && d.typeIndex >= module.types.length) fail(`unknown type ${d.typeIndex} in import ${imp.module}.${imp.name}`);
    if (d.kind === 'table') checkTableLimits(d.type.limits);
    if (d.kind === 'memory') checkMemoryLimits(d.type.limits);
    if ((d.kind === 'table' || d.kind === 'memory') && d.type.limits.index64) ctx.index64Use ??= `the 64-bit ${d.kind} import ${imp.module}.${imp.name}`;
  }
  for (const t of module.funcs) if (t >= module.types.length) fail(`unknown type ${t}`);
  // Tags (Wasm 3.0 exception handling): a function type without results.
  for (const t of ctx.tagTypeIndices) {
    if (t >= module.types.length) fail(`unknown type ${t}`);
    if (module.types[t].results.length > 0) fail('non-empty tag result type');
  }
  module.tables.forEach((t, i) => {
    const index = module.numImportedTables + i;
    checkTableLimits(t.limits);
    if (t.limits.index64) ctx.index64Use ??= `the 64-bit table ${index}`;
    checkType(t.elemType, `table ${index}`);
    // Wasm 3.0: a table's elements start as its initializer's value, else null, which a
    // non-nullable element type does not admit.
    if (t.init !== undefined) {
      ctx.typedRefUse ??= `the initializer of table ${index}`;
      checkConstExpr(ctx, t.init, t.elemType, module.numImportedGlobals, `table ${index}`); // the tables come before the globals
    } else if (!isDefaultable(t.elemType)) {
      fail(`type mismatch: table ${index} of ${valTypeName(t.elemType)} needs an initializer`);
    }
  });
  module.memories.forEach((m, i) => {
    checkMemoryLimits(m.limits);
    if (m.limits.index64) ctx.index64Use ??= `the 64-bit memory ${module.numImportedMemories + i}`;
  });

  module.globals.forEach((g, i) => {
    checkType(g.type.type, `global ${module.numImportedGlobals + i}`);
    // A global's initializer sees the globals before it: imported and defined earlier (Wasm 3.0, spec 3.4.10).
    checkConstExpr(ctx, g.init, g.type.type, module.numImportedGlobals + i, `global ${module.numImportedGlobals + i}`);
  });

  const names = new Set<string>();
  for (const e of module.exports) {
    if (names.has(e.name)) fail(`duplicate export name "${e.name}"`);
    names.add(e.name);
    const limit = e.kind === 'func' ? ctx.funcTypeIndices.length : e.kind === 'table' ? ctx.tables.length : e.kind === 'memory' ? ctx.memories.length
      : e.kind === 'tag' ? ctx.tagTypeIndices.length : ctx.globals.length;
    if (e.index >= limit) fail(`unknown ${e.kind} ${e.index} in export "${e.name}"`);
  }

  if (module.start !== undefined) {
    if (module.start >= ctx.funcTypeIndices.length) fail(`unknown function ${module.start} as start function`);
    const ft = ctx.types[ctx.funcTypeIndices[module.start]];
    if (ft.params.length || ft.results.length) fail('start function must take no parameters and return nothing');
  }

  module.elems.forEach((seg, i) => {
    checkType(seg.type, `element segment ${i}`);
    const type = ctx.elemTypes[i];
    for (const item of seg.items) checkConstExpr(ctx, item, type, ctx.globals.length, `element segment ${i}`);
    if (seg.mode.kind === 'active') {
      if (seg.mode.tableIndex >= ctx.tables.length) fail(`unknown table ${seg.mode.tableIndex} in element segment ${i}`);
      if (!ctx.relations.matches(type, ctx.tables[seg.mode.tableIndex].elemType)) fail(`type mismatch: element segment ${i} does not fit its table`);
      // A 64-bit table takes an i64 offset (table64).
      const offsetType = ctx.tables[seg.mode.tableIndex].limits.index64 ? ValType.i64 : ValType.i32;
      checkConstExpr(ctx, seg.mode.offset, offsetType, ctx.globals.length, `element segment ${i}`);
    }
  });
  module.datas.forEach((seg, i) => {
    if (seg.mode.kind === 'active') {
      if (seg.mode.memoryIndex >= ctx.memories.length) fail(`unknown memory ${seg.mode.memoryIndex} in data segment ${i}`);
      const offsetType = ctx.memories[seg.mode.memoryIndex].limits.index64 ? ValType.i64 : ValType.i32;
      checkConstExpr(ctx, seg.mode.offset, offsetType, ctx.globals.length, `data segment ${i}`);
    }
  });

  if (options.functions) {
    for (let i = 0; i < module.codes.length; i++) validateFunctionBody(ctx, i);
  }
  return ctx;
}

function checkMemoryLimits(limits: Limits): void {
  if (limits.index64) checkLimits(limits, MAX_PAGES_64, 'memory size must be at most 2^48 pages (2^64 bytes)');
  else checkLimits(limits, MAX_PAGES, 'memory size must be at most 65536 pages (4GiB)');
}

function checkTableLimits(limits: Limits): void {
  checkLimits(limits, limits.index64 ? MAX_TABLE_64 : MAX_TABLE, 'table size must be at most 2^32-1');
}

function checkLimits(limits: Limits, bound: number, message: string): void {
  if (limits.min > bound || (limits.max !== undefined && limits.max > bound)) throw new ValidationError(message);
  if (limits.max !== undefined && limits.min > limits.max) throw new ValidationError('size minimum must not be greater than maximum');
}

/**
 * Constant expressions (spec 3.3.10): constants, ref.null/ref.func, immutable globals
 * among the first `visibleGlobals`, and (Wasm 3.0's extended constant expressions)
 * i32/i64 add, sub and mul.
 */
function checkConstExpr(ctx: ModuleContext, expr: ConstExpr, expected: number, visibleGlobals: number, where: string): void {
  const stack: number[] = [];
  for (const ins of expr.instrs) {
    const at = { offset: ins.offset };
    switch (ins.op) {
      case 0x6a: case 0x6b: case 0x6c: case 0x7c: case 0x7d: case 0x7e: {
        ctx.extendedConstUse ??= `${OPS[ins.op]!.name} in ${where}`;
        const t = ins.op < 0x7c ? ValType.i32 : ValType.i64;
        const b = stack.pop(), a = stack.pop();
        if (a !== t || b !== t) throw new ValidationError(`type mismatch: ${OPS[ins.op]!.name} in ${where} needs two ${valTypeName(t)} operands`, at);
        stack.push(t);
        break;
      }
      case 0x41: stack.push(ValType.i32); break;
      case 0x42: stack.push(ValType.i64); break;
      case 0x43: stack.push(ValType.f32); break;
      case 0x44: stack.push(ValType.f64); break;
      case PREFIX_FD + 0x0c: stack.push(ValType.v128); break; // v128.const
      case 0xd0:
        if (!ctx.relations.exists(ins.a)) throw new ValidationError(`unknown type in ${where}: ${valTypeName(ins.a)}`, at);
        stack.push(ins.a);
        break;
      case 0xd2:
        if (ins.a >= ctx.funcTypeIndices.length) throw new ValidationError(`unknown function ${ins.a} in ${where}`, at);
        stack.push(TypeRelations.funcRef(ctx.funcTypeIndices[ins.a]));
        break;
      case 0x23: {
        if (ins.a >= visibleGlobals || ins.a >= ctx.globals.length) throw new ValidationError(`unknown global ${ins.a} in ${where}`, at);
        const g = ctx.globals[ins.a];
        if (g.mutable) throw new ValidationError(`constant expression required: global ${ins.a} is mutable (${where})`, at);
        if (ins.a >= ctx.module.numImportedGlobals) ctx.extendedConstUse ??= `global.get of defined global ${ins.a} in ${where}`;
        stack.push(g.type);
        break;
      }
      default:
        throw new ValidationError(`constant expression required in ${where}`, at);
    }
  }
  if (stack.length !== 1 || !ctx.relations.matches(stack[0], expected)) {
    const found = stack.map(valTypeName).join(' ') || 'nothing';
    throw new ValidationError(`type mismatch: ${where} must be a constant ${valTypeName(expected)}, found ${found}`, { offset: expr.offset });
  }
}

/** Type-checks one function body on its own (no code generation). */
export function validateFunctionBody(ctx: ModuleContext, codeIndex: number): FunctionValidator {
  return walkBody(ctx, codeIndex);
}
