/**
 * What the native tier makes once per module and reuses: the rewritten module with its
 * compiled `WebAssembly.Module` (per rewrite options), and the resume clones compiled
 * so far (V8 keeps their optimized code with the module). One cache belongs to one
 * engine (`NativeEngine`): programs on that engine share it, nothing else sees it.
 * Given a `RewriteStore` (the engine's `DiskRewriteCache`), rewritten modules also
 * outlive the process: a module stored there is loaded, not rewritten.
 */
import { bodyFacts } from '../compile/index.ts';
import type { CompiledModule } from '../compile/index.ts';
import { cloneStackTypes } from './frame-records.ts';
import { LoopFinder } from './loop-finder.ts';
import { DEFAULT_REWRITE_OPTIONS, rewriteModule, rewriteOptionsKey, rewriteResumeClone } from './rewrite.ts';
import type { ResumeClone, RewriteOptions, RewrittenModule } from './rewrite.ts';
import type { Safepoint } from './rewrite-function.ts';
import type { RewriteStore } from './disk-cache.ts';

/** A rewritten module with its compilation. */
export interface ReadyModule {
  rewritten: RewrittenModule;
  module: WebAssembly.Module;
}

/** A resume clone with its compilation; null where the function cannot have one. */
export type ReadyClone = { clone: ResumeClone; module: WebAssembly.Module } | null;

/** Resume clones as they travel between threads: by their cache key (function, safepoint, rewrite options). */
export type SharedClones = [key: string, clone: ReadyClone][];

/** Per compiled module (weakly held: a module nobody uses any more goes with its entries). */
interface ModuleEntries {
  /** By `rewriteOptionsKey(options)`. */
  rewrites: Map<string, ReadyModule>;
  /** By `funcIndex:pc:options`. */
  clones: Map<string, ReadyClone>;
}

/** An engine's rewritten modules and resume clones, per compiled module and rewrite options. */
export class RewriteCache {
  readonly #byModule = new WeakMap<CompiledModule, ModuleEntries>();
  /** Modules rewritten here (the rewriter ran), and loaded from the store instead: for tests and measurements. */
  readonly stats = { rewritten: 0, loaded: 0 };

  /** @param store where rewritten modules outlive the process (none by default) */
  constructor(readonly store?: RewriteStore) {}

  #entries(compiled: CompiledModule): ModuleEntries {
    let entries = this.#byModule.get(compiled);
    if (!entries) {
      entries = { rewrites: new Map(), clones: new Map() };
      this.#byModule.set(compiled, entries);
    }
    return entries;
  }

  /** True when {@link rewrite} has its answer at hand. */
  has(compiled: CompiledModule, options: RewriteOptions = DEFAULT_REWRITE_OPTIONS): boolean {
    return this.#byModule.get(compiled)?.rewrites.has(rewriteOptionsKey(options)) === true;
  }

  /** Takes a rewrite made elsewhere (a worker thread: `background.ts`) as {@link rewrite}'s answer. */
  adopt(compiled: CompiledModule, options: RewriteOptions, ready: ReadyModule): void {
    const rewrites = this.#entries(compiled).rewrites;
    const key = rewriteOptionsKey(options);
    if (rewrites.has(key)) return;
    rewrites.set(key, ready);
    // A store that a worker can open was written by the worker itself (`background.ts`).
    if (this.store !== undefined && this.store.config === undefined) this.store.store(compiled.module.bytes, options, ready.rewritten, bodyFacts(compiled));
  }

  /**
   * True when {@link rewrite} has its answer at hand, or the store has it (then loaded
   * and compiled now): `auto` need not rewrite in the background.
   */
  hasStored(compiled: CompiledModule, options: RewriteOptions = DEFAULT_REWRITE_OPTIONS): boolean {
    if (this.has(compiled, options)) return true;
    const ready = this.#load(compiled, options);
    if (ready !== undefined) this.#entries(compiled).rewrites.set(rewriteOptionsKey(options), ready);
    return ready !== undefined;
  }

  #load(compiled: CompiledModule, options: RewriteOptions): ReadyModule | undefined {
    const rewritten = this.store?.load(compiled.module.bytes, options);
    if (rewritten === undefined) return undefined;
    let module: WebAssembly.Module;
    try {
      module = new WebAssembly.Module(rewritten.bytes as Uint8Array<ArrayBuffer>);
    } catch {
      return undefined; // V8 refused it: rewritten again, and the entry replaced
    }
    this.stats.loaded++;
    return { rewritten, module };
  }

  /** The rewritten module for a compiled one: from memory, else from the store, else rewritten (and stored) and compiled. */
  rewrite(compiled: CompiledModule, options: RewriteOptions = DEFAULT_REWRITE_OPTIONS): ReadyModule {
    const rewrites = this.#entries(compiled).rewrites;
    const key = rewriteOptionsKey(options);
    let ready = rewrites.get(key) ?? this.#load(compiled, options);
    if (!ready) {
      const rewritten = rewriteModule(compiled.context, options);
      this.stats.rewritten++;
      ready = { rewritten, module: new WebAssembly.Module(rewritten.bytes as Uint8Array<ArrayBuffer>) };
      this.store?.store(compiled.module.bytes, options, rewritten, bodyFacts(compiled));
    }
    rewrites.set(key, ready);
    return ready;
  }

  /** Every resume clone made (or adopted) for `compiled` so far, to hand to another thread. */
  clonesOf(compiled: CompiledModule): SharedClones {
    return [...(this.#byModule.get(compiled)?.clones ?? [])];
  }

  /**
   * Takes resume clones made elsewhere (another thread's cache, for the same module) as
   * {@link clone}'s answers: the compiled modules are shared, not compiled again.
   */
  adoptClones(compiled: CompiledModule, clones: SharedClones): void {
    const mine = this.#entries(compiled).clones;
    for (const [key, clone] of clones) if (!mine.has(key)) mine.set(key, clone);
  }

  /** True when {@link clone} has its answer at hand (made here, or adopted from another thread). */
  hasClone(compiled: CompiledModule, funcIndex: number, site: Safepoint, options: RewriteOptions = DEFAULT_REWRITE_OPTIONS): boolean {
    return this.#byModule.get(compiled)?.clones.has(`${funcIndex}:${site.pc}:${rewriteOptionsKey(options)}`) === true;
  }

  /** The resume clone of `funcIndex` at `site` (whose operand stack has `stackTypes`), made on first use. */
  clone(compiled: CompiledModule, funcIndex: number, site: Safepoint, stackTypes: number[], options: RewriteOptions = DEFAULT_REWRITE_OPTIONS): ReadyClone {
    const clones = this.#entries(compiled).clones;
    const key = `${funcIndex}:${site.pc}:${rewriteOptionsKey(options)}`;
    let made = clones.get(key);
    if (made === undefined) {
      const r = rewriteResumeClone(compiled.context, funcIndex, { pc: site.pc, kind: site.kind as 'loop' | 'call', stackTypes }, options, compiled.tailCallUse !== undefined);
      made = r === undefined ? null : { clone: r, module: new WebAssembly.Module(r.bytes as Uint8Array<ArrayBuffer>) };
      clones.set(key, made);
    }
    return made;
  }

  /**
   * The loop safepoints of `compiled` whose resume clones are not made here yet, those of
   * innermost loops first. A paused frame on top of its stack stands at one of them (the
   * native code polls at loop headers), so these are the clones a job that arrives by
   * migration needs before its first instruction; innermost loops are where a program
   * spends its time, so where a pause most often lands. Rewrites the module if needed.
   */
  loopSitesWithoutClones(compiled: CompiledModule, options: RewriteOptions = DEFAULT_REWRITE_OPTIONS): LoopSite[] {
    const functions = this.rewrite(compiled, options).rewritten.functions;
    const clones = this.#entries(compiled).clones;
    const inner: LoopSite[] = [];
    const outer: LoopSite[] = [];
    const suffix = rewriteOptionsKey(options);
    for (const info of functions) {
      if (!info) continue;
      const m = compiled.module;
      const innermost = new Set(LoopFinder.inBody(m, compiled.context.types, info.funcIndex - m.numImportedFuncs).map((l) => l.body));
      for (const site of info.sites) {
        if (site.kind !== 'loop' || clones.has(`${info.funcIndex}:${site.pc}:${suffix}`)) continue;
        (innermost.has(site.pc) ? inner : outer).push({ funcIndex: info.funcIndex, site });
      }
    }
    return [...inner, ...outer];
  }

  /** Makes the resume clone of a {@link loopSitesWithoutClones} site ahead of need; false where none can be made. */
  makeLoopClone(compiled: CompiledModule, at: LoopSite, options: RewriteOptions = DEFAULT_REWRITE_OPTIONS): boolean {
    return this.clone(compiled, at.funcIndex, at.site, cloneStackTypes(at.site), options) !== null;
  }
}

/** A loop safepoint of a function (see {@link RewriteCache.loopSitesWithoutClones}). */
export interface LoopSite {
  funcIndex: number;
  site: Safepoint;
}
