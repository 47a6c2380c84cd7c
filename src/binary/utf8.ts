/**
 * Strict UTF-8 decoding of names. Spec: https://webassembly.github.io/spec/core/binary/values.html#names
 * (the WHATWG decoder in fatal mode rejects exactly what the spec forbids: overlong forms,
 * surrogates, code points above U+10FFFF and truncated sequences).
 */

// ignoreBOM keeps a leading U+FEFF in the name instead of silently dropping it.
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Decodes `bytes[start, end)`; undefined when it is not well-formed UTF-8. */
export function decodeUtf8(bytes: Uint8Array, start: number, end: number): string | undefined {
  // Most names are short ASCII identifiers: skip the decoder's call overhead for them.
  if (end - start <= 64) {
    let s = '';
    let i = start;
    for (; i < end; i++) {
      const c = bytes[i]!;
      if (c >= 0x80) break;
      s += String.fromCharCode(c);
    }
    if (i === end) return s;
  }
  try {
    return decoder.decode(bytes.subarray(start, end));
  } catch {
    return undefined;
  }
}
