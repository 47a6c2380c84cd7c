/*
 * Brotli compression and decompression of generated text, for tools/bench/programs.ts: a
 * second large real C code base that wasmig's interpreter was not tuned on, beside
 * SQLite's (tools/bench/sqlite-workload.c). Unlike SQLite's workload, its time goes to
 * tight integer loops over byte buffers (hashing, match finding, entropy coding) rather
 * than to a bytecode interpreter. Given a number of KiB of input (default 256), it runs
 * as long as one wants; compression at quality 9 is most of the time. Built by
 * tools/bench/build-brotli.sh; brotli's sources are not kept in this repository.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <brotli/decode.h>
#include <brotli/encode.h>

// Quality 9 (the slowest before the Zopfli-style 10 and 11) with a 4 MiB window: a
// thorough match search, so that compression is most of the run (about 85% under V8 at
// 1 MiB) and decompression a small part.
#define QUALITY 9
#define LGWIN 22

static uint32_t state = 2463534242u;

// Marsaglia's xorshift32: the same input on every engine and every run.
static uint32_t next(void) {
  state ^= state << 13;
  state ^= state >> 17;
  state ^= state << 5;
  return state;
}

static const char *const words[] = {
  "the", "of", "and", "to", "in", "is", "that", "for", "it", "as", "with", "was",
  "on", "be", "by", "at", "this", "from", "or", "which", "an", "are", "not", "have",
  "memory", "module", "function", "table", "value", "stack", "frame", "page", "engine",
  "process", "snapshot", "thread", "buffer", "signal", "instance", "export", "import",
  "global", "branch", "loop", "block", "local", "result", "type", "section", "offset",
  "migrate", "resume", "compile", "validate", "decode", "encode", "interpreter", "native",
  "compression", "window", "quality", "dictionary", "histogram", "checksum",
};
#define WORDS (sizeof words / sizeof words[0])

static const char *const separators[] = { " ", " ", " ", " ", " ", ", ", ". ", ".\n", ": ", "; ", " - ", "\n\n" };
#define SEPARATORS (sizeof separators / sizeof separators[0])

// Text-like input: words of a small vocabulary, skewed towards the first ones as in
// natural language, with varying separators, an occasional number and capital, and now
// and then a phrase repeated from earlier in the text. It compresses about as well as
// real prose, 4-5 times from 64 KiB up (words drawn independently, without the
// repeated phrases, gave under 3).
static void generate(unsigned char *out, size_t size) {
  size_t n = 0;
  int capital = 1;
  while (n < size) {
    if (n > 4096 && next() % 8 == 0) {
      // A phrase of 16 to 79 bytes from up to 64 KiB back, as prose repeats itself.
      size_t back = 1 + next() % (n < 65536 ? n : 65536), len = 16 + next() % 64;
      for (size_t i = 0; i < len && n < size; i++, n++) out[n] = out[n - back];
      continue;
    }
    char piece[32];
    int len;
    if (next() % 16 == 0) {
      len = snprintf(piece, sizeof piece, "%u", (unsigned)(next() % 2000));
    } else {
      // The smallest of three draws favours the first words.
      uint32_t a = next() % WORDS, b = next() % WORDS, c = next() % WORDS;
      uint32_t w = a < b ? a : b;
      len = snprintf(piece, sizeof piece, "%s", words[w < c ? w : c]);
      if (capital) piece[0] = (char)(piece[0] - 'a' + 'A');
    }
    const char *sep = separators[next() % SEPARATORS];
    capital = strchr(sep, '.') != 0;
    for (int i = 0; i < len && n < size; i++) out[n++] = (unsigned char)piece[i];
    for (const char *s = sep; *s && n < size; s++) out[n++] = (unsigned char)*s;
  }
}

// FNV-1a, 32 bits: a short fingerprint of the input and of the compressed bytes, so that
// a difference in the generator or in the encoder's work shows in the output.
static uint32_t fnv1a(const unsigned char *p, size_t n) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
  return h;
}

int main(int argc, char **argv) {
  long kib = argc > 1 ? strtol(argv[1], 0, 10) : 256;
  if (kib < 1 || kib > 262144) {
    fprintf(stderr, "brotli-workload: KiB must be 1 to 262144, not %s\n", argv[1]);
    return 2;
  }
  size_t size = (size_t)kib * 1024;
  unsigned char *input = malloc(size);
  size_t max = BrotliEncoderMaxCompressedSize(size);
  unsigned char *compressed = malloc(max);
  unsigned char *output = malloc(size);
  if (!input || !max || !compressed || !output) {
    fprintf(stderr, "brotli-workload: out of memory for %ld KiB\n", kib);
    return 1;
  }
  generate(input, size);

  uint32_t v = BrotliEncoderVersion();
  printf("brotli %u.%u.%u, quality %d, window %d\n", v >> 24, (v >> 12) & 0xfff, v & 0xfff, QUALITY, LGWIN);
  size_t compressedSize = max;
  if (!BrotliEncoderCompress(QUALITY, LGWIN, BROTLI_MODE_TEXT, size, input, &compressedSize, compressed)) {
    fprintf(stderr, "brotli-workload: BrotliEncoderCompress failed\n");
    return 1;
  }
  size_t outputSize = size;
  if (BrotliDecoderDecompress(compressedSize, compressed, &outputSize, output) != BROTLI_DECODER_RESULT_SUCCESS) {
    fprintf(stderr, "brotli-workload: BrotliDecoderDecompress failed\n");
    return 1;
  }
  if (outputSize != size || memcmp(output, input, size) != 0) {
    fprintf(stderr, "brotli-workload: the round trip did not give back the input (%zu bytes in, %zu out)\n", size, outputSize);
    return 1;
  }
  printf("input %zu bytes, fnv1a32 %08x\n", size, (unsigned)fnv1a(input, size));
  printf("compressed %zu bytes, %.2fx, fnv1a32 %08x\n", compressedSize, (double)size / compressedSize, (unsigned)fnv1a(compressed, compressedSize));
  printf("round trip ok\n");
  return 0;
}
