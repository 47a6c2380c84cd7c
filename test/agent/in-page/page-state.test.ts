/**
 * A tab's state dir is the page's `localStorage` (src/agent/in-page/node-fs.ts): files
 * under `/page-storage/` are entries, written synchronously; other paths are refused in
 * one line. The agent's own replay guard (replay-guard.ts), bundled with the stand-ins
 * as the page runs it, keeps its high-water marks there: a guard made again over the
 * same storage (a reloaded tab) refuses a request the first accepted.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from '../../../src/agent/in-page/node-fs.ts';
import type { ReplayGuard } from '../../../src/agent/replay-guard.ts';
import { browserTwins, IN_PAGE, inPage } from '../../../tools/build-browser.ts';
import { repoRoot } from '../../helpers/cli.ts';

/** A page's `localStorage`, as much as the stand-in uses. */
class FakeStorage {
  readonly items = new Map<string, string>();
  getItem(key: string): string | null { return this.items.get(key) ?? null; }
  setItem(key: string, value: string): void { this.items.set(key, value); }
  removeItem(key: string): void { this.items.delete(key); }
}

const s = suite('a tab\'s state dir in localStorage');
const work = mkdtempSync(join(tmpdir(), 'wasmig-page-state-'));
const storage = new FakeStorage();
const scope = globalThis as unknown as { localStorage?: FakeStorage };

s.before(() => { scope.localStorage = storage; });
s.after(() => {
  delete scope.localStorage;
  rmSync(work, { recursive: true, force: true });
});

s('stat of a state file: its size, and a time that changes when its text does', () => {
  const path = `${fs.PAGE_STATE_ROOT}fleet/revoked.json`;
  assert.throws(() => fs.statSync(path), (e: Error & { code?: string }) => e.code === 'ENOENT');
  fs.writeFileSync(path, '{"v":1}');
  const first = fs.statSync(path);
  assert.is(first.size, 7);
  assert.ok(first.isFile());
  assert.is(fs.statSync(path).mtimeMs, first.mtimeMs, 'the same text, the same time');
  fs.writeFileSync(path, '{"v":2}');
  assert.is.not(fs.statSync(path).mtimeMs, first.mtimeMs);
  assert.throws(() => fs.statSync('/etc/passwd'), (e: Error & { code?: string }) => e.code === 'ENOSYS');
  storage.removeItem(`wasmig-fs:${path}`);
});

s('files under /page-storage/ are entries; a rename moves one; other paths are refused', () => {
  const path = `${fs.PAGE_STATE_ROOT}t/replay-guard.json`;
  assert.throws(() => fs.readFileSync(path), (e: Error & { code?: string }) => e.code === 'ENOENT' && e.message === `readFile ${path}: no such file`);
  fs.mkdirSync(`${fs.PAGE_STATE_ROOT}t`);
  fs.writeFileSync(`${path}.tmp`, '{"v":1}');
  fs.renameSync(`${path}.tmp`, path);
  assert.is(fs.readFileSync(path, 'utf8'), '{"v":1}');
  assert.equal([...storage.items.keys()], [`wasmig-fs:${path}`]);
  assert.throws(() => fs.writeFileSync('/etc/x', ''), (e: Error & { code?: string }) => e.code === 'ENOSYS' && e.message === 'writeFile /etc/x: a browser tab has no files');
  storage.items.clear();
});

s('the replay guard\'s marks survive a reload of the tab', async () => {
  await build({
    stdin: { contents: "export { ReplayGuard } from './replay-guard.ts';", resolveDir: resolve(repoRoot, 'src/agent'), sourcefile: 'page-guard.ts', loader: 'ts' },
    outfile: join(work, 'page-guard.mjs'),
    bundle: true, format: 'esm', platform: 'browser', target: 'es2022', logLevel: 'warning',
    inject: [resolve(IN_PAGE, 'globals.ts')],
    plugins: [browserTwins, inPage],
  });
  const { ReplayGuard: PageGuard } = await import(pathToFileURL(join(work, 'page-guard.mjs')).href) as { ReplayGuard: typeof ReplayGuard };
  const store = `${fs.PAGE_STATE_ROOT}tab/replay-guard.json`;
  const now = Date.now();
  const before = new PageGuard(store);
  assert.is(before.check('laptop', 'm1', now - 10), undefined);
  assert.is(before.check('laptop', 'm1', now - 10), 'replayed message (id seen before)');
  assert.ok(storage.items.has(`wasmig-fs:${store}`), 'the mark is stored before the request is acted on');
  const reloaded = new PageGuard(store);
  assert.is(reloaded.check('laptop', 'm1', now - 10), 'replayed message (not newer than the last one accepted from laptop before this restart)');
  assert.is(reloaded.check('laptop', 'm2', now), undefined);
});

s.run();
