/*
 * random: random_get through getentropy().  Prints verdicts, never the bytes:
 * two 256-byte draws are not all zero and differ; 64 KiB of draws contain every
 * byte value; asking for more than 256 bytes at once fails with EIO, as
 * getentropy promises.  Exit status 0 when every check passed, 1 otherwise.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "errno_name.h"

static int failures = 0;

static void check(int ok, const char *what) {
    printf("%s %s\n", what, ok ? "ok" : "FAIL");
    if (!ok) failures++;
}

int main(void) {
    unsigned char a[256], b[257];
    memset(a, 0, sizeof a);
    memset(b, 0, sizeof b);
    check(getentropy(a, 256) == 0, "getentropy 256 bytes");
    check(getentropy(b, 256) == 0, "getentropy 256 bytes again");
    int nonzero = 0;
    for (int i = 0; i < 256; i++) nonzero |= a[i];
    check(nonzero != 0, "not all zero");
    check(memcmp(a, b, 256) != 0, "two draws differ");
    check(b[256] == 0, "no write past the buffer");

    int seen[256] = {0};
    for (int round = 0; round < 256; round++) {
        if (getentropy(a, 256) != 0) { failures++; break; }
        for (int i = 0; i < 256; i++) seen[a[i]] = 1;
    }
    int distinct = 0;
    for (int i = 0; i < 256; i++) distinct += seen[i];
    check(distinct == 256, "all 256 byte values seen in 64 KiB");

    int rc = getentropy(b, 257);
    printf("getentropy 257 bytes: %s\n", rc == 0 ? "succeeded" : errno_name(errno));
    check(rc != 0 && errno == EIO, "getentropy over 256 bytes fails");

    printf("random: %d failures\n", failures);
    return failures == 0 ? 0 : 1;
}
