import { fs } from './system.ts';
import { Errno, FileType } from './abi.ts';
import type { FileSystem } from './file-system.ts';
import type { MemFs } from './mem-fs.ts';
import type { Clocks } from './clock.ts';
import type { WakeWord } from './host.ts';
import { fail } from './errno.ts';
import type { FdEntry } from './fd-table.ts';
import { FdTable } from './fd-table.ts';
import { GuestMemory } from './memory.ts';
import type { Resolved } from './paths.ts';
import { resolvePath } from './paths.ts';

/**
 * A preopened directory: its guest name and where it lives, a host directory or an
 * in-memory tree (then its "host paths" are paths within the tree, from `/`).
 */
export interface Preopen {
  readonly guest: string;
  /** The host directory as given ('' for one in memory). */
  readonly host: string;
  /** `realpath` of `host` (`/` for one in memory): every host path of this preopen starts with it. */
  readonly hostReal: string;
  /** The file system it lives on: the host's, or {@link Preopen.mem}. */
  readonly fs: FileSystem;
  /** The in-memory tree, when the directory lives in memory: its content is part of the state. */
  readonly mem?: MemFs;
}

/** Where stdin, stdout and stderr go when not to a host fd (by stream; stdin has none). */
export type StdioSinks = [undefined, ((data: Uint8Array) => void) | undefined, ((data: Uint8Array) => void) | undefined];

/** A resolved guest path together with the directory fd it was resolved from. */
export interface Located extends Resolved {
  readonly dir: FdEntry;
  readonly rootReal: string;
  /** The file system the location is on. */
  readonly fs: FileSystem;
}

/**
 * Everything the syscalls share: guest memory, the fd table, preopens, clocks, argv and
 * environment, the exit status. The `calls-*.ts` functions take it as their first argument.
 */
export class WasiContext {
  readonly memory = new GuestMemory();
  readonly fds = new FdTable();
  readonly args: string[];
  readonly env: [string, string][];
  readonly preopens: Preopen[];
  readonly clocks: Clocks;
  /** Host fds standing for the guest's stdin, stdout, stderr. */
  readonly stdioHost: [number, number, number];
  /** Output sinks standing for stdout and stderr instead of host fds (their host fd is -1). */
  readonly sinks: StdioSinks;
  exitCode: number | null = null;
  /** Blocking calls (a stream read, a poll that sleeps) return promises instead (`WasiOptions.asyncBlocking`). */
  readonly asyncBlocking: boolean;
  /** The shared word that cuts a blocking sleep short (`WasiOptions.wake`). */
  readonly wake: WakeWord | undefined;
  /**
   * The timers of sleeps under way as promises, so that closing the host ends them: an
   * abandoned program's 60 s sleep otherwise held its process open for those 60 s.
   */
  readonly #sleeps = new Set<ReturnType<typeof setTimeout>>();

  /** Resolves after `ms`, unless the host is closed first (then never: its program is abandoned). */
  sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.#sleeps.delete(timer);
        resolve();
      }, ms);
      this.#sleeps.add(timer);
    });
  }

  constructor(init: {
    args: string[];
    env: [string, string][];
    preopens: Preopen[];
    clocks: Clocks;
    stdioHost: [number, number, number];
    sinks?: StdioSinks;
    asyncBlocking?: boolean;
    wake?: WakeWord;
  }) {
    this.asyncBlocking = init.asyncBlocking === true;
    this.wake = init.wake;
    this.args = init.args;
    this.env = init.env;
    this.preopens = init.preopens;
    this.clocks = init.clocks;
    this.stdioHost = init.stdioHost;
    this.sinks = init.sinks ?? [undefined, undefined, undefined];
  }

  /**
   * Resolves `guestPath` under directory fd `dirFd`, which must hold `rights`.
   * @see resolvePath for the sandbox rules.
   */
  locate(dirFd: number, rights: bigint, guestPath: string, follow: boolean): Located {
    const dir = this.fds.checked(dirFd, rights);
    if (dir.kind !== 'dir') fail(Errno.NOTDIR);
    const preopen = this.preopens[dir.preopen];
    if (preopen === undefined) fail(Errno.BADF);
    const resolved = resolvePath(preopen.fs, preopen.hostReal, dir.path, guestPath, follow);
    return { ...resolved, dir, rootReal: preopen.hostReal, fs: preopen.fs };
  }

  /** The host path of a file or directory entry. */
  hostPathOf(entry: FdEntry): string {
    const preopen = this.preopens[entry.preopen];
    if (preopen === undefined) fail(Errno.BADF);
    return resolvePath(preopen.fs, preopen.hostReal, '', entry.path === '' ? '.' : entry.path, true).host;
  }

  /** The file system an entry's host fd or path belongs to: its preopen's, or the host's for stdio. */
  fsOf(entry: FdEntry): FileSystem {
    if (entry.kind === 'stdio') return fs;
    const preopen = this.preopens[entry.preopen];
    if (preopen === undefined) fail(Errno.BADF);
    return preopen.fs;
  }

  /** Releases the host fd of an entry (stdio host fds belong to the embedder). */
  release(entry: FdEntry): void {
    if (entry.kind === 'file' && entry.hostFd >= 0) {
      const hostFd = entry.hostFd;
      // Cleared first so that a failing close cannot leave a dangling number to reuse.
      entry.hostFd = -1;
      this.fsOf(entry).closeSync(hostFd);
    }
  }

  /** Closes every host fd this context opened, and ends its sleeps' timers. */
  closeAll(): void {
    for (const timer of this.#sleeps) clearTimeout(timer);
    this.#sleeps.clear();
    for (const entry of this.fds.entries.values()) {
      try {
        this.release(entry);
      } catch {
        // Closing is best effort: the fd may already be gone with its file system.
      }
    }
    this.fds.entries.clear();
  }
}

/** A fresh entry for a preopened directory. */
export function preopenEntry(index: number, base: bigint, inheriting: bigint): FdEntry {
  return {
    kind: 'dir',
    hostFd: -1,
    stdio: -1,
    preopen: index,
    path: '',
    isPreopen: true,
    filetype: FileType.DIRECTORY,
    offset: 0n,
    oflags: 0,
    fdflags: 0,
    read: true,
    write: false,
    rightsBase: base,
    rightsInheriting: inheriting,
    dirCursor: null,
  };
}
