/*
 * args_env: prints argc, every argv[i], the number of environment entries, and
 * a few selected variables (WASMIG_GREETING, WASMIG_EMPTY, HOME, WASMIG_UNSET),
 * "(unset)" for the absent ones.  Exercises args_sizes_get/args_get and
 * environ_sizes_get/environ_get.
 */
#include <stdio.h>
#include <stdlib.h>

extern char **environ;

int main(int argc, char **argv) {
    printf("argc=%d\n", argc);
    for (int i = 0; i < argc; i++) printf("argv[%d]=[%s]\n", i, argv[i]);
    int n = 0;
    for (char **e = environ; *e; e++) n++;
    printf("environ entries=%d\n", n);
    static const char *const names[] = {"WASMIG_GREETING", "WASMIG_EMPTY", "HOME", "WASMIG_UNSET"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *v = getenv(names[i]);
        if (v) printf("%s=[%s]\n", names[i], v);
        else printf("%s (unset)\n", names[i]);
    }
    return 0;
}
