/**
 * A job's worker thread: it holds the job's {@link Program} and runs it unsliced, on
 * whichever tier it uses, while the agent's main thread keeps MQTT, heartbeats and the
 * handoff protocol. Output goes through a shared ring (`output-ring.ts`); commands come
 * as messages, announced through shared memory (`job-protocol.ts`).
 *
 * Loaded by `job-runner.ts` as the worker's entry.
 */
import { openSync } from 'node:fs';
import { receiveMessageOnPort } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import type { CompiledModule } from '../compile/index.ts';
import type { SharedClones } from '../native/index.ts';
import { DecodeError, ExhaustionError, Trap, ValidationError, WasmigError } from '../errors/index.ts';
import { defaultEngines, loadModule, Program } from '../program/index.ts';
import type { ResumeOptions } from '../program/index.ts';
import { decodeSnapshot } from '../snapshot/index.ts';
import type { RunOutcome } from '../runtime/index.ts';
import { WasiHost } from '../wasi/index.ts';
import type { WakeWord } from '../wasi/index.ts';
import type { ClonesReport, Command, EndReport, JobCommand, ProgramSetup, Reply, RunStarted, WorkerBoot } from './job-protocol.ts';
import { COMMANDS_SENT, PAUSE_FLAG, WAKE_WORD } from './job-protocol.ts';
import { hopClockMs } from './hop-clock.ts';
import { RingWriter } from './output-ring.ts';
import { Precopy } from './precopy-source.ts';
import { Arrival } from './precopy-target.ts';
import { sharedCopy, sharedReplyData } from './shared-reply.ts';

/** Exit status of a job that trapped: 128 + SIGABRT, as `wasmig run` says. */
export const TRAP_STATUS = 134;

class JobThread {
  readonly #control: Int32Array;
  readonly #ring: RingWriter;
  readonly #port: MessagePort;
  readonly #stdin = openSync('/dev/null', 'r');
  #program: Program | undefined;
  #compiled: CompiledModule | undefined;
  /** Commands taken so far (compared with the main thread's count of commands sent). */
  #taken = 0;
  #wantRun = false;
  #looping = false;
  /** When this worker took `start`, had the program instantiated, and first ran it (`hop-clock.ts`): the end reports them. */
  readonly #stamps: Record<string, number> = {};
  #ended = false;
  #precopy: Precopy | undefined;
  #arrival: Arrival | undefined;
  /** The memory images the job arrived with, or left with: what the agent at the other end of that handoff holds. */
  #handoffImages: Uint8Array[] | undefined;
  #handoffDigest: string | undefined;
  /** What the job's standbys hold of its memory (replicated jobs): checkpoints send what changed since. */
  #checkpoints: Precopy | undefined;
  /** The program was running when a checkpoint stopped it, and nothing else paused it since. */
  #heldByCheckpoint = false;
  /** Keys of the resume clones the agent has (adopted from it, or handed to it). */
  readonly #sharedClones = new Set<string>();
  /**
   * What may have written the program's memory, counted: every run of the program (at
   * its start and its end: a round served in place runs inside one) and every
   * asynchronous call settled (its results land in memory before the run resumes). A
   * pre-copy round that finds the count where the last one left it skips its compare.
   */
  #writes = 0;
  /** The restore's steps in a final (`hop-clock.ts`; for measuring). */
  #restoreStamps: Record<string, number> = {};
  /** True while a command is served at a safepoint (`#serveInPlace`). */
  #servingInPlace = false;
  /** Commands taken off the port at a safepoint (`#serveInPlace`) that wait for the program to pause. */
  readonly #deferred: Command[] = [];
  /** Work for the moment after the next reply is out (set by a command whose answer someone waits for). */
  #afterReply: (() => void) | undefined;

  constructor(boot: WorkerBoot, port: MessagePort) {
    this.#control = new Int32Array(boot.control);
    this.#ring = new RingWriter(boot.ring);
    this.#port = port;
    port.on('message', (command: Command) => this.#take(command));
  }

  /**
   * The native tier found the pause flag up at a safepoint: serves there the commands
   * that need only the program's memory (a pre-copy round), without unwinding it, which
   * would make it compile resume clones for a stack that changes from round to round
   * (a CoreMark job's source worker took a migration's final 20 ms late, busy with them).
   * True: pause after all (a command that needs the frames, or one not on the port yet).
   */
  #serveInPlace(): boolean {
    Atomics.store(this.#control, PAUSE_FLAG, 0);
    for (;;) {
      if (this.#deferred.length > 0) return true;
      if (Atomics.load(this.#control, COMMANDS_SENT) === this.#taken) return !this.#wantRun;
      const received = receiveMessageOnPort(this.#port);
      if (received === undefined) return true;
      const command = received.message as Command;
      if (command.op === 'round' && this.#precopy !== undefined) {
        this.#servingInPlace = true;
        try {
          this.#take(command);
        } finally {
          this.#servingInPlace = false;
        }
        continue;
      }
      this.#deferred.push(command);
      return true;
    }
  }

  /** Takes the commands `#serveInPlace` held for the pause, in the order they came. */
  #takeDeferred(): void {
    while (this.#deferred.length > 0) this.#take(this.#deferred.shift()!);
  }

  #take(command: Command): void {
    this.#taken++;
    let reply: Reply;
    try {
      reply = { re: command.id, ok: true, data: sharedReplyData(this.#execute(command)) };
    } catch (error) {
      const known = error instanceof WasmigError;
      reply = { re: command.id, ok: false, code: known ? error.code : 'ERR_INTERNAL', message: known ? error.message : `internal error: ${(error as Error)?.stack ?? String(error)}` };
    }
    // Nothing moved: a transfer would detach the buffers here (`shared-reply.ts`).
    this.#port.postMessage(reply);
    const prepare = this.#afterReply;
    this.#afterReply = undefined;
    try {
      prepare?.();
    } catch {
      // Only ahead of time: the run does the same work and reports what fails.
    }
    this.#schedule();
  }

  #execute(command: JobCommand): unknown {
    switch (command.op) {
      case 'start': return this.#start(command.setup, command.args, command.env);
      case 'receive': {
        this.#compiled = this.#load(command.setup);
        this.#arrival = new Arrival(this.#compiled, command.base, this.#resumeOptions(command.setup));
        this.#warmRestore(command.setup);
        return undefined;
      }
      case 'rebase': this.#needArrival(); this.#arrival = new Arrival(this.#compiled!, undefined, this.#resumeOptions(command.setup)); return undefined;
      case 'apply': return this.#needArrival().apply(command.deltas);
      case 'restore': {
        const taken = hopClockMs();
        this.#restoreStamps = {};
        const restored = this.#restore(command.setup, command.snapshot, command.deltas, command.digests);
        // No setup ahead of the first run here (the native tier's resume clones for the
        // frames below the top): the final commits, so the run comes right behind this
        // answer, and a clone in the making held it up by 3-5 ms of CoreMark's downtime.
        // The run makes what its top frame needs (made ahead by the agent, most often),
        // the rest as it goes (lazy re-entry).
        return { ...restored, stamps: { ...this.#restoreStamps, took: taken, done: hopClockMs() } };
      }
      case 'run': {
        this.#wantRun = true;
        this.#heldByCheckpoint = false;
        const started: RunStarted = { ran: hopClockMs(), clones: this.#unsharedClones() };
        return started;
      }
      case 'pause': this.#wantRun = false; this.#heldByCheckpoint = false; return { instructions: this.#program?.execution?.instructions ?? 0 };
      case 'snapshot': return this.#needProgram().snapshot({ embedModule: false });
      case 'precopy': {
        const program = this.#needProgram();
        const base = command.base !== undefined && command.base === this.#handoffDigest ? this.#handoffImages : undefined;
        this.#precopy = new Precopy(program, base);
        // Loads the snapshot codecs and warms the capture path now, not in the pause;
        // the positions of every function (the frames at the pause are not known yet).
        program.snapshot({ embedModule: false, omitMemory: true, omitFiles: () => true });
        for (const f of program.compiled.functions) void f.points;
        return { base: base ? command.base : undefined };
      }
      case 'round': {
        // Served in place, the program is inside a run that goes on after it: it may write
        // before the next round without the count moving, so such a round always compares,
        // and counts as a write for the rounds after it.
        if (this.#servingInPlace) this.#writes++;
        return { ...this.#needPrecopy().round(this.#servingInPlace ? undefined : this.#writes), inPlace: this.#servingInPlace };
      }
      case 'final': {
        // The pause and the last round in one command: one trip between the threads less in the downtime.
        const taken = hopClockMs();
        this.#wantRun = false;
        this.#heldByCheckpoint = false;
        const final = this.#needPrecopy().final(this.#writes);
        // Out of the pause: the clones this run made, for a move back here.
        this.#afterReply = () => this.#postClones();
        return { ...final, stamps: { took: taken, done: hopClockMs() } };
      }
      case 'forget': {
        this.#precopy = undefined;
        this.#handoffImages = undefined;
        this.#handoffDigest = undefined;
        return undefined;
      }
      case 'checkpoint': {
        const program = this.#needProgram();
        if (command.full || !this.#checkpoints) this.#checkpoints = new Precopy(program, undefined);
        this.#heldByCheckpoint ||= this.#wantRun;
        this.#wantRun = false;
        return this.#checkpoints.final(this.#writes);
      }
      case 'go-on': {
        if (this.#heldByCheckpoint) this.#wantRun = true;
        this.#heldByCheckpoint = false;
        return undefined;
      }
      case 'images': {
        const precopy = this.#precopy;
        this.#precopy = undefined;
        if (precopy?.digest === undefined) return { images: [], digest: undefined };
        // Copies, in shared memory: an image's bytes are a view of the thread's own shadow.
        return { images: precopy.images().map(sharedCopy), digest: precopy.digest };
      }
    }
  }

  /** Hands the agent the resume clones made here that it has not had (`ClonesReport`). */
  #postClones(): void {
    const clones = this.#unsharedClones();
    if (clones.length > 0) this.#port.postMessage({ event: 'clones', clones } satisfies ClonesReport);
  }

  /** Resume clones made here that the agent has not had, now counted as had. */
  #unsharedClones(): SharedClones {
    if (!this.#compiled) return [];
    const fresh = defaultEngines.native.rewrites.clonesOf(this.#compiled).filter(([key]) => !this.#sharedClones.has(key));
    for (const [key] of fresh) this.#sharedClones.add(key);
    return fresh;
  }

  #needProgram(): Program {
    if (!this.#program) throw new WasmigError('ERR_STATE', 'no program in this worker');
    if (this.#ended) throw new WasmigError('ERR_STATE', 'the job has ended');
    return this.#program;
  }

  #needPrecopy(): Precopy {
    if (!this.#precopy) throw new WasmigError('ERR_STATE', 'no pre-copy under way');
    return this.#precopy;
  }

  #needArrival(): Arrival {
    if (!this.#arrival) throw new WasmigError('ERR_STATE', 'no incoming job in this worker');
    return this.#arrival;
  }

  #load(setup: ProgramSetup): CompiledModule {
    let compiled: CompiledModule;
    try {
      compiled = loadModule(setup.module);
    } catch (error) {
      if (error instanceof DecodeError) throw new WasmigError(error.code, `${setup.name}: malformed module: ${error.message}`);
      if (error instanceof ValidationError) throw new WasmigError(error.code, `${setup.name}: invalid module: ${error.message}`);
      throw error;
    }
    // Rewritten for the native tier now, before the job is asked to run.
    if (setup.tier !== 'interp') {
      try {
        // The agent's rewrite (its main thread made it once for every job of the module), else one made here.
        if (setup.native) defaultEngines.native.rewrites.adopt(compiled, defaultEngines.native.options.rewrite ?? {}, setup.native);
        else defaultEngines.resolve(setup.tier).prepare?.(compiled);
        if (setup.clones) {
          defaultEngines.native.rewrites.adoptClones(compiled, setup.clones);
          for (const [key] of setup.clones) this.#sharedClones.add(key);
        }
      } catch {
        // The tier reports it when it runs.
      }
    }
    return compiled;
  }

  /**
   * A restore rehearsed on a throwaway instance of the module: loads the snapshot codecs
   * and gets the decode and restore paths (and the native tier's instantiation) compiled
   * before the pause, when the real restore counts as downtime.
   */
  #warmRestore(setup: ProgramSetup): void {
    const compiled = this.#compiled!;
    // Frames are restored by each function's map of positions (and its translated code),
    // made on first use: made now for every function, the stack's being unknown yet.
    for (const f of compiled.functions) void f.points;
    const wasi = new WasiHost({ args: ['warm-up'], env: {}, preopens: [], stdin: this.#stdin, stdout: () => {}, stderr: () => {} });
    try {
      const probe = Program.withWasi(compiled, wasi, { maxMemoryBytes: setup.maxMemoryBytes, tier: 'interp' }, true);
      // A frame to restore (the entry's, not run): the final's state has frames, and their
      // decode and load paths ran cold in a fresh worker (0.8-1.8 ms of a CoreMark restore).
      if (probe.instance.exports.get('_start')?.kind === 'func') probe.start('_start');
      const options = { tier: setup.tier, stdin: this.#stdin, stdout: () => {}, stderr: () => {} };
      // The two-step restore a live migration's final does.
      const shell = Program.shell(compiled, options);
      const twoSteps = Program.finish(shell, decodeSnapshot(probe.snapshot({ embedModule: false, omitMemory: true })).state);
      twoSteps.wasi.close();
    } catch {
      // Only a rehearsal: the real restore reports its own errors.
    } finally {
      wasi.close();
    }
  }

  /** How this worker's programs resume: the agent's directories, the output ring, the shared pause flag. */
  #resumeOptions(setup: ProgramSetup): ResumeOptions {
    return { preopens: setup.preopens, stdin: this.#stdin, ...this.#sinks(), wake: this.#wake(), maxMemoryBytes: setup.maxMemoryBytes, tier: setup.tier, pauseSignal: this.#control, onPauseSignal: () => this.#serveInPlace() };
  }

  /**
   * The word that cuts the program's sleeps short (`WAKE_WORD`): a command that needs a
   * sleeping program stopped (a migration's final) is served at once, not when the sleep
   * is over (up to 10 ms for a program that sleeps in 10 ms steps).
   */
  #wake(): WakeWord {
    return { words: this.#control, index: WAKE_WORD };
  }

  #sinks(): { stdout: (data: Uint8Array) => void; stderr: (data: Uint8Array) => void } {
    return { stdout: (data) => this.#ring.write(1, data), stderr: (data) => this.#ring.write(2, data) };
  }

  #start(setup: ProgramSetup, args: string[], env: Record<string, string>): unknown {
    this.#stamps.workerTookStart = hopClockMs();
    const compiled = this.#load(setup);
    this.#stamps.workerCompiled = hopClockMs();
    const wasi = new WasiHost({ args, env, preopens: setup.preopens, memDirs: setup.memDirs, stdin: this.#stdin, ...this.#sinks(), wake: this.#wake() });
    try {
      const program = Program.withWasi(compiled, wasi, { maxMemoryBytes: setup.maxMemoryBytes, tier: setup.tier, pauseSignal: this.#control, onPauseSignal: () => this.#serveInPlace() });
      if (program.instance.exports.get('_start')?.kind !== 'func') throw new WasmigError('ERR_USAGE', `${setup.name} exports no _start function: it is not a WASI command`);
      program.start('_start');
      this.#program = program;
      this.#stamps.workerInstantiated = hopClockMs();
    } catch (error) {
      wasi.close();
      throw error;
    }
    return { preopens: setup.preopens.map((p) => p.guest) };
  }

  #restore(setup: ProgramSetup, snapshot: Uint8Array, deltas: Uint8Array[] | undefined, digests: string[] | undefined): { preopens: string[] } {
    const arrival = this.#arrival;
    const compiled = arrival ? this.#compiled! : this.#load(setup);
    const options = { module: compiled, ...this.#resumeOptions(setup) };
    if (arrival) {
      const { program, images, digest, stamps } = arrival.complete(snapshot, deltas ?? [], digests ?? []);
      Object.assign(this.#restoreStamps, stamps);
      this.#program = program;
      this.#handoffImages = images;
      this.#handoffDigest = digest;
      this.#arrival = undefined;
    } else {
      this.#program = Program.resume(snapshot, options);
    }
    // The host directories it needs where it goes (those in memory travel with it).
    return { preopens: this.#program.wasi.hostDirs };
  }

  /** Runs the program again after the commands, if it should run. */
  #schedule(): void {
    if (!this.#wantRun || this.#looping || this.#ended || !this.#program) return;
    this.#looping = true;
    setImmediate(() => this.#loop());
  }

  #loop(): void {
    this.#stamps.workerRan ??= hopClockMs();
    const program = this.#program!;
    const control = this.#control;
    for (;;) {
      // Lowered before looking at the count: a command sent after the look raises it again.
      Atomics.store(control, PAUSE_FLAG, 0);
      Atomics.store(control, WAKE_WORD, 0);
      if (Atomics.load(control, COMMANDS_SENT) !== this.#taken || !this.#wantRun) break;
      let outcome: RunOutcome;
      this.#writes++;
      try {
        outcome = program.run();
      } catch (error) {
        this.#end(failure(error));
        break;
      } finally {
        this.#writes++;
      }
      if (outcome.kind === 'awaiting') {
        // An asynchronous import: commands go on being served meanwhile; the loop resumes once it settled.
        void program.importSettled()?.then(() => { this.#writes++; this.#looping = false; this.#schedule(); });
        this.#takeDeferred();
        return;
      }
      if (outcome.kind !== 'paused') {
        this.#end({ event: 'end', kind: 'exited', status: outcome.kind === 'exited' ? outcome.status : 0 });
        break;
      }
    }
    this.#looping = false;
    this.#takeDeferred();
    // Other commands wait in the port; they arrive once this turn of the event loop ends.
  }

  #end(report: EndReport): void {
    this.#postClones();
    this.#ended = true;
    this.#wantRun = false;
    try {
      this.#program?.wasi.close();
    } catch {
      // Best effort: the files may be gone already.
    }
    this.#port.postMessage({ ...report, stamps: { ...this.#stamps, workerEnded: hopClockMs() } });
  }
}

function failure(error: unknown): EndReport {
  if (error instanceof Trap) {
    return { event: 'end', kind: 'failed', status: TRAP_STATUS, error: `${error instanceof ExhaustionError ? 'exhausted' : 'trap'}: ${error.message}` };
  }
  return { event: 'end', kind: 'failed', status: 1, error: error instanceof WasmigError ? error.message : `internal error: ${(error as Error)?.message ?? String(error)}` };
}

/** The worker's entry: `job-runner.ts` boots it with the shared control words and the output ring. */
export function startJobThread(boot: WorkerBoot, port: MessagePort): void {
  new JobThread(boot, port);
}
