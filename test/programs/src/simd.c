/*
 * SIMD kernels for the corpus (built with -msimd128): hand-written intrinsics from
 * wasm_simd128.h (an i32 dot product, a 4x4 f32 matrix product, a byte-wise saturating
 * brighten with a shuffle and a bitmask, an f64x2 polynomial) and plain loops that clang
 * vectorizes at -O2 (a saxpy and a byte histogram-free checksum). argv[1]: rounds
 * (default 50). Every result feeds a 64-bit checksum printed in hex, plus a few values
 * printed exactly (%a), so any wrong lane shows.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <wasm_simd128.h>

#define N 1024

static int32_t a32[N], b32[N];
static float fx[N], fy[N];
static uint8_t px[N];
static double dv[N];

static uint64_t mix(uint64_t h, uint64_t x) {
  h ^= x + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
  return h * 0xff51afd7ed558ccdull;
}

static uint32_t seed = 12345;
static uint32_t next(void) {
  seed ^= seed << 13;
  seed ^= seed >> 17;
  seed ^= seed << 5;
  return seed;
}

static int32_t dot_i32(const int32_t *x, const int32_t *y, int n) {
  v128_t acc = wasm_i32x4_splat(0);
  for (int i = 0; i < n; i += 4) {
    acc = wasm_i32x4_add(acc, wasm_i32x4_mul(wasm_v128_load(x + i), wasm_v128_load(y + i)));
  }
  return wasm_i32x4_extract_lane(acc, 0) + wasm_i32x4_extract_lane(acc, 1) + wasm_i32x4_extract_lane(acc, 2) + wasm_i32x4_extract_lane(acc, 3);
}

/* c = a * b for row-major 4x4 float matrices. */
static void matmul4(const float *a, const float *b, float *c) {
  v128_t rows[4];
  for (int k = 0; k < 4; k++) rows[k] = wasm_v128_load(b + 4 * k);
  for (int i = 0; i < 4; i++) {
    v128_t r = wasm_f32x4_mul(wasm_f32x4_splat(a[4 * i]), rows[0]);
    for (int k = 1; k < 4; k++) r = wasm_f32x4_add(r, wasm_f32x4_mul(wasm_f32x4_splat(a[4 * i + k]), rows[k]));
    wasm_v128_store(c + 4 * i, r);
  }
}

/* Brightens 16 pixels at a time with saturation, reverses each group of 16, returns a bitmask of bright ones. */
static uint32_t brighten(uint8_t *p, int n, uint8_t by) {
  v128_t add = wasm_u8x16_splat(by);
  v128_t limit = wasm_u8x16_splat(200);
  uint32_t bits = 0;
  for (int i = 0; i < n; i += 16) {
    v128_t v = wasm_u8x16_add_sat(wasm_v128_load(p + i), add);
    v = wasm_i8x16_shuffle(v, v, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    wasm_v128_store(p + i, v);
    bits = bits * 31 + (uint32_t)wasm_i8x16_bitmask(wasm_u8x16_gt(v, limit));
    if (!wasm_v128_any_true(v)) bits ^= 0xdead;
  }
  return bits;
}

/* Evaluates 1 + x/2 + x^2/6 on pairs of doubles, in place. */
static void poly_f64(double *x, int n) {
  v128_t half = wasm_f64x2_splat(0.5), sixth = wasm_f64x2_splat(1.0 / 6.0), one = wasm_f64x2_splat(1.0);
  for (int i = 0; i < n; i += 2) {
    v128_t v = wasm_v128_load(x + i);
    v128_t r = wasm_f64x2_add(one, wasm_f64x2_add(wasm_f64x2_mul(v, half), wasm_f64x2_mul(wasm_f64x2_mul(v, v), sixth)));
    wasm_v128_store(x + i, wasm_f64x2_min(r, wasm_f64x2_splat(1e6)));
  }
}

/* Plain loops: clang vectorizes these at -O2 with -msimd128. */
static void saxpy(float a, const float *x, float *y, int n) {
  for (int i = 0; i < n; i++) y[i] = a * x[i] + y[i];
}

static uint32_t byte_sum(const uint8_t *p, int n) {
  uint32_t s = 0;
  for (int i = 0; i < n; i++) s += p[i];
  return s;
}

int main(int argc, char **argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 50;
  for (int i = 0; i < N; i++) {
    a32[i] = (int32_t)next() >> 12;
    b32[i] = (int32_t)next() >> 14;
    fx[i] = (float)(next() % 2000) / 1000.0f - 1.0f;
    fy[i] = (float)(next() % 2000) / 1000.0f;
    px[i] = (uint8_t)next();
    dv[i] = (double)(next() % 1000) / 250.0;
  }
  float m[16], acc[16], tmp[16];
  for (int i = 0; i < 16; i++) { m[i] = (float)((int)(next() % 7) - 3) / 4.0f; acc[i] = i % 5 == 0 ? 1.0f : 0.0f; }
  uint64_t h = 0;
  for (int r = 0; r < rounds; r++) {
    h = mix(h, (uint32_t)dot_i32(a32, b32, N));
    matmul4(acc, m, tmp);
    for (int i = 0; i < 16; i++) acc[i] = tmp[i] > 100.0f || tmp[i] < -100.0f ? tmp[i] / 64.0f : tmp[i];
    h = mix(h, brighten(px, N, (uint8_t)(r & 7)));
    poly_f64(dv, N);
    for (int i = 0; i < N; i++) dv[i] = dv[i] > 1000.0 ? dv[i] / 1000.0 : dv[i];
    saxpy(0.5f, fx, fy, N);
    for (int i = 0; i < N; i++) fy[i] = fy[i] > 50.0f ? fy[i] - 50.0f : fy[i];
    h = mix(h, byte_sum(px, N));
    a32[r % N] ^= (int32_t)h;
  }
  uint32_t fbits = 0;
  for (int i = 0; i < N; i++) { union { float f; uint32_t u; } c = { fy[i] }; fbits = fbits * 33 + c.u; }
  uint64_t dbits = 0;
  for (int i = 0; i < N; i++) { union { double d; uint64_t u; } c = { dv[i] }; dbits = mix(dbits, c.u); }
  printf("rounds %d\n", rounds);
  printf("checksum %016llx\n", (unsigned long long)h);
  printf("floats %08x doubles %016llx\n", fbits, (unsigned long long)dbits);
  printf("matrix %a %a %a %a\n", (double)acc[0], (double)acc[5], (double)acc[10], (double)acc[15]);
  printf("dot %d\n", dot_i32(a32, b32, N));
  return 0;
}
