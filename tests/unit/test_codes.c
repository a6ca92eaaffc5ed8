/* test_codes.c — ternary code packing: tern_code_get/set, tern_codes_bytes, tern_codes_check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "tern/tern.h"
#include "unit_util.h"

static void test_codes_bytes_is_ceil_quarter(void **state)
{
    (void)state;
    const uint64_t n[] = { 0, 1, 2, 3, 4, 5, 7, 8, 9, 67, 1000001, 1ull << 33 };
    for (size_t i = 0; i < sizeof n / sizeof n[0]; i++) {
        size_t want = (size_t)((n[i] + 3) / 4);
        size_t got = tern_codes_bytes(n[i]);
        if (got != want)
            fail_msg("tern_codes_bytes(%llu) = %zu, want %zu", (unsigned long long)n[i], got, want);
    }
}

static void test_set_writes_documented_bit_layout(void **state)
{
    (void)state;
    /* element j at bits 2*(j%4) of byte j/4; 00 = 0, 01 = +1, 11 = -1 */
    for (uint64_t j = 0; j < 16; j++) {
        const int vals[] = { 1, -1 };
        const uint8_t pattern[] = { 1u, 3u };
        for (int v = 0; v < 2; v++) {
            uint8_t buf[4] = { 0, 0, 0, 0 };
            uint8_t want[4] = { 0, 0, 0, 0 };
            tern_code_set(buf, j, vals[v]);
            want[j / 4] = (uint8_t)(pattern[v] << (2 * (j % 4)));
            if (memcmp(buf, want, sizeof buf) != 0)
                fail_msg("set(j = %llu, %+d) on zeros gave %02x %02x %02x %02x, want %02x %02x "
                         "%02x %02x",
                         (unsigned long long)j, vals[v], buf[0], buf[1], buf[2], buf[3], want[0],
                         want[1], want[2], want[3]);
        }
    }
}

static void test_set_zero_clears_only_its_pair(void **state)
{
    (void)state;
    for (uint64_t j = 0; j < 16; j++) {
        uint8_t buf[4] = { 0xFF, 0xFF, 0xFF, 0xFF };
        uint8_t want[4] = { 0xFF, 0xFF, 0xFF, 0xFF };
        tern_code_set(buf, j, 0);
        want[j / 4] = (uint8_t)(0xFFu & ~(3u << (2 * (j % 4))));
        if (memcmp(buf, want, sizeof buf) != 0)
            fail_msg("set(j = %llu, 0) on 0xFF gave %02x %02x %02x %02x", (unsigned long long)j,
                     buf[0], buf[1], buf[2], buf[3]);
    }
}

static void test_get_reads_documented_bit_layout(void **state)
{
    (void)state;
    /* byte 0 = 0b11_01_00_01: elements +1, 0, +1, -1; byte 1 = 0b00_11_11_01: +1, -1, -1, 0 */
    const uint8_t buf[2] = { 0xD1u, 0x3Du };
    const int want[8] = { 1, 0, 1, -1, 1, -1, -1, 0 };
    for (uint64_t j = 0; j < 8; j++) {
        int got = tern_code_get(buf, j);
        if (got != want[j])
            fail_msg("get(%02x %02x, j = %llu) = %d, want %d", buf[0], buf[1], (unsigned long long)j,
                     got, want[j]);
    }
}

static void test_get_code_10_is_error(void **state)
{
    (void)state;
    for (uint64_t j = 0; j < 8; j++) {
        uint8_t buf[2] = { 0, 0 };
        buf[j / 4] = (uint8_t)(2u << (2 * (j % 4)));
        int got = tern_code_get(buf, j);
        if (got != TERN_E_CODE)
            fail_msg("code 10 at j = %llu: get returned %d, want TERN_E_CODE", (unsigned long long)j,
                     got);
    }
}

static void test_random_round_trip_lengths_1_to_67(void **state)
{
    (void)state;
    struct prng p = prng_seed(0xC0DE5u);
    for (uint64_t n = 1; n <= 67; n++) {
        int vals[67];
        uint8_t buf[32], ref[32];
        /* start from garbage: set must overwrite a pair completely */
        prng_bytes(&p, buf, sizeof buf);
        memcpy(ref, buf, sizeof ref);
        for (uint64_t j = 0; j < n; j++) {
            vals[j] = prng_ternary(&p);
            tern_code_set(buf, j, vals[j]);
            unit_code_put(ref, j, vals[j]);
        }
        if (memcmp(buf, ref, sizeof buf) != 0)
            fail_msg("length %llu: packed bytes differ from the documented layout",
                     (unsigned long long)n);
        for (uint64_t j = 0; j < n; j++) {
            int got = tern_code_get(buf, j);
            if (got != vals[j])
                fail_msg("length %llu: element %llu reads %d, wrote %d", (unsigned long long)n,
                         (unsigned long long)j, got, vals[j]);
        }
        uint64_t bad = 12345;
        int err = tern_codes_check(buf, n, &bad);
        if (err != TERN_OK)
            fail_msg("length %llu: check of a legal vector returned %d (bad index %llu)",
                     (unsigned long long)n, err, (unsigned long long)bad);
    }
}

static void test_check_reports_first_bad_index(void **state)
{
    (void)state;
    struct prng p = prng_seed(0xBAD1u);
    for (uint64_t n = 1; n <= 67; n++) {
        uint8_t buf[17];
        memset(buf, 0, sizeof buf);
        for (uint64_t j = 0; j < n; j++)
            unit_code_put(buf, j, prng_ternary(&p));
        uint64_t first = prng_below(&p, (uint32_t)n);
        buf[first / 4] = (uint8_t)((buf[first / 4] & ~(3u << (2 * (first % 4)))) | (2u << (2 * (first % 4))));
        if (first + 1 < n) { /* a second bad code later must not be reported */
            uint64_t later = first + 1 + prng_below(&p, (uint32_t)(n - first - 1));
            buf[later / 4] |= (uint8_t)(3u << (2 * (later % 4)));
            buf[later / 4] &= (uint8_t)~(1u << (2 * (later % 4)));
        }
        uint64_t bad = 99999;
        int err = tern_codes_check(buf, n, &bad);
        if (err != TERN_E_CODE || bad != first)
            fail_msg("length %llu, code 10 first at %llu: check returned %d, bad index %llu",
                     (unsigned long long)n, (unsigned long long)first, err, (unsigned long long)bad);
    }
}

static void test_check_ignores_bits_past_the_last_element(void **state)
{
    (void)state;
    /* 5 elements: byte 1 holds element 4 in bits 0..1; bits 2..7 are padding holding 10 codes */
    const uint8_t buf[2] = { 0x00u, 0xA9u };
    uint64_t bad = 0;
    int err = tern_codes_check(buf, 5, &bad);
    if (err != TERN_OK)
        fail_msg("5 elements with code 10 only in the padding pairs: returned %d, bad index %llu",
                 err, (unsigned long long)bad);
}

static void test_check_zero_elements_is_ok(void **state)
{
    (void)state;
    const uint8_t buf[1] = { 0xAAu };
    uint64_t bad = 0;
    assert_int_equal(tern_codes_check(buf, 0, &bad), TERN_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_codes_bytes_is_ceil_quarter),
        cmocka_unit_test(test_set_writes_documented_bit_layout),
        cmocka_unit_test(test_set_zero_clears_only_its_pair),
        cmocka_unit_test(test_get_reads_documented_bit_layout),
        cmocka_unit_test(test_get_code_10_is_error),
        cmocka_unit_test(test_random_round_trip_lengths_1_to_67),
        cmocka_unit_test(test_check_reports_first_bad_index),
        cmocka_unit_test(test_check_ignores_bits_past_the_last_element),
        cmocka_unit_test(test_check_zero_elements_is_ok),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
