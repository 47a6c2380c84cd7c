/**
 * The browser build (tools/build-browser.ts) holds no Node built-in: its inputs are our
 * sources and pure-JavaScript packages (checked here without a browser; the browser tests
 * run the bundle).
 *
 * The browser build replaces each `src/.../X.ts` that has a twin `X.browser.ts` by the
 * twin (tools/build-browser.ts); other bundlers learn the same from package.json's
 * `browser` field. Both must name every twin, and a twin must export every value its
 * original exports, or the browser build breaks (or an import is silently undefined).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { browserBuild } from '../../tools/build-browser.ts';
import { repoRoot } from '../helpers/cli.ts';

function* twins(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* twins(path);
    else if (name.endsWith('.browser.ts')) yield path;
  }
}

const src = resolve(repoRoot, 'src');
const all = [...twins(src)];

test('package.json maps every twin, and nothing else', () => {
  const browser = (JSON.parse(readFileSync(resolve(repoRoot, 'package.json'), 'utf8')) as { browser: Record<string, string> }).browser;
  const expected = Object.fromEntries(all.map((t) => {
    const rel = relative(src, t).replace(/\.browser\.ts$/, '');
    return [`./dist/${rel}.js`, `./dist/${rel}.browser.js`];
  }));
  assert.ok(all.length >= 5, `${all.length} twins`);
  assert.equal(Object.fromEntries(Object.entries(browser).sort()), Object.fromEntries(Object.entries(expected).sort()));
});

test('each twin exports the values its original exports', async () => {
  for (const twin of all) {
    const original = twin.replace(/\.browser\.ts$/, '.ts');
    const [a, b] = await Promise.all([import(pathToFileURL(original).href), import(pathToFileURL(twin).href)]);
    assert.equal(Object.keys(b).sort(), Object.keys(a).sort(), relative(src, twin));
  }
});

test('the browser bundle imports no Node built-in', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wasmig-bundle-'));
  try {
    // A worktree whose node_modules links to another checkout's sees its packages there (../main/node_modules/...).
    const inputs = Object.keys((await browserBuild(join(dir, 'wasmig.js'))).inputs).map((i) => i.replace(/^(\.\.\/)+[^/]+\/node_modules\//, 'node_modules/'));
    assert.ok(inputs.length > 50, `${inputs.length} inputs`);
    const foreign = inputs.filter((i) => !(i.startsWith('src/') || i.startsWith('node_modules/@msgpack/') || i.startsWith('node_modules/@noble/')));
    assert.equal(foreign, [], 'every input is our source or a pure-JavaScript package');
    assert.not.ok(inputs.some((i) => /^src\/.*\/(system|platform-node|platform-default|background|disk-cache|load)\.ts$/.test(i)), 'no file that has a twin');
    assert.not.match(readFileSync(join(dir, 'wasmig.js'), 'utf8'), /\brequire\(|from ["']node:/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
