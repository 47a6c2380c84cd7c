/* hello: the smallest WASI program; printf to stdout, exit status 0. */
#include <stdio.h>

int main(void) {
    printf("Hello, wasmig!\n");
    return 0;
}
