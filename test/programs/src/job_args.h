/*
 * What the job test programs (writer, ticker, notes) share: their `key=value`
 * arguments and the xorshift generator that makes their data, so that a test can
 * compute what a run must print (the helpers in test/helpers) from the same rules.
 */
#ifndef JOB_ARGS_H
#define JOB_ARGS_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint64_t state = 0x9E3779B97F4A7C15ULL;

/* The next number of the xorshift64 sequence (every program starts from the same seed). */
static uint64_t next(void) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
}

/* The value of argument `key=value`, or NULL when there is none. */
static const char *arg(int argc, char **argv, const char *key) {
    size_t n = strlen(key);
    for (int i = 1; i < argc; i++)
        if (strncmp(argv[i], key, n) == 0 && argv[i][n] == '=') return argv[i] + n + 1;
    return NULL;
}

/* The number given as `key=N`, or `dflt`. */
static unsigned long num(int argc, char **argv, const char *key, unsigned long dflt) {
    const char *v = arg(argc, argv, key);
    return v ? strtoul(v, NULL, 10) : dflt;
}

#endif
