/**
 * Limits that hold (issue 16): hostile snapshots and arguments are refused with a clear
 * one-line error, and a decompression bomb costs a bounded amount of memory. Peak RSS
 * is the kernel's (rusage of a child process), not the JavaScript heap's: it counts what
 * a native decoder or a Buffer would take too. No wall-clock assertions.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HEADER_SIZE, SNAPSHOT_MAGIC } from '../../src/snapshot/index.ts';
import { crc32 } from '../../src/snapshot/checksum.ts';
import { lz4CompressBlock } from '../../src/snapshot/lz4.ts';
import { repoRoot, wasmig } from '../helpers/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'wasmig-limits-'));
const MiB = 1024 * 1024;
const CAP = 256 * MiB;

/** A snapshot file around `body` (any bytes: the envelope is right, the body is what it is). */
function snapshotAround(body: Uint8Array): Uint8Array {
  const block = lz4CompressBlock(body);
  const out = new Uint8Array(HEADER_SIZE + block.length);
  out.set(SNAPSHOT_MAGIC);
  const view = new DataView(out.buffer);
  view.setUint16(8, 1, true);
  out.set(block, HEADER_SIZE);
  view.setUint32(12, crc32(block), true);
  view.setUint32(16, block.length, true);
  view.setUint32(20, body.length, true);
  return out;
}

/** `size` bytes of zeros: msgpack's 0 followed by junk, LZ4's best case (ratio about 255). */
function zerosBomb(size: number): string {
  const path = join(dir, `zeros-${size}.snap`);
  writeFileSync(path, snapshotAround(new Uint8Array(size)));
  return path;
}

/** `{ state: [nil, nil, ...] }` filling `size` bytes: each byte a value, 8+ bytes of heap each once decoded. */
function arrayBomb(size: number): string {
  const body = new Uint8Array(size).fill(0xc0);
  body.set([0x81, 0xa5, 0x73, 0x74, 0x61, 0x74, 0x65, 0xdd]);
  new DataView(body.buffer).setUint32(8, size - 12);
  const path = join(dir, `array-${size}.snap`);
  writeFileSync(path, snapshotAround(body));
  return path;
}

/** `wasmig ARGS` in a child; its exit status, stderr and peak RSS. */
function measured(args: string[]): { status: number; stderr: string; peak: number } {
  const tsx = resolve(repoRoot, 'node_modules/tsx/dist/cli.mjs');
  const r = spawnSync(process.execPath, [tsx, resolve(repoRoot, 'test/helpers/peak-rss-cli.ts'), ...args], { encoding: 'utf8', timeout: 120_000 });
  const m = /peak-rss-bytes (\d+)/.exec(r.stderr);
  assert.ok(m, `no peak RSS reported: ${r.stderr}`);
  return { status: r.status ?? -1, stderr: r.stderr.replace(/peak-rss-bytes \d+\n/, ''), peak: Number(m[1]) };
}

const mib = (n: number): string => `${(n / MiB).toFixed(0)} MiB`;

test('an LZ4 bomb declaring 1 GB is refused by its header, under a cap of 256M', () => {
  const path = zerosBomb(1000 * MiB);
  const r = measured(['resume', '--max-snapshot', '256M', path]);
  assert.is(r.status, 1, r.stderr);
  assert.match(r.stderr, /snapshot body of 1048576000 bytes exceeds the limit of 268435456 \(--max-snapshot\)/);
  assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.ok(r.peak < 4 * CAP, `peak RSS ${mib(r.peak)}`);
  console.log(`  1 GB bomb, cap 256M: peak RSS ${mib(r.peak)}`);
});

test('a bomb within the cap decompresses once, to its declared size, and is refused as msgpack', () => {
  const path = zerosBomb(CAP - MiB);
  const r = measured(['resume', '--max-snapshot', '256M', path]);
  assert.is(r.status, 1, r.stderr);
  assert.match(r.stderr, /not valid msgpack: \d+ bytes after its end/);
  assert.ok(r.peak < 4 * CAP, `peak RSS ${mib(r.peak)}`);
  console.log(`  255 MiB zeros, cap 256M: peak RSS ${mib(r.peak)}`);
});

test('a body whose values would take gigabytes of heap is refused before it is decoded', () => {
  const path = arrayBomb(CAP - MiB);
  const r = measured(['resume', '--max-snapshot', '256M', path]);
  assert.is(r.status, 1, r.stderr);
  assert.match(r.stderr, /would take more than 268435456 bytes of memory once decoded/);
  assert.ok(r.peak < 4 * CAP, `peak RSS ${mib(r.peak)}`);
  console.log(`  255 MiB of nils, cap 256M: peak RSS ${mib(r.peak)}`);
});

test('the default cap follows --max-memory', () => {
  const path = zerosBomb(200 * MiB);
  const r = wasmig(['resume', '--max-memory', '64M', path]);
  assert.is(r.status, 1, r.stderr);
  assert.match(r.stderr, /exceeds the limit of 134217728 \(--max-snapshot\)/);
});

test('inspect takes --max-snapshot too', () => {
  const r = wasmig(['inspect', '--max-snapshot', '1M', zerosBomb(2 * MiB)]);
  assert.is(r.status, 1, r.stderr);
  assert.match(r.stderr, /exceeds the limit of 1048576/);
});

const usage: [string[], RegExp][] = [
  [['resume', '--max-memory', '5G', 'x.snap'], /^wasmig: --max-memory 5G: more than 4G, the most a wasm32 memory can have\n$/],
  [['run', '--max-memory', '12abc', 'x.wasm'], /^wasmig: --max-memory "12abc": expected a byte count/],
  [['run', '--max-memory', '100', 'x.wasm'], /^wasmig: --max-memory 100: less than the least allowed, 64K\n$/],
  [['resume', '--max-snapshot', '5G', 'x.snap'], /^wasmig: --max-snapshot 5G: more than 4294967295/],
  [['run', '--dir', '/tmp::../x', 'x.wasm'], /^wasmig: --dir "\/tmp::..\/x": the guest name "..\/x" climbs out with '..'\n$/],
  [['run', '--dir', '/tmp::a/../../b', 'x.wasm'], /climbs out with '\.\.'/],
  [['run', '--dir', join(dir, 'nowhere'), 'x.wasm'], /nowhere: no such directory\n$/],
  [['run', '--dir', `${repoRoot}/package.json::p`, 'x.wasm'], /package\.json is not a directory\n$/],
  [['run', '--pause-after', '10', '--snapshot', join(dir, 'nowhere', 'a.snap'), 'x.wasm'], /^wasmig: --snapshot ".*a\.snap": no directory .*nowhere\n$/],
  [['resume', '--pause-after', '10', '--snapshot', dir, 'x.snap'], /^wasmig: --snapshot ".*": is a directory\n$/],
];

test('size and path arguments are checked, with one line naming the argument', () => {
  for (const [args, expected] of usage) {
    const r = wasmig(args);
    assert.is(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, expected, args.join(' '));
  }
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
