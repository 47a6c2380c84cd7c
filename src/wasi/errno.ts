import { WasmigError } from '../errors/index.ts';
import { Errno } from './abi.ts';

/**
 * A WASI errno raised inside a syscall implementation. It never leaves the `wasi`
 * folder: the import wrappers turn it into the function's return value, so a deep
 * helper (a bounds check, a path lookup) can abort the call without threading results.
 */
export class WasiErrno extends Error {
  override readonly name = 'WasiErrno';
  readonly errno: number;
  constructor(errno: number) {
    super(`wasi errno ${errno}`);
    this.errno = errno;
  }
}

/** Throws `WasiErrno(errno)`; typed `never` so callers read as guards. */
export function fail(errno: number): never {
  throw new WasiErrno(errno);
}

/** POSIX error code names as Node reports them (`err.code`) to WASI errnos. */
const NODE_CODES: Readonly<Record<string, number>> = {
  E2BIG: Errno.TOOBIG,
  EACCES: Errno.ACCES,
  EADDRINUSE: Errno.ADDRINUSE,
  EADDRNOTAVAIL: Errno.ADDRNOTAVAIL,
  EAFNOSUPPORT: Errno.AFNOSUPPORT,
  EAGAIN: Errno.AGAIN,
  EWOULDBLOCK: Errno.AGAIN,
  EALREADY: Errno.ALREADY,
  EBADF: Errno.BADF,
  EBADMSG: Errno.BADMSG,
  EBUSY: Errno.BUSY,
  ECANCELED: Errno.CANCELED,
  ECHILD: Errno.CHILD,
  ECONNABORTED: Errno.CONNABORTED,
  ECONNREFUSED: Errno.CONNREFUSED,
  ECONNRESET: Errno.CONNRESET,
  EDEADLK: Errno.DEADLK,
  EDESTADDRREQ: Errno.DESTADDRREQ,
  EDOM: Errno.DOM,
  EDQUOT: Errno.DQUOT,
  EEXIST: Errno.EXIST,
  EFAULT: Errno.FAULT,
  EFBIG: Errno.FBIG,
  EHOSTUNREACH: Errno.HOSTUNREACH,
  EIDRM: Errno.IDRM,
  EILSEQ: Errno.ILSEQ,
  EINPROGRESS: Errno.INPROGRESS,
  EINTR: Errno.INTR,
  EINVAL: Errno.INVAL,
  EIO: Errno.IO,
  EISCONN: Errno.ISCONN,
  EISDIR: Errno.ISDIR,
  ELOOP: Errno.LOOP,
  EMFILE: Errno.MFILE,
  EMLINK: Errno.MLINK,
  EMSGSIZE: Errno.MSGSIZE,
  EMULTIHOP: Errno.MULTIHOP,
  ENAMETOOLONG: Errno.NAMETOOLONG,
  ENETDOWN: Errno.NETDOWN,
  ENETRESET: Errno.NETRESET,
  ENETUNREACH: Errno.NETUNREACH,
  ENFILE: Errno.NFILE,
  ENOBUFS: Errno.NOBUFS,
  ENODEV: Errno.NODEV,
  ENOENT: Errno.NOENT,
  ENOEXEC: Errno.NOEXEC,
  ENOLCK: Errno.NOLCK,
  ENOLINK: Errno.NOLINK,
  ENOMEM: Errno.NOMEM,
  ENOMSG: Errno.NOMSG,
  ENOPROTOOPT: Errno.NOPROTOOPT,
  ENOSPC: Errno.NOSPC,
  ENOSYS: Errno.NOSYS,
  ENOTCONN: Errno.NOTCONN,
  ENOTDIR: Errno.NOTDIR,
  ENOTEMPTY: Errno.NOTEMPTY,
  ENOTRECOVERABLE: Errno.NOTRECOVERABLE,
  ENOTSOCK: Errno.NOTSOCK,
  ENOTSUP: Errno.NOTSUP,
  EOPNOTSUPP: Errno.NOTSUP,
  ENOTTY: Errno.NOTTY,
  ENXIO: Errno.NXIO,
  EOVERFLOW: Errno.OVERFLOW,
  EOWNERDEAD: Errno.OWNERDEAD,
  EPERM: Errno.PERM,
  EPIPE: Errno.PIPE,
  EPROTO: Errno.PROTO,
  EPROTONOSUPPORT: Errno.PROTONOSUPPORT,
  EPROTOTYPE: Errno.PROTOTYPE,
  ERANGE: Errno.RANGE,
  EROFS: Errno.ROFS,
  ESPIPE: Errno.SPIPE,
  ESRCH: Errno.SRCH,
  ESTALE: Errno.STALE,
  ETIMEDOUT: Errno.TIMEDOUT,
  ETXTBSY: Errno.TXTBSY,
  EXDEV: Errno.XDEV,
};

/**
 * The WASI errno for an exception thrown inside a syscall, or `undefined` when it is not
 * an errno-like failure (a bug, or an `ExitError`), which the caller must rethrow.
 */
export function errnoOf(err: unknown): number | undefined {
  if (err instanceof WasiErrno) return err.errno;
  if (err instanceof WasmigError || !(err instanceof Error)) return undefined;
  const sys = err as NodeJS.ErrnoException;
  const code = sys.code;
  if (typeof code !== 'string') return undefined;
  const mapped = NODE_CODES[code];
  if (mapped !== undefined) return mapped;
  // A system call failed with a code we have no name for.
  if (typeof sys.syscall === 'string' || typeof sys.errno === 'number') return Errno.IO;
  // Node reports out-of-range positions and lengths as ERR_OUT_OF_RANGE; they come from
  // guest-chosen numbers, so they are the guest's invalid arguments.
  if (code === 'ERR_OUT_OF_RANGE') return Errno.INVAL;
  return undefined;
}

/** The WASI errno for a Node error code name such as `'ENOENT'` (EIO when unknown). */
export function errnoFromCode(code: string): number {
  return NODE_CODES[code] ?? Errno.IO;
}
