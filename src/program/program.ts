import type { CompiledModule } from '../compile/index.ts';
import { DecodeError, LinkError, SnapshotError, UsageError, ValidationError } from '../errors/index.ts';
import type { HostCallback } from '../exec/index.ts';
import { checkRunOptions, exactLimit, Store } from '../runtime/index.ts';
import type { Engine, ExecutionLike, ExternVal, Imports, Instance, RunOptions, RunOutcome, StoreOptions, Tier } from '../runtime/index.ts';
import { formatFuncType, sameFuncType, WasiHost, wasiFuncType } from '../wasi/index.ts';
import type { WasiOptions } from '../wasi/index.ts';
import { captureProgram, decodeSnapshot, encodeSnapshot, moduleSha256, restoreProgram } from '../snapshot/index.ts';
import type { CanonicalState, DecodedSnapshot } from '../snapshot/index.ts';
import { defaultEngines } from './engines.ts';
import { loadModule } from './load.ts';

const PAGE = 65536;

/** How to start a program: its argv, environment, directories, stdio, imports, limits and tier. */
export interface ProgramOptions {
  /** argv, argv[0] included (the module path by convention). */
  args?: string[];
  /** The program's environment variables. */
  env?: Record<string, string>;
  /** Host directories the program may reach and the names it sees them under. */
  preopens?: {
    /** The directory on this machine. */
    host: string;
    /** The name the program opens it by. */
    guest: string;
  }[];
  /**
   * Directories in memory the program may reach (after `preopens`), empty or seeded: their
   * content is part of the program's state and moves with it (see `WasiOptions.memDirs`).
   * A resume takes them from the snapshot and ignores this.
   */
  memDirs?: WasiOptions['memDirs'];
  /** Largest linear memory, in bytes (rounded down to whole 64 KiB pages). */
  maxMemoryBytes?: number;
  /** The embedder's own host functions, by module and name, typed by the module's imports. */
  imports?: Record<string, Record<string, HostCallback>>;
  /** Host fds for the program's stdin, stdout and stderr (default: the process's own); output may also go to a function. */
  stdin?: number;
  /** Where the program's stdout goes: a host fd or a function given every byte. */
  stdout?: WasiOptions['stdout'];
  /** Where the program's stderr goes: a host fd or a function given every byte. */
  stderr?: WasiOptions['stderr'];
  /**
   * WASI calls that would block (a read from stdin or a pipe, `poll_oneoff` sleeping on
   * clocks) return promises instead, awaited at the call: run with {@link Program.runAsync}
   * so that the thread's event loop never waits on them (see `WasiOptions.asyncBlocking`).
   */
  asyncBlocking?: boolean;
  /** A shared word that cuts the program's sleeps short when raised (see `WasiOptions.wake`). */
  wake?: WasiOptions['wake'];
  /**
   * Call depth and value stack limits; `fast: false` keeps the interpreter on its exact
   * code; `jsAfter` says when it compiles a function to JavaScript (-1: never).
   */
  limits?: Pick<StoreOptions, 'maxDepth' | 'maxSlots' | 'fast' | 'jsAfter'>;
  /**
   * The engine that runs the program: `interpreterEngine`, `nativeEngine(...)`,
   * `autoEngine(...)`, or one of your own. Takes precedence over `tier`.
   */
  engine?: Engine;
  /**
   * The tier by name, when no `engine` is given (default `interp`): `native` runs the
   * module on the host's own WebAssembly engine, pausable at safepoints; `auto` picks
   * `native` where it can run (large modules start interpreted and tier up). Both name
   * the library's shared engines (`defaultEngines`). On the native tier
   * `run({ until, budget })` counts interpreted instructions only.
   */
  tier?: Tier;
  /**
   * A pause flag in shared memory that every tier polls (see `StoreOptions.pauseSignal`):
   * another thread pauses the running program with `Atomics.store(signal, 0, 1)`.
   */
  pauseSignal?: Int32Array;
  /** See `StoreOptions.onPauseSignal`: the native tier asks it before pausing at the signal. */
  onPauseSignal?: () => boolean;
}

/** What {@link Program.snapshot} puts in a snapshot besides the program's state. */
export interface SnapshotOptions {
  /** Carry the module's bytes in the snapshot, so that the file alone can resume (default false). */
  embedModule?: boolean;
  /** Embedder host state to carry, by name (plain data), on top of the registered providers. */
  hostState?: Record<string, unknown>;
  /**
   * Leave the memories' pages out (their sizes stay): for a receiver that gets the memory
   * another way, as a live migration's pre-copied blocks. Such a snapshot alone does not
   * resume the program's memory.
   */
  omitMemory?: boolean;
  /**
   * Leave these in-memory files' bytes out (empty), by preopen index, inode and content
   * version (`WasiHost.memFiles`): for a receiver that holds them already, as a live
   * migration's pre-copied files.
   */
  omitFiles?: (preopen: number, ino: number, version: number) => boolean;
}

/** How to resume: the resuming side's directories, stdio, imports and limits (argv and environment come from the snapshot). */
export interface ResumeOptions extends ProgramOptions {
  /** The module, when the snapshot does not embed it (bytes or compiled); its sha256 must match. */
  module?: Uint8Array | CompiledModule;
  /**
   * Snapshot bytes given to {@link Program.resume}: refuse a body that would decompress
   * to more (default: `maxMemoryBytes` plus 64 MiB; see `snapshotLimitFor`).
   */
  maxSnapshotBytes?: number;
}

/**
 * A program being resumed in two steps ({@link Program.shell}, {@link Program.finish}):
 * its memories, written while they arrive.
 */
export class ProgramShell {
  constructor(
    /** The allocated program (nothing ran; its WASI host is a placeholder). */
    readonly program: Program,
    readonly route: { host: WasiHost },
    readonly options: ResumeOptions,
  ) {}

  get placeholder(): WasiHost {
    return this.program.wasi;
  }

  /** How many memories the module has (imports first). */
  get memoryCount(): number {
    return this.program.instance.state.memAddrs.length;
  }

  /** Memory `index`'s bytes now, grown first to at least `byteLength` (whole pages). */
  memory(index: number, byteLength = 0): Uint8Array {
    const m = this.program.store.state.memories[this.program.instance.state.memAddrs[index]];
    const have = m.memory.buffer.byteLength;
    if (byteLength > have) {
      try {
        m.memory.grow(Math.ceil((byteLength - have) / PAGE));
      } catch (cause) {
        throw new SnapshotError(`memory ${index}: cannot grow to ${byteLength} bytes`, { cause });
      }
    }
    return new Uint8Array(m.memory.buffer);
  }
}

/**
 * A WASI program instantiated on the interpreter: its store, instance and WASI host,
 * and the execution of its entry point, which can run in budgets and pause anywhere.
 */
export class Program {
  /** The store the program's module is instantiated in. */
  readonly store: Store;
  /** The program's module instance. */
  readonly instance: Instance;
  /** The program's WASI host (its files, argv, environment, clocks). */
  readonly wasi: WasiHost;
  /** The execution of the entry point, once started (`start`, or the first `run`). */
  execution: ExecutionLike | undefined;
  /** The engine executions start on (see {@link ProgramOptions.engine}). */
  readonly engine: Engine;
  /** Embedder host state this program was resumed with, by name (empty for a fresh program). */
  hostState: Record<string, unknown> = {};
  /** The export the execution entered (travels in snapshots). */
  private entryName: string | null = null;
  private readonly hostStateProviders = new Map<string, () => unknown>();

  /**
   * @param compiled the program's module
   */
  private constructor(readonly compiled: CompiledModule, store: Store, instance: Instance, wasi: WasiHost, engine: Engine) {
    this.store = store;
    this.instance = instance;
    this.wasi = wasi;
    this.engine = engine;
  }

  /** The name of the tier this program's engine is (`interp`, `native`, `auto`). */
  get tier(): Tier {
    return this.engine.name;
  }

  /** The engine `options` ask for. */
  private static engineOf(options: ProgramOptions): Engine {
    return options.engine ?? defaultEngines.resolve(options.tier);
  }

  /**
   * Instantiates a WASI program (a command or a reactor) with its imports; nothing runs
   * yet, except the module's start function.
   * @throws LinkError when an import is missing or of the wrong type
   */
  static instantiate(compiled: CompiledModule, options: ProgramOptions = {}): Program {
    const wasiOptions: WasiOptions = {
      args: options.args ?? ['program.wasm'],
      env: options.env ?? {},
      preopens: options.preopens ?? [],
      memDirs: options.memDirs,
      stdin: options.stdin, stdout: options.stdout, stderr: options.stderr, asyncBlocking: options.asyncBlocking, wake: options.wake,
    };
    const wasi = new WasiHost(wasiOptions);
    return Program.withWasi(compiled, wasi, options);
  }

  /** Instantiates with a given WASI host (a restored one, when resuming). */
  static withWasi(compiled: CompiledModule, wasi: WasiHost, options: ProgramOptions = {}, allocateOnly = false): Program {
    const maxMemoryPages = options.maxMemoryBytes === undefined ? undefined : Math.floor(options.maxMemoryBytes / PAGE);
    const store = new Store({ ...options.limits, maxMemoryPages, pauseSignal: options.pauseSignal, onPauseSignal: options.onPauseSignal });
    const imports: Imports = { ...wasi.imports, ...options.imports };
    for (const imp of compiled.module.imports) {
      if (imp.desc.kind === 'func' && imports[imp.module]?.[imp.name] === undefined) {
        throw new LinkError(`unknown import ${imp.module}.${imp.name}: no such host function`);
      }
      // Host functions take whatever type the module declares: hold WASI's to its own.
      const wasiType = wasiFuncType(imp.module, imp.name);
      if (imp.desc.kind === 'func' && wasiType !== undefined && imports[imp.module]?.[imp.name] === wasi.imports[imp.module]?.[imp.name]) {
        const declared = compiled.module.types[imp.desc.typeIndex];
        if (!sameFuncType(declared, wasiType)) {
          throw new LinkError(`incompatible import type for ${imp.module}.${imp.name}: WASI defines ${formatFuncType(wasiType)}, the module declares ${formatFuncType(declared)}`);
        }
      }
    }
    const instance = allocateOnly ? store.allocate(compiled, imports) : store.instantiate(compiled, imports);
    const memory = instance.exports.get('memory');
    if (memory?.kind === 'memory') wasi.bindMemory(store.state.memories[memory.addr].memory);
    return new Program(compiled, store, instance, wasi, Program.engineOf(options));
  }

  /**
   * The instance's export `name`.
   * @throws UsageError when the module exports no such name
   */
  export(name: string): ExternVal {
    const e = this.instance.exports.get(name);
    if (!e) throw new UsageError(`the module exports no ${JSON.stringify(name)}`);
    return e;
  }

  /** Begins executing an exported function (default `_start`); run it with `run`. */
  start(entry = '_start', args: readonly unknown[] = []): ExecutionLike {
    const e = this.export(entry);
    if (e.kind !== 'func') throw new UsageError(`export ${JSON.stringify(entry)} is a ${e.kind}, not a function`);
    this.execution = this.engine.start(this.store, this.instance, e.addr, args);
    this.entryName = entry;
    return this.execution;
  }

  /**
   * Runs the execution (starting `_start` first if nothing started) until it ends, is
   * paused, or its budget is spent. A WASI command whose `_start` returns has `exited`
   * with status 0, as one that calls `proc_exit(0)`; `returned` (with the results) is
   * for any other export. `awaiting` means an import returned a promise: run again once
   * it settled, or use {@link runAsync}, which does that.
   * @throws Trap when the program traps
   */
  run(options: RunOptions = {}): RunOutcome {
    if (!this.execution) this.start(this.entryName ?? '_start');
    const outcome = this.execution!.run(options);
    if (outcome.kind === 'returned' && this.entryName === '_start') return { kind: 'exited', status: 0 };
    return outcome;
  }

  /**
   * `run`, awaiting asynchronous imports as they come: the program suspends at such a
   * call (plain data: it can be paused and snapshotted meanwhile) and carries on with the
   * settled value, or traps at the call when the promise rejects. `budget` counts from
   * this call, over all of its runs; a `slice` is each run's.
   */
  async runAsync(options: RunOptions = {}): Promise<RunOutcome> {
    checkRunOptions(options);
    if (!this.execution) this.start(this.entryName ?? '_start');
    const execution = this.execution!;
    const until = exactLimit(options, execution.instructions);
    for (;;) {
      const outcome = this.run({ until, slice: options.slice, timeSliceMs: options.timeSliceMs });
      if (outcome.kind !== 'awaiting') return outcome;
      await execution.importSettled();
    }
  }

  /** While the program is `awaiting` an import: a promise that resolves once the import settled. */
  importSettled(): Promise<void> | undefined {
    return this.execution?.importSettled();
  }

  /** Asks the running execution to pause at the next instruction boundary (from a host function or a timer). */
  requestPause(): void {
    this.execution?.requestPause();
  }

  /**
   * Registers embedder host state that travels with every snapshot under `name`:
   * `capture` is called at each snapshot and must return plain (msgpack-able) data.
   * A resumed program finds it in {@link Program.hostState}.
   */
  registerHostState(name: string, capture: () => unknown): void {
    this.hostStateProviders.set(name, capture);
  }

  /**
   * The whole machine as canonical plain data (see `snapshot/canonical.ts`): while
   * paused, or before the execution started.
   * @throws SnapshotError when the program has finished.
   */
  captureState(options: Pick<SnapshotOptions, 'hostState'> = {}): CanonicalState {
    return this.capture(options, false);
  }

  private capture(options: Pick<SnapshotOptions, 'hostState' | 'omitMemory' | 'omitFiles'>, shareMemory: boolean): CanonicalState {
    const host: Record<string, unknown> = { ...this.hostState };
    for (const [name, capture] of this.hostStateProviders) host[name] = capture();
    Object.assign(host, options.hostState);
    return captureProgram(this, { entry: this.entryName, wasi: this.wasi.captureState({ omitFiles: options.omitFiles }), host, shareMemory, omitMemory: options.omitMemory });
  }

  /**
   * A snapshot file of the paused program (docs/snapshot-format.md), to resume with
   * {@link Program.resume} here or on another machine.
   * @throws SnapshotError when the program has finished or its state cannot be encoded.
   */
  snapshot(options: SnapshotOptions = {}): Uint8Array {
    // Encoded at once: the memory is read in place, not copied first.
    return encodeSnapshot(this.capture(options, true), { module: options.embedModule ? this.compiled.module.bytes : undefined });
  }

  /**
   * Rebuilds a program from a snapshot: validated first (it is untrusted), then restored
   * into a fresh store; `run` carries on from the next instruction. Open files are
   * reopened by path, mode and offset under `options.preopens` (matched by guest name), or
   * in the in-memory directories the snapshot carries.
   * @throws SnapshotError for a malformed, corrupted or mismatching snapshot.
   */
  static resume(snapshot: Uint8Array | DecodedSnapshot, options: ResumeOptions = {}): Program {
    const decoded = snapshot instanceof Uint8Array
      ? decodeSnapshot(snapshot, { maxBodyBytes: options.maxSnapshotBytes, maxMemoryBytes: options.maxMemoryBytes })
      : snapshot;
    let compiled: CompiledModule;
    const given = options.module;
    if (given !== undefined) {
      compiled = given instanceof Uint8Array ? loadModule(given) : given;
    } else if (decoded.module !== undefined) {
      try {
        compiled = loadModule(decoded.module);
      } catch (error) {
        if (error instanceof DecodeError || error instanceof ValidationError) throw new SnapshotError(`the embedded module is not valid: ${error.message}`, { cause: error });
        throw error;
      }
    } else {
      throw new SnapshotError(`the snapshot does not embed its module (sha256 ${decoded.state.moduleSha256}): pass the module`);
    }
    return Program.fromState(decoded.state, compiled, options);
  }

  /**
   * The first step of a resume in two (a live migration's target): the module allocated
   * without running anything, with empty memories to be written while they arrive
   * ({@link ProgramShell.memory}); {@link Program.finish} then restores everything else
   * from a state that carries no memory pages. The restore's copy of the memory, and the
   * growing of it, then fall before the pause, not in it.
   * @internal
   */
  static shell(compiled: CompiledModule, options: ResumeOptions = {}): ProgramShell {
    const placeholder = new WasiHost({ args: ['program.wasm'], env: {}, preopens: [], stdin: options.stdin, stdout: () => {}, stderr: () => {} });
    // WASI calls go through these to the host that `finish` restores.
    const route: { host: WasiHost } = { host: placeholder };
    const delegates: Record<string, Record<string, HostCallback>> = {};
    for (const [module, functions] of Object.entries(placeholder.imports)) {
      delegates[module] = {};
      for (const name of Object.keys(functions)) delegates[module][name] = (...args: unknown[]) => route.host.imports[module][name](...args);
    }
    const program = Program.withWasi(compiled, placeholder, { ...options, stdout: undefined, stderr: undefined, imports: { ...delegates, ...options.imports } }, true);
    // The engine's own setup (the native tier's instantiation) now, not in the pause;
    // the restore writes the state into the same store objects the engine links to.
    try {
      program.engine.prepareInstance?.(program.store, program.instance);
    } catch {
      // Reported by `finish`, whose resume does the same setup again.
    }
    return new ProgramShell(program, route, options);
  }

  /**
   * The second step of a two-step resume: the state (its memories sizes only, their
   * contents written into `shell` already) restored around the shell's memories.
   * @throws SnapshotError when the state does not fit the module or the memories received.
   * @internal
   */
  static finish(shell: ProgramShell, state: CanonicalState): Program {
    const { program: allocated, route, options } = shell;
    const compiled = allocated.compiled;
    const sha = moduleSha256(compiled.module);
    if (state.moduleSha256 !== sha) throw new SnapshotError(`the module given (sha256 ${sha}) is not the snapshot's (sha256 ${state.moduleSha256})`);
    const wasiOptions: WasiOptions = {
      args: options.args ?? ['program.wasm'], env: options.env ?? {}, preopens: options.preopens ?? [],
      stdin: options.stdin, stdout: options.stdout, stderr: options.stderr, asyncBlocking: options.asyncBlocking, wake: options.wake,
    };
    const wasi = state.wasi === null ? new WasiHost(wasiOptions) : WasiHost.restore(state.wasi, wasiOptions);
    try {
      const program = new Program(compiled, allocated.store, allocated.instance, wasi, Program.engineOf(options));
      const memory = program.instance.exports.get('memory');
      if (memory?.kind === 'memory') wasi.bindMemory(program.store.state.memories[memory.addr].memory);
      const restored = restoreProgram(program, state, { keepMemory: true });
      program.execution = restored && program.engine.resume(program.store, program.instance, restored.funcAddr, restored.entryDepth);
      program.entryName = state.entry;
      program.hostState = { ...state.host };
      route.host = wasi;
      shell.placeholder.close();
      return program;
    } catch (error) {
      wasi.close();
      throw error;
    }
  }

  /**
   * Rebuilds a program from a canonical state whose shape was checked (`decodeSnapshot`
   * does that), e.g. one unwound from the native tier.
   * @throws SnapshotError when the state does not fit the module.
   */
  static fromState(state: CanonicalState, compiled: CompiledModule, options: ResumeOptions = {}): Program {
    const sha = moduleSha256(compiled.module);
    if (state.moduleSha256 !== sha) throw new SnapshotError(`the module given (sha256 ${sha}) is not the snapshot's (sha256 ${state.moduleSha256})`);
    const wasiOptions: WasiOptions = {
      args: options.args ?? ['program.wasm'],
      env: options.env ?? {},
      preopens: options.preopens ?? [],
      stdin: options.stdin, stdout: options.stdout, stderr: options.stderr, asyncBlocking: options.asyncBlocking, wake: options.wake,
    };
    const wasi = state.wasi === null ? new WasiHost(wasiOptions) : WasiHost.restore(state.wasi, wasiOptions);
    try {
      const program = Program.withWasi(compiled, wasi, { ...options, stdout: undefined, stderr: undefined }, true);
      const restored = restoreProgram(program, state);
      program.execution = restored && program.engine.resume(program.store, program.instance, restored.funcAddr, restored.entryDepth);
      program.entryName = state.entry;
      program.hostState = { ...state.host };
      return program;
    } catch (error) {
      wasi.close();
      throw error;
    }
  }
}
