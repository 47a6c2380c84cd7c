/*
 * recursion: a non-tail recursive function argv[1] calls deep (default
 * 100000).  Each level keeps a small array on the C (shadow) stack in linear
 * memory, whose address escapes to a non-inlined function, so the depth costs
 * both engine call frames and linear-memory stack.  Built with a 16 MiB stack.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

__attribute__((noinline)) static void fill(volatile uint32_t *a, uint32_t n) {
    for (int i = 0; i < 4; i++) a[i] = n * 2654435761u + (uint32_t)i;
}

__attribute__((noinline)) static uint64_t depth_sum(uint32_t n) {
    volatile uint32_t a[4];
    if (n == 0) return 0;
    fill(a, n);
    uint64_t below = depth_sum(n - 1);
    return below + a[n & 3] + (below >> 61);
}

/* Mutual recursion through an indirect call (call_indirect). */
static uint32_t (*volatile odd_ptr)(uint32_t);
__attribute__((noinline)) static uint32_t is_even(uint32_t n) { return n == 0 ? 1 : odd_ptr(n - 1); }
__attribute__((noinline)) static uint32_t is_odd(uint32_t n) { return n == 0 ? 0 : is_even(n - 1); }

int main(int argc, char **argv) {
    uint32_t n = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 100000;
    odd_ptr = is_odd;
    printf("depth %u\n", n);
    printf("sum %llu\n", (unsigned long long)depth_sum(n));
    printf("is_even(%u) = %u\n", n / 2 + 1, is_even(n / 2 + 1));
    return 0;
}
