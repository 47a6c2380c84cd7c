/** Syscall-level tests of WasiHost through a real WebAssembly.Memory (no guest module). */
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ExitError } from '../../src/errors/index.ts';
import { Errno, FileType, OFlags, Rights, FdFlags, WhenceUnstable, WhencePreview1 } from '../../src/wasi/abi.ts';
import { makeGuest, PREOPEN_FD, RESULT } from './helpers/guest.ts';

const OUT_OF_BOUNDS = 0x7fff_fff0;

test('args and environ: sizes, pointers and NUL-terminated strings', () => {
  const g = makeGuest();
  try {
    assert.is(g.call('args_sizes_get', RESULT, RESULT + 4), 0);
    assert.is(g.u32(RESULT), 2);
    assert.is(g.u32(RESULT + 4), 'prog\0arg one\0'.length);
    assert.is(g.call('args_get', 2000, 3000), 0);
    assert.is(g.u32(2000), 3000);
    assert.is(g.u32(2004), 3005);
    assert.is(g.text(3000, 13), 'prog\0arg one\0');
    assert.is(g.call('environ_sizes_get', RESULT, RESULT + 4), 0);
    assert.is(g.u32(RESULT), 2);
    assert.is(g.u32(RESULT + 4), 'A=1\0B=two\0'.length);
    assert.is(g.call('environ_get', 2000, 3000), 0);
    assert.is(g.text(g.u32(2004), 6), 'B=two\0');
    assert.is(g.call('args_get', OUT_OF_BOUNDS, 3000), Errno.FAULT);
  } finally {
    g.dispose();
  }
});

test('clocks: monotonic never goes back, realtime is now, unknown clock is EINVAL', () => {
  const g = makeGuest();
  try {
    assert.is(g.call('clock_time_get', 1, 0n, RESULT), 0);
    const a = g.u64(RESULT);
    assert.is(g.call('clock_time_get', 1, 1000n, RESULT), 0);
    assert.ok(g.u64(RESULT) >= a);
    assert.is(g.call('clock_time_get', 0, 0n, RESULT), 0);
    const wall = Number(g.u64(RESULT) / 1_000_000n);
    assert.ok(Math.abs(wall - Date.now()) < 5000);
    for (const id of [2, 3]) assert.is(g.call('clock_time_get', id, 0n, RESULT), 0);
    assert.is(g.call('clock_time_get', 9, 0n, RESULT), Errno.INVAL);
    assert.is(g.call('clock_res_get', 1, RESULT), 0);
    assert.ok(g.u64(RESULT) > 0n);
    assert.is(g.call('clock_res_get', 4, RESULT), Errno.INVAL);
    assert.is(g.call('clock_time_get', 1, 0n, OUT_OF_BOUNDS), Errno.FAULT);
  } finally {
    g.dispose();
  }
});

test('random_get fills exactly the buffer; a bad buffer is EFAULT', () => {
  const g = makeGuest();
  try {
    new Uint8Array(g.memory.buffer).fill(0, 4000, 4200);
    assert.is(g.call('random_get', 4000, 128), 0);
    const got = g.read(4000, 129);
    assert.ok(got.subarray(0, 128).some((b) => b !== 0));
    assert.is(got[128], 0);
    assert.is(g.call('random_get', 65530, 100), Errno.FAULT);
  } finally {
    g.dispose();
  }
});

test('fd_write to stdout; bad iovecs are EFAULT and write nothing', () => {
  const g = makeGuest();
  try {
    const [p, n] = g.str('hello\n');
    assert.is(g.call('fd_write', 1, g.iovec(p, n), 1, RESULT), 0);
    assert.is(g.u32(RESULT), 6);
    assert.is(g.call('fd_write', 1, g.iovec(65000, 1000), 1, RESULT), Errno.FAULT);
    assert.is(g.call('fd_write', 1, OUT_OF_BOUNDS, 1, RESULT), Errno.FAULT);
    assert.is(g.call('fd_write', 1, g.iovec(p, n), 1, -4), Errno.FAULT);
    assert.is(g.call('fd_write', 42, g.iovec(p, n), 1, RESULT), Errno.BADF);
    assert.is(g.stdout(), 'hello\n');
  } finally {
    g.dispose();
  }
});

test('memory.grow: the host re-reads the buffer', () => {
  const g = makeGuest();
  try {
    assert.is(g.call('random_get', 70000, 16), Errno.FAULT);
    g.memory.grow(1);
    assert.is(g.call('random_get', 70000, 16), 0);
  } finally {
    g.dispose();
  }
});

test('prestat: the preopen name; non-preopens are EBADF', () => {
  const g = makeGuest();
  try {
    assert.is(g.call('fd_prestat_get', PREOPEN_FD, RESULT), 0);
    assert.is(g.u8(RESULT), 0);
    assert.is(g.u32(RESULT + 4), 1);
    assert.is(g.call('fd_prestat_dir_name', PREOPEN_FD, 5000, 1), 0);
    assert.is(g.text(5000, 1), '.');
    assert.is(g.call('fd_prestat_dir_name', PREOPEN_FD, 5000, 0), Errno.NOBUFS);
    assert.is(g.call('fd_prestat_get', 1, RESULT), Errno.BADF);
    assert.is(g.call('fd_prestat_get', 4, RESULT), Errno.BADF);
  } finally {
    g.dispose();
  }
});

test('path_open + fd_read/fd_seek/fd_tell/fd_pread on a regular file', () => {
  const g = makeGuest();
  try {
    fs.writeFileSync(path.join(g.root, 'f.txt'), '0123456789');
    const fd = g.open('f.txt');
    assert.is(fd, 4);
    assert.is(g.call('fd_read', fd, g.iovec(6000, 4), 1, RESULT), 0);
    assert.is(g.u32(RESULT), 4);
    assert.is(g.text(6000, 4), '0123');
    assert.is(g.call('fd_tell', fd, RESULT), 0);
    assert.is(g.u64(RESULT), 4n);
    assert.is(g.call('fd_seek', fd, -2n, WhencePreview1.END, RESULT), 0);
    assert.is(g.u64(RESULT), 8n);
    assert.is(g.call('fd_seek', fd, -100n, WhencePreview1.CUR, RESULT), Errno.INVAL);
    assert.is(g.call('fd_seek', fd, 0n, 7, RESULT), Errno.INVAL);
    assert.is(g.call('fd_pread', fd, g.iovec(6000, 3), 1, 1n, RESULT), 0);
    assert.is(g.text(6000, 3), '123');
    assert.is(g.call('fd_tell', fd, RESULT), 0);
    assert.is(g.u64(RESULT), 8n);
    assert.is(g.call('fd_read', fd, g.iovec(6000, 100), 1, RESULT), 0);
    assert.is(g.u32(RESULT), 2);
    assert.is(g.call('fd_read', fd, g.iovec(6000, 100), 1, RESULT), 0);
    assert.is(g.u32(RESULT), 0, 'end of file');
    // Streams have no seek right (wasi-libc turns that into ESPIPE).
    assert.is(g.call('fd_seek', 1, 0n, 0, RESULT), Errno.NOTCAPABLE);
    assert.is(g.call('fd_close', fd), 0);
    assert.is(g.call('fd_close', fd), Errno.BADF);
  } finally {
    g.dispose();
  }
});

test('fd_write with append, sizes, allocate, set_times, fdstat', () => {
  const g = makeGuest();
  try {
    const fd = g.open('w.txt', OFlags.CREAT | OFlags.TRUNC, (1n << 30n) - 1n, FdFlags.APPEND);
    const [p, n] = g.str('abc');
    assert.is(g.call('fd_write', fd, g.iovec(p, n), 1, RESULT), 0);
    assert.is(g.call('fd_seek', fd, 0n, 0, RESULT), 0);
    assert.is(g.call('fd_write', fd, g.iovec(p, n), 1, RESULT), 0);
    assert.is(fs.readFileSync(path.join(g.root, 'w.txt'), 'utf8'), 'abcabc');
    assert.is(g.call('fd_fdstat_get', fd, RESULT), 0);
    assert.is(g.u8(RESULT), FileType.REGULAR_FILE);
    assert.is(g.u16(RESULT + 2), FdFlags.APPEND);
    assert.is(g.call('fd_fdstat_set_flags', fd, 0), 0);
    assert.is(g.call('fd_seek', fd, 0n, 0, RESULT), 0);
    const [z] = g.str('Z');
    assert.is(g.call('fd_write', fd, g.iovec(z, 1), 1, RESULT), 0);
    assert.is(fs.readFileSync(path.join(g.root, 'w.txt'), 'utf8'), 'Zbcabc', 'no longer appending');
    assert.is(g.call('fd_filestat_set_size', fd, 2n), 0);
    assert.is(fs.statSync(path.join(g.root, 'w.txt')).size, 2);
    assert.is(g.call('fd_allocate', fd, 0n, 100n), 0);
    assert.is(fs.statSync(path.join(g.root, 'w.txt')).size, 100);
    assert.is(g.call('fd_filestat_set_times', fd, 5_000_000_000n, 7_000_000_000n, 1 | 4), 0);
    assert.is(fs.statSync(path.join(g.root, 'w.txt')).mtimeMs, 7000);
    assert.is(g.call('fd_filestat_set_times', fd, 0n, 0n, 1 | 2), Errno.INVAL);
    assert.is(g.call('fd_filestat_get', fd, RESULT), 0);
    assert.is(g.u8(RESULT + 16), FileType.REGULAR_FILE);
    assert.is(g.u64(RESULT + 32), 100n);
    assert.is(g.u64(RESULT + 48), 7_000_000_000n);
    assert.is(g.call('fd_advise', fd, 0n, 0n, 2), 0);
    assert.is(g.call('fd_advise', fd, 0n, 0n, 9), Errno.INVAL);
    assert.is(g.call('fd_sync', fd), 0);
    assert.is(g.call('fd_datasync', fd), 0);
    assert.is(g.call('fd_sync', PREOPEN_FD), 0);
  } finally {
    g.dispose();
  }
});

test('rights: dropped rights are enforced, rights can never be added back', () => {
  const g = makeGuest();
  try {
    fs.writeFileSync(path.join(g.root, 'r.txt'), 'data');
    const fd = g.open('r.txt', 0, Rights.FD_READ | Rights.FD_SEEK | Rights.FD_TELL | Rights.FD_FDSTAT_SET_FLAGS);
    const [p, n] = g.str('x');
    assert.is(g.call('fd_write', fd, g.iovec(p, n), 1, RESULT), Errno.NOTCAPABLE);
    assert.is(g.call('fd_fdstat_set_rights', fd, Rights.FD_READ, 0n), 0);
    assert.is(g.call('fd_seek', fd, 1n, 0, RESULT), Errno.NOTCAPABLE);
    assert.is(g.call('fd_fdstat_set_rights', fd, Rights.FD_READ | Rights.FD_SEEK, 0n), Errno.NOTCAPABLE);
    assert.is(g.call('fd_read', fd, g.iovec(6000, 4), 1, RESULT), 0);
    assert.is(g.text(6000, 4), 'data');
    // A file has no directory rights, whatever was asked for.
    assert.is(g.call('fd_fdstat_get', g.open('r.txt'), RESULT), 0);
    assert.is(g.u64(RESULT + 8) & Rights.PATH_OPEN, 0n);
    assert.is(g.u64(RESULT + 16), 0n);
  } finally {
    g.dispose();
  }
});

test('path_open flags: excl, directory, trunc, missing, dir for writing', () => {
  const g = makeGuest();
  try {
    fs.writeFileSync(path.join(g.root, 'e.txt'), 'xyz');
    fs.mkdirSync(path.join(g.root, 'sub'));
    const open = (p: string, oflags: number, rights = (1n << 30n) - 1n): number => {
      const [ptr, len] = g.str(p);
      return g.call('path_open', PREOPEN_FD, 1, ptr, len, oflags, rights, rights, 0, RESULT);
    };
    assert.is(open('e.txt', OFlags.CREAT | OFlags.EXCL), Errno.EXIST);
    assert.is(open('e.txt', OFlags.DIRECTORY), Errno.NOTDIR);
    assert.is(open('nope', 0), Errno.NOENT);
    assert.is(open('sub', 0), Errno.ISDIR);
    assert.is(open('sub', OFlags.DIRECTORY, Rights.FD_READDIR | Rights.PATH_OPEN), 0);
    assert.is(open('e.txt', OFlags.TRUNC), 0);
    assert.is(fs.statSync(path.join(g.root, 'e.txt')).size, 0);
    assert.is(open('e.txt', 0x100), Errno.INVAL);
    assert.is(g.call('path_open', 1, 1, ...g.str('e.txt'), 0, 0n, 0n, 0, RESULT), Errno.NOTCAPABLE);
    assert.is(g.call('path_open', 99, 1, ...g.str('e.txt'), 0, 0n, 0n, 0, RESULT), Errno.BADF);
    assert.is(g.call('path_open', PREOPEN_FD, 1, OUT_OF_BOUNDS, 5, 0, 0n, 0n, 0, RESULT), Errno.FAULT);
    assert.is(g.call('path_open', PREOPEN_FD, 1, ...g.str('e.txt'), 0, 0n, 0n, 0, OUT_OF_BOUNDS), Errno.FAULT);
    const [bad, badLen] = g.bytes(new Uint8Array([0xff, 0xfe]));
    assert.is(g.call('path_open', PREOPEN_FD, 1, bad, badLen, 0, 0n, 0n, 0, RESULT), Errno.ILSEQ);
  } finally {
    g.dispose();
  }
});

test('path calls: mkdir, filestat, symlink, readlink, link, rename, unlink, rmdir', () => {
  const g = makeGuest();
  try {
    const P = PREOPEN_FD;
    assert.is(g.call('path_create_directory', P, ...g.str('d')), 0);
    assert.is(g.call('path_create_directory', P, ...g.str('d')), Errno.EXIST);
    fs.writeFileSync(path.join(g.root, 'd', 'f'), 'hello');
    assert.is(g.call('path_filestat_get', P, 1, ...g.str('d/f'), RESULT), 0);
    assert.is(g.u8(RESULT + 16), FileType.REGULAR_FILE);
    assert.is(g.u64(RESULT + 24), 1n);
    assert.is(g.u64(RESULT + 32), 5n);
    assert.is(g.call('path_symlink', ...g.str('f'), P, ...g.str('d/l')), 0);
    assert.is(g.call('path_filestat_get', P, 0, ...g.str('d/l'), RESULT), 0);
    assert.is(g.u8(RESULT + 16), FileType.SYMBOLIC_LINK);
    assert.is(g.call('path_filestat_get', P, 1, ...g.str('d/l'), RESULT), 0);
    assert.is(g.u8(RESULT + 16), FileType.REGULAR_FILE);
    assert.is(g.call('path_readlink', P, ...g.str('d/l'), 7000, 64, RESULT), 0);
    assert.is(g.u32(RESULT), 1);
    assert.is(g.text(7000, 1), 'f');
    assert.is(g.call('path_readlink', P, ...g.str('d/f'), 7000, 64, RESULT), Errno.INVAL);
    assert.is(g.call('path_link', P, 0, ...g.str('d/f'), P, ...g.str('d/h')), 0);
    assert.is(fs.statSync(path.join(g.root, 'd', 'h')).nlink, 2);
    assert.is(g.call('path_rename', P, ...g.str('d/h'), P, ...g.str('h2')), 0);
    assert.ok(fs.existsSync(path.join(g.root, 'h2')));
    assert.is(g.call('path_unlink_file', P, ...g.str('h2')), 0);
    assert.is(g.call('path_unlink_file', P, ...g.str('d')), Errno.ISDIR);
    assert.is(g.call('path_unlink_file', P, ...g.str('d/f/')), Errno.NOTDIR);
    assert.is(g.call('path_remove_directory', P, ...g.str('d')), Errno.NOTEMPTY);
    assert.is(g.call('path_remove_directory', P, ...g.str('d/f')), Errno.NOTDIR);
    assert.is(g.call('path_remove_directory', P, ...g.str('.')), Errno.INVAL);
    assert.is(g.call('path_filestat_set_times', P, 1, ...g.str('d/f'), 0n, 3_000_000_000n, 4), 0);
    assert.is(fs.statSync(path.join(g.root, 'd', 'f')).mtimeMs, 3000);
    for (const f of ['l', 'f']) assert.is(g.call('path_unlink_file', P, ...g.str(`d/${f}`)), 0);
    assert.is(g.call('path_remove_directory', P, ...g.str('d')), 0);
    assert.is(g.call('path_filestat_get', P, 1, ...g.str('d'), RESULT), Errno.NOENT);
    assert.is(g.call('path_filestat_get', P, 1, ...g.str(''), RESULT), Errno.NOENT);
  } finally {
    g.dispose();
  }
});

test('fd_readdir: dot entries, dirent layout, cookies, truncated last record', () => {
  const g = makeGuest();
  try {
    fs.writeFileSync(path.join(g.root, 'b'), 'x');
    fs.mkdirSync(path.join(g.root, 'a'));
    const BUF = 8000;
    assert.is(g.call('fd_readdir', PREOPEN_FD, BUF, 4096, 0n, RESULT), 0);
    const used = g.u32(RESULT);
    const entries: { next: bigint; name: string; type: number }[] = [];
    for (let at = BUF; at < BUF + used; ) {
      const namlen = g.u32(at + 16);
      entries.push({ next: g.u64(at), type: g.u8(at + 20), name: g.text(at + 24, namlen) });
      at += 24 + namlen;
    }
    assert.equal(entries.map((e) => e.name), ['.', '..', 'a', 'b']);
    assert.equal(entries.map((e) => e.next), [1n, 2n, 3n, 4n]);
    assert.equal(entries.map((e) => e.type), [FileType.DIRECTORY, FileType.DIRECTORY, FileType.DIRECTORY, FileType.REGULAR_FILE]);
    assert.is(used, 4 * 24 + 1 + 2 + 1 + 1);
    // From cookie 3, into a buffer too small for the record: filled to the brim.
    assert.is(g.call('fd_readdir', PREOPEN_FD, BUF, 10, 3n, RESULT), 0);
    assert.is(g.u32(RESULT), 10);
    assert.is(g.u64(BUF), 4n);
    assert.is(g.call('fd_readdir', PREOPEN_FD, BUF, 100, 4n, RESULT), 0);
    assert.is(g.u32(RESULT), 0, 'past the end');
    assert.is(g.call('fd_readdir', 1, BUF, 100, 0n, RESULT), Errno.NOTCAPABLE);
  } finally {
    g.dispose();
  }
});

test('fd_renumber moves an fd and closes the target', () => {
  const g = makeGuest();
  try {
    fs.writeFileSync(path.join(g.root, 'a'), 'A');
    fs.writeFileSync(path.join(g.root, 'b'), 'B');
    const a = g.open('a');
    const b = g.open('b');
    assert.is(g.call('fd_renumber', a, b), 0);
    assert.is(g.call('fd_read', b, g.iovec(6000, 1), 1, RESULT), 0);
    assert.is(g.text(6000, 1), 'A');
    assert.is(g.call('fd_read', a, g.iovec(6000, 1), 1, RESULT), Errno.BADF);
    assert.is(g.call('fd_renumber', a, b), Errno.BADF);
    assert.is(g.call('fd_renumber', b, 77), Errno.BADF);
  } finally {
    g.dispose();
  }
});

test('poll_oneoff: relative and absolute clocks sleep; fds are ready at once', () => {
  const g = makeGuest();
  try {
    const SUB = 10000;
    const OUT = 12000;
    const v = () => new DataView(g.memory.buffer);
    const clockSub = (at: number, userdata: bigint, timeout: bigint, flags: number, id = 1): void => {
      v().setBigUint64(at, userdata, true);
      v().setUint8(at + 8, 0);
      v().setUint32(at + 16, id, true);
      v().setBigUint64(at + 24, timeout, true);
      v().setUint16(at + 40, flags, true);
    };
    clockSub(SUB, 11n, 20_000_000n, 0);
    clockSub(SUB + 48, 12n, 5_000_000_000n, 0);
    let t = process.hrtime.bigint();
    assert.is(g.call('poll_oneoff', SUB, OUT, 2, RESULT), 0);
    assert.ok(process.hrtime.bigint() - t >= 20_000_000n);
    assert.is(g.u32(RESULT), 1);
    assert.is(g.u64(OUT), 11n);
    assert.is(g.u16(OUT + 8), 0);
    assert.is(g.u8(OUT + 10), 0);

    assert.is(g.call('clock_time_get', 1, 0n, RESULT), 0);
    clockSub(SUB, 13n, g.u64(RESULT) + 10_000_000n, 1);
    assert.is(g.call('poll_oneoff', SUB, OUT, 1, RESULT), 0);
    assert.is(g.call('clock_time_get', 1, 0n, RESULT + 8), 0);
    assert.ok(g.u64(RESULT + 8) >= g.u64(SUB + 24), 'woke at or after the deadline');
    assert.is(g.u64(OUT), 13n);

    fs.writeFileSync(path.join(g.root, 'p'), '12345');
    const fd = g.open('p');
    clockSub(SUB, 1n, 10_000_000_000n, 0);
    v().setBigUint64(SUB + 48, 2n, true);
    v().setUint8(SUB + 56, 1);
    v().setUint32(SUB + 64, fd, true);
    v().setBigUint64(SUB + 96, 3n, true);
    v().setUint8(SUB + 104, 2);
    v().setUint32(SUB + 112, 99, true);
    t = process.hrtime.bigint();
    assert.is(g.call('poll_oneoff', SUB, OUT, 3, RESULT), 0);
    assert.ok(process.hrtime.bigint() - t < 1_000_000_000n, 'did not wait for the clock');
    assert.is(g.u32(RESULT), 2);
    assert.is(g.u64(OUT), 2n);
    assert.is(g.u64(OUT + 16), 5n, 'nbytes left to read');
    assert.is(g.u64(OUT + 32), 3n);
    assert.is(g.u16(OUT + 40), Errno.BADF);
    assert.is(g.call('poll_oneoff', SUB, OUT, 0, RESULT), Errno.INVAL);
    assert.is(g.call('poll_oneoff', 65530, OUT, 1, RESULT), Errno.FAULT);
  } finally {
    g.dispose();
  }
});

test('proc_exit throws ExitError and records the status; proc_raise, sched_yield, sockets', () => {
  const g = makeGuest();
  try {
    assert.throws(() => g.call('proc_exit', 7), (e: unknown) => e instanceof ExitError && e.status === 7);
    assert.is(g.host.exitCode, 7);
    assert.is(g.call('proc_raise', 0), 0);
    assert.is(g.call('proc_raise', 15), Errno.NOSYS);
    assert.is(g.call('sched_yield'), 0);
    assert.is(g.call('sock_accept', 1, 0, RESULT), Errno.NOTSUP);
    assert.is(g.call('sock_recv', 1, 0, 0, 0, RESULT, RESULT + 4), Errno.NOTSUP);
    assert.is(g.call('sock_send', 50, 0, 0, 0, RESULT), Errno.BADF);
    assert.is(g.call('sock_shutdown', 1, 3), Errno.NOTSUP);
  } finally {
    g.dispose();
  }
});

test('stdin on a non-blocking pipe: EAGAIN is waited out, nonblock mode reports it, EOF is 0', async () => {
  const dir = fs.mkdtempSync(path.join(tmpdir(), 'wasmig-wasi-fifo-'));
  const fifo = path.join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  const reader = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  const writer = fs.openSync(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
  const g = makeGuest({ stdin: reader });
  try {
    assert.is(g.call('fd_fdstat_set_flags', 0, FdFlags.NONBLOCK), 0);
    assert.is(g.call('fd_read', 0, g.iovec(6000, 64), 1, RESULT), Errno.AGAIN);
    assert.is(g.call('fd_fdstat_set_flags', 0, 0), 0);
    const child = spawn('sh', ['-c', `sleep 0.2; printf 'late data' > '${fifo}'`], { stdio: 'ignore' });
    const t = Date.now();
    assert.is(g.call('fd_read', 0, g.iovec(6000, 64), 1, RESULT), 0);
    assert.ok(Date.now() - t >= 100, 'waited for the writer');
    assert.is(g.text(6000, g.u32(RESULT)), 'late data');
    await new Promise((resolve) => child.on('exit', resolve));
    fs.closeSync(writer);
    assert.is(g.call('fd_read', 0, g.iovec(6000, 64), 1, RESULT), 0);
    assert.is(g.u32(RESULT), 0, 'end of input');
  } finally {
    g.dispose();
    fs.closeSync(reader);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('wasi_unstable: its whence numbering and 56-byte filestat', () => {
  const g = makeGuest();
  try {
    fs.writeFileSync(path.join(g.root, 'u'), '0123456789');
    const fd = g.open('u');
    assert.is(g.callUnstable('fd_seek', fd, -3n, WhenceUnstable.END, RESULT), 0);
    assert.is(g.u64(RESULT), 7n);
    assert.is(g.callUnstable('fd_seek', fd, 1n, WhenceUnstable.CUR, RESULT), 0);
    assert.is(g.u64(RESULT), 8n);
    assert.is(g.callUnstable('fd_seek', fd, 2n, WhenceUnstable.SET, RESULT), 0);
    assert.is(g.u64(RESULT), 2n);
    new Uint8Array(g.memory.buffer).fill(0xaa, RESULT, RESULT + 80);
    assert.is(g.callUnstable('fd_filestat_get', fd, RESULT), 0);
    assert.is(g.u8(RESULT + 16), FileType.REGULAR_FILE);
    assert.is(g.u32(RESULT + 20), 1);
    assert.is(g.u64(RESULT + 24), 10n);
    assert.is(g.u8(RESULT + 56), 0xaa, 'nothing written past 56 bytes');
    assert.is(g.callUnstable('path_filestat_get', PREOPEN_FD, 1, ...g.str('u'), RESULT), 0);
    assert.is(g.u64(RESULT + 24), 10n);
    assert.is(typeof g.host.imports['wasi_unstable']?.['sock_accept'], 'undefined');
  } finally {
    g.dispose();
  }
});

test.run();
