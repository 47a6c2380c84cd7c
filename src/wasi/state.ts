import { SnapshotError } from '../errors/index.ts';
import { FDFLAGS_ALL, FileType, OFLAGS_ALL, RIGHTS_ALL } from './abi.ts';
import type { FdKind } from './fd-table.ts';
import { MAX_FD } from './fd-table.ts';
import type { MemFsState } from './mem-fs-state.ts';
import { validateMemFsState } from './mem-fs-state.ts';

/**
 * Version of the {@link WasiState} shape; bumped on any incompatible change. 2 added
 * in-memory directories (`preopens[i].mem`): a state is written as version 2 only when it
 * has one, so that a reader that knows only version 1 refuses it in one line rather than
 * looking for a host directory; every other state is still written, and read, as 1.
 */
export const WASI_STATE_VERSION = 2;
/** The version of a state without in-memory directories (see {@link WASI_STATE_VERSION}). */
export const WASI_STATE_VERSION_HOST_ONLY = 1;

/**
 * One open guest fd, as captured. Paths are guest paths relative to the preopen root,
 * never host paths: the new host maps the preopen's guest name to its own directory.
 */
export interface WasiFdState {
  /** The descriptor number the guest uses. */
  fd: number;
  /** Standard stream, file or directory. */
  kind: FdKind;
  /** stdio: which stream (0, 1, 2) the fd stood for at startup; -1 otherwise. */
  stdio: number;
  /** Index into `WasiState.preopens`; -1 for stdio. */
  preopen: number;
  /** Root-relative, symlink-free guest path: '/'-separated, no '.', '..' or empty components; '' = the preopen root. */
  path: string;
  /** Whether this fd is one of the preopened directories (answers fd_prestat_get). */
  isPreopen: boolean;
  /** The WASI `filetype` the guest was told (`fd_fdstat_get`). */
  filetype: number;
  /** The file position (files only: streams have none; the host does positional I/O). */
  offset: bigint;
  /** The WASI `oflags` it was opened with (informational: creat/excl/trunc are not replayed). */
  oflags: number;
  /** The WASI `fdflags` (append, sync, nonblock), applied by wasmig itself. */
  fdflags: number;
  /** Host access mode: opened for reading. */
  read: boolean;
  /** Host access mode: opened for writing. */
  write: boolean;
  /** The rights the fd has. */
  rightsBase: bigint;
  /** The rights fds opened through it may have. */
  rightsInheriting: bigint;
  /** Directory listing cached by fd_readdir at cookie 0 (cookie n = entry n), so cookies stay stable and migrate; or null. */
  dirCursor: string[] | null;
  /**
   * A file of an in-memory directory (version 2): the inode the fd holds, so that it
   * reopens that very file, renamed or unlinked since as it may be (a host file is
   * reopened by path).
   */
  ino?: number;
}

/**
 * The complete WASI host state as plain data (JSON-compatible, plus bigint): what a
 * snapshot carries under `host`. Encodable with msgpack as is.
 */
export interface WasiState {
  /** {@link WASI_STATE_VERSION} of the shape. */
  version: number;
  /** The guest's argv. */
  args: string[];
  /** The guest's environment. */
  env: Record<string, string>;
  /**
   * The preopens, in their original order: guest names (host paths are per machine), and
   * for a directory in memory its whole content, which travels with the state.
   */
  preopens: {
    /** The name the guest knows the directory by. */
    guest: string;
    /** An in-memory directory's content (version 2); absent for a host directory. */
    mem?: MemFsState;
  }[];
  /** Every open guest fd. */
  fds: WasiFdState[];
  /** Guest monotonic and CPU clocks at capture (ns): they resume from these values. */
  clock: {
    /** The monotonic clock, ns. */
    monotonic: bigint;
    /** The process CPU-time clock, ns. */
    cpu: bigint;
  };
  /** The status given to proc_exit, or null while the program runs. */
  exitCode: number | null;
}

function bad(what: string): never {
  throw new SnapshotError(`invalid WASI state: ${what}`);
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function str(x: unknown, what: string): string {
  if (typeof x !== 'string') bad(`${what} is not a string`);
  return x;
}

function int(x: unknown, what: string, min: number, max: number): number {
  if (typeof x !== 'number' || !Number.isInteger(x) || x < min || x > max) bad(`${what} is not an integer in [${min}, ${max}]`);
  return x;
}

function big(x: unknown, what: string, min: bigint, max: bigint): bigint {
  if (typeof x !== 'bigint' || x < min || x > max) bad(`${what} is not a bigint in [${min}, ${max}]`);
  return x;
}

function bool(x: unknown, what: string): boolean {
  if (typeof x !== 'boolean') bad(`${what} is not a boolean`);
  return x;
}

/** A captured path must stay a plain downward path: no way to express an escape. */
function relPath(x: unknown, what: string): string {
  const s = str(x, what);
  if (s === '') return s;
  if (s.includes('\0')) bad(`${what} contains NUL`);
  for (const c of s.split('/')) {
    if (c === '' || c === '.' || c === '..') bad(`${what} ${JSON.stringify(s)} is not a normalized relative path`);
  }
  return s;
}

const KINDS: readonly FdKind[] = ['stdio', 'file', 'dir'];

function fdState(x: unknown, where: string, preopenCount: number): WasiFdState {
  if (!isRecord(x)) bad(`${where} is not an object`);
  const kind = str(x['kind'], `${where}.kind`) as FdKind;
  if (!KINDS.includes(kind)) bad(`${where}.kind ${JSON.stringify(kind)} is unknown`);
  const fd: WasiFdState = {
    fd: int(x['fd'], `${where}.fd`, 0, MAX_FD),
    kind,
    stdio: int(x['stdio'], `${where}.stdio`, -1, 2),
    preopen: int(x['preopen'], `${where}.preopen`, -1, preopenCount - 1),
    path: relPath(x['path'], `${where}.path`),
    isPreopen: bool(x['isPreopen'], `${where}.isPreopen`),
    filetype: int(x['filetype'], `${where}.filetype`, FileType.UNKNOWN, FileType.SYMBOLIC_LINK),
    offset: big(x['offset'], `${where}.offset`, 0n, (1n << 63n) - 1n),
    oflags: int(x['oflags'], `${where}.oflags`, 0, OFLAGS_ALL),
    fdflags: int(x['fdflags'], `${where}.fdflags`, 0, FDFLAGS_ALL),
    read: bool(x['read'], `${where}.read`),
    write: bool(x['write'], `${where}.write`),
    rightsBase: big(x['rightsBase'], `${where}.rightsBase`, 0n, RIGHTS_ALL),
    rightsInheriting: big(x['rightsInheriting'], `${where}.rightsInheriting`, 0n, RIGHTS_ALL),
    dirCursor: null,
  };
  if (x['ino'] !== undefined) {
    if (kind !== 'file') bad(`${where}: only a file fd names an inode`);
    fd.ino = int(x['ino'], `${where}.ino`, 1, Number.MAX_SAFE_INTEGER);
  }
  const cursor = x['dirCursor'];
  if (cursor !== null) {
    if (!Array.isArray(cursor)) bad(`${where}.dirCursor is neither null nor an array`);
    fd.dirCursor = cursor.map((n, j) => {
      const name = str(n, `${where}.dirCursor[${j}]`);
      if (name.includes('/') || name.includes('\0') || name === '') bad(`${where}.dirCursor[${j}] is not a file name`);
      return name;
    });
  }
  if (kind === 'stdio') {
    if (fd.stdio < 0 || fd.preopen !== -1 || fd.isPreopen) bad(`${where}: a stdio fd names its stream and no preopen`);
  } else {
    if (fd.stdio !== -1 || fd.preopen < 0) bad(`${where}: a ${kind} fd names a preopen and no stream`);
    if (kind === 'dir' && fd.filetype !== FileType.DIRECTORY) bad(`${where}: a dir fd must have the directory filetype`);
    if (kind === 'file' && fd.filetype === FileType.DIRECTORY) bad(`${where}: a file fd cannot have the directory filetype`);
    if (fd.isPreopen && (kind !== 'dir' || fd.path !== '')) bad(`${where}: a preopen fd is the root directory`);
  }
  if (kind !== 'dir' && fd.dirCursor !== null) bad(`${where}: only directories have a readdir cursor`);
  return fd;
}

/**
 * Checks untrusted captured state field by field and returns a clean copy (no extra
 * properties, no shared references). Throws `SnapshotError` naming the first bad field.
 */
export function validateWasiState(x: unknown): WasiState {
  if (!isRecord(x)) bad('not an object');
  const version = x['version'];
  if (version !== WASI_STATE_VERSION && version !== WASI_STATE_VERSION_HOST_ONLY) bad(`unsupported version ${String(version)} (expected ${WASI_STATE_VERSION_HOST_ONLY} or ${WASI_STATE_VERSION})`);
  const args = x['args'];
  if (!Array.isArray(args)) bad('args is not an array');
  const env = x['env'];
  if (!isRecord(env)) bad('env is not an object');
  const cleanEnv: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [k, v] of Object.entries(env)) {
    if (k === '' || k.includes('=') || k.includes('\0')) bad(`env key ${JSON.stringify(k)} is not a variable name`);
    cleanEnv[k] = str(v, `env[${JSON.stringify(k)}]`);
  }
  const preopens = x['preopens'];
  if (!Array.isArray(preopens)) bad('preopens is not an array');
  const cleanPreopens = preopens.map((p, j): WasiState['preopens'][number] => {
    if (!isRecord(p)) bad(`preopens[${j}] is not an object`);
    const guest = str(p['guest'], `preopens[${j}].guest`);
    if (p['mem'] === undefined) return { guest };
    if (version !== WASI_STATE_VERSION) bad(`preopens[${j}] is in memory, which version ${String(version)} cannot hold`);
    return { guest, mem: validateMemFsState(p['mem'], `preopens[${j}].mem`, bad) };
  });
  const fds = x['fds'];
  if (!Array.isArray(fds)) bad('fds is not an array');
  const cleanFds = fds.map((f, j) => fdState(f, `fds[${j}]`, cleanPreopens.length));
  cleanFds.forEach((f, j) => {
    if (f.ino !== undefined && cleanPreopens[f.preopen]?.mem === undefined) bad(`fds[${j}] names an inode of a host directory`);
  });
  const seen = new Set<number>();
  for (const f of cleanFds) {
    if (seen.has(f.fd)) bad(`fd ${f.fd} appears twice`);
    seen.add(f.fd);
  }
  const clock = x['clock'];
  if (!isRecord(clock)) bad('clock is not an object');
  const u64max = (1n << 64n) - 1n;
  const exitCode = x['exitCode'];
  return {
    version: cleanPreopens.some((p) => p.mem !== undefined) ? WASI_STATE_VERSION : WASI_STATE_VERSION_HOST_ONLY,
    args: args.map((a, j) => str(a, `args[${j}]`)),
    env: cleanEnv,
    preopens: cleanPreopens,
    fds: cleanFds,
    clock: {
      monotonic: big(clock['monotonic'], 'clock.monotonic', 0n, u64max),
      cpu: big(clock['cpu'], 'clock.cpu', 0n, u64max),
    },
    exitCode: exitCode === null ? null : int(exitCode, 'exitCode', 0, 0xffffffff),
  };
}
