/**
 * What the native tier needs to know ahead about a body's legacy exception handlers
 * (`try`, `catch`, `catch_all`, `delegate`): which handlers hold a safepoint, and so
 * must keep the exception they caught where a pause can save it (see
 * `rewrite-function.ts`), and that exception as plain values. Also what keeps a module
 * with exception handling off the native tier.
 * @module
 */
import { createInstr, InstructionReader } from '../binary/index.ts';
import type { CompiledModule } from '../compile/index.ts';
import type { ModuleContext } from '../validate/index.ts';
import { ValType } from '../wasm/index.ts';

/** The handlers of one body that hold a safepoint (a call, a call_indirect or a loop). */
export interface HandlerScan {
  /** Offsets of the `try`s one of whose clauses holds a safepoint: they get a recording area. */
  recorded: Set<number>;
  /** Offsets of the `try`s whose `catch_all` clause holds a safepoint: an inner try records the exception. */
  recordedCatchAll: Set<number>;
  /** Offsets of the `catch` clauses that hold a safepoint: they copy their payload on entry. */
  recordedCatch: Set<number>;
  /** Whether the body has any catch clause (its handlers restore the recursion budget). */
  catches: boolean;
}

/** An open block of the walk: a try's offset (-1 for other blocks) and the clause it is in (-1: its body). */
interface Open {
  tryAt: number;
  clauseAt: number;
  clauseOp: number;
}

/**
 * Walks `bytes[start, end)` (one function body's instructions); `visit` sees the open
 * blocks before each instruction at offset `at`.
 */
function walk(bytes: Uint8Array, start: number, end: number, visit: (open: readonly Open[], at: number, op: number) => boolean | void): void {
  const r = new InstructionReader(bytes, start, end);
  const ins = createInstr();
  const open: Open[] = [];
  while (r.pos < end) {
    const at = r.pos;
    r.read(ins);
    if (visit(open, at, ins.op) === true) return;
    switch (ins.op) {
      case 0x02: case 0x03: case 0x04: case 0x1f: open.push({ tryAt: -1, clauseAt: -1, clauseOp: 0 }); break;
      case 0x06: open.push({ tryAt: at, clauseAt: -1, clauseOp: 0 }); break;
      case 0x07: case 0x19: { const top = open[open.length - 1]; top.clauseAt = at; top.clauseOp = ins.op; break; }
      case 0x0b: case 0x18: open.pop(); break;
    }
  }
}

/** The handlers of a body that hold safepoints (see {@link HandlerScan}). */
export function scanHandlers(bytes: Uint8Array, start: number, end: number): HandlerScan {
  const scan: HandlerScan = { recorded: new Set(), recordedCatchAll: new Set(), recordedCatch: new Set(), catches: false };
  walk(bytes, start, end, (open, _at, op) => {
    if (op === 0x07 || op === 0x19) scan.catches = true;
    if (op !== 0x10 && op !== 0x11 && op !== 0x03) return;
    // A safepoint: every handler around it must keep its exception where a pause can save it.
    for (const o of open) {
      if (o.clauseAt < 0) continue;
      scan.recorded.add(o.tryAt);
      if (o.clauseOp === 0x19) scan.recordedCatchAll.add(o.tryAt);
      else scan.recordedCatch.add(o.clauseAt);
    }
  });
  return scan;
}

/**
 * What a caught exception (an exnref of the canonical stack) is as plain values, in a
 * recording area and among a resume clone's parameters: which of the module's tags
 * (an i32, -1 for another module's), then the values of every tag in turn.
 */
export function caughtValueTypes(ctx: ModuleContext): number[] {
  const types: number[] = [ValType.i32];
  for (const t of ctx.tagTypeIndices) types.push(...ctx.types[t].params);
  return types;
}

/** `types` with each exnref (a caught exception) as {@link caughtValueTypes}. */
export function expandCaught(types: readonly number[], ctx: ModuleContext): number[] {
  if (!types.includes(ValType.exnref)) return [...types];
  const caught = caughtValueTypes(ctx);
  return types.flatMap((t) => (t === ValType.exnref ? caught : [t]));
}

/**
 * Why the native tier cannot run a module's exception handling, as one phrase, or
 * undefined when it can: it runs the legacy instructions (V8 11.3 has them), not
 * `try_table`, `throw_ref` nor exnref values (V8 11.3 lacks them), and no tag with a
 * v128 value (the host cannot read one out of an exception that reaches it).
 */
export function nativeExceptionBlock(compiled: CompiledModule): string | undefined {
  const m = compiled.module;
  const ctx = compiled.context;
  for (const t of ctx.tagTypeIndices) {
    if (ctx.types[t].params.includes(ValType.v128)) return 'the host cannot read an exception\'s v128 values: a tag carries one';
  }
  const exnref = 'the host\'s WebAssembly lacks exnref (it runs the legacy try, catch, catch_all, delegate and rethrow)';
  if (ctx.types.some((t) => t.params.includes(ValType.exnref) || t.results.includes(ValType.exnref))) return `${exnref}: an exnref in a function type`;
  if (ctx.globals.some((g) => g.type === ValType.exnref)) return `${exnref}: an exnref global`;
  if (ctx.tables.some((t) => t.elemType === ValType.exnref)) return `${exnref}: an exnref table`;
  const ins = createInstr();
  for (let i = 0; i < m.codes.length; i++) {
    const body = m.codes[i];
    const where = `function ${m.numImportedFuncs + i}`;
    if (body.locals.includes(ValType.exnref)) return `${exnref}: ${where} (an exnref local)`;
    const r = new InstructionReader(m.bytes, body.codeStart, body.codeEnd);
    while (r.pos < body.codeEnd) {
      const at = r.pos;
      r.read(ins);
      const op = ins.op;
      const exnBlock = (op === 0x02 || op === 0x03 || op === 0x04 || op === 0x06) && ins.a === ValType.exnref - 0x80;
      if (op === 0x1f || op === 0x0a || (op === 0xd0 && ins.a === ValType.exnref) || exnBlock) {
        const name = op === 0x1f ? 'try_table' : op === 0x0a ? 'throw_ref' : op === 0xd0 ? 'ref.null exn' : 'a block of type exnref';
        return `${exnref}: ${where} (${name} at byte 0x${at.toString(16)})`;
      }
    }
  }
  return undefined;
}
