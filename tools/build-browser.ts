/**
 * The browser build: `src/browser.ts` bundled by esbuild into `dist/browser/wasmig.js`
 * (one ES module, with a source map). A file `X.ts` with a twin `X.browser.ts` beside it
 * is replaced by the twin, as package.json's `browser` field tells other bundlers. The
 * build fails if anything it bundles still imports a Node built-in (esbuild cannot
 * resolve `node:*` for the browser), and `browserBuild` returns the inputs so a test
 * can check that no Node module is among them.
 *
 * Usage: npx tsx tools/build-browser.ts [--outfile PATH]
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Metafile, Plugin } from 'esbuild';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** Where `npm run build:browser` writes the bundle. */
export const BROWSER_BUNDLE = resolve(ROOT, 'dist/browser/wasmig.js');

/** Resolves a relative import of `X.ts` to `X.browser.ts` when that twin exists. */
const browserTwins: Plugin = {
  name: 'wasmig-browser-twins',
  setup(b) {
    b.onResolve({ filter: /^\.\.?\/.*\.ts$/ }, (args) => {
      const target = resolve(args.resolveDir, args.path);
      const twin = target.replace(/\.ts$/, '.browser.ts');
      return existsSync(twin) && !target.endsWith('.browser.ts') ? { path: twin } : undefined;
    });
  },
};

/** Builds the bundle; returns esbuild's metafile (every input and output). */
export async function browserBuild(outfile: string = BROWSER_BUNDLE): Promise<Metafile> {
  const result = await build({
    entryPoints: [resolve(ROOT, 'src/browser.ts')],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    sourcemap: true,
    metafile: true,
    logLevel: 'warning',
    plugins: [browserTwins],
  });
  return result.metafile;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const at = process.argv.indexOf('--outfile');
  const outfile = at >= 0 && process.argv[at + 1] ? resolve(process.argv[at + 1]!) : BROWSER_BUNDLE;
  browserBuild(outfile).then((meta) => {
    const bytes = Object.values(meta.outputs).find((o) => o.entryPoint !== undefined)?.bytes ?? 0;
    console.log(`build:browser: ${outfile} (${(bytes / 1024).toFixed(0)} KiB, ${Object.keys(meta.inputs).length} inputs)`);
  }, (error: Error) => {
    console.error(`build:browser: ${error.message.split('\n')[0]}`);
    process.exitCode = 1;
  });
}
