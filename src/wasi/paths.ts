import type * as NodeFs from 'node:fs';
import { path } from './system.ts';
import { Errno } from './abi.ts';
import { fail } from './errno.ts';
import type { FileSystem } from './file-system.ts';

/**
 * The sandbox: resolving a guest path under a preopened directory.
 *
 * Resolution walks the path one component at a time on the host, expanding symlinks
 * itself (their targets are re-walked under the same rules, as the kernel would), so
 * that no step can leave the preopen root:
 * - an absolute guest path, a `..` above the root, or a symlink whose target (absolute,
 *   or relative through `..`) lands outside the root all fail with ENOTCAPABLE (76).
 *   That is what Node's uvwasi and early wasmtime return for sandbox escapes (current
 *   wasmtime says EPERM); we follow node:wasi, our differential reference.
 *   An absolute symlink target that points back inside the root's real host path is allowed.
 * - `..` is applied to the resolved (symlink-free) path, POSIX-style, not lexically.
 * - a missing intermediate component is ENOENT, a non-directory one ENOTDIR; the last
 *   component may be missing (for creation).
 * - more than {@link MAX_SYMLINKS} expansions is ELOOP.
 * As a second line of defence the result is checked with `realpath` against the root.
 */

/** Symlink expansions allowed in one lookup (Linux's limit). */
export const MAX_SYMLINKS = 40;

/** A resolved location: the guest path relative to the preopen root, and the host path. */
export interface Resolved {
  /** '/'-separated, no `.`/`..`/symlinks; '' is the root itself. */
  readonly rel: string;
  readonly host: string;
}

/** Host path of a root-relative guest path. */
export function hostPathOf(rootReal: string, rel: string): string {
  return rel === '' ? rootReal : path.join(rootReal, ...rel.split('/'));
}

function lstatOrUndefined(fs: FileSystem, p: string): NodeFs.Stats | undefined {
  try {
    return fs.lstatSync(p);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw err;
  }
}

function isInside(rootReal: string, candidate: string): boolean {
  return candidate === rootReal || candidate.startsWith(rootReal.endsWith(path.sep) ? rootReal : rootReal + path.sep);
}

/**
 * Resolves `guestPath` relative to `baseRel` (the directory fd's own root-relative path)
 * under the preopen whose real host path is `rootReal`, on file system `fs` (the host's,
 * or an in-memory tree whose root is `/`).
 * @param follow whether a symlink in the last component is expanded (`lookupflags::symlink_follow`);
 *   a trailing slash always expands it and requires a directory.
 */
export function resolvePath(fs: FileSystem, rootReal: string, baseRel: string, guestPath: string, follow: boolean): Resolved {
  if (guestPath.length === 0) fail(Errno.NOENT);
  if (guestPath.includes('\0')) fail(Errno.INVAL);
  if (guestPath.startsWith('/')) fail(Errno.NOTCAPABLE);

  // A trailing slash makes the last component a directory that must be followed.
  const trailingSlash = guestPath.endsWith('/');
  const followLast = follow || trailingSlash;
  const stack = baseRel === '' ? [] : baseRel.split('/');
  // Components still to walk, in reverse so that pop() yields the next one.
  let pending = guestPath.split('/').filter((c) => c !== '' && c !== '.').reverse();
  let expansions = 0;
  let lastStat: NodeFs.Stats | undefined;

  while (pending.length > 0) {
    const component = pending.pop() as string;
    lastStat = undefined;
    if (component === '..') {
      if (stack.length === 0) fail(Errno.NOTCAPABLE);
      stack.pop();
      continue;
    }
    const isLast = pending.length === 0;
    if (isLast && !followLast) {
      stack.push(component);
      break;
    }
    const candidate = hostPathOf(rootReal, [...stack, component].join('/'));
    const st = lstatOrUndefined(fs, candidate);
    if (st === undefined) {
      if (!isLast) fail(Errno.NOENT);
      stack.push(component);
      break;
    }
    if (st.isSymbolicLink()) {
      if (++expansions > MAX_SYMLINKS) fail(Errno.LOOP);
      const target = fs.readlinkSync(candidate, 'utf8');
      let targetRel = target;
      if (target.startsWith('/')) {
        // Only a target back inside the root's own host path is reachable.
        if (!isInside(rootReal, target)) fail(Errno.NOTCAPABLE);
        targetRel = path.relative(rootReal, target).split(path.sep).join('/');
        stack.length = 0;
      }
      // The target is walked from the directory holding the link; a target of "." or
      // the root itself leaves `pending` empty and resolves to that directory.
      const expanded = targetRel.split('/').filter((c) => c !== '' && c !== '.');
      pending = pending.concat(expanded.reverse());
      continue;
    }
    if (!isLast && !st.isDirectory()) fail(Errno.NOTDIR);
    lastStat = st;
    stack.push(component);
  }

  if (trailingSlash) {
    const st = lastStat ?? lstatOrUndefined(fs, hostPathOf(rootReal, stack.join('/')));
    if (st !== undefined && !st.isDirectory()) fail(Errno.NOTDIR);
  }

  const rel = stack.join('/');
  const host = hostPathOf(rootReal, rel);
  assertInsideRoot(fs, rootReal, host, followLast);
  return { rel, host };
}

/**
 * The `realpath` cross-check: the resolved location (or, when the last component is not
 * followed or does not exist yet, its parent) must be inside the root.
 */
function assertInsideRoot(fs: FileSystem, rootReal: string, host: string, followLast: boolean): void {
  let probe = host;
  if (!followLast && host !== rootReal) probe = path.dirname(host);
  let real: string;
  try {
    real = fs.realpathSync(probe);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' || probe === rootReal) throw err;
    real = fs.realpathSync(path.dirname(probe));
  }
  if (!isInside(rootReal, real)) fail(Errno.NOTCAPABLE);
}
