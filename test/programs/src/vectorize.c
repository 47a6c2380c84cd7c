/*
 * Auto-vectorized kernels for the corpus: plain C loops, no intrinsics, built with
 * -O3 -msimd128 so that clang's loop and SLP vectorizers turn them into SIMD code
 * (v128 accumulators live across loop headers, widening and narrowing, lane shuffles
 * for the tails). argv[1]: rounds (default 20). Each round feeds the kernels' results
 * back into their inputs, and every result goes into a 64-bit checksum printed in hex,
 * with a few exact values (%a), so a wrong lane anywhere shows.
 *
 * Kernels: an i32 dot product and an i16 one widened to i32, a 3x3 box blur of a byte
 * image (u16 sums, divided by 9), 4x4 float matrix products over an array of matrices,
 * a sum of absolute byte differences, saturating clamps, int <-> float conversions, a
 * float saxpy, and byte minimum and maximum.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define N 2048
#define W 128
#define H 64
#define MATS 64

static int32_t a32[N], b32[N];
static int16_t a16[N], b16[N];
static float fx[N], fy[N];
static uint8_t img[H][W], blurred[H][W], ref[H][W];
static float mats[MATS][16], prod[MATS][16];

static uint64_t mix(uint64_t h, uint64_t x) {
  h ^= x + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
  return h * 0xff51afd7ed558ccdull;
}

static uint32_t seed = 2024;
static uint32_t next(void) {
  seed ^= seed << 13;
  seed ^= seed >> 17;
  seed ^= seed << 5;
  return seed;
}

__attribute__((noinline)) static int32_t dot_i32(const int32_t *restrict x, const int32_t *restrict y, int n) {
  int32_t s = 0;
  for (int i = 0; i < n; i++) s += x[i] * y[i];
  return s;
}

__attribute__((noinline)) static int32_t dot_i16(const int16_t *restrict x, const int16_t *restrict y, int n) {
  int32_t s = 0;
  for (int i = 0; i < n; i++) s += (int32_t)x[i] * (int32_t)y[i];
  return s;
}

/* 3x3 box blur; the border keeps its pixels. */
__attribute__((noinline)) static void box_blur(uint8_t src[H][W], uint8_t dst[H][W]) {
  static uint16_t rows[H][W];
  for (int y = 0; y < H; y++) {
    rows[y][0] = src[y][0] * 3;
    rows[y][W - 1] = src[y][W - 1] * 3;
    for (int x = 1; x < W - 1; x++) rows[y][x] = (uint16_t)(src[y][x - 1] + src[y][x] + src[y][x + 1]);
  }
  for (int x = 0; x < W; x++) { dst[0][x] = src[0][x]; dst[H - 1][x] = src[H - 1][x]; }
  for (int y = 1; y < H - 1; y++) {
    for (int x = 0; x < W; x++) dst[y][x] = (uint8_t)((rows[y - 1][x] + rows[y][x] + rows[y + 1][x]) / 9);
  }
}

/* c[k] = a[k] * b for every 4x4 row-major matrix a[k]. */
__attribute__((noinline)) static void matmul4_array(float a[][16], const float *restrict b, float c[][16], int count) {
  for (int k = 0; k < count; k++) {
    for (int i = 0; i < 4; i++) {
      for (int j = 0; j < 4; j++) {
        c[k][4 * i + j] = a[k][4 * i] * b[j] + a[k][4 * i + 1] * b[4 + j] + a[k][4 * i + 2] * b[8 + j] + a[k][4 * i + 3] * b[12 + j];
      }
    }
  }
}

__attribute__((noinline)) static uint32_t sad(const uint8_t *restrict p, const uint8_t *restrict q, int n) {
  uint32_t s = 0;
  for (int i = 0; i < n; i++) s += (uint32_t)(p[i] > q[i] ? p[i] - q[i] : q[i] - p[i]);
  return s;
}

__attribute__((noinline)) static void clamp_i32(int32_t *x, int n, int32_t lo, int32_t hi) {
  for (int i = 0; i < n; i++) x[i] = x[i] < lo ? lo : x[i] > hi ? hi : x[i];
}

__attribute__((noinline)) static void to_float(const int32_t *restrict x, float *restrict y, int n, float scale) {
  for (int i = 0; i < n; i++) y[i] = (float)x[i] * scale;
}

__attribute__((noinline)) static void to_int(const float *restrict x, int16_t *restrict y, int n) {
  for (int i = 0; i < n; i++) y[i] = (int16_t)(int32_t)x[i];
}

__attribute__((noinline)) static void saxpy(float a, const float *restrict x, float *restrict y, int n) {
  for (int i = 0; i < n; i++) y[i] = a * x[i] + y[i];
}

__attribute__((noinline)) static uint32_t min_max_u8(const uint8_t *p, int n) {
  uint8_t lo = 255, hi = 0;
  for (int i = 0; i < n; i++) {
    lo = p[i] < lo ? p[i] : lo;
    hi = p[i] > hi ? p[i] : hi;
  }
  return (uint32_t)lo << 8 | hi;
}

static uint64_t hash_bytes(uint64_t h, const void *p, int n) {
  const uint8_t *b = p;
  uint64_t word = 0;
  for (int i = 0; i < n; i++) {
    word = word << 8 | b[i];
    if (i % 8 == 7) { h = mix(h, word); word = 0; }
  }
  return mix(h, word);
}

int main(int argc, char **argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 20;
  for (int i = 0; i < N; i++) {
    a32[i] = (int32_t)next() >> 16;
    b32[i] = (int32_t)next() >> 17;
    a16[i] = (int16_t)next();
    b16[i] = (int16_t)next();
    fx[i] = (float)(next() % 4000) / 1000.0f - 2.0f;
    fy[i] = (float)(next() % 1000) / 100.0f;
  }
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++) img[y][x] = ref[y][x] = (uint8_t)next();
  for (int k = 0; k < MATS; k++)
    for (int i = 0; i < 16; i++) mats[k][i] = (float)((int)(next() % 9) - 4) / 8.0f;
  float rot[16];
  for (int i = 0; i < 16; i++) rot[i] = (float)((int)(next() % 5) - 2) / 4.0f;

  uint64_t h = 0;
  for (int r = 0; r < rounds; r++) {
    h = mix(h, (uint32_t)dot_i32(a32, b32, N));
    h = mix(h, (uint32_t)dot_i16(a16, b16, N));
    box_blur(img, blurred);
    h = mix(h, sad(&blurred[0][0], &ref[0][0], W * H));
    h = mix(h, min_max_u8(&blurred[0][0], W * H));
    for (int y = 0; y < H; y++)
      for (int x = 0; x < W; x++) img[y][x] = (uint8_t)(blurred[y][x] + (uint8_t)next() % 64);
    matmul4_array(mats, rot, prod, MATS);
    for (int k = 0; k < MATS; k++)
      for (int i = 0; i < 16; i++) mats[k][i] = prod[k][i] > 64.0f || prod[k][i] < -64.0f ? prod[k][i] / 128.0f : prod[k][i];
    h = hash_bytes(h, prod, sizeof prod);
    saxpy(0.75f, fx, fy, N);
    to_int(fy, a16, N);
    clamp_i32(a32, N, -20000 + r, 20000 - r);
    to_float(a32, fx, N, 1.0f / 16384.0f);
    for (int i = 0; i < N; i++) fy[i] = fy[i] > 1000.0f ? fy[i] - 1000.0f : fy[i];
    a32[(r * 7) % N] ^= (int32_t)h;
    b32[(r * 11) % N] += (int32_t)(h >> 32);
  }
  h = hash_bytes(h, fy, sizeof fy);
  h = hash_bytes(h, img, sizeof img);
  printf("rounds %d\n", rounds);
  printf("checksum %016llx\n", (unsigned long long)h);
  printf("dot %d %d\n", dot_i32(a32, b32, N), dot_i16(a16, b16, N));
  printf("pixels %u %u sad %u\n", img[1][1], img[H / 2][W / 2], sad(&img[0][0], &ref[0][0], W * H));
  printf("matrix %a %a %a %a\n", (double)mats[0][0], (double)mats[1][5], (double)mats[2][10], (double)mats[MATS - 1][15]);
  printf("floats %a %a\n", (double)fy[0], (double)fy[N - 1]);
  return 0;
}
