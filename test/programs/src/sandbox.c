/*
 * sandbox: tries to get out of the preopened directory "." in every way a
 * program can ask for, and prints for each attempt "blocked" or "ESCAPED".
 * The host lays out (see cases.ts):
 *     ROOT/outside.txt                  a file outside the sandbox
 *     ROOT/box/           preopened as "."
 *     ROOT/box/inside.txt               "inside\n"
 *     ROOT/box/sub/                     an empty directory
 *     ROOT/box/link_in  -> inside.txt   stays inside: must work
 *     ROOT/box/link_out -> ../outside.txt
 *     ROOT/box/link_abs -> /etc/passwd
 *     ROOT/box/link_up  -> ..
 * Two controls (inside.txt, link_in) must open.  With argv[1] = "-v" every
 * line also names the errno the attempt failed with (which differs between
 * runtimes) and whether the program could create its own symlinks; otherwise
 * those go to stderr, so stdout is the same on every runtime that keeps the
 * sandbox shut.  Exit status 0 when nothing escaped, 1 otherwise.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errno_name.h"

static int verbose = 0;
static int escapes = 0;

/* Reports a call that must fail; rc >= 0 means it succeeded. */
static void expect_blocked(const char *what, int rc, int err) {
    if (rc >= 0) {
        printf("%s: ESCAPED\n", what);
        escapes++;
    } else if (verbose) {
        printf("%s: blocked %s\n", what, errno_name(err));
    } else {
        printf("%s: blocked\n", what);
        fprintf(stderr, "%s: %s\n", what, errno_name(err));
    }
}

/* An outcome that may differ between runtimes without being wrong. */
static void note(const char *what, const char *text) {
    fprintf(verbose ? stdout : stderr, "%s: %s\n", what, text);
}

static void try_open(const char *path, int flags) {
    char what[128];
    snprintf(what, sizeof what, "open %s%s", path, (flags & O_CREAT) ? " O_CREAT" : "");
    int fd = open(path, flags, 0644);
    int err = errno;
    if (fd >= 0) close(fd);
    expect_blocked(what, fd, err);
}

static void control(const char *path) {
    char buf[32] = {0};
    int fd = open(path, O_RDONLY);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
    if (fd >= 0) close(fd);
    if (n == 7 && strcmp(buf, "inside\n") == 0) printf("control %s: opened\n", path);
    else printf("control %s: FAILED %s\n", path, errno_name(errno));
}

int main(int argc, char **argv) {
    verbose = argc > 1 && strcmp(argv[1], "-v") == 0;
    struct stat st;
    int rc;

    control("inside.txt");
    control("link_in");
    control("./sub/../inside.txt");

    try_open("../outside.txt", O_RDONLY);
    try_open("sub/../../outside.txt", O_RDONLY);
    try_open("/etc/passwd", O_RDONLY);
    try_open("/outside.txt", O_RDONLY);
    try_open("link_out", O_RDONLY);
    try_open("link_abs", O_RDONLY);
    try_open("link_up/outside.txt", O_RDONLY);
    try_open("../created.txt", O_WRONLY | O_CREAT);
    try_open("link_up/created.txt", O_WRONLY | O_CREAT);

    rc = stat("../outside.txt", &st);
    expect_blocked("stat ../outside.txt", rc, errno);
    rc = stat("link_out", &st);
    expect_blocked("stat link_out (follows the link)", rc, errno);
    rc = mkdir("../escaped_dir", 0755);
    expect_blocked("mkdir ../escaped_dir", rc, errno);
    rc = rename("inside.txt", "../moved.txt");
    expect_blocked("rename inside.txt ../moved.txt", rc, errno);
    rc = unlink("../outside.txt");
    expect_blocked("unlink ../outside.txt", rc, errno);
    DIR *d = opendir("..");
    expect_blocked("opendir ..", d ? 0 : -1, errno);
    if (d) closedir(d);

    /* Symlinks made by the program itself: creating them may or may not be
       allowed, but following them must not lead outside. */
    rc = symlink("/etc/passwd", "made_abs");
    note("symlink made_abs -> /etc/passwd", rc == 0 ? "created" : errno_name(errno));
    try_open("made_abs", O_RDONLY);
    unlink("made_abs");
    rc = symlink("../outside.txt", "made_out");
    note("symlink made_out -> ../outside.txt", rc == 0 ? "created" : errno_name(errno));
    try_open("made_out", O_RDONLY);
    unlink("made_out");
    rc = symlink("..", "made_up");
    note("symlink made_up -> ..", rc == 0 ? "created" : errno_name(errno));
    try_open("made_up/outside.txt", O_RDONLY);
    unlink("made_up");

    control("inside.txt");
    printf("sandbox: %d escapes\n", escapes);
    return escapes == 0 ? 0 : 1;
}
