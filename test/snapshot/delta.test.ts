/**
 * Delta snapshots: memories written as block deltas against a base the reader holds.
 * Decoded with that base they equal the full snapshot's state and resume to the same
 * result; a missing, wrong or corrupted base or delta is a SnapshotError, never a wrong
 * memory; `wasmig inspect` shows the base and the blocks carried.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode, encode } from '@msgpack/msgpack';
import { uncompressSync } from 'lz4-napi';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SnapshotError } from '../../src/errors/index.ts';
import { loadModule, Program } from '../../src/program/index.ts';
import {
  baseIdentity, BLOCK_SIZE, decodeSnapshot, imagesOf, initialBase, encodeSnapshot, HEADER_SIZE, inspectSnapshot, MemoryImage, moduleSha256,
  readSnapshotHeader, SnapshotFlags,
} from '../../src/snapshot/index.ts';
import type { CanonicalState, DeltaBase, SnapshotDescription } from '../../src/snapshot/index.ts';
import { crc32 } from '../../src/snapshot/checksum.ts';
import { lz4CompressBlock } from '../../src/snapshot/lz4.ts';
import { formatDescription } from '../../src/cli/commands/inspect.ts';
import { ValType } from '../../src/wasm/types.ts';
import { wasmig } from '../helpers/cli.ts';
import { constExpr, ModuleBuilder, s32 } from '../helpers/module-builder.ts';
import { Seeded } from '../helpers/seeded.ts';

const { i32 } = ValType;
const PAGE = 65536;

/**
 * `work(n)`: for i in 0..n, stores i at (i * 4099) & 0x1fffc (blocks all over its two
 * initial pages), and grows the memory by a page when i is 3000; returns i. The memory
 * holds a data segment ("wasmig") from instantiation.
 */
function workModule(): Uint8Array {
  const b = new ModuleBuilder();
  const t = b.type([i32], [i32]);
  b.memory(2, 8);
  const work = b.func(t, [
    0x03, 0x40, //                                                          loop
    0x20, 1, 0x41, ...s32(4099), 0x6c, 0x41, ...s32(0x1fffc), 0x71, //        addr = (i * 4099) & 0x1fffc
    0x20, 1, 0x36, 2, 0, //                                                    mem[addr] = i
    0x20, 1, 0x41, ...s32(3000), 0x46, 0x04, 0x40, 0x41, 1, 0x40, 0, 0x1a, 0x0b, // if i == 3000: memory.grow 1
    0x20, 1, 0x41, 1, 0x6a, 0x22, 1, 0x20, 0, 0x48, 0x0d, 0, //             while (++i < n)
    0x0b,
    0x20, 1,
    0x0b,
  ], [i32]);
  b.export('work', 'func', work);
  b.export('memory', 'memory', 0);
  b.data({ mode: 'active', offset: constExpr.i32(PAGE + 40), bytes: [...new TextEncoder().encode('wasmig')] });
  return b.build();
}

const compiled = loadModule(workModule());
const sha = moduleSha256(compiled.module);
const N = 5000;

function paused(until: number): Program {
  const p = Program.instantiate(compiled);
  p.start('work', [N]);
  assert.equal(p.run({ until }), { kind: 'paused', instructions: until });
  return p;
}

const startBase = (): DeltaBase => initialBase(compiled);
const expected = (() => { const p = Program.instantiate(compiled); p.start('work', [N]); return p.run(); })();

function isSnapshotError(pattern: RegExp): (e: unknown) => boolean {
  return (e: unknown) => e instanceof SnapshotError && pattern.test((e as Error).message);
}

const PAUSES = [0, 1, 777, 20_000, 66_000, 90_000];

for (const until of PAUSES) {
  test(`paused after ${until}: the delta snapshot against the initial image decodes to the full snapshot's state and resumes to the same result`, () => {
    const p = paused(until);
    const state = p.captureState();
    const full = encodeSnapshot(state);
    const base = startBase();
    const before = base.memories[0].digest();
    const delta = encodeSnapshot(state, { base });
    assert.is(base.memories[0].digest(), before, 'the base is left as it is');
    assert.is(readSnapshotHeader(delta).flags & SnapshotFlags.delta, SnapshotFlags.delta);
    const decoded = decodeSnapshot(delta, { base });
    assert.equal(decoded.state, decodeSnapshot(full).state);
    assert.is(decoded.delta!.base.identity, baseIdentity(base.memories));
    assert.is(decoded.images![0].digest(), MemoryImage.from(wholeMemory(decodeSnapshot(full).state.memories[0])).digest(), 'the images returned are the memories');
    assert.is(base.memories[0].digest(), before, 'decoding leaves the base as it is');
    assert.equal(Program.resume(decoded, { module: compiled }).run(), expected);
  });
}

test('a -> b -> a: the second move back sends only the blocks written since, under 4 KiB in all', () => {
  const p = paused(20_000);
  // a sends a full snapshot to b, and keeps what b now holds as images.
  const toB = encodeSnapshot(p.captureState());
  const heldByA = { sha256: sha, memories: imagesOf(decodeSnapshot(toB).state) };
  // b runs it a little further (a few stores) and sends it back as a delta against what a holds.
  const atB = Program.resume(decodeSnapshot(toB), { module: compiled });
  atB.run({ until: 20_400 });
  const back = encodeSnapshot(atB.captureState(), { base: heldByA, advanceBase: true });
  assert.ok(back.length <= 4096, `${back.length} bytes`);
  console.log(`  a -> b -> a: ${back.length} bytes back, the full snapshot is ${encodeSnapshot(atB.captureState()).length}`);
  const description = inspectSnapshot(back);
  assert.ok(description.delta!.memories[0].blocksStored <= 30, `${description.delta!.memories[0].blocksStored} blocks`);
  // advanceBase: b's images are now what a will hold; a decodes against its own copy.
  const heldByAtA = { sha256: sha, memories: imagesOf(decodeSnapshot(toB).state) };
  const decoded = decodeSnapshot(back, { base: (ref) => (ref.identity === baseIdentity(heldByAtA.memories) ? heldByAtA : undefined) });
  assert.is(decoded.images![0].digest(), heldByA.memories[0].digest(), 'both sides hold the same image now');
  assert.equal(Program.resume(decoded, { module: compiled }).run(), expected);
});

test('incremental checkpoints: 12 deltas in a row, each against the images the replica got from the one before, across a memory.grow', () => {
  const writer = startBase();
  let held: DeltaBase = startBase();
  const p = Program.instantiate(compiled);
  p.start('work', [N]);
  let sizes = 0;
  for (let k = 1; k <= 12; k++) {
    const until = k * 7_500;
    p.run({ until });
    const state = p.captureState();
    const snap = encodeSnapshot(state, { base: writer, advanceBase: true });
    sizes += snap.length;
    // Every other checkpoint updates the replica's images in place.
    const decoded = decodeSnapshot(snap, { base: held, updateBase: k % 2 === 0 });
    assert.equal(decoded.state, decodeSnapshot(encodeSnapshot(state)).state, `checkpoint ${k}`);
    if (k % 2 === 0) assert.is(decoded.images![0], held.memories[0], 'updated in place');
    held = { sha256: sha, memories: decoded.images! };
    assert.is(baseIdentity(held.memories), baseIdentity(writer.memories), `checkpoint ${k}: both sides agree`);
  }
  assert.is(held.memories[0].byteLength, 3 * PAGE, 'the memory grew on the way');
  console.log(`  12 incremental checkpoints: ${sizes} bytes in all`);
});

function wholeMemory(m: CanonicalState['memories'][number]): Uint8Array {
  const bytes = new Uint8Array(m.pages * PAGE);
  m.stored.forEach((page, i) => bytes.set(m.data.subarray(i * PAGE, (i + 1) * PAGE), page * PAGE));
  return bytes;
}

test('a missing base, a base of another identity or module, a base with another memory count: SnapshotError naming the base needed', () => {
  const state = paused(20_000).captureState();
  const base = startBase();
  const snap = encodeSnapshot(state, { base });
  const identity = baseIdentity(base.memories);
  assert.throws(() => decodeSnapshot(snap), isSnapshotError(new RegExp(`needs base ${identity} of module ${sha}, and none was given`)));
  assert.throws(() => decodeSnapshot(snap, { base: () => undefined }), isSnapshotError(/none was given/));
  const other = { sha256: sha, memories: [MemoryImage.empty(2 * PAGE)] };
  assert.throws(() => decodeSnapshot(snap, { base: other }), isSnapshotError(new RegExp(`needs base ${identity}.*the base given is ${baseIdentity(other.memories)}`)));
  const oneByteOff = base.memories[0].clone();
  const flipped = oneByteOff.bytes.slice();
  flipped[PAGE + 40] ^= 1;
  oneByteOff.take(flipped, oneByteOff.changedBlocks(flipped));
  assert.throws(() => decodeSnapshot(snap, { base: { sha256: sha, memories: [oneByteOff] } }), isSnapshotError(/the base given is/));
  assert.throws(() => decodeSnapshot(snap, { base: { sha256: 'ab'.repeat(32), memories: base.memories } }), isSnapshotError(/the base given is of module abab/));
  assert.throws(() => encodeSnapshot(state, { base: { sha256: 'ab'.repeat(32), memories: base.memories } }), isSnapshotError(/base is of module/));
  assert.throws(() => encodeSnapshot(state, { base: { sha256: sha, memories: [] } }), isSnapshotError(/0 memories, the state 1/));
  assert.throws(() => Program.resume(snap, { module: compiled }), isSnapshotError(/needs base/), 'resuming without the base');
  assert.throws(() => decodeSnapshot(snap, { base, maxMemoryBytes: PAGE }), isSnapshotError(/memory 0 of 2 pages would exceed the limit of 65536 bytes/));
  assert.is(decodeSnapshot(snap, { base, maxMemoryBytes: 2 * PAGE }).state.memories[0].pages, 2);
});

// --- hostile delta snapshots ---------------------------------------------------------------

const random = new Seeded(20261202);
const rand = (): number => random.next();
const int = (n: number): number => random.int(n);

function reseal(b: Uint8Array): Uint8Array {
  new DataView(b.buffer, b.byteOffset).setUint32(12, crc32(b.subarray(HEADER_SIZE)), true);
  return b;
}

function withBody(original: Uint8Array, body: unknown): Uint8Array {
  const raw = encode(body, { useBigInt64: true });
  const payload = lz4CompressBlock(raw);
  const out = new Uint8Array(HEADER_SIZE + payload.length);
  out.set(original.subarray(0, HEADER_SIZE));
  out.set(payload, HEADER_SIZE);
  const view = new DataView(out.buffer);
  view.setUint32(16, payload.length, true);
  view.setUint32(20, raw.length, true);
  return reseal(out);
}

function bodyOf(bytes: Uint8Array): Record<string, any> {
  return decode(uncompressSync(Buffer.from(bytes.buffer, bytes.byteOffset + HEADER_SIZE, bytes.length - HEADER_SIZE)), { useBigInt64: true }) as Record<string, any>;
}

test('structural corruptions of the base section are refused', () => {
  const base = startBase();
  const snap = encodeSnapshot(paused(20_000).captureState(), { base });
  const edits: [string, (body: Record<string, any>) => void, RegExp][] = [
    ['no base section', (b) => { delete b['base']; }, /no base section/],
    ['identity not a hash', (b) => { b['base'].identity = 'x'; }, /base\.identity is not a sha256/],
    ['another module', (b) => { b['base'].module = 'cd'.repeat(32); }, /another module than the header/],
    ['a delta missing', (b) => { b['base'].memories = []; }, /not a list of 1 deltas/],
    ['a delta not binary', (b) => { b['base'].memories[0] = 7; }, /not binary/],
    ['a delta of another length', (b) => { b['state'].memories[0].pages = 3; }, /memory 0: /],
    ['pages stored too', (b) => { b['state'].memories[0].stored = [0]; b['state'].memories[0].data = new Uint8Array(PAGE); }, /stores pages/],
    ['a delta cut short', (b) => { const d = b['base'].memories[0] as Uint8Array; b['base'].memories[0] = d.subarray(0, d.length - 1); }, /memory 0: invalid block delta/],
  ];
  for (const [name, edit, error] of edits) {
    const body = bodyOf(snap);
    edit(body);
    assert.throws(() => decodeSnapshot(withBody(snap, body), { base }), isSnapshotError(error), name);
  }
  const full = encodeSnapshot(paused(20_000).captureState());
  const body = bodyOf(full);
  body['base'] = bodyOf(snap)['base'];
  assert.throws(() => decodeSnapshot(withBody(full, body), { base }), isSnapshotError(/header does not say delta/));
});

test('300 random mutations of a delta snapshot (file bytes, and delta bytes resealed): a SnapshotError leaving the base as it was, or a state of the right shape', () => {
  let base = startBase();
  const identity = baseIdentity(base.memories);
  const state = paused(66_000).captureState();
  const snap = encodeSnapshot(state, { base });
  const delta = bodyOf(snap)['base'].memories[0] as Uint8Array;
  let refused = 0, decoded = 0;
  for (let k = 0; k < 300; k++) {
    let mutant: Uint8Array;
    if (k % 3 === 0) {
      mutant = snap.slice();
      mutant[int(mutant.length)] ^= 1 << int(8);
    } else {
      const body = bodyOf(snap);
      const d = delta.slice();
      // Mostly the header and runs (structure), sometimes the data.
      const at = k % 3 === 1 ? int(Math.min(d.length, 64)) : int(d.length);
      d[at] = int(4) === 0 ? 0xff : int(256);
      body['base'].memories[0] = d;
      mutant = withBody(snap, body);
    }
    try {
      // In place: a refused snapshot must not have touched the base.
      const r = decodeSnapshot(mutant, { base, updateBase: true });
      decoded++;
      assert.is(r.state.memories[0].pages * PAGE, r.images![0].byteLength, `mutant ${k}`);
      assert.is(r.state.memories[0].data.length, r.state.memories[0].stored.length * PAGE);
      base = startBase();
    } catch (e) {
      assert.ok(e instanceof SnapshotError, `mutant ${k}: ${(e as Error).stack}`);
      assert.is(baseIdentity(base.memories), identity, `mutant ${k}: the base is unchanged`);
      refused++;
    }
  }
  assert.ok(refused >= 150, `${refused} refused, ${decoded} decoded`);
});

// --- inspect -----------------------------------------------------------------------------

test("wasmig inspect --json on a delta snapshot: its base, blocks stored of total, the delta's size; the text shows them", () => {
  const dir = mkdtempSync(join(tmpdir(), 'wasmig-delta-'));
  try {
    const base = startBase();
    const file = join(dir, 'job.snap');
    writeFileSync(file, encodeSnapshot(paused(400).captureState(), { base }));
    const r = wasmig(['inspect', '--json', file]);
    assert.is(r.status, 0, r.stderr);
    const d = JSON.parse(r.stdout) as SnapshotDescription;
    assert.is(d.delta!.base, baseIdentity(base.memories));
    assert.is(d.delta!.baseModule, sha);
    const m = d.delta!.memories[0];
    assert.is(m.blocksTotal, 2 * PAGE / BLOCK_SIZE);
    assert.ok(m.blocksStored > 0 && m.blocksStored < m.blocksTotal, `${m.blocksStored} blocks`);
    assert.ok(m.bytes >= m.blocksStored * BLOCK_SIZE && m.bytes < m.blocksStored * BLOCK_SIZE + 1024);
    const text = formatDescription(file, d);
    assert.match(text, new RegExp(`base     ${d.delta!.base} \\(delta against it, [0-9.]+ KiB of blocks\\)`));
    assert.match(text, new RegExp(`memory 0 2 pages \\(128\\.0 KiB\\), max 8; delta: ${m.blocksStored} of 32 blocks stored`));
    const full = inspectSnapshot(encodeSnapshot(paused(20_000).captureState()));
    assert.is(full.delta, null);
    assert.not.match(formatDescription(file, full), /^base/m);
    const resumed = wasmig(['resume', file]);
    assert.is(resumed.status, 1);
    assert.match(resumed.stderr, /^wasmig: .*job\.snap: a delta snapshot: it needs base [0-9a-f]{64} of module [0-9a-f]{64}, and none was given\n$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
