/**
 * The basic blocks of a function's fast code as a graph, and the structured control flow
 * the JavaScript tier writes for it: labelled blocks for forward branches and loops for
 * backward ones (the fast code keeps the Wasm body's layout, so they nest), and the
 * blocks where compiled code may be entered and checks its fuel.
 */
import { FastOp, fastLength, FUSED } from '../../compile/index.ts';
import { EMITTERS } from './op-emitters.ts';

/** The first part's opcode of each fused instruction (the later parts keep theirs in place). */
const FIRST_PART = new Map<number, number>(FUSED.map((f) => [f[f.length - 1], f[0]]));

/** Opcodes whose last operands are `target, cost`, and the index of `target`. */
function branchTargetOperand(op: number): number {
  if (op === FastOp.jump) return 1;
  if (op === FastOp.brZ || op === FastOp.brNz) return 2;
  if (op >= FastOp.brCmpBase && op < FastOp.brCmpImmBase + 10) return 3;
  return -1;
}

export interface Block {
  /** Fast pc of its fuel instruction. */
  start: number;
  /** Fast pc after its last instruction. */
  end: number;
  /** Its fuel (the exact instructions it stands for). */
  cost: number;
  /** The pcs of the instructions after the fuel instruction that compiled code reaches. */
  instructions: number[];
  /** Blocks its branches go to (forward or back). */
  targets: number[];
  /** Whether control goes on into the next block. */
  fallsThrough: boolean;
}

/** A labelled block (forward branches to `end + 1` leave it) or a loop (branches back to `start` repeat it). */
export interface Construct {
  kind: 'block' | 'loop';
  /** First and last block inside. */
  start: number;
  end: number;
}

/** Whether `b` starts inside `a` and ends after it: the two do not nest. */
export function crosses(a: Construct, b: Construct): boolean {
  return a.start < b.start && b.start <= a.end && a.end < b.end;
}

export class BlockGraph {
  /** The code with each fused instruction's first part in place of its fused opcode. */
  readonly code: Int32Array;
  readonly blocks: Block[] = [];
  /** Block number at each block's fast pc, -1 elsewhere. */
  readonly blockAt: Int32Array;
  /**
   * Blocks where compiled code may be entered: the function's start, the blocks after
   * calls, and its loops' starts (a function the run loop took over comes back at its
   * next loop iteration).
   */
  readonly entries = new Set<number>();
  /**
   * Blocks where compiled code checks its fuel: the entries and the blocks after calls
   * (the callee spent some). Between two checkpoints no block checks: the one check
   * covers the stretch.
   */
  readonly checkpoints = new Set<number>();
  /** For each checkpoint: the most fuel any path from it to the next checkpoint (or a way out) takes. */
  readonly stretch = new Map<number, number>();
  /** Every branch with a `target, cost` operand pair: where its target operand is, and the block. */
  readonly branches: { targetAt: number; target: number }[] = [];
  /** Constructs in the order they open (outer first at the same block). */
  readonly constructs: Construct[] = [];
  failure = '';

  constructor(original: Int32Array) {
    const code = original.slice();
    for (let pc = 0; pc < code.length; pc += fastLength(original, pc)) {
      const first = FIRST_PART.get(original[pc]);
      if (first !== undefined) code[pc] = first;
    }
    this.code = code;
    this.blockAt = new Int32Array(code.length + 1).fill(-1);
    if (code.length === 0 || code[0] !== FastOp.fuel) {
      this.failure = 'the code does not start with a block';
      return;
    }
    this.decode();
    if (this.failure === '') this.findStructure();
    if (this.failure === '') this.measureStretches();
  }

  private decode(): void {
    const code = this.code;
    for (let pc = 0; pc < code.length; pc += fastLength(code, pc)) {
      if (code[pc] === FastOp.fuel) {
        this.blockAt[pc] = this.blocks.length;
        this.blocks.push({ start: pc, end: code.length, cost: code[pc + 1], instructions: [], targets: [], fallsThrough: true });
      }
    }
    const targetPcs: number[][] = this.blocks.map(() => []);
    const branchOperands: number[] = [];
    for (let b = 0; b < this.blocks.length; b++) {
      const block = this.blocks[b];
      block.end = b + 1 < this.blocks.length ? this.blocks[b + 1].start : code.length;
      for (let pc = block.start + 3; pc < block.end; pc += fastLength(code, pc)) {
        const op = code[pc];
        block.instructions.push(pc);
        const k = branchTargetOperand(op);
        if (k > 0) {
          targetPcs[b].push(code[pc + k]);
          branchOperands.push(pc + k);
        }
        if (op === FastOp.jump || op === FastOp.return || op === FastOp.brTable || (EMITTERS[op] === undefined
          && op !== FastOp.call && op !== FastOp.callIndirect)) {
          // Nothing after it in the block runs as compiled code.
          block.fallsThrough = false;
          if (op === FastOp.brTable) for (let i = 0; i <= code[pc + 2]; i++) targetPcs[b].push(code[pc + 3 + i]);
          break;
        }
        if (op === FastOp.call || op === FastOp.callIndirect) {
          // Where the loop comes back after a call it made, or after the callee left the
          // JavaScript stack (a slice's end, deeper down, leaves every caller).
          if (b + 1 < this.blocks.length) this.entries.add(b + 1);
        }
      }
      if (block.fallsThrough && b + 1 === this.blocks.length) block.fallsThrough = false;
    }
    for (let b = 0; b < this.blocks.length; b++) {
      for (const pc of targetPcs[b]) {
        const target = pc >= 0 && pc < code.length ? this.blockAt[pc] : -1;
        if (target < 0) {
          this.failure = `a branch at block ${b} to fast pc ${pc}, not a block start`;
          return;
        }
        this.blocks[b].targets.push(target);
      }
    }
    for (const at of branchOperands) this.branches.push({ targetAt: at, target: this.blockAt[code[at]] });
    this.entries.add(0);
  }

  /** Loops from the backward branches, labelled blocks from the forward ones, made to nest. */
  private findStructure(): void {
    const n = this.blocks.length;
    const loopEnd = new Int32Array(n).fill(-1);
    const firstSource = new Int32Array(n).fill(-1);
    for (let b = 0; b < n; b++) {
      for (const t of this.blocks[b].targets) {
        if (t <= b) loopEnd[t] = Math.max(loopEnd[t], b);
        else if (firstSource[t] < 0) firstSource[t] = b;
      }
    }
    const loops: Construct[] = [];
    for (let h = 0; h < n; h++) {
      if (loopEnd[h] >= 0) {
        loops.push({ kind: 'loop', start: h, end: loopEnd[h] });
        this.entries.add(h);
      }
    }
    // A loop's last backward branch may come before the end of a loop inside it (code
    // after the branch, still in the Wasm loop): the outer loop then ends with the inner.
    for (let changed = true; changed;) {
      changed = false;
      for (const a of loops) {
        for (const b of loops) {
          if (crosses(a, b)) {
            a.end = b.end;
            changed = true;
          }
        }
      }
    }
    const labels: Construct[] = [];
    for (let t = 0; t < n; t++) if (firstSource[t] >= 0) labels.push({ kind: 'block', start: firstSource[t], end: t - 1 });
    // A label that starts inside a loop and ends after it starts before it; of two labels
    // that overlap, the one ending later starts where the other does.
    for (let changed = true; changed;) {
      changed = false;
      for (const label of labels) {
        for (const loop of loops) {
          if (crosses(loop, label)) {
            label.start = loop.start;
            changed = true;
          } else if (crosses(label, loop)) {
            this.failure = `a branch into the loop at block ${loop.start} past its start`;
            return;
          }
        }
        for (const other of labels) {
          if (crosses(label, other)) {
            other.start = label.start;
            changed = true;
          }
        }
      }
    }
    this.constructs.push(...labels, ...loops);
    // Outer first: earlier start, then later end, then a label around a loop of the same extent.
    this.constructs.sort((a, b) => a.start - b.start || b.end - a.end || (a.kind === b.kind ? 0 : a.kind === 'block' ? -1 : 1));
  }

  /**
   * The fuel of the longest path from each checkpoint to the next or a way out: the paths
   * between checkpoints have no cycle (every cycle goes through its loop's start), so one
   * check covers every block after it without checks of their own.
   */
  private measureStretches(): void {
    for (const e of this.entries) this.checkpoints.add(e);
    const n = this.blocks.length;
    const longest = new Float64Array(n).fill(-1);
    const visiting = new Uint8Array(n);
    const visit = (b: number): number => {
      if (longest[b] >= 0) return longest[b];
      if (visiting[b] === 1) {
        this.failure ||= `a cycle through block ${b} that has no loop start`;
        return 0;
      }
      visiting[b] = 1;
      const block = this.blocks[b];
      let most = 0;
      const next = block.fallsThrough ? [...block.targets, b + 1] : block.targets;
      for (const t of next) if (!this.checkpoints.has(t)) most = Math.max(most, visit(t));
      visiting[b] = 0;
      longest[b] = block.cost + most;
      return longest[b];
    };
    for (const c of this.checkpoints) this.stretch.set(c, visit(c));
  }
}
