/**
 * The browser build replaces each `src/.../X.ts` that has a twin `X.browser.ts` by the
 * twin (tools/build-browser.ts); other bundlers learn the same from package.json's
 * `browser` field. Both must name every twin, and a twin must export every value its
 * original exports, or the browser build breaks (or an import is silently undefined).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
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

test.run();
