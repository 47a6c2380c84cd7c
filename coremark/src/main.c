/*
 * wasmig CoreMark-compatible benchmark: driver.
 *
 * Usage: coremark.wasm [seed1 seed2 seed3 iterations]
 *   seeds 0 0 0   -> performance run (becomes 0, 0, 0x66)
 *   seeds 1 0 0   -> validation run  (becomes 0x3415, 0x3415, 0x66)
 *   iterations 0  -> calibrate so the timed run lasts at least ~10 s
 * Numbers may be decimal or 0x-prefixed hex, with an optional K or M suffix.
 *
 * Prints the customary CoreMark report. The exit status is 1 when a CRC
 * differs from the published value for a known seed set, 0 otherwise.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cm.h"

#ifndef CM_COMPILER_FLAGS
#define CM_COMPILER_FLAGS "(unknown)"
#endif
#define CM_STR_(x) #x
#define CM_STR(x) CM_STR_(x)
#ifdef __clang__
#define CM_COMPILER_VERSION \
    "Clang " CM_STR(__clang_major__) "." CM_STR(__clang_minor__) "." CM_STR(__clang_patchlevel__)
#else
#define CM_COMPILER_VERSION "Compiler " __VERSION__
#endif
#define CM_MEMORY "STATIC (wasm linear memory)"

/* The algorithm assumes these widths. */
_Static_assert(sizeof(i16) == 2 && sizeof(u16) == 2, "16-bit types");
_Static_assert(sizeof(i32) == 4 && sizeof(u32) == 4, "32-bit types");
_Static_assert(sizeof(payload) == 4, "list payload is two 16-bit fields");

static _Alignas(8) u8 arena[CM_DATA_SIZE];

/* ---- time: microsecond ticks from the monotonic clock ---- */
#define TICKS_PER_SEC 1000000.0

static uint64_t now_ticks(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static double ticks_to_secs(uint64_t ticks) {
    return (double)ticks / TICKS_PER_SEC;
}

/* ---- argument parsing ---- */
static i32 parse_number(const char *s) {
    int negative = 0;
    i32 value = 0;
    if (*s == '-') {
        negative = 1;
        s++;
    }
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        s += 2;
        for (;; s++) {
            int d;
            if (*s >= '0' && *s <= '9') d = *s - '0';
            else if (*s >= 'a' && *s <= 'f') d = *s - 'a' + 10;
            else if (*s >= 'A' && *s <= 'F') d = *s - 'A' + 10;
            else break;
            value = (i32)((u32)value * 16u + (u32)d);
        }
    } else {
        for (; *s >= '0' && *s <= '9'; s++)
            value = (i32)((u32)value * 10u + (u32)(*s - '0'));
        if (*s == 'K' || *s == 'k') value = (i32)((u32)value * 1024u);
        else if (*s == 'M' || *s == 'm') value = (i32)((u32)value * 1024u * 1024u);
    }
    return negative ? -value : value;
}

static i32 arg_number(int argc, char **argv, int index) {
    return index < argc ? parse_number(argv[index]) : 0;
}

/* ---- one timed workload: `iterations` passes of the list kernel in both
 * search modes; the first pass's CRC is the list checksum ---- */
static void run_passes(bench_ctx *ctx) {
    ctx->crc = 0;
    ctx->crc_list = 0;
    ctx->crc_matrix = 0;
    ctx->crc_state = 0;
    for (u32 pass = 0; pass < ctx->iterations; pass++) {
        u16 r = list_run(ctx, 1);
        ctx->crc = crc_u16(r, ctx->crc);
        r = list_run(ctx, -1);
        ctx->crc = crc_u16(r, ctx->crc);
        if (pass == 0)
            ctx->crc_list = ctx->crc;
    }
}

/* Published reference values, keyed by the CRC of (seed1, seed2, seed3, size). */
typedef struct {
    u16 seed_crc;
    const char *title;
    u16 list, matrix, state;
} known_run;

static const known_run known_runs[] = {
    {0x8a02, "6k performance run parameters for coremark.", 0xd4b0, 0xbe52, 0x5e47},
    {0x7b05, "6k validation run parameters for coremark.", 0x3340, 0x1199, 0x39bf},
    {0x4eaf, "Profile generation run parameters for coremark.", 0x6a79, 0x5608, 0xe5a4},
    {0xe9f5, "2K performance run parameters for coremark.", 0xe714, 0x1fd7, 0x8e3a},
    {0x18f2, "2K validation run parameters for coremark.", 0xe3c1, 0x0747, 0x8d84},
};
#define PERFORMANCE_2K 3

int main(int argc, char **argv) {
    bench_ctx ctx;
    memset(&ctx, 0, sizeof ctx);

    ctx.seed1 = (i16)arg_number(argc, argv, 1);
    ctx.seed2 = (i16)arg_number(argc, argv, 2);
    ctx.seed3 = (i16)arg_number(argc, argv, 3);
    ctx.iterations = (u32)arg_number(argc, argv, 4);
    ctx.kernels = KERNEL_ALL;

    if (ctx.seed1 == 0 && ctx.seed2 == 0 && ctx.seed3 == 0) {
        ctx.seed3 = 0x66;                          /* performance run */
    } else if (ctx.seed1 == 1 && ctx.seed2 == 0 && ctx.seed3 == 0) {
        ctx.seed1 = 0x3415;                        /* validation run */
        ctx.seed2 = 0x3415;
        ctx.seed3 = 0x66;
    }

    /* Split the data area evenly between the three kernels. */
    ctx.block[0] = arena;
    ctx.size = CM_DATA_SIZE / 3;
    for (int k = 0; k < 3; k++)
        ctx.block[k + 1] = arena + ctx.size * (u32)k;

    ctx.list = list_setup(ctx.size, ctx.block[1], ctx.seed1);
    matrix_setup(ctx.size, ctx.block[2],
                 (i32)((u32)(u16)ctx.seed1 | ((u32)(u16)ctx.seed2 << 16) |
                       (ctx.seed1 < 0 ? 0xffff0000u : 0u)),
                 &ctx.mat);
    state_setup(ctx.size, ctx.seed1, (u8 *)ctx.block[3]);

    if (ctx.iterations == 0) {
        /* Grow by 10x until a run takes at least a second, then scale up
         * to about 11 seconds. */
        double secs = 0;
        ctx.iterations = 1;
        while (secs < 1.0) {
            ctx.iterations *= 10;
            uint64_t t0 = now_ticks();
            run_passes(&ctx);
            secs = ticks_to_secs(now_ticks() - t0);
        }
        double scaled = (double)ctx.iterations * 11.0 / secs;
        ctx.iterations = scaled > 4.0e9 ? 4000000000u : (u32)scaled + 1u;
    }

    uint64_t start = now_ticks();
    run_passes(&ctx);
    uint64_t ticks = now_ticks() - start;
    double secs = ticks_to_secs(ticks);

    u16 seed_crc = 0;
    seed_crc = crc_i16(ctx.seed1, seed_crc);
    seed_crc = crc_i16(ctx.seed2, seed_crc);
    seed_crc = crc_i16(ctx.seed3, seed_crc);
    seed_crc = crc_i16((i16)ctx.size, seed_crc);

    int known = -1;
    for (int k = 0; k < (int)(sizeof known_runs / sizeof known_runs[0]); k++)
        if (known_runs[k].seed_crc == seed_crc)
            known = k;

    int errors = 0;
    if (known >= 0) {
        const known_run *kr = &known_runs[known];
        printf("%s\n", kr->title);
        if (ctx.crc_list != kr->list) {
            printf("[0]ERROR! list crc 0x%04x - should be 0x%04x\n", ctx.crc_list, kr->list);
            errors++;
        }
        if (ctx.crc_matrix != kr->matrix) {
            printf("[0]ERROR! matrix crc 0x%04x - should be 0x%04x\n", ctx.crc_matrix, kr->matrix);
            errors++;
        }
        if (ctx.crc_state != kr->state) {
            printf("[0]ERROR! state crc 0x%04x - should be 0x%04x\n", ctx.crc_state, kr->state);
            errors++;
        }
    }

    printf("CoreMark Size    : %lu\n", (unsigned long)ctx.size);
    printf("Total ticks      : %llu\n", (unsigned long long)ticks);
    printf("Total time (secs): %f\n", secs);
    if (secs > 0)
        printf("Iterations/Sec   : %f\n", (double)ctx.iterations / secs);
    if (secs < 10)
        printf("WARNING! Must execute for at least 10 secs for a valid result!\n");
    printf("Iterations       : %lu\n", (unsigned long)ctx.iterations);
    printf("Compiler version : %s\n", CM_COMPILER_VERSION);
    printf("Compiler flags   : %s\n", CM_COMPILER_FLAGS);
    printf("Memory location  : %s\n", CM_MEMORY);
    printf("seedcrc          : 0x%04x\n", seed_crc);
    printf("[0]crclist       : 0x%04x\n", ctx.crc_list);
    printf("[0]crcmatrix     : 0x%04x\n", ctx.crc_matrix);
    printf("[0]crcstate      : 0x%04x\n", ctx.crc_state);
    printf("[0]crcfinal      : 0x%04x\n", ctx.crc);

    if (known < 0) {
        printf("Cannot validate operation for these seed values, please compare with results on a known platform.\n");
        return 0;
    }
    if (errors > 0) {
        printf("Errors detected\n");
        return 1;
    }
    printf("Correct operation validated. See README.md for run and reporting rules.\n");
    if (known == PERFORMANCE_2K && secs >= 10)
        printf("CoreMark 1.0 : %f / %s %s / %s\n", (double)ctx.iterations / secs,
               CM_COMPILER_VERSION, CM_COMPILER_FLAGS, CM_MEMORY);
    return 0;
}
