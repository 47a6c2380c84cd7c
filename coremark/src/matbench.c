/*
 * Matrix kernel: small integer matrix arithmetic on 16-bit inputs with
 * 32-bit results. Each pass shifts A by a constant, computes four products
 * into C, reduces each with a clipped "sum" into a 16-bit score, and
 * finally shifts A back so the next pass starts from the same data.
 */
#include "cm.h"

/* Round a pointer up to a multiple of 4 bytes. */
static void *up4(void *p) {
    uintptr_t v = (uintptr_t)p;
    return (void *)((v + 3u) & ~(uintptr_t)3u);
}

u32 matrix_setup(u32 bytes, void *area, i32 seed, matrix_area *m) {
    /* Largest n such that two n*n matrices of 4-byte cells fit: 8*n*n < bytes. */
    u32 n = 0;
    while (8u * (n + 1) * (n + 1) < bytes)
        n++;

    i16 *a = (i16 *)up4(area);
    i16 *b = a + n * n;
    if (seed == 0)
        seed = 1;

    i32 order = 1;
    for (u32 cell = 0; cell < n * n; cell++, order++) {
        seed = (order * seed) % 65536;
        i16 bv = (i16)(seed + order);             /* keep 16 bits */
        i16 av = (i16)((bv + order) & 0xff);      /* keep 8 bits */
        b[cell] = bv;
        a[cell] = av;
    }

    m->n = n;
    m->a = a;
    m->b = b;
    m->c = (i32 *)up4(b + n * n);
    return n;
}

/* Reduce C to a 16-bit score: walk the cells accumulating a running total;
 * when it exceeds the limit score 10 and restart the total, otherwise score
 * 1 for every cell larger than its predecessor. */
static i16 score(u32 n, const i32 *c, i16 limit) {
    i32 total = 0, prev = 0;
    i16 result = 0;
    for (u32 k = 0; k < n * n; k++) {
        i32 cur = c[k];
        total += cur;
        if (total > limit) {
            result = (i16)(result + 10);
            total = 0;
        } else if (cur > prev) {
            result = (i16)(result + 1);
        }
        prev = cur;
    }
    return result;
}

static void shift_all(u32 n, i16 *a, i16 delta) {
    for (u32 k = 0; k < n * n; k++)
        a[k] = (i16)(a[k] + delta);
}

static void scale_into(u32 n, i32 *c, const i16 *a, i16 factor) {
    for (u32 k = 0; k < n * n; k++)
        c[k] = (i32)a[k] * (i32)factor;
}

/* Matrix times the first column-vector-sized slice of B; only the first n
 * cells of C are written, the rest keep the previous step's values. */
static void times_vector(u32 n, i32 *c, const i16 *a, const i16 *b) {
    for (u32 r = 0; r < n; r++) {
        i32 acc = 0;
        for (u32 k = 0; k < n; k++)
            acc += (i32)a[r * n + k] * (i32)b[k];
        c[r] = acc;
    }
}

static void times_matrix(u32 n, i32 *c, const i16 *a, const i16 *b) {
    for (u32 r = 0; r < n; r++)
        for (u32 col = 0; col < n; col++) {
            i32 acc = 0;
            for (u32 k = 0; k < n; k++)
                acc += (i32)a[r * n + k] * (i32)b[k * n + col];
            c[r * n + col] = acc;
        }
}

/* Like times_matrix, but every partial product contributes the product of
 * two of its bit fields: bits 2..5 and bits 5..11. */
static void times_matrix_fields(u32 n, i32 *c, const i16 *a, const i16 *b) {
    for (u32 r = 0; r < n; r++)
        for (u32 col = 0; col < n; col++) {
            u32 acc = 0;
            for (u32 k = 0; k < n; k++) {
                u32 p = (u32)((i32)a[r * n + k] * (i32)b[k * n + col]);
                acc += ((p >> 2) & 0xfu) * ((p >> 5) & 0x7fu);
            }
            c[r * n + col] = (i32)acc;
        }
}

u16 matrix_run(matrix_area *m, i16 val, u16 crc) {
    u32 n = m->n;
    i16 limit = (i16)(0xf000 | (int)val);
    u16 local = 0;

    shift_all(n, m->a, val);
    scale_into(n, m->c, m->a, val);
    local = crc_i16(score(n, m->c, limit), local);
    times_vector(n, m->c, m->a, m->b);
    local = crc_i16(score(n, m->c, limit), local);
    times_matrix(n, m->c, m->a, m->b);
    local = crc_i16(score(n, m->c, limit), local);
    times_matrix_fields(n, m->c, m->a, m->b);
    local = crc_i16(score(n, m->c, limit), local);
    shift_all(n, m->a, (i16)-val);

    return crc_u16(local, crc);
}
