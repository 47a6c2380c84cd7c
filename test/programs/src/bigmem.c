/*
 * bigmem: grows linear memory by a large malloc (argv[1] MiB, default 256),
 * writes a position-dependent pattern, reads it back into a checksum and
 * prints it.  argv[2] = "full" touches every byte; the default touches one
 * 64-bit word per 4 KiB page (every page still becomes non-zero), which keeps
 * it quick on an interpreter.  A second, small allocation after the big one
 * checks that malloc still works.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    size_t mib = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 256;
    int full = argc > 2 && strcmp(argv[2], "full") == 0;
    size_t size = mib << 20;
    size_t stride = full ? 8 : 4096;

    uint8_t *p = malloc(size);
    if (!p) { printf("malloc %zu MiB failed\n", mib); return 1; }
    printf("allocated %zu MiB, touching every %zu bytes\n", mib, stride);

    for (size_t off = 0; off + 8 <= size; off += stride) {
        uint64_t v = (uint64_t)off * 0x9E3779B97F4A7C15ULL ^ (off >> 12);
        memcpy(p + off, &v, 8);
    }
    uint64_t sum = 0, ok = 1;
    for (size_t off = 0; off + 8 <= size; off += stride) {
        uint64_t v;
        memcpy(&v, p + off, 8);
        if (v != ((uint64_t)off * 0x9E3779B97F4A7C15ULL ^ (off >> 12))) ok = 0;
        sum = (sum ^ v) * 0x100000001B3ULL;
        sum ^= sum >> 29;
    }
    printf("pattern %s\n", ok ? "ok" : "FAIL");
    printf("checksum %016llx\n", (unsigned long long)sum);
    printf("last byte %u\n", p[size - 1]);

    char *q = malloc(1000);
    if (!q) { printf("small malloc failed\n"); return 1; }
    strcpy(q, "small allocation ok");
    printf("%s\n", q);
    free(q);
    free(p);
    return ok ? 0 : 1;
}
