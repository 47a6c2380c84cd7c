/**
 * The browser build: `src/browser.ts` bundled by esbuild into `dist/browser/wasmig.js`
 * (one ES module, with a source map). A file `X.ts` with a twin `X.browser.ts` beside it
 * is replaced by the twin, as package.json's `browser` field tells other bundlers. The
 * build fails if anything it bundles still imports a Node built-in (esbuild cannot
 * resolve `node:*` for the browser), and `browserBuild` returns the inputs so a test
 * can check that no Node module is among them.
 *
 * `browserAgentBuild` makes the browser agent's bundles beside it: `agent.js` (the
 * page, `src/browser-agent.ts`), `job-thread.js` (its jobs' Web Worker,
 * `src/browser-job-thread.ts`) and `fleet.js` (the dashboard's controls,
 * `src/browser-fleet.ts`). The agent's files import a few Node modules; there each
 * resolves to its stand-in in `src/agent/in-page/` (a web equivalent, or a one-line
 * refusal), `mqtt` to MQTT.js's browser build, and `Buffer` and `process` are injected.
 * Any other Node module fails the build, as in the library's.
 *
 * Usage: npx tsx tools/build-browser.ts [--outfile PATH]   (both builds; the agent's beside PATH)
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
export const browserTwins: Plugin = {
  name: 'wasmig-browser-twins',
  setup(b) {
    b.onResolve({ filter: /^\.\.?\/.*\.ts$/ }, (args) => {
      const target = resolve(args.resolveDir, args.path);
      const twin = target.replace(/\.ts$/, '.browser.ts');
      return existsSync(twin) && !target.endsWith('.browser.ts') ? { path: twin } : undefined;
    });
  },
};

/** Node modules the agent's files import, and their stand-ins for a page (`src/agent/in-page/`). */
export const IN_PAGE_MODULES: Readonly<Record<string, string>> = {
  'node:crypto': 'node-crypto.ts',
  'node:fs': 'node-fs.ts',
  'node:os': 'node-os.ts',
  'node:path': 'node-path.ts',
  'node:perf_hooks': 'node-perf-hooks.ts',
  'node:worker_threads': 'node-worker-threads.ts',
  mqtt: 'mqtt.ts',
};

/** The stand-ins' folder (its `globals.ts` is injected into the browser agent's bundles). */
export const IN_PAGE = resolve(ROOT, 'src/agent/in-page');

/** Resolves each module of {@link IN_PAGE_MODULES} to its stand-in. */
export const inPage: Plugin = {
  name: 'wasmig-in-page',
  setup(b) {
    b.onResolve({ filter: /^(node:[a-z_]+|mqtt)$/ }, (args) => {
      const file = IN_PAGE_MODULES[args.path];
      return file ? { path: resolve(IN_PAGE, file) } : undefined;
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

/**
 * Builds the browser agent's bundles into `outdir` (default: beside the library's):
 * `agent.js`, `job-thread.js` and `fleet.js`, which must sit side by side (the page boots its
 * workers from the URL beside its own). Returns esbuild's metafile.
 */
export async function browserAgentBuild(outdir: string = dirname(BROWSER_BUNDLE)): Promise<Metafile> {
  const result = await build({
    entryPoints: {
      agent: resolve(ROOT, 'src/browser-agent.ts'),
      'job-thread': resolve(ROOT, 'src/browser-job-thread.ts'),
      fleet: resolve(ROOT, 'src/browser-fleet.ts'),
    },
    outdir,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    sourcemap: true,
    metafile: true,
    logLevel: 'warning',
    inject: [resolve(IN_PAGE, 'globals.ts')],
    plugins: [browserTwins, inPage],
  });
  return result.metafile;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const at = process.argv.indexOf('--outfile');
  const outfile = at >= 0 && process.argv[at + 1] ? resolve(process.argv[at + 1]!) : BROWSER_BUNDLE;
  const report = (what: string, meta: Metafile): void => {
    for (const [file, o] of Object.entries(meta.outputs)) {
      if (o.entryPoint !== undefined) console.log(`build:browser: ${what} ${resolve(ROOT, file)} (${(o.bytes / 1024).toFixed(0)} KiB, ${Object.keys(meta.inputs).length} inputs)`);
    }
  };
  browserBuild(outfile).then(async (meta) => {
    report('library', meta);
    report('browser agent', await browserAgentBuild(dirname(outfile)));
  }).catch((error: Error) => {
    console.error(`build:browser: ${error.message.split('\n')[0]}`);
    process.exitCode = 1;
  });
}
