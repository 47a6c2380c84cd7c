/*
 * ticker: a long-running job that prints progressively, for agent and migration
 * tests and the migration benchmark.  Arguments are key=value, all optional:
 *
 *   lines=N     progress lines to print (default 100)
 *   work=N      mixing rounds between two lines (default 20000)
 *   mem=N       MiB of linear memory to fill with pseudo-random (incompressible)
 *               data before the first line (default 1)
 *   gate=PATH   before line `at`, wait until PATH exists (polls every 2 ms)
 *   at=N        the line the gate holds (default lines/2)
 *   status=N    exit status (default 0)
 *   log=PATH    after each line, append "tick N" and a newline to PATH (opened and
 *               closed each time): the copies of a job that moved, or was taken
 *               over, leave their steps in one file in the order they ran
 *   sleep=MS    sleep MS milliseconds after each line (default 0): a long job that
 *               takes little CPU
 *
 * Every line depends on the whole history of the memory it mixes, so output that
 * comes out right after a migration shows that memory, stack and clocks moved
 * intact.  Each 10th line also writes a note to stderr, so the order between the
 * two streams is tested too.  Output is flushed line by line.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "job_args.h"

int main(int argc, char **argv) {
    unsigned long lines = num(argc, argv, "lines", 100);
    unsigned long work = num(argc, argv, "work", 20000);
    unsigned long mib = num(argc, argv, "mem", 1);
    unsigned long at = num(argc, argv, "at", lines / 2);
    int status = (int)num(argc, argv, "status", 0);
    const char *gate = arg(argc, argv, "gate");
    const char *log = arg(argc, argv, "log");
    unsigned long sleep_ms = num(argc, argv, "sleep", 0);

    size_t words = (mib << 20) / 8;
    if (words == 0) words = 1;
    uint64_t *mem = malloc(words * 8);
    if (!mem) { printf("malloc of %lu MiB failed\n", mib); return 1; }
    for (size_t i = 0; i < words; i++) mem[i] = next();
    printf("ticker: %lu lines, %lu MiB filled\n", lines, mib);
    fflush(stdout);

    uint64_t sum = 0;
    for (unsigned long line = 0; line < lines; line++) {
        if (gate && line == at) {
            struct stat st;
            printf("waiting for %s\n", gate);
            fflush(stdout);
            struct timespec ts = { 0, 2000000 };
            while (stat(gate, &st) != 0) nanosleep(&ts, NULL);
        }
        for (unsigned long r = 0; r < work; r++) {
            size_t i = (size_t)(next() % words);
            mem[i] = (mem[i] ^ sum) * 0x100000001B3ULL + r;
            sum = (sum ^ mem[i]) * 0x9E3779B97F4A7C15ULL;
            sum ^= sum >> 29;
        }
        printf("tick %lu/%lu %016llx\n", line + 1, lines, (unsigned long long)sum);
        fflush(stdout);
        if (line % 10 == 9) {
            fprintf(stderr, "note %lu\n", line + 1);
        }
        if (log) {
            FILE *f = fopen(log, "a");
            if (f) {
                fprintf(f, "tick %lu\n", line + 1);
                fclose(f);
            }
        }
        if (sleep_ms) {
            struct timespec ts = { (time_t)(sleep_ms / 1000), (long)(sleep_ms % 1000) * 1000000L };
            nanosleep(&ts, NULL);
        }
    }
    uint64_t total = 0;
    for (size_t i = 0; i < words; i++) total = (total ^ mem[i]) * 0x100000001B3ULL;
    printf("done %016llx\n", (unsigned long long)total);
    fflush(stdout);
    free(mem);
    return status;
}
