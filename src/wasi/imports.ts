import type { AbiFlavor } from './abi.ts';
import { PREVIEW1, UNSTABLE } from './abi.ts';
import * as fd from './calls-fd.ts';
import * as p from './calls-path.ts';
import { pollOneoff } from './calls-poll.ts';
import * as proc from './calls-process.ts';
import type { WasiContext } from './context.ts';
import { errnoOf } from './errno.ts';

/** A host function as the WebAssembly JS API calls it: i32 as number, i64 as bigint. */
export type HostFunction = (...args: any[]) => number | void | Promise<number>;

/** i32 parameter (a guest that declared a wrong type gets garbage, not a JS TypeError). */
const i = (x: unknown): number => Number(x) | 0;
/** i64 parameter. */
const I = (x: unknown): bigint => (typeof x === 'bigint' ? x : BigInt(Math.trunc(Number(x) || 0)));

/**
 * Runs a syscall body and returns its errno: 0 when it returns, the errno it raised (or
 * the mapped Node error) when it fails. Anything else (`ExitError`, bugs) propagates.
 * A body that returns a promise makes the call return a promise of its errno.
 */
function wrap(body: (...args: unknown[]) => void | Promise<void>): HostFunction {
  const errnoFor = (err: unknown): number => {
    const errno = errnoOf(err);
    if (errno === undefined) throw err;
    return errno;
  };
  return (...args: unknown[]): number | Promise<number> => {
    try {
      const pending = body(...args);
      // A call that would block, made asynchronous (`asyncBlocking`): its errno is the promise's value.
      if (pending !== undefined) return pending.then(() => 0, errnoFor);
      return 0;
    } catch (err) {
      return errnoFor(err);
    }
  };
}

/**
 * The functions of one WASI module over `ctx`, with the snapshot's layouts (`abi`).
 * Both modules share every implementation; they differ only in the flavor passed down
 * (whence numbering, filestat and subscription layouts: see abi.ts) and in `sock_accept`,
 * which snapshot 0 lacks.
 */
function moduleFunctions(ctx: WasiContext, abi: AbiFlavor): Record<string, HostFunction> {
  const fns: Record<string, HostFunction> = {
    args_get: wrap((a, b) => proc.argsGet(ctx, i(a), i(b))),
    args_sizes_get: wrap((a, b) => proc.argsSizesGet(ctx, i(a), i(b))),
    environ_get: wrap((a, b) => proc.environGet(ctx, i(a), i(b))),
    environ_sizes_get: wrap((a, b) => proc.environSizesGet(ctx, i(a), i(b))),
    clock_res_get: wrap((id, r) => proc.clockResGet(ctx, i(id), i(r))),
    clock_time_get: wrap((id, prec, r) => proc.clockTimeGet(ctx, i(id), I(prec), i(r))),
    random_get: wrap((b, n) => proc.randomGet(ctx, i(b), i(n))),
    proc_exit: wrap((code) => proc.procExit(ctx, i(code))),
    proc_raise: wrap((sig) => proc.procRaise(ctx, i(sig))),
    sched_yield: wrap(() => proc.schedYield(ctx)),

    fd_advise: wrap((f, off, len, adv) => fd.fdAdvise(ctx, i(f), I(off), I(len), i(adv))),
    fd_allocate: wrap((f, off, len) => fd.fdAllocate(ctx, i(f), I(off), I(len))),
    fd_close: wrap((f) => fd.fdClose(ctx, i(f))),
    fd_datasync: wrap((f) => fd.fdDatasync(ctx, i(f))),
    fd_fdstat_get: wrap((f, r) => fd.fdFdstatGet(ctx, i(f), i(r))),
    fd_fdstat_set_flags: wrap((f, fl) => fd.fdFdstatSetFlags(ctx, i(f), i(fl))),
    fd_fdstat_set_rights: wrap((f, b, inh) => fd.fdFdstatSetRights(ctx, i(f), I(b), I(inh))),
    fd_filestat_get: wrap((f, r) => fd.fdFilestatGet(ctx, abi, i(f), i(r))),
    fd_filestat_set_size: wrap((f, s) => fd.fdFilestatSetSize(ctx, i(f), I(s))),
    fd_filestat_set_times: wrap((f, a, m, fl) => fd.fdFilestatSetTimes(ctx, i(f), I(a), I(m), i(fl))),
    fd_pread: wrap((f, iov, n, off, r) => fd.fdPread(ctx, i(f), i(iov), i(n), I(off), i(r))),
    fd_prestat_get: wrap((f, r) => fd.fdPrestatGet(ctx, i(f), i(r))),
    fd_prestat_dir_name: wrap((f, b, n) => fd.fdPrestatDirName(ctx, i(f), i(b), i(n))),
    fd_pwrite: wrap((f, iov, n, off, r) => fd.fdPwrite(ctx, i(f), i(iov), i(n), I(off), i(r))),
    fd_read: wrap((f, iov, n, r) => fd.fdRead(ctx, i(f), i(iov), i(n), i(r))),
    fd_readdir: wrap((f, b, n, c, r) => fd.fdReaddir(ctx, i(f), i(b), i(n), I(c), i(r))),
    fd_renumber: wrap((f, to) => fd.fdRenumber(ctx, i(f), i(to))),
    fd_seek: wrap((f, off, wh, r) => fd.fdSeek(ctx, abi, i(f), I(off), i(wh), i(r))),
    fd_sync: wrap((f) => fd.fdSync(ctx, i(f))),
    fd_tell: wrap((f, r) => fd.fdTell(ctx, i(f), i(r))),
    fd_write: wrap((f, iov, n, r) => fd.fdWrite(ctx, i(f), i(iov), i(n), i(r))),

    path_create_directory: wrap((f, ptr, len) => p.pathCreateDirectory(ctx, i(f), i(ptr), i(len))),
    path_filestat_get: wrap((f, fl, ptr, len, r) => p.pathFilestatGet(ctx, abi, i(f), i(fl), i(ptr), i(len), i(r))),
    path_filestat_set_times: wrap((f, fl, ptr, len, a, m, fst) =>
      p.pathFilestatSetTimes(ctx, i(f), i(fl), i(ptr), i(len), I(a), I(m), i(fst))),
    path_link: wrap((of, ofl, op, ol, nf, np, nl) =>
      p.pathLink(ctx, i(of), i(ofl), i(op), i(ol), i(nf), i(np), i(nl))),
    path_open: wrap((f, dfl, ptr, len, ofl, rb, ri, fdfl, r) =>
      p.pathOpen(ctx, i(f), i(dfl), i(ptr), i(len), i(ofl), I(rb), I(ri), i(fdfl), i(r))),
    path_readlink: wrap((f, ptr, len, b, bl, r) => p.pathReadlink(ctx, i(f), i(ptr), i(len), i(b), i(bl), i(r))),
    path_remove_directory: wrap((f, ptr, len) => p.pathRemoveDirectory(ctx, i(f), i(ptr), i(len))),
    path_rename: wrap((of, op, ol, nf, np, nl) => p.pathRename(ctx, i(of), i(op), i(ol), i(nf), i(np), i(nl))),
    path_symlink: wrap((op, ol, f, np, nl) => p.pathSymlink(ctx, i(op), i(ol), i(f), i(np), i(nl))),
    path_unlink_file: wrap((f, ptr, len) => p.pathUnlinkFile(ctx, i(f), i(ptr), i(len))),

    poll_oneoff: wrap((inp, out, n, r) => pollOneoff(ctx, abi, i(inp), i(out), i(n), i(r))),

    sock_recv: wrap((f) => proc.sockUnsupported(ctx, i(f))),
    sock_send: wrap((f) => proc.sockUnsupported(ctx, i(f))),
    sock_shutdown: wrap((f) => proc.sockUnsupported(ctx, i(f))),
  };
  if (abi === PREVIEW1) fns['sock_accept'] = wrap((f) => proc.sockUnsupported(ctx, i(f)));
  return fns;
}

/** Import objects for both WASI modules over one context (they share the fd table). */
export function buildImports(ctx: WasiContext): Record<string, Record<string, HostFunction>> {
  return {
    [PREVIEW1.module]: moduleFunctions(ctx, PREVIEW1),
    [UNSTABLE.module]: moduleFunctions(ctx, UNSTABLE),
  };
}
