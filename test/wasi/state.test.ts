/** captureState / restore: the WASI host state moves to a fresh host (another "machine"). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decode, encode } from '@msgpack/msgpack';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SnapshotError } from '../../src/errors/index.ts';
import { FdFlags, OFlags, Rights } from '../../src/wasi/abi.ts';
import { WasiHost } from '../../src/wasi/index.ts';
import type { WasiState } from '../../src/wasi/index.ts';
import { makeGuest, makeRoot, PREOPEN_FD, RESULT } from './helpers/guest.ts';

const ALL = (1n << 30n) - 1n;
const DIR_READ = ALL & ~(Rights.FD_WRITE | Rights.FD_ALLOCATE | Rights.FD_FILESTAT_SET_SIZE | Rights.FD_DATASYNC);

/** Ships state as a snapshot would: msgpack with 64-bit integers as bigint. */
function transfer(state: WasiState): WasiState {
  return decode(encode(state, { useBigInt64: true }), { useBigInt64: true }) as WasiState;
}

function copyTree(from: string, to: string): void {
  fs.cpSync(from, to, { recursive: true, verbatimSymlinks: true });
}

test('open, read half, capture, restore elsewhere: fds, offsets, flags, cursors continue', () => {
  const a = makeGuest();
  const rootB = makeRoot();
  try {
    fs.writeFileSync(path.join(a.root, 'data.txt'), '0123456789ABCDEF');
    fs.mkdirSync(path.join(a.root, 'sub'));
    for (const f of ['x', 'y', 'z']) fs.writeFileSync(path.join(a.root, 'sub', f), f);
    const data = a.open('data.txt', 0, Rights.FD_READ | Rights.FD_SEEK | Rights.FD_TELL);
    assert.is(a.call('fd_read', data, a.iovec(6000, 8), 1, RESULT), 0);
    assert.is(a.text(6000, 8), '01234567');
    const log = a.open('log.txt', OFlags.CREAT, ALL, FdFlags.APPEND);
    const [line, lineLen] = a.str('before\n');
    assert.is(a.call('fd_write', log, a.iovec(line, lineLen), 1, RESULT), 0);
    const [subPtr, subLen] = a.str('sub');
    assert.is(a.call('path_open', PREOPEN_FD, 1, subPtr, subLen, OFlags.DIRECTORY, DIR_READ, DIR_READ, 0, RESULT), 0);
    const sub = a.u32(RESULT);
    // Read the listing up to cookie 3 (".", "..", "x"): the next call will start at "y".
    assert.is(a.call('fd_readdir', sub, 8000, 24 * 3 + 1 + 2 + 1, 0n, RESULT), 0);
    assert.is(a.call('clock_time_get', 1, 0n, RESULT), 0);
    const monotonicBefore = a.u64(RESULT);

    const state = transfer(a.host.captureState());
    assert.equal(state.preopens, [{ guest: '.' }]);
    const dataState = state.fds.find((f) => f.fd === data);
    assert.is(dataState?.offset, 8n);
    assert.is(dataState?.path, 'data.txt');
    assert.equal(state.fds.map((f) => f.fd), [0, 1, 2, 3, data, log, sub]);

    copyTree(a.root, rootB);
    const b = WasiHost.restore(state, { args: ['ignored'], env: {}, preopens: [{ host: rootB, guest: '.' }], stdout: a.stdoutFd });
    const memory = new WebAssembly.Memory({ initial: 1 });
    b.bindMemory(memory);
    const call = (name: string, ...args: (number | bigint)[]): number =>
      b.imports['wasi_snapshot_preview1']![name]!(...args) as number;
    const view = () => new DataView(memory.buffer);
    const text = (p: number, n: number) => new TextDecoder().decode(new Uint8Array(memory.buffer, p, n));
    const iovec = (buf: number, len: number) => {
      view().setUint32(256, buf, true);
      view().setUint32(260, len, true);
      return 256;
    };

    assert.is(call('fd_read', data, iovec(6000, 100), 1, RESULT), 0);
    assert.is(text(6000, view().getUint32(RESULT, true)), '89ABCDEF');
    assert.is(call('fd_tell', data, RESULT), 0);
    assert.is(view().getBigUint64(RESULT, true), 16n);
    // Rights came along: this fd was never writable.
    assert.is(call('fd_write', data, iovec(6000, 1), 1, RESULT), 76);
    // Append mode came along, on the new host's copy of the file.
    new Uint8Array(memory.buffer).set(new TextEncoder().encode('after\n'), 7000);
    assert.is(call('fd_write', log, iovec(7000, 6), 1, RESULT), 0);
    assert.is(fs.readFileSync(path.join(rootB, 'log.txt'), 'utf8'), 'before\nafter\n');
    // The readdir cursor continues at cookie 3.
    assert.is(call('fd_readdir', sub, 8000, 4096, 3n, RESULT), 0);
    assert.is(text(8000 + 24, 1), 'y');
    assert.is(text(8000 + 24 + 1 + 24, 1), 'z');
    // args, env and the monotonic clock are the guest's, not the new options'.
    assert.is(call('args_sizes_get', RESULT, RESULT + 4), 0);
    assert.is(view().getUint32(RESULT, true), 2);
    assert.is(call('clock_time_get', 1, 0n, RESULT), 0);
    assert.ok(view().getBigUint64(RESULT, true) >= monotonicBefore);
    assert.is(call('fd_prestat_get', PREOPEN_FD, RESULT), 0);
    b.close();
  } finally {
    a.dispose();
    fs.rmSync(rootB, { recursive: true, force: true });
  }
});

test('a restored host whose file is gone fails with a SnapshotError naming the path', () => {
  const a = makeGuest();
  const rootB = makeRoot();
  try {
    fs.writeFileSync(path.join(a.root, 'gone.txt'), 'x');
    a.open('gone.txt');
    const state = a.host.captureState();
    assert.throws(
      () => WasiHost.restore(state, { args: [], env: {}, preopens: [{ host: rootB, guest: '.' }] }),
      (e: unknown) => e instanceof SnapshotError && /\.\/gone\.txt/.test(e.message),
    );
    assert.throws(
      () => WasiHost.restore(state, { args: [], env: {}, preopens: [{ host: rootB, guest: '/data' }] }),
      (e: unknown) => e instanceof SnapshotError && /preopen "\."/.test(e.message),
    );
  } finally {
    a.dispose();
    fs.rmSync(rootB, { recursive: true, force: true });
  }
});

test('untrusted state is validated field by field', () => {
  const a = makeGuest();
  try {
    fs.writeFileSync(path.join(a.root, 'f'), 'x');
    a.open('f');
    const good = a.host.captureState();
    const options = { args: [], env: {}, preopens: [{ host: a.root, guest: '.' }] };
    WasiHost.restore(good, options).close();
    const fileIndex = good.fds.findIndex((f) => f.kind === 'file');
    const tamper = (edit: (s: any) => void): unknown => {
      const s = structuredClone(good) as any;
      edit(s);
      return s;
    };
    const bad: [string, unknown][] = [
      ['not an object', 42],
      ['version', tamper((s) => (s.version = 99))],
      ['escaping path', tamper((s) => (s.fds[fileIndex].path = '../../etc/passwd'))],
      ['absolute path', tamper((s) => (s.fds[fileIndex].path = '/etc/passwd'))],
      ['duplicate fd', tamper((s) => (s.fds[fileIndex].fd = 0))],
      ['negative offset', tamper((s) => (s.fds[fileIndex].offset = -1n))],
      ['offset as number', tamper((s) => (s.fds[fileIndex].offset = 3))],
      ['unknown rights', tamper((s) => (s.fds[fileIndex].rightsBase = 1n << 40n))],
      ['unknown kind', tamper((s) => (s.fds[fileIndex].kind = 'socket'))],
      ['preopen out of range', tamper((s) => (s.fds[fileIndex].preopen = 5))],
      ['stdio stream out of range', tamper((s) => (s.fds[0].stdio = 7))],
      ['fd too large', tamper((s) => (s.fds[fileIndex].fd = 2 ** 31))],
      ['env value', tamper((s) => (s.env.X = 1))],
      ['args', tamper((s) => (s.args = 'a b'))],
      ['clock', tamper((s) => (s.clock = null))],
      ['dir cursor on a file', tamper((s) => (s.fds[fileIndex].dirCursor = ['a']))],
    ];
    for (const [what, state] of bad) {
      assert.throws(() => WasiHost.restore(state as WasiState, options), (e: unknown) => e instanceof SnapshotError, what);
    }
  } finally {
    a.dispose();
  }
});

test('end to end: a C program reads half a file, migrates to a fresh host and instance, reads the rest', async () => {
  const wasm = fs.readFileSync(fileURLToPath(new URL('./fixtures/resume.wasm', import.meta.url)));
  const module = await WebAssembly.compile(wasm);
  const rootA = makeRoot();
  const rootB = makeRoot();
  const outA = path.join(rootA, '..', `${path.basename(rootA)}.out`);
  const outB = path.join(rootB, '..', `${path.basename(rootB)}.out`);
  const fdA = fs.openSync(outA, 'w+');
  const fdB = fs.openSync(outB, 'w+');
  try {
    const content = 'The quick brown fox jumps over the lazy dog.\n';
    fs.writeFileSync(path.join(rootA, 'data.txt'), content);
    const hostA = new WasiHost({ args: ['resume'], env: {}, preopens: [{ host: rootA, guest: '.' }], stdout: fdA });
    const a = await WebAssembly.instantiate(module, hostA.imports);
    hostA.bindMemory(a.exports['memory'] as WebAssembly.Memory);
    (a.exports['_initialize'] as () => void)();
    const exportsA = a.exports as Record<string, (...args: number[]) => number | bigint>;
    const fd = exportsA['open_data']!() as number;
    assert.ok(fd >= 3);
    const half = content.length >> 1;
    assert.is(exportsA['read_chunk']!(fd, half), half);
    const log = exportsA['open_log']!() as number;
    assert.is(exportsA['log_line']!(log, 1), 8);

    const state = transfer(hostA.captureState());
    hostA.close();
    copyTree(rootA, rootB);
    fs.rmSync(rootA, { recursive: true, force: true });

    const hostB = WasiHost.restore(state, { args: [], env: {}, preopens: [{ host: rootB, guest: '.' }], stdout: fdB });
    const b = await WebAssembly.instantiate(module, hostB.imports);
    hostB.bindMemory(b.exports['memory'] as WebAssembly.Memory);
    (b.exports['_initialize'] as () => void)();
    const exportsB = b.exports as Record<string, (...args: number[]) => number | bigint>;
    assert.is(exportsB['read_chunk']!(fd, 1000), content.length - half);
    assert.is(exportsB['read_chunk']!(fd, 1000), 0);
    assert.is(exportsB['tell']!(fd), BigInt(content.length));
    assert.is(exportsB['log_line']!(log, 2), 8);
    hostB.close();

    assert.is(fs.readFileSync(outA, 'utf8'), content.slice(0, half));
    assert.is(fs.readFileSync(outB, 'utf8'), content.slice(half));
    assert.is(fs.readFileSync(path.join(rootB, 'log.txt'), 'utf8'), 'entry 1\nentry 2\n');
  } finally {
    fs.closeSync(fdA);
    fs.closeSync(fdB);
    for (const p of [rootA, rootB, outA, outB]) fs.rmSync(p, { recursive: true, force: true });
  }
});

test.run();
