/* test_link_faults.c — the protocol client's retries (ARCHITECTURE.md 6 "Duplicates", 8 "Client"):
 * a fault-injecting link shim between the runtime and a reference device. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tern/tern.h"
#include "tern/tern_proto.h"
#include "tern_link.h"
#include "tern_refdev.h"
#include "unit_util.h"

enum fault {
    F_NONE,
    F_RSP_FLIP,    /* one bit of the response flipped */
    F_RSP_DROP,    /* the response lost */
    F_RSP_DUP,     /* the response delivered twice */
    F_RSP_GARBAGE, /* random bytes before the response */
    F_RSP_BUSY,    /* the response replaced by a BUSY answer */
    F_CMD_FLIP,    /* one bit of the command flipped */
    F_CMD_DROP,    /* the command lost */
    F_MIXED        /* any of the above, chosen at random */
};

static const char *const fault_names[] = { "none", "rsp-flip", "rsp-drop", "rsp-dup", "rsp-garbage",
                                           "rsp-busy", "cmd-flip", "cmd-drop", "mixed" };

struct shim {
    tern_refdev *dev;
    struct prng p;
    enum fault kind;
    uint64_t every;      /* fault the first attempt of every Nth command (0: none) */
    uint64_t only_cmd;   /* if non-zero: fault only this command number */
    int persistent;      /* fault every attempt of a faulted command */
    uint64_t sends, cmds, faults, garbage;
    uint64_t sends_of_cur; /* attempts of the current command */
    uint16_t last_seq;
    int cur_faulted;
    uint8_t *q;
    size_t qlen, qcap;
    uint8_t *tmp;
    size_t tmpcap;
    int closed;
};

static void q_append(struct shim *s, const uint8_t *b, size_t n)
{
    if (!n) /* memcpy from or to NULL is undefined even for 0 bytes (the queue starts unallocated) */
        return;
    if (s->qlen + n > s->qcap) {
        s->qcap = 2 * (s->qlen + n) + 1024;
        s->q = realloc(s->q, s->qcap);
        assert_non_null(s->q);
    }
    memcpy(s->q + s->qlen, b, n);
    s->qlen += n;
}

static uint8_t *tmp_buf(struct shim *s, size_t n)
{
    if (n > s->tmpcap) {
        s->tmpcap = 2 * n;
        s->tmp = realloc(s->tmp, s->tmpcap);
        assert_non_null(s->tmp);
    }
    return s->tmp;
}

static enum fault pick(struct shim *s)
{
    if (s->kind != F_MIXED)
        return s->kind;
    return (enum fault)(F_RSP_FLIP + prng_below(&s->p, F_CMD_DROP - F_RSP_FLIP + 1));
}

static int shim_send(void *ctx, const uint8_t *buf, size_t len, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    struct shim *s = ctx;
    s->sends++;
    enum fault f = F_NONE;
    if (len >= TERN_CMD_OVERHEAD && buf[0] == 0xA5 && buf[1] == 0x54) {
        uint16_t seq = (uint16_t)(buf[4] | (buf[5] << 8));
        if (s->cmds == 0 || seq != s->last_seq) {
            s->cmds++;
            s->last_seq = seq;
            s->sends_of_cur = 0;
            s->cur_faulted = s->only_cmd ? s->cmds == s->only_cmd : (s->every && s->cmds % s->every == 0);
        } else if (!s->persistent) {
            s->cur_faulted = 0;
        }
        s->sends_of_cur++;
        if (s->cur_faulted)
            f = pick(s);
    }
    if (f == F_CMD_DROP) {
        s->faults++;
        return TERN_OK;
    }
    if (f == F_CMD_FLIP) {
        uint8_t *c = tmp_buf(s, len);
        memcpy(c, buf, len);
        uint32_t plen = tern_get_u32(buf + 12);
        /* header bits when there is no payload, else payload or pcrc bits: either way the device
         * consumes exactly this frame and answers BAD_HCRC or BAD_PCRC */
        size_t pos = plen ? 18 + prng_below(&s->p, (uint32_t)(len - 18)) : 2 + prng_below(&s->p, 16);
        c[pos] ^= (uint8_t)(1u << prng_below(&s->p, 8));
        tern_refdev_push(s->dev, c, len);
        s->faults++;
    } else {
        tern_refdev_push(s->dev, buf, len);
    }
    size_t pend = tern_refdev_pending(s->dev);
    uint8_t *r = tmp_buf(s, pend + 64);
    size_t got = tern_refdev_pull(s->dev, r, pend);
    if (f == F_CMD_FLIP || f == F_NONE || got == 0) {
        q_append(s, r, got);
        return TERN_OK;
    }
    s->faults++;
    switch (f) {
    case F_RSP_FLIP: {
        size_t pos = prng_below(&s->p, (uint32_t)got);
        r[pos] ^= (uint8_t)(1u << prng_below(&s->p, 8));
        q_append(s, r, got);
        break;
    }
    case F_RSP_DROP:
        break;
    case F_RSP_DUP:
        q_append(s, r, got);
        q_append(s, r, got);
        break;
    case F_RSP_GARBAGE: {
        uint8_t g[32];
        uint32_t n = 1 + prng_below(&s->p, sizeof g);
        prng_bytes(&s->p, g, n);
        q_append(s, g, n);
        s->garbage += n;
        q_append(s, r, got);
        break;
    }
    case F_RSP_BUSY: {
        uint8_t b[TERN_RSP_OVERHEAD];
        size_t n = unit_build_rsp(b, r[3], (uint16_t)(r[4] | (r[5] << 8)), TERN_ST_BUSY, NULL, 0);
        q_append(s, b, n);
        break;
    }
    default:
        q_append(s, r, got);
        break;
    }
    return TERN_OK;
}

static int shim_recv(void *ctx, uint8_t *buf, size_t cap, size_t *got, unsigned timeout_ms, char *err, size_t errlen)
{
    (void)timeout_ms;
    (void)err;
    (void)errlen;
    struct shim *s = ctx;
    size_t n = s->qlen < cap ? s->qlen : cap;
    memcpy(buf, s->q, n);
    memmove(s->q, s->q + n, s->qlen - n);
    s->qlen -= n;
    *got = n;
    return TERN_OK;
}

static void shim_close(void *ctx)
{
    struct shim *s = ctx;
    s->closed = 1; /* the test owns the device and inspects it after close */
}

static const struct tern_link_ops shim_ops = { shim_send, shim_recv, shim_close };

static struct shim *shim_new(const char *config, enum fault kind, uint64_t every, uint64_t seed)
{
    struct shim *s = calloc(1, sizeof *s);
    assert_non_null(s);
    const struct tern_hwcfg *h = tern_hwcfg_find(config);
    assert_non_null(h);
    assert_int_equal(tern_refdev_create(h, &s->dev), 0);
    s->kind = kind;
    s->every = every;
    s->p = prng_seed(seed);
    return s;
}

static void shim_free(struct shim *s)
{
    tern_refdev_destroy(s->dev);
    free(s->q);
    free(s->tmp);
    free(s);
}

static tern_dev *open_over(struct shim *s, int resync)
{
    struct tern_link link = { &shim_ops, s, 0, resync };
    tern_dev *dev = NULL;
    char err[512] = "";
    int rc = tern_dev_open_link(&link, &dev, err, sizeof err);
    if (rc != TERN_OK || !dev)
        fail_msg("tern_dev_open_link over a %s shim: %s (%s)", fault_names[s->kind], tern_strerror(rc), err);
    return dev;
}

/* ---- a workload with a known answer ---- */

struct outcome {
    uint64_t counters[TERN_NUM_COUNTERS];
    struct tern_link_stats link;
};

static void product(tern_dev *dev, struct prng *p, uint32_t n, uint32_t k, uint32_t t, const char *what)
{
    int8_t *w = malloc((size_t)n * k), *act = malloc((size_t)t * k);
    uint8_t *codes = calloc(1, tern_codes_bytes((uint64_t)n * k));
    int32_t *got = malloc((size_t)t * n * 4), *want = malloc((size_t)t * n * 4);
    assert_true(w && act && codes && got && want);
    for (size_t j = 0; j < (size_t)n * k; j++) {
        w[j] = (int8_t)prng_ternary(p);
        unit_code_put(codes, j, w[j]);
    }
    for (size_t j = 0; j < (size_t)t * k; j++)
        act[j] = (int8_t)(uint8_t)prng_next(p);
    unit_matmul_oracle(w, act, n, k, t, want);
    tern_mat *mat = NULL;
    int rc = tern_mat_upload(dev, codes, n, k, &mat);
    if (rc != TERN_OK)
        fail_msg("%s: upload %u x %u: %s (%s)", what, n, k, tern_strerror(rc), tern_dev_last_error(dev));
    for (int rep = 0; rep < 2; rep++) {
        rc = tern_matmul(dev, mat, act, t, got);
        if (rc != TERN_OK)
            fail_msg("%s: matmul %u x %u t %u: %s (%s)", what, n, k, t, tern_strerror(rc), tern_dev_last_error(dev));
        for (size_t i = 0; i < (size_t)t * n; i++)
            if (got[i] != want[i])
                fail_msg("%s: %u x %u t %u, repetition %d: out[%zu][%zu] = %d, want %d", what, n, k, t, rep, i / n,
                         i % n, got[i], want[i]);
    }
    tern_mat_free(mat);
    free(w);
    free(act);
    free(codes);
    free(got);
    free(want);
}

/* Fixed products on tiny: one that fits, one that streams through WMEM, one over K chunks. */
static void workload(struct shim *s, struct outcome *o)
{
    tern_dev *dev = open_over(s, 0);
    struct prng p = prng_seed(0x3011u);
    char what[64];
    snprintf(what, sizeof what, "link with %s faults", fault_names[s->kind]);
    product(dev, &p, 37, 150, 3, what);
    product(dev, &p, 70, 600, 1, what);  /* 1350 words > 1024: streams */
    product(dev, &p, 5, 1500, 2, what);  /* K over the 1024-column activation buffer */
    /* raw access too */
    uint8_t data[700], back[700];
    prng_bytes(&p, data, sizeof data);
    if (tern_dev_write_mem(dev, TERN_AMEM_BASE + 11, data, sizeof data) != TERN_OK ||
        tern_dev_read_mem(dev, TERN_AMEM_BASE + 11, back, sizeof back) != TERN_OK ||
        memcmp(data, back, sizeof data) != 0)
        fail_msg("%s: raw write/read of 700 bytes failed (%s)", what, tern_dev_last_error(dev));
    tern_dev_link_stats(dev, &o->link);
    tern_dev_close(dev);
    tern_refdev_counters(s->dev, o->counters);
}

static void clean_outcome(struct outcome *o)
{
    struct shim *s = shim_new("tiny", F_NONE, 0, 1);
    workload(s, o);
    shim_free(s);
}

static void check_same_execution(const struct outcome *clean, const struct outcome *got, const char *what)
{
    const int same[] = { TERN_CNT_CYC_COMMIT, TERN_CNT_CYC_COMPUTE, TERN_CNT_TERN_OPS, TERN_CNT_ILLEGAL_RUNS };
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++)
        if (got->counters[same[i]] != clean->counters[same[i]])
            fail_msg("%s: device counter %s = %llu, fault-free run %llu (a command executed twice or not at all)",
                     what, tern_counter_name(same[i]), (unsigned long long)got->counters[same[i]],
                     (unsigned long long)clean->counters[same[i]]);
    if (got->link.commands != clean->link.commands)
        fail_msg("%s: %llu commands completed, fault-free run %llu", what, (unsigned long long)got->link.commands,
                 (unsigned long long)clean->link.commands);
}

/* ---- tests ---- */

static void test_clean_link_has_no_retries(void **state)
{
    (void)state;
    struct outcome o;
    clean_outcome(&o);
    if (o.link.retries != 0 || o.link.bytes_skipped != 0)
        fail_msg("fault-free link: %llu retries, %llu bytes skipped", (unsigned long long)o.link.retries,
                 (unsigned long long)o.link.bytes_skipped);
    assert_true(o.link.commands > 10);
    assert_int_equal(o.link.bytes_received, o.counters[TERN_CNT_BYTES_OUT]);
    assert_int_equal(o.link.bytes_sent, o.counters[TERN_CNT_BYTES_IN]);
}

/* Each retrying fault costs exactly one retry (only first attempts are faulted). */
static void check_retrying_fault(enum fault kind, uint64_t every)
{
    struct outcome clean, got;
    clean_outcome(&clean);
    struct shim *s = shim_new("tiny", kind, every, 0xF00 + (uint64_t)kind);
    workload(s, &got);
    char what[64];
    snprintf(what, sizeof what, "%s on every %lluth command", fault_names[kind], (unsigned long long)every);
    if (s->faults == 0)
        fail_msg("%s: the shim injected no fault", what);
    check_same_execution(&clean, &got, what);
    if (got.link.retries != s->faults)
        fail_msg("%s: %llu faults injected, %llu retries counted", what, (unsigned long long)s->faults,
                 (unsigned long long)got.link.retries);
    shim_free(s);
}

static void test_flipped_response_bit_is_retried(void **state)
{
    (void)state;
    check_retrying_fault(F_RSP_FLIP, 3);
}

static void test_lost_response_is_retried(void **state)
{
    (void)state;
    check_retrying_fault(F_RSP_DROP, 4);
}

static void test_busy_response_is_retried(void **state)
{
    (void)state;
    check_retrying_fault(F_RSP_BUSY, 5);
}

static void test_flipped_command_bit_is_retried(void **state)
{
    (void)state;
    check_retrying_fault(F_CMD_FLIP, 3);
}

static void test_lost_command_is_retried(void **state)
{
    (void)state;
    check_retrying_fault(F_CMD_DROP, 4);
}

static void test_duplicated_response_is_skipped(void **state)
{
    (void)state;
    struct outcome clean, got;
    clean_outcome(&clean);
    struct shim *s = shim_new("tiny", F_RSP_DUP, 2, 0xD0D0u);
    workload(s, &got);
    check_same_execution(&clean, &got, "every 2nd response duplicated");
    if (got.link.retries != 0)
        fail_msg("duplicated responses caused %llu retries, want 0", (unsigned long long)got.link.retries);
    if (got.link.bytes_received <= clean.link.bytes_received)
        fail_msg("the duplicates were never received");
    shim_free(s);
}

static void test_injected_garbage_is_skipped(void **state)
{
    (void)state;
    struct outcome clean, got;
    clean_outcome(&clean);
    struct shim *s = shim_new("tiny", F_RSP_GARBAGE, 2, 0x6A6Au);
    workload(s, &got);
    check_same_execution(&clean, &got, "garbage before every 2nd response");
    if (got.link.retries != 0)
        fail_msg("garbage before responses caused %llu retries, want 0", (unsigned long long)got.link.retries);
    if (got.link.bytes_skipped != s->garbage)
        fail_msg("%llu garbage bytes injected, %llu counted as skipped", (unsigned long long)s->garbage,
                 (unsigned long long)got.link.bytes_skipped);
    shim_free(s);
}

static void test_mixed_faults_keep_results_exact(void **state)
{
    (void)state;
    struct outcome clean, got;
    clean_outcome(&clean);
    for (uint64_t seed = 1; seed <= 3; seed++) {
        struct shim *s = shim_new("tiny", F_MIXED, 2, seed);
        workload(s, &got);
        char what[64];
        snprintf(what, sizeof what, "mixed faults on every 2nd command, seed %llu", (unsigned long long)seed);
        check_same_execution(&clean, &got, what);
        if (got.link.retries == 0)
            fail_msg("%s: no retries counted", what);
        shim_free(s);
    }
}

static void test_run_accumulate_not_doubled_when_response_lost(void **state)
{
    (void)state;
    struct shim *s = shim_new("tiny", F_NONE, 0, 7);
    tern_dev *dev = open_over(s, 0);
    const struct tern_config *c = tern_dev_config(dev);
    /* lane 0 of word 0: W codes of +1; activations 1..W: one RUN gives W(W+1)/2 */
    size_t wordb = c->lanes * c->width / 4;
    uint8_t *w = calloc(1, wordb);
    int8_t *a = malloc(c->width);
    assert_true(w && a);
    for (uint32_t e = 0; e < c->width; e++) {
        unit_code_put(w, e, 1);
        a[e] = (int8_t)(e + 1);
    }
    assert_int_equal(tern_dev_write_mem(dev, TERN_WMEM_BASE, w, wordb), TERN_OK);
    assert_int_equal(tern_dev_write_mem(dev, TERN_AMEM_BASE, a, c->width), TERN_OK);
    struct tern_run run = { 0, 1, c->width, 0, 1, 0, 0 };
    assert_int_equal(tern_dev_run(dev, &run), TERN_OK);
    int32_t once = (int32_t)(c->width * (c->width + 1) / 2);
    struct tern_link_stats l0, l1;
    tern_dev_link_stats(dev, &l0);
    s->kind = F_RSP_DROP;
    s->only_cmd = s->cmds + 1; /* lose the response of the next command: the accumulating RUN */
    run.accumulate = 1;
    int rc = tern_dev_run(dev, &run);
    if (rc != TERN_OK)
        fail_msg("accumulating RUN with its response lost: %s (%s)", tern_strerror(rc), tern_dev_last_error(dev));
    tern_dev_link_stats(dev, &l1);
    assert_int_equal(s->faults, 1);
    assert_int_equal(l1.retries - l0.retries, 1);
    uint8_t b[4];
    assert_int_equal(tern_dev_read_mem(dev, TERN_OMEM_BASE, b, 4), TERN_OK);
    int32_t v = (int32_t)tern_get_u32(b);
    if (v != 2 * once)
        fail_msg("RUN then accumulating RUN (response lost, retried): out = %d, want %d (3x means executed twice)", v,
                 2 * once);
    tern_dev_close(dev);
    free(w);
    free(a);
    shim_free(s);
}

static void test_write_mem_not_repeated_when_response_lost(void **state)
{
    (void)state;
    struct shim *s = shim_new("tiny", F_NONE, 0, 8);
    tern_dev *dev = open_over(s, 0);
    uint64_t c0[TERN_NUM_COUNTERS], c1[TERN_NUM_COUNTERS];
    tern_refdev_counters(s->dev, c0);
    s->only_cmd = s->cmds + 1;
    s->kind = F_RSP_DROP;
    uint8_t data[40] = { 1, 2, 3 };
    assert_int_equal(tern_dev_write_mem(dev, TERN_AMEM_BASE, data, sizeof data), TERN_OK);
    tern_refdev_counters(s->dev, c1);
    if (c1[TERN_CNT_CYC_COMMIT] - c0[TERN_CNT_CYC_COMMIT] != sizeof data)
        fail_msg("WRITE_MEM of 40 bytes with its response lost: %llu COMMIT cycles, want 40 (executed once)",
                 (unsigned long long)(c1[TERN_CNT_CYC_COMMIT] - c0[TERN_CNT_CYC_COMMIT]));
    tern_dev_close(dev);
    shim_free(s);
}

static void test_persistent_loss_times_out_after_4_retries(void **state)
{
    (void)state;
    struct shim *s = shim_new("tiny", F_NONE, 0, 9);
    tern_dev *dev = open_over(s, 0);
    struct tern_link_stats l0, l1;
    tern_dev_link_stats(dev, &l0);
    s->kind = F_RSP_DROP;
    s->persistent = 1;
    s->only_cmd = s->cmds + 1;
    uint32_t v = 0;
    int rc = tern_dev_read_reg(dev, TERN_REG_SCRATCH, &v);
    if (rc != TERN_E_TIMEOUT)
        fail_msg("READ_REG with every response lost: %s, want TERN_E_TIMEOUT", tern_strerror(rc));
    tern_dev_link_stats(dev, &l1);
    if (s->sends_of_cur != 5 || l1.retries - l0.retries != 4)
        fail_msg("READ_REG with every response lost: sent %llu times, %llu retries; want 5 sends, 4 retries",
                 (unsigned long long)s->sends_of_cur, (unsigned long long)(l1.retries - l0.retries));
    const char *msg = tern_dev_last_error(dev);
    if (!msg || !*msg)
        fail_msg("no last error after a timeout");
    /* the link heals: the next command works */
    s->persistent = 0;
    s->kind = F_NONE;
    assert_int_equal(tern_dev_ping(dev), TERN_OK);
    tern_dev_close(dev);
    shim_free(s);
}

static void test_persistent_bad_pcrc_times_out(void **state)
{
    (void)state;
    struct shim *s = shim_new("tiny", F_NONE, 0, 10);
    tern_dev *dev = open_over(s, 0);
    s->kind = F_CMD_FLIP;
    s->persistent = 1;
    s->only_cmd = s->cmds + 1;
    uint8_t data[16] = { 0 };
    uint64_t c0[TERN_NUM_COUNTERS], c1[TERN_NUM_COUNTERS];
    tern_refdev_counters(s->dev, c0);
    int rc = tern_dev_write_mem(dev, TERN_AMEM_BASE, data, sizeof data);
    tern_refdev_counters(s->dev, c1);
    if (rc != TERN_E_TIMEOUT)
        fail_msg("WRITE_MEM corrupted on every attempt: %s, want TERN_E_TIMEOUT", tern_strerror(rc));
    if (c1[TERN_CNT_FRAMES_ERR] - c0[TERN_CNT_FRAMES_ERR] != 5 || c1[TERN_CNT_CYC_COMMIT] != c0[TERN_CNT_CYC_COMMIT])
        fail_msg("WRITE_MEM corrupted on every attempt: %llu refused frames (want 5), %llu COMMIT cycles (want 0)",
                 (unsigned long long)(c1[TERN_CNT_FRAMES_ERR] - c0[TERN_CNT_FRAMES_ERR]),
                 (unsigned long long)(c1[TERN_CNT_CYC_COMMIT] - c0[TERN_CNT_CYC_COMMIT]));
    tern_dev_close(dev);
    shim_free(s);
}

static void check_resync(const char *config)
{
    /* a device left mid-frame: a WRITE_MEM header announcing max_payload bytes and 3 of them */
    struct shim *s = shim_new(config, F_NONE, 0, 11);
    const struct tern_hwcfg *h = tern_refdev_hwcfg(s->dev);
    uint8_t *frame = calloc(1, h->max_payload + 22);
    assert_non_null(frame);
    memset(frame + 18, 0x77, h->max_payload);
    size_t n = tern_frame_cmd(frame, h->max_payload + 22, TERN_OP_WRITE_MEM, 1234, TERN_AMEM_BASE, frame + 18,
                              h->max_payload);
    assert_int_equal(n, h->max_payload + 22);
    tern_refdev_push(s->dev, frame, 21);
    assert_true(tern_refdev_in_frame(s->dev));
    tern_dev *dev = open_over(s, 1);
    if (tern_dev_ping(dev) != TERN_OK)
        fail_msg("%s: PING after resynchronisation: %s", config, tern_dev_last_error(dev));
    size_t ab;
    const uint8_t *a = tern_refdev_amem(s->dev, &ab);
    for (size_t i = 0; i < 8; i++)
        if (a[i] != 0)
            fail_msg("%s: the interrupted WRITE_MEM reached AMEM byte %zu", config, i);
    tern_dev_close(dev);
    free(frame);
    shim_free(s);
}

static void test_resync_recovers_device_left_mid_frame_tiny(void **state)
{
    (void)state;
    check_resync("tiny");
}

static void test_resync_recovers_device_left_mid_frame_large(void **state)
{
    (void)state;
    check_resync("large");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clean_link_has_no_retries),
        cmocka_unit_test(test_flipped_response_bit_is_retried),
        cmocka_unit_test(test_lost_response_is_retried),
        cmocka_unit_test(test_busy_response_is_retried),
        cmocka_unit_test(test_flipped_command_bit_is_retried),
        cmocka_unit_test(test_lost_command_is_retried),
        cmocka_unit_test(test_duplicated_response_is_skipped),
        cmocka_unit_test(test_injected_garbage_is_skipped),
        cmocka_unit_test(test_mixed_faults_keep_results_exact),
        cmocka_unit_test(test_run_accumulate_not_doubled_when_response_lost),
        cmocka_unit_test(test_write_mem_not_repeated_when_response_lost),
        cmocka_unit_test(test_persistent_loss_times_out_after_4_retries),
        cmocka_unit_test(test_persistent_bad_pcrc_times_out),
        cmocka_unit_test(test_resync_recovers_device_left_mid_frame_tiny),
        cmocka_unit_test(test_resync_recovers_device_left_mid_frame_large),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
