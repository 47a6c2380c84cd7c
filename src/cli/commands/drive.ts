/**
 * Runs a program to its end, or to a pause that ends in a snapshot file: shared by
 * `wasmig run` and `wasmig resume`. The program runs in slices that give the event loop
 * a turn, so that SIGUSR2 (pause and snapshot) and Ctrl-C get through.
 */
import { renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { dirname } from 'node:path';
import { UsageError, WasmigError } from '../../errors/index.ts';
import type { Program } from '../../program/index.ts';
import type { RunOutcome, Tier } from '../../runtime/index.ts';
import { encodeSnapshot } from '../../snapshot/index.ts';
import { flag, integer, one } from '../args.ts';
import type { OptionSpec, Parsed } from '../args.ts';
import { formatValue } from '../format.ts';

export const SNAPSHOT_OPTIONS: OptionSpec[] = [
  { name: 'pause-after', value: true },
  { name: 'snapshot', value: true },
  { name: 'snapshot-on-signal' },
];

export const SNAPSHOT_USAGE = `  --pause-after N       pause after exactly N executed Wasm instructions, counted
                        from the program's start, and write --snapshot FILE
  --snapshot FILE       where a pause writes its snapshot
  --snapshot-on-signal  on SIGUSR2, pause at the next instruction boundary and
                        write --snapshot FILE (Ctrl-C still stops the program)`;

/** Instructions between two turns of the event loop (signals, timers): tens of ms. */
const SLICE_INSTRUCTIONS = 5_000_000;

/**
 * With --snapshot-on-signal, the native tier pauses by itself this often, so that the
 * event loop sees SIGUSR2: each such pause unwinds into the interpreter (see docs/native-tier.md).
 */
const NATIVE_SLICE_MS = 50;

export const TIER_USAGE = `  --tier TIER           interp, native or auto (default): native runs the module
                        on the host's own WebAssembly engine (V8), pausable at
                        loop headers and after calls; auto is the interpreter
                        when a pause option is given (snapshots then count
                        instructions exactly); with none (run), the module as
                        it is on V8, which nothing can pause, on V8's stack`;

/**
 * --tier, checked: interp, native or auto (the default). Auto means native, except with
 * a pause option: a snapshot's instruction count, which later --pause-after counts build
 * on, is exact only on the interpreter.
 */
export function tierOption(p: Parsed, snapshotting: { pauseAfter: number | undefined; onSignal: boolean }): Tier {
  const tier = one(p, 'tier') ?? 'auto';
  if (tier !== 'interp' && tier !== 'native' && tier !== 'auto') throw new UsageError(`--tier ${tier}: expected interp, native or auto`);
  if (snapshotting.pauseAfter !== undefined && tier === 'native') {
    throw new UsageError('--pause-after counts instructions exactly, which only the interpreter does: use --tier interp (or auto)');
  }
  if (tier === 'auto' && (snapshotting.pauseAfter !== undefined || snapshotting.onSignal)) return 'interp';
  return tier;
}

export interface DriveOptions {
  pauseAfter: number | undefined;
  snapshotPath: string | undefined;
  onSignal: boolean;
  /** Carry the module in the snapshot file. */
  embedModule: boolean;
  /** Print the results of a returning entry (an --invoke run). */
  printResults: boolean;
}

/** The snapshot options of a parsed command line, checked. */
export function snapshotOptions(p: Parsed, embedModule: boolean): Omit<DriveOptions, 'printResults'> {
  const pauseAfter = integer(p, 'pause-after', 0);
  const snapshotPath = one(p, 'snapshot');
  const onSignal = flag(p, 'snapshot-on-signal');
  if ((pauseAfter !== undefined || onSignal) && snapshotPath === undefined) {
    throw new UsageError(`--${pauseAfter !== undefined ? 'pause-after' : 'snapshot-on-signal'} needs --snapshot FILE`);
  }
  if (snapshotPath !== undefined && pauseAfter === undefined && !onSignal) {
    throw new UsageError('--snapshot FILE needs --pause-after N or --snapshot-on-signal');
  }
  if (snapshotPath !== undefined) checkSnapshotPath(snapshotPath);
  return { pauseAfter, snapshotPath, onSignal, embedModule };
}

/**
 * `--snapshot FILE` must be writable where it is: its directory exists, and it is not a
 * directory itself. Checked before the program runs, not after hours of it.
 * @throws UsageError naming the argument
 */
function checkSnapshotPath(path: string): void {
  const bad = (why: string): never => { throw new UsageError(`--snapshot ${JSON.stringify(path)}: ${why}`); };
  if (path === '' || path.includes('\0')) bad('not a file name');
  const parent = dirname(path);
  let stats: Stats | undefined;
  try { stats = statSync(parent); } catch { bad(`no directory ${parent}`); }
  if (!stats?.isDirectory()) bad(`${parent} is not a directory`);
  if (statSync(path, { throwIfNoEntry: false })?.isDirectory()) bad('is a directory');
}

function writeAtomically(path: string, bytes: Uint8Array): void {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, bytes);
    renameSync(tmp, path);
  } catch (cause) {
    try { unlinkSync(tmp); } catch { /* it may not exist */ }
    throw new WasmigError('ERR_SNAPSHOT_WRITE', `cannot write the snapshot ${path}: ${(cause as Error).message}`, { cause });
  }
}

/** Where a paused program stands, for people: "NAME (function F at byte 0xOFF)". */
export function describePosition(program: Program, funcIndex: number, pc: number): string {
  const name = program.instance.state.names.get(funcIndex);
  return `${name ?? `<function ${funcIndex}>`} (function ${funcIndex} at byte 0x${pc.toString(16)})`;
}

/** Runs `program` (started or resumed) under the options; returns the exit status. */
export async function driveProgram(program: Program, o: DriveOptions): Promise<number> {
  const execution = program.execution;
  if (execution === undefined) throw new UsageError('nothing to run: the program has not started');
  if (o.pauseAfter !== undefined && o.pauseAfter < execution.instructions) {
    throw new UsageError(`--pause-after ${o.pauseAfter}: the program is already past ${execution.instructions} instructions`);
  }
  let signalled = false;
  const onSignal = (): void => {
    signalled = true;
    execution.requestPause();
  };
  if (o.onSignal) process.on('SIGUSR2', onSignal);
  try {
    let outcome: RunOutcome;
    for (;;) {
      // Only --pause-after is a limit to count out exactly; the slices just let the event loop in.
      outcome = execution.run({ until: o.pauseAfter, slice: SLICE_INSTRUCTIONS, timeSliceMs: o.onSignal ? NATIVE_SLICE_MS : undefined });
      if (outcome.kind === 'awaiting') {
        await execution.importSettled();
        continue;
      }
      if (outcome.kind !== 'paused') break;
      if (signalled || (o.pauseAfter !== undefined && execution.instructions >= o.pauseAfter)) {
        const state = program.captureState();
        const bytes = encodeSnapshot(state, { module: o.embedModule ? program.compiled.module.bytes : undefined });
        writeAtomically(o.snapshotPath!, bytes);
        const top = state.frames[state.frames.length - 1];
        const where = top ? ` in ${describePosition(program, top.funcIndex, top.pc)}` : '';
        process.stderr.write(`wasmig: paused after ${execution.instructions} instructions${where}${signalled ? ' (SIGUSR2)' : ''}; snapshot written to ${o.snapshotPath} (${bytes.length} bytes)\n`);
        return 0;
      }
      // Let signals and timers in between slices.
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (outcome.kind === 'exited') return outcome.status;
    if (o.printResults) for (const r of outcome.results) process.stdout.write(`${formatValue(r)}\n`);
    return 0;
  } finally {
    if (o.onSignal) process.off('SIGUSR2', onSignal);
  }
}
