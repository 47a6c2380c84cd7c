/**
 * The native tier as an `Engine` (see `runtime/engine.ts`): what `Program` uses for
 * `tier: 'native'` or `'auto'`. Importing the native tier registers it.
 */
import { registerEngine } from '../runtime/index.ts';
import type { Engine, Instance, Store, Tier } from '../runtime/index.ts';
import { programSpace } from '../snapshot/index.ts';
import { BackgroundRewrite } from './background.ts';
import { NativeExecution } from './execution.ts';
import { codeBytes } from './rewrite.ts';
import { DEFAULT_BACKGROUND_REWRITE_BYTES, isRewritten, NativeTier } from './tier.ts';
import type { NativeOptions } from './tier.ts';
import { TieringExecution } from './tiering.ts';

const tiers = new WeakMap<Store, NativeTier>();

/** The native tier of a store, made on first use. */
export function nativeTierOf(store: Store, options?: NativeOptions): NativeTier {
  let tier = tiers.get(store);
  if (!tier) {
    tier = new NativeTier(store, options);
    tiers.set(store, tier);
  }
  return tier;
}

export const nativeEngine: Engine = {
  tier: 'native',
  available(): boolean {
    return typeof WebAssembly === 'object' && typeof WebAssembly.Module === 'function';
  },
  start(store: Store, instance: Instance, funcAddr: number, args: readonly unknown[], requested?: Tier): NativeExecution | TieringExecution {
    const tier = nativeTierOf(store);
    const compiled = instance.compiled;
    const options = tier.options.rewrite ?? {};
    if (requested === 'auto' && !tier.attached(instance) && !isRewritten(compiled, options)) {
      // A large module starts in the interpreter while a worker rewrites it.
      if (codeBytes(compiled.module) >= (tier.options.backgroundRewriteBytes ?? DEFAULT_BACKGROUND_REWRITE_BYTES)) {
        return new TieringExecution(tier, instance, funcAddr, args, new BackgroundRewrite(compiled.module.bytes, options));
      }
    }
    tier.attach(instance);
    return new NativeExecution(tier, funcAddr, args, { space: programSpace(store.state, instance) });
  },
  resume(store: Store, instance: Instance, funcAddr: number, entryDepth: number): NativeExecution {
    const tier = nativeTierOf(store);
    tier.attach(instance);
    return new NativeExecution(tier, funcAddr, [], { space: programSpace(store.state, instance), resumed: true, entryDepth });
  },
};

registerEngine(nativeEngine);
