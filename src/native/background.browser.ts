/**
 * The background rewrite, in browser builds (this file replaces `background.ts` there):
 * the page has no worker thread that could import the rewriter by path, so the rewrite
 * runs on the page's own thread, at the first poll, between two slices of
 * interpretation. `auto` then pauses once for the rewrite (about 0.4 s per MB of code)
 * instead of overlapping it; small modules are rewritten before they start anyway.
 */
import { decodeModule } from '../binary/index.ts';
import { compileModule } from '../compile/index.ts';
import type { BodyFacts } from '../compile/index.ts';
import { rewriteModule } from './rewrite.ts';
import type { RewriteOptions, RewrittenModule } from './rewrite.ts';
import type { DiskCacheConfig } from './disk-cache.ts';

export interface ReadyRewrite {
  rewritten: RewrittenModule;
  module: WebAssembly.Module;
}

/** One module to rewrite, on this thread. */
export class BackgroundRewrite {
  #job: { bytes: Uint8Array; options: RewriteOptions; facts: BodyFacts | undefined } | undefined;
  #result: ReadyRewrite | Error | undefined;

  /**
   * @param _cache ignored: no disk cache in a browser
   * @param facts what validating the module's bodies found: not done again
   */
  constructor(bytes: Uint8Array, options: RewriteOptions, _cache?: DiskCacheConfig, facts?: BodyFacts) {
    this.#job = { bytes, options, facts };
  }

  /** The rewritten module (made now, the first time), or an Error if the rewrite failed. */
  poll(): ReadyRewrite | Error | undefined {
    if (this.#result === undefined && this.#job !== undefined) {
      const { bytes, options, facts } = this.#job;
      this.#job = undefined;
      try {
        const rewritten = rewriteModule(compileModule(decodeModule(bytes), facts).context, options);
        this.#result = { rewritten, module: new WebAssembly.Module(rewritten.bytes as Uint8Array<ArrayBuffer>) };
      } catch (error) {
        this.#result = new Error(`the rewrite failed: ${(error as Error).message}`);
      }
    }
    return this.#result;
  }

  /** No thread to end: resolved. */
  readonly gone: Promise<void> = Promise.resolve();

  /** Drops the rewrite not yet made; there is no thread to wait for. */
  stop(): Promise<void> {
    this.cancel();
    return this.gone;
  }

  /** Nothing to wait for: `poll` makes the rewrite on this thread. */
  wait(_ms: number): void {}

  /** Drops the rewrite not yet made. */
  cancel(): void {
    this.#job = undefined;
  }
}
