/*
 * wasmig CoreMark-compatible benchmark: shared declarations.
 *
 * An independent implementation of the published CoreMark 1.0 algorithm
 * (list / matrix / state-machine kernels folded together with CRC-16).
 * Written for the wasmig project; not derived from EEMBC's source files.
 *
 * The integer widths below are part of the algorithm: the published CRC
 * values depend on 16-bit wrap-around of the list data and matrix elements,
 * so every quantity keeps the width the algorithm specifies.
 */
#ifndef WASMIG_CM_H
#define WASMIG_CM_H

#include <stdint.h>
#include <stddef.h>

typedef int16_t i16;
typedef uint16_t u16;
typedef int32_t i32;
typedef uint32_t u32;
typedef uint8_t u8;

/* Total working-set size shared by the three kernels (the "2K" run). */
#ifndef CM_DATA_SIZE
#define CM_DATA_SIZE 2000
#endif

/* Kernel selection bits (argument 5, default: all three). */
#define KERNEL_LIST   1u
#define KERNEL_MATRIX 2u
#define KERNEL_STATE  4u
#define KERNEL_ALL    7u

/* ---- CRC-16 (reflected polynomial 0xA001, as CoreMark folds results) ---- */
u16 crc_byte(u8 value, u16 crc);
u16 crc_u16(u16 value, u16 crc);
u16 crc_i16(i16 value, u16 crc);
u16 crc_u32(u32 value, u16 crc);

/* ---- matrix kernel ---- */
typedef struct {
    u32 n;     /* matrices are n x n */
    i16 *a;    /* 16-bit input matrix A */
    i16 *b;    /* 16-bit input matrix B */
    i32 *c;    /* 32-bit result matrix C */
} matrix_area;

u32 matrix_setup(u32 bytes, void *area, i32 seed, matrix_area *m);
u16 matrix_run(matrix_area *m, i16 val, u16 crc);

/* ---- state machine kernel ---- */
void state_setup(u32 bytes, i16 seed, u8 *text);
u16 state_run(u32 bytes, u8 *text, i16 xor_in, i16 xor_out, i16 stride, u16 crc);

/* ---- list kernel ---- */
typedef struct payload {
    i16 value;  /* high byte: pristine copy; bit 7: cached; bits 0..6 */
    i16 order;  /* position in the initial (seeded) order */
} payload;

typedef struct node {
    struct node *next;
    payload *data;
} node;

/* Everything one benchmark context needs; passed to the list kernel because
 * its "complex" comparison runs the other two kernels lazily. */
typedef struct {
    i16 seed1, seed2, seed3;
    void *block[4];      /* [0] whole area, [1] list, [2] matrix, [3] state */
    u32 size;            /* bytes given to each enabled kernel */
    u32 iterations;
    u32 kernels;
    node *list;
    matrix_area mat;
    u16 crc, crc_list, crc_matrix, crc_state;
} bench_ctx;

node *list_setup(u32 bytes, void *area, i16 seed);
u16 list_run(bench_ctx *ctx, i16 finder);

#endif
