/**
 * The spec suite through the native tier: a differential check of the rewriter. Every
 * module of every script is rewritten and instantiated natively beside the interpreter's
 * instance, and every invoke runs natively; the results must match the suite's.
 * With `--pause P`, every loop iteration polls and pauses with probability 1/P: the
 * native stack unwinds into canonical frames, the interpreter continues them, and their
 * calls go native again (and pause again), so unwinding and resumption are checked
 * at random safepoints all over the suite.
 *
 * Paused frames go back to native code lazily (the default: top frames first, as their
 * resume clones are made, the rest in the interpreter meanwhile), or with
 * `--resume-clones eager` all at once, which puts every pause through resume clones.
 *
 * With `--plain`, the modules run as they are (`RewriteOptions.plain`: no safepoints, as
 * `wasmig run` runs a program nothing may pause): the check of the tier's plumbing
 * (imports, shared state, traps and their messages) without the rewriter.
 *
 * Usage: npx tsx spec-tests/native-tier.ts [--pause P | --plain] [--seed N] [--resume-clones lazy|eager]
 *          [--suite DIR] [--verbose] [NAME...]
 */
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FuncKind } from '../src/exec/index.ts';
import type { Instance, Store } from '../src/runtime/index.ts';
import { NativeEngine, NativeExecution, NativeTier, RewriteCache } from '../src/native/index.ts';
import { ValType } from '../src/wasm/index.ts';
import { runScript } from './run.ts';
import type { FileResult, ScriptHooks } from './run.ts';

export interface NativeSpecOptions {
  /** Pause with probability 1/pause at each poll (each loop iteration); 0: never. */
  pause?: number;
  seed?: number;
  /** `NativeOptions.resumeClones`. */
  resumeClones?: 'lazy' | 'eager';
  /** The modules as they are (`RewriteOptions.plain`); never with `pause`. */
  plain?: boolean;
}

export interface NativeSpecStats {
  invokes: number;
  pauses: number;
  framesUnwound: number;
  /** Re-entries of paused frames into native code, and of those, re-entries of only the top frames. */
  reentries: number;
  partialReentries: number;
  /** Modules the native tier leaves to the interpreter (`NativeEngine.cannotRun`), whose invokes run interpreted. */
  interpreted: number;
}

/** Hooks that run a script's modules on the native tier. */
export function nativeHooks(options: NativeSpecOptions = {}, stats: NativeSpecStats = newStats()): ScriptHooks {
  const tiers = new WeakMap<Store, NativeTier>();
  // One cache for the whole run, as one engine keeps: a module's rewrite and resume clones are made once.
  const rewrites = new RewriteCache();
  // Asked which modules the tier runs (the 3.0 suite has modules it leaves to the interpreter).
  const engine = new NativeEngine(options.plain === true ? { rewrite: { plain: true } } : {});
  let pausesLeft = 0;
  let seed = options.seed ?? 1;
  const random = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) / (1 << 24);
  };
  const tierOf = (store: Store): NativeTier => {
    let tier = tiers.get(store);
    if (!tier) {
      const pause = options.pause ?? 0;
      // Pausing: every loop iteration polls (a global countdown of 1), so pauses land anywhere.
      const resumeClones = options.resumeClones ?? 'lazy';
      if (pause > 0 && options.plain === true) throw new Error('a plain module cannot pause');
      tier = new NativeTier(store, pause > 0 ? { pollInterval: 1, rewrite: { loopPoll: 'global' }, resumeClones }
        : options.plain === true ? { resumeClones, rewrite: { plain: true } } : { resumeClones }, rewrites);
      // At most a few dozen pauses per invoke: each one loads the whole stack into the
      // interpreter, which deep recursions would make quadratic.
      if (pause > 0) tier.pollHook = () => pausesLeft > 0 && random() * pause < 1 && pausesLeft-- > 0;
      tiers.set(store, tier);
    }
    return tier;
  };
  return {
    // A plain engine takes V8's validation for ours (NativeEngine.knownFacts), as `wasmig run` does on a first start.
    knownFacts: options.plain === true ? (bytes, module) => engine.knownFacts(bytes, module) : undefined,
    instantiated(store: Store, instance: Instance): void {
      const tier = tierOf(store);
      // A module the tier cannot run stays interpreted, and so does one importing a
      // function of such a module (a native twin imports only native functions).
      const imported = instance.state.funcAddrs.slice(0, instance.compiled.module.numImportedFuncs);
      const fromInterpreted = imported.some((a) => {
        const f = store.state.funcs[a];
        return f.kind === FuncKind.wasm && !tier.instances.has(f.instance);
      });
      if (fromInterpreted || engine.cannotRun(instance.compiled) !== undefined) {
        stats.interpreted++;
        return;
      }
      tier.attach(instance);
    },
    invoke(store: Store, funcAddr: number, args: bigint[]): bigint[] {
      const fn = store.state.funcs[funcAddr];
      if (fn.kind === FuncKind.host) return store.invokeRaw(funcAddr, args);
      const tier = tierOf(store);
      // A module the tier leaves to the interpreter (as `NativeEngine.start` does).
      if (!tier.instances.has(fn.instance)) return store.invokeRaw(funcAddr, args);
      // A table holding a function no native instance has (linking0: a module whose
      // instantiation failed wrote its elements into a registered module's table before
      // failing; the tier attaches only instances that instantiated, and those of
      // modules it can run): the native twin's table cannot hold it, so the invoke runs
      // interpreted, as for a module the tier leaves to the interpreter.
      if (tableHoldsForeignFunction(store, tier)) return store.invokeRaw(funcAddr, args);
      const t = store.thread;
      const saved = { sp: t.sp, fp: t.fp, pc: t.pc, funcAddr: t.funcAddr, depth: t.depth };
      stats.invokes++;
      pausesLeft = 40;
      const ex = new NativeExecution(tier, funcAddr, [], { raw: args });
      try {
        for (;;) {
          const outcome = ex.run();
          if (outcome.kind !== 'paused') break;
          stats.pauses++;
        }
        return ex.rawResults!;
      } finally {
        stats.framesUnwound += ex.stats.framesUnwound;
        stats.reentries += ex.stats.reentries;
        stats.partialReentries += ex.stats.partialReentries;
        t.sp = saved.sp; t.fp = saved.fp; t.pc = saved.pc; t.funcAddr = saved.funcAddr; t.depth = saved.depth;
        t.pendingHostCall = -1;
      }
    },
  };
}

/** Whether a table of the store holds a function that has no native value (see `invoke`). */
function tableHoldsForeignFunction(store: Store, tier: NativeTier): boolean {
  for (const table of store.state.tables) {
    if (table.elemType === ValType.externref) continue;
    for (const ref of table.elements) if (ref !== 0 && tier.funcObjects[ref - 1] === undefined) return true;
  }
  return false;
}

function newStats(): NativeSpecStats {
  return { invokes: 0, pauses: 0, framesUnwound: 0, reentries: 0, partialReentries: 0, interpreted: 0 };
}

function main(argv: string[]): number {
  let suite = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'shared', 'spec-tests', 'wasm-2.0');
  let verbose = false;
  const options: NativeSpecOptions = {};
  const names: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--suite') suite = resolve(argv[++i]);
    else if (a === '--pause') options.pause = Number(argv[++i]);
    else if (a === '--seed') options.seed = Number(argv[++i]);
    else if (a === '--plain') options.plain = true;
    else if (a === '--resume-clones') {
      const mode = argv[++i];
      if (mode !== 'lazy' && mode !== 'eager') {
        console.error(`--resume-clones takes lazy or eager, not ${mode ?? 'nothing'}`);
        return 2;
      }
      options.resumeClones = mode;
    }
    else if (a === '--verbose' || a === '-v') verbose = true;
    else names.push(a.replace(/\.json$/, ''));
  }
  if (options.plain === true && options.pause !== undefined && options.pause > 0) {
    console.error('--plain runs modules without safepoints: it cannot be given with --pause');
    return 2;
  }
  if (!existsSync(suite)) {
    console.error(`spec suite not found: ${suite}`);
    return 2;
  }
  const stats = newStats();
  const files = readdirSync(suite).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort()
    .filter((n) => names.length === 0 || names.includes(n));
  const totals = { passed: 0, failed: 0, skipped: 0 };
  for (const name of files) {
    // That script recurses with 1,000-local frames to exhaustion: each pause would move
    // ~10^7 values through the interpreter (and such frames cannot have resume clones).
    const paused = name === 'skip-stack-guard-page' ? { ...options, pause: 0 } : options;
    const r: FileResult = runScript(join(suite, `${name}.json`), nativeHooks(paused, stats));
    totals.passed += r.passed;
    totals.failed += r.failed;
    totals.skipped += r.skipped;
    if (r.failed || verbose) console.log(`${r.failed ? 'FAIL' : 'ok  '} ${name}: ${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped`);
    for (const f of r.failures.slice(0, verbose ? Infinity : 5)) console.log(`     ${f}`);
  }
  console.log(`native tier: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped; ${stats.invokes} native invokes, ${stats.pauses} pauses, ${stats.framesUnwound} frames unwound, ${stats.reentries} re-entries (${stats.partialReentries} of the top frames only), ${options.plain === true ? 'plain modules' : `resume clones ${options.resumeClones ?? 'lazy'}`}; ${stats.interpreted} modules left to the interpreter`);
  return totals.failed === 0 ? 0 : 1;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) process.exitCode = main(process.argv.slice(2));
