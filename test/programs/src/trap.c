/*
 * trap: prints a line, flushes it, then executes a Wasm `unreachable`
 * instruction.  The line after the trap must never appear.
 */
#include <stdio.h>

int main(void) {
    printf("about to trap\n");
    fflush(stdout);
    __builtin_trap();
    printf("after the trap (must not be printed)\n");
    return 0;
}
