/**
 * The native twin of one interpreter instance, and what unwinding records of its frames:
 * the shapes the native tier's parts (`tier.ts`, `traps.ts`, `frame-records.ts`) share.
 */
import type { InstanceState } from '../exec/index.ts';
import type { Instance } from '../runtime/index.ts';
import type { RewrittenModule } from './rewrite.ts';
import type { RewrittenFunction } from './rewrite-function.ts';

/** Raw saved values of one frame during unwinding (innermost first). */
export interface FrameRecord {
  native: NativeInstance;
  /** The function's safepoints and saved layout (the function's own, or a resume clone's). */
  info: RewrittenFunction;
  funcIndex: number;
  site: number;
  values: unknown[];
}

/** A resume clone, instantiated (see `rewriteResumeClone`). */
export interface CloneEntry {
  run: Function;
  info: RewrittenFunction;
}

export type Exports = Record<string, unknown>;

/** A rewritten module instantiated natively for one interpreter instance. */
export interface NativeInstance {
  instance: Instance;
  state: InstanceState;
  rewritten: RewrittenModule;
  exports: Exports;
  unwinding: WebAssembly.Global;
  countdown: WebAssembly.Global;
  depth: WebAssembly.Global;
  /** Segments the native side knows to be dropped. */
  droppedData: Uint8Array;
  droppedElems: Uint8Array;
  /** True when its code can change tables (they are then read back after native runs). */
  writesTables: boolean;
  /** Resume clones by `funcIndex:pc`; null where a function cannot have one. */
  clones: Map<string, CloneEntry | null>;
}
