/**
 * A program's state: one instance, its module's index spaces, its thread, its WASI
 * host and the embedder's host state. `Program.snapshot` and `Program.resume` are built
 * on these two functions.
 */
import { SnapshotError } from '../errors/index.ts';
import { evalConst, Execution } from '../runtime/index.ts';
import type { ExecutionLike, Store } from '../runtime/index.ts';
import type { CompiledModule } from '../compile/index.ts';
import type { InstanceState } from '../exec/index.ts';
import type { WasiState } from '../wasi/index.ts';
import { PAGE_SIZE } from './canonical.ts';
import type { CanonicalState } from './canonical.ts';
import { captureState } from './capture.ts';
import { restoreState } from './restore.ts';
import { programSpace } from './space.ts';

/**
 * The pages of each memory that a freshly allocated instance may have written: those of
 * its active data segments (memories it imports could hold anything: undefined).
 */
function dataSegmentPages(program: CapturableProgram): (Set<number> | undefined)[] {
  const module = program.instance.compiled.module;
  const store = program.store.state;
  const inst = program.instance.state;
  const pages = inst.memAddrs.map((_, i) => (i < module.numImportedMemories ? undefined : new Set<number>()));
  for (const seg of module.datas) {
    if (seg.mode.kind !== 'active' || seg.bytes.length === 0) continue;
    const set = pages[seg.mode.memoryIndex];
    if (set === undefined) continue;
    const offset = evalConst(store, inst, seg.mode.offset)[0] >>> 0;
    for (let p = Math.floor(offset / PAGE_SIZE); p <= Math.floor((offset + seg.bytes.length - 1) / PAGE_SIZE); p++) set.add(p);
  }
  return pages;
}

/** What a program offers for capture (a `Program` fits). */
export interface CapturableProgram {
  store: Store;
  instance: { compiled: CompiledModule; state: InstanceState; exports: Map<string, { kind: string; addr: number }> };
  execution?: ExecutionLike | undefined;
}

export interface ProgramCaptureOptions {
  /** The export the execution entered. */
  entry?: string | null;
  wasi?: WasiState | null;
  host?: Record<string, unknown>;
  /** Let memory pages be views of the live memory (for a state encoded at once). */
  shareMemory?: boolean;
  /** Leave the memories' pages out (their sizes stay). */
  omitMemory?: boolean;
}

/**
 * The canonical state of a program that is paused (or not started yet).
 * @throws SnapshotError when it has finished or is inside a host call.
 */
export function captureProgram(program: CapturableProgram, options: ProgramCaptureOptions = {}): CanonicalState {
  const execution = program.execution;
  if (execution?.done) throw new SnapshotError('cannot snapshot a program that has finished');
  const space = programSpace(program.store.state, program.instance);
  const thread = execution ? program.store.thread : null;
  return captureState(space, thread, execution?.entryDepth ?? 0, {
    status: execution ? 'paused' : 'ready',
    entry: options.entry ?? null,
    wasi: options.wasi ?? null,
    host: options.host ?? {},
    shareMemory: options.shareMemory,
    omitMemory: options.omitMemory,
  });
}

/**
 * Restores a checked-shape state onto a program freshly allocated (not started) from
 * the same module. Returns the execution to continue, or undefined for a "ready" state.
 * @throws SnapshotError when the state does not fit the module or the limits.
 */
export function restoreProgram(program: CapturableProgram, state: CanonicalState, options: { keepMemory?: boolean } = {}): Execution | undefined {
  if (state.store !== undefined) throw new SnapshotError('the snapshot is a store image, not a program\'s');
  const space = programSpace(program.store.state, program.instance);
  const t = program.store.thread;
  if (t.depth !== 0) throw new SnapshotError('cannot restore into a program that is running');
  let execution: Execution | undefined;
  if (state.frames.length) {
    const bottom = state.frames[0] as unknown as Record<string, unknown>;
    const funcIndex = bottom?.['funcIndex'];
    if (typeof funcIndex !== 'number' || !Number.isInteger(funcIndex) || funcIndex < 0 || funcIndex >= space.funcs.length) {
      throw new SnapshotError('frame 0: function index out of range');
    }
    const addr = space.funcs[funcIndex];
    if (state.entry !== null) {
      const e = program.instance.exports.get(state.entry);
      if (!e || e.kind !== 'func') throw new SnapshotError(`the module exports no function ${JSON.stringify(state.entry)}, the snapshot's entry`);
      if (e.addr !== addr) throw new SnapshotError(`frame 0 is not the entry function ${JSON.stringify(state.entry)}`);
    }
    execution = new Execution(program.store, addr, [], { resumed: true });
  }
  restoreState(state, space, execution ? t : null, options.keepMemory ? { keepMemory: true } : { dirtyPages: dataSegmentPages(program) });
  return execution;
}
