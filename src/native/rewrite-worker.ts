/**
 * What the rewriter's worker thread runs (see `background.ts`): the module decoded,
 * validated and rewritten, and the rewrite compiled by V8, all off the main thread.
 */
import { decodeModule } from '../binary/index.ts';
import { compileModule } from '../compile/index.ts';
import { rewriteModule } from './rewrite.ts';
import type { RewriteOptions, RewrittenModule } from './rewrite.ts';

export function rewriteInWorker(bytes: Uint8Array, options: RewriteOptions): { rewritten: RewrittenModule; module: WebAssembly.Module } {
  const rewritten = rewriteModule(compileModule(decodeModule(bytes)).context, options);
  return { rewritten, module: new WebAssembly.Module(rewritten.bytes as Uint8Array<ArrayBuffer>) };
}
