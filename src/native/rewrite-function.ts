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
import type { Instr } from '../binary/index.ts';
import { walkBody } from '../validate/index.ts';
import type { BodyVisitor, FunctionValidator, ModuleContext } from '../validate/index.ts';
import { OPS, PREFIX_FC, ValType } from '../wasm/index.ts';
import type { FuncType, FuncBody, Module } from '../wasm/index.ts';
import { BodyWriter } from './body-writer.ts';
import { CanonicalStack } from './canonical-stack.ts';
import { ByteWriter } from '../binary/index.ts';
import { expandCaught, scanHandlers } from './exception-scan.ts';
import type { HandlerScan } from './exception-scan.ts';
import { writeCopy } from './loop-unrolling.ts';
import type { Unrolling } from './loop-unrolling.ts';
import { PollCode } from './poll-code.ts';
import { ResumeSkipping } from './resume-path.ts';
import type { PathStep } from './resume-path.ts';
import { writeSaveSequence } from './save-sequence.ts';
import { LocalLiveness } from './local-liveness.ts';

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
  /** `sv(lo, hi)`: saves a v128 local as its two i64 halves. */
  saveV128: number;
  /** `th(funcIndex, pc)`: a `throw` or `rethrow` is about to run there (where an uncaught exception was thrown). */
  thrown: number;
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
  /**
   * The body is the original one, byte for byte (a plain rewrite, `RewriteOptions.plain`):
   * an offset maps by a shift, `originalPcs[0]` being the original offset of `rewrittenPcs[0]`.
   */
  verbatim?: boolean;
}

export interface FunctionRewriteOptions {
  /** Maps an original function index to the rewritten module's index. */
  remapFunc: (index: number) => number;
  helpers: HelperIndices;
  /** Type index of `[] -> results`, for blocks with several results. */
  blockType: (results: readonly number[]) => number;
  recursive: boolean;
  /**
   * The function is on a cycle of the call graph (tail calls included): it polls at its
   * entry, where a tail recursion, which has no loop header, comes round.
   */
  cyclic?: boolean;
  /**
   * Whether a call to function `funcIndex` (original index, a defined function) may
   * return the results of a host function it tail-called (`BodyScan.endsInHost`): the
   * call's safepoint then keeps the results, as after a call to an import.
   */
  endsInHost?: (funcIndex: number) => boolean;
  /**
   * Whether function `funcIndex` (original index, a defined function) can never unwind
   * (`BodyScan.quiet`): a call to it needs no after-call check. Each check is a branch
   * to `$save` that carries every local, which V8's optimizing compiler pays for.
   */
  quiet?: (funcIndex: number) => boolean;
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
  /** See `RewriteOptions.keepDeadLocals`. */
  keepDeadLocals?: boolean;
  /**
   * Innermost loops to unroll: the offset of their `loop` instruction to the number of
   * copies of the body per header check (see `planUnrolling`). The check costs a few
   * instructions per iteration, a sizeable share of a tight loop's time.
   */
  unrolled?: ReadonlyMap<number, number>;
  /** Build a resume clone instead (see {@link ResumeTarget}). */
  resume?: ResumeTarget;
  /** The body has a legacy `try` (`BodyScan.tries`): its handlers are scanned for safepoints. */
  legacyTry?: boolean;
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

/** An original block being rewritten. */
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
  /** A legacy try (op 0x06, then 0x07 / 0x19 in its clauses): its offset. */
  tryAt?: number;
  /** The try's own block (`label` is the inner recording try's while that one is open). */
  tryLabel?: number;
  /** The scratch local of its recording area (-1: none; see `catchClause`). */
  area?: number;
  /** Its inner recording try is open (the body is being written). */
  inner?: boolean;
}

/** The label index of $body, the original function's own label. */
const BODY_LABEL = 1;

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

/** Values popped by the plain (non-control, non-call) instructions, from the opcode table. */
function popsOf(op: number): number {
  const pops = OPS[op]?.pops ?? -1;
  if (pops < 0) throw new Error(`internal: no operand count for opcode 0x${op.toString(16)}`);
  return pops;
}

/** Rewrites the body of defined function `codeIndex`; returns its encoded body and its safepoints. */
export function rewriteFunction(ctx: ModuleContext, codeIndex: number, opts: FunctionRewriteOptions): { body: Uint8Array; info: RewrittenFunction } {
  return new FunctionRewriter(ctx, codeIndex, opts).rewrite();
}

/**
 * One function body rewritten: a walk over the original instructions, in step with the
 * validator, that copies each one and adds what safepoints need. Its parts: the body being
 * written (body-writer.ts), the canonical stack model (canonical-stack.ts), the poll and
 * unwinding code (poll-code.ts), the skipping of a resume clone (resume-path.ts), the
 * unrolled loops (loop-unrolling.ts) and the save sequence (save-sequence.ts).
 */
export class FunctionRewriter implements BodyVisitor {
  private readonly module: Module;
  private readonly funcIndex: number;
  private readonly body: FuncBody;
  private readonly type: FuncType;
  /** The validator of the walk, and its stack height before the current instruction. */
  private v!: FunctionValidator;
  private heightBefore = 0;
  /** Parameters plus declared locals. */
  private readonly numLocals: number;
  private readonly localTypes: number[];
  private readonly resume: ResumeTarget | undefined;
  /** The rewritten body's own locals: `$site`, `$tmp`, `$count` (in PollCode), `$rs` (resume clones only). */
  private readonly siteLocal: number;
  private readonly tmpLocal: number;
  private readonly resumeFlag: number;
  private readonly w: BodyWriter;
  private readonly stack: CanonicalStack;
  private readonly poll: PollCode;
  /** Which locals each safepoint must keep (the others leave as zeros): undefined where not analysed; null until a safepoint first asks. */
  private liveness: LocalLiveness | undefined | null = null;
  private readonly skipping: ResumeSkipping;
  /** Original blocks open around the current instruction. */
  private readonly ctrl: Ctrl[] = [];
  private readonly sites: Safepoint[] = [];
  private readonly unrolled: ReadonlyMap<number, number> | undefined;
  /** The code after a branch, up to the end of its block, is dead: it is validated but not written. */
  private dead = false;
  /** Blocks opened in dead code. */
  private deadNest = 0;
  /** The handlers that hold safepoints (legacy exception handling). */
  private readonly handlers: HandlerScan | undefined;
  /** In a resume clone: the parameter (local index) where each caught exception of the saved stack starts, by stack position. */
  private readonly resumeCaught = new Map<number, number>();
  /** The local that keeps the recursion budget as it stood on entry, for handlers to restore (-1: no handler). */
  private depthLocal = -1;

  constructor(private readonly ctx: ModuleContext, private readonly codeIndex: number, private readonly opts: FunctionRewriteOptions) {
    const module = ctx.module;
    this.module = module;
    this.funcIndex = module.numImportedFuncs + codeIndex;
    this.body = module.codes[codeIndex];
    this.type = ctx.types[module.funcs[codeIndex]];
    this.numLocals = this.type.params.length + this.body.locals.length;
    this.localTypes = [...this.type.params, ...this.body.locals];
    this.resume = opts.resume;
    // A resume clone takes its locals and the saved operand stack as parameters.
    // A caught exception (exnref) comes as plain values (`caughtValueTypes`).
    const base = this.resume ? this.numLocals + expandCaught(this.resume.stackTypes, ctx).length : this.numLocals;
    this.siteLocal = base;
    this.tmpLocal = base + 1;
    this.resumeFlag = this.resume ? base + 3 : -1;
    const scratchBase = this.resume ? base + 4 : base + 3;
    this.w = new BodyWriter(module.bytes);
    this.stack = new CanonicalStack(this.w, scratchBase);
    this.poll = new PollCode(this.w, opts.helpers, { site: base, tmp: this.tmpLocal, count: base + 2 }, opts.loopPoll, (k) => this.clearDead(k));
    this.skipping = new ResumeSkipping(this.resume, { bytes: module.bytes, start: this.body.codeStart, end: this.body.codeEnd, funcIndex: this.funcIndex }, this.w, this.stack, this.resumeFlag);
    this.unrolled = opts.loopPoll === 'none' ? undefined : opts.unrolled;
    this.handlers = opts.legacyTry === true ? scanHandlers(module.bytes, this.body.codeStart, this.body.codeEnd) : undefined;
  }

  rewrite(): { body: Uint8Array; info: RewrittenFunction } {
    this.prologue();
    walkBody(this.ctx, this.codeIndex, this);
    if (!this.skipping.reached) throw new Error(`internal: the resume target 0x${this.resume!.pc.toString(16)} of function ${this.funcIndex} was not reached`);
    return this.epilogue();
  }

  /** The save and body blocks, and the entry checks. */
  private prologue(): void {
    const { opts, resume, stack } = this;
    const out = this.w.out;
    out.u8(0x02).u8(0x40);
    out.u8(0x02);
    this.blockType(this.type.results);
    const entryPoll = !resume && opts.loopPoll !== 'none' &&
      (opts.recursive || opts.cyclic === true || (opts.loopPoll === 'local' && hasLoop(this.module.bytes, this.body.codeStart, this.body.codeEnd)));
    if (resume) {
      // The saved operand stack goes into the scratch locals of its positions; skip until the safepoint.
      let q = this.numLocals;
      resume.stackTypes.forEach((t, p) => {
        if (t === ValType.exnref) {
          // A handler's exception: thrown again in its try body when the skipping gets there (`rethrowOnResume`).
          this.resumeCaught.set(p, q);
          q += this.tagOffset(this.ctx.tagTypeIndices.length);
          return;
        }
        this.w.localGet(q++);
        this.w.localSet(stack.scratchBase + stack.scratch(p, t));
      });
      out.u8(0x41).s32(1).u8(0x21).u32(this.resumeFlag);
    }
    if (!resume && (opts.recursive || entryPoll)) {
      const k = this.site(this.body.codeStart, 0, 0, 'entry');
      if (opts.recursive) this.poll.stackBudgetCheck(k, opts.frameCost);
      if (entryPoll) this.poll.entryPoll(k);
    }
    if (opts.loopPoll === 'local') this.poll.startCounter();
    if (this.handlers?.catches === true) {
      // An exception skips the budget's release in the frames it leaves: a handler
      // sets it back to what it was on entry (after this function's own charge).
      this.depthLocal = stack.scratchBase + stack.fresh(ValType.i32);
      out.u8(0x23).u32(opts.helpers.depth);
      this.w.localSet(this.depthLocal);
    }
  }

  /** Before each instruction: the walk's validator, and its stack height before the instruction. */
  before(_ins: Instr, v: FunctionValidator): void {
    this.v = v;
    this.heightBefore = v.height;
  }

  /** Each instruction, once the validator has stepped over it; `next` is the offset after it. */
  after(ins: Instr, _v: FunctionValidator, next: number): void {
    if (this.dead) this.skipDead(ins);
    else this.instruction(ins, next);
  }

  /** Dead code: validated, not written, until the end (or else) of the block that went dead. */
  private skipDead(ins: Instr): void {
    const op = ins.op;
    const stack = this.stack;
    if (op === 0x02 || op === 0x03 || op === 0x04 || op === 0x06) this.deadNest++;
    else if ((op === 0x07 || op === 0x19) && this.deadNest === 0) {
      // The try body went dead; its handler is live.
      this.skipping.closeDeadGuard(this.ctrl.length);
      this.dead = false;
      this.catchClause(ins, this.nextOf(ins), false);
    } else if (op === 0x18) {
      if (this.deadNest > 0) this.deadNest--;
      else {
        this.dead = false;
        this.delegate(ins, false);
      }
    } else if (op === 0x0b) {
      if (this.deadNest > 0) this.deadNest--;
      else {
        // The end of the block that went dead: its results arrive by branches, on the Wasm stack.
        if (this.ctrl.length === 0) {
          this.w.out.u8(0x0b);
          return;
        }
        const c = this.ctrl.pop()!;
        this.closeBlock(c);
        stack.popTo(c.base);
        for (const t of c.results) stack.push(t);
        this.dead = false;
      }
    } else if (op === 0x05 && this.deadNest === 0) {
      const c = this.ctrl[this.ctrl.length - 1];
      this.skipping.closeDeadGuard(this.ctrl.length);
      this.w.out.u8(0x05);
      stack.popTo(c.base);
      for (const t of c.params) stack.push(t);
      this.dead = false;
    }
  }

  /** Rewrites one live instruction; `next` is the offset after it. */
  private instruction(ins: Instr, next: number): void {
    const op = ins.op;
    const start = ins.offset;
    const pathChild = this.skipping.before(op, start, this.ctrl.length);
    switch (op) {
      case 0x02: case 0x04: return this.block(ins, next, pathChild);
      case 0x03: return this.loop(ins, next, pathChild);
      case 0x05: return this.elseBranch(ins);
      case 0x0b: return this.end(ins);
      case 0x06: return this.tryBlock(ins, next, pathChild);
      case 0x07: case 0x19: return this.catchClause(ins, next, true);
      case 0x18: return this.delegate(ins, true);
      case 0x08: {
        this.stack.need(this.tagParams(ins.a).length);
        this.noteThrow(start);
        this.w.copy(start, next);
        return this.goDead();
      }
      case 0x09: {
        this.noteThrow(start);
        this.w.mark(start);
        this.w.out.u8(0x09).u32(this.remap(ins.a));
        return this.goDead();
      }
      case 0x0c: {
        this.stack.need(this.labelArity(ins.a));
        this.w.out.u8(0x0c);
        this.branchDepth(ins.a);
        return this.goDead();
      }
      case 0x0e: {
        this.stack.need(this.labelArity(ins.b) + 1);
        this.w.out.u8(0x0e).u32(ins.a);
        for (let i = 0; i < ins.a; i++) this.branchDepth(ins.targets[i]);
        this.branchDepth(ins.b);
        return this.goDead();
      }
      case 0x0d: {
        this.stack.need(this.labelArity(ins.a) + 1);
        this.w.out.u8(0x0d);
        this.branchDepth(ins.a);
        this.stack.pop(1);
        return;
      }
      case 0x0f: {
        this.stack.need(this.type.results.length);
        // With an epilogue (recursive functions), a return goes through the body block's end.
        if (this.opts.recursive) this.w.out.u8(0x0c).u32(this.w.depthOf(BODY_LABEL));
        else this.w.out.u8(0x0f);
        return this.goDead();
      }
      case 0x00: {
        this.w.copy(start, next);
        return this.goDead();
      }
      case 0x10: case 0x11: return this.call(ins, next);
      case 0x12: case 0x13: return this.tailCall(ins, next);
      case 0x1a: {
        if (this.stack.inScratch(this.stack.height - 1)) {
          // The value lives in a scratch local: dropping it needs no code.
          this.stack.pop(1);
          return;
        }
        break;
      }
      case 0x40: return this.memoryGrow(ins);
      case PREFIX_FC + 9: case PREFIX_FC + 13: {
        // data.drop / elem.drop: tell the host, which keeps the interpreter's view in step.
        this.w.out.u8(0x41).s32(ins.a).u8(0x10).u32(op === PREFIX_FC + 9 ? this.opts.helpers.droppedData : this.opts.helpers.droppedElem);
        this.w.copy(start, next);
        return;
      }
      case 0xd2: {
        this.w.out.u8(0xd2).u32(this.opts.remapFunc(ins.a));
        this.stack.push(ValType.funcref);
        return;
      }
    }
    // Plain instructions: operands from the top of the stack, at most one result.
    const pops = popsOf(op);
    this.stack.need(pops);
    this.w.copy(start, next);
    const pushes = this.v.height - this.heightBefore + pops;
    this.stack.pop(pops);
    for (let i = pushes; i > 0; i--) this.stack.push(this.v.vals[this.v.vals.length - i]);
  }

  /** `block` and `if`: their parameters (and an if's condition) alone on the Wasm stack. */
  private block(ins: Instr, next: number, pathChild: PathStep | undefined): void {
    const op = ins.op;
    const start = ins.offset;
    const stack = this.stack;
    const bt: FuncType = this.v.blockType(ins.a, start);
    const np = bt.params.length;
    const extra = op === 0x04 ? 1 : 0;
    stack.isolate(np + extra);
    if (pathChild && op === 0x04) {
      // Resuming takes the branch the safepoint is in: $rs ? branch : condition.
      const tmp = this.tmpLocal;
      this.w.out.u8(0x21).u32(tmp).u8(0x41).s32(pathChild.inElse ? 0 : 1).u8(0x20).u32(tmp).u8(0x20).u32(this.resumeFlag).u8(0x1b);
    }
    this.w.copy(start, next);
    if (extra) stack.pop(1);
    this.ctrl.push({ op, base: stack.height - np, params: bt.params, results: bt.results, label: this.w.labels++, pollSite: -1, pollLabel: -1 });
    if (pathChild) this.skipping.enter();
  }

  /**
   * `loop`: a safepoint at its header, polled through a countdown. The poll's call stays
   * out of the loop (a call inside keeps V8 from optimizing it):
   *   block $exit (result R)  loop $outer  block $poll  [params]  loop $L ... end
   *   br $exit  end  poll  br $outer  end  unreachable  end
   */
  private loop(ins: Instr, next: number, pathChild: PathStep | undefined): void {
    const start = ins.offset;
    const { stack, w, skipping } = this;
    const out = w.out;
    const bt: FuncType = this.v.blockType(ins.a, start);
    const np = bt.params.length;
    if (this.opts.loopPoll === 'none') {
      stack.isolate(np);
      w.copy(start, next);
      this.ctrl.push({ op: 0x03, base: stack.height - np, params: bt.params, results: bt.results, label: w.labels++, pollSite: -1, pollLabel: -1 });
      if (pathChild) {
        skipping.enter();
        if (skipping.enteredTargetLoop()) {
          stack.spillAll();
          skipping.reach();
        }
      }
      return;
    }
    stack.need(np);
    stack.spillAll();
    out.u8(0x02);
    this.blockType(bt.results);
    out.u8(0x03).u8(0x40).u8(0x02).u8(0x40);
    const pollLabel = w.labels + 2;
    w.labels += 3;
    stack.reload(np);
    w.copy(start, next);
    const c: Ctrl = { op: 0x03, base: stack.height - np, params: bt.params, results: bt.results, label: w.labels++, pollSite: -1, pollLabel };
    this.ctrl.push(c);
    // The loop header: every value in scratch locals, the safepoint, the countdown.
    stack.spillAll();
    c.pollSite = this.site(next, 0, 0);
    let guarded = false;
    if (pathChild) {
      skipping.enter();
      if (skipping.enteredTargetLoop()) skipping.reach();
      else {
        // A loop on the way to the safepoint: its header counts only once resumed.
        out.u8(0x20).u32(this.resumeFlag).u8(0x45).u8(0x04).u8(0x40);
        w.labels++;
        guarded = true;
      }
    }
    // A clone's loop on the way to its safepoint stays whole: the skipping enters it once.
    const copies = pathChild ? undefined : this.unrolled?.get(start);
    this.poll.countdown(copies ?? 1);
    out.u8(0x0d).u32(w.depthOf(pollLabel));
    if (guarded) {
      out.u8(0x0b);
      w.labels--;
    }
    if (copies !== undefined) {
      // The first copy's block: branches to the loop's start go to its end, into the next copy.
      out.u8(0x02).u8(0x40);
      c.label = w.labels++;
      c.unroll = { copies, start: out.length, marks: w.rewrittenPcs.length, backEdges: [] };
    }
  }

  private elseBranch(ins: Instr): void {
    const c = this.ctrl[this.ctrl.length - 1];
    this.stack.need(c.results.length);
    this.w.out.u8(0x05);
    this.stack.popTo(c.base);
    for (const t of c.params) this.stack.push(t);
  }

  private end(ins: Instr): void {
    if (this.ctrl.length === 0) {
      this.stack.need(this.type.results.length);
      this.w.out.u8(0x0b);
      return;
    }
    const c = this.ctrl.pop()!;
    this.stack.need(c.results.length);
    this.closeBlock(c);
    this.stack.popTo(c.base);
    for (const t of c.results) this.stack.push(t);
  }

  /** `call` / `call_indirect`: its operands alone on the Wasm stack, then a safepoint after it. */
  private call(ins: Instr, next: number): void {
    const { ctx, stack, w, skipping } = this;
    const start = ins.offset;
    const direct = ins.op === 0x10;
    const ft = direct ? ctx.types[ctx.funcTypeIndices[ins.a]] : ctx.types[ins.a];
    const operands = ft.params.length + (direct ? 0 : 1);
    stack.isolate(operands);
    w.mark(start);
    if (direct) w.out.u8(0x10).u32(this.opts.remapFunc(ins.a));
    else w.copy(start, next);
    stack.pop(operands);
    for (const t of ft.results) stack.push(t);
    // A Wasm callee that unwound saved its own frame; an import or an indirect callee
    // may be a host function that returned and asked for a pause: keep its results.
    const target = skipping.isTargetCall(next, this.ctrl.length);
    const mayBeHost = !direct || ins.a < this.module.numImportedFuncs || target || this.opts.endsInHost?.(ins.a) === true;
    let k: number;
    if (mayBeHost) {
      stack.spillAll();
      k = this.site(next, 0, ft.results.length, 'call', ft.results);
    } else {
      k = this.site(next, ft.results.length, 0, 'call', ft.results);
    }
    if (this.opts.afterCall !== 'none' && !(direct && this.opts.quiet?.(ins.a) === true)) {
      w.out.u8(0x23).u32(this.opts.helpers.unwinding).u8(0x04).u8(0x40);
      this.poll.unwindTo(k, w.depthToSave(1));
      w.out.u8(0x0b);
    }
    if (target) {
      // The callee's results come from the clone's parameters when resuming.
      skipping.closeGuard();
      skipping.reach();
    }
  }

  /**
   * `return_call` / `return_call_indirect`: the callee takes the frame's place, natively
   * as in the interpreter, so no safepoint follows (control does not come back) and the
   * frames a pause finds after it are the interpreter's. Values below the arguments are
   * discarded, wherever they are. A recursive function gives its stack budget back
   * first: the frame it was counted for is gone, and an endless tail recursion must not
   * run the budget out.
   */
  private tailCall(ins: Instr, next: number): void {
    const { ctx, w } = this;
    const direct = ins.op === 0x12;
    const ft = direct ? ctx.types[ctx.funcTypeIndices[ins.a]] : ctx.types[ins.a];
    this.stack.need(ft.params.length + (direct ? 0 : 1));
    if (this.opts.recursive && !this.resume) this.poll.stackBudgetRelease(this.opts.frameCost);
    w.mark(ins.offset);
    if (direct) w.out.u8(0x12).u32(this.opts.remapFunc(ins.a));
    else w.out.raw(this.module.bytes, ins.offset, next);
    return this.goDead();
  }

  /**
   * Tells the host where a throw is (a call per throw, beside V8's microseconds for the
   * throw itself): an exception no frame catches is reported thrown there, as the
   * interpreter reports it (V8 gives a Wasm exception no stack trace).
   */
  private noteThrow(pc: number): void {
    this.w.out.u8(0x41).s32(this.funcIndex).u8(0x41).s32(pc).u8(0x10).u32(this.opts.helpers.thrown);
  }

  /** The parameters of tag `index`. */
  private tagParams(index: number): readonly number[] {
    return this.ctx.types[this.ctx.tagTypeIndices[index]].params;
  }

  /** Where tag `index`'s values go in a recording area, after its first local (which tag). */
  private tagOffset(index: number): number {
    let at = 1;
    for (let j = 0; j < index; j++) at += this.tagParams(j).length;
    return at;
  }

  /** The offset after instruction `ins` (dead code is read, not copied: found again here). */
  private nextOf(ins: Instr): number {
    const r = new InstructionReader(this.module.bytes, ins.offset, this.body.codeEnd);
    r.read(createInstr());
    return r.pos;
  }

  /**
   * A legacy `try`: a block for the stack model and for the skipping of resume clones.
   * When one of its handlers holds a safepoint, a pause there must save the exception
   * the handler caught (the interpreter keeps it on the operand stack below the
   * handler's values, where `rethrow` finds it), which V8 11.3 gives Wasm code no value
   * for. So the try gets a recording area: a local saying which tag (-1: one of another
   * module), then locals for every tag's values. A `catch $t` copies its values there
   * on entry. A `catch_all` sees no values, so an inner try around the body records the
   * exception and throws it on to the outer clauses:
   *
   *     try $outer (bt)  try $inner (bt)  body
   *     catch 0  (values -> area) (i32.const 0 -> which)  rethrow 0
   *     ... one clause per tag of the module ...
   *     catch_all  (i32.const -1 -> which)  rethrow 0
   *     end  catch ... catch_all handler  end
   */
  private tryBlock(ins: Instr, next: number, pathChild: PathStep | undefined): void {
    const start = ins.offset;
    const { stack, w } = this;
    const bt: FuncType = this.v.blockType(ins.a, start);
    const np = bt.params.length;
    stack.isolate(np);
    w.copy(start, next);
    const tryLabel = w.labels++;
    let area = -1;
    if (this.handlers!.recorded.has(start)) {
      area = stack.fresh(ValType.i32);
      for (let j = 0; j < this.ctx.tagTypeIndices.length; j++) for (const t of this.tagParams(j)) stack.fresh(t);
    }
    const inner = this.handlers!.recordedCatchAll.has(start);
    let label = tryLabel;
    if (inner) {
      // The same block type: the inner try takes the parameters and gives the results.
      w.out.u8(0x06).raw(this.module.bytes, start + 1, next);
      label = w.labels++;
    }
    this.ctrl.push({ op: 0x06, base: stack.height - np, params: bt.params, results: bt.results, label, pollSite: -1, pollLabel: -1, tryAt: start, tryLabel, area, inner });
    if (pathChild?.inHandler === true) this.rethrowOnResume(stack.height - np);
    if (pathChild) this.skipping.enter();
  }

  /**
   * A resume clone whose safepoint is inside one of this try's handlers re-enters it
   * the only way Wasm can: while resuming, the body throws the exception the frame held
   * (its tag and values, parameters of the clone in place of the canonical exnref at
   * stack position `pos`), which lands in that clause, whose entry code runs as it did
   * (recording, budget); the skipping goes on inside it.
   *
   *     local.get $rs  if  block ... block  local.get which  br_table 0 .. T-1  end
   *     (tag 0's values) throw 0  end  ...  (tag T-1's values) throw T-1  end
   */
  private rethrowOnResume(pos: number): void {
    const which = this.resumeCaught.get(pos);
    const tags = this.ctx.tagTypeIndices.length;
    if (which === undefined || tags === 0) throw new Error(`internal: no exception to rethrow at stack position ${pos} of function ${this.funcIndex}`);
    const out = this.w.out;
    out.u8(0x20).u32(this.resumeFlag).u8(0x04).u8(0x40);
    for (let j = 0; j < tags; j++) out.u8(0x02).u8(0x40);
    out.u8(0x20).u32(which).u8(0x0e).u32(tags);
    for (let j = 0; j < tags; j++) out.u32(j);
    out.u32(tags - 1);
    for (let j = 0; j < tags; j++) {
      out.u8(0x0b);
      const at = which + this.tagOffset(j);
      for (let i = 0; i < this.tagParams(j).length; i++) this.w.localGet(at + i);
      out.u8(0x08).u32(j);
    }
    out.u8(0x0b);
  }

  /** Closes a try's inner recording try (see `tryBlock`): a clause per tag, then one for the rest. */
  private closeRecording(c: Ctrl): void {
    const { w, stack } = this;
    const out = w.out;
    const which = stack.scratchBase + c.area!;
    for (let j = 0; j < this.ctx.tagTypeIndices.length; j++) {
      out.u8(0x07).u32(j);
      const params = this.tagParams(j);
      const base = which + this.tagOffset(j);
      for (let i = params.length - 1; i >= 0; i--) w.localSet(base + i);
      out.u8(0x41).s32(j);
      w.localSet(which);
      out.u8(0x09).u32(0);
    }
    out.u8(0x19).u8(0x41).s32(-1);
    w.localSet(which);
    out.u8(0x09).u32(0).u8(0x0b);
    w.labels--;
    c.label = c.tryLabel!;
    c.inner = false;
  }

  /**
   * `catch $t` / `catch_all`: as `else`, the stack goes back to the try's start; then
   * the caught exception (a canonical exnref, in the recording area when the handler
   * holds a safepoint) and a `catch`'s values. `live`: the try body (or the previous
   * handler) did not end in a branch, its results are to be left on the Wasm stack.
   */
  private catchClause(ins: Instr, next: number, live: boolean): void {
    const c = this.ctrl[this.ctrl.length - 1];
    const { stack, w } = this;
    const out = w.out;
    if (live) stack.need(c.results.length);
    if (c.inner === true) this.closeRecording(c);
    w.copy(ins.offset, next);
    stack.popTo(c.base);
    const h = this.handlers!;
    const record = c.area! >= 0 && (ins.op === 0x19 ? h.recordedCatchAll.has(c.tryAt!) : h.recordedCatch.has(ins.offset));
    stack.pushCaught(record ? c.area! : -1);
    c.op = ins.op;
    if (this.depthLocal >= 0) {
      w.localGet(this.depthLocal);
      out.u8(0x24).u32(this.opts.helpers.depth);
    }
    if (ins.op !== 0x07) return;
    const params = this.tagParams(ins.a);
    if (record) {
      const which = stack.scratchBase + c.area!;
      const base = which + this.tagOffset(ins.a);
      for (let i = params.length - 1; i >= 0; i--) w.localSet(base + i);
      out.u8(0x41).s32(ins.a);
      w.localSet(which);
      for (let i = 0; i < params.length; i++) w.localGet(base + i);
    }
    for (const t of params) stack.push(t);
    // Resuming into this handler (`rethrowOnResume`), its values must not overwrite what the safepoint saved.
    if (this.resume !== undefined && !this.skipping.reached) stack.spillUnless(this.resumeFlag);
  }

  /** `delegate`: ends a try without handlers; its label counts from outside the try. */
  private delegate(ins: Instr, live: boolean): void {
    const c = this.ctrl.pop()!;
    const { stack, w } = this;
    if (live) stack.need(c.results.length);
    w.mark(ins.offset);
    w.out.u8(0x18);
    w.labels--;
    w.out.u32(this.remap(ins.a));
    stack.popTo(c.base);
    for (const t of c.results) stack.push(t);
  }

  /** memory.grow, held to the embedder's limit (the memory's own maximum may be higher). */
  private memoryGrow(ins: Instr): void {
    const out = this.w.out;
    const tmp = this.tmpLocal;
    this.stack.need(1);
    this.w.mark(ins.offset);
    out.u8(0x22).u32(tmp).u8(0xad).u8(0x3f).u8(0x00).u8(0xad).u8(0x7c);
    out.u8(0x23).u32(this.opts.helpers.maxPages).u8(0xad).u8(0x56);
    out.u8(0x04).u8(ValType.i32).u8(0x41).s32(-1).u8(0x05).u8(0x20).u32(tmp).u8(0x40).u8(0x00).u8(0x0b);
    this.stack.pop(1);
    this.stack.push(ValType.i32);
  }

  /** After a branch, `return` or `unreachable`: the rest of the block is dead. */
  private goDead(): void {
    this.dead = true;
    this.deadNest = 0;
  }

  /** Closes an original block (its results on the Wasm stack); a loop also closes its poll structure. */
  private closeBlock(c: Ctrl): void {
    const w = this.w;
    const out = w.out;
    const u = c.unroll;
    if (u) {
      // The end of the body leaves the loop: br $exit with the results; end $c1.
      out.u8(0x0c).u32(w.depthOf(c.pollLabel - 2));
      const first = out.bytes.slice(u.start, out.length);
      const marksEnd = w.rewrittenPcs.length;
      out.u8(0x0b);
      for (let i = 2; i <= u.copies; i++) {
        out.u8(0x02).u8(0x40);
        writeCopy(w, first, u, marksEnd, i === u.copies ? 1 : 0);
        out.u8(0x0b);
      }
      // No copy falls through: unreachable; end $L; unreachable; end $poll
      out.u8(0x00).u8(0x0b).u8(0x00).u8(0x0b);
      w.labels -= 3;
    } else {
      out.u8(0x0b);
      w.labels--;
      if (c.op !== 0x03 || c.pollSite < 0) return;
      // end $L; br $exit (with the results); end $poll
      out.u8(0x0c).u32(2).u8(0x0b);
      w.labels--;
    }
    // poll; br $outer; end $outer; unreachable; end $exit
    this.poll.callPoll(c.pollSite, this.opts.loopPoll === 'local');
    out.u8(0x0c).u32(0).u8(0x0b).u8(0x00).u8(0x0b);
    w.labels -= 2;
  }

  /**
   * On safepoint `k`'s way to `$save`: zeros into the locals and scratch locals that hold
   * nothing the run reads after `k` (local-liveness.ts), so that V8 does not keep their
   * values alive up to every safepoint. A frame saved there has zeros in them. Only
   * numbers: a reference local may have no default to write.
   */
  private clearDead(k: number): void {
    // Analysed on the first way out written: a body without safepoints needs none.
    if (this.liveness === null) {
      this.liveness = this.opts.keepDeadLocals === true ? undefined : LocalLiveness.of(this.module.bytes, this.body.codeStart, this.body.codeEnd, this.numLocals);
    }
    const liveness = this.liveness;
    if (liveness === undefined) return;
    const site = this.sites[k];
    const numLocals = this.numLocals;
    const onStack = new Set(site.stack);
    const scratchBase = this.stack.scratchBase;
    const out = this.w.out;
    const clear = (index: number, t: number): void => {
      switch (t) {
        case ValType.i32: out.u8(0x41).u8(0); break;
        case ValType.i64: out.u8(0x42).u8(0); break;
        // Zero bits reinterpreted: 3 bytes, where a float constant takes 5 or 9.
        case ValType.f32: out.u8(0x41).u8(0).u8(0xbe); break;
        case ValType.f64: out.u8(0x42).u8(0).u8(0xbf); break;
        default: return;
      }
      this.w.localSet(index);
    };
    for (let i = 0; i < numLocals; i++) {
      if (!onStack.has(i) && !liveness.isLive(site.pc, i)) clear(i, this.localTypes[i]);
    }
    const scratchTypes = this.stack.scratchTypes;
    for (let s = 0; s < scratchTypes.length; s++) {
      if (!onStack.has(numLocals + s)) clear(scratchBase + s, scratchTypes[s]);
    }
  }

  /** Records a safepoint over the whole model stack (all of it must be in scratch locals) but the top `skip` values. */
  private site(pc: number, skip: number, results: number, kind: Safepoint['kind'] = 'loop', callResults: readonly number[] = []): number {
    const { stack, types } = this.stack.saved(skip, this.numLocals, this.funcIndex);
    this.sites.push({ pc, stack, types, results, kind, callResults: Uint8Array.from(callResults) });
    return this.sites.length - 1;
  }

  /** Branch depth in the rewritten code for original depth `depth`. */
  private remap(depth: number): number {
    const label = depth === this.ctrl.length ? BODY_LABEL : this.ctrl[this.ctrl.length - 1 - depth].label;
    return this.w.depthOf(label);
  }

  private labelArity(depth: number): number {
    if (depth === this.ctrl.length) return this.type.results.length;
    const c = this.ctrl[this.ctrl.length - 1 - depth];
    return c.op === 0x03 ? c.params.length : c.results.length;
  }

  /** Writes a branch's depth; notes it when it goes to the start of a loop being unrolled. */
  private branchDepth(depth: number): void {
    const u = depth < this.ctrl.length ? this.ctrl[this.ctrl.length - 1 - depth].unroll : undefined;
    if (u) u.backEdges.push(this.w.out.length);
    this.w.out.u32(this.remap(depth));
  }

  private blockType(results: readonly number[]): void {
    const out = this.w.out;
    if (results.length === 0) out.u8(0x40);
    else if (results.length === 1) out.u8(results[0]);
    else out.s32(this.opts.blockType(results));
  }

  /** The epilogue, the save sequence, and the local declarations in front of the code. */
  private epilogue(): { body: Uint8Array; info: RewrittenFunction } {
    const { opts, resume, w, stack } = this;
    const out = w.out;
    if (opts.recursive && !resume) this.poll.stackBudgetRelease(opts.frameCost);
    out.u8(0x0f).u8(0x0b);
    if (this.sites.length === 0) {
      // No safepoint can branch to $save: the code after it is unreachable.
      out.u8(0x00).u8(0x0b);
    } else {
      writeSaveSequence(out, opts.helpers, {
        funcIndex: this.funcIndex, siteLocal: this.siteLocal, localTypes: this.localTypes,
        scratchBase: stack.scratchBase, scratchTypes: stack.scratchTypes, results: this.type.results,
      });
    }
    return finish(resume ? [] : this.body.locals, resume !== undefined, out, {
      funcIndex: this.funcIndex, numLocals: this.numLocals, localTypes: this.localTypes, scratchTypes: stack.scratchTypes,
      sites: this.sites, recursive: opts.recursive, rewrittenPcs: Int32Array.from(w.rewrittenPcs), originalPcs: Int32Array.from(w.originalPcs), codeOffset: 0,
    });
  }
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
