/* test_api_errors.c — the public API's argument checking, URIs, error strings and the
 * configuration read back from the ID registers (ARCHITECTURE.md 4, 8). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "tern/tern.h"
#include "tern/tern_proto.h"
#include "tern_hwcfg.h"
#include "tern_refdev.h"
#include "unit_util.h"

static int setup_dev(void **state)
{
    tern_dev *dev = NULL;
    int err = tern_dev_open("ref:config=tiny", &dev);
    if (err != TERN_OK || !dev)
        fail_msg("tern_dev_open(\"ref:config=tiny\"): %s", tern_strerror(err));
    *state = dev;
    return 0;
}

static int teardown_dev(void **state)
{
    tern_dev_close(*state);
    return 0;
}

/* A legal 5 x 7 matrix on the device. */
static tern_mat *small_mat(tern_dev *dev)
{
    uint8_t codes[9] = { 0x15, 0x37, 0x01, 0x00, 0xC4, 0x11, 0x33, 0x05, 0x01 };
    tern_mat *mat = NULL;
    int err = tern_mat_upload(dev, codes, 5, 7, &mat);
    if (err != TERN_OK || !mat)
        fail_msg("upload 5 x 7: %s (%s)", tern_strerror(err), tern_dev_last_error(dev));
    return mat;
}

/* ---- URIs ---- */

static void expect_open_fails(const char *uri, int want1, int want2)
{
    tern_dev *dev = NULL;
    int err = tern_dev_open(uri, &dev);
    if (err == TERN_OK || dev != NULL) {
        tern_dev_close(dev);
        fail_msg("tern_dev_open(\"%s\") succeeded, want an error", uri);
    }
    if (err != want1 && err != want2)
        fail_msg("tern_dev_open(\"%s\") = %d (%s), want %s%s%s", uri, err, tern_strerror(err),
                 tern_strerror(want1), want2 != want1 ? " or " : "", want2 != want1 ? tern_strerror(want2) : "");
}

static void test_open_empty_uri_fails(void **state)
{
    (void)state;
    expect_open_fails("", TERN_E_INVAL, TERN_E_NOTFOUND);
}

static void test_open_unknown_backend_is_notfound(void **state)
{
    (void)state;
    expect_open_fails("nope", TERN_E_NOTFOUND, TERN_E_NOTFOUND);
    expect_open_fails("nope:config=tiny", TERN_E_NOTFOUND, TERN_E_NOTFOUND);
}

static void test_open_unknown_config_is_notfound(void **state)
{
    (void)state;
    expect_open_fails("ref:config=nosuch", TERN_E_NOTFOUND, TERN_E_NOTFOUND);
    expect_open_fails("ref:config=", TERN_E_NOTFOUND, TERN_E_INVAL);
}

static void test_open_unknown_option_is_inval(void **state)
{
    (void)state;
    expect_open_fails("ref:bogus=1", TERN_E_INVAL, TERN_E_INVAL);
    expect_open_fails("ref:config=tiny,bogus=1", TERN_E_INVAL, TERN_E_INVAL);
}

/* usb: every option is checked before the bus is looked at, and the message names the option */
static void expect_usb_refused(const char *uri, const char *needle)
{
    char err[512] = "";
    tern_dev *dev = NULL;
    int rc = tern_dev_open_ex(uri, &dev, err, sizeof err);

    if (rc == TERN_E_UNSUPPORTED)
        return; /* built without libusb: nothing to parse */
    if (rc != TERN_E_INVAL || dev)
        fail_msg("tern_dev_open(\"%s\") = %d (%s), want TERN_E_INVAL", uri, rc, tern_strerror(rc));
    if (!strstr(err, needle))
        fail_msg("tern_dev_open(\"%s\"): message \"%s\" does not name '%s'", uri, err, needle);
}

static void test_open_usb_bad_options_are_inval(void **state)
{
    (void)state;
    expect_usb_refused("usb:vid=zz", "vid");
    expect_usb_refused("usb:pid=10000", "pid");
    expect_usb_refused("usb:bus=-1", "bus");
    expect_usb_refused("usb:addr=128", "addr");
    expect_usb_refused("usb:baud=fast", "baud");
    expect_usb_refused("usb:link=spi", "link");
    expect_usb_refused("usb:interface=C", "interface");
    expect_usb_refused("usb:timeout_ms=0", "timeout_ms");
    expect_usb_refused("usb:serial=X,bogus=1", "bogus");
}

static void test_open_option_without_value_is_inval(void **state)
{
    (void)state;
    expect_open_fails("ref:config", TERN_E_INVAL, TERN_E_INVAL);
}

static void test_open_null_arguments_are_inval(void **state)
{
    (void)state;
    tern_dev *dev = NULL;
    assert_int_equal(tern_dev_open(NULL, &dev), TERN_E_INVAL);
    assert_null(dev);
    assert_int_equal(tern_dev_open("ref:config=tiny", NULL), TERN_E_INVAL);
}

static void test_open_plain_ref_works(void **state)
{
    (void)state;
    tern_dev *dev = NULL;
    int err = tern_dev_open("ref", &dev);
    if (err != TERN_OK || !dev)
        fail_msg("tern_dev_open(\"ref\"): %s", tern_strerror(err));
    assert_non_null(tern_dev_config(dev));
    assert_int_equal(tern_dev_ping(dev), TERN_OK);
    tern_dev_close(dev);
}

/* ---- NULL arguments ---- */

static void test_device_functions_reject_null_dev(void **state)
{
    (void)state;
    uint32_t v = 0;
    uint8_t buf[8] = { 0 };
    struct tern_run run = { 0, 1, 1, 0, 1, 0, 0 };
    struct tern_counters c;
    tern_mat *mat = NULL;
    int8_t act[1] = { 0 };
    int32_t out[1];
    assert_int_equal(tern_dev_ping(NULL), TERN_E_INVAL);
    assert_int_equal(tern_dev_read_reg(NULL, TERN_REG_SCRATCH, &v), TERN_E_INVAL);
    assert_int_equal(tern_dev_write_reg(NULL, TERN_REG_SCRATCH, 1), TERN_E_INVAL);
    assert_int_equal(tern_dev_write_mem(NULL, TERN_AMEM_BASE, buf, 4), TERN_E_INVAL);
    assert_int_equal(tern_dev_read_mem(NULL, TERN_AMEM_BASE, buf, 4), TERN_E_INVAL);
    assert_int_equal(tern_dev_run(NULL, &run), TERN_E_INVAL);
    assert_int_equal(tern_dev_read_counters(NULL, &c), TERN_E_INVAL);
    assert_int_equal(tern_dev_reset(NULL), TERN_E_INVAL);
    assert_int_equal(tern_mat_upload(NULL, buf, 1, 1, &mat), TERN_E_INVAL);
    assert_null(mat);
    assert_int_equal(tern_matmul(NULL, NULL, act, 1, out), TERN_E_INVAL);
    assert_null(tern_dev_config(NULL));
    assert_non_null(tern_dev_last_error(NULL));
}

static void test_device_functions_reject_null_buffers(void **state)
{
    tern_dev *dev = *state;
    struct tern_run run = { 0, 1, 1, 0, 1, 0, 0 };
    assert_int_equal(tern_dev_read_reg(dev, TERN_REG_SCRATCH, NULL), TERN_E_INVAL);
    assert_int_equal(tern_dev_write_mem(dev, TERN_AMEM_BASE, NULL, 4), TERN_E_INVAL);
    assert_int_equal(tern_dev_read_mem(dev, TERN_AMEM_BASE, NULL, 4), TERN_E_INVAL);
    assert_int_equal(tern_dev_run(dev, NULL), TERN_E_INVAL);
    assert_int_equal(tern_dev_read_counters(dev, NULL), TERN_E_INVAL);
    /* the device still works after all that */
    assert_int_equal(tern_dev_run(dev, &run), TERN_OK);
    assert_int_equal(tern_dev_ping(dev), TERN_OK);
}

static void test_matrix_functions_reject_null(void **state)
{
    tern_dev *dev = *state;
    uint8_t codes[4] = { 0 };
    tern_mat *mat = NULL;
    assert_int_equal(tern_mat_upload(dev, NULL, 1, 1, &mat), TERN_E_INVAL);
    assert_null(mat);
    assert_int_equal(tern_mat_upload(dev, codes, 1, 1, NULL), TERN_E_INVAL);
    mat = small_mat(dev);
    int8_t act[14] = { 0 };
    int32_t out[10];
    assert_int_equal(tern_matmul(dev, NULL, act, 1, out), TERN_E_INVAL);
    assert_int_equal(tern_matmul(dev, mat, NULL, 1, out), TERN_E_INVAL);
    assert_int_equal(tern_matmul(dev, mat, act, 1, NULL), TERN_E_INVAL);
    assert_int_equal(tern_matmul(NULL, mat, act, 1, out), TERN_E_INVAL);
    assert_int_equal(tern_mat_prefetch(NULL), TERN_E_INVAL);
    assert_int_equal(tern_mat_rows(NULL), 0);
    assert_int_equal(tern_mat_cols(NULL), 0);
    assert_int_equal(tern_matmul(dev, mat, act, 2, out), TERN_OK); /* still fine */
    tern_mat_free(mat);
}

static void test_stats_with_null_do_not_crash(void **state)
{
    tern_dev *dev = *state;
    struct tern_link_stats ls;
    struct tern_tile_stats ts;
    tern_dev_link_stats(dev, NULL);
    tern_dev_tile_stats(dev, NULL);
    memset(&ls, 0xFF, sizeof ls);
    memset(&ts, 0xFF, sizeof ts);
    tern_dev_link_stats(NULL, &ls);
    tern_dev_tile_stats(NULL, &ts);
    tern_dev_link_stats(NULL, NULL);
    tern_dev_tile_stats(NULL, NULL);
    /* and the handle still reports sane statistics */
    tern_dev_link_stats(dev, &ls);
    assert_true(ls.commands >= 1); /* the PING of tern_dev_open */
}

static void test_close_and_free_null_are_fine(void **state)
{
    (void)state;
    tern_dev_close(NULL);
    tern_mat_free(NULL);
}

static void test_codes_functions_reject_null(void **state)
{
    (void)state;
    uint64_t bad = 0;
    uint8_t codes[1] = { 0 };
    assert_int_equal(tern_codes_check(NULL, 4, &bad), TERN_E_INVAL);
    int err = tern_codes_check(codes, 4, NULL); /* no place for the index: must not crash */
    if (err != TERN_OK && err != TERN_E_INVAL)
        fail_msg("tern_codes_check(codes, 4, NULL) = %d", err);
    codes[0] = 0x08; /* element 1 is code 10 */
    err = tern_codes_check(codes, 4, NULL);
    if (err != TERN_E_CODE && err != TERN_E_INVAL)
        fail_msg("tern_codes_check of a bad vector with bad_index NULL = %d", err);
}

/* ---- shapes and codes ---- */

static void test_impossible_shapes_are_inval(void **state)
{
    tern_dev *dev = *state;
    uint8_t codes[4] = { 0 };
    tern_mat *mat = NULL;
    assert_int_equal(tern_mat_upload(dev, codes, 0, 4, &mat), TERN_E_INVAL);
    assert_null(mat);
    assert_int_equal(tern_mat_upload(dev, codes, 4, 0, &mat), TERN_E_INVAL);
    assert_null(mat);
    mat = small_mat(dev);
    int8_t act[7] = { 0 };
    int32_t out[5];
    assert_int_equal(tern_matmul(dev, mat, act, 0, out), TERN_E_INVAL);
    tern_mat_free(mat);
}

static void test_upload_refuses_code_10(void **state)
{
    tern_dev *dev = *state;
    uint8_t codes[3] = { 0x11, 0x80, 0x00 }; /* element 7 of a 3 x 3 matrix: code 10 */
    tern_mat *mat = NULL;
    int err = tern_mat_upload(dev, codes, 3, 3, &mat);
    if (err != TERN_E_CODE)
        fail_msg("upload with code 10 at element 7: %s, want TERN_E_CODE", tern_strerror(err));
    assert_null(mat);
    const char *msg = tern_dev_last_error(dev);
    if (!msg || !*msg)
        fail_msg("after refusing code 10, tern_dev_last_error is empty");
}

static void test_upload_ignores_bits_past_the_matrix(void **state)
{
    tern_dev *dev = *state;
    uint8_t codes[3] = { 0x11, 0x11, 0xA9 }; /* 3 x 3: byte 2 holds element 8; its other pairs are past */
    tern_mat *mat = NULL;
    int err = tern_mat_upload(dev, codes, 3, 3, &mat);
    if (err != TERN_OK)
        fail_msg("upload of 9 legal codes with 10s after the last: %s", tern_strerror(err));
    tern_mat_free(mat);
}

static void test_matmul_with_other_devices_matrix_is_inval(void **state)
{
    tern_dev *dev = *state;
    tern_dev *other = NULL;
    assert_int_equal(tern_dev_open("ref:config=tiny", &other), TERN_OK);
    tern_mat *mat = small_mat(other);
    int8_t act[7] = { 0 };
    int32_t out[5];
    assert_int_equal(tern_matmul(dev, mat, act, 1, out), TERN_E_INVAL);
    tern_mat_free(mat);
    tern_dev_close(other);
}

/* ---- error strings ---- */

static void test_strerror_distinct_nonempty(void **state)
{
    (void)state;
    const char *s[1 - TERN_E_BUSY];
    for (int e = 0; e >= TERN_E_BUSY; e--) {
        s[-e] = tern_strerror(e);
        if (!s[-e] || !*s[-e])
            fail_msg("tern_strerror(%d) is empty", e);
        for (int j = 0; j < -e; j++)
            if (strcmp(s[j], s[-e]) == 0)
                fail_msg("tern_strerror(%d) == tern_strerror(%d) == \"%s\"", e, -j, s[j]);
    }
}

static void test_strerror_unknown_codes_sane(void **state)
{
    (void)state;
    const int unknown[] = { 1, 42, TERN_E_BUSY - 1, -1000, INT_MIN, INT_MAX };
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        const char *s = tern_strerror(unknown[i]);
        if (!s || !*s)
            fail_msg("tern_strerror(%d) is NULL or empty", unknown[i]);
        for (int e = 0; e >= TERN_E_BUSY; e--)
            if (strcmp(s, tern_strerror(e)) == 0 && e != TERN_OK)
                fail_msg("tern_strerror(%d) = \"%s\", the string of known code %d", unknown[i], s, e);
        if (strcmp(s, tern_strerror(TERN_OK)) == 0)
            fail_msg("tern_strerror(%d) reads like success: \"%s\"", unknown[i], s);
    }
}

static void test_last_error_empty_then_describes_failure(void **state)
{
    tern_dev *dev = *state;
    const char *msg = tern_dev_last_error(dev);
    if (!msg || *msg)
        fail_msg("a fresh device's last error is \"%s\", want \"\"", msg ? msg : "(null)");
    uint8_t buf[4];
    int err = tern_dev_read_mem(dev, 0x30000000u, buf, 4); /* no memory there: BAD_ADDR */
    if (err != TERN_E_DEVICE)
        fail_msg("READ_MEM 0x30000000: %s, want TERN_E_DEVICE", tern_strerror(err));
    msg = tern_dev_last_error(dev);
    if (!msg || !strstr(msg, "BAD_ADDR"))
        fail_msg("after a BAD_ADDR refusal the last error is \"%s\", want the status named",
                 msg ? msg : "(null)");
}

static void test_last_error_after_inval(void **state)
{
    tern_dev *dev = *state;
    tern_mat *mat = small_mat(dev);
    int8_t act[7] = { 0 };
    int32_t out[5];
    assert_int_equal(tern_matmul(dev, mat, act, 0, out), TERN_E_INVAL);
    const char *msg = tern_dev_last_error(dev);
    if (!msg || !*msg)
        fail_msg("after tern_matmul(t = 0) the last error is empty");
    tern_mat_free(mat);
}

static void test_raw_run_refused_names_status(void **state)
{
    tern_dev *dev = *state;
    const struct tern_config *c = tern_dev_config(dev);
    struct tern_run run = { c->wmem_words, 1, 1, 0, 1, 0, 0 }; /* wbase past WMEM */
    int err = tern_dev_run(dev, &run);
    if (err != TERN_E_DEVICE && err != TERN_E_INVAL)
        fail_msg("RUN with wbase = wmem_words: %s, want TERN_E_DEVICE (BAD_ADDR)", tern_strerror(err));
    if (err == TERN_E_DEVICE && !strstr(tern_dev_last_error(dev), "BAD_ADDR"))
        fail_msg("RUN refused, last error \"%s\" does not name BAD_ADDR", tern_dev_last_error(dev));
}

/* ---- configuration from the ID registers ---- */

static void check_config(const char *name)
{
    char uri[64];
    snprintf(uri, sizeof uri, "ref:config=%s", name);
    tern_dev *dev = NULL;
    int err = tern_dev_open(uri, &dev);
    if (err != TERN_OK)
        fail_msg("open %s: %s", uri, tern_strerror(err));
    const struct tern_config *c = tern_dev_config(dev);
    const struct tern_hwcfg *h = tern_hwcfg_find(name);
    assert_non_null(c);
    assert_non_null(h);
    assert_string_equal(c->name, h->name);
#define SAME(field, want)                                                                             \
    do {                                                                                              \
        if ((uint64_t)c->field != (uint64_t)(want))                                                   \
            fail_msg("config %s: tern_dev_config()->%s = %llu, want %llu", name, #field,              \
                     (unsigned long long)c->field, (unsigned long long)(want));                       \
    } while (0)
    SAME(proto_version, 1);
    SAME(hw_revision, 1);
    SAME(lanes, h->lanes);
    SAME(width, h->width);
    SAME(acc_width, h->acc_width);
    SAME(max_k, h->max_k);
    SAME(wmem_words, h->wmem_words);
    SAME(amem_words, h->amem_words);
    SAME(omem_words, h->omem_words);
    SAME(max_payload, h->max_payload);
    SAME(clock_hz, h->clock_hz);
    SAME(link_kind, h->link_kind);
    SAME(link_bytes_per_s, h->link_bytes_per_s);
    SAME(run_setup, h->run_setup);
    SAME(run_drain, h->run_drain);
    SAME(num_counters, 15);
    SAME(backend, 1);
#undef SAME
    tern_dev_close(dev);
}

static void test_config_tiny_matches_hwcfg(void **state)
{
    (void)state;
    check_config("tiny");
}

static void test_config_default_matches_hwcfg(void **state)
{
    (void)state;
    check_config("default");
}

static void test_config_large_matches_hwcfg(void **state)
{
    (void)state;
    check_config("large");
}

static void test_every_known_config_opens(void **state)
{
    (void)state;
    size_t i = 0;
    for (const struct tern_hwcfg *h; (h = tern_hwcfg_at(i)) != NULL; i++)
        check_config(h->name);
    if (i < 3)
        fail_msg("tern_hwcfg_at knows %zu configurations, want at least tiny, default, large", i);
}

/* ---- raw device access through the API ---- */

static void test_raw_access_round_trip(void **state)
{
    tern_dev *dev = *state;
    const struct tern_config *c = tern_dev_config(dev);
    uint32_t v = 0;
    assert_int_equal(tern_dev_write_reg(dev, TERN_REG_SCRATCH, 0xA5A55454u), TERN_OK);
    assert_int_equal(tern_dev_read_reg(dev, TERN_REG_SCRATCH, &v), TERN_OK);
    assert_int_equal(v, 0xA5A55454u);
    /* a write longer than max_payload is split by the runtime */
    size_t len = 3 * (size_t)c->max_payload + 5;
    uint8_t *data = malloc(len), *back = malloc(len);
    assert_non_null(data);
    assert_non_null(back);
    struct prng p = prng_seed(0x4A4u);
    prng_bytes(&p, data, len);
    assert_int_equal(tern_dev_write_mem(dev, TERN_WMEM_BASE + 7, data, len), TERN_OK);
    assert_int_equal(tern_dev_read_mem(dev, TERN_WMEM_BASE + 7, back, len), TERN_OK);
    assert_memory_equal(data, back, len);
    free(data);
    free(back);
}

static void test_write_id_register_is_device_error(void **state)
{
    tern_dev *dev = *state;
    int err = tern_dev_write_reg(dev, TERN_REG_LANES, 1);
    if (err != TERN_E_DEVICE)
        fail_msg("WRITE_REG LANES: %s, want TERN_E_DEVICE", tern_strerror(err));
    uint32_t v = 0;
    assert_int_equal(tern_dev_read_reg(dev, TERN_REG_LANES, &v), TERN_OK);
    assert_int_equal(v, tern_dev_config(dev)->lanes);
}

static void test_raw_illegal_code_run_is_code_error(void **state)
{
    tern_dev *dev = *state;
    const uint8_t bad = 0x02;
    assert_int_equal(tern_dev_write_mem(dev, TERN_WMEM_BASE, &bad, 1), TERN_OK);
    struct tern_run run = { 0, 1, 1, 0, 1, 0, 0 };
    int err = tern_dev_run(dev, &run);
    if (err != TERN_E_CODE)
        fail_msg("RUN over code 10: %s, want TERN_E_CODE", tern_strerror(err));
}

static void test_counters_through_api(void **state)
{
    tern_dev *dev = *state;
    struct tern_counters c;
    assert_int_equal(tern_dev_read_counters(dev, &c), TERN_OK);
    uint64_t sum = c.cyc_rx + c.cyc_tx + c.cyc_ctrl + c.cyc_commit + c.cyc_compute + c.cyc_pipe +
                   c.cyc_stall_rx + c.cyc_stall_tx;
    assert_true(c.cycles > 0);
    assert_int_equal(c.cycles, sum);
    assert_true(c.frames_ok >= 1); /* at least the PING of tern_dev_open */
    assert_int_equal(tern_dev_reset(dev), TERN_OK);
    struct tern_counters z;
    assert_int_equal(tern_dev_read_counters(dev, &z), TERN_OK);
    assert_true(z.cycles < c.cycles);
    assert_int_equal(z.cyc_rx, 22); /* only READ_COUNTERS' own 22 bytes since the reset */
}

int main(void)
{
#define D(f) cmocka_unit_test_setup_teardown(f, setup_dev, teardown_dev)
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_empty_uri_fails),
        cmocka_unit_test(test_open_unknown_backend_is_notfound),
        cmocka_unit_test(test_open_unknown_config_is_notfound),
        cmocka_unit_test(test_open_unknown_option_is_inval),
        cmocka_unit_test(test_open_usb_bad_options_are_inval),
        cmocka_unit_test(test_open_option_without_value_is_inval),
        cmocka_unit_test(test_open_null_arguments_are_inval),
        cmocka_unit_test(test_open_plain_ref_works),
        cmocka_unit_test(test_device_functions_reject_null_dev),
        D(test_device_functions_reject_null_buffers),
        D(test_matrix_functions_reject_null),
        D(test_stats_with_null_do_not_crash),
        cmocka_unit_test(test_close_and_free_null_are_fine),
        cmocka_unit_test(test_codes_functions_reject_null),
        D(test_impossible_shapes_are_inval),
        D(test_upload_refuses_code_10),
        D(test_upload_ignores_bits_past_the_matrix),
        D(test_matmul_with_other_devices_matrix_is_inval),
        cmocka_unit_test(test_strerror_distinct_nonempty),
        cmocka_unit_test(test_strerror_unknown_codes_sane),
        D(test_last_error_empty_then_describes_failure),
        D(test_last_error_after_inval),
        D(test_raw_run_refused_names_status),
        cmocka_unit_test(test_config_tiny_matches_hwcfg),
        cmocka_unit_test(test_config_default_matches_hwcfg),
        cmocka_unit_test(test_config_large_matches_hwcfg),
        cmocka_unit_test(test_every_known_config_opens),
        D(test_raw_access_round_trip),
        D(test_write_id_register_is_device_error),
        D(test_raw_illegal_code_run_is_code_error),
        D(test_counters_through_api),
    };
#undef D
    return cmocka_run_group_tests(tests, NULL, NULL);
}
