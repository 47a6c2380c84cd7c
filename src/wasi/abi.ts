/**
 * WASI ABI constants: errno values, rights, flags, enums and struct layouts, for
 * `wasi_snapshot_preview1` and the older `wasi_unstable` (snapshot 0). Behaviour lives
 * elsewhere (the `calls-*.ts` files); this file only says what the bits mean.
 *
 * Source of truth: the witx files of the WASI repository, `legacy/preview1/witx/` and
 * `legacy/preview0/witx/`.
 *
 * Where snapshot 0 differs from preview1 (everything else, including every function
 * signature, is identical):
 * - `whence`: snapshot 0 numbers `cur`=0, `end`=1, `set`=2; preview1 `set`=0, `cur`=1, `end`=2.
 * - `linkcount` is u32 in snapshot 0 (u64 in preview1), so `filestat` is 56 bytes with
 *   `nlink` at 20 and everything after it 8 bytes earlier; preview1's is 64 bytes.
 * - `subscription_clock` starts with an extra `identifier` (u64 userdata) in snapshot 0,
 *   so the clock fields sit 8 bytes later and `subscription` is 56 bytes (48 in preview1).
 * - `rights::sock_accept` (bit 29) and the `sock_accept` function exist only in preview1.
 * `fd_filestat_set_times` / `path_filestat_set_times` have the same parameters in both.
 * @see https://github.com/WebAssembly/WASI/tree/main/legacy
 * @module
 */

/** Error codes (`errno`, u16). Same numbering in both snapshots. */
export const Errno = {
  SUCCESS: 0,
  TOOBIG: 1,
  ACCES: 2,
  ADDRINUSE: 3,
  ADDRNOTAVAIL: 4,
  AFNOSUPPORT: 5,
  AGAIN: 6,
  ALREADY: 7,
  BADF: 8,
  BADMSG: 9,
  BUSY: 10,
  CANCELED: 11,
  CHILD: 12,
  CONNABORTED: 13,
  CONNREFUSED: 14,
  CONNRESET: 15,
  DEADLK: 16,
  DESTADDRREQ: 17,
  DOM: 18,
  DQUOT: 19,
  EXIST: 20,
  FAULT: 21,
  FBIG: 22,
  HOSTUNREACH: 23,
  IDRM: 24,
  ILSEQ: 25,
  INPROGRESS: 26,
  INTR: 27,
  INVAL: 28,
  IO: 29,
  ISCONN: 30,
  ISDIR: 31,
  LOOP: 32,
  MFILE: 33,
  MLINK: 34,
  MSGSIZE: 35,
  MULTIHOP: 36,
  NAMETOOLONG: 37,
  NETDOWN: 38,
  NETRESET: 39,
  NETUNREACH: 40,
  NFILE: 41,
  NOBUFS: 42,
  NODEV: 43,
  NOENT: 44,
  NOEXEC: 45,
  NOLCK: 46,
  NOLINK: 47,
  NOMEM: 48,
  NOMSG: 49,
  NOPROTOOPT: 50,
  NOSPC: 51,
  NOSYS: 52,
  NOTCONN: 53,
  NOTDIR: 54,
  NOTEMPTY: 55,
  NOTRECOVERABLE: 56,
  NOTSOCK: 57,
  NOTSUP: 58,
  NOTTY: 59,
  NXIO: 60,
  OVERFLOW: 61,
  OWNERDEAD: 62,
  PERM: 63,
  PIPE: 64,
  PROTO: 65,
  PROTONOSUPPORT: 66,
  PROTOTYPE: 67,
  RANGE: 68,
  ROFS: 69,
  SPIPE: 70,
  SRCH: 71,
  STALE: 72,
  TIMEDOUT: 73,
  TXTBSY: 74,
  XDEV: 75,
  NOTCAPABLE: 76,
} as const;
export type ErrnoValue = (typeof Errno)[keyof typeof Errno];

/** `rights` (u64 flags). Bit 29 (`sock_accept`) exists only in preview1. */
export const Rights = {
  FD_DATASYNC: 1n << 0n,
  FD_READ: 1n << 1n,
  FD_SEEK: 1n << 2n,
  FD_FDSTAT_SET_FLAGS: 1n << 3n,
  FD_SYNC: 1n << 4n,
  FD_TELL: 1n << 5n,
  FD_WRITE: 1n << 6n,
  FD_ADVISE: 1n << 7n,
  FD_ALLOCATE: 1n << 8n,
  PATH_CREATE_DIRECTORY: 1n << 9n,
  PATH_CREATE_FILE: 1n << 10n,
  PATH_LINK_SOURCE: 1n << 11n,
  PATH_LINK_TARGET: 1n << 12n,
  PATH_OPEN: 1n << 13n,
  FD_READDIR: 1n << 14n,
  PATH_READLINK: 1n << 15n,
  PATH_RENAME_SOURCE: 1n << 16n,
  PATH_RENAME_TARGET: 1n << 17n,
  PATH_FILESTAT_GET: 1n << 18n,
  PATH_FILESTAT_SET_SIZE: 1n << 19n,
  PATH_FILESTAT_SET_TIMES: 1n << 20n,
  FD_FILESTAT_GET: 1n << 21n,
  FD_FILESTAT_SET_SIZE: 1n << 22n,
  FD_FILESTAT_SET_TIMES: 1n << 23n,
  PATH_SYMLINK: 1n << 24n,
  PATH_REMOVE_DIRECTORY: 1n << 25n,
  PATH_UNLINK_FILE: 1n << 26n,
  POLL_FD_READWRITE: 1n << 27n,
  SOCK_SHUTDOWN: 1n << 28n,
  SOCK_ACCEPT: 1n << 29n,
} as const;

/** Every right defined by preview1. */
export const RIGHTS_ALL = (1n << 30n) - 1n;

/** Rights that make sense on a regular file descriptor. */
export const RIGHTS_FILE_BASE =
  Rights.FD_DATASYNC | Rights.FD_READ | Rights.FD_SEEK | Rights.FD_FDSTAT_SET_FLAGS |
  Rights.FD_SYNC | Rights.FD_TELL | Rights.FD_WRITE | Rights.FD_ADVISE | Rights.FD_ALLOCATE |
  Rights.FD_FILESTAT_GET | Rights.FD_FILESTAT_SET_SIZE | Rights.FD_FILESTAT_SET_TIMES |
  Rights.POLL_FD_READWRITE;

/** Rights that make sense on a directory descriptor itself. */
export const RIGHTS_DIR_BASE =
  Rights.FD_FDSTAT_SET_FLAGS | Rights.FD_SYNC | Rights.FD_ADVISE |
  Rights.PATH_CREATE_DIRECTORY | Rights.PATH_CREATE_FILE | Rights.PATH_LINK_SOURCE |
  Rights.PATH_LINK_TARGET | Rights.PATH_OPEN | Rights.FD_READDIR | Rights.PATH_READLINK |
  Rights.PATH_RENAME_SOURCE | Rights.PATH_RENAME_TARGET | Rights.PATH_FILESTAT_GET |
  Rights.PATH_FILESTAT_SET_SIZE | Rights.PATH_FILESTAT_SET_TIMES | Rights.FD_FILESTAT_GET |
  Rights.FD_FILESTAT_SET_TIMES | Rights.PATH_SYMLINK | Rights.PATH_REMOVE_DIRECTORY |
  Rights.PATH_UNLINK_FILE | Rights.POLL_FD_READWRITE;

/** What a directory lets descriptors opened through it have. */
export const RIGHTS_DIR_INHERITING = RIGHTS_DIR_BASE | RIGHTS_FILE_BASE;

/** Rights of a terminal, pipe or other stream (no seeking, no sizes). */
export const RIGHTS_STREAM_BASE =
  Rights.FD_READ | Rights.FD_FDSTAT_SET_FLAGS | Rights.FD_WRITE | Rights.FD_FILESTAT_GET |
  Rights.POLL_FD_READWRITE;

/** Rights that need the host file opened for writing. */
export const RIGHTS_NEED_WRITE =
  Rights.FD_WRITE | Rights.FD_ALLOCATE | Rights.FD_FILESTAT_SET_SIZE | Rights.FD_DATASYNC;

/** `clockid` (u32). */
export const ClockId = {
  REALTIME: 0,
  MONOTONIC: 1,
  PROCESS_CPUTIME_ID: 2,
  THREAD_CPUTIME_ID: 3,
} as const;

/** `whence` (u8) of preview1. */
export const WhencePreview1 = { SET: 0, CUR: 1, END: 2 } as const;
/** `whence` (u8) of snapshot 0 (`wasi_unstable`): a different numbering. */
export const WhenceUnstable = { CUR: 0, END: 1, SET: 2 } as const;

/** `filetype` (u8). */
export const FileType = {
  UNKNOWN: 0,
  BLOCK_DEVICE: 1,
  CHARACTER_DEVICE: 2,
  DIRECTORY: 3,
  REGULAR_FILE: 4,
  SOCKET_DGRAM: 5,
  SOCKET_STREAM: 6,
  SYMBOLIC_LINK: 7,
} as const;
export type FileTypeValue = (typeof FileType)[keyof typeof FileType];

/** `advice` (u8): the largest valid value. */
export const ADVICE_MAX = 5;

/** `fdflags` (u16). */
export const FdFlags = {
  APPEND: 1 << 0,
  DSYNC: 1 << 1,
  NONBLOCK: 1 << 2,
  RSYNC: 1 << 3,
  SYNC: 1 << 4,
} as const;
export const FDFLAGS_ALL = 0x1f;

/** `fstflags` (u16). */
export const FstFlags = {
  ATIM: 1 << 0,
  ATIM_NOW: 1 << 1,
  MTIM: 1 << 2,
  MTIM_NOW: 1 << 3,
} as const;

/** `lookupflags` (u32). */
export const LookupFlags = { SYMLINK_FOLLOW: 1 << 0 } as const;

/** `oflags` (u16). */
export const OFlags = {
  CREAT: 1 << 0,
  DIRECTORY: 1 << 1,
  EXCL: 1 << 2,
  TRUNC: 1 << 3,
} as const;
export const OFLAGS_ALL = 0xf;

/** `eventtype` (u8). */
export const EventType = { CLOCK: 0, FD_READ: 1, FD_WRITE: 2 } as const;

/** `subclockflags` (u16). */
export const SubClockFlags = { ABSTIME: 1 << 0 } as const;

/** `preopentype` (u8). */
export const PreopenType = { DIR: 0 } as const;

/** `ciovec` / `iovec`: buf u32 @0, buf_len u32 @4. */
export const IOVEC_SIZE = 8;

/** `fdstat`: filetype u8 @0, flags u16 @2, rights_base u64 @8, rights_inheriting u64 @16. */
export const Fdstat = { SIZE: 24, FILETYPE: 0, FLAGS: 2, RIGHTS_BASE: 8, RIGHTS_INHERITING: 16 } as const;

/** `dirent` header (the name follows it, not NUL-terminated). Same in both snapshots. */
export const Dirent = { SIZE: 24, NEXT: 0, INO: 8, NAMLEN: 16, TYPE: 20 } as const;

/** `prestat`: tag u8 @0, pr_name_len u32 @4. */
export const Prestat = { SIZE: 8, TAG: 0, NAME_LEN: 4 } as const;

/** Offsets of a `filestat` record; `nlinkBits` tells whether nlink is u32 or u64. */
export interface FilestatLayout {
  readonly size: number;
  readonly dev: number;
  readonly ino: number;
  readonly filetype: number;
  readonly nlink: number;
  readonly nlinkBits: 32 | 64;
  readonly fileSize: number;
  readonly atim: number;
  readonly mtim: number;
  readonly ctim: number;
}

/** preview1 `filestat` (64 bytes, nlink u64). */
export const FILESTAT_PREVIEW1: FilestatLayout = {
  size: 64, dev: 0, ino: 8, filetype: 16, nlink: 24, nlinkBits: 64, fileSize: 32, atim: 40, mtim: 48, ctim: 56,
};
/** snapshot 0 `filestat` (56 bytes, nlink u32). */
export const FILESTAT_UNSTABLE: FilestatLayout = {
  size: 56, dev: 0, ino: 8, filetype: 16, nlink: 20, nlinkBits: 32, fileSize: 24, atim: 32, mtim: 40, ctim: 48,
};

/**
 * Offsets of a `subscription` record, from its start: userdata u64 @0, tag u8 @8, then
 * the union payload at 16 (fd_readwrite: fd u32; clock: see below).
 */
export interface SubscriptionLayout {
  readonly size: number;
  readonly userdata: number;
  readonly tag: number;
  readonly fd: number;
  readonly clockId: number;
  readonly clockTimeout: number;
  readonly clockPrecision: number;
  readonly clockFlags: number;
}

/** preview1 `subscription` (48 bytes): clock = id u32, timeout u64, precision u64, flags u16. */
export const SUBSCRIPTION_PREVIEW1: SubscriptionLayout = {
  size: 48, userdata: 0, tag: 8, fd: 16, clockId: 16, clockTimeout: 24, clockPrecision: 32, clockFlags: 40,
};
/** snapshot 0 `subscription` (56 bytes): clock = identifier u64, id u32, timeout, precision, flags. */
export const SUBSCRIPTION_UNSTABLE: SubscriptionLayout = {
  size: 56, userdata: 0, tag: 8, fd: 16, clockId: 24, clockTimeout: 32, clockPrecision: 40, clockFlags: 48,
};

/** `event` (32 bytes, both snapshots): userdata u64 @0, error u16 @8, type u8 @10, nbytes u64 @16, flags u16 @24. */
export const Event = { SIZE: 32, USERDATA: 0, ERROR: 8, TYPE: 10, NBYTES: 16, FLAGS: 24 } as const;

/** `signal` (u8): only `none` matters to us (see `proc_raise`). */
export const Signal = { NONE: 0, MAX: 30 } as const;

/** The layouts and numberings that differ between the two snapshots, bundled per module. */
export interface AbiFlavor {
  readonly module: 'wasi_snapshot_preview1' | 'wasi_unstable';
  readonly filestat: FilestatLayout;
  readonly subscription: SubscriptionLayout;
  readonly whence: { readonly SET: number; readonly CUR: number; readonly END: number };
}

export const PREVIEW1: AbiFlavor = {
  module: 'wasi_snapshot_preview1',
  filestat: FILESTAT_PREVIEW1,
  subscription: SUBSCRIPTION_PREVIEW1,
  whence: WhencePreview1,
};

export const UNSTABLE: AbiFlavor = {
  module: 'wasi_unstable',
  filestat: FILESTAT_UNSTABLE,
  subscription: SUBSCRIPTION_UNSTABLE,
  whence: WhenceUnstable,
};
