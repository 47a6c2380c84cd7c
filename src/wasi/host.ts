import { fs } from './system.ts';
import { SnapshotError, UsageError } from '../errors/index.ts';
import { FileType, RIGHTS_DIR_BASE, RIGHTS_DIR_INHERITING, RIGHTS_STREAM_BASE } from './abi.ts';
import { Clocks } from './clock.ts';
import type { Preopen, StdioSinks } from './context.ts';
import { WasiContext, preopenEntry } from './context.ts';
import { WasiErrno } from './errno.ts';
import type { FdEntry } from './fd-table.ts';
import { accessFlags, fileTypeOf } from './fd-table.ts';
import type { HostFunction } from './imports.ts';
import { buildImports } from './imports.ts';
import { MemFs } from './mem-fs.ts';
import type { MemFsState } from './mem-fs-state.ts';
import { isEntryName, validateMemFsState } from './mem-fs-state.ts';
import type { MemoryLike } from './memory.ts';
import { resolvePath } from './paths.ts';
import type { WasiState } from './state.ts';
import { WASI_STATE_VERSION, WASI_STATE_VERSION_HOST_ONLY, validateWasiState } from './state.ts';

/** How a WASI program sees the world. */
export interface WasiOptions {
  /** argv, argv[0] included. */
  args: string[];
  /** The guest's environment variables. */
  env: Record<string, string>;
  /** Host directories the guest may reach, and the names it knows them by ("." or "/" or "/data"). */
  preopens: {
    /** The directory on this machine. */
    host: string;
    /** The name the guest opens it by. */
    guest: string;
  }[];
  /**
   * Directories in memory the guest may reach, preopened after `preopens`, in this order:
   * empty, or seeded with content (a host folder loaded by the CLI, say). Their content
   * is part of the WASI state: captured with it, restored from it (a restore ignores this
   * option and takes them from the state), so they move with a job to any machine.
   */
  memDirs?: MemDirOptions[];
  /**
   * Host fds for the guest's stdin, stdout, stderr (default 0, 1, 2). To capture output,
   * open a file (or a pipe) and pass its fd, or pass an {@link OutputSink} for stdout and
   * stderr; the host never closes these fds.
   */
  stdin?: number;
  /** Where the guest's stdout goes: a host fd or a sink (see `stdin`). */
  stdout?: number | OutputSink;
  /** Where the guest's stderr goes: a host fd or a sink (see `stdin`). */
  stderr?: number | OutputSink;
  /**
   * Calls that would block the thread return promises instead, so that its event loop
   * runs meanwhile: `fd_read` from a stream (stdin, a pipe) and `poll_oneoff` sleeping on
   * clocks. The program must then be run with `Program.runAsync` (or `run` and
   * `importSettled`). Default false: they block, as the WebAssembly JS API needs.
   */
  asyncBlocking?: boolean;
  /**
   * A word in shared memory that cuts a sleep short (`poll_oneoff` on clocks): the thread
   * sleeps on it while it holds 0, and once another thread raises it (and notifies), the
   * rest of the sleep becomes a promise, as with `asyncBlocking`, so that the thread can
   * serve what it was woken for: an agent's job worker, asked to pause for a migration,
   * is not held up by a sleeping program. A sleep nobody cuts short stays synchronous,
   * as exact as without it. Ignored with `asyncBlocking` (every sleep is a promise then).
   */
  wake?: WakeWord;
}

/** One in-memory directory of {@link WasiOptions.memDirs}. */
export interface MemDirOptions {
  /** The name the guest opens it by. */
  guest: string;
  /** Its content to start from (validated first); default empty. */
  files?: MemFsState;
  /** Most bytes of file content it may hold (default: the seed's bound, else 16 MiB); writes beyond fail with ENOSPC. */
  maxBytes?: number;
}

/** A shared word a blocking sleep watches: `words[index]` other than 0 cuts it short (`WasiOptions.wake`). */
export interface WakeWord {
  /** Shared memory (an `Int32Array` over a `SharedArrayBuffer`). */
  words: Int32Array;
  /** The word's index in `words`. */
  index: number;
}

/**
 * Receives every byte the guest writes to stdout or stderr, synchronously and in order
 * (`data` is a copy the sink may keep). The guest sees a character device (a terminal:
 * wasi-libc line-buffers it), with no host fd behind it.
 */
export type OutputSink = (data: Uint8Array) => void;

const RESUME = Symbol('resume');

/** The device number an in-memory directory's `filestat.dev` reports: distinct per preopen. */
function memDev(index: number): bigint {
  // "mem" in ASCII, then the preopen's index: unlike any real device number.
  return 0x6d656d_0000n + BigInt(index);
}

function memPreopen(guest: string, index: number, clocks: Clocks, init: { files?: MemFsState; maxBytes?: number }): Preopen {
  const options = { dev: memDev(index), now: () => clocks.realtime() };
  let mem: MemFs;
  if (init.files !== undefined) {
    mem = MemFs.fromState(init.files, options);
  } else {
    mem = new MemFs({ ...options, maxBytes: init.maxBytes });
  }
  return { guest, host: '', hostReal: '/', fs: mem.asFileSystem, mem };
}

function checkGuestName(guest: string, where: string): void {
  if (guest === '' || guest.includes('\0')) throw new UsageError(`${where}: ${JSON.stringify(guest)} is not a directory name`);
  // A name made of plain components only: the guest opens files by it, relative or absolute.
  if (!guest.split('/').every((c) => c === '' || c === '.' || isEntryName(c))) throw new UsageError(`${where}: ${JSON.stringify(guest)} has a ".." in it`);
}

function realDirectory(host: string, guest: string): string {
  let real: string;
  try {
    real = fs.realpathSync(host);
  } catch (err) {
    throw new UsageError(`preopen ${JSON.stringify(guest)}: host directory ${host} cannot be opened (${(err as Error).message})`);
  }
  if (!fs.statSync(real).isDirectory()) throw new UsageError(`preopen ${JSON.stringify(guest)}: ${host} is not a directory`);
  return real;
}

/** Host fds of the stdio streams; -1 for a stream that goes to an {@link OutputSink}. */
function stdioHostFds(options: WasiOptions): [number, number, number] {
  const fd = (v: number | OutputSink | undefined, d: number): number => (v === undefined ? d : typeof v === 'number' ? v : -1);
  return [options.stdin ?? 0, fd(options.stdout, 1), fd(options.stderr, 2)];
}

function stdioSinks(options: WasiOptions): StdioSinks {
  const sink = (v: number | OutputSink | undefined): OutputSink | undefined => (typeof v === 'function' ? v : undefined);
  return [undefined, sink(options.stdout), sink(options.stderr)];
}

function stdioEntry(stream: number, hostFd: number): FdEntry {
  let filetype: number = hostFd === -1 ? FileType.CHARACTER_DEVICE : FileType.UNKNOWN;
  try {
    if (hostFd !== -1) filetype = fileTypeOf(fs.fstatSync(hostFd));
  } catch {
    // A closed stdio fd still exists for the guest; using it will say EBADF.
  }
  return {
    kind: 'stdio',
    hostFd,
    stdio: stream,
    preopen: -1,
    path: '',
    isPreopen: false,
    filetype,
    offset: 0n,
    oflags: 0,
    fdflags: 0,
    read: stream === 0,
    write: stream !== 0,
    rightsBase: RIGHTS_STREAM_BASE,
    rightsInheriting: 0n,
    dirCursor: null,
  };
}

function guestName(preopen: Preopen, rel: string): string {
  if (rel === '') return preopen.guest;
  return preopen.guest.endsWith('/') ? preopen.guest + rel : `${preopen.guest}/${rel}`;
}

/**
 * A WASI preview1 (and snapshot 0) host whose whole state is plain data: the fd table
 * holds guest paths, offsets and flags, not opaque handles, so it can be captured on one
 * machine and restored on another. All calls are synchronous.
 *
 * @example
 * const wasi = new WasiHost({ args: ['prog'], env: {}, preopens: [{ host: dir, guest: '.' }] });
 * const { instance } = await WebAssembly.instantiate(bytes, wasi.imports);
 * wasi.bindMemory(instance.exports.memory as WebAssembly.Memory);
 * try { (instance.exports._start as () => void)(); } catch (e) { if (!(e instanceof ExitError)) throw e; }
 */
export class WasiHost {
  /** Import objects: `{ wasi_snapshot_preview1: {...}, wasi_unstable: {...} }`. */
  readonly imports: Record<string, Record<string, HostFunction>>;
  readonly #ctx: WasiContext;

  constructor(options: WasiOptions);
  /** @internal used by {@link WasiHost.restore} with validated state. */
  constructor(options: WasiOptions, token: typeof RESUME, state: WasiState);
  constructor(options: WasiOptions, token?: typeof RESUME, state?: WasiState) {
    const resume = token === RESUME ? state : undefined;
    const stdioHost = stdioHostFds(options);
    if (resume === undefined) {
      const clocks = new Clocks();
      const preopens: Preopen[] = options.preopens.map((p) => ({ guest: p.guest, host: p.host, hostReal: realDirectory(p.host, p.guest), fs }));
      for (const m of options.memDirs ?? []) {
        checkGuestName(m.guest, 'in-memory directory');
        if (preopens.some((p) => p.guest === m.guest)) throw new UsageError(`in-memory directory ${JSON.stringify(m.guest)}: another preopen has that name`);
        const where = `in-memory directory ${JSON.stringify(m.guest)}`;
        const usage = (what: string): never => {
          throw new UsageError(what);
        };
        // Seeds come from outside (a folder, a job's start): checked as a snapshot's would be.
        const files = m.files === undefined ? undefined : validateMemFsState(m.maxBytes === undefined ? m.files : { ...m.files, maxBytes: m.maxBytes }, where, usage);
        preopens.push(memPreopen(m.guest, preopens.length, clocks, { files, maxBytes: m.maxBytes }));
      }
      this.#ctx = new WasiContext({
        args: [...options.args],
        env: Object.entries(options.env),
        preopens,
        clocks,
        stdioHost,
        sinks: stdioSinks(options),
        asyncBlocking: options.asyncBlocking,
        wake: options.wake,
      });
      for (let s = 0; s < 3; s++) this.#ctx.fds.set(s, stdioEntry(s, stdioHost[s] as number));
      preopens.forEach((_, index) => {
        this.#ctx.fds.add(preopenEntry(index, RIGHTS_DIR_BASE, RIGHTS_DIR_INHERITING));
      });
    } else {
      const clocks = new Clocks(resume.clock);
      const preopens = resume.preopens.map(({ guest, mem }, index): Preopen => {
        // In memory: the content came with the state, nothing of this host is needed.
        if (mem !== undefined) return memPreopen(guest, index, clocks, { files: mem });
        const match = options.preopens.find((p) => p.guest === guest);
        if (match === undefined) throw new SnapshotError(`WASI state needs preopen ${JSON.stringify(guest)}, which the new host does not provide`);
        return { guest, host: match.host, hostReal: realDirectory(match.host, guest), fs };
      });
      this.#ctx = new WasiContext({
        args: [...resume.args],
        env: Object.entries(resume.env),
        preopens,
        clocks,
        stdioHost,
        sinks: stdioSinks(options),
        asyncBlocking: options.asyncBlocking,
        wake: options.wake,
      });
      this.#ctx.exitCode = resume.exitCode;
      try {
        for (const fdState of resume.fds) this.#ctx.fds.set(fdState.fd, this.#reopen(fdState));
        for (const p of preopens) p.mem?.dropUnopened();
      } catch (err) {
        this.#ctx.closeAll();
        throw err;
      }
    }
    this.imports = buildImports(this.#ctx);
  }

  /** Sets where guest memory lives; `buffer` is re-read on every call (memory.grow replaces it). */
  bindMemory(memory: MemoryLike): void {
    this.#ctx.memory.bind(memory);
  }

  /** Guest names of the preopens that are host directories (a new host must provide them; those in memory travel with the state). */
  get hostDirs(): string[] {
    return this.#ctx.preopens.filter((p) => p.mem === undefined).map((p) => p.guest);
  }

  /** The status the guest gave proc_exit, or null. */
  get exitCode(): number | null {
    return this.#ctx.exitCode;
  }

  /** Whether some preopen lives in memory (its files are in the state). */
  get hasMemDirs(): boolean {
    return this.#ctx.preopens.some((p) => p.mem !== undefined);
  }

  /**
   * The files of the in-memory directories: preopen index, inode, content version, bytes
   * (a view, valid until the program runs again). See `MemFs.files`.
   */
  memFiles(): {
    /** The preopen's index. */
    preopen: number;
    /** The file's inode. */
    ino: number;
    /** Its content version (changes with its bytes). */
    version: number;
    /** Its bytes. */
    data: Uint8Array;
  }[] {
    return this.#ctx.preopens.flatMap((p, preopen) => (p.mem === undefined ? [] : p.mem.files().map((f) => ({ preopen, ...f }))));
  }

  /**
   * The complete host state as plain data (see {@link WasiState}). `omitFiles(preopen,
   * ino, version)` true leaves that in-memory file's bytes out (empty), for a receiver
   * that holds them already (pre-copied).
   */
  captureState(options: { omitFiles?: (preopen: number, ino: number, version: number) => boolean } = {}): WasiState {
    const ctx = this.#ctx;
    const fds = [...ctx.fds.entries.entries()]
      .sort(([a], [b]) => a - b)
      .map(([fd, e]) => ({
        fd,
        kind: e.kind,
        stdio: e.stdio,
        preopen: e.preopen,
        path: e.path,
        isPreopen: e.isPreopen,
        filetype: e.filetype,
        offset: e.offset,
        oflags: e.oflags,
        fdflags: e.fdflags,
        read: e.read,
        write: e.write,
        rightsBase: e.rightsBase,
        rightsInheriting: e.rightsInheriting,
        dirCursor: e.dirCursor === null ? null : [...e.dirCursor],
        // An in-memory file is reopened by its inode: renamed or unlinked, it is still the one.
        ...(e.kind === 'file' && e.hostFd >= 0 && ctx.preopens[e.preopen]?.mem !== undefined ? { ino: Number(ctx.fsOf(e).fstatSync(e.hostFd).ino) } : {}),
      }));
    return {
      version: this.hasMemDirs ? WASI_STATE_VERSION : WASI_STATE_VERSION_HOST_ONLY,
      args: [...ctx.args],
      env: Object.fromEntries(ctx.env),
      preopens: ctx.preopens.map((p, i) => {
        if (p.mem === undefined) return { guest: p.guest };
        const omit = options.omitFiles;
        return { guest: p.guest, mem: p.mem.capture(omit && ((ino, version) => omit(i, ino, version))) };
      }),
      fds,
      clock: ctx.clocks.capture(),
      exitCode: ctx.exitCode,
    };
  }

  /**
   * Rebuilds a host from captured state, on this machine or another. The state is
   * validated first (it is untrusted). Args, environment, fd numbers, offsets, flags and
   * rights come from the state; preopens are matched by guest name to `options.preopens`
   * (extra ones are ignored), stdio to `options.stdin/stdout/stderr`. Open files are
   * reopened by path and access mode (never created or truncated again).
   * @throws SnapshotError for invalid state, a missing preopen, or a file that cannot be reopened.
   */
  static restore(state: WasiState, options: WasiOptions): WasiHost {
    return new WasiHost(options, RESUME, validateWasiState(state));
  }

  /**
   * Releases every host fd this host opened (stdio fds belong to the embedder) and ends the
   * timers of sleeps under way (`asyncBlocking`, or woken by `wake`): their calls never
   * complete, as the program is abandoned.
   */
  close(): void {
    this.#ctx.closeAll();
  }

  #reopen(s: WasiState['fds'][number]): FdEntry {
    const ctx = this.#ctx;
    const { fd: _fd, ino, ...fields } = s;
    const entry: FdEntry = { ...fields, hostFd: -1, dirCursor: s.dirCursor === null ? null : [...s.dirCursor] };
    if (s.kind === 'stdio') {
      entry.hostFd = ctx.stdioHost[s.stdio] as number;
      return entry;
    }
    const preopen = ctx.preopens[s.preopen] as Preopen;
    const name = guestName(preopen, s.path);
    const files = preopen.fs;
    let host = preopen.hostReal;
    try {
      if (ino !== undefined && preopen.mem !== undefined) {
        entry.hostFd = preopen.mem.openInode(ino, accessFlags(files, s.read, s.write));
        return entry;
      }
      host = resolvePath(files, preopen.hostReal, '', s.path === '' ? '.' : s.path, true).host;
      if (s.kind === 'dir') {
        if (!files.statSync(host).isDirectory()) throw new Error('not a directory any more');
        return entry;
      }
      const c = files.constants;
      entry.hostFd = files.openSync(host, accessFlags(files, s.read, s.write) | c.O_NOFOLLOW | c.O_NONBLOCK);
      const filetype = fileTypeOf(files.fstatSync(entry.hostFd));
      if (filetype !== s.filetype) {
        files.closeSync(entry.hostFd);
        throw new Error(`its type changed (was ${s.filetype}, now ${filetype})`);
      }
      return entry;
    } catch (err) {
      const why = err instanceof WasiErrno ? `path lookup failed (WASI errno ${err.errno})` : (err as Error).message;
      const at = preopen.mem === undefined ? `at host path ${host}` : 'in its in-memory directory';
      throw new SnapshotError(`cannot reopen ${name} (fd ${s.fd}) ${at}: ${why}`, { cause: err });
    }
  }
}
