/*
 * stdin_lines: reads all of stdin line by line (getline, so stdio buffering and
 * realloc), then prints the lines in reverse order, each prefixed with its
 * original 1-based line number and its length.  A last line without a newline
 * is still a line.  Ends with a summary line.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
    char **lines = NULL;
    size_t count = 0, cap = 0;
    char *line = NULL;
    size_t linecap = 0;
    ssize_t len;
    while ((len = getline(&line, &linecap, stdin)) >= 0) {
        if (len > 0 && line[len - 1] == '\n') line[--len] = '\0';
        if (count == cap) {
            cap = cap ? cap * 2 : 4;
            lines = realloc(lines, cap * sizeof *lines);
            if (!lines) { perror("realloc"); return 1; }
        }
        lines[count++] = strdup(line);
    }
    free(line);
    for (size_t i = count; i > 0; i--) {
        printf("%4zu (%zu): %s\n", i, strlen(lines[i - 1]), lines[i - 1]);
        free(lines[i - 1]);
    }
    free(lines);
    printf("%zu lines\n", count);
    return 0;
}
