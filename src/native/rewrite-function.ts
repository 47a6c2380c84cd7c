/**
 * Rewrites one function body for the native tier: the same computation, plus safepoints
 * at every loop header and after every call, at which the function can save its whole
 * activation (locals and operand stack) and return, so that the native stack unwinds
 * into canonical frames.
 *
 * The operand stack normalization. At a safepoint the save code must read every value
 * of the frame's operand stack, but Wasm only lets code pop the values of its own
 * block, above the block's start, and a call consumes its arguments. So the rewriter
 * keeps a model of the canonical stack in which each value is either on the Wasm
 * stack (`w`) or in a scratch local of its stack position and type. Values in scratch
 * locals always form the bottom part. Before a block, loop or if, and before a call,
 * every value below the block's parameters (the call's arguments) moves to its scratch
 * local; at a safepoint everything is in scratch locals, so one save sequence per
 * function (saving all locals) captures any safepoint. An instruction whose operands
 * sit in scratch locals gets them back with `local.get` first. The extra `local.set` /
 * `local.get` pairs cost nothing once V8's optimizing compiler has renamed them.
 *
 * Layout of a rewritten function:
 *
 *     block $save
 *       block $body (result R)    ;; the original body; its final `end` closes $body
 *         ...
 *       end
 *       return
 *     end
 *     ;; save: frame(funcIndex, $site), then every local, then zeros of R
 *
 * Branches keep their depths: the original function label is now $body, and branching
 * to it returns as before. A safepoint that must unwind sets `$site` and branches to $save.
 */
import { createInstr, InstructionReader } from '../binary/index.ts';
import { FunctionValidator } from '../validate/index.ts';
import type { ModuleContext } from '../validate/index.ts';
import { OPS, PREFIX_FC, ValType } from '../wasm/index.ts';
import type { FuncType } from '../wasm/index.ts';
import { ByteWriter } from './encode.ts';

/** Function indices (in the rewritten module) and global indices of the helpers a body uses. */
export interface HelperIndices {
  poll: number;
  frame: number;
  saveI32: number;
  saveI64: number;
  saveRef: number;
  saveExt: number;
  deep: number;
  droppedData: number;
  droppedElem: number;
  /** Globals: the unwinding flag, the poll countdown, the recursion budget, the memory limit in pages. */
  unwinding: number;
  countdown: number;
  depth: number;
  maxPages: number;
}

/** A safepoint: where the frame stands and where its operand stack lives. */
export interface Safepoint {
  /** Byte offset in the original module of the next instruction (block/loop/end stand for the next one that executes). */
  pc: number;
  /** Index into the saved values (locals first, then scratch locals) of each operand stack value, bottom first. */
  stack: Int32Array;
  /** Value types of `stack`. */
  types: Uint8Array;
  kind: 'entry' | 'loop' | 'call';
  /** A call's result types (call safepoints). */
  callResults: Uint8Array;
  /**
   * Trailing values of `stack` that are a call's results (calls to imports and
   * call_indirect): part of the frame only when it is the top one, i.e. the callee was
   * a host function that returned; when a Wasm callee unwound, they do not exist yet.
   */
  results: number;
}

/** What the native tier needs to know about a rewritten function. */
export interface RewrittenFunction {
  funcIndex: number;
  /** Parameters plus declared locals (the canonical frame's locals). */
  numLocals: number;
  localTypes: number[];
  /** Types of the scratch locals, in the order they are saved after the locals. */
  scratchTypes: number[];
  sites: Safepoint[];
  /** True when the function may recurse: it checks the native stack budget on entry. */
  recursive: boolean;
  /**
   * Where the original instructions went, for backtraces: positions in the rewritten
   * body's code (after its local declarations; add `codeOffset`), ascending, and the
   * original byte offset of the instruction emitted there.
   */
  rewrittenPcs: Int32Array;
  originalPcs: Int32Array;
  /** Byte offset in the rewritten module of the body's first instruction (set by the module rewriter). */
  codeOffset: number;
}

export interface FunctionRewriteOptions {
  /** Maps an original function index to the rewritten module's index. */
  remapFunc: (index: number) => number;
  helpers: HelperIndices;
  /** Type index of `[] -> results`, for blocks with several results. */
  blockType: (results: readonly number[]) => number;
  recursive: boolean;
  /** Stack budget units this function's activation costs (recursive functions only). */
  frameCost: number;
  /**
   * Loop-header polls: through a per-activation counter (`local`, the default: a poll
   * every 1024 iterations of one activation, plus a global countdown at the entry of
   * functions with loops), through a global countdown at every loop header (`global`),
   * or none (measurements only).
   */
  loopPoll: 'global' | 'local' | 'none';
  /** After-call checks of the unwinding flag ('none' for measurements only: unwinding then breaks). */
  afterCall?: 'check' | 'none';
  /**
   * Innermost loops to unroll: the offset of their `loop` instruction to the number of
   * copies of the body per header check (see `planUnrolling`). The check costs a few
   * instructions per iteration, a sizeable share of a tight loop's time.
   */
  unrolled?: ReadonlyMap<number, number>;
  /** Build a resume clone instead (see {@link ResumeTarget}). */
  resume?: ResumeTarget;
}

/**
 * A resume clone continues an activation from one of its safepoints: its parameters are
 * the function's locals, then the operand stack at the safepoint (for a caller frame:
 * with the callee's results on top). It is the same rewritten code, in which, while the
 * flag `$rs` is set, everything before the safepoint along its path of enclosing
 * blocks is skipped (an `if`'s condition picks the branch the safepoint is in); the
 * safepoint clears `$rs`, and from then on the clone runs as the function would,
 * loops going round through the code they skipped the first time.
 */
export interface ResumeTarget {
  /** The safepoint's pc (see {@link Safepoint}). */
  pc: number;
  kind: 'loop' | 'call';
  /** Types of the operand stack the clone takes (after the locals). */
  stackTypes: readonly number[];
}

interface PathStep {
  /** Byte offset of the block's opcode. */
  offset: number;
  /** An `if` whose else-branch holds the safepoint. */
  inElse: boolean;
}

/** The blocks enclosing a resume target, outermost first (the target loop included), or undefined. */
function findPath(bytes: Uint8Array, start: number, end: number, target: ResumeTarget): PathStep[] | undefined {
  const r = new InstructionReader(bytes, start, end);
  const ins = createInstr();
  const stack: PathStep[] = [];
  while (r.pos < end) {
    r.read(ins);
    const op = ins.op;
    if (op === 0x02 || op === 0x03 || op === 0x04) {
      stack.push({ offset: ins.offset, inElse: false });
      if (op === 0x03 && target.kind === 'loop' && r.pos === target.pc) return stack.map((s) => ({ ...s }));
    } else if (op === 0x05) {
      stack[stack.length - 1].inElse = true;
    } else if (op === 0x0b) {
      stack.pop();
    } else if ((op === 0x10 || op === 0x11) && target.kind === 'call' && r.pos === target.pc) {
      return stack.map((s) => ({ ...s }));
    }
  }
  return undefined;
}

const W = 1;
const L = 0;

/** Loop iterations of one activation between two polls (with per-activation counters). */
export const LOCAL_POLL_INTERVAL = 1024;

/** True when a body holds a loop. */
function hasLoop(bytes: Uint8Array, start: number, end: number): boolean {
  const r = new InstructionReader(bytes, start, end);
  const ins = createInstr();
  while (r.pos < end) {
    r.read(ins);
    if (ins.op === 0x03) return true;
  }
  return false;
}

interface Ctrl {
  op: number;
  /** Canonical stack height at the block's start, below its parameters. */
  base: number;
  params: readonly number[];
  results: readonly number[];
  /** Index of its block among the rewritten code's enclosing blocks. */
  label: number;
  /** A loop's header safepoint, when it polls (-1 otherwise). */
  pollSite: number;
  /** Index among the enclosing blocks of a polling loop's $poll block. */
  pollLabel: number;
  /** An unrolled loop: its first copy of the body is being written. */
  unroll?: Unrolling;
}

/**
 * An innermost loop whose body is written `copies` times after one header check:
 *   loop $L  check  block $c1  B  br $exit  end  ...  block $cn  B  br $exit  end  end
 * In every copy but the last, a branch to the loop's start goes to the end of the copy's
 * block, into the next copy; in the last one, to $L. Copies share their safepoints.
 */
interface Unrolling {
  copies: number;
  /** Where the first copy starts in the output, and its first entry in the pc maps. */
  start: number;
  marks: number;
  /** Output offsets of the branch immediates that target the loop, in the first copy. */
  backEdges: number[];
}

/** Values popped by the plain (non-control, non-call) instructions, from the opcode table. */
function popsOf(op: number): number {
  const pops = OPS[op]?.pops ?? -1;
  if (pops < 0) throw new Error(`internal: no operand count for opcode 0x${op.toString(16)}`);
  return pops;
}

/** Rewrites the body of defined function `codeIndex`; returns its encoded body and its safepoints. */
export function rewriteFunction(ctx: ModuleContext, codeIndex: number, opts: FunctionRewriteOptions): { body: Uint8Array; info: RewrittenFunction } {
  const module = ctx.module;
  const funcIndex = module.numImportedFuncs + codeIndex;
  const body = module.codes[codeIndex];
  const type = ctx.types[module.funcs[codeIndex]];
  const v = new FunctionValidator(ctx, funcIndex, type, body.locals);
  const numLocals = type.params.length + body.locals.length;
  const localTypes = [...type.params, ...body.locals];
  const resume = opts.resume;
  // A resume clone takes its locals and the saved operand stack as parameters.
  const base = resume ? numLocals + resume.stackTypes.length : numLocals;
  const SITE = base;
  const TMP = base + 1;
  const COUNT = base + 2;
  const RS = resume ? base + 3 : -1;
  const SCRATCH = resume ? base + 4 : base + 3;
  const path = resume ? findPath(module.bytes, body.codeStart, body.codeEnd, resume) : undefined;
  if (resume && !path) throw new Error(`internal: no safepoint at 0x${resume.pc.toString(16)} in function ${funcIndex}`);
  const h = opts.helpers;
  const bytes = module.bytes;
  const out = new ByteWriter();

  // The canonical operand stack model: type and place (W: on the Wasm stack, L: in its scratch local).
  const types: number[] = [];
  const place: number[] = [];
  const scratchTypes: number[] = [];
  const scratchBy = new Map<number, number>();
  const scratch = (pos: number, t: number): number => {
    const key = pos * 256 + t;
    let s = scratchBy.get(key);
    if (s === undefined) {
      s = scratchTypes.length;
      scratchTypes.push(t);
      scratchBy.set(key, s);
    }
    return s;
  };
  const sites: Safepoint[] = [];
  const rewrittenPcs: number[] = [];
  const originalPcs: number[] = [];
  /** Notes that the instruction at original offset `offset` is emitted from here. */
  const mark = (offset: number): void => {
    rewrittenPcs.push(out.length);
    originalPcs.push(offset);
  };
  // Original blocks; `labels` counts the rewritten code's blocks around the current
  // position ($save and $body first), of which each original block owns one.
  const ctrl: Ctrl[] = [];
  const unrolled = opts.loopPoll === 'none' ? undefined : opts.unrolled;
  let labels = 2;
  const BODY_LABEL = 1;
  /** Branch depth in the rewritten code for original depth `depth`. */
  const remap = (depth: number): number => {
    const label = depth === ctrl.length ? BODY_LABEL : ctrl[ctrl.length - 1 - depth].label;
    return labels - 1 - label;
  };
  /** Depth of $save from inside `extra` more blocks opened here. */
  const toSave = (extra: number): number => labels - 1 + extra;
  // Resume clones: how many blocks of the path are entered, whether the safepoint is
  // reached, and whether code is inside an `if (!$rs)` guard.
  let pathDepth = 0;
  let siteReached = resume === undefined;
  let guardOpen = false;

  const localGet = (i: number): void => { out.u8(0x20).u32(i); };
  const localSet = (i: number): void => { out.u8(0x21).u32(i); };

  const trailingW = (): number => {
    let w = 0;
    for (let p = types.length - 1; p >= 0 && place[p] === W; p--) w++;
    return w;
  };
  /** Moves every value on the Wasm stack into its scratch local. */
  const spillAll = (): void => {
    for (let p = types.length - 1; p >= 0 && place[p] === W; p--) {
      localSet(SCRATCH + scratch(p, types[p]));
      place[p] = L;
    }
  };
  /** Puts the top `n` values (all in scratch locals) back on the Wasm stack. */
  const reload = (n: number): void => {
    for (let p = types.length - n; p < types.length; p++) {
      localGet(SCRATCH + scratch(p, types[p]));
      place[p] = W;
    }
  };
  /** Makes sure the top `n` values are on the Wasm stack. */
  const need = (n: number): void => {
    if (trailingW() >= n) return;
    spillAll();
    reload(n);
  };
  /** The top `n` values on the Wasm stack, everything below them in scratch locals. */
  const isolate = (n: number): void => {
    need(n);
    if (trailingW() > n) {
      spillAll();
      reload(n);
    }
  };
  const pop = (n: number): void => {
    types.length -= n;
    place.length -= n;
  };
  const push = (t: number): void => {
    types.push(t);
    place.push(W);
  };
  const copy = (start: number, end: number): void => {
    mark(start);
    out.raw(bytes, start, end);
  };
  const blockType = (results: readonly number[]): void => {
    if (results.length === 0) out.u8(0x40);
    else if (results.length === 1) out.u8(results[0]);
    else out.s32(opts.blockType(results));
  };

  /** Skips what follows while resuming: `if (!$rs)`, every value in scratch locals. */
  const openGuard = (): void => {
    spillAll();
    out.u8(0x20).u32(RS).u8(0x45).u8(0x04).u8(0x40);
    labels++;
    guardOpen = true;
  };
  const closeGuard = (): void => {
    if (!guardOpen) return;
    spillAll();
    out.u8(0x0b);
    labels--;
    guardOpen = false;
  };
  /** The safepoint is reached: stop skipping. */
  const reachSite = (): void => {
    out.u8(0x41).s32(0).u8(0x21).u32(RS);
    siteReached = true;
  };

  /** Records a safepoint over the whole model stack (all of it must be in scratch locals) but the top `skip` values. */
  const site = (pc: number, skip: number, results: number, kind: Safepoint['kind'] = 'loop', callResults: readonly number[] = []): number => {
    const n = types.length - skip;
    const stack = new Int32Array(n);
    const tys = new Uint8Array(n);
    for (let p = 0; p < n; p++) {
      if (place[p] !== L) throw new Error(`internal: stack value ${p} of function ${funcIndex} is not saved at a safepoint`);
      stack[p] = numLocals + scratch(p, types[p]);
      tys[p] = types[p];
    }
    sites.push({ pc, stack, types: tys, results, kind, callResults: Uint8Array.from(callResults) });
    return sites.length - 1;
  };

  /** Unwinds from safepoint `k`: `$site = k; br $save`. */
  const unwindTo = (k: number, depthToSave: number): void => {
    out.u8(0x41).s32(k);
    localSet(SITE);
    out.u8(0x0c).u32(depthToSave);
  };

  /**
   * Calls the host's poll; unwinds from safepoint `k` when it says so (0). Otherwise its
   * answer is the next global countdown; a per-activation counter starts over.
   */
  const callPoll = (k: number, local: boolean): void => {
    if (local) {
      // The activation's counter ran out: count one down globally, ask the host when that runs out.
      out.u8(0x41).s32(LOCAL_POLL_INTERVAL).u8(0x21).u32(COUNT);
      globalCountdown();
      out.u8(0x04).u8(0x40);
      labels++;
    }
    out.u8(0x10).u32(h.poll).u8(0x22).u32(TMP).u8(0x24).u32(h.countdown).u8(0x20).u32(TMP);
    out.u8(0x45).u8(0x04).u8(0x40);
    unwindTo(k, toSave(1));
    out.u8(0x0b);
    if (local) {
      out.u8(0x0b);
      labels--;
    }
  };

  /**
   * Counts a loop header down; leaves 1 on the stack when it is time to poll. The
   * per-activation counter counts the `iterations` the header covers (an unrolled loop's
   * copies), so that polls stay as far apart as without unrolling.
   */
  const countdown = (iterations: number): void => {
    if (opts.loopPoll === 'local') {
      // In a register once V8 has optimized the function: `(count -= n) < 1`.
      out.u8(0x20).u32(COUNT).u8(0x41).s32(iterations).u8(0x6b).u8(0x22).u32(COUNT).u8(0x41).s32(1).u8(0x48);
    } else {
      // A global countdown (the host resets it at each poll, to as little as 1): every
      // loop header counts one, so that a loop re-entered after a poll runs a copy first.
      globalCountdown();
    }
  };
  /** `--countdown < 0`: below zero, not at zero, so that a loop re-entered after a poll runs its body before polling again. */
  const globalCountdown = (): void => {
    out.u8(0x23).u32(h.countdown).u8(0x41).s32(1).u8(0x6b).u8(0x22).u32(TMP).u8(0x24).u32(h.countdown).u8(0x20).u32(TMP).u8(0x41).s32(0).u8(0x48);
  };

  const labelArity = (depth: number): number => {
    if (depth === ctrl.length) return type.results.length;
    const c = ctrl[ctrl.length - 1 - depth];
    return c.op === 0x03 ? c.params.length : c.results.length;
  };

  /** Writes a branch's depth; notes it when it goes to the start of a loop being unrolled. */
  const branchDepth = (depth: number): void => {
    const u = depth < ctrl.length ? ctrl[ctrl.length - 1 - depth].unroll : undefined;
    if (u) u.backEdges.push(out.length);
    out.u32(remap(depth));
  };

  /** Writes copy `first[0 .. n)` of an unrolled body again, its back edges `delta` blocks further out, and its pc marks. */
  const writeCopy = (first: Uint8Array, u: Unrolling, marksEnd: number, delta: number): void => {
    const at = out.length;
    // Growth of the output, by offset in the first copy, where a depth's LEB gets longer.
    const grown: number[] = [];
    let from = 0;
    let shift = 0;
    for (const edge of u.backEdges) {
      const rel = edge - u.start;
      out.raw(first, from, rel);
      let value = 0;
      let len = 0;
      for (let b = 0x80; b & 0x80; len++) {
        b = first[rel + len];
        value |= (b & 0x7f) << (7 * len);
      }
      const before = out.length;
      out.u32(value + delta);
      shift += out.length - before - len;
      grown.push(rel + len, shift);
      from = rel + len;
    }
    out.raw(first, from, first.length);
    let g = 0;
    shift = 0;
    for (let j = u.marks; j < marksEnd; j++) {
      const rel = rewrittenPcs[j] - u.start;
      while (g < grown.length && grown[g] <= rel) {
        shift = grown[g + 1];
        g += 2;
      }
      rewrittenPcs.push(at + rel + shift);
      originalPcs.push(originalPcs[j]);
    }
  };

  /** Closes an original block (its results on the Wasm stack); a loop also closes its poll structure. */
  const closeBlock = (c: Ctrl): void => {
    const u = c.unroll;
    if (u) {
      // The end of the body leaves the loop: br $exit with the results; end $c1.
      out.u8(0x0c).u32(labels - 1 - (c.pollLabel - 2));
      const first = out.bytes.slice(u.start, out.length);
      const marksEnd = rewrittenPcs.length;
      out.u8(0x0b);
      for (let i = 2; i <= u.copies; i++) {
        out.u8(0x02).u8(0x40);
        writeCopy(first, u, marksEnd, i === u.copies ? 1 : 0);
        out.u8(0x0b);
      }
      // No copy falls through: unreachable; end $L; unreachable; end $poll
      out.u8(0x00).u8(0x0b).u8(0x00).u8(0x0b);
      labels -= 3;
    } else {
      out.u8(0x0b);
      labels--;
      if (c.op !== 0x03 || c.pollSite < 0) return;
      // end $L; br $exit (with the results); end $poll
      out.u8(0x0c).u32(2).u8(0x0b);
      labels--;
    }
    // poll; br $outer; end $outer; unreachable; end $exit
    callPoll(c.pollSite, opts.loopPoll === 'local');
    out.u8(0x0c).u32(0).u8(0x0b).u8(0x00).u8(0x0b);
    labels -= 2;
  };

  // ---- prologue: the save and body blocks, and the entry checks
  out.u8(0x02).u8(0x40);
  out.u8(0x02);
  blockType(type.results);
  const entryPoll = !resume && opts.loopPoll !== 'none' && (opts.recursive || (opts.loopPoll === 'local' && hasLoop(bytes, body.codeStart, body.codeEnd)));
  if (resume) {
    // The saved operand stack goes into the scratch locals of its positions; skip until the safepoint.
    resume.stackTypes.forEach((t, p) => { localGet(numLocals + p); localSet(SCRATCH + scratch(p, t)); });
    out.u8(0x41).s32(1).u8(0x21).u32(RS);
  }
  if (!resume && (opts.recursive || entryPoll)) {
    const k = site(body.codeStart, 0, 0, 'entry');
    if (opts.recursive) {
      // depth -= cost; if (depth < 0) unwind (the native stack is about to run out).
      out.u8(0x23).u32(h.depth).u8(0x41).s32(opts.frameCost).u8(0x6b);
      out.u8(0x22).u32(TMP).u8(0x24).u32(h.depth).u8(0x20).u32(TMP);
      out.u8(0x41).s32(0).u8(0x48).u8(0x04).u8(0x40);
      out.u8(0x10).u32(h.deep);
      unwindTo(k, toSave(1));
      out.u8(0x0b);
    }
    if (entryPoll) {
      // Entries count down the global countdown: recursion without loops polls here,
      // and so do many short activations whose own counters never run out.
      globalCountdown();
      out.u8(0x04).u8(0x40);
      labels++;
      callPoll(k, false);
      out.u8(0x0b);
      labels--;
    }
  }
  if (opts.loopPoll === 'local') out.u8(0x41).s32(LOCAL_POLL_INTERVAL).u8(0x21).u32(COUNT);

  const reader = new InstructionReader(bytes, body.codeStart, body.codeEnd);
  const ins = createInstr();
  let dead = false;
  let deadNest = 0;

  while (!v.finished) {
    reader.read(ins);
    const op = ins.op;
    const start = ins.offset;
    const next = reader.pos;

    if (dead) {
      v.step(ins);
      if (op === 0x02 || op === 0x03 || op === 0x04) deadNest++;
      else if (op === 0x0b) {
        if (deadNest > 0) deadNest--;
        else {
          // The end of the block that went dead: its results arrive by branches, on the Wasm stack.
          if (ctrl.length === 0) {
            out.u8(0x0b);
            continue;
          }
          const c = ctrl.pop()!;
          closeBlock(c);
          pop(types.length - c.base);
          for (const t of c.results) push(t);
          dead = false;
        }
      } else if (op === 0x05 && deadNest === 0) {
        const c = ctrl[ctrl.length - 1];
        if (guardOpen && ctrl.length === pathDepth) {
          // A then-branch skipped while resuming ended in a branch: close its guard.
          out.u8(0x0b);
          labels--;
          guardOpen = false;
        }
        out.u8(0x05);
        pop(types.length - c.base);
        for (const t of c.params) push(t);
        dead = false;
      }
      continue;
    }

    let pathChild: PathStep | undefined;
    if (!siteReached && ctrl.length === pathDepth) {
      const step = path![pathDepth];
      if (step !== undefined && start === step.offset) {
        closeGuard();
        pathChild = step;
      } else if (op === 0x05 || op === 0x0b) {
        closeGuard();
      } else if (!guardOpen) {
        openGuard();
      }
    }

    const heightBefore = v.height;
    switch (op) {
      case 0x02: case 0x04: {
        const bt: FuncType = v.blockType(ins.a, start);
        const np = bt.params.length;
        const extra = op === 0x04 ? 1 : 0;
        isolate(np + extra);
        if (pathChild && op === 0x04) {
          // Resuming takes the branch the safepoint is in: $rs ? branch : condition.
          out.u8(0x21).u32(TMP).u8(0x41).s32(pathChild.inElse ? 0 : 1).u8(0x20).u32(TMP).u8(0x20).u32(RS).u8(0x1b);
        }
        copy(start, next);
        v.step(ins);
        if (extra) pop(1);
        ctrl.push({ op, base: types.length - np, params: bt.params, results: bt.results, label: labels++, pollSite: -1, pollLabel: -1 });
        if (pathChild) pathDepth++;
        continue;
      }
      case 0x03: {
        const bt: FuncType = v.blockType(ins.a, start);
        const np = bt.params.length;
        if (opts.loopPoll === 'none') {
          isolate(np);
          copy(start, next);
          v.step(ins);
          ctrl.push({ op, base: types.length - np, params: bt.params, results: bt.results, label: labels++, pollSite: -1, pollLabel: -1 });
          if (pathChild) {
            pathDepth++;
            if (pathDepth === path!.length && resume!.kind === 'loop') {
              spillAll();
              reachSite();
            }
          }
          continue;
        }
        // The poll's call stays out of the loop (a call inside keeps V8 from optimizing it):
        //   block $exit (result R)  loop $outer  block $poll  [params]  loop $L ... end
        //   br $exit  end  poll  br $outer  end  unreachable  end
        need(np);
        spillAll();
        out.u8(0x02);
        blockType(bt.results);
        out.u8(0x03).u8(0x40).u8(0x02).u8(0x40);
        const pollLabel = labels + 2;
        labels += 3;
        reload(np);
        copy(start, next);
        v.step(ins);
        const c: Ctrl = { op, base: types.length - np, params: bt.params, results: bt.results, label: labels++, pollSite: -1, pollLabel };
        ctrl.push(c);
        // The loop header: every value in scratch locals, the safepoint, the countdown.
        spillAll();
        c.pollSite = site(next, 0, 0);
        let guarded = false;
        if (pathChild) {
          pathDepth++;
          if (pathDepth === path!.length && resume!.kind === 'loop') reachSite();
          else {
            // A loop on the way to the safepoint: its header counts only once resumed.
            out.u8(0x20).u32(RS).u8(0x45).u8(0x04).u8(0x40);
            labels++;
            guarded = true;
          }
        }
        // A clone's loop on the way to its safepoint stays whole: the skipping enters it once.
        const copies = pathChild ? undefined : unrolled?.get(start);
        countdown(copies ?? 1);
        out.u8(0x0d).u32(labels - 1 - pollLabel);
        if (guarded) {
          out.u8(0x0b);
          labels--;
        }
        if (copies !== undefined) {
          // The first copy's block: branches to the loop's start go to its end, into the next copy.
          out.u8(0x02).u8(0x40);
          c.label = labels++;
          c.unroll = { copies, start: out.length, marks: rewrittenPcs.length, backEdges: [] };
        }
        continue;
      }
      case 0x05: {
        const c = ctrl[ctrl.length - 1];
        need(c.results.length);
        out.u8(0x05);
        v.step(ins);
        pop(types.length - c.base);
        for (const t of c.params) push(t);
        continue;
      }
      case 0x0b: {
        if (ctrl.length === 0) {
          need(type.results.length);
          out.u8(0x0b);
          v.step(ins);
          continue;
        }
        const c = ctrl.pop()!;
        need(c.results.length);
        closeBlock(c);
        v.step(ins);
        pop(types.length - c.base);
        for (const t of c.results) push(t);
        continue;
      }
      case 0x0c: {
        need(labelArity(ins.a));
        out.u8(0x0c);
        branchDepth(ins.a);
        v.step(ins);
        dead = true;
        deadNest = 0;
        continue;
      }
      case 0x0e: {
        need(labelArity(ins.b) + 1);
        out.u8(0x0e).u32(ins.a);
        for (let i = 0; i < ins.a; i++) branchDepth(ins.targets[i]);
        branchDepth(ins.b);
        v.step(ins);
        dead = true;
        deadNest = 0;
        continue;
      }
      case 0x0d: {
        need(labelArity(ins.a) + 1);
        out.u8(0x0d);
        branchDepth(ins.a);
        v.step(ins);
        pop(1);
        continue;
      }
      case 0x0f: {
        need(type.results.length);
        // With an epilogue (recursive functions), a return goes through the body block's end.
        if (opts.recursive) out.u8(0x0c).u32(labels - 1 - BODY_LABEL);
        else out.u8(0x0f);
        v.step(ins);
        dead = true;
        deadNest = 0;
        continue;
      }
      case 0x00: {
        copy(start, next);
        v.step(ins);
        dead = true;
        deadNest = 0;
        continue;
      }
      case 0x10: case 0x11: {
        const direct = op === 0x10;
        const ft = direct ? ctx.types[ctx.funcTypeIndices[ins.a]] : ctx.types[ins.a];
        const operands = ft.params.length + (direct ? 0 : 1);
        isolate(operands);
        mark(start);
        if (direct) out.u8(0x10).u32(opts.remapFunc(ins.a));
        else copy(start, next);
        v.step(ins);
        pop(operands);
        for (const t of ft.results) push(t);
        // A Wasm callee that unwound saved its own frame; an import or an indirect callee
        // may be a host function that returned and asked for a pause: keep its results.
        const target = !siteReached && next === resume!.pc && resume!.kind === 'call' && ctrl.length === pathDepth && pathDepth === path!.length;
        const mayBeHost = !direct || ins.a < module.numImportedFuncs || target;
        let k: number;
        if (mayBeHost) {
          spillAll();
          k = site(next, 0, ft.results.length, 'call', ft.results);
        } else {
          k = site(next, ft.results.length, 0, 'call', ft.results);
        }
        if (opts.afterCall !== 'none') {
          out.u8(0x23).u32(h.unwinding).u8(0x04).u8(0x40);
          unwindTo(k, toSave(1));
          out.u8(0x0b);
        }
        if (target) {
          // The callee's results come from the clone's parameters when resuming.
          closeGuard();
          reachSite();
        }
        continue;
      }
      case 0x1a: {
        if (place[types.length - 1] === L) {
          // The value lives in a scratch local: dropping it needs no code.
          v.step(ins);
          pop(1);
          continue;
        }
        break;
      }
      case 0x40: {
        // memory.grow, held to the embedder's limit (the memory's own maximum may be higher).
        need(1);
        mark(start);
        out.u8(0x22).u32(TMP).u8(0xad).u8(0x3f).u8(0x00).u8(0xad).u8(0x7c);
        out.u8(0x23).u32(h.maxPages).u8(0xad).u8(0x56);
        out.u8(0x04).u8(ValType.i32).u8(0x41).s32(-1).u8(0x05).u8(0x20).u32(TMP).u8(0x40).u8(0x00).u8(0x0b);
        v.step(ins);
        pop(1);
        push(ValType.i32);
        continue;
      }
      case PREFIX_FC + 9: case PREFIX_FC + 13: {
        // data.drop / elem.drop: tell the host, which keeps the interpreter's view in step.
        out.u8(0x41).s32(ins.a).u8(0x10).u32(op === PREFIX_FC + 9 ? h.droppedData : h.droppedElem);
        copy(start, next);
        v.step(ins);
        continue;
      }
      case 0xd2: {
        out.u8(0xd2).u32(opts.remapFunc(ins.a));
        v.step(ins);
        push(ValType.funcref);
        continue;
      }
    }
    // Plain instructions: operands from the top of the stack, at most one result.
    const pops = popsOf(op);
    need(pops);
    copy(start, next);
    v.step(ins);
    const pushes = v.height - heightBefore + pops;
    pop(pops);
    for (let i = pushes; i > 0; i--) push(v.vals[v.vals.length - i]);
  }

  if (!siteReached) throw new Error(`internal: the resume target 0x${resume!.pc.toString(16)} of function ${funcIndex} was not reached`);
  // ---- epilogue and the save sequence
  if (opts.recursive && !resume) {
    out.u8(0x23).u32(h.depth).u8(0x41).s32(opts.frameCost).u8(0x6a).u8(0x24).u32(h.depth);
  }
  out.u8(0x0f).u8(0x0b);
  if (sites.length === 0) {
    // No safepoint can branch to $save: the code after it is unreachable.
    out.u8(0x00).u8(0x0b);
    return finish(resume ? [] : body.locals, resume !== undefined, out, { funcIndex, numLocals, localTypes, scratchTypes, sites, recursive: opts.recursive, rewrittenPcs: Int32Array.from(rewrittenPcs), originalPcs: Int32Array.from(originalPcs), codeOffset: 0 });
  }
  out.u8(0x41).s32(funcIndex).u8(0x20).u32(SITE).u8(0x10).u32(h.frame);
  const saveLocal = (index: number, t: number): void => {
    localGet(index);
    switch (t) {
      case ValType.i32: out.u8(0x10).u32(h.saveI32); break;
      case ValType.f32: out.u8(0xbc).u8(0x10).u32(h.saveI32); break;
      case ValType.i64: out.u8(0x10).u32(h.saveI64); break;
      case ValType.f64: out.u8(0xbd).u8(0x10).u32(h.saveI64); break;
      case ValType.funcref: out.u8(0x10).u32(h.saveRef); break;
      case ValType.externref: out.u8(0x10).u32(h.saveExt); break;
      default: throw new Error(`internal: cannot save a local of type 0x${t.toString(16)}`);
    }
  };
  for (let i = 0; i < numLocals; i++) saveLocal(i, localTypes[i]);
  for (let s = 0; s < scratchTypes.length; s++) saveLocal(SCRATCH + s, scratchTypes[s]);
  for (const t of type.results) zero(out, t);
  out.u8(0x0b);
  return finish(resume ? [] : body.locals, resume !== undefined, out, { funcIndex, numLocals, localTypes, scratchTypes, sites, recursive: opts.recursive, rewrittenPcs: Int32Array.from(rewrittenPcs), originalPcs: Int32Array.from(originalPcs), codeOffset: 0 });
}

/** Prefixes the code with its local declarations: the declared ones, then $site, $tmp, $count, and the scratch locals. */
function finish(declared: readonly number[], resumeFlag: boolean, out: ByteWriter, info: RewrittenFunction): { body: Uint8Array; info: RewrittenFunction } {
  const decl = new ByteWriter();
  const runs: [number, number][] = [];
  const addRun = (t: number): void => {
    const last = runs[runs.length - 1];
    if (last && last[1] === t) last[0]++;
    else runs.push([1, t]);
  };
  for (const t of declared) addRun(t);
  addRun(ValType.i32);
  addRun(ValType.i32);
  addRun(ValType.i32);
  if (resumeFlag) addRun(ValType.i32);
  for (const t of info.scratchTypes) addRun(t);
  decl.u32(runs.length);
  for (const [n, t] of runs) decl.u32(n).u8(t);
  const whole = new ByteWriter();
  whole.append(decl).append(out);
  // Until the module rewriter places the body: relative to the body's start.
  info.codeOffset = decl.length;
  return { body: whole.toBytes(), info };
}

/** Pushes the zero value of a type. */
export function zero(out: ByteWriter, t: number): void {
  switch (t) {
    case ValType.i32: out.u8(0x41).s32(0); break;
    case ValType.i64: out.u8(0x42).s32(0); break;
    case ValType.f32: out.u8(0x43).raw([0, 0, 0, 0]); break;
    case ValType.f64: out.u8(0x44).raw([0, 0, 0, 0, 0, 0, 0, 0]); break;
    case ValType.funcref: case ValType.externref: out.u8(0xd0).u8(t); break;
    default: throw new Error(`internal: no zero of type 0x${t.toString(16)}`);
  }
}
