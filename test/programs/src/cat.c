/*
 * cat: copies stdin to stdout byte for byte with read()/write() (fd_read and
 * fd_write), then reports the byte count on stderr.  Binary-safe: NUL bytes,
 * 0xff bytes and CR/LF pass through untouched.
 */
#include <stdio.h>
#include <unistd.h>

static unsigned char buf[65536];

static int write_all(const unsigned char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(1, p, n);
        if (w < 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int main(void) {
    unsigned long long total = 0;
    for (;;) {
        ssize_t n = read(0, buf, sizeof buf);
        if (n < 0) { perror("read"); return 1; }
        if (n == 0) break;
        if (write_all(buf, (size_t)n) != 0) { perror("write"); return 1; }
        total += (unsigned long long)n;
    }
    fprintf(stderr, "cat: %llu bytes\n", total);
    return 0;
}
