/**
 * Decoding memory64 and table64 (Wasm 3.0): limits flags 0x04..0x05 (and 0x07 for a
 * shared 64-bit memory, rejected later by validation), u64 limits and memarg offsets up
 * to 2^64-1 in ten LEB128 bytes, and the malformed encodings around them.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createInstr, decodeModule, InstructionReader } from '../../src/binary/index.ts';
import { DecodeError } from '../../src/errors/index.ts';
import { header, section, u32, vec } from '../helpers/module-builder.ts';

function bin(...parts: number[][]): Uint8Array {
  return new Uint8Array([...header(), ...parts.flat()]);
}

function throwsDecode(bytes: Uint8Array, text: string): void {
  assert.throws(() => decodeModule(bytes), (e: unknown) => e instanceof DecodeError && (e as Error).message.startsWith(text), `DecodeError "${text}"`);
}

/** Ten LEB128 bytes of 2^64-1. */
const U64_MAX = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];

test('memory limits: flag 0x04 without a maximum, 0x05 with one, both u64', () => {
  const m = decodeModule(bin(section(5, vec([[0x04, ...u32(3)], [0x05, 0, ...u32(2 ** 48)]]))));
  assert.equal(m.memories.map((x) => x.limits), [{ min: 3, max: undefined, index64: true }, { min: 0, max: 2 ** 48, index64: true }]);
  // A 32-bit memory keeps the shape it had: no index64 field.
  assert.equal(decodeModule(bin(section(5, vec([[0x01, 1, 2]])))).memories[0].limits, { min: 1, max: 2 });
});

test('table limits: flags 0x04 and 0x05; a maximum of 2^64-1 decodes (rounded to a number)', () => {
  const m = decodeModule(bin(section(4, vec([[0x70, 0x04, 1], [0x70, 0x05, 0, ...U64_MAX]]))));
  assert.equal(m.tables.map((t) => t.limits), [{ min: 1, max: undefined, index64: true }, { min: 0, max: 2 ** 64, index64: true }]);
});

test('a shared 64-bit memory (0x07) decodes for validation to refuse; other flags stay malformed', () => {
  assert.equal(decodeModule(bin(section(5, vec([[0x07, 1, 2]])))).memories[0], { limits: { min: 1, max: 2, index64: true }, shared: true });
  throwsDecode(bin(section(5, vec([[0x08, 1]]))), 'integer too large');
  throwsDecode(bin(section(4, vec([[0x70, 0x06, 1]]))), 'integer too large');
});

test('u64 limits: an 11th byte is too long, a 10th byte with bits past 63 too large', () => {
  throwsDecode(bin(section(5, vec([[0x04, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00]]))), 'integer representation too long');
  throwsDecode(bin(section(5, vec([[0x04, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02]]))), 'integer too large');
});

test('a memarg offset is a u64: exact below 2^53, 2^64-1 read in ten bytes', () => {
  const read = (bytes: number[]): number => {
    const r = new InstructionReader(new Uint8Array(bytes), 0, bytes.length);
    const ins = createInstr();
    r.read(ins);
    assert.is(r.pos, bytes.length);
    return ins.b;
  };
  assert.is(read([0x28, 2, ...u32(2 ** 53 - 1)]), 2 ** 53 - 1);
  assert.is(read([0x28, 2, ...u32(2 ** 32)]), 2 ** 32);
  assert.is(read([0x28, 2, ...U64_MAX]), 2 ** 64);
  assert.throws(() => read([0x28, 2, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x03]), /integer too large/);
});

test.run();
