/*
 * notes: a long-running job whose files are its state, for the tests of in-memory
 * directories (`--mem-dir`): it keeps a file open for the whole run, writes to it as it
 * goes, and reads it all back at the end, so output that comes out right after a
 * migration shows that the files, the open fd and its offset moved intact.
 * Arguments are key=value, all optional:
 *
 *   dir=PATH    the directory to work in (default /data)
 *   lines=N     notes to write (default 40)
 *   work=N      mixing rounds between two notes (default 20000)
 *   sleep=MS    sleep MS milliseconds after each note (default 0)
 *   gate=PATH   before note `at`, wait until PATH exists (polls every 2 ms); says so
 *               on stderr only, so that stdout is the same gated or not: a test holds
 *               the job mid-run for as long as its moves take, on a loaded machine too,
 *               and compares with an ungated run
 *   at=N        the note the gate holds (default lines/2)
 *
 * At the start it prints the files already in `dir` (a seed) with their contents'
 * checksums; then it opens `dir/notes.txt` (created, read-write), and for each note
 * appends "note N <checksum>" through that one fd and prints "wrote N"; every 10th note
 * it also renames a scratch file back and forth and rewrites `dir/count`. At the end it
 * seeks back to 0, prints the file as read back, and lists `dir` with sizes.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "job_args.h"

static int by_name(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The names in `dir`, sorted, without . and .. (at most 64). */
static int names(const char *dir, char **out) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < 64) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        out[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(out, (size_t)n, sizeof *out, by_name);
    return n;
}

static uint64_t checksum(const char *path, long *size) {
    FILE *f = fopen(path, "rb");
    uint64_t h = 0xcbf29ce484222325ULL;
    *size = 0;
    if (!f) return 0;
    int c;
    while ((c = fgetc(f)) != EOF) {
        h = (h ^ (uint64_t)c) * 0x100000001B3ULL;
        (*size)++;
    }
    fclose(f);
    return h;
}

int main(int argc, char **argv) {
    const char *dir = arg(argc, argv, "dir");
    if (!dir) dir = "/data";
    unsigned long lines = num(argc, argv, "lines", 40);
    unsigned long work = num(argc, argv, "work", 20000);
    unsigned long sleep_ms = num(argc, argv, "sleep", 0);
    const char *gate = arg(argc, argv, "gate");
    unsigned long at = num(argc, argv, "at", lines / 2);
    char path[512];
    char *list[64];

    int n = names(dir, list);
    if (n < 0) { printf("cannot open %s\n", dir); return 1; }
    printf("notes: %lu notes in %s, %d entries there already\n", lines, dir, n);
    for (int i = 0; i < n; i++) {
        long size;
        snprintf(path, sizeof path, "%s/%s", dir, list[i]);
        uint64_t h = checksum(path, &size);
        printf("seed %s %ld bytes %016llx\n", list[i], size, (unsigned long long)h);
        free(list[i]);
    }
    fflush(stdout);

    snprintf(path, sizeof path, "%s/notes.txt", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) { printf("cannot create %s\n", path); return 1; }
    uint64_t sum = 0;
    uint64_t mem[512];
    for (int i = 0; i < 512; i++) mem[i] = next();
    for (unsigned long line = 0; line < lines; line++) {
        if (gate && line == at) {
            struct stat st;
            fprintf(stderr, "waiting for %s\n", gate);
            struct timespec ts = { 0, 2000000 };
            while (stat(gate, &st) != 0) nanosleep(&ts, NULL);
        }
        for (unsigned long r = 0; r < work; r++) {
            size_t i = (size_t)(next() % 512);
            mem[i] = (mem[i] ^ sum) * 0x100000001B3ULL + r;
            sum = (sum ^ mem[i]) * 0x9E3779B97F4A7C15ULL;
            sum ^= sum >> 29;
        }
        char note[64];
        int len = snprintf(note, sizeof note, "note %lu %016llx\n", line + 1, (unsigned long long)sum);
        if (write(fd, note, (size_t)len) != len) { printf("write failed at note %lu\n", line + 1); return 1; }
        printf("wrote %lu\n", line + 1);
        fflush(stdout);
        if (line % 10 == 9) {
            char a[512], b[512];
            snprintf(a, sizeof a, "%s/scratch", dir);
            snprintf(b, sizeof b, "%s/scratch.moved", dir);
            FILE *s = fopen(a, "w");
            if (s) { fprintf(s, "%lu\n", line + 1); fclose(s); }
            rename(a, b);
            snprintf(a, sizeof a, "%s/count", dir);
            FILE *c = fopen(a, "w");
            if (c) { fprintf(c, "%lu notes\n", line + 1); fclose(c); }
        }
        if (sleep_ms) {
            struct timespec ts = { (time_t)(sleep_ms / 1000), (long)(sleep_ms % 1000) * 1000000L };
            nanosleep(&ts, NULL);
        }
    }
    off_t end = lseek(fd, 0, SEEK_CUR);
    lseek(fd, 0, SEEK_SET);
    printf("read back %lld bytes:\n", (long long)end);
    char buf[4096];
    ssize_t got;
    while ((got = read(fd, buf, sizeof buf)) > 0) fwrite(buf, 1, (size_t)got, stdout);
    close(fd);
    n = names(dir, list);
    for (int i = 0; i < n; i++) {
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, list[i]);
        if (stat(path, &st) == 0) printf("ls %s %lld%s\n", list[i], (long long)st.st_size, S_ISDIR(st.st_mode) ? " dir" : "");
        free(list[i]);
    }
    printf("done\n");
    fflush(stdout);
    return 0;
}
