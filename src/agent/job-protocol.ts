/**
 * What an agent's main thread and a job's worker thread say to each other
 * (`job-runner.ts` on the main side, `job-thread.ts` in the worker). Every command has
 * an id and gets one reply; the worker also reports, unasked, when its program ends.
 *
 * Commands reach the worker only when it looks at its event loop, which it does not
 * while its program runs; so the main thread first bumps a request counter and raises
 * the store's pause flag in shared memory (`Control`), which every tier polls within
 * about a millisecond. The worker then stops the program where it stands, takes the
 * commands, and runs on if it was running: a command does not change whether the job
 * runs, except `run` and `pause`.
 */
import type { ReadyModule, SharedClones } from '../native/index.ts';
import type { Tier } from '../runtime/index.ts';
import type { MemDirOptions } from '../wasi/index.ts';
import type { RingBuffer } from './output-ring.ts';

/** Word 0: the store's pause flag (set by the main thread, cleared by the tier that pauses). */
export const PAUSE_FLAG = 0;
/** Word 1: commands sent so far (the worker compares it with the commands it has taken). */
export const COMMANDS_SENT = 1;
/**
 * Word 2: raised with a command that needs the program stopped (a final, a pause, a
 * snapshot, a checkpoint): it cuts a WASI sleep short (`WasiOptions.wake`). Pre-copy
 * rounds do not raise it: they are served in place when the sleep ends, so that rounds
 * taken within one sleep of a bursty writer do not see a quiet memory.
 */
export const WAKE_WORD = 2;
export const CONTROL_WORDS = 3;

/** The program a worker runs, fresh or restored. */
export interface ProgramSetup {
  /** The module's bytes (the worker compiles them; agents cache modules by hash). */
  module: Uint8Array;
  /** For error messages. */
  name: string;
  preopens: { host: string; guest: string }[];
  /** The job's in-memory directories, seeded (a fresh start only: a restore takes them from the state). */
  memDirs?: MemDirOptions[];
  maxMemoryBytes?: number;
  tier: Tier;
  /**
   * The module rewritten for the native tier by the agent's main thread (once per module:
   * at its upload), so that the worker adopts it rather than rewriting it again, cold.
   * The compiled `WebAssembly.Module` in it is shared between threads, not compiled again.
   */
  native?: ReadyModule;
  /**
   * Resume clones of the module that earlier jobs' workers made here (see the `clones`
   * command): a restored frame at one of those safepoints continues without making one.
   */
  clones?: SharedClones;
}

export interface WorkerBoot {
  control: SharedArrayBuffer;
  ring: RingBuffer;
}

/** A memory's block delta as it travels between threads and agents (see `snapshot/memory-image.ts`). */
export type EncodedDelta = Uint8Array;

export type JobCommand =
  /** Instantiates a fresh program and enters `_start` (not yet running). */
  | { op: 'start'; setup: ProgramSetup; args: string[]; env: Record<string, string> }
  /** Loads the module and prepares to receive memory for `restore` (the target of a migration). */
  | { op: 'receive'; setup: ProgramSetup; base: ArrayBufferLike[] | undefined }
  /** Drops the base the images being received started from, for the module's initial images. */
  | { op: 'rebase'; setup: ProgramSetup }
  /** Applies pre-copy deltas, one per memory, to the images being received. */
  | { op: 'apply'; deltas: EncodedDelta[] }
  /** Rebuilds the paused program from a snapshot (its memories left empty when `final` deltas complete the received images). */
  | { op: 'restore'; setup: ProgramSetup; snapshot: Uint8Array; deltas?: EncodedDelta[]; digests?: string[] }
  /** Runs the program; answers with a {@link RunStarted}. */
  | { op: 'run' }
  | { op: 'pause' }
  /** A whole snapshot of the (momentarily) stopped program. */
  | { op: 'snapshot' }
  /** Starts a pre-copy: the shadow is the job's arrival images when their digest is `base`, else the module's initial images. */
  | { op: 'precopy'; base: string | undefined }
  /** One pre-copy round: the blocks changed since the last, taken while the program is stopped for a moment. */
  | { op: 'round' }
  /** The end of a pre-copy: the job pauses (and stays paused), then the last deltas, a snapshot without memory, and the images' digests. */
  | { op: 'final' }
  /** Ends a pre-copy that failed: the shadow no longer says what anyone holds. */
  | { op: 'forget' }
  /** Hands over the images the last handoff left (the departure images), for a later move back. */
  | { op: 'images' }
  /**
   * A checkpoint for the job's standbys: the blocks changed since the last checkpoint
   * (since the module's initial images when `full`), the state without memory, and the
   * images' digests. The program stays stopped until `go-on`, so that the main thread
   * reads the output log's end at exactly the checkpoint (output written after it would
   * otherwise already be in the ring when the reply is read).
   */
  | { op: 'checkpoint'; full: boolean }
  /** Runs the program again after a checkpoint, unless something else paused it since. */
  | { op: 'go-on' };

export type Command = JobCommand & { id: number };

export interface RoundResult {
  deltas: EncodedDelta[];
  /** Blocks in the deltas, and their bytes before encoding. */
  blocks: number;
  bytes: number;
  /** How long the program stood still for the round (ms). */
  stoppedMs: number;
  /** Served at a safepoint of native code, the program not unwound (see `JobThread`). */
  inPlace?: boolean;
}

export interface FinalResult extends RoundResult {
  snapshot: Uint8Array;
  digests: string[];
  /** When the worker took the command and when it had the package (`hop-clock.ts`). */
  stamps: Record<string, number>;
}

/** The answer to `run`, given as the program is set going. */
export interface RunStarted {
  /** When (`hop-clock.ts`). */
  ran: number;
  /**
   * Resume clones the worker made that the agent has not had yet (those made ahead of
   * this run, for restored frames), for its next jobs of the module.
   */
  clones: SharedClones;
}

export type Reply =
  | { re: number; ok: true; data?: unknown }
  | { re: number; ok: false; code: string; message: string };

/** The program ended by itself: exited, or failed (a trap, an internal error). */
export type EndReport =
  | { event: 'end'; kind: 'exited'; status: number; stamps?: Record<string, number> }
  | { event: 'end'; kind: 'failed'; status: number; error: string; stamps?: Record<string, number> };

/**
 * Resume clones the worker made while the program ran (lazy re-entry makes them as
 * frames come to the top), handed to the agent once the program stops for a final or
 * ends: for its next jobs of the module, and for this job if it comes back.
 */
export interface ClonesReport {
  event: 'clones';
  clones: SharedClones;
}

export type ThreadMessage = Reply | EndReport | ClonesReport;
