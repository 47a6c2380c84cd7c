/**
 * What the rewriter's worker thread runs (see `background.ts`): the module decoded,
 * validated and rewritten, and the rewrite compiled by V8, all off the main thread;
 * with the engine's disk cache, the rewrite is stored there too, off the main thread.
 */
import { decodeModule } from '../binary/index.ts';
import { bodyFacts, compileModule } from '../compile/index.ts';
import type { BodyFacts } from '../compile/index.ts';
import { rewriteModule } from './rewrite.ts';
import type { RewriteOptions, RewrittenModule } from './rewrite.ts';
import { DiskRewriteCache } from './disk-cache.ts';
import type { DiskCacheConfig } from './disk-cache.ts';

/**
 * `facts`: what the main thread's validation of the bodies found (the rewriter's walk
 * still validates each body as it rewrites it).
 */
export function rewriteInWorker(bytes: Uint8Array, options: RewriteOptions, cache?: DiskCacheConfig, facts?: BodyFacts): { rewritten: RewrittenModule; module: WebAssembly.Module } {
  const compiled = compileModule(decodeModule(bytes), facts);
  const rewritten = rewriteModule(compiled.context, options);
  if (cache !== undefined) new DiskRewriteCache(cache).store(bytes, options, rewritten, bodyFacts(compiled));
  return { rewritten, module: new WebAssembly.Module(rewritten.bytes as Uint8Array<ArrayBuffer>) };
}
