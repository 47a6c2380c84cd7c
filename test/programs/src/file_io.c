/*
 * file_io: file-system calls inside a preopened directory, given as argv[1]
 * (default ".").  Every step prints what it did and whether the result matched
 * what POSIX promises; the output names paths relative to that directory so it
 * does not depend on where the directory is.  Leaves exactly one file behind,
 * result.txt, for the host to check.  Exit status 0 when every check passed,
 * 1 otherwise.
 *
 * WASI calls exercised: path_open (create, excl, trunc, append), fd_write,
 * fd_read, fd_sync, fd_datasync, fd_seek, fd_tell, fd_pread, fd_pwrite,
 * fd_filestat_get, fd_filestat_set_size, path_filestat_get,
 * path_filestat_set_times, path_rename, path_create_directory, fd_readdir,
 * path_unlink_file, path_remove_directory, fd_close.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errno_name.h"

static const char *root = ".";
static int failures = 0;

/* Prints "<what>: ok" or "<what>: FAIL" and counts failures. */
static void check(int ok, const char *what) {
    printf("%s: %s\n", what, ok ? "ok" : "FAIL");
    if (!ok) failures++;
}

/* Prints the errno a failing call gave and whether it is the expected one. */
static void check_errno(int rc, int expected, const char *what) {
    int got = rc < 0 ? errno : 0;
    printf("%s: %s %s\n", what, errno_name(got), got == expected ? "ok" : "FAIL");
    if (got != expected) failures++;
}

/* root + "/" + rel, in one of two rotating static buffers. */
static const char *at(const char *rel) {
    static char bufs[2][512];
    static int which = 0;
    which ^= 1;
    snprintf(bufs[which], sizeof bufs[which], "%s/%s", root, rel);
    return bufs[which];
}

static long long size_of(const char *rel) {
    struct stat st;
    if (stat(at(rel), &st) != 0) return -1;
    return (long long)st.st_size;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Prints the entries of a directory sorted by name, without "." and "..". */
static int list_dir(const char *rel) {
    DIR *d = opendir(at(rel));
    if (!d) { printf("opendir %s: %s FAIL\n", rel, errno_name(errno)); failures++; return -1; }
    char *names[64];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        if (n == 64) break;
        char *s = malloc(strlen(e->d_name) + 3);
        sprintf(s, "%s%s", e->d_name, e->d_type == DT_DIR ? "/" : "");
        names[n++] = s;
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof names[0], cmp_str);
    printf("ls %s:", rel);
    for (int i = 0; i < n; i++) { printf(" %s", names[i]); free(names[i]); }
    printf(n ? "\n" : " (empty)\n");
    return n;
}

int main(int argc, char **argv) {
    if (argc > 1) root = argv[1];
    char buf[256];
    struct stat st;

    /* 0. A file the host put there before the run, if any. */
    int in = open(at("input.txt"), O_RDONLY);
    if (in >= 0) {
        ssize_t n = read(in, buf, sizeof buf - 1);
        buf[n < 0 ? 0 : n] = '\0';
        printf("input.txt: %zd bytes: %s", n, buf);
        if (n > 0 && buf[n - 1] != '\n') printf("\n");
        close(in);
    } else {
        printf("input.txt: absent (%s)\n", errno_name(errno));
    }

    /* 1. Directories. */
    check(mkdir(at("work"), 0755) == 0, "mkdir work");
    check_errno(mkdir(at("work"), 0755), EEXIST, "mkdir work again");
    check(stat(at("work"), &st) == 0 && S_ISDIR(st.st_mode), "stat work is a directory");

    /* 2. Create, write, sync. */
    int fd = open(at("work/a.txt"), O_RDWR | O_CREAT | O_EXCL, 0644);
    check(fd >= 0, "open work/a.txt O_CREAT|O_EXCL");
    const char *text = "hello, file\n";
    check(write(fd, text, 12) == 12, "write 12 bytes");
    check(fsync(fd) == 0, "fsync");
    check(fdatasync(fd) == 0, "fdatasync");
    check_errno(open(at("work/a.txt"), O_RDWR | O_CREAT | O_EXCL, 0644), EEXIST, "open existing with O_EXCL");

    /* 3. Seek and read back. */
    check(lseek(fd, 0, SEEK_CUR) == 12, "lseek SEEK_CUR = 12");
    check(lseek(fd, 0, SEEK_SET) == 0, "lseek SEEK_SET = 0");
    memset(buf, 0, sizeof buf);
    check(read(fd, buf, sizeof buf) == 12 && memcmp(buf, text, 12) == 0, "read back 12 bytes");
    check(read(fd, buf, sizeof buf) == 0, "read at end = 0");

    /* 4. pwrite/pread leave the file offset alone. */
    check(pwrite(fd, "HELLO", 5, 0) == 5, "pwrite 5 at 0");
    memset(buf, 0, sizeof buf);
    check(pread(fd, buf, 4, 7) == 4 && memcmp(buf, "file", 4) == 0, "pread 4 at 7 = file");
    check(pread(fd, buf, 12, 0) == 12 && memcmp(buf, "HELLO, file\n", 12) == 0, "pread all = HELLO, file");
    check(lseek(fd, 0, SEEK_CUR) == 12, "offset still 12");

    /* 5. Seeking past the end makes a hole of zeros. */
    check(lseek(fd, 4, SEEK_END) == 16, "lseek 4 past SEEK_END = 16");
    check(write(fd, "X", 1) == 1, "write X at 16");
    check(fstat(fd, &st) == 0 && st.st_size == 17, "fstat size = 17");
    check(pread(fd, buf, 5, 12) == 5 && memcmp(buf, "\0\0\0\0X", 5) == 0, "hole reads as zeros");
    check(lseek(fd, -1, SEEK_SET) < 0 && errno == EINVAL, "lseek to -1 fails with EINVAL");

    /* 6. ftruncate shrinks and grows. */
    check(ftruncate(fd, 5) == 0 && fstat(fd, &st) == 0 && st.st_size == 5, "ftruncate to 5");
    check(ftruncate(fd, 10) == 0 && fstat(fd, &st) == 0 && st.st_size == 10, "ftruncate to 10");
    check(pread(fd, buf, 10, 0) == 10 && memcmp(buf, "HELLO\0\0\0\0\0", 10) == 0, "grown part is zeros");
    check(close(fd) == 0, "close");
    check_errno(close(fd), EBADF, "close again");

    /* 7. Timestamps. */
    struct timespec times[2] = {{1000000000, 0}, {1234567890, 0}};
    check(utimensat(AT_FDCWD, at("work/a.txt"), times, 0) == 0, "utimensat");
    check(stat(at("work/a.txt"), &st) == 0 && st.st_mtim.tv_sec == 1234567890 && st.st_atim.tv_sec == 1000000000,
          "stat shows the new times");

    /* 8. O_APPEND writes at the end whatever the offset. */
    fd = open(at("work/log.txt"), O_WRONLY | O_CREAT | O_APPEND, 0644);
    check(fd >= 0, "open work/log.txt O_APPEND");
    check(write(fd, "one\n", 4) == 4, "append one");
    lseek(fd, 0, SEEK_SET);
    check(write(fd, "two\n", 4) == 4, "append two after seeking to 0");
    close(fd);
    fd = open(at("work/log.txt"), O_RDONLY);
    memset(buf, 0, sizeof buf);
    check(read(fd, buf, sizeof buf) == 8 && strcmp(buf, "one\ntwo\n") == 0, "log.txt = one two");
    check_errno((int)write(fd, "x", 1), EBADF, "write to O_RDONLY fd");
    close(fd);

    /* 9. stdio on files. */
    FILE *f = fopen(at("work/b.txt"), "w");
    check(f != NULL, "fopen work/b.txt w");
    for (int i = 0; i < 100; i++) fprintf(f, "line %03d\n", i);
    check(fclose(f) == 0, "fclose");
    printf("size b.txt = %lld\n", size_of("work/b.txt"));
    check(size_of("work/b.txt") == 900, "size b.txt = 900");
    f = fopen(at("work/b.txt"), "r");
    int lines = 0;
    while (fgets(buf, sizeof buf, f)) lines++;
    fclose(f);
    check(lines == 100, "fgets counts 100 lines");

    /* 10. rename, also over an existing file. */
    check(rename(at("work/b.txt"), at("work/c.txt")) == 0, "rename b.txt -> c.txt");
    check_errno(stat(at("work/b.txt"), &st), ENOENT, "stat b.txt after rename");
    check(size_of("work/c.txt") == 900, "size c.txt = 900");
    check(rename(at("work/log.txt"), at("work/c.txt")) == 0, "rename log.txt over c.txt");
    check(size_of("work/c.txt") == 8, "size c.txt = 8");
    check_errno(open(at("work/missing.txt"), O_RDONLY), ENOENT, "open missing file");

    /* 11. Subdirectory and listing. */
    check(mkdir(at("work/sub"), 0755) == 0, "mkdir work/sub");
    fd = open(at("work/sub/deep.txt"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    check(fd >= 0 && write(fd, "deep\n", 5) == 5, "create work/sub/deep.txt");
    close(fd);
    check(list_dir("work") == 3, "3 entries in work");
    check_errno(rmdir(at("work/sub")), ENOTEMPTY, "rmdir non-empty work/sub");
    check_errno(open(at("work/sub/deep.txt/x"), O_RDONLY), ENOTDIR, "open through a file");

    /* 12. Clean up. */
    check(unlink(at("work/sub/deep.txt")) == 0, "unlink work/sub/deep.txt");
    check(rmdir(at("work/sub")) == 0, "rmdir work/sub");
    check(unlink(at("work/a.txt")) == 0, "unlink work/a.txt");
    check(unlink(at("work/c.txt")) == 0, "unlink work/c.txt");
    check_errno(unlink(at("work/a.txt")), ENOENT, "unlink work/a.txt again");
    check(list_dir("work") == 0, "work is empty");
    check(rmdir(at("work")) == 0, "rmdir work");
    check_errno(stat(at("work"), &st), ENOENT, "stat work after rmdir");

    /* 13. The one file left for the host. */
    f = fopen(at("result.txt"), "w");
    check(f != NULL && fputs("file_io was here\n", f) >= 0 && fclose(f) == 0, "write result.txt");

    printf("file_io: %d failures\n", failures);
    return failures == 0 ? 0 : 1;
}
