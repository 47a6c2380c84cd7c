/*
 * exit_code: exits with the status given in argv[1] (default 3) through
 * exit(), i.e. WASI proc_exit, after printing one line.
 */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    int status = argc > 1 ? atoi(argv[1]) : 3;
    printf("exiting with %d\n", status);
    fflush(stdout);
    exit(status);
}
