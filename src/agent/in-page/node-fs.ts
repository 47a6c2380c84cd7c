/**
 * `node:fs` for the browser agent's bundles. A tab has no directories for jobs, TLS or
 * key files: each such call throws one line with an `ENOSYS` code. Two exceptions:
 * `/dev/null`, which a job's thread opens as its stdin, is fd 0 (WASI's browser system
 * reads it as empty); and files under {@link PAGE_STATE_ROOT}, which are the page's
 * `localStorage` entries, so the agent's state dir (the replay guard's high-water marks,
 * replay-guard.ts; the fleet's revocation list) outlives a reload of the tab. `localStorage` is synchronous, as the
 * guard's writes are on Node: the mark is stored before the request is acted on.
 * @module
 */

/** Where a tab's agent keeps its state dir: paths under it are `localStorage` entries. */
export const PAGE_STATE_ROOT = '/page-storage/';

/** The key of a path's entry (the path itself: one origin's storage is one agent page's). */
const KEY_PREFIX = 'wasmig-fs:';

interface Storage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

function fail(call: string, path: unknown, why: string, code: string): never {
  throw Object.assign(new Error(`${call}${typeof path === 'string' ? ` ${path}` : ''}: ${why}`), { code });
}

/** The page's storage for a path under {@link PAGE_STATE_ROOT}, or undefined for any other path. */
function storageFor(call: string, path: unknown): Storage | undefined {
  if (typeof path !== 'string' || !path.startsWith(PAGE_STATE_ROOT)) return undefined;
  const storage = (globalThis as { localStorage?: Storage }).localStorage;
  return storage ?? fail(call, path, 'this context has no localStorage (a worker?)', 'ENOSYS');
}

function absent(call: string) {
  return (path?: unknown): never => fail(call, path, 'a browser tab has no files', 'ENOSYS');
}

/** Only `/dev/null` opens (as fd 0, the empty stdin of the browser's WASI system). */
export function openSync(path: string): number {
  if (path === '/dev/null') return 0;
  return absent('open')(path);
}

/** A state file's text (`localStorage`); ENOENT when there is none. */
export function readFileSync(path: string, _encoding?: string): string {
  const storage = storageFor('readFile', path);
  if (!storage) return absent('readFile')(path);
  return storage.getItem(KEY_PREFIX + path) ?? fail('readFile', path, 'no such file', 'ENOENT');
}

/** Writes a state file (`localStorage`, synchronously). */
export function writeFileSync(path: string, data: string): void {
  const storage = storageFor('writeFile', path);
  if (!storage) return absent('writeFile')(path);
  try {
    storage.setItem(KEY_PREFIX + path, String(data));
  } catch (error) {
    fail('writeFile', path, `localStorage refused it (${(error as Error).message})`, 'ENOSPC');
  }
}

/** Renames a state file (a write of the new entry, then the old one removed). */
export function renameSync(from: string, to: string): void {
  const storage = storageFor('rename', from);
  if (!storage || !to.startsWith(PAGE_STATE_ROOT)) return absent('rename')(from);
  const text = storage.getItem(KEY_PREFIX + from) ?? fail('rename', from, 'no such file', 'ENOENT');
  storage.setItem(KEY_PREFIX + to, text);
  storage.removeItem(KEY_PREFIX + from);
}

/** Directories under {@link PAGE_STATE_ROOT} need no making (entries are flat keys). */
export function mkdirSync(path: string, _options?: unknown): void {
  if (!storageFor('mkdir', path)) absent('mkdir')(path);
}

export const realpathSync = absent('realpath');

/**
 * A state file's size, and for its time a hash of its text: what readers of `mtimeMs`
 * here do is tell whether a file changed (the revocation list, revocation.ts), and
 * `localStorage` keeps no times. ENOENT when there is none.
 */
export function statSync(path: string): { mtimeMs: number; size: number; isFile(): boolean; isDirectory(): boolean } {
  const storage = storageFor('stat', path);
  if (!storage) return absent('stat')(path);
  const text = storage.getItem(KEY_PREFIX + path) ?? fail('stat', path, 'no such file', 'ENOENT');
  let hash = 0x811c9dc5; // FNV-1a over the UTF-16 code units
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return { mtimeMs: hash, size: text.length, isFile: () => true, isDirectory: () => false };
}
