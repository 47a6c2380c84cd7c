/*
 * clocks: clock_time_get / clock_res_get for the realtime, monotonic and
 * process/thread CPU-time clocks, and poll_oneoff through nanosleep.  Prints
 * only verdicts ("monotonic ok"), never raw times, so the output is the same
 * on every run.  Exit status 0 when every check passed, 1 otherwise.
 */
#include <stdio.h>
#include <sys/time.h>
#include <time.h>

static int failures = 0;

static void check(int ok, const char *what) {
    printf("%s %s\n", what, ok ? "ok" : "FAIL");
    if (!ok) failures++;
}

static long long ns(clockid_t id) {
    struct timespec ts;
    if (clock_gettime(id, &ts) != 0) return -1;
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(void) {
    struct timespec res;

    /* Realtime: after 2020-01-01 and before 2200-01-01, and agrees with time(). */
    long long rt = ns(CLOCK_REALTIME);
    check(rt > 1577836800LL * 1000000000LL && rt < 7258118400LL * 1000000000LL, "realtime");
    time_t t = time(NULL);
    check(t >= rt / 1000000000LL && t - rt / 1000000000LL < 5, "time");
    struct timeval tv;
    check(gettimeofday(&tv, NULL) == 0 && tv.tv_sec >= t && tv.tv_usec >= 0 && tv.tv_usec < 1000000, "gettimeofday");

    /* Monotonic: never goes back. */
    long long prev = ns(CLOCK_MONOTONIC), cur = prev;
    int mono_ok = prev >= 0;
    for (int i = 0; i < 1000; i++) {
        cur = ns(CLOCK_MONOTONIC);
        if (cur < prev) mono_ok = 0;
        prev = cur;
    }
    check(mono_ok, "monotonic");

    /* CPU-time clocks: present and never going back. */
    long long c1 = ns(CLOCK_PROCESS_CPUTIME_ID);
    volatile unsigned spin = 0;
    for (unsigned i = 0; i < 1000000; i++) spin += i;
    long long c2 = ns(CLOCK_PROCESS_CPUTIME_ID);
    check(c1 >= 0 && c2 >= c1 && spin != 1, "process cputime");
    long long th = ns(CLOCK_THREAD_CPUTIME_ID);
    check(th >= 0, "thread cputime");

    /* Resolutions: positive and at most one second. */
    int res_ok = 1;
    const clockid_t ids[] = {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID};
    for (int i = 0; i < 4; i++) {
        if (clock_getres(ids[i], &res) != 0) res_ok = 0;
        else if (res.tv_sec > 1 || (res.tv_sec == 0 && res.tv_nsec <= 0)) res_ok = 0;
    }
    check(res_ok, "resolution");

    /* nanosleep 10 ms.  Hosts with millisecond timers (libuv, so node:wasi)
       may wake up to 1 ms early, hence the 9 ms floor; raw times go to stderr
       only. */
    long long before = ns(CLOCK_MONOTONIC);
    struct timespec req = {0, 10 * 1000000L};
    int rc = nanosleep(&req, NULL);
    long long elapsed = ns(CLOCK_MONOTONIC) - before;
    fprintf(stderr, "nanosleep 10ms: rc %d, %lld ns\n", rc, elapsed);
    check(rc == 0 && elapsed >= 9000000LL, "nanosleep 10ms elapsed >= 9ms");
    check(elapsed < 5000000000LL, "nanosleep 10ms elapsed < 5s");

    /* clock_nanosleep on the realtime clock, relative, 5 ms (same 1 ms slack). */
    before = ns(CLOCK_MONOTONIC);
    req.tv_nsec = 5 * 1000000L;
    rc = clock_nanosleep(CLOCK_REALTIME, 0, &req, NULL);
    elapsed = ns(CLOCK_MONOTONIC) - before;
    fprintf(stderr, "clock_nanosleep 5ms: rc %d, %lld ns\n", rc, elapsed);
    check(rc == 0 && elapsed >= 4000000LL, "clock_nanosleep 5ms elapsed >= 4ms");

    printf("clocks: %d failures\n", failures);
    return failures == 0 ? 0 : 1;
}
