let table: Uint32Array | undefined;

/** CRC-32 (IEEE, as zlib and PNG), in JavaScript: for browsers and Node versions without `zlib.crc32`. */
export function crc32Js(bytes: Uint8Array): number {
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

/** The same CRC-32 by its plain name (tests that forge headers use it). */
export const crc32 = crc32Js;
