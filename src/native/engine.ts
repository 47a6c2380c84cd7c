/**
 * The native tier as an `Engine` (see `runtime/engine.ts`): what `Program` uses for
 * `tier: 'native'` or `'auto'`. Importing the native tier registers it.
 */
import { registerEngine } from '../runtime/index.ts';
import type { Engine, Instance, Store } from '../runtime/index.ts';
import { programSpace } from '../snapshot/index.ts';
import { NativeExecution } from './execution.ts';
import { NativeTier } from './tier.ts';
import type { NativeOptions } from './tier.ts';

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
  start(store: Store, instance: Instance, funcAddr: number, args: readonly unknown[]): NativeExecution {
    const tier = nativeTierOf(store);
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
