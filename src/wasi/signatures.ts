/**
 * The core WebAssembly type of every WASI function, as the witx files lower them: every
 * handle, pointer, length, enum and flag set is an i32, every 64-bit quantity (file
 * sizes, offsets, timestamps, rights, cookies) an i64, and every function but
 * `proc_exit` returns its errno as an i32. The two snapshots agree on every signature;
 * only `sock_accept` is missing from `wasi_unstable`.
 *
 * A module that declares one of them with another type is refused at link time (as
 * wasmtime does): the host would otherwise read its arguments as garbage.
 * @see https://github.com/WebAssembly/WASI/blob/main/legacy/preview1/docs.md
 * @module
 */
import { ValType, valTypeName } from '../wasm/index.ts';
import type { FuncType } from '../wasm/index.ts';
import { PREVIEW1, UNSTABLE } from './abi.ts';

/** Parameter types, one letter each: `i` = i32, `I` = i64. The result is one i32 unless said. */
const PARAMS: Readonly<Record<string, string>> = {
  args_get: 'ii',
  args_sizes_get: 'ii',
  environ_get: 'ii',
  environ_sizes_get: 'ii',
  clock_res_get: 'ii',
  clock_time_get: 'iIi',
  random_get: 'ii',
  proc_exit: 'i',
  proc_raise: 'i',
  sched_yield: '',

  fd_advise: 'iIIi',
  fd_allocate: 'iII',
  fd_close: 'i',
  fd_datasync: 'i',
  fd_fdstat_get: 'ii',
  fd_fdstat_set_flags: 'ii',
  fd_fdstat_set_rights: 'iII',
  fd_filestat_get: 'ii',
  fd_filestat_set_size: 'iI',
  fd_filestat_set_times: 'iIIi',
  fd_pread: 'iiiIi',
  fd_prestat_get: 'ii',
  fd_prestat_dir_name: 'iii',
  fd_pwrite: 'iiiIi',
  fd_read: 'iiii',
  fd_readdir: 'iiiIi',
  fd_renumber: 'ii',
  fd_seek: 'iIii',
  fd_sync: 'i',
  fd_tell: 'ii',
  fd_write: 'iiii',

  path_create_directory: 'iii',
  path_filestat_get: 'iiiii',
  path_filestat_set_times: 'iiiiIIi',
  path_link: 'iiiiiii',
  path_open: 'iiiiiIIii',
  path_readlink: 'iiiiii',
  path_remove_directory: 'iii',
  path_rename: 'iiiiii',
  path_symlink: 'iiiii',
  path_unlink_file: 'iii',

  poll_oneoff: 'iiii',

  sock_accept: 'iii',
  sock_recv: 'iiiiii',
  sock_send: 'iiiii',
  sock_shutdown: 'ii',
};

/** Functions without a result. */
const NO_RESULT = new Set(['proc_exit']);

function typeOf(name: string): FuncType | undefined {
  const params = PARAMS[name];
  if (params === undefined) return undefined;
  return {
    params: [...params].map((c) => (c === 'I' ? ValType.i64 : ValType.i32)),
    results: NO_RESULT.has(name) ? [] : [ValType.i32],
  };
}

/**
 * The type `module.name` must be imported with, or undefined when `module` is not a WASI
 * module or has no function of that name.
 */
export function wasiFuncType(module: string, name: string): FuncType | undefined {
  if (module === PREVIEW1.module) return typeOf(name);
  if (module === UNSTABLE.module) return name === 'sock_accept' ? undefined : typeOf(name);
  return undefined;
}

/** `(i32, i64) -> i32`, as link errors show a signature. */
export function formatFuncType(t: FuncType): string {
  const list = (ts: readonly number[]): string => ts.map(valTypeName).join(', ');
  const results = t.results.length === 1 ? list(t.results) : `(${list(t.results)})`;
  return `(${list(t.params)}) -> ${results}`;
}

/** Whether two function types are the same. */
export function sameFuncType(a: FuncType, b: FuncType): boolean {
  return (
    a.params.length === b.params.length &&
    a.results.length === b.results.length &&
    a.params.every((t, i) => t === b.params[i]) &&
    a.results.every((t, i) => t === b.results[i])
  );
}
