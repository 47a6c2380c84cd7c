/**
 * The in-memory file system under the WASI calls: the same syscall scenario on a host
 * directory and on an in-memory one must give the same errnos, sizes, offsets and
 * listings (the host is the reference); then what only the in-memory one has: its bound,
 * its content captured into the WASI state and restored bit-exact with open fds and
 * offsets, and a corrupt file table refused in one line.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SnapshotError, UsageError } from '../../src/errors/index.ts';
import { Errno, FdFlags, FileType, OFlags, Rights, RIGHTS_NEED_WRITE, WhencePreview1 } from '../../src/wasi/abi.ts';
import { MemFs, WasiHost, listMemFs, validateWasiState } from '../../src/wasi/index.ts';
import type { MemFsState, WasiState } from '../../src/wasi/index.ts';
import { makeGuest, PREOPEN_FD, RESULT } from './helpers/guest.ts';
import type { Guest } from './helpers/guest.ts';
import { Seeded } from '../helpers/seeded.ts';

const P = PREOPEN_FD;
const ALL = (1n << 30n) - 1n;
/** What a directory may be opened with: no right that needs write access (EISDIR). */
const DIR = ALL & ~RIGHTS_NEED_WRITE;

/** A guest whose fd 3 is an in-memory directory named "." (its temp host root unused). */
function memGuest(maxBytes?: number, files?: MemFsState): Guest {
  return makeGuest({ preopens: [], memDirs: [{ guest: '.', maxBytes, files }] });
}

/** A state but for its clocks, which move on between two captures. */
function withoutClock(s: WasiState): unknown {
  return { ...s, clock: null };
}

function readdir(g: Guest, fd: number): string[] {
  const BUF = 20_000;
  assert.is(g.call('fd_readdir', fd, BUF, 8192, 0n, RESULT), 0);
  const used = g.u32(RESULT);
  const out: string[] = [];
  for (let at = BUF; at < BUF + used; ) {
    const namlen = g.u32(at + 16);
    out.push(`${g.text(at + 24, namlen)}:${g.u8(at + 20)}`);
    at += 24 + namlen;
  }
  return out;
}

/** Errno of a path_open (the new fd in RESULT on success). */
function open(g: Guest, dir: number, p: string, oflags = 0, rights = ALL, fdflags = 0, lookup = 1): number {
  return g.call('path_open', dir, lookup, ...g.str(p), oflags, rights, ALL, fdflags, RESULT);
}

function write(g: Guest, fd: number, text: string): number {
  const [p, n] = g.str(text);
  const errno = g.call('fd_write', fd, g.iovec(p, n), 1, RESULT);
  return errno === 0 ? g.u32(RESULT) : -errno;
}

function read(g: Guest, fd: number, n: number): string {
  const errno = g.call('fd_read', fd, g.iovec(9000, n), 1, RESULT);
  return errno === 0 ? g.text(9000, g.u32(RESULT)) : `errno ${errno}`;
}

/**
 * A tour of the file calls, logging what the guest sees that does not depend on the
 * machine (errnos, sizes, offsets, file types, listings; not inode numbers or times).
 */
function scenario(g: Guest): string[] {
  const log: string[] = [];
  const say = (what: string, v: unknown): void => { log.push(`${what}: ${String(v)}`); };
  const stat = (p: string, follow = 1): string => {
    const e = g.call('path_filestat_get', P, follow, ...g.str(p), RESULT);
    return e === 0 ? `type ${g.u8(RESULT + 16)} nlink ${g.u64(RESULT + 24)}${g.u8(RESULT + 16) === FileType.DIRECTORY ? '' : ` size ${g.u64(RESULT + 32)}`}` : `errno ${e}`;
  };
  say('mkdir d', g.call('path_create_directory', P, ...g.str('d')));
  say('mkdir d again', g.call('path_create_directory', P, ...g.str('d')));
  say('mkdir missing/x', g.call('path_create_directory', P, ...g.str('missing/x')));
  say('open missing', open(g, P, 'd/nothing'));
  say('create d/a', open(g, P, 'd/a', OFlags.CREAT));
  const a = g.u32(RESULT);
  say('write', write(g, a, 'hello, world'));
  say('tell', (g.call('fd_tell', a, RESULT), g.u64(RESULT)));
  say('seek set 7', (g.call('fd_seek', a, 7n, WhencePreview1.SET, RESULT), g.u64(RESULT)));
  say('read 5', read(g, a, 5));
  say('seek cur -5', (g.call('fd_seek', a, -5n, WhencePreview1.CUR, RESULT), g.u64(RESULT)));
  say('seek end -2', (g.call('fd_seek', a, -2n, WhencePreview1.END, RESULT), g.u64(RESULT)));
  say('read at end', read(g, a, 100));
  say('seek before start', g.call('fd_seek', a, -100n, WhencePreview1.CUR, RESULT));
  say('pwrite at 20', (g.call('fd_pwrite', a, g.iovec(...g.str('Z')), 1, 20n, RESULT), g.u32(RESULT)));
  say('size after hole', stat('d/a'));
  say('pread hole', (g.call('fd_pread', a, g.iovec(9500, 10), 1, 12n, RESULT), [...g.read(9500, g.u32(RESULT))].join(',')));
  say('set size 4', g.call('fd_filestat_set_size', a, 4n));
  say('size', stat('d/a'));
  say('allocate to 10', g.call('fd_allocate', a, 0n, 10n));
  say('size', stat('d/a'));
  say('close', g.call('fd_close', a));
  say('append open', open(g, P, 'd/a', 0, ALL, FdFlags.APPEND));
  const ap = g.u32(RESULT);
  say('append write', write(g, ap, '++'));
  say('append tell', (g.call('fd_tell', ap, RESULT), g.u64(RESULT)));
  say('close', g.call('fd_close', ap));
  say('excl on existing', open(g, P, 'd/a', OFlags.CREAT | OFlags.EXCL));
  say('directory flag on file', open(g, P, 'd/a', OFlags.DIRECTORY));
  say('trunc', open(g, P, 'd/a', OFlags.TRUNC));
  const t = g.u32(RESULT);
  say('size after trunc', stat('d/a'));
  say('close', g.call('fd_close', t));
  // Rights: a read-only fd cannot write, and rights never come back.
  say('open read-only', open(g, P, 'd/a', 0, Rights.FD_READ | Rights.FD_SEEK));
  const ro = g.u32(RESULT);
  say('write read-only', write(g, ro, 'x'));
  say('add rights back', g.call('fd_fdstat_set_rights', ro, ALL, 0n));
  say('drop seek', g.call('fd_fdstat_set_rights', ro, Rights.FD_READ, 0n));
  say('seek without right', g.call('fd_seek', ro, 0n, WhencePreview1.SET, RESULT));
  say('close', g.call('fd_close', ro));
  say('open dir for writing', open(g, P, 'd', 0, Rights.FD_WRITE));
  // Links, renames, unlinks.
  say('symlink', g.call('path_symlink', ...g.str('a'), P, ...g.str('d/l')));
  say('stat link nofollow', stat('d/l', 0));
  say('stat link follow', stat('d/l'));
  say('readlink', (g.call('path_readlink', P, ...g.str('d/l'), 7000, 64, RESULT), g.text(7000, g.u32(RESULT))));
  say('readlink short', (g.call('path_readlink', P, ...g.str('d/l'), 7000, 0, RESULT), g.u32(RESULT)));
  say('readlink of file', g.call('path_readlink', P, ...g.str('d/a'), 7000, 64, RESULT));
  say('open link nofollow', open(g, P, 'd/l', 0, ALL, 0, 0));
  say('absolute symlink', g.call('path_symlink', ...g.str('/etc/passwd'), P, ...g.str('abs')));
  say('symlink out', g.call('path_symlink', ...g.str('../../outside'), P, ...g.str('d/out')));
  say('follow out', open(g, P, 'd/out'));
  say('hard link', g.call('path_link', P, 0, ...g.str('d/a'), P, ...g.str('h')));
  say('stat hard link', stat('h'));
  say('link a dir', g.call('path_link', P, 0, ...g.str('d'), P, ...g.str('d2')));
  say('rename file', g.call('path_rename', P, ...g.str('h'), P, ...g.str('d/h2')));
  say('rename onto dir', g.call('path_rename', P, ...g.str('d/h2'), P, ...g.str('d')));
  say('mkdir e', g.call('path_create_directory', P, ...g.str('e')));
  say('rename dir into itself', g.call('path_rename', P, ...g.str('e'), P, ...g.str('e/sub')));
  say('rename dir onto non-empty', g.call('path_rename', P, ...g.str('e'), P, ...g.str('d')));
  say('rename dir', g.call('path_rename', P, ...g.str('e'), P, ...g.str('d/e')));
  say('rename root', g.call('path_rename', P, ...g.str('.'), P, ...g.str('x')));
  say('readdir root', readdir(g, P));
  say('open d', open(g, P, 'd', OFlags.DIRECTORY, DIR));
  const d = g.u32(RESULT);
  say('readdir d', readdir(g, d));
  say('open through d', open(g, d, 'e/../a'));
  say('read via d', read(g, g.u32(RESULT), 100));
  say('dotdot above root', open(g, P, '../x'));
  say('dotdot above root via d', open(g, d, '../../x'));
  say('absolute path', open(g, P, '/d/a'));
  say('file as dir', open(g, P, 'd/a/x'));
  say('trailing slash on file', g.call('path_filestat_get', P, 1, ...g.str('d/a/'), RESULT));
  say('unlink dir', g.call('path_unlink_file', P, ...g.str('d')));
  say('rmdir non-empty', g.call('path_remove_directory', P, ...g.str('d')));
  say('rmdir file', g.call('path_remove_directory', P, ...g.str('d/a')));
  say('unlink', g.call('path_unlink_file', P, ...g.str('d/h2')));
  say('stat after unlink', stat('d/a'));
  say('unlink missing', g.call('path_unlink_file', P, ...g.str('d/h2')));
  say('rmdir', g.call('path_remove_directory', P, ...g.str('d/e')));
  say('set times', g.call('path_filestat_set_times', P, 1, ...g.str('d/a'), 0n, 3_000_000_000n, 4));
  say('mtime', (g.call('path_filestat_get', P, 1, ...g.str('d/a'), RESULT), g.u64(RESULT + 48)));
  say('poll read nbytes', (() => {
    open(g, P, 'd/a');
    const fd = g.u32(RESULT);
    g.call('fd_seek', fd, 1n, WhencePreview1.SET, RESULT);
    const sub = 12_000;
    new Uint8Array(g.memory.buffer).fill(0, sub, sub + 48);
    const v = new DataView(g.memory.buffer);
    v.setBigUint64(sub, 7n, true);
    v.setUint8(sub + 8, 1);
    v.setUint32(sub + 16, fd, true);
    g.call('poll_oneoff', sub, 13_000, 1, RESULT);
    return `${g.u32(RESULT)} events, nbytes ${v.getBigUint64(13_000 + 16, true)}`;
  })());
  return log;
}

test('the in-memory directory answers every call as a host directory does', () => {
  const host = makeGuest();
  const mem = memGuest();
  try {
    const expected = scenario(host);
    const got = scenario(mem);
    for (let i = 0; i < Math.max(expected.length, got.length); i++) assert.is(got[i], expected[i], `step ${i}`);
    // Not vacuous: the scenario met the errnos it meant to.
    for (const errno of [Errno.EXIST, Errno.NOENT, Errno.NOTCAPABLE, Errno.NOTDIR, Errno.ISDIR, Errno.NOTEMPTY, Errno.LOOP, Errno.INVAL]) {
      assert.ok(got.some((l) => l.endsWith(`: ${errno}`)), `errno ${errno} met`);
    }
  } finally {
    host.dispose();
    mem.dispose();
  }
});

test('prestat names the in-memory directory; its dev and inodes are its own', () => {
  const g = makeGuest({ memDirs: [{ guest: '/data' }] });
  try {
    assert.is(g.call('fd_prestat_get', 4, RESULT), 0);
    assert.is(g.u32(RESULT + 4), 5);
    assert.is(g.call('fd_prestat_dir_name', 4, 7000, 5), 0);
    assert.is(g.text(7000, 5), '/data');
    assert.is(open(g, 4, 'f', OFlags.CREAT), 0);
    assert.is(g.call('fd_filestat_get', g.u32(RESULT), RESULT), 0);
    assert.is(g.u64(RESULT), 0x6d656d_0001n, 'dev: "mem" and the preopen index');
    assert.is(g.u64(RESULT + 8), 2n, 'the first inode after the root');
    // Across preopens a rename or link is EXDEV, as across devices.
    assert.is(g.call('path_rename', 4, ...g.str('f'), P, ...g.str('f')), Errno.XDEV);
    assert.is(g.call('path_link', 4, 0, ...g.str('f'), P, ...g.str('f')), Errno.XDEV);
  } finally {
    g.dispose();
  }
});

test('the bound: writes past it fail with ENOSPC and change nothing; freed bytes come back', () => {
  const g = memGuest(100);
  try {
    assert.is(open(g, P, 'a', OFlags.CREAT), 0);
    const a = g.u32(RESULT);
    assert.is(write(g, a, 'x'.repeat(60)), 60);
    assert.is(write(g, a, 'y'.repeat(41)), -Errno.NOSPC);
    assert.is(g.call('fd_tell', a, RESULT), 0);
    assert.is(g.u64(RESULT), 60n, 'the offset did not move');
    assert.is(g.call('fd_pwrite', a, g.iovec(...g.str('z')), 1, 1_000_000_000_000n, RESULT), Errno.NOSPC, 'a far write allocates nothing');
    assert.is(g.call('fd_filestat_set_size', a, 101n), Errno.NOSPC);
    assert.is(g.call('fd_allocate', a, 0n, 101n), Errno.NOSPC);
    assert.is(open(g, P, 'b', OFlags.CREAT), 0);
    const b = g.u32(RESULT);
    assert.is(write(g, b, 'q'.repeat(40)), 40);
    assert.is(write(g, b, 'q'), -Errno.NOSPC);
    // Unlinked while open: its bytes stay counted until the last close.
    assert.is(g.call('path_unlink_file', P, ...g.str('a')), 0);
    assert.is(write(g, b, 'q'), -Errno.NOSPC);
    assert.is(g.call('fd_seek', a, 0n, WhencePreview1.SET, RESULT), 0);
    assert.is(read(g, a, 3), 'xxx', 'still readable through its fd');
    assert.is(g.call('fd_close', a), 0);
    assert.is(write(g, b, 'q'.repeat(60)), 60);
  } finally {
    g.dispose();
  }
});

test('capture and restore: content, times, inodes, open fds and offsets, bit-exact', () => {
  const g = makeGuest({ memDirs: [{ guest: 'data' }, { guest: 'tmp', maxBytes: 1000 }] });
  try {
    assert.is(open(g, 4, 'f.txt', OFlags.CREAT), 0);
    const f = g.u32(RESULT);
    assert.is(write(g, f, 'first line\nsecond line\n'), 23);
    assert.is(g.call('fd_seek', f, 6n, WhencePreview1.SET, RESULT), 0);
    assert.is(g.call('path_create_directory', 4, ...g.str('sub')), 0);
    assert.is(g.call('path_link', 4, 0, ...g.str('f.txt'), 4, ...g.str('sub/hard')), 0);
    assert.is(g.call('path_symlink', ...g.str('../f.txt'), 4, ...g.str('sub/soft')), 0);
    assert.is(open(g, 4, 'sub', OFlags.DIRECTORY, DIR), 0);
    const dir = g.u32(RESULT);
    readdir(g, dir); // a cursor to carry
    assert.is(open(g, 5, 'log', OFlags.CREAT, ALL, FdFlags.APPEND), 0);
    const log = g.u32(RESULT);
    assert.is(write(g, log, 'a'), 1);
    const state = g.host.captureState();
    assert.is(state.version, 2, 'in-memory directories make it version 2');
    assert.equal(state.preopens.map((p) => p.guest), ['.', 'data', 'tmp']);
    assert.is(state.preopens[2]?.mem?.maxBytes, 1000);
    assert.equal(listMemFs(state.preopens[1]!.mem!).map((e) => `${e.path} ${e.type} ${e.size}`), ['f.txt file 23', 'sub dir 0', 'sub/hard file 23', 'sub/soft symlink 8']);
    // Through validation (as from a snapshot) and back: the same state, byte for byte.
    const restored = WasiHost.restore(structuredClone(state), { args: [], env: {}, preopens: [{ host: g.root, guest: '.' }] });
    try {
      assert.equal(withoutClock(restored.captureState()), withoutClock(state));
      const memory = new WebAssembly.Memory({ initial: 1 });
      restored.bindMemory(memory);
      const call = (name: string, ...args: (number | bigint)[]): number => restored.imports['wasi_snapshot_preview1']![name]!(...args) as number;
      const v = new DataView(memory.buffer);
      v.setUint32(256, 9000, true);
      v.setUint32(260, 4, true);
      assert.is(call('fd_read', f, 256, 1, RESULT), 0);
      assert.is(new TextDecoder().decode(new Uint8Array(memory.buffer, 9000, v.getUint32(RESULT, true))), 'line', 'the offset came back');
      new Uint8Array(memory.buffer).set(new TextEncoder().encode('b'), 9100);
      v.setUint32(256, 9100, true);
      v.setUint32(260, 1, true);
      assert.is(call('fd_write', log, 256, 1, RESULT), 0);
      const after = restored.captureState();
      const logNode = after.preopens[2]!.mem!.nodes.find((n) => n.type === 'file');
      assert.equal(logNode?.type === 'file' ? new TextDecoder().decode(logNode.data) : '', 'ab', 'append mode came back');
      // The original did not change meanwhile: the capture is a copy.
      assert.equal(withoutClock(g.host.captureState()), withoutClock(state));
    } finally {
      restored.close();
    }
    void dir;
  } finally {
    g.dispose();
  }
});

test('an open file is reopened by its inode: renamed, replaced or unlinked since, it is the same file', () => {
  const g = memGuest();
  try {
    assert.is(open(g, P, 'a', OFlags.CREAT), 0);
    const a = g.u32(RESULT);
    assert.is(write(g, a, 'first'), 5);
    // Renamed, and a new file under its old name.
    assert.is(g.call('path_rename', P, ...g.str('a'), P, ...g.str('b')), 0);
    assert.is(open(g, P, 'a', OFlags.CREAT), 0);
    assert.is(write(g, g.u32(RESULT), 'impostor'), 8);
    // Unlinked while open: its bytes still there through its fd.
    assert.is(open(g, P, 'gone', OFlags.CREAT), 0);
    const gone = g.u32(RESULT);
    assert.is(write(g, gone, 'still here'), 10);
    assert.is(g.call('path_unlink_file', P, ...g.str('gone')), 0);
    const state = g.host.captureState();
    const mem = state.preopens[0]!.mem!;
    assert.is(mem.orphans?.length, 1, 'the unlinked file is listed as an orphan');
    assert.ok(state.fds.filter((f) => f.kind === 'file').every((f) => f.ino !== undefined), 'in-memory file fds name their inodes');
    const restored = WasiHost.restore(structuredClone(state), { args: [], env: {}, preopens: [] });
    try {
      assert.equal(withoutClock(restored.captureState()), withoutClock(state));
      const memory = new WebAssembly.Memory({ initial: 1 });
      restored.bindMemory(memory);
      const call = (name: string, ...args: (number | bigint)[]): number => restored.imports['wasi_snapshot_preview1']![name]!(...args) as number;
      const v = new DataView(memory.buffer);
      const readAll = (fd: number): string => {
        v.setUint32(256, 9000, true);
        v.setUint32(260, 100, true);
        assert.is(call('fd_pread', fd, 256, 1, 0n, RESULT), 0);
        return new TextDecoder().decode(new Uint8Array(memory.buffer, 9000, v.getUint32(RESULT, true)));
      };
      assert.is(readAll(a), 'first', 'the renamed file, not the one under its old name');
      assert.is(readAll(gone), 'still here', 'the unlinked file');
      // Closed, its bytes are freed, and the next capture has no orphan.
      assert.is(call('fd_close', gone), 0);
      assert.is(restored.captureState().preopens[0]!.mem!.orphans, undefined);
    } finally {
      restored.close();
    }
  } finally {
    g.dispose();
  }
});

/** A valid state with one in-memory directory holding a file and a subdirectory. */
function sample(): WasiState {
  const g = memGuest();
  try {
    open(g, P, 'f', OFlags.CREAT);
    write(g, g.u32(RESULT), 'data');
    g.call('path_create_directory', P, ...g.str('sub'));
    return g.host.captureState();
  } finally {
    g.dispose();
  }
}

test('a corrupt file table is refused in one line naming the field', () => {
  const cases: [string, (mem: Record<string, unknown> & { nodes: Record<string, unknown>[] }) => void, RegExp][] = [
    ['a missing inode', (m) => { (m.nodes[0]!['entries'] as [string, number][])[0]![1] = 99; }, /names inode 99, which is not listed/],
    ['a directory with two parents', (m) => { (m.nodes[0]!['entries'] as [string, number][]).push(['again', m.nodes[2]!['ino'] as number]); }, /second parent/],
    ['a cycle', (m) => { m.nodes[2]!['entries'] = [['up', m.nodes[0]!['ino'] as number]]; }, /second parent|not reachable/],
    ['an escaping name', (m) => { (m.nodes[0]!['entries'] as [string, number][])[0]![0] = '..'; }, /is not a file name/],
    ['a slash in a name', (m) => { (m.nodes[0]!['entries'] as [string, number][])[0]![0] = 'a/b'; }, /is not a file name/],
    ['bytes over the bound', (m) => { m['maxBytes'] = 3; }, /more than its bound of 3 bytes/],
    ['an orphan', (m) => { m.nodes.push({ ino: 50, type: 'file', atim: 0n, mtim: 0n, ctim: 0n, data: new Uint8Array(1) }); m['nextIno'] = 51; }, /inode 50 is not reachable/],
    ['a root that is a file', (m) => { m.nodes.reverse(); }, /root\) is not a directory|not reachable|not listed/],
    ['an absolute symlink', (m) => { m.nodes.push({ ino: 60, type: 'symlink', atim: 0n, mtim: 0n, ctim: 0n, target: '/etc' }); m['nextIno'] = 61; }, /not a relative link target/],
    ['data that is not bytes', (m) => { m.nodes[1]!['data'] = 'text'; }, /data is not bytes/],
    ['an unknown type', (m) => { m.nodes[1]!['type'] = 'fifo'; }, /is not dir, file or symlink/],
    ['a duplicate inode', (m) => { m.nodes[2]!['ino'] = m.nodes[1]!['ino']; }, /listed twice/],
    ['an orphan with a name', (m) => { m['orphans'] = [m.nodes[1]!['ino']]; }, /has a name, or is listed twice/],
    ['an orphan that is a directory', (m) => { m['orphans'] = [m.nodes[2]!['ino']]; }, /is not a listed file's inode/],
    ['orphans that are not a list', (m) => { m['orphans'] = 3; }, /orphans is not an array/],
  ];
  for (const [what, spoil, expected] of cases) {
    const state = structuredClone(sample()) as unknown as { preopens: { mem: Record<string, unknown> & { nodes: Record<string, unknown>[] } }[] };
    spoil(state.preopens[0]!.mem);
    assert.throws(() => validateWasiState(state), (e: Error) => e instanceof SnapshotError && expected.test(e.message) && !e.message.includes('\n') && e.message.startsWith('invalid WASI state: preopens[0].mem'), what);
  }
  // An fd may name an inode only in an in-memory directory.
  const host = structuredClone(sample()) as unknown as { preopens: Record<string, unknown>[]; fds: Record<string, unknown>[] };
  delete host.preopens[0]!['mem'];
  host.fds.find((f) => f['kind'] === 'dir')!['kind'] = 'dir';
  host.fds.push({ ...host.fds.find((f) => f['kind'] === 'dir')!, fd: 9, kind: 'file', filetype: FileType.REGULAR_FILE, isPreopen: false, path: 'f', ino: 2, dirCursor: null });
  assert.throws(() => validateWasiState({ ...host, version: 1 }), /fds\[\d+\] names an inode of a host directory/);
  // Version 1 cannot hold an in-memory directory.
  const old = { ...sample(), version: 1 };
  assert.throws(() => validateWasiState(old), /version 1 cannot hold/);
});

test('fuzz: a mangled file table is a SnapshotError or a valid state, never anything else', () => {
  const random = new Seeded(19);
  const junk = (): unknown => [null, -1, 0, 1.5, 2 ** 53, 'x', '..', '', [], {}, [['a', 1]], new Uint8Array(3), 5n, -5n, true][random.int(15)];
  const base = sample();
  let refused = 0;
  for (let round = 0; round < 400; round++) {
    const state = structuredClone(base) as unknown as { preopens: { mem: Record<string, unknown> & { nodes: Record<string, unknown>[] } }[] };
    const mem = state.preopens[0]!.mem;
    for (let k = 1 + random.int(3); k > 0; k--) {
      const where = random.int(4);
      if (where === 0) mem[['maxBytes', 'nextIno', 'nodes', 'orphans'][random.int(4)]!] = junk();
      else if (Array.isArray(mem.nodes) && mem.nodes.length > 0) {
        const node = mem.nodes[random.int(mem.nodes.length)]!;
        if (where === 3 && Array.isArray(node['entries']) && (node['entries'] as unknown[]).length > 0) (node['entries'] as unknown[])[0] = junk();
        else if (node && typeof node === 'object') node[['ino', 'type', 'atim', 'mtim', 'ctim', 'entries', 'data', 'target'][random.int(8)]!] = junk();
      }
    }
    try {
      const clean = validateWasiState(state);
      // What passes must restore: a valid tree.
      WasiHost.restore(clean, { args: [], env: {}, preopens: [] }).close();
    } catch (error) {
      assert.ok(error instanceof SnapshotError, `round ${round}: ${(error as Error).stack}`);
      assert.not.ok((error as Error).message.includes('\n'));
      refused++;
    }
  }
  assert.ok(refused > 300, `most mangled tables are refused (${refused})`);
});

test('a seed is checked as a snapshot is; guest names may not climb out', () => {
  const good = sample().preopens[0]!.mem!;
  assert.throws(() => new WasiHost({ args: [], env: {}, preopens: [], memDirs: [{ guest: 'd', files: good, maxBytes: 2 }] }), (e: Error) => e instanceof UsageError && /bound of 2 bytes/.test(e.message));
  assert.throws(() => new WasiHost({ args: [], env: {}, preopens: [], memDirs: [{ guest: '../up' }] }), (e: Error) => e instanceof UsageError && /"\.\.\/up"/.test(e.message));
  assert.throws(() => new WasiHost({ args: [], env: {}, preopens: [], memDirs: [{ guest: 'a' }, { guest: 'a' }] }), (e: Error) => e instanceof UsageError && /another preopen has that name/.test(e.message));
  const host = new WasiHost({ args: [], env: {}, preopens: [], memDirs: [{ guest: 'd', files: good }] });
  try {
    assert.equal(host.captureState().preopens[0]?.mem, good, 'a seed comes back as given');
  } finally {
    host.close();
  }
});

test('MemFs alone: path walking through symlinks and "..", realpath, ELOOP', () => {
  const fs = new MemFs({ now: () => 5n });
  fs.mkdirSync('/a');
  fs.mkdirSync('/a/b');
  fs.symlinkSync('b', '/a/lb');
  fs.symlinkSync('../lb', '/a/b/up');
  fs.symlinkSync('loop', '/loop');
  const fd = fs.openSync('/a/lb/up/f', fs.constants.O_CREAT | fs.constants.O_RDWR);
  assert.is(fs.writevSync(fd, [new Uint8Array([1, 2, 3])], 0), 3);
  fs.closeSync(fd);
  assert.is(fs.realpathSync('/a/lb/up/f'), '/a/b/f');
  assert.is(fs.realpathSync('/a/b/../../../a'), '/a', '".." at the root stays there');
  assert.is(fs.statSync('/a/b/f').size, 3n);
  assert.is(fs.lstatSync('/a/lb').isSymbolicLink(), true);
  assert.throws(() => fs.statSync('/loop'), (e: NodeJS.ErrnoException) => e.code === 'ELOOP');
  assert.throws(() => fs.statSync('/a/b/f/x'), (e: NodeJS.ErrnoException) => e.code === 'ENOTDIR');
  assert.equal(fs.readdirSync('/a').sort(), ['b', 'lb']);
  assert.is(fs.usedBytes, 3);
  const copy = MemFs.fromState(fs.capture());
  assert.equal(copy.capture(), fs.capture());
});

test.run();
