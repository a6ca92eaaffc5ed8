/* rtl_util.h — helpers of the RTL tests: a seeded PRNG, and a device under test driven through the
 * tern_sim C API with framed commands (tern_frame_cmd) and parsed responses (tern_scan_rsp).
 * Include after <cmocka.h>. */
#ifndef TERN_RTL_UTIL_H
#define TERN_RTL_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tern/tern.h"
#include "tern/tern_proto.h"
#include "tern/tern_sim.h"
#include "tern_hwcfg.h"
#include "tern_refdev.h"

/* splitmix64: deterministic, seeded per test. */
struct prng {
    uint64_t s;
};

static inline struct prng prng_seed(uint64_t seed)
{
    struct prng p = {seed * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull};
    return p;
}

static inline uint64_t prng_next(struct prng *p)
{
    uint64_t z = (p->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static inline uint32_t prng_below(struct prng *p, uint32_t n)
{
    return n ? (uint32_t)(prng_next(p) % n) : 0;
}

static inline void prng_bytes(struct prng *p, uint8_t *buf, size_t n)
{
    for (size_t i = 0; i < n; i++)
        buf[i] = (uint8_t)prng_next(p);
}

/* A random legal code: 00, 01 or 11. */
static inline unsigned prng_code(struct prng *p)
{
    static const unsigned legal[3] = {0u, 1u, 3u};
    return legal[prng_below(p, 3)];
}

/* The configuration under test: argv[1] of the test programs, "tiny" by default. */
static const char *g_config = "tiny";

/* Max cycles any single exchange may take (a RUN of the whole of AMEM on large is far below). */
#define DUT_MAX_CYCLES 20000000ull

struct dut {
    tern_sim *sim;
    const struct tern_hwcfg *cfg;
    uint16_t seq;
    uint8_t *tx; /* one command frame */
    size_t tx_cap;
    uint8_t *rx; /* everything the device sent in one exchange */
    size_t rx_cap, rx_len;
    struct tern_rsp rsp; /* the last response; payload points into rx */
};

static inline struct dut *dut_open_opts(const char *config, const struct tern_sim_opts *opts)
{
    struct dut *d = calloc(1, sizeof *d);
    assert_non_null(d);
    d->cfg = tern_hwcfg_find(config);
    if (!d->cfg)
        fail_msg("configuration %s is not in the generated table", config);
    int err = tern_sim_create(config, opts, &d->sim);
    if (err)
        fail_msg("tern_sim_create(%s) = %d", config, err);
    d->tx_cap = (size_t)d->cfg->max_payload + 64;
    d->tx = malloc(d->tx_cap);
    d->rx_cap = 2 * (size_t)d->cfg->max_payload + 4096;
    d->rx = malloc(d->rx_cap);
    assert_non_null(d->tx);
    assert_non_null(d->rx);
    d->seq = 1;
    return d;
}

static inline struct dut *dut_open(const char *config)
{
    return dut_open_opts(config, NULL);
}

static inline void dut_close(struct dut *d)
{
    if (!d)
        return;
    tern_sim_destroy(d->sim);
    free(d->tx);
    free(d->rx);
    free(d);
}

/* Push raw bytes, run until the device is quiet, collect what it sent into d->rx. */
static inline size_t dut_raw(struct dut *d, const uint8_t *bytes, size_t n)
{
    tern_sim_push(d->sim, bytes, n);
    int err = tern_sim_run_until_quiet(d->sim, DUT_MAX_CYCLES);
    if (err)
        fail_msg("%s: device not quiet after %llu cycles", g_config, (unsigned long long)DUT_MAX_CYCLES);
    d->rx_len = tern_sim_pull(d->sim, d->rx, d->rx_cap);
    return d->rx_len;
}

/* Parse d->rx as exactly one response frame into d->rsp (fails the test otherwise). */
static inline void dut_parse_one(struct dut *d)
{
    size_t used = 0;
    uint32_t max_len = d->cfg->max_payload > 120 ? d->cfg->max_payload : 120;
    enum tern_scan sc = tern_scan_rsp(d->rx, d->rx_len, max_len, &d->rsp, &used);
    if (sc != TERN_SCAN_FRAME)
        fail_msg("%s: no valid response frame in %zu bytes (scan %d)", g_config, d->rx_len, (int)sc);
    if (used != d->rx_len)
        fail_msg("%s: %zu bytes besides the response", g_config, d->rx_len - used);
}

/* Build a command frame with the next seq, send it, parse the one response; returns its status. */
static inline int dut_cmd(struct dut *d, uint8_t op, uint32_t addr, const void *payload, uint32_t len)
{
    uint16_t seq = d->seq++;
    size_t n = tern_frame_cmd(d->tx, d->tx_cap, op, seq, addr, payload, len);
    assert_true(n > 0);
    dut_raw(d, d->tx, n);
    dut_parse_one(d);
    assert_int_equal(d->rsp.opcode, op);
    assert_int_equal(d->rsp.seq, seq);
    return d->rsp.status;
}

static inline void dut_write_mem(struct dut *d, uint32_t addr, const uint8_t *data, size_t len)
{
    while (len) {
        uint32_t chunk = len > d->cfg->max_payload ? d->cfg->max_payload : (uint32_t)len;
        assert_int_equal(dut_cmd(d, TERN_OP_WRITE_MEM, addr, data, chunk), TERN_ST_OK);
        addr += chunk;
        data += chunk;
        len -= chunk;
    }
}

static inline void dut_read_mem(struct dut *d, uint32_t addr, uint8_t *data, size_t len)
{
    while (len) {
        uint8_t cnt[4];
        uint32_t chunk = len > d->cfg->max_payload ? d->cfg->max_payload : (uint32_t)len;
        tern_put_u32(cnt, chunk);
        assert_int_equal(dut_cmd(d, TERN_OP_READ_MEM, addr, cnt, 4), TERN_ST_OK);
        assert_int_equal(d->rsp.len, chunk);
        memcpy(data, d->rsp.payload, chunk);
        addr += chunk;
        data += chunk;
        len -= chunk;
    }
}

static inline void dut_counters(struct dut *d, uint64_t *cnt)
{
    assert_int_equal(dut_cmd(d, TERN_OP_READ_COUNTERS, 0, NULL, 0), TERN_ST_OK);
    assert_int_equal(d->rsp.len, 8 * TERN_NUM_COUNTERS);
    for (int i = 0; i < TERN_NUM_COUNTERS; i++)
        cnt[i] = tern_get_u64(d->rsp.payload + 8 * i);
}

/* Run the test groups of one program for the configuration named by argv[1]. */
#define RTL_TEST_MAIN(tests)                                                                     \
    int main(int argc, char **argv)                                                              \
    {                                                                                            \
        if (argc > 1)                                                                            \
            g_config = argv[1];                                                                  \
        char name[64];                                                                           \
        snprintf(name, sizeof name, "%s[%s]", argv[0], g_config);                                \
        return cmocka_run_group_tests_name(name, tests, NULL, NULL);                             \
    }

#endif /* TERN_RTL_UTIL_H */
