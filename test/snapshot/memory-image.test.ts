/**
 * Memory images and block deltas: the changed blocks are found exactly, take + apply
 * reproduce a memory bit for bit over random write patterns, both sides agree on the
 * digest, and the binary form of a delta refuses anything malformed.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SnapshotError } from '../../src/errors/index.ts';
import { loadModule } from '../../src/program/index.ts';
import {
  BLOCK_SIZE, checkBlockDelta, decodeBlockDelta, encodeBlockDelta, MemoryImage,
} from '../../src/snapshot/index.ts';
import type { BlockDelta } from '../../src/snapshot/index.ts';
import { ValType } from '../../src/wasm/types.ts';
import { constExpr, ModuleBuilder } from '../helpers/module-builder.ts';
import { Seeded } from '../helpers/seeded.ts';

const PAGE = 65536;
const random = new Seeded(20261202);
const rand = (): number => random.next();
const int = (n: number): number => random.int(n);

const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));

function isSnapshotError(pattern: RegExp): (e: unknown) => boolean {
  return (e: unknown) => e instanceof SnapshotError && pattern.test((e as Error).message);
}

// --- changed blocks ---------------------------------------------------------------------

interface ChangeCase {
  name: string;
  image: number;
  current: number;
  /** Byte offsets to change (in `current`, a copy of the image zero-extended or cut). */
  writes: number[];
  expected: number[];
}

const changeCases: ChangeCase[] = [
  { name: 'nothing changed', image: 4 * PAGE, current: 4 * PAGE, writes: [], expected: [] },
  { name: 'first byte', image: PAGE, current: PAGE, writes: [0], expected: [0] },
  { name: 'last byte', image: PAGE, current: PAGE, writes: [PAGE - 1], expected: [15] },
  { name: 'both edges of a block boundary', image: PAGE, current: PAGE, writes: [BLOCK_SIZE - 1, BLOCK_SIZE], expected: [0, 1] },
  { name: 'one block twice, others far apart', image: 8 * PAGE, current: 8 * PAGE, writes: [5, 6, 3 * PAGE + 17, 8 * PAGE - 2], expected: [0, 48, 127] },
  { name: 'partial last block', image: 10000, current: 10000, writes: [9999], expected: [2] },
  { name: 'growth, new bytes zero', image: PAGE, current: 3 * PAGE, writes: [], expected: [] },
  { name: 'growth, a non-zero byte in the new part', image: PAGE, current: 3 * PAGE, writes: [2 * PAGE + 5], expected: [32] },
  { name: 'growth from a partial block: its zero tail is unchanged', image: 5000, current: 3 * BLOCK_SIZE, writes: [], expected: [] },
  { name: 'growth from a partial block: a byte in its new tail', image: 5000, current: 3 * BLOCK_SIZE, writes: [6000], expected: [1] },
  { name: 'shorter current: only its own blocks', image: 4 * PAGE, current: PAGE, writes: [100], expected: [0] },
  { name: 'empty image, empty memory', image: 0, current: 0, writes: [], expected: [] },
];

for (const c of changeCases) {
  test(`changedBlocks: ${c.name}`, () => {
    const base = new Uint8Array(c.image);
    for (let i = 0; i < base.length; i += 97) base[i] = (i * 31) & 0xff || 1;
    const image = MemoryImage.from(base);
    const current = new Uint8Array(c.current);
    current.set(base.subarray(0, Math.min(c.image, c.current)));
    for (const w of c.writes) current[w] ^= 0x5a;
    assert.equal(Array.from(image.changedBlocks(current)), c.expected);
    // take + apply: the image becomes the memory, and so does a receiver's copy of the base.
    const receiver = MemoryImage.from(base);
    receiver.apply(image.take(current, image.changedBlocks(current)));
    assert.ok(same(image.bytes, current), "the sender's image is the memory");
    assert.ok(same(receiver.bytes, current), "the receiver's image is the memory");
    assert.is(receiver.digest(), image.digest());
    assert.is(image.changedBlocks(current).length, 0);
  });
}

test('changedBlocks sees every single-byte change, at every block edge', () => {
  const image = MemoryImage.empty(2 * PAGE);
  const current = new Uint8Array(2 * PAGE);
  for (let b = 0; b < 32; b++) {
    for (const at of [b * BLOCK_SIZE, b * BLOCK_SIZE + BLOCK_SIZE - 1, b * BLOCK_SIZE + int(BLOCK_SIZE)]) {
      current[at] = 1;
      assert.equal(Array.from(image.changedBlocks(current)), [b], `byte ${at}`);
      current[at] = 0;
    }
  }
});

// --- take / apply rounds ----------------------------------------------------------------

const patterns: { name: string; write(memory: Uint8Array): void }[] = [
  { name: 'scattered bytes', write: (m) => { for (let i = int(40); i >= 0; i--) m[int(m.length)] = int(256); } },
  { name: 'a run across blocks', write: (m) => { const at = int(m.length - 20000); m.fill(int(256), at, at + 1 + int(20000)); } },
  { name: 'a stack going up and down', write: (m) => { const top = m.length - 1 - int(3 * BLOCK_SIZE); for (let i = top; i < m.length; i += 8) m[i] = int(256); } },
  { name: 'words written back unchanged', write: (m) => { const at = int(m.length); m[at] = m[at]; } },
];

test('take + apply over 200 seeded rounds of random writes, with growth: the receiver holds the memory bit for bit', () => {
  let memory = new Uint8Array(2 * PAGE);
  memory.set(new TextEncoder().encode('initial data'), 1024);
  const sender = MemoryImage.from(memory);
  const receiver = MemoryImage.from(memory);
  let sent = 0;
  for (let round = 0; round < 200; round++) {
    const pattern = patterns[int(patterns.length)];
    pattern.write(memory);
    if (round % 37 === 36 && memory.length < 12 * PAGE) { // memory.grow
      const grown = new Uint8Array(memory.length + PAGE * (1 + int(2)));
      grown.set(memory);
      memory = grown;
    }
    const blocks = sender.changedBlocks(memory);
    const delta = sender.take(memory, blocks);
    const wire = decodeBlockDelta(encodeBlockDelta(delta));
    receiver.apply(wire);
    sent += wire.data.length;
    assert.ok(same(receiver.bytes, memory), `round ${round} (${pattern.name})`);
    assert.ok(same(sender.bytes, memory), `round ${round}: the sender's image follows`);
    if (round % 10 === 0) assert.is(receiver.digest(), sender.digest(), `round ${round}: digests`);
  }
  assert.is(receiver.digest(), MemoryImage.from(memory).digest(), "incremental digests equal a fresh image's");
  assert.ok(sent < 200 * memory.length / 4, `only changes travel (${sent} bytes)`);
});

test('take copies the blocks once: a write after take is in neither the delta nor the image, so the next round sends it', () => {
  const memory = new Uint8Array(PAGE);
  const image = MemoryImage.empty(PAGE);
  memory[10] = 1;
  const delta = image.take(memory, image.changedBlocks(memory));
  memory[11] = 2;
  assert.is(delta.data[11], 0);
  assert.is(image.bytes[11], 0);
  assert.equal(Array.from(image.changedBlocks(memory)), [0]);
});

test('extract leaves the image as it is; take with blocks out of order or range is refused', () => {
  const memory = new Uint8Array(PAGE).fill(7);
  const image = MemoryImage.empty(PAGE);
  const delta = image.extract(memory, image.changedBlocks(memory));
  assert.is(delta.blocks.length, 16);
  assert.is(image.changedBlocks(memory).length, 16);
  assert.throws(() => image.take(memory, Uint32Array.of(2, 1)), isSnapshotError(/not ascending/));
  assert.throws(() => image.take(memory, Uint32Array.of(16)), isSnapshotError(/16 blocks/));
});

test('a memory in a SharedArrayBuffer (a job in a worker thread) is compared and taken the same way', () => {
  const shared = new Uint8Array(new SharedArrayBuffer(2 * PAGE));
  const image = MemoryImage.empty(2 * PAGE);
  shared[PAGE + 5] = 9;
  shared[7] = 1;
  assert.equal(Array.from(image.changedBlocks(shared)), [0, 16]);
  const receiver = MemoryImage.empty(2 * PAGE);
  receiver.apply(image.take(shared.subarray(0, 2 * PAGE), image.changedBlocks(shared)));
  assert.ok(same(receiver.bytes, shared));
});

test('a sparse memory (runs of pages, zeros between) gives the same blocks and bytes as the whole one, over 100 seeded cases', () => {
  for (let k = 0; k < 100; k++) {
    const pages = 1 + int(6);
    const whole = new Uint8Array(pages * PAGE);
    const runs: { at: number; bytes: Uint8Array }[] = [];
    for (let p = 0; p < pages; p++) {
      if (int(2) === 0) continue;
      for (let n = int(5); n >= 0; n--) whole[p * PAGE + int(PAGE)] = 1 + int(255);
      const last = runs[runs.length - 1];
      if (last && last.at + last.bytes.length === p * PAGE) runs[runs.length - 1] = { at: last.at, bytes: whole.subarray(last.at, (p + 1) * PAGE) };
      else runs.push({ at: p * PAGE, bytes: whole.subarray(p * PAGE, (p + 1) * PAGE) });
    }
    // An image that is the memory changed here and there, shorter or longer.
    const imageBytes = new Uint8Array(Math.max(0, pages + int(3) - 1) * PAGE);
    imageBytes.set(whole.subarray(0, Math.min(whole.length, imageBytes.length)));
    for (let n = int(6); n > 0 && imageBytes.length; n--) imageBytes[int(imageBytes.length)] ^= 1 + int(255);
    const image = MemoryImage.from(imageBytes);
    const sparse = { byteLength: whole.length, runs };
    const blocks = image.changedBlocks(whole);
    assert.equal(Array.from(image.changedBlocks(sparse)), Array.from(blocks), `case ${k}`);
    assert.ok(same(image.extract(sparse, blocks).data, image.extract(whole, blocks).data), `case ${k}: bytes`);
    image.take(sparse, blocks);
    assert.ok(same(image.bytes, whole), `case ${k}: taken`);
  }
  const image = MemoryImage.empty(0);
  const bytes = new Uint8Array(PAGE);
  for (const runs of [[{ at: 100, bytes }], [{ at: 0, bytes: bytes.subarray(0, 100) }, { at: PAGE, bytes }], [{ at: PAGE, bytes }, { at: 0, bytes }], [{ at: 2 * PAGE, bytes }]]) {
    assert.throws(() => image.changedBlocks({ byteLength: 2 * PAGE, runs }), isSnapshotError(/sparse memory run/));
  }
});

// --- digests ----------------------------------------------------------------------------

test('digest: equal bytes give equal digests; any one-byte change, or a length change, changes it', () => {
  const memory = new Uint8Array(3 * PAGE + 100);
  for (let i = 0; i < memory.length; i += 13) memory[i] = i & 0xff;
  const image = MemoryImage.from(memory);
  const d0 = image.digest();
  assert.match(d0, /^[0-9a-f]{64}$/);
  assert.is(MemoryImage.from(memory).digest(), d0);
  const seen = new Set([d0]);
  for (const at of [0, 1, BLOCK_SIZE, PAGE - 1, PAGE, 2 * PAGE + int(PAGE), memory.length - 1]) {
    const changed = memory.slice();
    changed[at] ^= 1;
    image.take(changed, image.changedBlocks(changed));
    const d = image.digest();
    assert.not.ok(seen.has(d), `byte ${at}`);
    assert.is(d, MemoryImage.from(changed).digest(), `byte ${at}: incremental equals fresh`);
    seen.add(d);
    image.take(memory, image.changedBlocks(memory));
    assert.is(image.digest(), d0, `byte ${at} changed back`);
  }
  assert.is.not(MemoryImage.empty(PAGE).digest(), MemoryImage.empty(2 * PAGE).digest());
  assert.is(MemoryImage.empty(2 * PAGE).digest(), MemoryImage.from(new Uint8Array(2 * PAGE)).digest());
  const shrunk = MemoryImage.from(memory);
  shrunk.apply({ byteLength: PAGE, blockSize: BLOCK_SIZE, blocks: new Uint32Array(0), data: new Uint8Array(0) });
  assert.is(shrunk.digest(), MemoryImage.from(memory.subarray(0, PAGE)).digest(), 'a shortened image');
  shrunk.apply({ byteLength: 2 * PAGE, blockSize: BLOCK_SIZE, blocks: new Uint32Array(0), data: new Uint8Array(0) });
  const regrown = new Uint8Array(2 * PAGE);
  regrown.set(memory.subarray(0, PAGE));
  assert.ok(same(shrunk.bytes, regrown), 'regrown within its capacity: zeros again');
  assert.is(shrunk.digest(), MemoryImage.from(regrown).digest());
});

test('clone is independent', () => {
  const image = MemoryImage.from(new Uint8Array(PAGE).fill(1));
  const copy = image.clone();
  const d = image.digest();
  copy.apply({ byteLength: PAGE, blockSize: BLOCK_SIZE, blocks: Uint32Array.of(3), data: new Uint8Array(BLOCK_SIZE) });
  assert.is(image.digest(), d);
  assert.is.not(copy.digest(), d);
});

// --- the initial image ------------------------------------------------------------------

test("initial: zeros plus active data segments at constant offsets; an imported global's offset stays zero", () => {
  const b = new ModuleBuilder();
  const g = b.importGlobal('env', 'base', ValType.i32, false);
  b.memory(2);
  b.data({ mode: 'active', offset: constExpr.i32(16), bytes: [1, 2, 3] });
  b.data({ mode: 'passive', bytes: [9, 9] });
  b.data({ mode: 'active', offset: constExpr.globalGet(g), bytes: [8, 8] });
  b.data({ mode: 'active', offset: constExpr.i32(PAGE + 5), bytes: [4, 5] });
  const image = MemoryImage.initial(loadModule(b.build()));
  const expected = new Uint8Array(2 * PAGE);
  expected.set([1, 2, 3], 16);
  expected.set([4, 5], PAGE + 5);
  assert.ok(same(image.bytes, expected));
  assert.throws(() => MemoryImage.initial(loadModule(b.build()), 1), isSnapshotError(/no memory 1/));
});

// --- the binary form --------------------------------------------------------------------

function sampleDelta(): BlockDelta {
  const memory = new Uint8Array(5 * BLOCK_SIZE + 100);
  for (const at of [0, BLOCK_SIZE + 1, 2 * BLOCK_SIZE + 2, 5 * BLOCK_SIZE + 99]) memory[at] = 0xab;
  const image = MemoryImage.empty(0);
  return image.take(memory, image.changedBlocks(memory));
}

test('encode/decode: runs of blocks round trip; the short last block is short', () => {
  const delta = sampleDelta();
  assert.equal(Array.from(delta.blocks), [0, 1, 2, 5]);
  assert.is(delta.data.length, 3 * BLOCK_SIZE + 100);
  const bytes = encodeBlockDelta(delta);
  assert.is(bytes.length, 20 + 2 * 8 + delta.data.length, 'two runs');
  const back = decodeBlockDelta(bytes);
  assert.equal(Array.from(back.blocks), Array.from(delta.blocks));
  assert.is(back.byteLength, delta.byteLength);
  assert.ok(same(back.data, delta.data));
});

const malformed: { name: string; edit(b: Uint8Array, v: DataView): Uint8Array; error: RegExp }[] = [
  { name: 'truncated header', edit: (b) => b.subarray(0, 12), error: /header alone/ },
  { name: 'bad magic', edit: (b) => { b[0] = 0; return b; }, error: /magic/ },
  { name: 'another block size', edit: (b, v) => { v.setUint32(4, 8192, true); return b; }, error: /block size 8192/ },
  { name: 'a memory over the limit', edit: (b, v) => { v.setBigUint64(8, 1n << 40n, true); return b; }, error: /exceeds the limit/ },
  { name: 'too many runs for the bytes', edit: (b, v) => { v.setUint32(16, 0xffffffff, true); return b; }, error: /runs at byte 16/ },
  { name: 'runs out of order', edit: (b, v) => { v.setUint32(28, 1, true); return b; }, error: /not after the previous run/ },
  { name: 'an empty run', edit: (b, v) => { v.setUint32(24, 0, true); return b; }, error: /empty/ },
  { name: 'a run past the end', edit: (b, v) => { v.setUint32(28, 6, true); return b; }, error: /beyond the memory/ },
  { name: 'data cut short', edit: (b) => b.subarray(0, b.length - 1), error: /bytes present/ },
  { name: 'data too long', edit: (b) => Uint8Array.from([...b, 0]), error: /bytes present/ },
  { name: 'a shorter memory makes the last block short', edit: (b, v) => { v.setBigUint64(8, BigInt(5 * BLOCK_SIZE + 50), true); return b; }, error: /bytes present/ },
];

for (const c of malformed) {
  test(`decodeBlockDelta refuses: ${c.name}`, () => {
    const b = encodeBlockDelta(sampleDelta()).slice();
    const edited = c.edit(b, new DataView(b.buffer, b.byteOffset, b.length));
    assert.throws(() => decodeBlockDelta(edited), isSnapshotError(c.error));
  });
}

test("decodeBlockDelta: the caller's limit bounds the memory; 500 random mutations decode cleanly or give a SnapshotError", () => {
  const good = encodeBlockDelta(sampleDelta());
  assert.throws(() => decodeBlockDelta(good, { maxByteLength: BLOCK_SIZE }), isSnapshotError(/exceeds the limit of 4096/));
  let refused = 0;
  for (let k = 0; k < 500; k++) {
    const b = good.slice(0, int(4) === 0 ? int(good.length) : good.length);
    for (let n = 1 + int(4); n > 0; n--) if (b.length) b[int(Math.min(b.length, 40))] = int(4) === 0 ? 0xff : int(256);
    let delta: BlockDelta;
    try {
      delta = decodeBlockDelta(b, { maxByteLength: 1 << 24 });
    } catch (e) {
      assert.ok(e instanceof SnapshotError, `mutant ${k}: ${(e as Error).message}`);
      refused++;
      continue;
    }
    checkBlockDelta(delta);
    const image = MemoryImage.empty(0);
    image.apply(delta);
    assert.is(image.byteLength, delta.byteLength);
  }
  assert.ok(refused > 100, `${refused} refused`);
});

test('apply refuses an inconsistent plain delta and leaves the image unchanged', () => {
  const image = MemoryImage.from(new Uint8Array(PAGE).fill(3));
  const d = image.digest();
  const cases: [BlockDelta, RegExp][] = [
    [{ byteLength: PAGE, blockSize: 512, blocks: new Uint32Array(0), data: new Uint8Array(0) }, /block size/],
    [{ byteLength: PAGE, blockSize: BLOCK_SIZE, blocks: Uint32Array.of(1, 1), data: new Uint8Array(2 * BLOCK_SIZE) }, /not above/],
    [{ byteLength: PAGE, blockSize: BLOCK_SIZE, blocks: Uint32Array.of(16), data: new Uint8Array(BLOCK_SIZE) }, /beyond/],
    [{ byteLength: PAGE, blockSize: BLOCK_SIZE, blocks: Uint32Array.of(0), data: new Uint8Array(10) }, /data holds 10 bytes/],
    [{ byteLength: -1, blockSize: BLOCK_SIZE, blocks: new Uint32Array(0), data: new Uint8Array(0) }, /memory length/],
  ];
  for (const [delta, error] of cases) assert.throws(() => image.apply(delta), isSnapshotError(error), String(error));
  assert.is(image.digest(), d);
  assert.is(image.byteLength, PAGE);
});

test.run();
