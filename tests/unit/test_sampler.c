/* test_sampler.c — tern_sampler_*: refuses NaN and infinite logits, never reads outside its
 * buffers (huge logits, tiny temperatures, every top-p), never picks a token of probability 0,
 * and matches llama2.c's sampler token for token on ordinary logits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tern/tern_llm.h"
#include "unit_util.h"

#define MAXV 64

/* One sample from a fresh copy of logits; fails the test on an error. */
static int32_t sample_ok(struct tern_sampler *s, const float *logits, const char *what)
{
    float buf[MAXV];
    int32_t tok = -2;

    memcpy(buf, logits, (size_t)s->vocab_size * sizeof *buf);
    int rc = tern_sampler_sample(s, buf, &tok);
    if (rc != TERN_OK)
        fail_msg("%s: tern_sampler_sample returned %d", what, rc);
    if (tok < 0 || tok >= s->vocab_size)
        fail_msg("%s: token %d outside 0..%d", what, tok, s->vocab_size - 1);
    return tok;
}

static void init_ok(struct tern_sampler *s, int32_t n, float temp, float topp, uint64_t seed)
{
    int rc = tern_sampler_init(s, n, temp, topp, seed);
    if (rc != TERN_OK)
        fail_msg("tern_sampler_init(n %d, temperature %g, topp %g) returned %d", n, (double)temp, (double)topp,
                 rc);
}

static const float temps[] = {0.0f, 1.0f, 0.7f, 1e-39f, FLT_TRUE_MIN, 1e30f};
static const float topps[] = {0.0f, 0.9f, 1e-7f, 0.1f, 0.5f, 1.0f};
#define NT (sizeof temps / sizeof temps[0])
#define NP (sizeof topps / sizeof topps[0])

static void test_non_finite_logits_are_refused(void **state)
{
    (void)state;
    const float bad[] = {NAN, INFINITY, -INFINITY};
    for (size_t b = 0; b < 3; b++)
        for (size_t ti = 0; ti < NT; ti++)
            for (size_t pi = 0; pi < NP; pi++)
                for (int where = 0; where < 3; where++) { /* the first, a middle, or every logit */
                    struct tern_sampler s;
                    float lo[8] = {0.5f, -1.0f, 2.0f, 0.0f, 1.0f, 3.0f, -2.0f, 0.25f};
                    int32_t tok = 7;
                    if (where == 2)
                        for (int i = 0; i < 8; i++)
                            lo[i] = bad[b];
                    else
                        lo[where == 0 ? 0 : 5] = bad[b];
                    init_ok(&s, 8, temps[ti], topps[pi], 3);
                    int rc = tern_sampler_sample(&s, lo, &tok);
                    if (rc != TERN_E_INVAL || tok != -1)
                        fail_msg("logit %g (%s), temperature %g, topp %g: rc %d token %d, want TERN_E_INVAL and -1",
                                 (double)bad[b], where == 2 ? "all" : where ? "middle" : "first",
                                 (double)temps[ti], (double)topps[pi], rc, tok);
                    tern_sampler_free(&s);
                }
}

/* One logit far above the rest (or the largest floats): every mode must pick it. */
static void test_huge_logits_pick_the_maximum(void **state)
{
    (void)state;
    const float cases[][6] = {
        {-FLT_MAX, FLT_MAX, 0.0f, 1.0f, -1.0f, 3e38f},  /* FLT_MAX beats 3e38 by far at any temperature < ~1e37 */
        {3e38f, -3e38f, -3e38f, -3e38f, -3e38f, -3e38f},
        {1.0f, 2.0f, 1e30f, 3.0f, -1e30f, 0.0f},
    };
    const int32_t want[] = {1, 0, 2};
    const float t_here[] = {0.0f, 1.0f, 0.7f, 1e-39f, FLT_TRUE_MIN};
    for (size_t c = 0; c < 3; c++)
        for (size_t ti = 0; ti < 5; ti++)
            for (size_t pi = 0; pi < NP; pi++)
                for (uint64_t seed = 1; seed <= 20; seed++) {
                    struct tern_sampler s;
                    char what[96];
                    snprintf(what, sizeof what, "case %zu temperature %g topp %g seed %llu", c, (double)t_here[ti],
                             (double)topps[pi], (unsigned long long)seed);
                    init_ok(&s, 6, t_here[ti], topps[pi], seed);
                    int32_t tok = sample_ok(&s, cases[c], what);
                    if (tok != want[c])
                        fail_msg("%s: token %d, want %d", what, tok, want[c]);
                    tern_sampler_free(&s);
                }
}

/* Temperatures so small that logit / temperature overflows (the defect: every probability NaN,
 * then pi[-1]): distinct logits give the maximum; tied maxima share the draws, nothing else wins. */
static void test_tiny_temperature_is_greedy_over_the_maxima(void **state)
{
    (void)state;
    const float tiny[] = {1e-39f, FLT_TRUE_MIN, 1e-30f, FLT_MIN};
    const float distinct[5] = {0.25f, -3.0f, 0.5f, 0.1f, 0.0f};
    const float tied[5] = {1.5f, -3.0f, 1.5f, 1.25f, 1.5f};
    for (size_t ti = 0; ti < 4; ti++)
        for (size_t pi = 0; pi < NP; pi++) {
            int seen[5] = {0};
            for (uint64_t seed = 1; seed <= 200; seed++) {
                struct tern_sampler s;
                char what[96];
                snprintf(what, sizeof what, "temperature %g topp %g seed %llu", (double)tiny[ti], (double)topps[pi],
                         (unsigned long long)seed);
                init_ok(&s, 5, tiny[ti], topps[pi], seed);
                if (sample_ok(&s, distinct, what) != 2)
                    fail_msg("%s: distinct logits did not give the maximum (token 2)", what);
                seen[sample_ok(&s, tied, what)]++;
                tern_sampler_free(&s);
            }
            if (seen[1] || seen[3])
                fail_msg("temperature %g topp %g: a token below the maximum was drawn (%d, %d times)",
                         (double)tiny[ti], (double)topps[pi], seen[1], seen[3]);
            /* top-p keeps only as many of the tied tokens as it needs, in token order */
            if (seen[0] == 0)
                fail_msg("temperature %g topp %g: token 0, one of the tied maxima, never drawn", (double)tiny[ti],
                         (double)topps[pi]);
        }
}

/* top-p below 1/n: no token passes the cutoff (the defect read pi[-1] with finite, even logits). */
static void test_topp_below_one_over_n(void **state)
{
    (void)state;
    const int32_t sizes[] = {1, 2, 8, 64};
    for (size_t zi = 0; zi < 4; zi++) {
        const int32_t n = sizes[zi];
        float flat[MAXV], ramp[MAXV];
        for (int32_t i = 0; i < n; i++) {
            flat[i] = 0.0f;
            ramp[i] = 0.001f * (float)(i % 7);
        }
        const float topp = 0.5f / (float)n;
        for (uint64_t seed = 1; seed <= 50; seed++) {
            struct tern_sampler s;
            char what[64];
            snprintf(what, sizeof what, "n %d topp %g seed %llu", n, (double)topp, (unsigned long long)seed);
            init_ok(&s, n, 1.0f, topp, seed);
            int32_t a = sample_ok(&s, flat, what);
            int32_t b = sample_ok(&s, ramp, what);
            /* the most likely token alone passes topp (the first of the tied ones) */
            if (n > 1 && (a != 0 || b != (n >= 7 ? 6 : n - 1)))
                fail_msg("%s: tokens %d and %d, want 0 and %d", what, a, b, n >= 7 ? 6 : n - 1);
            tern_sampler_free(&s);
        }
    }
}

/* A token whose probability rounds to 0 is never drawn, with or without top-p. */
static void test_zero_probability_never_drawn(void **state)
{
    (void)state;
    float lo[MAXV];
    for (int i = 0; i < MAXV; i++)
        lo[i] = i < 3 ? 0.0f : -200.0f; /* exp(-200) is 0 in float */
    for (size_t pi = 0; pi < NP; pi++) {
        struct tern_sampler s;
        init_ok(&s, MAXV, 1.0f, topps[pi], 11);
        for (int k = 0; k < 3000; k++) {
            char what[64];
            snprintf(what, sizeof what, "topp %g draw %d", (double)topps[pi], k);
            int32_t tok = sample_ok(&s, lo, what);
            if (tok >= 3)
                fail_msg("%s: token %d has probability 0", what, tok);
        }
        tern_sampler_free(&s);
    }
}

/* The draws follow the softmax: 30000 draws of p = 0.5, 0.3, 0.2 land within 0.015 of each. */
static void test_frequencies_follow_the_softmax(void **state)
{
    (void)state;
    const float lo[3] = {logf(0.5f), logf(0.3f), logf(0.2f)};
    const double p[3] = {0.5, 0.3, 0.2};
    struct tern_sampler s;
    int count[3] = {0};
    init_ok(&s, 3, 1.0f, 0.0f, 12345);
    for (int k = 0; k < 30000; k++)
        count[sample_ok(&s, lo, "softmax")]++;
    tern_sampler_free(&s);
    for (int i = 0; i < 3; i++)
        if (fabs(count[i] / 30000.0 - p[i]) > 0.015)
            fail_msg("token %d drawn %d of 30000 times, want about %.0f", i, count[i], 30000 * p[i]);
}

/* llama2.c's sampler (run.c), verbatim in substance: the reference for ordinary logits. */
struct l2_pi {
    float prob;
    int index;
};
static int l2_cmp(const void *a, const void *b)
{
    const struct l2_pi *x = a, *y = b;
    return x->prob > y->prob ? -1 : x->prob < y->prob ? 1 : 0;
}
static unsigned int l2_u32(unsigned long long *st)
{
    *st ^= *st >> 12;
    *st ^= *st << 25;
    *st ^= *st >> 27;
    return (unsigned int)((*st * 0x2545F4914F6CDD1Dull) >> 32);
}
static int l2_sample(float *x, int n, float temp, float topp, unsigned long long *st, struct l2_pi *pi)
{
    int best = 0;
    if (temp == 0.0f) {
        for (int i = 1; i < n; i++)
            if (x[i] > x[best])
                best = i;
        return best;
    }
    for (int i = 0; i < n; i++)
        x[i] /= temp;
    float max = x[0], sum = 0.0f;
    for (int i = 1; i < n; i++)
        if (x[i] > max)
            max = x[i];
    for (int i = 0; i < n; i++) {
        x[i] = expf(x[i] - max);
        sum += x[i];
    }
    for (int i = 0; i < n; i++)
        x[i] /= sum;
    float coin = (float)(l2_u32(st) >> 8) / 16777216.0f;
    if (topp <= 0 || topp >= 1) {
        float cdf = 0.0f;
        for (int i = 0; i < n; i++) {
            cdf += x[i];
            if (coin < cdf)
                return i;
        }
        return n - 1;
    }
    int n0 = 0;
    const float cutoff = (1.0f - topp) / (n - 1);
    for (int i = 0; i < n; i++)
        if (x[i] >= cutoff) {
            pi[n0].index = i;
            pi[n0].prob = x[i];
            n0++;
        }
    qsort(pi, n0, sizeof *pi, l2_cmp);
    float cum = 0.0f;
    int last = n0 - 1;
    for (int i = 0; i < n0; i++) {
        cum += pi[i].prob;
        if (cum > topp) {
            last = i;
            break;
        }
    }
    float r = coin * cum, cdf = 0.0f;
    for (int i = 0; i <= last; i++) {
        cdf += pi[i].prob;
        if (r < cdf)
            return pi[i].index;
    }
    return pi[last].index;
}

static void test_matches_llama2c_on_ordinary_logits(void **state)
{
    (void)state;
    const float t_here[] = {0.0f, 1.0f, 0.8f, 0.3f, 2.0f};
    const float p_here[] = {0.0f, 0.9f, 0.95f, 0.5f, 1.0f};
    struct l2_pi pi[MAXV];
    struct prng r = prng_seed(99);
    for (size_t ti = 0; ti < 5; ti++)
        for (size_t pj = 0; pj < 5; pj++) {
            struct tern_sampler s;
            unsigned long long st = 4242;
            init_ok(&s, MAXV, t_here[ti], p_here[pj], 4242);
            for (int k = 0; k < 400; k++) {
                float lo[MAXV], a[MAXV];
                for (int i = 0; i < MAXV; i++)
                    lo[i] = (float)((int64_t)(prng_next(&r) % 20001) - 10000) / 1000.0f; /* -10..10 */
                memcpy(a, lo, sizeof a);
                int32_t want = l2_sample(a, MAXV, t_here[ti], p_here[pj], &st, pi);
                int32_t got = sample_ok(&s, lo, "llama2.c");
                if (got != want)
                    fail_msg("temperature %g topp %g draw %d: token %d, llama2.c gives %d", (double)t_here[ti],
                             (double)p_here[pj], k, got, want);
            }
            tern_sampler_free(&s);
        }
}

static void test_bad_arguments(void **state)
{
    (void)state;
    struct tern_sampler s;
    float lo[4] = {0};
    int32_t tok;
    const float bad_t[] = {-1.0f, NAN, INFINITY, -0.0001f};
    const float bad_p[] = {-0.1f, 1.1f, NAN, INFINITY};

    assert_int_equal(tern_sampler_init(NULL, 4, 1.0f, 0.9f, 1), TERN_E_INVAL);
    assert_int_equal(tern_sampler_init(&s, 0, 1.0f, 0.9f, 1), TERN_E_INVAL);
    assert_null(s.scratch);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(tern_sampler_init(&s, 4, bad_t[i], 0.9f, 1), TERN_E_INVAL);
        assert_int_equal(tern_sampler_init(&s, 4, 1.0f, bad_p[i], 1), TERN_E_INVAL);
    }
    tern_sampler_free(NULL);
    init_ok(&s, 4, 1.0f, 0.9f, 1);
    assert_int_equal(tern_sampler_sample(NULL, lo, &tok), TERN_E_INVAL);
    assert_int_equal(tok, -1);
    assert_int_equal(tern_sampler_sample(&s, NULL, &tok), TERN_E_INVAL);
    assert_int_equal(tern_sampler_sample(&s, lo, NULL), TERN_E_INVAL);
    /* fields spoiled after init are refused, not followed */
    s.temperature = NAN;
    assert_int_equal(tern_sampler_sample(&s, lo, &tok), TERN_E_INVAL);
    s.temperature = 1.0f;
    s.topp = NAN;
    assert_int_equal(tern_sampler_sample(&s, lo, &tok), TERN_E_INVAL);
    s.topp = 0.9f;
    assert_int_equal(tern_sampler_sample(&s, lo, &tok), TERN_OK);
    tern_sampler_free(&s);
    tern_sampler_free(&s); /* twice is fine */
    assert_int_equal(tern_sampler_sample(&s, lo, &tok), TERN_E_INVAL); /* freed */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_non_finite_logits_are_refused),
        cmocka_unit_test(test_huge_logits_pick_the_maximum),
        cmocka_unit_test(test_tiny_temperature_is_greedy_over_the_maxima),
        cmocka_unit_test(test_topp_below_one_over_n),
        cmocka_unit_test(test_zero_probability_never_drawn),
        cmocka_unit_test(test_frequencies_follow_the_softmax),
        cmocka_unit_test(test_matches_llama2c_on_ordinary_logits),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
