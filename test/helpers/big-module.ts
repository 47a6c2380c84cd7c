import { ByteWriter } from '../../src/binary/index.ts';

/**
 * `count` functions of type [] -> [] whose bodies are `i32.const 1; drop` repeated to
 * about `size` bytes, and a `_start` that loops, exported after them (the test helper's
 * builder spreads its bytes, too many for it here).
 */
export function bigModule(count: number, size: number): Uint8Array {
  const body = new ByteWriter().u8(0);
  for (let i = 0; i < Math.floor(size / 3); i++) body.u8(0x41).u8(0x01).u8(0x1a);
  body.u8(0x0b);
  // _start counts to 50,000,000: long enough to move to V8 once the worker is done.
  const start = new ByteWriter().raw([1, 1, 0x7f, 0x03, 0x40, 0x20, 0, 0x41, 1, 0x6a, 0x22, 0, 0x41, 0x80, 0xe1, 0xeb, 0x17, 0x49, 0x0d, 0, 0x0b, 0x0b]);
  const code = new ByteWriter().u32(count + 1);
  for (let i = 0; i < count; i++) code.u32(body.length).append(body);
  code.u32(start.length).append(start);
  const funcs = new ByteWriter().u32(count + 1);
  for (let i = 0; i <= count; i++) funcs.u8(0);
  return new ByteWriter()
    .raw([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0])
    .section(1, new ByteWriter().raw([1, 0x60, 0, 0]))
    .section(3, funcs)
    .section(7, new ByteWriter().u32(1).name('_start').u8(0).u32(count))
    .section(10, code)
    .toBytes();
}
