/**
 * The start-up bundle of `wasmig run` and `resume`: `dist/cli/main.js` and every module
 * it imports, bundled by esbuild into `dist/run/` (the commands it loads lazily, such as
 * `run --on`, split into chunks there). Node's ES module loader resolves, opens, reads
 * and compiles each of the 150-odd files of the run path one by one; from one file it
 * starts 50-60 ms sooner (SQLite's cached start: a fifth of wasmig's own share of it).
 *
 * Built from the compiled `dist/` files (after `tsc`), so that the bundle runs exactly
 * the code that the disk cache's fingerprint hashes (`native/disk-cache.ts` reads the
 * files of `dist/native/`, `dist/compile/`, ... beside the bundle's folder). The
 * rewriter's worker has an entry of its own here (`rewrite-worker.js`, beside the chunk
 * that spawns it: `native/background.ts`), so that it too loads two files, not sixty. Packages
 * stay outside (imported from node_modules as before). `bin/wasmig.js` uses the bundle
 * for `run` and `resume` when it is at least as new as `dist/cli/main.js` (a `tsc` alone
 * leaves it stale, and then unused), and the unbundled files for every other command.
 *
 * Usage: npx tsx tools/build-run-bundle.ts   (`npm run build` runs it after tsc)
 */
import { existsSync, rmSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** Where the bundle goes: one folder below dist/, as `dist/cli/` is (relative paths resolve alike). */
export const RUN_BUNDLE_DIR = resolve(ROOT, 'dist/run');

/** Bundles `dist/cli/main.js` into {@link RUN_BUNDLE_DIR}. */
export async function runBundleBuild(): Promise<void> {
  const entry = resolve(ROOT, 'dist/cli/main.js');
  if (!existsSync(entry)) throw new Error('dist/cli/main.js is missing: run tsc -p tsconfig.build.json first');
  // Chunks are named by their content: without this, every build left the last one's beside its own.
  rmSync(RUN_BUNDLE_DIR, { recursive: true, force: true });
  await build({
    // The rewriter's worker (native/background.ts loads it beside its own chunk).
    entryPoints: { main: entry, 'rewrite-worker': resolve(ROOT, 'dist/native/rewrite-worker.js') },
    outdir: RUN_BUNDLE_DIR,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    logLevel: 'warning',
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await runBundleBuild();
