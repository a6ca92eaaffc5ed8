/* test_refdev_cycles.c — the reference device's cycle model and counters (ARCHITECTURE.md 7). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "refdev_util.h"

/* The expected counters, advanced frame by frame from the table of section 7. */
struct model {
    uint64_t c[TERN_NUM_COUNTERS];
};

static void model_add(struct model *m, uint64_t rx, uint64_t ctrl, uint64_t commit, uint64_t compute,
                      uint64_t pipe, uint64_t tx)
{
    m->c[TERN_CNT_CYC_RX] += rx;
    m->c[TERN_CNT_CYC_CTRL] += ctrl;
    m->c[TERN_CNT_CYC_COMMIT] += commit;
    m->c[TERN_CNT_CYC_COMPUTE] += compute;
    m->c[TERN_CNT_CYC_PIPE] += pipe;
    m->c[TERN_CNT_CYC_TX] += tx;
    m->c[TERN_CNT_CYCLES] += rx + ctrl + commit + compute + pipe + tx;
    m->c[TERN_CNT_BYTES_IN] += rx;
    m->c[TERN_CNT_BYTES_OUT] += tx;
}

static void model_stall_rx(struct model *m, uint64_t cycles)
{
    m->c[TERN_CNT_CYC_STALL_RX] += cycles;
    m->c[TERN_CNT_CYCLES] += cycles;
}

static void model_take(struct model *m, const struct rd *rd)
{
    rd_counters(rd, m->c);
}

static void expect_counters(const struct rd *rd, const struct model *want, const char *what)
{
    uint64_t got[TERN_NUM_COUNTERS];
    rd_counters(rd, got);
    for (int i = 0; i < TERN_NUM_COUNTERS; i++)
        if (got[i] != want->c[i])
            fail_msg("%s: counter %s = %llu, want %llu", what, tern_counter_name(i),
                     (unsigned long long)got[i], (unsigned long long)want->c[i]);
}

static void expect_invariants(const struct rd *rd, const char *what)
{
    uint64_t c[TERN_NUM_COUNTERS];
    rd_counters(rd, c);
    uint64_t sum = 0;
    for (int i = TERN_CNT_CYC_RX; i <= TERN_CNT_CYC_STALL_TX; i++)
        sum += c[i];
    if (c[TERN_CNT_CYCLES] != sum)
        fail_msg("%s: CYCLES %llu != sum of counters 1..8 %llu", what, (unsigned long long)c[0],
                 (unsigned long long)sum);
    if (c[TERN_CNT_BYTES_IN] != c[TERN_CNT_CYC_RX])
        fail_msg("%s: BYTES_IN %llu != CYC_RX %llu (one byte per RX cycle)", what,
                 (unsigned long long)c[TERN_CNT_BYTES_IN], (unsigned long long)c[TERN_CNT_CYC_RX]);
    if (c[TERN_CNT_BYTES_OUT] != c[TERN_CNT_CYC_TX])
        fail_msg("%s: BYTES_OUT %llu != CYC_TX %llu (ideal host)", what,
                 (unsigned long long)c[TERN_CNT_BYTES_OUT], (unsigned long long)c[TERN_CNT_CYC_TX]);
    if (c[TERN_CNT_CYC_STALL_TX] != 0)
        fail_msg("%s: STALL_TX %llu with an ideal host", what, (unsigned long long)c[TERN_CNT_CYC_STALL_TX]);
}

static int setup_tiny(void **state)
{
    *state = rd_open("tiny");
    return 0;
}

static int teardown(void **state)
{
    rd_close(*state);
    return 0;
}

static void fill_memories(struct rd *rd, uint64_t seed)
{
    struct prng p = prng_seed(seed);
    uint8_t *buf = malloc(rd->wmem_bytes);
    assert_non_null(buf);
    prng_legal_code_bytes(&p, buf, rd->wmem_bytes);
    rd_write_mem(rd, TERN_WMEM_BASE, buf, rd->wmem_bytes);
    prng_bytes(&p, buf, rd->amem_bytes);
    rd_write_mem(rd, TERN_AMEM_BASE, buf, rd->amem_bytes);
    free(buf);
}

/* ---- one frame at a time ---- */

static void test_fresh_device_counters_are_zero(void **state)
{
    struct rd *rd = *state;
    struct model m;
    memset(&m, 0, sizeof m);
    expect_counters(rd, &m, "a device just created");
    assert_false(tern_refdev_in_frame(rd->dev));
}

static void test_reset_keeps_only_its_response(void **state)
{
    struct rd *rd = *state;
    fill_memories(rd, 1);
    rd_expect_status(rd_cmd(rd, TERN_OP_RESET, 0, NULL, 0), TERN_ST_OK, "RESET");
    /* zeroed in its execute cycle: only the 18 response bytes remain (and its FRAMES_OK, if the
     * device counts frames when it answers them) */
    uint64_t c[TERN_NUM_COUNTERS];
    rd_counters(rd, c);
    struct model m;
    memset(&m, 0, sizeof m);
    model_add(&m, 0, 0, 0, 0, 0, 18);
    m.c[TERN_CNT_FRAMES_OK] = c[TERN_CNT_FRAMES_OK];
    expect_counters(rd, &m, "RESET");
}

static void test_reset_then_ping(void **state)
{
    struct rd *rd = *state;
    fill_memories(rd, 2);
    rd_expect_status(rd_cmd(rd, TERN_OP_RESET, 0, NULL, 0), TERN_ST_OK, "RESET");
    struct model m;
    model_take(&m, rd);
    rd_expect_status(rd_cmd(rd, TERN_OP_PING, 0, NULL, 0), TERN_ST_OK, "PING");
    model_add(&m, 22, 3, 0, 0, 0, 18 + 80);
    m.c[TERN_CNT_FRAMES_OK]++;
    expect_counters(rd, &m, "RESET then PING");
    /* absolute values: RESET's 18 TX + PING's 22 RX, 3 CTRL, 98 TX */
    uint64_t c[TERN_NUM_COUNTERS];
    rd_counters(rd, c);
    assert_int_equal(c[TERN_CNT_CYCLES], 18 + 22 + 3 + 98);
    assert_int_equal(c[TERN_CNT_BYTES_IN], 22);
    assert_int_equal(c[TERN_CNT_BYTES_OUT], 18 + 98);
}

static void test_write_mem_cost(void **state)
{
    struct rd *rd = *state;
    const uint32_t lens[] = { 1, 2, 17, 255, rd->cfg->max_payload };
    uint8_t *data = calloc(1, rd->cfg->max_payload);
    assert_non_null(data);
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        struct model m;
        model_take(&m, rd);
        rd_expect_status(rd_cmd(rd, TERN_OP_WRITE_MEM, TERN_AMEM_BASE, data, lens[i]), TERN_ST_OK,
                         "WRITE_MEM");
        model_add(&m, 22 + lens[i], 2, lens[i], 0, 0, 18);
        m.c[TERN_CNT_FRAMES_OK]++;
        char what[64];
        snprintf(what, sizeof what, "WRITE_MEM of %u bytes", lens[i]);
        expect_counters(rd, &m, what);
    }
    free(data);
}

static void test_read_mem_cost(void **state)
{
    struct rd *rd = *state;
    const uint32_t counts[] = { 1, 3, 4, 100, rd->cfg->max_payload };
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        struct model m;
        model_take(&m, rd);
        uint8_t p[4];
        unit_put_u32(p, counts[i]);
        rd_expect_status(rd_cmd(rd, TERN_OP_READ_MEM, TERN_WMEM_BASE + 1, p, 4), TERN_ST_OK, "READ_MEM");
        model_add(&m, 26, 3, 0, 0, 0, 18 + counts[i]);
        m.c[TERN_CNT_FRAMES_OK]++;
        char what[64];
        snprintf(what, sizeof what, "READ_MEM of %u bytes", counts[i]);
        expect_counters(rd, &m, what);
    }
}

static void test_register_access_cost(void **state)
{
    struct rd *rd = *state;
    struct model m;
    model_take(&m, rd);
    rd_write_reg(rd, TERN_REG_SCRATCH, 5);
    model_add(&m, 26, 3, 0, 0, 0, 18);
    m.c[TERN_CNT_FRAMES_OK]++;
    expect_counters(rd, &m, "WRITE_REG SCRATCH");
    (void)rd_read_reg(rd, TERN_REG_SCRATCH);
    model_add(&m, 22, 3, 0, 0, 0, 22);
    m.c[TERN_CNT_FRAMES_OK]++;
    expect_counters(rd, &m, "READ_REG SCRATCH");
}

static void test_read_counters_reports_values_at_execute_cycle(void **state)
{
    struct rd *rd = *state;
    fill_memories(rd, 3);
    struct model m;
    model_take(&m, rd);
    rd_expect_status(rd_cmd(rd, TERN_OP_READ_COUNTERS, 0, NULL, 0), TERN_ST_OK, "READ_COUNTERS");
    assert_int_equal(rd->rsp[0].len, 8 * TERN_NUM_COUNTERS);
    /* at its execute cycle: its 22 RX and 2 CTRL cycles are in, the execute cycle is not */
    struct model at = m;
    model_add(&at, 22, 2, 0, 0, 0, 0);
    for (int i = 0; i < TERN_NUM_COUNTERS; i++) {
        uint64_t got = unit_get_u64(rd->rsp[0].payload + 8 * i);
        if (got != at.c[i])
            fail_msg("READ_COUNTERS payload %s = %llu, want %llu", tern_counter_name(i),
                     (unsigned long long)got, (unsigned long long)at.c[i]);
    }
    model_add(&m, 22, 3, 0, 0, 0, 18 + 120);
    m.c[TERN_CNT_FRAMES_OK]++;
    expect_counters(rd, &m, "after READ_COUNTERS");
}

static void test_run_cost(void **state)
{
    struct rd *rd = *state;
    const struct tern_hwcfg *c = rd->cfg;
    fill_memories(rd, 4);
    struct prng p = prng_seed(0xC1C1u);
    for (int iter = 0; iter < 40; iter++) {
        uint32_t n = 1 + prng_below(&p, 3 * c->lanes);
        uint32_t k = 1 + prng_below(&p, 4 * c->width);
        uint32_t t = 1 + prng_below(&p, 5);
        uint32_t nb = rd_nb(rd, n), kw = rd_kw(rd, k);
        struct model m;
        model_take(&m, rd);
        int st = rd_run(rd, 0, n, k, 0, t, 0, iter & 1);
        rd_expect_status(st, TERN_ST_OK, "RUN");
        model_add(&m, 50, 2, 0, (uint64_t)nb * t * kw, c->run_setup + c->run_drain, 18);
        m.c[TERN_CNT_TERN_OPS] += (uint64_t)n * k * t;
        m.c[TERN_CNT_FRAMES_OK]++;
        char what[96];
        snprintf(what, sizeof what, "RUN n %u k %u t %u (NB %u KW %u) on %s", n, k, t, nb, kw, c->name);
        expect_counters(rd, &m, what);
    }
}

static void test_run_cost_on_default_config(void **state)
{
    (void)state;
    struct rd *rd = rd_open("default");
    const struct tern_hwcfg *c = rd->cfg;
    const uint32_t shapes[][3] = { { 1, 1, 1 }, { 17, 33, 3 }, { 16, 16, 1 }, { 100, 1000, 2 } };
    for (size_t i = 0; i < 4; i++) {
        uint32_t n = shapes[i][0], k = shapes[i][1], t = shapes[i][2];
        struct model m;
        model_take(&m, rd);
        rd_expect_status(rd_run(rd, 0, n, k, 0, t, 0, 0), TERN_ST_OK, "RUN");
        model_add(&m, 50, 2, 0, (uint64_t)rd_nb(rd, n) * t * rd_kw(rd, k), c->run_setup + c->run_drain, 18);
        m.c[TERN_CNT_TERN_OPS] += (uint64_t)n * k * t;
        m.c[TERN_CNT_FRAMES_OK]++;
        char what[96];
        snprintf(what, sizeof what, "RUN n %u k %u t %u on default", n, k, t);
        expect_counters(rd, &m, what);
    }
    rd_close(rd);
}

static void test_illegal_code_run_cost(void **state)
{
    struct rd *rd = *state;
    const struct tern_hwcfg *c = rd->cfg;
    uint8_t bad = 0x02;
    rd_write_mem(rd, TERN_WMEM_BASE, &bad, 1);
    struct model m;
    model_take(&m, rd);
    rd_expect_status(rd_run(rd, 0, 1, 1, 0, 1, 0, 0), TERN_ST_ILLEGAL_CODE, "RUN over code 10");
    model_add(&m, 50, 2, 0, 1, c->run_setup + c->run_drain, 18);
    m.c[TERN_CNT_FRAMES_ERR]++;
    m.c[TERN_CNT_ILLEGAL_RUNS]++;
    uint64_t got[TERN_NUM_COUNTERS];
    rd_counters(rd, got);
    m.c[TERN_CNT_TERN_OPS] = got[TERN_CNT_TERN_OPS]; /* whether 1 x 1 x 1 counts: not pinned down */
    expect_counters(rd, &m, "RUN answered ILLEGAL_CODE");
}

static void test_bad_hcrc_header_cost(void **state)
{
    struct rd *rd = *state;
    struct model m;
    model_take(&m, rd);
    size_t n = tern_frame_cmd(rd->tx, rd->tx_cap, TERN_OP_PING, 0x0101, 0, NULL, 0);
    rd->tx[16] ^= 0xFF;
    int nr = rd_exchange(rd, rd->tx, 18);
    if (nr != 1 || rd->rsp[0].status != TERN_ST_BAD_HCRC)
        fail_msg("PING header with bad hcrc: %d responses", nr);
    model_add(&m, 18, 1, 0, 0, 0, 18);
    m.c[TERN_CNT_FRAMES_ERR]++;
    expect_counters(rd, &m, "a header failing its hcrc");
    /* the rest of that frame (4 pcrc zero bytes) is hunted: 4 RX */
    rd_exchange(rd, rd->tx + 18, n - 18);
    model_add(&m, 4, 0, 0, 0, 0, 0);
    expect_counters(rd, &m, "the 4 bytes after a BAD_HCRC header");
}

static void test_bad_len_header_cost(void **state)
{
    struct rd *rd = *state;
    struct model m;
    model_take(&m, rd);
    unit_build_cmd(rd->tx, 1, TERN_OP_WRITE_MEM, 9, TERN_AMEM_BASE, NULL, 0);
    unit_put_u32(rd->tx + 12, rd->cfg->max_payload + 1);
    uint16_t h = unit_crc16(rd->tx, 16);
    rd->tx[16] = (uint8_t)h;
    rd->tx[17] = (uint8_t)(h >> 8);
    int nr = rd_exchange(rd, rd->tx, 18);
    if (nr != 1 || rd->rsp[0].status != TERN_ST_BAD_LEN)
        fail_msg("header with len max_payload + 1: %d responses", nr);
    model_add(&m, 18, 1, 0, 0, 0, 18);
    m.c[TERN_CNT_FRAMES_ERR]++;
    expect_counters(rd, &m, "a header with len > max_payload");
}

static void test_refused_frames_cost(void **state)
{
    struct rd *rd = *state;
    struct model m;
    uint8_t run[TERN_RUN_PAYLOAD_BYTES];
    rd_run_payload(run, 0, 0, 1, 0, 1, 0, 0); /* n = 0 */
    model_take(&m, rd);
    rd_expect_status(rd_cmd(rd, TERN_OP_RUN, 0, run, sizeof run), TERN_ST_BAD_ADDR, "RUN n = 0");
    model_add(&m, 50, 2, 0, 0, 0, 18);
    m.c[TERN_CNT_FRAMES_ERR]++;
    expect_counters(rd, &m, "RUN refused with BAD_ADDR");

    rd_expect_status(rd_cmd(rd, 0x42, 0, NULL, 0), TERN_ST_BAD_OPCODE, "opcode 0x42");
    model_add(&m, 22, 2, 0, 0, 0, 18);
    m.c[TERN_CNT_FRAMES_ERR]++;
    expect_counters(rd, &m, "BAD_OPCODE");

    uint8_t data[10] = { 0 };
    rd_expect_status(rd_cmd(rd, TERN_OP_WRITE_MEM, TERN_OMEM_BASE, data, 10), TERN_ST_BAD_ADDR,
                     "WRITE_MEM to OMEM");
    model_add(&m, 32, 2, 0, 0, 0, 18);
    m.c[TERN_CNT_FRAMES_ERR]++;
    expect_counters(rd, &m, "WRITE_MEM of 10 bytes refused");

    rd_expect_status(rd_cmd(rd, TERN_OP_PING, 0, data, 3), TERN_ST_BAD_LEN, "PING len 3");
    model_add(&m, 25, 2, 0, 0, 0, 18);
    m.c[TERN_CNT_FRAMES_ERR]++;
    expect_counters(rd, &m, "PING with 3 payload bytes");

    size_t n = tern_frame_cmd(rd->tx, rd->tx_cap, TERN_OP_WRITE_MEM, rd->seq++, TERN_AMEM_BASE, data, 10);
    rd->tx[18] ^= 1;
    int nr = rd_exchange(rd, rd->tx, n);
    if (nr != 1 || rd->rsp[0].status != TERN_ST_BAD_PCRC)
        fail_msg("WRITE_MEM with bad pcrc: %d responses", nr);
    model_add(&m, 32, 2, 0, 0, 0, 18);
    m.c[TERN_CNT_FRAMES_ERR]++;
    expect_counters(rd, &m, "WRITE_MEM of 10 bytes failing its pcrc");
}

static void test_duplicate_replay_cost(void **state)
{
    struct rd *rd = *state;
    uint8_t data[20] = { 0 };
    uint16_t seq = rd->seq++;
    rd_expect_status(rd_cmd_seq(rd, TERN_OP_WRITE_MEM, seq, TERN_AMEM_BASE, data, 20), TERN_ST_OK, "WRITE_MEM");
    struct model m;
    model_take(&m, rd);
    rd_expect_status(rd_cmd_seq(rd, TERN_OP_WRITE_MEM, seq, TERN_AMEM_BASE, data, 20), TERN_ST_OK,
                     "replayed WRITE_MEM");
    model_add(&m, 42, 2, 0, 0, 0, 18);
    m.c[TERN_CNT_FRAMES_OK]++;
    expect_counters(rd, &m, "a replayed WRITE_MEM of 20 bytes (no COMMIT)");

    uint8_t run[TERN_RUN_PAYLOAD_BYTES];
    rd_run_payload(run, 0, 5, 9, 0, 2, 0, 1);
    seq = rd->seq++;
    rd_expect_status(rd_cmd_seq(rd, TERN_OP_RUN, seq, 0, run, sizeof run), TERN_ST_OK, "RUN");
    model_take(&m, rd);
    rd_expect_status(rd_cmd_seq(rd, TERN_OP_RUN, seq, 0, run, sizeof run), TERN_ST_OK, "replayed RUN");
    model_add(&m, 50, 2, 0, 0, 0, 18);
    m.c[TERN_CNT_FRAMES_OK]++;
    expect_counters(rd, &m, "a replayed RUN (no PIPE, no COMPUTE, no TERN_OPS)");
}

static void test_garbage_bytes_are_rx_cycles(void **state)
{
    struct rd *rd = *state;
    struct model m;
    model_take(&m, rd);
    uint8_t g[100];
    for (size_t i = 0; i < sizeof g; i++)
        g[i] = (uint8_t)(i * 7 + 1) == 0xA5 ? 0 : (uint8_t)(i * 7 + 1);
    int nr = rd_exchange(rd, g, sizeof g);
    assert_int_equal(nr, 0);
    model_add(&m, sizeof g, 0, 0, 0, 0, 0);
    expect_counters(rd, &m, "100 garbage bytes in HUNT");
    assert_false(tern_refdev_in_frame(rd->dev));
}

static void test_bytes_before_magic_are_rx_cycles(void **state)
{
    struct rd *rd = *state;
    struct model m;
    model_take(&m, rd);
    uint8_t bytes[40] = { 0x00, 0xA5, 0x00, 0xA5, 0xA5 }; /* then A5 54 ...: the PING */
    size_t n = 4 + tern_frame_cmd(bytes + 4, sizeof bytes - 4, TERN_OP_PING, rd->seq++, 0, NULL, 0);
    int nr = rd_exchange(rd, bytes, n);
    if (nr != 1 || rd->rsp[0].status != TERN_ST_OK || rd->rsp[0].opcode != TERN_OP_PING)
        fail_msg("00 A5 00 A5 then a PING: %d responses", nr);
    model_add(&m, 4 + 22, 3, 0, 0, 0, 98);
    m.c[TERN_CNT_FRAMES_OK]++;
    expect_counters(rd, &m, "4 bytes of garbage then a PING");
}

/* ---- idle cycles ---- */

static void test_idle_in_hunt_counts_nothing(void **state)
{
    struct rd *rd = *state;
    struct model m;
    model_take(&m, rd);
    tern_refdev_idle(rd->dev, 1000);
    expect_counters(rd, &m, "1000 idle cycles on a fresh device");
    rd_expect_status(rd_cmd(rd, TERN_OP_PING, 0, NULL, 0), TERN_ST_OK, "PING");
    model_take(&m, rd);
    tern_refdev_idle(rd->dev, 77);
    expect_counters(rd, &m, "77 idle cycles after a complete frame");
    uint8_t g[3] = { 0x11, 0x54, 0x00 };
    rd_exchange(rd, g, 3);
    model_take(&m, rd);
    tern_refdev_idle(rd->dev, 5);
    expect_counters(rd, &m, "5 idle cycles after garbage");
}

static void test_idle_inside_frame_is_stall_rx(void **state)
{
    struct rd *rd = *state;
    uint8_t data[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    size_t n = tern_frame_cmd(rd->tx, rd->tx_cap, TERN_OP_WRITE_MEM, rd->seq++, TERN_AMEM_BASE, data, 8);
    struct model m;
    model_take(&m, rd);
    const size_t cuts[] = { 2, 10, 18, 22, 29 };
    size_t at = 0;
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        rd_exchange(rd, rd->tx + at, cuts[i] - at);
        model_add(&m, cuts[i] - at, cuts[i] >= 18 && at < 18 ? 1 : 0, 0, 0, 0, 0);
        at = cuts[i];
        if (!tern_refdev_in_frame(rd->dev))
            fail_msg("after %zu bytes of a 30-byte frame the receiver is not inside a frame", at);
        tern_refdev_idle(rd->dev, 10 + i);
        model_stall_rx(&m, 10 + i);
        char what[64];
        snprintf(what, sizeof what, "%zu idle cycles after %zu frame bytes", 10 + i, at);
        expect_counters(rd, &m, what);
    }
    int nr = rd_exchange(rd, rd->tx + at, n - at);
    if (nr != 1 || rd->rsp[0].status != TERN_ST_OK)
        fail_msg("the WRITE_MEM delivered in pieces: %d responses", nr);
    model_add(&m, n - at, 1, 8, 0, 0, 18);
    m.c[TERN_CNT_FRAMES_OK]++;
    expect_counters(rd, &m, "the WRITE_MEM delivered in pieces with stalls");
}

static void test_idle_after_first_magic_byte_is_stall_rx(void **state)
{
    struct rd *rd = *state;
    struct model m;
    model_take(&m, rd);
    const uint8_t a5 = 0xA5;
    rd_exchange(rd, &a5, 1);
    tern_refdev_idle(rd->dev, 6);
    model_add(&m, 1, 0, 0, 0, 0, 0);
    model_stall_rx(&m, 6);
    expect_counters(rd, &m, "6 idle cycles after a lone A5 (inside a frame after its first magic byte)");
}

/* ---- random streams ---- */

static void test_random_streams_match_model_and_invariants(void **state)
{
    struct rd *rd = *state;
    const struct tern_hwcfg *c = rd->cfg;
    fill_memories(rd, 5);
    struct prng p = prng_seed(0x5EEDu);
    uint8_t *data = malloc(c->max_payload);
    assert_non_null(data);
    struct model m;
    model_take(&m, rd);
    for (int step = 0; step < 600; step++) {
        uint32_t kind = prng_below(&p, 12);
        char what[96];
        snprintf(what, sizeof what, "random stream step %d (kind %u)", step, kind);
        switch (kind) {
        case 0:
            rd_expect_status(rd_cmd(rd, TERN_OP_PING, 0, NULL, 0), TERN_ST_OK, what);
            model_add(&m, 22, 3, 0, 0, 0, 98);
            m.c[TERN_CNT_FRAMES_OK]++;
            break;
        case 1: {
            uint32_t len = 1 + prng_below(&p, c->max_payload);
            prng_bytes(&p, data, len);
            uint32_t addr = TERN_AMEM_BASE + prng_below(&p, (uint32_t)rd->amem_bytes - len + 1);
            rd_expect_status(rd_cmd(rd, TERN_OP_WRITE_MEM, addr, data, len), TERN_ST_OK, what);
            model_add(&m, 22 + len, 2, len, 0, 0, 18);
            m.c[TERN_CNT_FRAMES_OK]++;
            break;
        }
        case 2: {
            uint32_t cnt = 1 + prng_below(&p, c->max_payload);
            uint8_t pl[4];
            unit_put_u32(pl, cnt);
            rd_expect_status(rd_cmd(rd, TERN_OP_READ_MEM, prng_below(&p, 64), pl, 4), TERN_ST_OK, what);
            model_add(&m, 26, 3, 0, 0, 0, 18 + cnt);
            m.c[TERN_CNT_FRAMES_OK]++;
            break;
        }
        case 3: {
            uint32_t n = 1 + prng_below(&p, 2 * c->lanes), k = 1 + prng_below(&p, 3 * c->width);
            uint32_t t = 1 + prng_below(&p, 3);
            rd_expect_status(rd_run(rd, prng_below(&p, 8), n, k, prng_below(&p, 8), t, prng_below(&p, 8),
                                    prng_below(&p, 2)),
                             TERN_ST_OK, what);
            model_add(&m, 50, 2, 0, (uint64_t)rd_nb(rd, n) * t * rd_kw(rd, k), c->run_setup + c->run_drain, 18);
            m.c[TERN_CNT_TERN_OPS] += (uint64_t)n * k * t;
            m.c[TERN_CNT_FRAMES_OK]++;
            break;
        }
        case 4: {
            rd_expect_status(rd_run(rd, c->wmem_words, 1, 1, 0, 1, 0, 0), TERN_ST_BAD_ADDR, what);
            model_add(&m, 50, 2, 0, 0, 0, 18);
            m.c[TERN_CNT_FRAMES_ERR]++;
            break;
        }
        case 5: {
            uint32_t g = 1 + prng_below(&p, 40);
            prng_bytes(&p, data, g);
            for (uint32_t i = 0; i < g; i++)
                if (data[i] == 0xA5)
                    data[i] = 0;
            rd_exchange(rd, data, g);
            model_add(&m, g, 0, 0, 0, 0, 0);
            break;
        }
        case 6:
            tern_refdev_idle(rd->dev, prng_below(&p, 50));
            break;
        case 7: { /* a READ_REG delivered in two pieces with a stall between */
            size_t n = tern_frame_cmd(rd->tx, rd->tx_cap, TERN_OP_READ_REG, rd->seq++, TERN_REG_SCRATCH, NULL, 0);
            size_t cut = 1 + prng_below(&p, (uint32_t)n - 1);
            uint32_t idle = prng_below(&p, 20);
            rd_exchange(rd, rd->tx, cut);
            tern_refdev_idle(rd->dev, idle);
            int nr = rd_exchange(rd, rd->tx + cut, n - cut);
            if (nr != 1 || rd->rsp[0].status != TERN_ST_OK)
                fail_msg("%s: READ_REG in two pieces got %d responses", what, nr);
            model_add(&m, 22, 3, 0, 0, 0, 22);
            model_stall_rx(&m, idle);
            m.c[TERN_CNT_FRAMES_OK]++;
            break;
        }
        case 8: { /* header with a bad hcrc: answered at once, its 4 pcrc zero bytes hunted */
            size_t n = tern_frame_cmd(rd->tx, rd->tx_cap, TERN_OP_READ_COUNTERS, rd->seq++, 0, NULL, 0);
            rd->tx[16] ^= 0x10;
            if (rd->tx[16] == 0xA5 || rd->tx[17] == 0xA5)
                rd->tx[17] ^= 0x01; /* the hcrc is wrong either way */
            int nr = rd_exchange(rd, rd->tx, n);
            if (nr != 1 || rd->rsp[0].status != TERN_ST_BAD_HCRC)
                fail_msg("%s: bad hcrc frame got %d responses", what, nr);
            model_add(&m, 18, 1, 0, 0, 0, 18);
            model_add(&m, 4, 0, 0, 0, 0, 0);
            m.c[TERN_CNT_FRAMES_ERR]++;
            break;
        }
        case 9: {
            rd_expect_status(rd_cmd(rd, TERN_OP_READ_COUNTERS, 0, NULL, 0), TERN_ST_OK, what);
            model_add(&m, 22, 3, 0, 0, 0, 138);
            m.c[TERN_CNT_FRAMES_OK]++;
            break;
        }
        case 10: { /* a write and its replay */
            uint16_t seq = rd->seq++;
            uint8_t pl[4];
            unit_put_u32(pl, (uint32_t)step);
            rd_expect_status(rd_cmd_seq(rd, TERN_OP_WRITE_REG, seq, TERN_REG_SCRATCH, pl, 4), TERN_ST_OK, what);
            rd_expect_status(rd_cmd_seq(rd, TERN_OP_WRITE_REG, seq, TERN_REG_SCRATCH, pl, 4), TERN_ST_OK, what);
            model_add(&m, 26, 3, 0, 0, 0, 18);
            model_add(&m, 26, 2, 0, 0, 0, 18);
            m.c[TERN_CNT_FRAMES_OK] += 2;
            break;
        }
        default: {
            uint32_t len = 1 + prng_below(&p, 64);
            prng_bytes(&p, data, len);
            rd_expect_status(rd_cmd(rd, TERN_OP_WRITE_MEM, TERN_WMEM_BASE + (uint32_t)rd->wmem_bytes - len + 1,
                                    data, len),
                             TERN_ST_BAD_ADDR, what);
            model_add(&m, 22 + len, 2, 0, 0, 0, 18);
            m.c[TERN_CNT_FRAMES_ERR]++;
            break;
        }
        }
        expect_invariants(rd, what);
        expect_counters(rd, &m, what);
    }
    free(data);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup_tiny, teardown)
    const struct CMUnitTest tests[] = {
        T(test_fresh_device_counters_are_zero),
        T(test_reset_keeps_only_its_response),
        T(test_reset_then_ping),
        T(test_write_mem_cost),
        T(test_read_mem_cost),
        T(test_register_access_cost),
        T(test_read_counters_reports_values_at_execute_cycle),
        T(test_run_cost),
        cmocka_unit_test(test_run_cost_on_default_config),
        T(test_illegal_code_run_cost),
        T(test_bad_hcrc_header_cost),
        T(test_bad_len_header_cost),
        T(test_refused_frames_cost),
        T(test_duplicate_replay_cost),
        T(test_garbage_bytes_are_rx_cycles),
        T(test_bytes_before_magic_are_rx_cycles),
        T(test_idle_in_hunt_counts_nothing),
        T(test_idle_inside_frame_is_stall_rx),
        T(test_idle_after_first_magic_byte_is_stall_rx),
        T(test_random_streams_match_model_and_invariants),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
