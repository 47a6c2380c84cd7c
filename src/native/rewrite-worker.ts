/**
 * What the rewriter's worker thread runs (see `background.ts`): the module decoded,
 * validated and rewritten, and the rewrite compiled by V8, all off the main thread;
 * with the engine's disk cache, the rewrite is stored there too, off the main thread.
 *
 * The rewrite goes back to the main thread in the disk cache's encoding
 * (`rewrite-codec.ts`), its buffer transferred: a structured clone of SQLite's 1,388
 * functions and 15,000 safepoints as objects cost both threads tens of milliseconds on
 * the way, where decoding the flat form takes a few (its safepoints are made when first
 * read), and the cache needs that encoding anyway.
 */
import { writeSync } from 'node:fs';
import { decodeModule } from '../binary/index.ts';
import { bodyFacts, compileModule } from '../compile/index.ts';
import type { BodyFacts } from '../compile/index.ts';
import { rewriteModule } from './rewrite.ts';
import type { RewriteOptions } from './rewrite.ts';
import { encodeRewrite } from './rewrite-codec.ts';
import { DiskRewriteCache } from './disk-cache.ts';
import type { DiskCacheConfig } from './disk-cache.ts';

/** What the worker posts: the encoded rewrite (`decodeRewrite` reads it) and V8's compiled module. */
export interface EncodedRewrite {
  payload: Uint8Array;
  module: WebAssembly.Module;
}

/**
 * `facts`: what the main thread's validation of the bodies found (the rewriter's walk
 * still validates each body as it rewrites it).
 */
export function rewriteInWorker(bytes: Uint8Array, options: RewriteOptions, cache?: DiskCacheConfig, facts?: BodyFacts): EncodedRewrite {
  const T = (m: string) => { if (process.env.WTRACE) writeSync(2, `W ${m} ${(performance.timeOrigin + performance.now()).toFixed(0)}\n`); };
  T('start');
  const compiled = compileModule(decodeModule(bytes), facts);
  T('compiled');
  const rewritten = rewriteModule(compiled.context, options);
  T('rewritten');
  let payload: Uint8Array;
  if (cache !== undefined) {
    const store = new DiskRewriteCache(cache);
    payload = store.encode(bytes, options, rewritten, bodyFacts(compiled));
    store.storeEncoded(bytes, options, payload);
  } else {
    payload = encodeRewrite('', rewritten, bodyFacts(compiled));
  }
  T('encoded');
  const module = new WebAssembly.Module(rewritten.bytes as Uint8Array<ArrayBuffer>);
  T('v8module');
  return { payload, module };
}
