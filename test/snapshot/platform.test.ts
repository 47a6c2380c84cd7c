/**
 * The snapshot layer's two platforms (platform.ts): Node's natives and the portable
 * JavaScript a browser uses must give the same bytes, so a snapshot written by one is
 * read by the other. Here both run in one process, passed in as objects; the browser test
 * (test/browser/browser.test.ts) crosses the real boundary.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadModule, Program } from '../../src/program/index.ts';
import { decodeSnapshot, encodeSnapshot, sha256Hex } from '../../src/snapshot/index.ts';
import { nodePlatform } from '../../src/snapshot/platform-node.ts';
import { portablePlatform } from '../../src/snapshot/platform-portable.ts';
import { WasiHost } from '../../src/wasi/index.ts';
import { repoRoot } from '../helpers/cli.ts';
import { Seeded } from '../helpers/seeded.ts';

const platforms = [nodePlatform, portablePlatform];

test('sha-256 and CRC-32 agree with node:crypto and each other, on lengths around block edges', () => {
  const rand = new Seeded(19);
  for (const n of [0, 1, 55, 56, 63, 64, 65, 1000, 65_536 + 3]) {
    const bytes = Uint8Array.from({ length: n }, () => (rand.next() * 256) | 0);
    const want = createHash('sha256').update(bytes).digest('hex');
    for (const p of platforms) assert.is(sha256Hex(bytes, p), want, `${p.name} sha256 of ${n} bytes`);
    // Parts hash as their concatenation.
    assert.is(Buffer.from(portablePlatform.sha256(bytes.subarray(0, n >> 1), bytes.subarray(n >> 1))).toString('hex'), want);
    assert.is(portablePlatform.crc32(bytes), nodePlatform.crc32(bytes), `crc32 of ${n} bytes`);
  }
});

test('equal: aligned and unaligned ranges, a difference in the last byte', () => {
  const a = new Uint8Array(4096 + 7).map((_, i) => i * 7);
  const b = a.slice();
  for (const p of platforms) {
    assert.ok(p.equal(a, 0, b, 0, a.length), p.name);
    assert.ok(p.equal(a, 3, b, 3, 4000), p.name);
    assert.not.ok(p.equal(a, 3, b, 4, 4000), p.name);
  }
  b[b.length - 1] ^= 1;
  for (const p of platforms) {
    assert.not.ok(p.equal(a, 0, b, 0, a.length), p.name);
    assert.ok(p.equal(a, 0, b, 0, a.length - 1), p.name);
  }
});

test('a paused program: both platforms write the same snapshot bytes, and each reads the other\'s', () => {
  const bytes = readFileSync(resolve(repoRoot, 'test/programs/qsort_printf.wasm'));
  const wasi = new WasiHost({ args: ['qsort_printf.wasm'], env: {}, preopens: [], stdout: () => {}, stderr: () => {} });
  const program = Program.withWasi(loadModule(bytes), wasi);
  program.start('_start');
  const outcome = program.run({ until: 200_000 });
  assert.is(outcome.kind, 'paused');
  const state = program.captureState();
  const [fromNode, fromPortable] = platforms.map((platform) => encodeSnapshot(state, { module: bytes, platform }));
  assert.equal(fromPortable, fromNode);
  for (const reader of platforms) {
    for (const file of [fromNode, fromPortable]) {
      const decoded = decodeSnapshot(file, { platform: reader });
      assert.equal(decoded.state.memories[0]!.data, state.memories[0]!.data);
      assert.is(decoded.state.frames.length, state.frames.length);
    }
  }
  // A corrupted byte is caught by either platform's checksum.
  const bad = fromNode.slice();
  bad[bad.length - 1] ^= 0x40;
  for (const reader of platforms) assert.throws(() => decodeSnapshot(bad, { platform: reader }), /checksum mismatch/);
  wasi.close();
});

test.run();
