/* test_quant.c — tern_quantize_absmax: per-token absmax int8 quantisation (ARCHITECTURE.md 2). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "tern/tern.h"
#include "unit_util.h"

/* The oracle: a = m / 127 in float, the quotient x / a correctly rounded to float (computed in
 * double and rounded once: exact for a quotient of two floats), then R applied in double. */
static double oracle_round(double v, enum tern_round rule)
{
    double f = floor(v);
    double d = v - f;
    if (d > 0.5)
        return f + 1.0;
    if (d < 0.5)
        return f;
    if (rule == TERN_ROUND_HALF_AWAY)
        return v < 0 ? f : f + 1.0;
    return fmod(f, 2.0) == 0.0 ? f : f + 1.0;
}

static void oracle_quant(const float *x, size_t n, enum tern_round rule, int8_t *q, float *scale)
{
    float m = 0.0f;
    for (size_t i = 0; i < n; i++)
        if (fabsf(x[i]) > m)
            m = fabsf(x[i]);
    float a = (float)((double)m / 127.0);
    *scale = a;
    for (size_t i = 0; i < n; i++) {
        if (a == 0.0f) {
            q[i] = 0;
            continue;
        }
        float quot = (float)((double)x[i] / (double)a);
        double r = oracle_round((double)quot, rule);
        if (r > 127.0)
            r = 127.0;
        if (r < -127.0)
            r = -127.0;
        q[i] = (int8_t)r;
    }
}

static const char *rule_name(enum tern_round rule)
{
    return rule == TERN_ROUND_HALF_AWAY ? "HALF_AWAY" : "HALF_EVEN";
}

/* Runs the library on x and checks q against want, naming the element and the rule. */
static void check_quant(const char *what, const float *x, size_t n, enum tern_round rule,
                        const int8_t *want, float want_scale)
{
    int8_t q[64];
    float scale = -1.0f;
    memset(q, 0x55, sizeof q);
    assert_true(n <= sizeof q);
    int err = tern_quantize_absmax(x, n, rule, q, &scale);
    if (err != TERN_OK)
        fail_msg("%s, %s: tern_quantize_absmax returned %d", what, rule_name(rule), err);
    if (scale != want_scale)
        fail_msg("%s, %s: scale %.9g, want %.9g", what, rule_name(rule), (double)scale,
                 (double)want_scale);
    for (size_t i = 0; i < n; i++)
        if (q[i] != want[i])
            fail_msg("%s, %s: x[%zu] = %.9g (x/a = %.9g) quantised to %d, want %d", what,
                     rule_name(rule), i, (double)x[i], (double)(x[i] / want_scale), q[i], want[i]);
}

/* m = 127 makes a = 1 exactly, so these x / a land exactly on k + 0.5. */
static const float ties_unit[] = { 127.0f, 0.5f, 1.5f, 2.5f, -2.5f, -0.5f, 126.5f, -126.5f, 3.5f, -3.5f };

static void test_half_away_rounds_ties_away_from_zero(void **state)
{
    (void)state;
    const int8_t want[] = { 127, 1, 2, 3, -3, -1, 127, -127, 4, -4 };
    check_quant("ties with a = 1", ties_unit, 10, TERN_ROUND_HALF_AWAY, want, 1.0f);
}

static void test_half_even_rounds_ties_to_even(void **state)
{
    (void)state;
    const int8_t want[] = { 127, 0, 2, 2, -2, 0, 126, -126, 4, -4 };
    check_quant("ties with a = 1", ties_unit, 10, TERN_ROUND_HALF_EVEN, want, 1.0f);
}

/* m = 381 makes a = 3 exactly (not a power of two): 7.5 / 3 = 2.5, 4.5 / 3 = 1.5, 1.5 / 3 = 0.5. */
static const float ties_three[] = { 381.0f, 7.5f, -7.5f, 1.5f, 4.5f, -1.5f, 379.5f };

static void test_half_away_ties_with_scale_three(void **state)
{
    (void)state;
    const int8_t want[] = { 127, 3, -3, 1, 2, -1, 127 };
    check_quant("ties with a = 3", ties_three, 7, TERN_ROUND_HALF_AWAY, want, 3.0f);
}

static void test_half_even_ties_with_scale_three(void **state)
{
    (void)state;
    const int8_t want[] = { 127, 2, -2, 0, 2, 0, 126 };
    check_quant("ties with a = 3", ties_three, 7, TERN_ROUND_HALF_EVEN, want, 3.0f);
}

/* m = 889 makes a = 7 exactly, whose inverse is not a float: x / a must be a true division
 * (x * (1 / a) gives 45.5 * fl(1/7) = 6.50000048, which rounds to 7 under either rule). */
static const float ties_seven[] = { 889.0f, 45.5f, -45.5f, 3.5f, 10.5f, 17.5f };

static void test_half_even_ties_with_scale_seven(void **state)
{
    (void)state;
    const int8_t want[] = { 127, 6, -6, 0, 2, 2 };
    check_quant("ties with a = 7", ties_seven, 6, TERN_ROUND_HALF_EVEN, want, 7.0f);
}

static void test_half_away_ties_with_scale_seven(void **state)
{
    (void)state;
    const int8_t want[] = { 127, 7, -7, 1, 2, 3 };
    check_quant("ties with a = 7", ties_seven, 6, TERN_ROUND_HALF_AWAY, want, 7.0f);
}

static void test_rules_agree_off_ties(void **state)
{
    (void)state;
    /* a = 2: 2.9 / 2 = 1.45 -> 1, 3.1 / 2 = 1.55 -> 2, -3.1 / 2 -> -2 under both rules. */
    const float x[] = { -254.0f, 2.9f, 3.1f, -3.1f, 0.0f };
    const int8_t want[] = { -127, 1, 2, -2, 0 };
    check_quant("no ties, a = 2", x, 5, TERN_ROUND_HALF_AWAY, want, 2.0f);
    check_quant("no ties, a = 2", x, 5, TERN_ROUND_HALF_EVEN, want, 2.0f);
}

static void test_all_zero_token_gives_zero_q_and_scale(void **state)
{
    (void)state;
    const float x[] = { 0.0f, -0.0f, 0.0f, 0.0f, 0.0f };
    for (int rule = 0; rule <= 1; rule++) {
        int8_t q[5];
        float scale = 1.0f;
        memset(q, 0x55, sizeof q);
        int err = tern_quantize_absmax(x, 5, (enum tern_round)rule, q, &scale);
        if (err != TERN_OK)
            fail_msg("all-zero token, %s: returned %d", rule_name((enum tern_round)rule), err);
        if (scale != 0.0f)
            fail_msg("all-zero token, %s: scale %g, want 0", rule_name((enum tern_round)rule),
                     (double)scale);
        for (int i = 0; i < 5; i++)
            if (q[i] != 0)
                fail_msg("all-zero token, %s: q[%d] = %d, want 0", rule_name((enum tern_round)rule),
                         i, q[i]);
    }
}

static void test_negative_extreme_maps_to_minus_127(void **state)
{
    (void)state;
    const float cases[][3] = { { -7.25f, 3.0f, 1.0f }, { -1000.0f, 1000.0f, -999.0f },
                               { -3e-30f, 1e-30f, 0.0f }, { -1e30f, 5e29f, 1.0f } };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
        for (int rule = 0; rule <= 1; rule++) {
            int8_t q[3];
            float scale;
            int err = tern_quantize_absmax(cases[c], 3, (enum tern_round)rule, q, &scale);
            if (err != TERN_OK)
                fail_msg("case %zu (%g, %g, %g), %s: returned %d", c, (double)cases[c][0],
                         (double)cases[c][1], (double)cases[c][2], rule_name((enum tern_round)rule),
                         err);
            for (int i = 0; i < 3; i++)
                if (q[i] == -128)
                    fail_msg("case %zu, %s: q[%d] = -128, outside [-127, 127]", c,
                             rule_name((enum tern_round)rule), i);
            int want0 = -127;
            if (q[0] != want0)
                fail_msg("case %zu (x0 = %g is the absmax, negative), %s: q[0] = %d, want -127", c,
                         (double)cases[c][0], rule_name((enum tern_round)rule), q[0]);
        }
}

static void test_single_element_token(void **state)
{
    (void)state;
    const float xs[] = { -3.0f, 0.001f, 1.0f, -1e-20f };
    const int8_t want[] = { -127, 127, 127, -127 };
    for (size_t i = 0; i < 4; i++) {
        int8_t q = 0x55;
        float scale = 0.0f;
        int err = tern_quantize_absmax(&xs[i], 1, TERN_ROUND_HALF_EVEN, &q, &scale);
        if (err != TERN_OK || q != want[i])
            fail_msg("n = 1, x = %g: err %d, q %d, want q %d", (double)xs[i], err, q, want[i]);
        float want_scale = fabsf(xs[i]) / 127.0f;
        if (scale != want_scale)
            fail_msg("n = 1, x = %g: scale %.9g, want %.9g", (double)xs[i], (double)scale,
                     (double)want_scale);
    }
}

static void test_null_arguments_are_inval(void **state)
{
    (void)state;
    const float x[4] = { 1.0f, 2.0f, 3.0f, 4.0f };
    int8_t q[4];
    float scale;
    assert_int_equal(tern_quantize_absmax(NULL, 4, TERN_ROUND_HALF_AWAY, q, &scale), TERN_E_INVAL);
    assert_int_equal(tern_quantize_absmax(x, 4, TERN_ROUND_HALF_AWAY, NULL, &scale), TERN_E_INVAL);
    assert_int_equal(tern_quantize_absmax(x, 4, TERN_ROUND_HALF_AWAY, q, NULL), TERN_E_INVAL);
}

static float random_float(struct prng *p)
{
    /* Mixed magnitudes, signs, and values on exact halves of the step. */
    switch (prng_below(p, 4)) {
    case 0:
        return (float)((double)(int32_t)prng_below(p, 2001) - 1000.0) / 8.0f;
    case 1:
        return ldexpf((float)((double)prng_next(p) / 18446744073709551616.0) - 0.5f,
                      prng_range(p, -20, 20));
    case 2:
        return (float)prng_range(p, -254, 254) * 0.5f;
    default:
        return 0.0f;
    }
}

static void test_random_tokens_match_double_oracle(void **state)
{
    (void)state;
    struct prng p = prng_seed(0x51A7u);
    float x[300];
    int8_t q[300], want[300];
    for (int iter = 0; iter < 2000; iter++) {
        size_t n = 1 + prng_below(&p, 300);
        for (size_t i = 0; i < n; i++)
            x[i] = random_float(&p);
        enum tern_round rule = (enum tern_round)prng_below(&p, 2);
        float scale = -1.0f, want_scale;
        oracle_quant(x, n, rule, want, &want_scale);
        int err = tern_quantize_absmax(x, n, rule, q, &scale);
        if (err != TERN_OK)
            fail_msg("iter %d (n = %zu, %s): returned %d", iter, n, rule_name(rule), err);
        if (scale != want_scale)
            fail_msg("iter %d (n = %zu, %s): scale %.9g, want %.9g", iter, n, rule_name(rule),
                     (double)scale, (double)want_scale);
        for (size_t i = 0; i < n; i++)
            if (q[i] != want[i])
                fail_msg("iter %d (n = %zu, %s): x[%zu] = %.9g, a = %.9g: q = %d, want %d", iter, n,
                         rule_name(rule), i, (double)x[i], (double)want_scale, q[i], want[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_half_away_rounds_ties_away_from_zero),
        cmocka_unit_test(test_half_even_rounds_ties_to_even),
        cmocka_unit_test(test_half_away_ties_with_scale_three),
        cmocka_unit_test(test_half_even_ties_with_scale_three),
        cmocka_unit_test(test_half_even_ties_with_scale_seven),
        cmocka_unit_test(test_half_away_ties_with_scale_seven),
        cmocka_unit_test(test_rules_agree_off_ties),
        cmocka_unit_test(test_all_zero_token_gives_zero_q_and_scale),
        cmocka_unit_test(test_negative_extreme_maps_to_minus_127),
        cmocka_unit_test(test_single_element_token),
        cmocka_unit_test(test_null_arguments_are_inval),
        cmocka_unit_test(test_random_tokens_match_double_oracle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
