/**
 * What validation knows at each position of a function, recovered on demand: the
 * internal pc of each byte offset, and the operand stack's types before each
 * instruction. Label and control stacks are never stored in a snapshot; they follow
 * from the pc, because the translator's code already has every branch resolved. This
 * is what lets a restore check an untrusted frame against the function's typing.
 */
import type { CompiledFunction, CompiledModule } from '../compile/index.ts';
import { SnapshotError } from '../errors/index.ts';
import { walkBody } from '../validate/index.ts';

/** Positions of one function, computed by one validation walk of its body. */
export interface FunctionPoints {
  compiled: CompiledFunction;
  /** Types of the parameters and declared locals. */
  localTypes: readonly number[];
  /** Per internal pc that starts an instruction: index into `types` of its stack's types; -1 elsewhere. */
  typeStart: Int32Array;
  /** Operand stack types before each instruction, concatenated (lengths from `compiled.heights`). */
  types: Uint8Array;
  /** Byte offset of every reachable instruction boundary to the internal pc that continues there. */
  pcAt: Map<number, number>;
}

const modulesByFunction = new WeakMap<CompiledFunction, CompiledModule>();
const pointsCache = new WeakMap<CompiledFunction, FunctionPoints>();

/** Makes the functions of a compiled module known to {@link functionPoints}. */
export function registerModule(compiled: CompiledModule): void {
  if (compiled.functions.length && modulesByFunction.get(compiled.functions[0]) === compiled) return;
  for (const f of compiled.functions) modulesByFunction.set(f, compiled);
}

/** The compiled module a function belongs to, if registered. */
export function moduleOfFunction(compiled: CompiledFunction): CompiledModule | undefined {
  return modulesByFunction.get(compiled);
}

/** The positions of a compiled function (cached; its module must be registered). */
export function functionPoints(compiled: CompiledFunction): FunctionPoints {
  const cached = pointsCache.get(compiled);
  if (cached) return cached;
  const module = modulesByFunction.get(compiled);
  if (!module) throw new Error(`internal: the module of function ${compiled.funcIndex} is not registered`);
  const points = walk(module, compiled);
  pointsCache.set(compiled, points);
  return points;
}

function walk(cm: CompiledModule, cf: CompiledFunction): FunctionPoints {
  const codeIndex = cf.funcIndex - cm.module.numImportedFuncs;
  const offsets = cf.offsets;
  const heights = cf.heights;
  const typeStart = new Int32Array(offsets.length).fill(-1);
  const types: number[] = [];
  const pcAt = new Map<number, number>();
  const pending: number[] = [];
  // The translator's notion of "live" (emitting code), block by block.
  const liveBlocks: boolean[] = [];
  let emitting = true;
  let live = false;
  let next = 0;
  const v = walkBody(cm.context, codeIndex, {
    before: (ins, v) => {
      live = emitting && v.reachable;
      if (!live) return;
      while (next < offsets.length && offsets[next] < 0) next++;
      if (next < offsets.length && offsets[next] === ins.offset) {
        if (heights[next] !== v.height) throw new Error(`internal: stack height mismatch in function ${cf.funcIndex} at byte ${ins.offset}`);
        typeStart[next] = types.length;
        for (let i = 0; i < v.vals.length; i++) types.push(v.vals[i]);
        pcAt.set(ins.offset, next);
        for (const p of pending) pcAt.set(p, next);
        pending.length = 0;
        next++;
      } else {
        // block, loop or a block's end: executes nothing, continues at the next instruction.
        pending.push(ins.offset);
      }
    },
    after: (ins) => {
      const op = ins.op;
      if (op === 0x02 || op === 0x03 || op === 0x04) {
        liveBlocks.push(live);
        emitting = live;
      } else if (op === 0x05) {
        emitting = liveBlocks[liveBlocks.length - 1];
      } else if (op === 0x0b && liveBlocks.length) {
        emitting = liveBlocks.pop()!;
      }
    },
  });
  return {
    compiled: cf,
    localTypes: v.locals,
    typeStart,
    types: Uint8Array.from(types),
    pcAt,
  };
}

/** The operand stack types before the instruction at internal pc `pc`. */
export function stackTypesAt(points: FunctionPoints, pc: number): Uint8Array {
  const start = points.typeStart[pc];
  return points.types.subarray(start, start + points.compiled.heights[pc]);
}

/**
 * The internal pc for a byte offset taken from a snapshot.
 * @throws SnapshotError when the offset is not a reachable instruction boundary.
 */
export function internalPc(points: FunctionPoints, offset: number, where: string): number {
  const pc = points.pcAt.get(offset);
  if (pc === undefined) throw new SnapshotError(`${where}: pc 0x${offset.toString(16)} is not an instruction boundary of function ${points.compiled.funcIndex}`);
  return pc;
}

/** The internal pc of the instruction that ends right before `pc` (-1 at the start). */
export function previousInstruction(points: FunctionPoints, pc: number): number {
  const offsets = points.compiled.offsets;
  let p = pc - 1;
  while (p >= 0 && offsets[p] < 0) p--;
  return p;
}
