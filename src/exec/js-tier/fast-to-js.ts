/**
 * The interpreter's JavaScript tier: a hot function's fast code compiled to one
 * JavaScript function whose frame words are local variables, so that V8 keeps them in
 * registers instead of the run loop's loads and stores of `s32` for every operand
 * (docs/interpreter-speed.md, "The JavaScript tier").
 *
 * The compiled function is the fast code with its dispatch taken out, not a new
 * semantics (`op-emitters.ts` says each instruction's JavaScript):
 * - Control flow is structured: the fast code keeps the Wasm body's layout, so its
 *   forward branches become `break` out of labelled blocks and its backward ones
 *   `continue` of loops (`block-graph.ts` finds them).
 * - Fuel: each block subtracts its cost as the loop would; the checks are at the
 *   checkpoints only (entries, and the blocks after calls), each for the costliest path to
 *   the next one. A check that fails leaves at that block's start, and the loop counts the
 *   rest out as it always does, so a pause still lands after exactly the instruction
 *   asked for.
 * - Entries: the function's start, the blocks after calls and its loops' starts; entered
 *   further on, the items before the entry are skipped by guards on `e`.
 * - Leaving: at an instruction it does not run itself (SIMD, the exact code's, the rare
 *   cases), or a call it cannot make (`js-calls.ts`), every frame word goes back to
 *   `s32` and the loop dispatches that instruction. A trap breaks to the one throw
 *   after the code, with the place (`js-trap.ts`). Memory accesses leave the bounds to
 *   the DataView, which covers the memory exactly: its RangeError is caught around the
 *   code, and the trap is at the last access that named itself (`mayFault`). A function
 *   returning to a compiled caller writes its results only, by the same way out.
 *
 * So whenever the tier is not running, the thread is where the loop would have it, with
 * the same value in every slot an instruction can still read: snapshots, migration and
 * the exact code see no difference (the high words of 32-bit values, which nothing reads,
 * may hold other bits, as between the fast and exact codes).
 */
import { FastOp } from '../../compile/index.ts';
import type { CallSignatures, FastFunction, FastJsBody } from '../../compile/index.ts';
import { enterCall, indirectCallee, leaveCall, MOVED, NO_ENTRY_PC, RETURNED_PC } from './js-calls.ts';
import { BlockGraph } from './block-graph.ts';
import type { Construct } from './block-graph.ts';
import { EMITTERS } from './op-emitters.ts';
import { isFault, jsTrap } from './js-trap.ts';
import { TrapKind } from './operand-context.ts';
import type { OperandContext } from './operand-context.ts';

/** Frames of more words are not compiled: V8 would spill most of them anyway, and the compile is slow. */
export const MAX_FRAME_WORDS = 512;
/**
 * Nor is fast code longer than this (in words): V8's time to compile a function grows
 * faster than its size, and the larger functions (SQLite's, with hundreds of calls and
 * entries) cost more than they saved. When each access checked its own bounds and each
 * trap had its own throw, 4,096 was the best limit: SQLite's 30,000 rows took 5.8-6.3 s
 * with none below 2^15 words, 4.8-5.2 s with 4,096, 5.2-5.4 s without the tier. The leaner
 * bodies since take 8,192: brotli's 1 MiB run went from 5.9-6.9 s to 4.0-4.1 s (its two
 * hot functions of 4,194 and 4,228 words now compiled) and SQLite's stayed within its
 * spread (4.9-5.3 s against 4.8-5.0); 12,288 and 20,000 made SQLite slower (5.3-6.8 s).
 * CoreMark's largest hot function has 2,083 words.
 */
export const MAX_CODE_WORDS = 8192;

/** Where a call's argument words are written (`save`) and its result words read (`load`), with the range of words (from, to). */
const CALL_WORDS = /\/\*words (\d+) (\d+) (save|load)\*\//g;

const PRELUDE = `'use strict';
const SI = new Int32Array(2), SF = new Float64Array(SI.buffer), SF32 = new Float32Array(SI.buffer);
function f64of(lo, hi) { SI[0] = lo; SI[1] = hi; return SF[0]; }
function f32of(lo) { SI[0] = lo; return SF32[0]; }
`;

/** Why a function was not compiled, or the compiled function with its source. */
export type FastJsResult = {
  body: FastJsBody;
  source: string;
  /** The cost operands of the branches to the function's entries (see `UNAFFORDABLE`). */
  entryBranchCosts: number[];
  /** The functions (module indices) it calls directly, in order. */
  callees: number[];
} | { body: null; reason: string };

/**
 * A branch cost above any fuel the run loop is given (`run-fast.ts`, `MAX_SLICE`): a
 * branch carrying it goes to its target's fuel instruction instead of charging it inline.
 */
export const UNAFFORDABLE = 0x7fffffff;

/**
 * Compiles `fast` (see the file's comment), of a module whose call signatures are
 * `sigs`; `name` goes into the function's name for profiles.
 */
export function compileFastToJs(fast: FastFunction, sigs: CallSignatures, name: string): FastJsResult {
  // Before the block graph, which decodes the whole code.
  if (fast.code.length > MAX_CODE_WORDS) return { body: null, reason: `fast code of ${fast.code.length} words` };
  const translation = new FastToJs(fast.code, sigs, name);
  const source = translation.source();
  if ('reason' in source) return { body: null, reason: source.reason };
  let factory: (entry: Int32Array, enter: typeof enterCall, leave: typeof leaveCall, callee: typeof indirectCallee, trap: typeof jsTrap, fault: typeof isFault) => FastJsBody;
  try {
    // The source is made here from integers and fixed text only, never from input strings.
    factory = new Function('ENTRY', 'enterCall', 'leaveCall', 'indirectCallee', 'jsTrap', 'isFault', `${source.text}\n//# sourceURL=wasmig-js/${name}.js`) as typeof factory;
  } catch (error) {
    return { body: null, reason: `the host does not compile JavaScript (${(error as Error).message})` };
  }
  return {
    body: factory(source.entry, enterCall, leaveCall, indirectCallee, jsTrap, isFault), source: source.text,
    entryBranchCosts: translation.entryBranchCosts(),
    callees: [...translation.callees],
  };
}

interface Source {
  text: string;
  /** Block number at each fuel instruction's fast pc (-1 elsewhere). */
  entry: Int32Array;
}

/** A block, or a construct with what it holds. */
type Node = { kind: 'block'; block: number } | { kind: 'construct'; construct: Construct; children: Node[] };

const first = (n: Node): number => n.kind === 'block' ? n.block : n.construct.start;
const last = (n: Node): number => n.kind === 'block' ? n.block : n.construct.end;

/** The blocks `0..count-1` inside the constructs (given outer first), as a tree. */
function nest(count: number, constructs: readonly Construct[]): Node[] {
  const root: Node[] = [];
  const open: { construct: Construct; children: Node[] }[] = [];
  let next = 0;
  const top = (): Node[] => (open.length > 0 ? open[open.length - 1].children : root);
  for (let b = 0; b < count; b++) {
    while (next < constructs.length && constructs[next].start === b) {
      const node: Node = { kind: 'construct', construct: constructs[next++], children: [] };
      top().push(node);
      open.push(node);
    }
    top().push({ kind: 'block', block: b });
    while (open.length > 0 && open[open.length - 1].construct.end === b) open.pop();
  }
  return root;
}

/** One function's translation, over its block graph. */
class FastToJs implements OperandContext {
  pc = 0;
  private readonly graph: BlockGraph;
  private readonly code: Int32Array;
  private readonly words = new Set<number>();
  /** The block being written (branches from it go back to loops at or before it). */
  private current = 0;
  /** The blocks where the function may be entered, in order, and the last of them. */
  private sortedEntries: number[] = [];
  private lastEntry = 0;
  /** Blocks that only a call's return reaches (no branch goes there). */
  private readonly onlyAfterCall = new Set<number>();
  /** The result words a call leaves for the block after it to read, by that block. */
  private readonly resultLoads = new Map<number, string>();
  /** The most words any of its returns gives a compiled caller. */
  private returnWords = 0;
  /** The functions it calls directly (module indices). */
  readonly callees = new Set<number>();

  constructor(original: Int32Array, private readonly sigs: CallSignatures, private readonly name: string) {
    this.graph = new BlockGraph(original);
    this.code = this.graph.code;
  }

  source(): Source | { reason: string } {
    const graph = this.graph;
    if (graph.failure !== '') return { reason: graph.failure };
    const blocks = graph.blocks;
    this.sortedEntries = [...graph.entries].sort((x, y) => x - y);
    this.lastEntry = this.sortedEntries[this.sortedEntries.length - 1];
    const targets = new Set(blocks.flatMap((block) => block.targets));
    for (let b = 1; b < blocks.length; b++) if (graph.entries.has(b) && !targets.has(b)) this.onlyAfterCall.add(b);
    const lines = this.sequence(nest(blocks.length, graph.constructs));
    if (blocks[blocks.length - 1].fallsThrough) return { reason: 'the code runs past its end' };
    if (this.words.size > MAX_FRAME_WORDS) return { reason: `${this.words.size} frame words` };
    const words = [...this.words].filter((w) => w >= 0).sort((x, y) => x - y);
    const load = [...words.map((w) => `w${w} = s32[F + ${w}]`), ...[...this.words].filter((w) => w < 0).map((w) => `wm${-w} = 0`)].join(', ');
    // Every word goes back, but those from `keep` on (a callee's frame, when one left the
    // JavaScript stack under this function: `call`; all but the results, on a return to
    // a compiled caller, which skips the rest with one test).
    const spill = (ws: number[]): string => ws.map((w) => `if (${w} < keep) s32[F + ${w}] = w${w};`).join(' ');
    const results = this.returnWords;
    const rest = words.filter((w) => w >= results);
    const save = spill(words.filter((w) => w < results)) + (rest.length === 0 ? '' : `\nif (keep > ${results}) { ${spill(rest)} }`);
    // The calls' argument and result words are written and read where the calls are.
    const text = lines.replace(CALL_WORDS, (_, from: string, to: string, what: string) => {
      const at = words.filter((w) => w >= Number(from) && w < Number(to));
      return what === 'save' ? at.map((w) => `s32[F + ${w}] = w${w};`).join(' ') : at.map((w) => `w${w} = s32[F + ${w}];`).join(' ');
    });
    const entry = new Int32Array(this.code.length).fill(-1);
    for (const e of graph.entries) entry[blocks[e].start] = e;
    // The code sits in a loop that never goes round (`out`), so that the function's own
    // loops are one deeper for V8. When V8's optimized code of a body lands while a call
    // of it still runs unoptimized, the next profiler tick there asks for on-stack
    // replacement at the loops of depth 0: a second compile, as long as the first
    // (CoreMark's `list_run`: 160 ms), whose code no call used, since the next call
    // enters the new code anyway (the loop re-enters bodies at every slice). Depth 1
    // takes a second tick, which a call that short does not reach.
    const body = `${PRELUDE}return function ${this.name}(cx, s32, view, F, pc, fuel, self) {
let e = ENTRY[pc];
if (e < 0) { cx.pc = ${NO_ENTRY_PC}; cx.fuel = fuel; return; }
const inst = cx.inst, nest = cx.nest, globals = cx.thread.store.globals, globalAddrs = inst.globalAddrs, funcAddrs = inst.funcAddrs;
${load !== '' ? `let ${load};` : ''}
let keep = 0x7fffffff, tp = 0, tk = 0, tx = 0;
try {
trap: {
out: for (;;) {
${text}
break;
}
${save}
if (pc !== -1) { cx.pc = pc; cx.fuel = fuel; }
return;
}
} catch (error) {
if (!isFault(error)) throw error;
}
throw jsTrap(cx, self, F, tp, fuel, tk, tx);
};`;
    return { text: body, entry };
  }

  /** The cost operands of the branches to entries (their target operand's next word). */
  entryBranchCosts(): number[] {
    return this.graph.branches.filter((b) => this.graph.entries.has(b.target)).map((b) => b.targetAt + 1);
  }

  /**
   * A sequence of blocks and constructs. Entered at an entry (`e`, a block number; -1
   * once there), everything before the item holding it is skipped: each run of items
   * without an entry and each item holding one that has entries after it is guarded by
   * `e <= its last block`, so that the guards are few (V8 merges every live word at each).
   */
  private sequence(items: Node[]): string {
    const sorted = this.sortedEntries;
    const holdsEntry = items.map((n) => {
      // The first entry at or after the item's first block, inside it or not.
      let lo = 0, hi = sorted.length;
      while (lo < hi) { const mid = (lo + hi) >> 1; if (sorted[mid] < first(n)) lo = mid + 1; else hi = mid; }
      return lo < sorted.length && sorted[lo] <= last(n);
    });
    const later = new Uint8Array(items.length + 1);
    for (let k = items.length - 1; k >= 0; k--) later[k] = later[k + 1] | (holdsEntry[k] ? 1 : 0);
    const out: string[] = [];
    let run: Node[] = [];
    const flush = (guarded: boolean): void => {
      if (run.length === 0) return;
      const text = run.map((n) => this.item(n)).join('\n');
      out.push(guarded ? `if (e <= ${last(run[run.length - 1])}) {\n${text}\n}` : text);
      run = [];
    };
    for (let k = 0; k < items.length; k++) {
      const item = items[k];
      if (!holdsEntry[k]) {
        run.push(item);
        continue;
      }
      flush(true);
      const text = this.item(item);
      out.push(later[k + 1] === 1 ? `if (e <= ${last(item)}) {\n${text}\n}` : text);
    }
    flush(false);
    return out.join('\n');
  }

  private item(n: Node): string {
    if (n.kind === 'block') return this.block(n.block);
    const c = n.construct;
    const inner = this.sequence(n.children);
    return c.kind === 'loop' ? `L${c.start}: for (;;) {\n${inner}\nbreak L${c.start};\n}` : `B${c.end + 1}: {\n${inner}\n}`;
  }

  /** Block `b`: its fuel (checked at checkpoints) and its instructions. */
  private block(b: number): string {
    const graph = this.graph;
    const block = graph.blocks[b];
    this.current = b;
    const parts: string[] = [];
    // First, before anything could write the words back: the results of the call before.
    const results = this.resultLoads.get(b);
    if (results !== undefined) parts.push(results);
    // Entered here or passing through: from now on nothing is skipped (a loop back to a
    // block before the entry runs it).
    if (graph.entries.has(b) && this.lastEntry > 0) parts.push('e = -1;');
    if (graph.checkpoints.has(b)) parts.push(`if (fuel < ${graph.stretch.get(b)}) { pc = ${block.start}; break out; }`);
    if (block.cost !== 0) parts.push(`fuel -= ${block.cost};`);
    for (const pc of block.instructions) {
      this.pc = pc;
      const op = this.code[pc];
      if (op === FastOp.brTable) parts.push(this.brTable());
      else if (op === FastOp.call || op === FastOp.callIndirect) parts.push(this.call(op === FastOp.call));
      else if (op === FastOp.return) parts.push(this.return());
      else {
        const emit = EMITTERS[op];
        parts.push(emit === undefined ? this.exit() : emit(this));
      }
    }
    return parts.join('\n');
  }

  lo(k: number): string {
    return this.word(this.code[this.pc + k]);
  }

  hi(k: number): string {
    return this.word(this.code[this.pc + k] + 1);
  }

  private word(word: number): string {
    // Code after a return or a trap may name slots below the frame (its stack heights
    // are those of unreachable code): such code never runs, its words stay local.
    this.words.add(word);
    return word >= 0 ? `w${word}` : `wm${-word}`;
  }

  imm(k: number): string {
    const value = this.code[this.pc + k];
    return value < 0 ? `(${value})` : `${value}`;
  }

  immU(k: number): string {
    return `${this.code[this.pc + k] >>> 0}`;
  }

  branch(k: number): string {
    return this.jumpTo(this.targetBlock(this.code[this.pc + k]));
  }

  /** A branch from the current block to block `target`: back to a loop's start, or out of a label. */
  private jumpTo(target: number): string {
    return target <= this.current ? `continue L${target};` : `break B${target};`;
  }

  exit(): string {
    return `{ pc = ${this.pc}; break out; }`;
  }

  mayFault(): string {
    return `tp = ${this.pc};`;
  }

  trap(kind: TrapKind, x = '0'): string {
    // One throw for the function, after its code: each place that traps only says where
    // and why. A hundred throws, each a call of seven arguments, made CoreMark's largest
    // body a fifth longer (V8's bytecode) and its optimized code a quarter slower.
    const kindSet = kind === TrapKind.memory ? '' : ` tk = ${kind};`;
    const xSet = x === '0' ? '' : ` tx = ${x};`;
    return `{ tp = ${this.pc};${kindSet}${xSet} break trap; }`;
  }

  /**
   * `[call, funcIndex, argBase, exactPcAfter]`, `[callIndirect, typeIndex, tableIndex,
   * indexSlot, argBase, exactPcAfter]`: made on the JavaScript stack where `callFromJs`
   * can (the words from the argument base on go to the frame before, and come back after);
   * else the loop makes it. The words below the argument base are the callee's to keep.
   */
  private call(direct: boolean): string {
    const code = this.code, pc = this.pc, sigs = this.sigs;
    const argBase = code[pc + (direct ? 2 : 4)];
    const next = pc + (direct ? 4 : 6);
    const params = direct ? sigs.funcParams[code[pc + 1]] : sigs.typeParams[code[pc + 1]];
    const results = direct ? sigs.funcResults[code[pc + 1]] : sigs.typeResults[code[pc + 1]];
    if (direct) this.callees.add(code[pc + 1]);
    const callee = direct
      ? `funcAddrs[${code[pc + 1]}]`
      : `indirectCallee(cx, ${code[pc + 1]}, ${code[pc + 2]}, ${this.lo(3)})`;
    // The words of the arguments go to the frame first (entering zeroes the callee's
    // locals above them); the results come back from it. The words above the results
    // are dead after the call (nothing is on the stack above a call's results). A callee
    // that left the JavaScript stack: the frame from the argument base on is its own.
    //
    // The results are read at the start of the block after the call when only the call
    // goes there: the loop enters that block after the calls it makes, so those reads
    // have run (and V8 has seen them) even when no call from here has returned on the
    // JavaScript stack yet, as when the callee had no compiled body before. Read here,
    // they would be new code to V8 whenever that first happens, and its optimized code
    // of this function would be thrown away for them (docs/interpreter-warm-up.md).
    const load = `/*words ${argBase} ${argBase + 2 * results} load*/`;
    const after = this.graph.blockAt[next];
    const loadAfter = this.onlyAfterCall.has(after);
    if (loadAfter) this.resultLoads.set(after, load);
    return `{ const callee = ${callee}; if (callee < 0) ${this.exit()}`
      + ` /*words ${argBase} ${argBase + 2 * params} save*/`
      + ` const body = enterCall(cx, callee, self, F, ${argBase}, ${next}); if (body === null) ${this.exit()}`
      + ` body(cx, s32, view, F + ${argBase}, 0, fuel, callee);`
      + ` const left = leaveCall(cx, callee, F + ${argBase}); if (left === ${MOVED}) { keep = ${argBase}; pc = -1; break out; }`
      + ` fuel = left;${loadAfter ? '' : ` ${load}`} }`;
  }

  /**
   * `[return, n, src]`: to a compiled caller, the results go to the frame's first slots
   * and the function returns; to the loop (the function was entered from it), the loop
   * returns. Both leave by the function's one way out, the compiled caller's case with
   * only the result words written back (`keep`): code V8 has run on every leave, where
   * a return of its own would be new to V8 the first time that `return` instruction ran,
   * and would throw the function's optimized code away (a long-running function returns
   * seldom). `nest` is read once, on entry: a function's calls leave it as they found it.
   */
  private return(): string {
    const code = this.code, pc = this.pc;
    const n = code[pc + 1], src = code[pc + 2];
    const moves: string[] = [];
    for (let i = 0; i < 2 * n; i++) moves.push(`${this.word(i)} = ${this.word(src + i)};`);
    this.returnWords = Math.max(this.returnWords, 2 * n);
    return `if (nest) { ${moves.join(' ')} keep = ${2 * n}; pc = ${RETURNED_PC}; break out; } ${this.exit()}`;
  }

  /** `[op, indexSlot, n, fuelPc x (n + 1)]`: an index past the end takes the last entry. */
  private brTable(): string {
    const code = this.code, pc = this.pc;
    const n = code[pc + 2];
    // One case per distinct target, as the Wasm br_table's labels.
    const cases = new Map<number, number[]>();
    for (let i = 0; i <= n; i++) {
      const target = this.targetBlock(code[pc + 3 + i]);
      const list = cases.get(target) ?? [];
      list.push(i);
      cases.set(target, list);
    }
    const index = this.lo(1);
    const arms = [...cases].map(([target, indexes]) => `${indexes.map((i) => `case ${i}:`).join(' ')} ${this.jumpTo(target)}`);
    // An index past the end takes the last entry (the default).
    const last = this.targetBlock(code[pc + 3 + n]);
    return `switch (${index} >>> 0 > ${n} ? ${n} : ${index} >>> 0) { ${arms.join(' ')} default: ${this.jumpTo(last)} }`;
  }

  private targetBlock(pc: number): number {
    return this.graph.blockAt[pc];
  }
}
