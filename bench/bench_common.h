/* bench_common.h — what every benchmark needs: a monotonic wall clock and a seeded generator. */
#ifndef TERN_BENCH_COMMON_H
#define TERN_BENCH_COMMON_H

#include <stdint.h>
#include <time.h>

/* Seconds on the monotonic clock. */
static inline double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* splitmix64: deterministic workloads for a seed. */
static inline uint64_t bench_splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

#endif /* TERN_BENCH_COMMON_H */
