/*
 * writer: a job that keeps writing its memory at a steady rate, for live-migration
 * tests and the migration benchmark.  Arguments are key=value, all optional:
 *
 *   mem=N       MiB of linear memory to fill with pseudo-random data first (default 4)
 *   rate=N      KiB of it to rewrite per second, spread over the whole region, in
 *               4 KiB strides (default 1024; 0: leave memory alone after the fill)
 *   secs=N      seconds of writing (default 5; wall clock, so a migration's pause
 *               does not change what is written, only when)
 *   steps=N     instead of secs: write in N steps of rate/100 KiB each, 10 ms of
 *               wall clock apart, and print a line after each (default 0: use secs)
 *
 * Which bytes it writes depends only on the step count, never on the clock, so the
 * final checksum line is the same wherever and however often the job moved: a test
 * compares it with a run that never moved.  `full=1` rewrites the whole region at
 * every step (a job that dirties memory as fast as it can); `pace=0` does not sleep
 * between steps (the output is the same: for reference runs).  `gate=PATH` holds the
 * job after its last step until the file PATH exists (checked every 10 ms), so a test
 * decides when the job may end instead of racing its clock; it prints nothing.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "job_args.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t checksum(const uint64_t *mem, size_t words) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < words; i++) h = (h ^ mem[i]) * 0x100000001b3ULL;
    return h;
}

int main(int argc, char **argv) {
    unsigned long mib = num(argc, argv, "mem", 4);
    unsigned long rate = num(argc, argv, "rate", 1024);
    unsigned long secs = num(argc, argv, "secs", 5);
    unsigned long steps = num(argc, argv, "steps", 0);
    int full = (int)num(argc, argv, "full", 0);
    int pace = (int)num(argc, argv, "pace", 1);
    const char *gate = arg(argc, argv, "gate");

    size_t words = (mib << 20) / 8;
    if (words == 0) words = 1;
    uint64_t *mem = malloc(words * 8);
    if (!mem) { printf("malloc of %lu MiB failed\n", mib); return 1; }
    for (size_t i = 0; i < words; i++) mem[i] = next();
    printf("writer: %lu MiB filled, %lu KiB/s\n", mib, rate);
    fflush(stdout);

    /* One step every 10 ms: rate/100 KiB, one word per 4 KiB stride, at positions
     * that depend on the step number only. */
    size_t strides = words / 512;
    if (strides == 0) strides = 1;
    size_t per_step = full ? strides : (size_t)(rate / 100 / 4);
    if (!full && rate > 0 && per_step == 0) per_step = 1;
    unsigned long total = steps ? steps : secs * 100;
    double start = now();
    size_t cursor = 0;
    for (unsigned long step = 0; step < total; step++) {
        for (size_t k = 0; k < per_step; k++) {
            size_t stride = (cursor + k * 7919) % strides;
            size_t word = stride * 512 + (size_t)(next() % 512);
            if (word >= words) word = words - 1;
            mem[word] ^= next();
        }
        cursor += per_step;
        if (steps) { printf("step %lu %016llx\n", step + 1, (unsigned long long)state); fflush(stdout); }
        /* Pace by the wall clock: sleep until this step's slot is over. */
        double until = start + (double)(step + 1) / 100.0;
        double left = pace ? until - now() : 0;
        if (left > 0) {
            struct timespec ts = { (time_t)left, (long)((left - (double)(time_t)left) * 1e9) };
            nanosleep(&ts, NULL);
        }
    }
    if (gate) {
        FILE *open_gate;
        while (!(open_gate = fopen(gate, "r"))) {
            struct timespec ts = { 0, 10 * 1000 * 1000 };
            nanosleep(&ts, NULL);
        }
        fclose(open_gate);
    }
    printf("done %016llx\n", (unsigned long long)checksum(mem, words));
    return 0;
}
