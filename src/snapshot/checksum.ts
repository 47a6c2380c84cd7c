import * as zlib from 'node:zlib';

let table: Uint32Array | undefined;

/** CRC-32 (IEEE, as zlib and PNG), in JavaScript: for Node versions without `zlib.crc32`. */
function crc32Js(bytes: Uint8Array): number {
  if (table === undefined) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = table[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

const native = (zlib as unknown as { crc32?: (data: Uint8Array) => number }).crc32;

/** CRC-32 of `bytes` (Node's native one from 20.15, else a table-driven one). */
export function crc32(bytes: Uint8Array): number {
  return native ? native(bytes) >>> 0 : crc32Js(bytes);
}
