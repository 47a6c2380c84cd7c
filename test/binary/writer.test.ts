/**
 * `ByteWriter.name`: a byte length, then UTF-8, as a TextEncoder makes it, whether the
 * name is ASCII (written as it is) or not (encoded), lone surrogates included.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ByteWriter } from '../../src/binary/index.ts';

const written = (s: string): number[] => {
  const w = new ByteWriter().name(s);
  return [...w.bytes.subarray(0, w.length)];
};
const expected = (s: string): number[] => {
  const b = new TextEncoder().encode(s);
  return [...new ByteWriter().u32(b.length).bytes.subarray(0, b.length < 128 ? 1 : 2), ...b];
};

test('a name is its UTF-8 byte length, then its UTF-8 bytes', () => {
  for (const s of ['', 'f12', 'wasi_snapshot_preview1', '\u007f', 'caf\u00e9', '\u{1F600}x', 'a\ud800b', 'x'.repeat(200), `${'y'.repeat(130)}\u00e9`]) {
    assert.equal(written(s), expected(s), JSON.stringify(s));
  }
});

test('names follow one another in one writer', () => {
  const w = new ByteWriter().name('ab').name('\u00e9').name('c');
  assert.equal([...w.bytes.subarray(0, w.length)], [2, 0x61, 0x62, 2, 0xc3, 0xa9, 1, 0x63]);
});

test.run();
