/**
 * The native tier as engines (see `runtime/engine.ts`): {@link NativeEngine} runs
 * programs on V8 through their rewritten modules, {@link AutoEngine} picks it where it
 * can run and tiers large modules up from the interpreter. Each engine owns its caches:
 * the native twin of every store it runs (`NativeTier`) and the rewritten modules and
 * resume clones its programs share (`RewriteCache`).
 */
import { bodyFacts, scanBodyFacts } from '../compile/index.ts';
import type { BodyFacts, CompiledModule } from '../compile/index.ts';
import { UsageError } from '../errors/index.ts';
import { interpreterEngine } from '../runtime/index.ts';
import type { Engine, ExecutionLike, Instance, Store } from '../runtime/index.ts';
import { programSpace } from '../snapshot/index.ts';
import type { Module } from '../wasm/index.ts';
import { BackgroundRewrite } from './background.ts';
import { nativeExceptionBlock } from './exception-scan.ts';
import { NativeExecution } from './execution.ts';
import { codeBytes } from './rewrite.ts';
import { RewriteCache } from './rewrite-cache.ts';
import type { RewriteStore } from './disk-cache.ts';
import { DEFAULT_BACKGROUND_REWRITE_BYTES, NativeTier, withMemoryDefault } from './tier.ts';
import type { NativeOptions } from './tier.ts';
import { TieringExecution } from './tiering.ts';

/** The native tier: the module rewritten with safepoints and run by the host's WebAssembly engine. */
export class NativeEngine implements Engine {
  readonly name = 'native' as const;
  /** Rewritten modules and resume clones, shared by every program on this engine. */
  readonly rewrites: RewriteCache;
  /** The native twin of each store this engine ran (weakly held: it goes with its store). */
  readonly #tiers = new WeakMap<Store, NativeTier>();
  /** See `#hostHasExtendedConst`. */
  #extendedConst: boolean | undefined = undefined;
  /** See `#hostHasMemory64`. */
  #memory64: boolean | undefined = undefined;
  /** See `#hostHasTailCalls`. */
  #tailCalls: boolean | undefined = undefined;
  /** See `#hostHasLegacyExceptions`. */
  #legacyExceptions: boolean | undefined = undefined;
  /** Why each module with exception handling cannot run natively (null: it can), found once per module. */
  readonly #exceptionBlocks = new WeakMap<CompiledModule, string | null>();
  /** Background rewrites whose worker thread may still run (each leaves when its thread ends). */
  readonly #background = new Set<BackgroundRewrite>();

  /**
   * @param options how the tier rewrites and runs modules (defaults suit production)
   * @param store where rewritten modules outlive the process, e.g. a `DiskRewriteCache`
   *   (none by default: the CLI gives one, a library user chooses)
   */
  readonly options: NativeOptions;

  constructor(options: NativeOptions = {}, store?: RewriteStore) {
    this.options = withMemoryDefault(options);
    this.rewrites = new RewriteCache(store);
  }

  available(): boolean {
    return typeof WebAssembly === 'object' && typeof WebAssembly.Module === 'function';
  }

  /**
   * Why this tier cannot run `compiled`, as one phrase, or undefined when it can. Such a
   * module runs in the interpreter instead (`start` and `resume` hand it over), and
   * `wasmig run --tier native` prints the reason.
   */
  cannotRun(compiled: CompiledModule): string | undefined {
    // Tail calls run natively where V8 validates them (Node 20's V8 11.3 does, by default).
    if (compiled.tailCallUse !== undefined && !this.#hostHasTailCalls()) return `the host's WebAssembly lacks tail calls: ${compiled.tailCallUse}`;
    // Node 20's V8 has typed function references only behind --experimental-wasm-typed-funcref.
    if (compiled.context.typedRefUse !== undefined) return `the host's WebAssembly lacks typed function references: ${compiled.context.typedRefUse}`;
    // The legacy exception instructions run natively where V8 has them (Node 20's V8 11.3
    // does); exnref, try_table and throw_ref (V8 11.3 lacks them) stay in the interpreter.
    if (compiled.exceptionUse !== undefined) {
      // A plain module cannot unwind: a host's error (a WASI exit) goes through its frames, and V8's catch_all catches it.
      if (this.options.rewrite?.plain === true) return `a plain module's exception handlers would catch the host's exit: ${compiled.exceptionUse}`;
      if (!this.#hostHasLegacyExceptions()) return `the host's WebAssembly lacks exception handling: ${compiled.exceptionUse}`;
      const blocked = this.#exceptionBlocks.get(compiled) ?? nativeExceptionBlock(compiled) ?? null;
      this.#exceptionBlocks.set(compiled, blocked);
      if (blocked !== null) return blocked;
    }
    // V8 picks relaxed SIMD results by its hardware; the interpreter's fixed choices keep a moved program bit-exact.
    if (compiled.relaxedSimdUse !== undefined) return `the host's relaxed SIMD results depend on its hardware, the interpreter's are the same on every device: ${compiled.relaxedSimdUse}`;
    if (compiled.context.extendedConstUse !== undefined && !this.#hostHasExtendedConst()) {
      return `the host's WebAssembly lacks extended constant expressions: ${compiled.context.extendedConstUse}`;
    }
    // Node 20's V8 does not ship memory64 (nor table64); and the rewriter's memory accesses
    // and shared-memory hand-over assume 32-bit addresses, so even a host that runs them
    // leaves such a module to the interpreter for now.
    if (compiled.context.index64Use !== undefined) {
      return this.#hostHasMemory64()
        ? `the native tier does not rewrite 64-bit memories and tables yet: ${compiled.context.index64Use}`
        : `the host's WebAssembly lacks memory64 and table64: ${compiled.context.index64Use}`;
    }
    // Node 20's V8 has multi-memory only behind a flag.
    const memories = compiled.context.memories.length;
    if (memories > 1) return `the host's WebAssembly runs one memory per module, this one has ${memories}`;
    return undefined;
  }

  /**
   * What validating the bodies of the module `bytes` found, when this engine's store
   * (its disk cache) holds the module's rewrite: a loader given it skips validating them
   * again (`loadModuleFile(path, (bytes, module) => engine.knownFacts(bytes, module))`),
   * and the start that follows finds the rewrite read already. A plain engine, given the
   * decoded `module`, also takes the host's validation for ours (see `#hostValidated`).
   */
  knownFacts(bytes: Uint8Array, module?: Module): BodyFacts | undefined {
    if (!this.available()) return undefined;
    const cached = this.rewrites.store?.facts?.(bytes, this.options.rewrite ?? {});
    if (cached !== undefined || module === undefined || this.options.rewrite?.plain !== true) return cached;
    return this.#hostValidated(bytes, module);
  }

  /**
   * A plain module's bodies are the original bytes, which V8 validates when it compiles
   * them: where V8 accepts the module (`WebAssembly.validate`, 6 ms for 1 MB), our own
   * validation of every body (90 ms) would only repeat it. What the engines ask of the
   * bodies then comes from a scan of their instructions (`scanBodyFacts`), and a body is
   * validated by us only if it is ever translated. Undefined (validate as before) where V8
   * refuses the module (our validator names the error) or where the scan finds what keeps
   * a plain engine from running it (exception handlers, relaxed SIMD): the module then
   * runs rewritten or interpreted, validated as it always was.
   */
  #hostValidated(bytes: Uint8Array, module: Module): BodyFacts | undefined {
    if (typeof WebAssembly.validate !== 'function' || !WebAssembly.validate(bytes as Uint8Array<ArrayBuffer>)) return undefined;
    const facts = scanBodyFacts(module);
    return facts.exceptionUse === undefined && facts.relaxedSimdUse === undefined ? facts : undefined;
  }

  /** Rewrites and compiles `compiled` now, so that the first `start` finds it ready. */
  prepare(compiled: CompiledModule): void {
    if (this.cannotRun(compiled) !== undefined) return;
    this.rewrites.rewrite(compiled, this.options.rewrite);
  }

  /**
   * The native twin of `store`, made on first use; `options` (default: the engine's)
   * apply when it is made here (tests and measurements tune one store's tier).
   */
  tierOf(store: Store, options: NativeOptions = this.options): NativeTier {
    let tier = this.#tiers.get(store);
    if (!tier) {
      tier = new NativeTier(store, options, this.rewrites);
      this.#tiers.set(store, tier);
    }
    return tier;
  }

  /** Begins `funcAddr` natively. */
  start(store: Store, instance: Instance, funcAddr: number, args: readonly unknown[]): ExecutionLike {
    this.#check();
    if (this.cannotRun(instance.compiled) !== undefined) return interpreterEngine.start(store, instance, funcAddr, args);
    const tier = this.tierOf(store);
    tier.attach(instance);
    return new NativeExecution(tier, funcAddr, args, { space: programSpace(store.state, instance) });
  }

  /**
   * Like `start`, except that a large module not rewritten yet starts in the interpreter
   * while a worker thread rewrites it (or, `inline`, until this thread rewrites it), and
   * moves over when that is done (`auto`).
   */
  startTieringUp(store: Store, instance: Instance, funcAddr: number, args: readonly unknown[]): ExecutionLike {
    const compiled = instance.compiled;
    if (this.cannotRun(compiled) !== undefined) return interpreterEngine.start(store, instance, funcAddr, args);
    const tier = this.tierOf(store);
    const options = tier.options.rewrite ?? {};
    // A plain rewrite copies bytes: never worth a wait in the interpreter.
    if (!tier.attached(instance) && options.plain !== true && codeBytes(compiled.module) >= (tier.options.backgroundRewriteBytes ?? DEFAULT_BACKGROUND_REWRITE_BYTES)
      && !this.rewrites.hasStored(compiled, options)) {
      if (tier.options.rewriteWhileInterpreting === 'inline') return new TieringExecution(tier, instance, funcAddr, args, undefined);
      const background = new BackgroundRewrite(compiled.module.bytes, options, this.rewrites.store?.config, bodyFacts(compiled));
      this.#background.add(background);
      void background.gone.then(() => this.#background.delete(background));
      return new TieringExecution(tier, instance, funcAddr, args, background);
    }
    return this.start(store, instance, funcAddr, args);
  }

  /**
   * Stops this engine's background rewrites and resolves once their worker threads have
   * ended: before a process ends without Node's tear-down (`wasmig run`), which must
   * not find a worker thread running.
   */
  async settle(): Promise<void> {
    await Promise.all([...this.#background].map((b) => b.stop()));
  }

  prepareInstance(store: Store, instance: Instance): void {
    if (!this.available() || this.cannotRun(instance.compiled) !== undefined) return;
    const tier = this.tierOf(store);
    tier.attach(instance);
    // Prepared for a restore: its frames will continue in resume clones.
    tier.warmResumeClones(instance);
  }

  resume(store: Store, instance: Instance, funcAddr: number, entryDepth: number): ExecutionLike {
    this.#check();
    if (this.cannotRun(instance.compiled) !== undefined) return interpreterEngine.resume(store, instance, funcAddr, entryDepth);
    const tier = this.tierOf(store);
    tier.attach(instance);
    return new NativeExecution(tier, funcAddr, [], { space: programSpace(store.state, instance), resumed: true, entryDepth });
  }

  /** Whether the host's WebAssembly takes extended constant expressions (V8 11.4 on; Node 20 has 11.3): asked once. */
  #hostHasExtendedConst(): boolean {
    // A module whose one global is (i32.const 1) (i32.const 2) i32.add.
    this.#extendedConst ??= WebAssembly.validate(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 6, 9, 1, 0x7f, 0, 0x41, 1, 0x41, 2, 0x6a, 0x0b]));
    return this.#extendedConst;
  }

  /** Whether the host's WebAssembly takes `return_call` (V8 11.3 does unless `--no-experimental-wasm-return-call`): asked once. */
  #hostHasTailCalls(): boolean {
    // One function of type [] -> [] whose body is `return_call 0`.
    this.#tailCalls ??= WebAssembly.validate(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 4, 1, 0x60, 0, 0, 3, 2, 1, 0, 0x0a, 6, 1, 4, 0, 0x12, 0, 0x0b]));
    return this.#tailCalls;
  }

  /** Whether the host's WebAssembly takes the legacy `try`/`catch_all` and tags (V8 9.5 on; Node 20 has 11.3): asked once. */
  #hostHasLegacyExceptions(): boolean {
    // One tag of type [] and one function [] -> [] whose body is `try catch_all end`.
    this.#legacyExceptions ??= WebAssembly.validate(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 4, 1, 0x60, 0, 0, 3, 2, 1, 0,
      0x0d, 3, 1, 0, 0, 0x0a, 8, 1, 6, 0, 0x06, 0x40, 0x19, 0x0b, 0x0b]));
    return this.#legacyExceptions;
  }

  #hostHasMemory64(): boolean {
    // A module with one memory of type i64 0 (limits flag 0x04).
    this.#memory64 ??= WebAssembly.validate(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 5, 3, 1, 0x04, 0]));
    return this.#memory64;
  }

  #check(): void {
    if (!this.available()) throw new UsageError('the native tier needs the host\'s WebAssembly, which this runtime lacks');
  }
}

/**
 * `auto`: the native tier where it can run (large modules start in the interpreter and
 * tier up once a worker has rewritten them), the interpreter elsewhere.
 */
export class AutoEngine implements Engine {
  readonly name = 'auto' as const;

  /**
   * @param native the native engine it prefers
   * @param interpreter the engine it falls back to where the native tier cannot run
   */
  constructor(readonly native: NativeEngine = new NativeEngine(), readonly interpreter: Engine = interpreterEngine) {}

  available(): boolean {
    return true;
  }

  prepare(compiled: CompiledModule): void {
    if (this.native.available()) this.native.prepare(compiled);
  }

  start(store: Store, instance: Instance, funcAddr: number, args: readonly unknown[]): ExecutionLike {
    if (!this.native.available()) return this.interpreter.start(store, instance, funcAddr, args);
    return this.native.startTieringUp(store, instance, funcAddr, args);
  }

  prepareInstance(store: Store, instance: Instance): void {
    this.native.prepareInstance(store, instance);
  }

  resume(store: Store, instance: Instance, funcAddr: number, entryDepth: number): ExecutionLike {
    return (this.native.available() ? this.native : this.interpreter).resume(store, instance, funcAddr, entryDepth);
  }
}

/** A native engine of its own, with `options` for every store it runs and `store` (if any) for its rewritten modules. */
export function nativeEngine(options: NativeOptions = {}, store?: RewriteStore): NativeEngine {
  return new NativeEngine(options, store);
}

/** An `auto` engine over `native` (default: a native engine of its own). */
export function autoEngine(native: NativeEngine = new NativeEngine()): AutoEngine {
  return new AutoEngine(native);
}

/**
 * The native twin of a program's store on the program's engine (the native one, or the
 * native side of `auto`), made on first use with `options`: for tests and measurements
 * that tune or watch one program's tier.
 * @throws UsageError when the program's engine has no native tier.
 */
export function nativeTierOf(program: { engine: Engine; store: Store }, options?: NativeOptions): NativeTier {
  const engine = program.engine;
  const native = engine instanceof NativeEngine ? engine : engine instanceof AutoEngine ? engine.native : undefined;
  if (native === undefined) throw new UsageError(`the program runs on the ${engine.name} engine, which has no native tier`);
  return native.tierOf(program.store, options);
}
