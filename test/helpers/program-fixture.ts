/**
 * Lays out the host directories a test-program case asks for (see
 * `test/programs/cases.ts`): a fresh temporary root, the files, directories
 * and symlinks of the case's setup, and the map of preopens to hand to a
 * WASI implementation.  Shared by the node:wasi reference run and by wasmig's
 * own WASI tests, so both see the same tree.
 */
import { mkdtemp, mkdir, readFile, rm, symlink, writeFile, lstat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';

/** A directory to preopen: `guest` is the name the program sees, `host` a path relative to the case's temp root ("" = the root itself). */
export interface PreopenSpec {
  readonly guest: string;
  readonly host: string;
}

/** One thing to create under the temp root before the run; paths are relative to the root. */
export type SetupEntry =
  | { readonly kind: 'file'; readonly path: string; readonly content: string | Uint8Array }
  | { readonly kind: 'dir'; readonly path: string }
  | { readonly kind: 'symlink'; readonly path: string; readonly target: string };

/** A laid-out case: where its tree is, what to preopen, and how to remove it. */
export interface Fixture {
  /** Absolute path of the fresh temp root. */
  readonly root: string;
  /** Guest path to absolute host path, in the order the case lists them. */
  readonly preopens: Record<string, string>;
  /** Removes the whole tree. */
  cleanup(): Promise<void>;
}

/** Resolves a root-relative path, refusing one that leaves the root. */
function inside(root: string, rel: string): string {
  const abs = resolve(root, rel);
  if (abs !== root && !abs.startsWith(root + sep)) {
    throw new Error(`fixture path ${JSON.stringify(rel)} leaves the temp root`);
  }
  return abs;
}

/** Creates a fresh temp root, the case's setup entries and its preopened directories. */
export async function prepareFixture(dirs: readonly PreopenSpec[], setup: readonly SetupEntry[] = []): Promise<Fixture> {
  const root = await mkdtemp(join(tmpdir(), 'wasmig-prog-'));
  const preopens: Record<string, string> = {};
  for (const d of dirs) {
    const host = inside(root, d.host);
    await mkdir(host, { recursive: true });
    preopens[d.guest] = host;
  }
  for (const entry of setup) {
    const abs = inside(root, entry.path);
    await mkdir(dirname(abs), { recursive: true });
    switch (entry.kind) {
      case 'file':
        await writeFile(abs, entry.content);
        break;
      case 'dir':
        await mkdir(abs, { recursive: true });
        break;
      case 'symlink':
        await symlink(entry.target, abs);
        break;
    }
  }
  return {
    root,
    preopens,
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}

/** Reads a root-relative file as UTF-8, or returns undefined when it does not exist. */
export async function readFixtureFile(fixture: Fixture, rel: string): Promise<string | undefined> {
  try {
    return await readFile(inside(fixture.root, rel), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Whether a root-relative path exists (a dangling symlink counts as existing). */
export async function fixtureHas(fixture: Fixture, rel: string): Promise<boolean> {
  try {
    await lstat(inside(fixture.root, rel));
    return true;
  } catch {
    return false;
  }
}
