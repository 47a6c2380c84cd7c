/**
 * `--snapshot-every N` for the spec runner: each invoke runs in budgets of N
 * instructions, and after every stop the machine is captured, encoded, decoded and
 * restored into a brand-new store and thread, where it continues. The plainest proof
 * that the state is complete plain data.
 *
 * The snapshot is a store image of the part of the script's store the invoked function
 * can reach (its instance, what it imports, what its tables and globals refer to): all
 * that execution could read or write. When the invoke ends (returned or trapped), that
 * part is written back into the script's store, which the next commands use.
 *
 * Large stacks: a snapshot costs time in proportion to the frames on the stack (tens of
 * µs each: every frame is checked against its function) and to the values (locals and
 * operands, about 0.5 µs each), so over a stack of more than LARGE_STACK_FRAMES frames or
 * LARGE_STACK_VALUES values the stride grows to the larger of FRAMES_PER_STEP times the
 * frames and the values over VALUES_PER_STEP: the work per instruction stays bounded.
 * Only the call-stack exhaustion tests get there (runaway recursion, and frames of a
 * million locals); the stats count the instructions run at each kind of stride.
 */
import type { CompiledModule } from '../src/compile/index.ts';
import { FuncKind } from '../src/exec/index.ts';
import type { HostCallback, ThreadState } from '../src/exec/index.ts';
import { enterFunction, Execution } from '../src/runtime/index.ts';
import type { Store } from '../src/runtime/index.ts';
import {
  captureState, decodeSnapshot, encodeSnapshot, moduleSha256, reachableSpace, rebuildStore, restoreState,
} from '../src/snapshot/index.ts';
import type { IndexSpace, ImageResolvers } from '../src/snapshot/index.ts';
import { ValType } from '../src/wasm/types.ts';

/** Above this many frames or values on the stack, snapshots are spaced in proportion to them (see the module comment). */
export const LARGE_STACK_FRAMES = 1000;
export const LARGE_STACK_VALUES = 4096;
const FRAMES_PER_STEP = 8;
const VALUES_PER_STEP = 16;

export interface MigrationStats {
  snapshots: number;
  bytes: number;
  /** Instructions run in slices of the requested stride, and in grown ones (large stacks). */
  instructions: number;
  instructionsOnLargeStacks: number;
}

export const migrationStats: MigrationStats = { snapshots: 0, bytes: 0, instructions: 0, instructionsOnLargeStacks: 0 };

/** The slice to run next: the requested stride, or a longer one over a large stack. */
export function strideFor(every: number, frames: number, values: number): number {
  if (frames <= LARGE_STACK_FRAMES && values <= LARGE_STACK_VALUES) return every;
  return Math.max(every, FRAMES_PER_STEP * frames, Math.ceil(values / VALUES_PER_STEP));
}

/** Migrates the invokes of one script's store. */
export class Migrator {
  private readonly bySha = new Map<string, CompiledModule>();
  /** Memories of dead rebuilt stores, by maximum, to recycle (creating one costs tens of microseconds). */
  private readonly pool = new Map<string, WebAssembly.Memory[]>();
  private readonly resolvers: ImageResolvers;

  constructor(private readonly world: Store, private readonly every: number) {
    this.resolvers = {
      module: (sha) => this.bySha.get(sha),
      host: (name) => this.hostFunctions().get(name),
      memory: (pages, max) => {
        const list = this.pool.get(String(max));
        if (list) {
          for (let i = list.length - 1; i >= 0; i--) {
            if (list[i].buffer.byteLength <= pages * 65536) return list.splice(i, 1)[0];
          }
        }
        return new WebAssembly.Memory(max === undefined ? { initial: 0 } : { initial: 0, maximum: max });
      },
    };
  }

  /** Every module the script compiles (instances of it may be reached later). */
  addModule(m: CompiledModule): void {
    this.bySha.set(moduleSha256(m.module), m);
  }

  private hostFunctions(): Map<string, HostCallback> {
    const map = new Map<string, HostCallback>();
    for (const f of this.world.state.funcs) if (f.kind === FuncKind.host && !map.has(f.name)) map.set(f.name, f.callback);
    return map;
  }

  private recycle(store: Store): void {
    for (const m of store.state.memories) {
      const key = String(m.declaredMax);
      let list = this.pool.get(key);
      if (!list) this.pool.set(key, (list = []));
      if (list.length < 16) list.push(m.memory);
    }
  }

  /** Calls `addr` with raw arguments as `Store.invokeRaw` does, migrating as it goes. */
  invoke(addr: number, args: readonly bigint[]): bigint[] {
    const world = this.world;
    const fn = world.state.funcs[addr];
    if (fn === undefined || fn.kind !== FuncKind.wasm) return world.invokeRaw(addr, args);
    let space: IndexSpace | undefined;
    const t0 = world.thread;
    const saved = { sp: t0.sp, fp: t0.fp, pc: t0.pc, funcAddr: t0.funcAddr, depth: t0.depth };
    let store: Store = world;
    let storeSpace: IndexSpace | undefined;
    let execution = new Execution(world, addr, [], { resumed: true });
    try {
      writeArgs(t0, fn.type.params, args);
      enterFunction(t0, addr);
      for (;;) {
        const t = store.thread;
        const stride = strideFor(this.every, t.depth - execution.entryDepth, t.sp - (store === world ? saved.sp : 0));
        const before = t.instructions;
        const outcome = execution.run({ budget: stride });
        const ran = store.thread.instructions - before;
        migrationStats.instructions += ran;
        if (stride !== this.every) migrationStats.instructionsOnLargeStacks += ran;
        if (outcome.kind === 'returned') {
          const results = store.state.funcs[execution.funcAddr].type.results;
          const out: bigint[] = [];
          let at = 2 * t.fp;
          for (const type of results) {
            const words = type === ValType.v128 ? 4 : 2;
            let v = 0n;
            for (let w = words - 1; w >= 0; w--) v = (v << 32n) | BigInt(t.s32[at + w] >>> 0);
            out.push(v);
            at += words;
          }
          return out;
        }
        if (outcome.kind !== 'paused') throw new Error(`unexpected outcome ${outcome.kind}`);
        // Capture, encode, decode, restore into a brand-new store; carry on there.
        if (space === undefined) space = storeSpace = reachableSpace(world.state, [fn.instance]);
        const state = captureState(storeSpace!, t, execution.entryDepth, { shareMemory: true });
        const bytes = encodeSnapshot(state);
        migrationStats.snapshots++;
        migrationStats.bytes += bytes.length;
        const decoded = decodeSnapshot(bytes);
        const rebuilt = rebuildStore(decoded.state, this.resolvers, world.options);
        if (store !== world) this.recycle(store);
        store = rebuilt.store;
        storeSpace = rebuilt.space;
        execution = rebuilt.execution!;
      }
    } finally {
      if (store !== world) {
        // The invoke's effects (memory, tables, globals, dropped segments) go back to the script's store.
        restoreState(captureState(storeSpace!, null, 0, { shareMemory: true }), space!, null);
        this.recycle(store);
      }
      Object.assign(t0, saved);
      t0.pendingHostCall = -1;
    }
  }
}

/** Raw arguments onto the thread's stack: 64 bits a value, 128 (two slots) a v128. */
function writeArgs(t: ThreadState, params: readonly number[], args: readonly bigint[]): void {
  let at = 2 * t.sp;
  for (let i = 0; i < args.length; i++) {
    const words = params[i] === ValType.v128 ? 4 : 2;
    let v = BigInt.asUintN(32 * words, args[i]);
    for (let w = 0; w < words; w++, v >>= 32n) t.s32[at++] = Number(v & 0xffffffffn) | 0;
  }
  t.sp = at >> 1;
}
