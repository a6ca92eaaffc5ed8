/* test_hostile_device.c — the protocol client against devices that lie or never stop talking
 * (ARCHITECTURE.md sections 4 and 8): an ID block out of the sane limits is refused naming the
 * register, and every command ends in a bounded time with TERN_E_TIMEOUT whatever the device sends. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tern/tern.h"
#include "tern/tern_proto.h"
#include "tern_hwcfg.h"
#include "tern_refdev.h"
#include "tern_link.h"
#include "unit_util.h"

#define TERN_RETRIES_FOR_TEST 4 /* device.c: TERN_RETRIES */

enum behaviour {
    B_ANSWER,      /* answer PING with the ID block, anything else with OK */
    B_GARBAGE,     /* every recv: a buffer of random bytes, never a response */
    B_WRONG_SEQ,   /* every recv: a valid response frame to another seq */
    B_TRICKLE,     /* every recv: one random byte after a short sleep (a real link's timing) */
};

struct fake {
    enum behaviour b;
    uint32_t id[TERN_NUM_ID_REGS];
    struct prng p;
    uint8_t q[4096];
    size_t qlen;
    uint16_t last_seq;
    uint64_t received, sends;
};

static void id_from_hwcfg(struct fake *f, const char *config)
{
    const struct tern_hwcfg *h = tern_hwcfg_find(config);
    assert_non_null(h);
    memset(f->id, 0, sizeof f->id);
    f->id[TERN_REG_ID_MAGIC] = TERN_ID_MAGIC;
    f->id[TERN_REG_ID_VERSION] = TERN_PROTO_VERSION << 16 | TERN_HW_REVISION;
    f->id[TERN_REG_LANES] = h->lanes;
    f->id[TERN_REG_WIDTH] = h->width;
    f->id[TERN_REG_ACC_WIDTH] = h->acc_width;
    f->id[TERN_REG_MAX_K] = h->max_k;
    f->id[TERN_REG_WMEM_WORDS] = h->wmem_words;
    f->id[TERN_REG_AMEM_WORDS] = h->amem_words;
    f->id[TERN_REG_OMEM_WORDS] = h->omem_words;
    f->id[TERN_REG_MAX_PAYLOAD] = h->max_payload;
    f->id[TERN_REG_CLOCK_HZ] = h->clock_hz;
    f->id[TERN_REG_LINK_KIND] = h->link_kind;
    f->id[TERN_REG_LINK_BYTES_PER_S] = h->link_bytes_per_s;
    f->id[TERN_REG_RUN_SETUP] = h->run_setup;
    f->id[TERN_REG_RUN_DRAIN] = h->run_drain;
    f->id[TERN_REG_NUM_COUNTERS] = TERN_NUM_COUNTERS;
    memcpy(&f->id[TERN_REG_NAME_LO], h->name, strlen(h->name)); /* little-endian host, as the tests run */
    f->id[TERN_REG_BACKEND] = 1;
}

static int fake_send(void *ctx, const uint8_t *buf, size_t len, char *err, size_t errlen)
{
    struct fake *f = ctx;
    (void)err;
    (void)errlen;
    f->sends++;
    if (len < TERN_CMD_OVERHEAD || buf[0] != TERN_MAGIC0)
        return TERN_OK;
    f->last_seq = (uint16_t)(buf[4] | buf[5] << 8);
    if (f->b == B_ANSWER) {
        uint8_t id[TERN_NUM_ID_REGS * 4];
        for (int i = 0; i < TERN_NUM_ID_REGS; i++)
            unit_put_u32(id + 4 * i, f->id[i]);
        if (buf[3] == TERN_OP_PING)
            f->qlen = unit_build_rsp(f->q, buf[3], f->last_seq, TERN_ST_OK, id, sizeof id);
        else
            f->qlen = unit_build_rsp(f->q, buf[3], f->last_seq, TERN_ST_OK, NULL, 0);
    }
    return TERN_OK;
}

static int fake_recv(void *ctx, uint8_t *buf, size_t cap, size_t *got, unsigned timeout_ms, char *err, size_t errlen)
{
    struct fake *f = ctx;
    size_t n = 0;
    (void)err;
    (void)errlen;
    (void)timeout_ms;
    switch (f->b) {
    case B_ANSWER:
        n = f->qlen < cap ? f->qlen : cap;
        memcpy(buf, f->q, n);
        memmove(f->q, f->q + n, f->qlen - n);
        f->qlen -= n;
        break;
    case B_GARBAGE:
        n = cap < 1000 ? cap : 1000;
        prng_bytes(&f->p, buf, n);
        break;
    case B_WRONG_SEQ: {
        uint8_t id[TERN_NUM_ID_REGS * 4] = {0};
        uint8_t fr[TERN_RSP_OVERHEAD + sizeof id];
        size_t len = unit_build_rsp(fr, TERN_OP_PING, (uint16_t)(f->last_seq + 1000), TERN_ST_OK, id, sizeof id);
        n = len < cap ? len : cap;
        memcpy(buf, fr, n);
        break;
    }
    case B_TRICKLE: {
        struct timespec ts = {0, 2000000}; /* 2 ms a byte */
        nanosleep(&ts, NULL);
        n = cap ? 1 : 0;
        prng_bytes(&f->p, buf, n);
        break;
    }
    }
    f->received += n;
    *got = n;
    return TERN_OK;
}

static void fake_close(void *ctx)
{
    (void)ctx; /* the test owns the fake */
}

static const struct tern_link_ops fake_ops = {fake_send, fake_recv, fake_close};

static int open_fake(struct fake *f, unsigned timeout_ms, int resync, tern_dev **dev, char *err, size_t errlen)
{
    struct tern_link link = {&fake_ops, f, timeout_ms, resync};
    return tern_dev_open_link(&link, dev, err, errlen);
}

/* ---- the ID block ---- */

static void expect_refused(uint32_t reg, uint32_t value, const char *name)
{
    struct fake f = {.b = B_ANSWER};
    tern_dev *dev = NULL;
    char err[512] = "", want[64];

    id_from_hwcfg(&f, "tiny");
    f.id[reg] = value;
    int rc = open_fake(&f, 0, 0, &dev, err, sizeof err);
    if (rc != TERN_E_PROTO || dev)
        fail_msg("register %s = 0x%08x: open gave %s (%s), want TERN_E_PROTO", name, value, tern_strerror(rc), err);
    snprintf(want, sizeof want, "register %u %s = %u", reg, name, value);
    if (!strstr(err, want))
        fail_msg("register %s = 0x%08x: the message does not name it: %s", name, value, err);
}

static void test_sane_id_block_is_accepted(void **state)
{
    (void)state;
    const char *configs[] = {"tiny", "default", "large"};
    for (size_t i = 0; i < sizeof configs / sizeof *configs; i++) {
        struct fake f = {.b = B_ANSWER};
        tern_dev *dev = NULL;
        char err[512] = "";
        id_from_hwcfg(&f, configs[i]);
        int rc = open_fake(&f, 0, 0, &dev, err, sizeof err);
        if (rc)
            fail_msg("%s: %s (%s)", configs[i], tern_strerror(rc), err);
        assert_string_equal(tern_dev_config(dev)->name, configs[i]);
        tern_dev_close(dev);
    }
}

static void test_huge_max_payload_is_refused(void **state)
{
    (void)state;
    /* was: a ~10 GB allocation of frame buffers */
    expect_refused(TERN_REG_MAX_PAYLOAD, 0xCA7A1000u, "MAX_PAYLOAD");
    expect_refused(TERN_REG_MAX_PAYLOAD, TERN_LIMIT_MAX_PAYLOAD + 4, "MAX_PAYLOAD");
    expect_refused(TERN_REG_MAX_PAYLOAD, 66, "MAX_PAYLOAD");
}

static void test_memory_overflowing_its_window_is_refused(void **state)
{
    (void)state;
    struct fake f = {.b = B_ANSWER};
    tern_dev *dev = NULL;
    char err[512] = "";

    /* was: width 256 with 2^24-word memories overflowed the tiler's kc_words * width to 0 and
     * divided by zero in tern_mat_upload */
    id_from_hwcfg(&f, "tiny");
    f.id[TERN_REG_WIDTH] = 256;
    f.id[TERN_REG_MAX_K] = 4096;
    f.id[TERN_REG_WMEM_WORDS] = 1u << 24;
    f.id[TERN_REG_AMEM_WORDS] = 1u << 24;
    int rc = open_fake(&f, 0, 0, &dev, err, sizeof err);
    assert_int_equal(rc, TERN_E_PROTO);
    assert_null(dev);
    if (!strstr(err, "WMEM_WORDS") && !strstr(err, "AMEM_WORDS"))
        fail_msg("the message names no memory register: %s", err);
    expect_refused(TERN_REG_WMEM_WORDS, 0, "WMEM_WORDS");
    expect_refused(TERN_REG_AMEM_WORDS, 0x80000000u, "AMEM_WORDS");
    expect_refused(TERN_REG_OMEM_WORDS, 0xFFFFFFFFu, "OMEM_WORDS");
}

static void test_every_register_is_checked(void **state)
{
    (void)state;
    expect_refused(TERN_REG_ID_MAGIC, 0x12345678u, "ID_MAGIC");
    expect_refused(TERN_REG_ID_VERSION, 7u << 16, "ID_VERSION");
    expect_refused(TERN_REG_LANES, 0, "LANES");
    expect_refused(TERN_REG_LANES, 3, "LANES");
    expect_refused(TERN_REG_LANES, 512, "LANES");
    expect_refused(TERN_REG_WIDTH, 2, "WIDTH");
    expect_refused(TERN_REG_WIDTH, 24, "WIDTH");
    expect_refused(TERN_REG_ACC_WIDTH, 33, "ACC_WIDTH");
    expect_refused(TERN_REG_ACC_WIDTH, 9, "ACC_WIDTH");
    expect_refused(TERN_REG_MAX_K, 1, "MAX_K");
    expect_refused(TERN_REG_MAX_K, 0xFFFFFFFFu, "MAX_K"); /* 128 * max_k overflows the accumulators */
    expect_refused(TERN_REG_CLOCK_HZ, 0, "CLOCK_HZ");
    expect_refused(TERN_REG_LINK_KIND, 9, "LINK_KIND");
    expect_refused(TERN_REG_LINK_BYTES_PER_S, 0, "LINK_BYTES_PER_S");
    expect_refused(TERN_REG_RUN_SETUP, 1000000, "RUN_SETUP");
    expect_refused(TERN_REG_RUN_DRAIN, 0xFFFFFFFFu, "RUN_DRAIN");
    expect_refused(TERN_REG_NUM_COUNTERS, 16, "NUM_COUNTERS");
    expect_refused(TERN_REG_BACKEND, 2, "BACKEND");
    expect_refused(TERN_REG_NAME_LO, 0x00000001u, "NAME_LO");   /* a control byte */
    expect_refused(TERN_REG_NAME_LO, 0x00790074u, "NAME_LO");   /* "t\0y\0": a byte after the NUL */
    expect_refused(TERN_REG_NAME_HI, 0x0000FF00u, "NAME_HI");
}

/* ---- bounded waits ---- */

static void expect_timeout(enum behaviour b, unsigned timeout_ms)
{
    struct fake f = {.b = B_ANSWER, .p = prng_seed(0x7a11u)};
    tern_dev *dev = NULL;
    char err[512] = "";
    uint32_t v = 0;

    id_from_hwcfg(&f, "tiny");
    assert_int_equal(open_fake(&f, timeout_ms, 0, &dev, err, sizeof err), TERN_OK);
    f.b = b; /* the device goes bad after it opened */
    f.received = 0;
    int rc = tern_dev_read_reg(dev, TERN_REG_SCRATCH, &v);
    if (rc != TERN_E_TIMEOUT)
        fail_msg("behaviour %d: READ_REG gave %s (%s), want TERN_E_TIMEOUT", b, tern_strerror(rc),
                 tern_dev_last_error(dev));
    /* five attempts, each bounded: the budget is a few frames of the device's max_payload plus slack */
    uint64_t bound = 5ull * ((TERN_RETRIES_FOR_TEST + 4) * (256 + TERN_RSP_OVERHEAD) + 65536 + 4096);
    if (f.received > bound)
        fail_msg("behaviour %d: the client took %llu bytes, more than %llu", b, (unsigned long long)f.received,
                 (unsigned long long)bound);
    struct tern_link_stats ls;
    tern_dev_link_stats(dev, &ls);
    assert_int_equal(ls.retries, 4);
    tern_dev_close(dev);
}

static void test_endless_garbage_times_out(void **state)
{
    (void)state;
    expect_timeout(B_GARBAGE, 0);    /* an in-process model: the byte budget ends it */
    expect_timeout(B_GARBAGE, 2000); /* a real link */
}

static void test_endless_stale_responses_time_out(void **state)
{
    (void)state;
    expect_timeout(B_WRONG_SEQ, 0);
}

static void test_trickling_device_times_out(void **state)
{
    (void)state;
    /* one byte every 2 ms never hits the 10 ms quiet timeout nor, for a while, the byte budget:
     * the wall-clock deadline of a real link ends each attempt */
    expect_timeout(B_TRICKLE, 10);
}

static void test_resync_on_a_link_that_never_goes_quiet(void **state)
{
    (void)state;
    struct fake f = {.b = B_GARBAGE, .p = prng_seed(5)};
    tern_dev *dev = NULL;
    char err[512] = "";

    id_from_hwcfg(&f, "tiny");
    int rc = open_fake(&f, 20, 1, &dev, err, sizeof err);
    assert_int_equal(rc, TERN_E_TIMEOUT);
    assert_null(dev);
    if (!strstr(err, "did not go quiet"))
        fail_msg("unexpected message: %s", err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sane_id_block_is_accepted),
        cmocka_unit_test(test_huge_max_payload_is_refused),
        cmocka_unit_test(test_memory_overflowing_its_window_is_refused),
        cmocka_unit_test(test_every_register_is_checked),
        cmocka_unit_test(test_endless_garbage_times_out),
        cmocka_unit_test(test_endless_stale_responses_time_out),
        cmocka_unit_test(test_trickling_device_times_out),
        cmocka_unit_test(test_resync_on_a_link_that_never_goes_quiet),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
