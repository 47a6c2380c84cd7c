import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ByteReader } from '../../src/binary/index.ts';
import { DecodeError } from '../../src/errors/index.ts';

function reader(bytes: number[]): ByteReader {
  return new ByteReader(new Uint8Array(bytes));
}

/** Asserts that `f` throws a DecodeError whose message starts with `text`, at `offset`. */
function throwsDecode(f: () => unknown, text: string, offset: number): void {
  try {
    f();
  } catch (e) {
    assert.instance(e, DecodeError);
    const err = e as DecodeError;
    assert.ok(err.message.startsWith(text), `"${err.message}" should start with "${text}"`);
    assert.is(err.offset, offset, `offset of "${err.message}"`);
    return;
  }
  assert.unreachable(`expected DecodeError "${text}"`);
}

type Ok = [bytes: number[], value: number];
type Bad = [bytes: number[], message: string, offset: number];

const u32Ok: Ok[] = [
  [[0x00], 0],
  [[0x7f], 127],
  [[0x80, 0x01], 128],
  [[0x80, 0x80, 0x80, 0x80, 0x00], 0], // padded zero, 5 bytes
  [[0xe5, 0x8e, 0x26], 624485],
  [[0xff, 0xff, 0xff, 0xff, 0x0f], 0xffffffff],
  [[0x80, 0x80, 0x80, 0x80, 0x08], 0x80000000],
];
const u32Bad: Bad[] = [
  [[0x80, 0x80, 0x80, 0x80, 0x80, 0x00], 'integer representation too long', 5],
  [[0xff, 0xff, 0xff, 0xff, 0x1f], 'integer too large', 4], // bit 32 set
  [[0x80, 0x80, 0x80, 0x80, 0x70], 'integer too large', 4],
  [[0x80, 0x80, 0x80, 0x80, 0x10], 'integer too large', 4],
  [[0x80], 'unexpected end', 1],
  [[], 'unexpected end', 0],
];

test('u32: values and limits', () => {
  for (const [bytes, value] of u32Ok) {
    const r = reader(bytes);
    assert.is(r.u32(), value, `u32 ${bytes}`);
    assert.is(r.pos, bytes.length);
  }
  for (const [bytes, message, offset] of u32Bad) throwsDecode(() => reader(bytes).u32(), message, offset);
});

const s32Ok: Ok[] = [
  [[0x00], 0],
  [[0x7f], -1],
  [[0x3f], 63],
  [[0x40], -64],
  [[0xc0, 0x00], 64],
  [[0x80, 0x7f], -128],
  [[0xff, 0xff, 0xff, 0xff, 0x07], 0x7fffffff],
  [[0x80, 0x80, 0x80, 0x80, 0x78], -0x80000000],
  [[0xff, 0xff, 0xff, 0xff, 0x7f], -1], // padded -1
  [[0x80, 0x80, 0x80, 0x80, 0x00], 0],
];
const s32Bad: Bad[] = [
  [[0xff, 0xff, 0xff, 0xff, 0x0f], 'integer too large', 4], // 2^32-1 is not an s32
  [[0x80, 0x80, 0x80, 0x80, 0x70], 'integer too large', 4],
  [[0x80, 0x80, 0x80, 0x80, 0x08], 'integer too large', 4],
  [[0xff, 0xff, 0xff, 0xff, 0xff, 0x7f], 'integer representation too long', 5],
  [[0xff], 'unexpected end', 1],
];

test('s32: values and limits', () => {
  for (const [bytes, value] of s32Ok) {
    const r = reader(bytes);
    assert.is(r.s32(), value, `s32 ${bytes}`);
    assert.is(r.pos, bytes.length);
  }
  for (const [bytes, message, offset] of s32Bad) throwsDecode(() => reader(bytes).s32(), message, offset);
});

const s33Ok: Ok[] = [
  [[0x40], -64],
  [[0x7f], -1],
  [[0x00], 0],
  [[0xff, 0xff, 0xff, 0xff, 0x0f], 0xffffffff], // the largest type index
  [[0x80, 0x80, 0x80, 0x80, 0x70], -(2 ** 32)],
];
const s33Bad: Bad[] = [
  [[0xff, 0xff, 0xff, 0xff, 0x1f], 'integer too large', 4],
  [[0x80, 0x80, 0x80, 0x80, 0x60], 'integer too large', 4],
  [[0x80, 0x80, 0x80, 0x80, 0x80, 0x00], 'integer representation too long', 5],
];

test('s33: values and limits', () => {
  for (const [bytes, value] of s33Ok) assert.is(reader(bytes).s33(), value, `s33 ${bytes}`);
  for (const [bytes, message, offset] of s33Bad) throwsDecode(() => reader(bytes).s33(), message, offset);
});

/** Signed LEB128 encoder for the round-trip test (BigInt is fine in tests). */
function sleb(n: bigint): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = Number(n & 0x7fn);
    n >>= 7n;
    const done = (n === 0n && (byte & 0x40) === 0) || (n === -1n && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

function readS64(bytes: number[]): bigint {
  const r = reader(bytes);
  const lo = r.s64();
  const hi = r.hi;
  assert.is(r.pos, bytes.length, `s64 length of ${bytes}`);
  return BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo >>> 0));
}

test('s64: halves round-trip for edge values', () => {
  const values: bigint[] = [
    0n, 1n, -1n, 63n, -64n, 64n, -65n, 0x7fffffffn, -0x80000000n, 0x80000000n, 0xffffffffn,
    0x100000000n, -0x100000001n, 0x3ffffffffn, 0x7ffffffffn, 0x800000000n, -0x800000000n,
    (1n << 62n) - 1n, -(1n << 62n), (1n << 63n) - 1n, -(1n << 63n), 0x0123456789abcdefn, -0x0123456789abcdefn,
  ];
  for (const v of values) assert.is(readS64(sleb(v)), v, `s64 ${v}`);
  // Padded encodings are allowed up to 10 bytes.
  assert.is(readS64([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00]), 0n);
  assert.is(readS64([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]), -1n);
});

test('s64: limits', () => {
  const bad: Bad[] = [
    [[0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00], 'integer representation too long', 10],
    [[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], 'integer too large', 9],
    [[0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7e], 'integer too large', 9],
    [[0x80, 0x80], 'unexpected end', 2],
  ];
  for (const [bytes, message, offset] of bad) throwsDecode(() => reader(bytes).s64(), message, offset);
});

test('u1 (limits flags): 0 and 1 only', () => {
  assert.is(reader([0x00]).u1(), 0);
  assert.is(reader([0x01]).u1(), 1);
  throwsDecode(() => reader([0x02]).u1(), 'integer too large', 0);
  throwsDecode(() => reader([0x81, 0x00]).u1(), 'integer representation too long', 1);
});

test('len: bounded by the bytes left, counted from the length field', () => {
  assert.is(reader([0x02, 0xaa, 0xbb]).len(), 2);
  assert.is(reader([0x03, 0xaa, 0xbb]).len(), 3); // as the reference interpreter: the field counts
  throwsDecode(() => reader([0x04, 0xaa, 0xbb]).len(), 'length out of bounds', 0);
});

test('name: UTF-8 checked, views and fixed-size reads fail cleanly at the end', () => {
  const enc = (s: string) => [...new TextEncoder().encode(s)];
  const ok = ['', 'abc', 'héllo', '\u{10ffff}', '\ufeffbom', 'x'.repeat(100)];
  for (const s of ok) assert.is(reader([enc(s).length, ...enc(s)]).name(), s);
  const malformed: number[][] = [
    [0xc0, 0x80], // overlong NUL
    [0xed, 0xa0, 0x80], // surrogate
    [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
    [0xe2, 0x82], // truncated
    [0xff],
  ];
  for (const bad of malformed) throwsDecode(() => reader([bad.length, ...bad]).name(), 'malformed UTF-8 encoding', 0);
  throwsDecode(() => reader([0x00, 0x61]).u32le(), 'unexpected end', 2);
  throwsDecode(() => reader([0x01]).view(2), 'unexpected end', 1);
});

test.run();
