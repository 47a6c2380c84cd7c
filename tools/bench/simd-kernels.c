/*
 * SIMD kernels for tools/bench/simd.ts, written with wasm_simd128.h intrinsics so that
 * every engine runs the same v128 code. No libc, no WASI: the module exports its
 * kernels and works on static buffers. Each kernel runs `reps` times over its data and
 * returns a checksum, which the benchmark compares across engines.
 *
 * Build: tools/bench/build-simd-kernels.sh (clang 14, -O3 -msimd128).
 */
#include <stdint.h>
#include <wasm_simd128.h>

#define N 4096      /* dot: floats per vector */
#define W 256       /* blur: image width and height */
#define MATS 1024   /* matmul: 4x4 matrices */

static float xs[N], ys[N];
static uint8_t img[W * W], out[W * W];
static uint16_t rows[W * W];
static float mats[MATS * 16], prods[MATS * 16];
static float by[16];

static uint32_t state;
static uint32_t rnd(void) {
  state ^= state << 13;
  state ^= state >> 17;
  state ^= state << 5;
  return state;
}

__attribute__((export_name("setup"))) void setup(uint32_t seed) {
  state = seed | 1;
  for (int i = 0; i < N; i++) {
    xs[i] = (float)(rnd() % 2001) / 1000.0f - 1.0f;
    ys[i] = (float)(rnd() % 2001) / 1000.0f - 1.0f;
  }
  for (int i = 0; i < W * W; i++) img[i] = (uint8_t)rnd();
  for (int i = 0; i < MATS * 16; i++) mats[i] = (float)((int)(rnd() % 9) - 4) / 8.0f;
  /* Two plane rotations (a 3-4-5 triangle): products keep their magnitude, never collapse to zero. */
  static const float rot[16] = { 0.6f, -0.8f, 0, 0, 0.8f, 0.6f, 0, 0, 0, 0, 0.8f, -0.6f, 0, 0, 0.6f, 0.8f };
  for (int i = 0; i < 16; i++) by[i] = rot[i];
}

static uint32_t bits(float f) {
  union { float f; uint32_t u; } c = { f };
  return c.u;
}

/* Dot product of two float vectors, four lanes at a time with four accumulators. */
__attribute__((export_name("dot"))) uint32_t dot(int reps) {
  uint32_t h = 0;
  for (int r = 0; r < reps; r++) {
    v128_t a0 = wasm_f32x4_splat(0), a1 = a0, a2 = a0, a3 = a0;
    for (int i = 0; i < N; i += 16) {
      a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(wasm_v128_load(xs + i), wasm_v128_load(ys + i)));
      a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(wasm_v128_load(xs + i + 4), wasm_v128_load(ys + i + 4)));
      a2 = wasm_f32x4_add(a2, wasm_f32x4_mul(wasm_v128_load(xs + i + 8), wasm_v128_load(ys + i + 8)));
      a3 = wasm_f32x4_add(a3, wasm_f32x4_mul(wasm_v128_load(xs + i + 12), wasm_v128_load(ys + i + 12)));
    }
    v128_t s = wasm_f32x4_add(wasm_f32x4_add(a0, a1), wasm_f32x4_add(a2, a3));
    float d = wasm_f32x4_extract_lane(s, 0) + wasm_f32x4_extract_lane(s, 1) + wasm_f32x4_extract_lane(s, 2) + wasm_f32x4_extract_lane(s, 3);
    h = h * 31 + bits(d);
    xs[r % N] = d / 4096.0f;
  }
  return h;
}

/* 3x3 box blur of a W x W byte image (interior only), u16 sums, 16 pixels at a time; the result becomes the next input. */
__attribute__((export_name("blur"))) uint32_t blur(int reps) {
  const v128_t ninth = wasm_i16x8_splat(7282); /* round(65536 / 9): (sum * 7282) >> 16 */
  uint32_t h = 0;
  for (int r = 0; r < reps; r++) {
    for (int y = 0; y < W; y++) {
      for (int x = 16; x < W - 16; x += 8) {
        const uint8_t *p = img + y * W + x;
        v128_t a = wasm_u16x8_load8x8(p - 1), b = wasm_u16x8_load8x8(p), c = wasm_u16x8_load8x8(p + 1);
        wasm_v128_store(rows + y * W + x, wasm_i16x8_add(wasm_i16x8_add(a, b), c));
      }
    }
    for (int y = 1; y < W - 1; y++) {
      for (int x = 16; x < W - 16; x += 16) {
        const uint16_t *q = rows + y * W + x;
        v128_t lo = wasm_i16x8_add(wasm_i16x8_add(wasm_v128_load(q - W), wasm_v128_load(q)), wasm_v128_load(q + W));
        v128_t hi = wasm_i16x8_add(wasm_i16x8_add(wasm_v128_load(q - W + 8), wasm_v128_load(q + 8)), wasm_v128_load(q + W + 8));
        v128_t lq = wasm_u16x8_narrow_i32x4(wasm_u32x4_shr(wasm_u32x4_extmul_low_u16x8(lo, ninth), 16), wasm_u32x4_shr(wasm_u32x4_extmul_high_u16x8(lo, ninth), 16));
        v128_t hq = wasm_u16x8_narrow_i32x4(wasm_u32x4_shr(wasm_u32x4_extmul_low_u16x8(hi, ninth), 16), wasm_u32x4_shr(wasm_u32x4_extmul_high_u16x8(hi, ninth), 16));
        wasm_v128_store(out + y * W + x, wasm_u8x16_narrow_i16x8(lq, hq));
      }
    }
    uint32_t s = 0;
    for (int i = 0; i < W * W; i += 97) s = s * 33 + out[i];
    h = h * 31 + s;
    for (int y = 1; y < W - 1; y++)
      for (int x = 16; x < W - 16; x += 16)
        wasm_v128_store(img + y * W + x, wasm_i8x16_add(wasm_v128_load(out + y * W + x), wasm_u8x16_splat((uint8_t)(r * 37 + y))));
  }
  return h;
}

/* c[k] = a[k] * by for every row-major 4x4 matrix a[k]; the products become the next input. */
__attribute__((export_name("matmul"))) uint32_t matmul(int reps) {
  uint32_t h = 0;
  const v128_t b0 = wasm_v128_load(by), b1 = wasm_v128_load(by + 4), b2 = wasm_v128_load(by + 8), b3 = wasm_v128_load(by + 12);
  for (int r = 0; r < reps; r++) {
    for (int k = 0; k < MATS; k++) {
      const float *a = mats + 16 * k;
      for (int i = 0; i < 4; i++) {
        v128_t row = wasm_f32x4_mul(wasm_f32x4_splat(a[4 * i]), b0);
        row = wasm_f32x4_add(row, wasm_f32x4_mul(wasm_f32x4_splat(a[4 * i + 1]), b1));
        row = wasm_f32x4_add(row, wasm_f32x4_mul(wasm_f32x4_splat(a[4 * i + 2]), b2));
        row = wasm_f32x4_add(row, wasm_f32x4_mul(wasm_f32x4_splat(a[4 * i + 3]), b3));
        wasm_v128_store(prods + 16 * k + 4 * i, row);
      }
    }
    uint32_t s = 0;
    for (int i = 0; i < MATS * 16; i += 61) s = s * 33 + bits(prods[i]);
    h = h * 31 + s;
    /* Keep the values in range: the next input is the product scaled back when large. */
    const v128_t limit = wasm_f32x4_splat(64.0f), scale = wasm_f32x4_splat(1.0f / 128.0f);
    for (int i = 0; i < MATS * 16; i += 4) {
      v128_t v = wasm_v128_load(prods + i);
      v128_t big = wasm_f32x4_gt(wasm_f32x4_abs(v), limit);
      wasm_v128_store(mats + i, wasm_v128_bitselect(wasm_f32x4_mul(v, scale), v, big));
    }
  }
  return h;
}
