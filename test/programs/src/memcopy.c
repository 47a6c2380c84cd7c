/*
 * memcopy: heavy memcpy/memmove/memset traffic over a 1 MiB buffer, with
 * overlapping moves in both directions and odd sizes and alignments, folded
 * into a checksum.  Built with -mbulk-memory, the copies and fills of unknown
 * size become memory.copy / memory.fill instructions.  argv[1] = rounds
 * (default 200).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { SIZE = 1 << 20 };
static uint8_t buf[SIZE];
static uint8_t other[SIZE];

static uint32_t lcg = 12345;
static uint32_t next(void) {
    lcg = lcg * 1103515245u + 12345u;
    return lcg >> 8;
}

static uint64_t checksum(const uint8_t *p, size_t n) {
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i += 4) {
        uint32_t w;
        memcpy(&w, p + i, 4);
        h = (h ^ w) * 1099511628211ULL;
    }
    return h;
}

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 200;
    for (size_t i = 0; i < SIZE; i++) buf[i] = (uint8_t)(i * 7 + (i >> 9));
    uint64_t total = 0;
    for (int r = 0; r < rounds; r++) {
        size_t n = next() % 65536 + 1;
        size_t src = next() % (SIZE - n);
        size_t dst = next() % (SIZE - n);
        switch (r % 4) {
        case 0: /* non-overlapping copy to the other buffer and back */
            memcpy(other + dst, buf + src, n);
            memcpy(buf + (dst ^ 1) % (SIZE - n), other + dst, n);
            break;
        case 1: /* overlapping move, forward or backward */
            memmove(buf + dst, buf + src, n);
            break;
        case 2: /* fill */
            memset(buf + dst, (int)(next() & 0xff), n);
            break;
        default: { /* short overlapping moves by small distances */
            size_t d = next() % 17;
            if (src + d + n <= SIZE) memmove(buf + src + d, buf + src, n);
            if (src >= d) memmove(buf + src - d, buf + src, n);
        }
        }
        total ^= (uint64_t)buf[(src + dst) % SIZE] << (r % 56);
    }
    memset(other, 0, SIZE);
    printf("rounds %d\n", rounds);
    printf("checksum %016llx\n", (unsigned long long)checksum(buf, SIZE));
    printf("other %016llx\n", (unsigned long long)checksum(other, SIZE));
    printf("probe %016llx\n", (unsigned long long)total);
    return 0;
}
