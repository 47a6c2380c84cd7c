/**
 * `--no-cache`, and the engines of `wasmig run` and `resume`: the native tier keeps the
 * modules it rewrites in a disk cache (`$WASMIG_CACHE_DIR`, else `$XDG_CACHE_HOME/wasmig`,
 * else `~/.cache/wasmig`), so that a program's second start skips the rewrite. The
 * library's own engines have no disk cache: the CLI, as the process's owner, gives one.
 */
import type { CompiledModule } from '../../compile/index.ts';
import { MEMORIES_SHARED } from '../../exec/index.ts';
import { AutoEngine, DEFAULT_REWRITE_OPTIONS, defaultCacheDir, DiskRewriteCache, NativeEngine } from '../../native/index.ts';
import { EngineSet } from '../../program/index.ts';
import type { KnownFacts } from '../../program/index.ts';
import { interpreterEngine } from '../../runtime/index.ts';
import type { Engine, Tier } from '../../runtime/index.ts';
import { flag } from '../args.ts';
import type { OptionSpec, Parsed } from '../args.ts';

export const CACHE_OPTIONS: OptionSpec[] = [{ name: 'no-cache' }];

export const CACHE_USAGE = `  --no-cache            neither read nor write the cache of rewritten modules
                        (default: $WASMIG_CACHE_DIR, else $XDG_CACHE_HOME/wasmig,
                        else ~/.cache/wasmig; WASMIG_CACHE_DIR=off turns it off)`;

/**
 * The engine `tier` names, its native tier with the disk cache unless --no-cache (or
 * WASMIG_CACHE_DIR=off). A large module not in the cache starts in the interpreter and
 * is rewritten on the program's own thread after 50 ms (`rewriteWhileInterpreting:
 * 'inline'`): with `auto`, no pause can be asked for in `run` and `resume` (a pause
 * option makes them interpret), so a worker's cold rewrite would only make them wait.
 */
export function engineFor(p: Parsed, tier: Tier, env: NodeJS.ProcessEnv = process.env, disk = diskCacheOf(p, env)): Engine {
  const native = new NativeEngine({ rewriteWhileInterpreting: 'inline' }, disk);
  return new EngineSet(interpreterEngine, native).resolve(tier);
}

/**
 * The engine of a `wasmig run` that nothing can pause (`auto`, no pause option): the
 * native tier on the module as it is (`RewriteOptions.plain`), without the safepoints
 * no one will use, which cost V8's optimizing compiler 2-5 times the work and the
 * process's exit its wait for that work (docs/native-tier.md). Undefined where the
 * host's memories are not shared: a shared memory's maximum holds the program to
 * `--max-memory`, which in a plain module no rewritten `memory.grow` checks.
 */
export function unpausableEngine(p: Parsed, env: NodeJS.ProcessEnv = process.env, disk = diskCacheOf(p, env)): NativeEngine | undefined {
  if (!MEMORIES_SHARED) return undefined;
  // The disk cache keeps what validation found: a second start skips validating the bodies.
  return new NativeEngine({ rewrite: { ...DEFAULT_REWRITE_OPTIONS, plain: true } }, disk);
}

/**
 * The disk cache of rewritten modules, unless --no-cache (or WASMIG_CACHE_DIR=off). One
 * for the engines of a command: they share the module's hash and the code's fingerprint.
 */
export function diskCacheOf(p: Parsed, env: NodeJS.ProcessEnv = process.env): DiskRewriteCache | undefined {
  const dir = flag(p, 'no-cache') ? undefined : defaultCacheDir(env);
  return dir === undefined ? undefined : new DiskRewriteCache({ dir });
}

/**
 * Whether `compiled` runs on {@link unpausableEngine}'s plain tier; if not (a module
 * with exception handlers, which would catch what a host function throws through a plain
 * module's frames: `NativeEngine.cannotRun`), `run` takes the rewritten module instead,
 * rather than the interpreter that the plain engine would hand it to.
 */
export function runsPlain(engine: NativeEngine, compiled: CompiledModule): boolean {
  return engine.cannotRun(compiled) === undefined;
}

/**
 * For `loadModuleFile`: what the engines' disk cache knows of a module's bodies, so that
 * a module whose rewrite is cached is not validated again (a tenth of a second on a 1 MB
 * program), and what a plain engine takes from V8's validation of a module it will run as
 * it is (`NativeEngine.knownFacts`). Undefined for the interpreter, which has no cache.
 */
export function knownFactsOf(...engines: (Engine | undefined)[]): KnownFacts | undefined {
  const natives = engines.flatMap((e) => (e instanceof NativeEngine ? [e] : e instanceof AutoEngine ? [e.native] : []));
  if (natives.length === 0) return undefined;
  // The first that knows: `run` asks its plain engine, then the rewriting one (a module the plain one declines).
  return (bytes, module) => {
    for (const native of natives) {
      const facts = native.knownFacts(bytes, module);
      if (facts !== undefined) return facts;
    }
    return undefined;
  };
}

/**
 * Ends the background rewrites of `engine`'s native tier, if any, and resolves when
 * their worker threads are gone: a rewrite the run no longer needs is not finished at
 * the process's exit.
 */
export async function settleEngine(engine: Engine): Promise<void> {
  const native = engine instanceof NativeEngine ? engine : engine instanceof AutoEngine ? engine.native : undefined;
  await native?.settle();
}
