/** A module with a lot of code, written directly (the module builder spreads its bytes, too many for it). */
/**
 * `count` functions of type [] -> [] whose bodies are `i32.const 1; drop` repeated to
 * about `size` bytes, and a `_start` that loops, exported after them (the test helper's
 * builder spreads its bytes, too many for it here).
 */
export function bigModule(count: number, size: number): Uint8Array {
  const leb = (n: number): number[] => {
    const out: number[] = [];
    do {
      let byte = n & 0x7f;
      n >>>= 7;
      if (n !== 0) byte |= 0x80;
      out.push(byte);
    } while (n !== 0);
    return out;
  };
  const section = (id: number, body: Buffer): Buffer => Buffer.concat([Buffer.from([id, ...leb(body.length)]), body]);
  const filler = Buffer.alloc(Math.floor(size / 3) * 3);
  for (let i = 0; i < filler.length; i += 3) filler.set([0x41, 0x01, 0x1a], i);
  const body = Buffer.concat([Buffer.from([0]), filler, Buffer.from([0x0b])]);
  // _start counts to 50,000,000: long enough to move to V8 once the worker is done.
  const start = Buffer.from([1, 1, 0x7f, 0x03, 0x40, 0x20, 0, 0x41, 1, 0x6a, 0x22, 0, 0x41, 0x80, 0xe1, 0xeb, 0x17, 0x49, 0x0d, 0, 0x0b, 0x0b]);
  const bodies = [...Array.from({ length: count }, () => body), start];
  const code = Buffer.concat([Buffer.from(leb(bodies.length)), ...bodies.map((b) => Buffer.concat([Buffer.from(leb(b.length)), b]))]);
  return Buffer.concat([
    Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]),
    section(1, Buffer.from([1, 0x60, 0, 0])),
    section(3, Buffer.from([...leb(count + 1), ...new Array<number>(count + 1).fill(0)])),
    section(7, Buffer.from([1, 6, ...Buffer.from('_start'), 0, ...leb(count)])),
    section(10, code),
  ]);
}
