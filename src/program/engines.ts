/**
 * Which engine runs a program: the one given (`ProgramOptions.engine`), or the one its
 * tier names among a set of engines. The set the library uses unless told otherwise
 * holds the interpreter, one native engine, and `auto` over that same native engine, so
 * that every program spelt `tier: 'native'` or `'auto'` shares one cache of rewritten
 * modules (a resumed program finds its module rewritten already).
 */
import { UsageError } from '../errors/index.ts';
import { AutoEngine, NativeEngine } from '../native/index.ts';
import { interpreterEngine } from '../runtime/index.ts';
import type { Engine, Tier } from '../runtime/index.ts';

/** An engine for each tier name. */
export class EngineSet {
  /**
   * @param interp the engine of tier `interp`
   * @param native the engine of tier `native`
   * @param auto the engine of tier `auto` (by default over the two above)
   */
  constructor(
    readonly interp: Engine = interpreterEngine,
    readonly native: NativeEngine = new NativeEngine(),
    readonly auto: Engine = new AutoEngine(native, interp),
  ) {}

  /**
   * The engine a tier names (default `interp`).
   * @throws UsageError for `native` where the host has no WebAssembly engine.
   */
  resolve(tier: Tier = 'interp'): Engine {
    switch (tier) {
      case 'interp': return this.interp;
      case 'auto': return this.auto;
      case 'native':
        if (!this.native.available()) throw new UsageError('the native tier needs the host\'s WebAssembly, which this runtime lacks');
        return this.native;
      default: throw new UsageError(`unknown tier ${JSON.stringify(tier)}: expected interp, native or auto`);
    }
  }
}

/** The engines `tier` names when no `engine` is given. */
export const defaultEngines = new EngineSet();
