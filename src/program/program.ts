import type { CompiledModule } from '../compile/index.ts';
import { LinkError, UsageError } from '../errors/index.ts';
import type { HostCallback } from '../exec/index.ts';
import { Execution, Store } from '../runtime/index.ts';
import type { ExternVal, Imports, Instance, RunOptions, RunOutcome, StoreOptions } from '../runtime/index.ts';
import { WasiHost } from '../wasi/index.ts';
import type { WasiOptions } from '../wasi/index.ts';

const PAGE = 65536;

export interface ProgramOptions {
  /** argv, argv[0] included (the module path by convention). */
  args?: string[];
  env?: Record<string, string>;
  /** Host directories the program may reach and the names it sees them under. */
  preopens?: { host: string; guest: string }[];
  /** Largest linear memory, in bytes (rounded down to whole 64 KiB pages). */
  maxMemoryBytes?: number;
  /** The embedder's own host functions, by module and name, typed by the module's imports. */
  imports?: Record<string, Record<string, HostCallback>>;
  /** Host fds for the program's stdin, stdout and stderr (default: the process's own). */
  stdin?: number;
  stdout?: number;
  stderr?: number;
  /** Call depth and value stack limits; `fast: false` keeps the interpreter on its exact code. */
  limits?: Pick<StoreOptions, 'maxDepth' | 'maxSlots' | 'fast'>;
}

/**
 * A WASI program instantiated on the interpreter: its store, instance and WASI host,
 * and the execution of its entry point, which can run in budgets and pause anywhere.
 */
export class Program {
  readonly store: Store;
  readonly instance: Instance;
  readonly wasi: WasiHost;
  execution: Execution | undefined;

  private constructor(readonly compiled: CompiledModule, store: Store, instance: Instance, wasi: WasiHost) {
    this.store = store;
    this.instance = instance;
    this.wasi = wasi;
  }

  static instantiate(compiled: CompiledModule, options: ProgramOptions = {}): Program {
    const wasiOptions: WasiOptions = {
      args: options.args ?? ['program.wasm'],
      env: options.env ?? {},
      preopens: options.preopens ?? [],
      stdin: options.stdin, stdout: options.stdout, stderr: options.stderr,
    };
    const wasi = new WasiHost(wasiOptions);
    return Program.withWasi(compiled, wasi, options);
  }

  /** Instantiates with a given WASI host (a restored one, when resuming). */
  static withWasi(compiled: CompiledModule, wasi: WasiHost, options: ProgramOptions = {}, allocateOnly = false): Program {
    const maxMemoryPages = options.maxMemoryBytes === undefined ? undefined : Math.floor(options.maxMemoryBytes / PAGE);
    const store = new Store({ ...options.limits, maxMemoryPages });
    const imports: Imports = { ...wasi.imports, ...options.imports };
    for (const imp of compiled.module.imports) {
      if (imp.desc.kind === 'func' && imports[imp.module]?.[imp.name] === undefined) {
        throw new LinkError(`unknown import ${imp.module}.${imp.name}: no such host function`);
      }
    }
    const instance = allocateOnly ? store.allocate(compiled, imports) : store.instantiate(compiled, imports);
    const memory = instance.exports.get('memory');
    if (memory?.kind === 'memory') wasi.bindMemory(store.state.memories[memory.addr].memory);
    return new Program(compiled, store, instance, wasi);
  }

  export(name: string): ExternVal {
    const e = this.instance.exports.get(name);
    if (!e) throw new UsageError(`the module exports no ${JSON.stringify(name)}`);
    return e;
  }

  /** Begins executing an exported function (default `_start`); run it with `run`. */
  start(entry = '_start', args: readonly unknown[] = []): Execution {
    const e = this.export(entry);
    if (e.kind !== 'func') throw new UsageError(`export ${JSON.stringify(entry)} is a ${e.kind}, not a function`);
    this.execution = new Execution(this.store, e.addr, args);
    return this.execution;
  }

  run(options: RunOptions = {}): RunOutcome {
    if (!this.execution) this.start();
    return this.execution!.run(options);
  }

  requestPause(): void {
    this.execution?.requestPause();
  }
}
