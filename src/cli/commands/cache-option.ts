/**
 * `--no-cache`, and the engines of `wasmig run` and `resume`: the native tier keeps the
 * modules it rewrites in a disk cache (`$WASMIG_CACHE_DIR`, else `$XDG_CACHE_HOME/wasmig`,
 * else `~/.cache/wasmig`), so that a program's second start skips the rewrite. The
 * library's own engines have no disk cache: the CLI, as the process's owner, gives one.
 */
import { AutoEngine, defaultCacheDir, DiskRewriteCache, NativeEngine } from '../../native/index.ts';
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
export function engineFor(p: Parsed, tier: Tier, env: NodeJS.ProcessEnv = process.env): Engine {
  const dir = flag(p, 'no-cache') ? undefined : defaultCacheDir(env);
  const native = new NativeEngine({ rewriteWhileInterpreting: 'inline' }, dir === undefined ? undefined : new DiskRewriteCache({ dir }));
  return new EngineSet(interpreterEngine, native).resolve(tier);
}

/**
 * For `loadModuleFile`: what the engine's disk cache knows of a module's bodies, so that
 * a module whose rewrite is cached is not validated again (a tenth of a second on a 1 MB
 * program). Undefined for the interpreter, which has no cache.
 */
export function knownFactsOf(engine: Engine): KnownFacts | undefined {
  const native = engine instanceof NativeEngine ? engine : engine instanceof AutoEngine ? engine.native : undefined;
  return native === undefined ? undefined : (bytes) => native.knownFacts(bytes);
}

/**
 * Ends the background rewrites of `engine`'s native tier, if any, and resolves when
 * their worker threads are gone: `run` ends its process with `exit()`
 * (cli/prompt-exit.ts), which a worker thread still running can crash (status 139).
 */
export async function settleEngine(engine: Engine): Promise<void> {
  const native = engine instanceof NativeEngine ? engine : engine instanceof AutoEngine ? engine.native : undefined;
  await native?.settle();
}
