/*
 * qsort_printf: deterministic floating-point work and formatting.  A seeded
 * xorshift64* generator fills an array of doubles and an array of structs;
 * both are qsorted (through call_indirect comparators); the doubles, a list of
 * special values and their float roundings are printed with %f %e %g %.17g %a;
 * every %.17g string is parsed back with strtod and must give the same bits.
 * Everything is a pure function of the seed, so the output is fixed.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng_state = 0x2545F4914F6CDD1DULL;

static uint64_t next_u64(void) {
    uint64_t x = rng_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

/* A double with a random 53-bit mantissa, exponent in [2^-60, 2^40) and sign. */
static double next_double(void) {
    uint64_t x = next_u64();
    double m = (double)(x >> 11);
    int e = (int)(x % 100) - 113;
    double d = ldexp(m, e);
    return (x & 0x400) ? -d : d;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

struct item {
    int key;
    char name[8];
    double weight;
};

static int cmp_item(const void *a, const void *b) {
    const struct item *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return strcmp(x->name, y->name);
}

static uint64_t bits_of(double d) {
    uint64_t u;
    memcpy(&u, &d, 8);
    return u;
}

static void print_all_formats(const char *label, double d) {
    printf("%-10s %%f=%f %%e=%e %%g=%g %%.17g=%.17g %%a=%a\n", label, d, d, d, d, d);
}

int main(void) {
    /* Special values. */
    const double specials[] = {
        0.0, -0.0, 1.0, -1.0, 0.1, 0.5, 1.0 / 3.0, 2.0 / 3.0, 100.0, 1e21, 1e-7,
        123456789.125, 3.141592653589793, 2.718281828459045, 1e300, -1e-300,
        DBL_MAX, DBL_MIN, 4.9406564584124654e-324, DBL_EPSILON, 9007199254740993.0,
        0.30000000000000004, 5e-5, 999999.5, 0.000123456, INFINITY, -INFINITY, NAN,
    };
    const int nspecials = (int)(sizeof specials / sizeof specials[0]);
    for (int i = 0; i < nspecials; i++) {
        char label[16];
        snprintf(label, sizeof label, "special%d", i);
        print_all_formats(label, specials[i]);
    }
    printf("widths: [%12.3f] [%-12.3e] [%+g] [%08.2f] [%#.0f] [%#g] [% .4e]\n",
           3.14159, 2.5e-3, 42.0, -1.5, 7.0, 1.0, 6.02214076e23);
    printf("floats: %.9g %a %.9g %a %.9g %a\n", (double)FLT_MAX, (double)FLT_MAX,
           (double)FLT_MIN, (double)FLT_MIN, (double)(float)0.1, (double)(float)0.1);

    /* Random doubles: print, sort, print again, round-trip. */
    enum { N = 200 };
    static double v[N];
    for (int i = 0; i < N; i++) v[i] = next_double();
    for (int i = 0; i < 10; i++) print_all_formats("random", v[i]);
    qsort(v, N, sizeof v[0], cmp_double);
    int sorted = 1;
    for (int i = 1; i < N; i++) if (v[i - 1] > v[i]) sorted = 0;
    printf("doubles sorted: %s\n", sorted ? "yes" : "NO");
    for (int i = 0; i < N; i += 8) printf("v[%3d] = %.17g = %a\n", i, v[i], v[i]);
    int roundtrip = 0;
    double sum = 0.0;
    for (int i = 0; i < N; i++) {
        char s[64];
        snprintf(s, sizeof s, "%.17g", v[i]);
        if (bits_of(strtod(s, NULL)) == bits_of(v[i])) roundtrip++;
        sum += v[i];
    }
    printf("strtod round trips: %d of %d\n", roundtrip, N);
    printf("sum = %.17g\n", sum);

    /* Floats: float arithmetic then printed as doubles. */
    float fsum = 0.0f;
    for (int i = 0; i < N; i++) {
        float f = (float)v[i];
        fsum += f * 0.5f;
        if (i % 20 == 0) printf("float %3d: %.9g %e %a\n", i, (double)f, (double)f, (double)f);
    }
    printf("float sum = %.9g\n", (double)fsum);

    /* Math library, pure Wasm code in wasi-libc. */
    printf("math: %.17g %.17g %.17g %.17g %.17g\n", sqrt(2.0), exp(1.0), log(10.0), sin(1.0), pow(2.0, 0.5));

    /* Structs: many equal keys, ties broken by name. */
    enum { M = 100 };
    static struct item items[M];
    for (int i = 0; i < M; i++) {
        uint64_t x = next_u64();
        items[i].key = (int)(x % 10);
        for (int j = 0; j < 6; j++) items[i].name[j] = (char)('a' + (x >> (8 + 5 * j)) % 26);
        items[i].name[6] = '\0';
        items[i].weight = (double)(x >> 40) / 1024.0;
    }
    qsort(items, M, sizeof items[0], cmp_item);
    uint64_t h = 1469598103934665603ULL;
    for (int i = 0; i < M; i++) {
        if (i % 10 == 0) printf("item %2d: key=%d name=%s weight=%.3f\n", i, items[i].key, items[i].name, items[i].weight);
        h = (h ^ (uint64_t)items[i].key ^ bits_of(items[i].weight)) * 1099511628211ULL;
    }
    printf("items hash %016llx\n", (unsigned long long)h);
    printf("ints: %d %u %x %X %o %lld %llx %5d|%-5d|%05d\n", -42, 42u, 0xbeefu, 0xbeefu, 8u,
           -9000000000000000000LL, 0xfedcba9876543210ULL, 7, 7, 7);
    return 0;
}
