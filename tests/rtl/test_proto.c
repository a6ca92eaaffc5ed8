/* test_proto.c — the RTL's protocol, memories, RUN and counters through tern_top (tern_sim API),
 * checked against ARCHITECTURE.md sections 3-7. argv[1] names the configuration. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "rtl_util.h"

/* ---- helpers ------------------------------------------------------------------------------ */

/* A command frame with any header bytes: version and len as given, hcrc right unless bad_hcrc. */
static size_t raw_frame(uint8_t *buf, uint8_t version, uint8_t op, uint16_t seq, uint32_t addr, uint32_t len,
                        const uint8_t *payload, uint32_t plen, int bad_hcrc, int bad_pcrc)
{
    buf[0] = TERN_MAGIC0;
    buf[1] = TERN_CMD_MAGIC1;
    buf[2] = version;
    buf[3] = op;
    tern_put_u16(buf + 4, seq);
    tern_put_u16(buf + 6, 0);
    tern_put_u32(buf + 8, addr);
    tern_put_u32(buf + 12, len);
    tern_put_u16(buf + 16, (uint16_t)(tern_crc16(buf, 16) ^ (bad_hcrc ? 0x0100 : 0)));
    if (plen)
        memcpy(buf + 18, payload, plen);
    tern_put_u32(buf + 18 + plen, (plen ? tern_crc32(payload, plen) : 0) ^ (bad_pcrc ? 0x80u : 0));
    return 22 + (size_t)plen;
}

static void expect_status(struct dut *d, uint8_t op, uint32_t addr, const void *pl, uint32_t len, int st,
                          const char *what)
{
    int got = dut_cmd(d, op, addr, pl, len);
    if (got != st)
        fail_msg("%s: %s answered %s, expected %s", g_config, what, tern_status_name(got), tern_status_name(st));
    assert_int_equal(d->rsp.len, 0);
}

static uint32_t read_reg(struct dut *d, uint32_t idx)
{
    assert_int_equal(dut_cmd(d, TERN_OP_READ_REG, idx, NULL, 0), TERN_ST_OK);
    assert_int_equal(d->rsp.len, 4);
    return tern_get_u32(d->rsp.payload);
}

static void write_reg(struct dut *d, uint32_t idx, uint32_t v)
{
    uint8_t p[4];
    tern_put_u32(p, v);
    assert_int_equal(dut_cmd(d, TERN_OP_WRITE_REG, idx, p, 4), TERN_ST_OK);
}

static size_t wmem_bytes(const struct tern_hwcfg *c)
{
    return (size_t)c->wmem_words * c->lanes * c->width / 4;
}

static size_t amem_bytes(const struct tern_hwcfg *c)
{
    return (size_t)c->amem_words * c->width;
}

static size_t omem_bytes(const struct tern_hwcfg *c)
{
    return (size_t)c->omem_words * c->lanes * 4;
}

static size_t min_sz(size_t a, size_t b)
{
    return a < b ? a : b;
}

/* Whether a RUN of this shape fits the configuration's memories (section 5). */
static int run_fits(const struct tern_hwcfg *c, uint32_t n, uint32_t k, uint32_t t)
{
    const uint64_t nb = (n + c->lanes - 1) / c->lanes, kw = (k + c->width - 1) / c->width;
    return k <= c->max_k && nb * kw <= c->wmem_words && t * kw <= c->amem_words && t * nb <= c->omem_words;
}

/* ---- ID block and registers -------------------------------------------------------------- */

static void test_ping_returns_id_block(void **state)
{
    (void)state;
    struct dut *d = dut_open(g_config);
    const struct tern_hwcfg *c = d->cfg;
    uint8_t name[8] = {0};
    memcpy(name, c->name, strlen(c->name) > 8 ? 8 : strlen(c->name));
    const uint32_t want[TERN_NUM_ID_REGS] = {
        TERN_ID_MAGIC, (TERN_PROTO_VERSION << 16) | TERN_HW_REVISION, c->lanes, c->width, c->acc_width,
        c->max_k, c->wmem_words, c->amem_words, c->omem_words, c->max_payload, c->clock_hz, c->link_kind,
        c->link_bytes_per_s, c->run_setup, c->run_drain, TERN_NUM_COUNTERS, tern_get_u32(name),
        tern_get_u32(name + 4), 0 /* BACKEND: RTL */, 0};

    assert_int_equal(dut_cmd(d, TERN_OP_PING, 0, NULL, 0), TERN_ST_OK);
    assert_int_equal(d->rsp.len, 4 * TERN_NUM_ID_REGS);
    for (int i = 0; i < TERN_NUM_ID_REGS; i++)
        if (tern_get_u32(d->rsp.payload + 4 * i) != want[i])
            fail_msg("%s: ID register %d = 0x%08x, expected 0x%08x", g_config, i,
                     tern_get_u32(d->rsp.payload + 4 * i), want[i]);
    for (uint32_t i = 0; i < TERN_NUM_ID_REGS; i++)
        assert_int_equal(read_reg(d, i), want[i]);
    dut_close(d);
}

static void test_registers_scratch_errflags_reset(void **state)
{
    (void)state;
    struct dut *d = dut_open(g_config);
    uint8_t v[4];

    assert_int_equal(read_reg(d, TERN_REG_SCRATCH), 0);
    write_reg(d, TERN_REG_SCRATCH, 0xDEADBEEF);
    assert_int_equal(read_reg(d, TERN_REG_SCRATCH), 0xDEADBEEF);
    assert_int_equal(read_reg(d, TERN_REG_ERR_FLAGS), 0);
    write_reg(d, TERN_REG_ERR_FLAGS, 0xFFFFFFFF); /* W1C of nothing */
    assert_int_equal(read_reg(d, TERN_REG_ERR_FLAGS), 0);
    /* read-only ID registers and holes answer BAD_ADDR */
    tern_put_u32(v, 5);
    expect_status(d, TERN_OP_WRITE_REG, TERN_REG_LANES, v, 4, TERN_ST_BAD_ADDR, "WRITE_REG LANES");
    expect_status(d, TERN_OP_WRITE_REG, 20, v, 4, TERN_ST_BAD_ADDR, "WRITE_REG 20");
    expect_status(d, TERN_OP_READ_REG, 20, NULL, 0, TERN_ST_BAD_ADDR, "READ_REG 20");
    expect_status(d, TERN_OP_READ_REG, 31, NULL, 0, TERN_ST_BAD_ADDR, "READ_REG 31");
    expect_status(d, TERN_OP_READ_REG, 34, NULL, 0, TERN_ST_BAD_ADDR, "READ_REG 34");
    expect_status(d, TERN_OP_READ_REG, 0x80000000u, NULL, 0, TERN_ST_BAD_ADDR, "READ_REG 2^31");
    assert_int_equal(read_reg(d, TERN_REG_SCRATCH), 0xDEADBEEF);
    /* RESET clears SCRATCH (and the counters, tested below) */
    assert_int_equal(dut_cmd(d, TERN_OP_RESET, 0, NULL, 0), TERN_ST_OK);
    assert_int_equal(read_reg(d, TERN_REG_SCRATCH), 0);
    dut_close(d);
}

/* ---- the receiver ------------------------------------------------------------------------- */

static void test_garbage_before_frame_is_skipped(void **state)
{
    (void)state;
    struct dut *d = dut_open(g_config);
    uint8_t buf[512];
    size_t n = 0;
    struct prng p = prng_seed(11);

    for (int i = 0; i < 40; i++) { /* garbage with lone A5s, never A5 54 */
        uint8_t b = (uint8_t)prng_next(&p);
        if (b == 0x54)
            b = 0x55;
        buf[n++] = b;
        if (i % 9 == 0)
            buf[n++] = 0xA5;
    }
    n += tern_frame_cmd(buf + n, sizeof buf - n, TERN_OP_PING, 77, 0, NULL, 0);
    dut_raw(d, buf, n);
    dut_parse_one(d);
    assert_int_equal(d->rsp.status, TERN_ST_OK);
    assert_int_equal(d->rsp.seq, 77);

    uint64_t cnt[TERN_NUM_COUNTERS];
    dut_counters(d, cnt);
    assert_int_equal(cnt[TERN_CNT_BYTES_IN], n + 22);     /* garbage bytes are RX too */
    assert_int_equal(cnt[TERN_CNT_FRAMES_OK], 1);
    dut_close(d);
}

static void test_a5_a5_54_keeps_match_armed(void **state)
{
    (void)state;
    struct dut *d = dut_open(g_config);
    static const uint8_t pre[][4] = {{0xA5}, {0xA5, 0xA5}, {0xA5, 0xA5, 0xA5}, {0x54, 0xA5}, {0xA5, 0x00, 0xA5}};
    static const size_t pre_n[] = {1, 2, 3, 2, 3};

    for (size_t i = 0; i < sizeof pre_n / sizeof pre_n[0]; i++) {
        uint8_t buf[64];
        memcpy(buf, pre[i], pre_n[i]);
        size_t n = pre_n[i] + tern_frame_cmd(buf + pre_n[i], sizeof buf - pre_n[i], TERN_OP_PING,
                                             (uint16_t)(100 + i), 0, NULL, 0);
        dut_raw(d, buf, n);
        dut_parse_one(d);
        if (d->rsp.status != TERN_ST_OK || d->rsp.seq != 100 + i)
            fail_msg("%s: prefix %zu: status %d seq %d", g_config, i, d->rsp.status, d->rsp.seq);
    }
    dut_close(d);
}

static void test_bad_header_answered_at_once(void **state)
{
    (void)state;
    struct dut *d = dut_open(g_config);
    uint8_t buf[128], data[16];
    const uint32_t big = d->cfg->max_payload + 1;
    const uint32_t dlen = (uint32_t)min_sz(sizeof data, wmem_bytes(d->cfg));

    memset(data, 0x11, sizeof data);
    struct {
        uint8_t version;
        uint32_t len;
        uint32_t plen;
        int bad_hcrc;
        int status;
    } cases[] = {
        {1, dlen, dlen, 1, TERN_ST_BAD_HCRC},
        {2, dlen, dlen, 0, TERN_ST_BAD_VERSION},
        {0, 0, 0, 0, TERN_ST_BAD_VERSION},
        {1, 0, 0, 1, TERN_ST_BAD_HCRC},
        {1, big, 0, 0, TERN_ST_BAD_LEN},
        {1, 0xFFFFFFFFu, 0, 0, TERN_ST_BAD_LEN},
        {2, big, 0, 1, TERN_ST_BAD_HCRC}, /* hcrc is checked first, then version, then len */
        {2, big, 0, 0, TERN_ST_BAD_VERSION},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint16_t seq = (uint16_t)(0x1234 + i);
        size_t n = raw_frame(buf, cases[i].version, TERN_OP_WRITE_MEM, seq, 0, cases[i].len, data, cases[i].plen,
                             cases[i].bad_hcrc, 0);
        /* the header alone draws the answer: 18 RX + 1 CTRL, then the response */
        uint64_t c0 = tern_sim_cycles(d->sim);
        tern_sim_push(d->sim, buf, 18);
        assert_int_equal(tern_sim_run_until_quiet(d->sim, 1000), TERN_OK);
        assert_int_equal(tern_sim_cycles(d->sim) - c0, 18 + 1 + 18);
        d->rx_len = tern_sim_pull(d->sim, d->rx, d->rx_cap);
        dut_parse_one(d);
        if (d->rsp.status != cases[i].status)
            fail_msg("%s: case %zu answered %s", g_config, i, tern_status_name(d->rsp.status));
        assert_int_equal(d->rsp.opcode, TERN_OP_WRITE_MEM);
        assert_int_equal(d->rsp.seq, seq);
        assert_int_equal(d->rsp.len, 0);
        /* the rest of the frame is hunted through as garbage: no response */
        dut_raw(d, buf + 18, n - 18);
        assert_int_equal(d->rx_len, 0);
    }
    /* nothing was written */
    uint8_t back[16];
    dut_read_mem(d, 0, back, dlen);
    for (size_t i = 0; i < dlen; i++)
        assert_int_not_equal(back[i], 0x11);
    dut_close(d);
}

static void test_bad_pcrc_changes_nothing(void **state)
{
    (void)state;
    struct dut *d = dut_open(g_config);
    uint8_t buf[128], data[32], back[32], v[4];

    const uint32_t dlen = (uint32_t)min_sz(sizeof data, wmem_bytes(d->cfg));
    memset(data, 0x5A, sizeof data);
    size_t n = raw_frame(buf, 1, TERN_OP_WRITE_MEM, 9, 0, dlen, data, dlen, 0, 1);
    dut_raw(d, buf, n);
    dut_parse_one(d);
    assert_int_equal(d->rsp.status, TERN_ST_BAD_PCRC);
    assert_int_equal(d->rsp.seq, 9);
    dut_read_mem(d, 0, back, dlen);
    for (size_t i = 0; i < dlen; i++)
        assert_int_not_equal(back[i], 0x5A);

    tern_put_u32(v, 0x600D);
    n = raw_frame(buf, 1, TERN_OP_WRITE_REG, 10, TERN_REG_SCRATCH, 4, v, 4, 0, 1);
    dut_raw(d, buf, n);
    dut_parse_one(d);
    assert_int_equal(d->rsp.status, TERN_ST_BAD_PCRC);
    assert_int_equal(read_reg(d, TERN_REG_SCRATCH), 0);
    dut_close(d);
}

static void test_unknown_opcode(void **state)
{
    (void)state;
    struct dut *d = dut_open(g_config);
    static const uint8_t ops[] = {0x00, 0x09, 0x10, 0x7F, 0xFF};
    for (size_t i = 0; i < sizeof ops; i++)
        expect_status(d, ops[i], 0, NULL, 0, TERN_ST_BAD_OPCODE, "unknown opcode");
    uint8_t p[8] = {0};
    expect_status(d, 0x42, 0, p, 8, TERN_ST_BAD_OPCODE, "unknown opcode with payload");
    dut_close(d);
}

static void test_length_and_address_checks(void **state)
{
    (void)state;
    struct dut *d = dut_open(g_config);
    const struct tern_hwcfg *c = d->cfg;
    uint8_t p[32] = {0}, cnt[4];

    expect_status(d, TERN_OP_PING, 0, p, 4, TERN_ST_BAD_LEN, "PING len 4");
    expect_status(d, TERN_OP_PING, 1, NULL, 0, TERN_ST_BAD_ADDR, "PING addr 1");
    expect_status(d, TERN_OP_READ_COUNTERS, 0, p, 1, TERN_ST_BAD_LEN, "READ_COUNTERS len 1");
    expect_status(d, TERN_OP_RESET, 8, NULL, 0, TERN_ST_BAD_ADDR, "RESET addr 8");
    expect_status(d, TERN_OP_READ_REG, 0, p, 4, TERN_ST_BAD_LEN, "READ_REG len 4");
    expect_status(d, TERN_OP_WRITE_REG, TERN_REG_SCRATCH, p, 3, TERN_ST_BAD_LEN, "WRITE_REG len 3");
    expect_status(d, TERN_OP_WRITE_MEM, 0, NULL, 0, TERN_ST_BAD_LEN, "WRITE_MEM len 0");
    expect_status(d, TERN_OP_READ_MEM, 0, p, 8, TERN_ST_BAD_LEN, "READ_MEM len 8");
    expect_status(d, TERN_OP_RUN, 0, p, 24, TERN_ST_BAD_LEN, "RUN len 24");
    expect_status(d, TERN_OP_PING, 3, p, 4, TERN_ST_BAD_LEN, "PING: len before addr");

    /* memory regions */
    const uint32_t wend = (uint32_t)wmem_bytes(c), aend = TERN_AMEM_BASE + (uint32_t)amem_bytes(c);
    const uint32_t oend = TERN_OMEM_BASE + (uint32_t)omem_bytes(c);
    expect_status(d, TERN_OP_WRITE_MEM, wend - 1, p, 2, TERN_ST_BAD_ADDR, "WRITE_MEM over WMEM end");
    expect_status(d, TERN_OP_WRITE_MEM, wend, p, 1, TERN_ST_BAD_ADDR, "WRITE_MEM past WMEM");
    expect_status(d, TERN_OP_WRITE_MEM, aend - 3, p, 4, TERN_ST_BAD_ADDR, "WRITE_MEM over AMEM end");
    expect_status(d, TERN_OP_WRITE_MEM, TERN_AMEM_BASE - 1, p, 2, TERN_ST_BAD_ADDR, "WRITE_MEM across AMEM base");
    expect_status(d, TERN_OP_WRITE_MEM, TERN_OMEM_BASE, p, 4, TERN_ST_BAD_ADDR, "WRITE_MEM into OMEM");
    expect_status(d, TERN_OP_WRITE_MEM, 0xC0000000u, p, 4, TERN_ST_BAD_ADDR, "WRITE_MEM at 0xC0000000");
    expect_status(d, TERN_OP_WRITE_MEM, 0xFFFFFFFFu, p, 4, TERN_ST_BAD_ADDR, "WRITE_MEM at 2^32-1");
    tern_put_u32(cnt, 0);
    expect_status(d, TERN_OP_READ_MEM, 0, cnt, 4, TERN_ST_BAD_LEN, "READ_MEM count 0");
    tern_put_u32(cnt, c->max_payload + 1);
    expect_status(d, TERN_OP_READ_MEM, 0, cnt, 4, TERN_ST_BAD_LEN, "READ_MEM count > max_payload");
    tern_put_u32(cnt, 2);
    expect_status(d, TERN_OP_READ_MEM, wend - 1, cnt, 4, TERN_ST_BAD_ADDR, "READ_MEM over WMEM end");
    expect_status(d, TERN_OP_READ_MEM, aend - 1, cnt, 4, TERN_ST_BAD_ADDR, "READ_MEM over AMEM end");
    tern_put_u32(cnt, 4);
    expect_status(d, TERN_OP_READ_MEM, oend, cnt, 4, TERN_ST_BAD_ADDR, "READ_MEM past OMEM");
    expect_status(d, TERN_OP_READ_MEM, TERN_OMEM_BASE + 2, cnt, 4, TERN_ST_BAD_ADDR, "READ_MEM OMEM unaligned addr");
    tern_put_u32(cnt, 6);
    expect_status(d, TERN_OP_READ_MEM, TERN_OMEM_BASE, cnt, 4, TERN_ST_BAD_ADDR, "READ_MEM OMEM unaligned count");
    tern_put_u32(cnt, 1);
    assert_int_equal(dut_cmd(d, TERN_OP_READ_MEM, wend - 1, cnt, 4), TERN_ST_OK);
    assert_int_equal(dut_cmd(d, TERN_OP_READ_MEM, aend - 1, cnt, 4), TERN_ST_OK);
    tern_put_u32(cnt, 4);
    assert_int_equal(dut_cmd(d, TERN_OP_READ_MEM, oend - 4, cnt, 4), TERN_ST_OK);

    /* RUN shapes (section 5) */
    const uint32_t L = c->lanes, W = c->width;
    struct {
        uint32_t r[7];
        int st;
        const char *what;
    } runs[] = {
        {{0, 1, 1, 0, 1, 0, 0}, TERN_ST_OK, "1x1x1"},
        {{0, 0, 1, 0, 1, 0, 0}, TERN_ST_BAD_ADDR, "n = 0"},
        {{0, 1, 0, 0, 1, 0, 0}, TERN_ST_BAD_ADDR, "k = 0"},
        {{0, 1, 1, 0, 0, 0, 0}, TERN_ST_BAD_ADDR, "t = 0"},
        {{0, 1, c->max_k + 1, 0, 1, 0, 0}, TERN_ST_BAD_ADDR, "k > max_k"},
        {{0, 1, 1, 0, 1, 0, 2}, TERN_ST_BAD_ADDR, "flags = 2"},
        {{0, 1, 1, 0, 1, 0, 0x80000001u}, TERN_ST_BAD_ADDR, "flags bit 31"},
        {{c->wmem_words - 1, L, W, 0, 1, 0, 0}, TERN_ST_OK, "last WMEM word"},
        {{c->wmem_words - 1, L, W + 1, 0, 1, 0, 0}, TERN_ST_BAD_ADDR, "WMEM overrun by KW"},
        {{c->wmem_words - 1, L + 1, W, 0, 1, 0, 0}, TERN_ST_BAD_ADDR, "WMEM overrun by NB"},
        {{c->wmem_words, 1, 1, 0, 1, 0, 0}, TERN_ST_BAD_ADDR, "wbase = wmem_words"},
        {{0xFFFFFFFFu, 1, 1, 0, 1, 0, 0}, TERN_ST_BAD_ADDR, "wbase 2^32-1"},
        {{0, 1, 1, c->amem_words - 1, 1, 0, 0}, TERN_ST_OK, "last AMEM word"},
        {{0, 1, 1, c->amem_words - 1, 2, 0, 0}, TERN_ST_BAD_ADDR, "AMEM overrun by t"},
        {{0, 1, W + 1, c->amem_words - 1, 1, 0, 0}, TERN_ST_BAD_ADDR, "AMEM overrun by KW"},
        {{0, 1, 1, 0xFFFFFFFFu, 1, 0, 0}, TERN_ST_BAD_ADDR, "abase 2^32-1"},
        {{0, 1, 1, 0, 1, c->omem_words - 1, 0}, TERN_ST_OK, "last OMEM word"},
        {{0, 1, 1, 0, 2, c->omem_words - 1, 0}, TERN_ST_BAD_ADDR, "OMEM overrun by t"},
        {{0, L + 1, 1, 0, 1, c->omem_words - 1, 0}, TERN_ST_BAD_ADDR, "OMEM overrun by NB"},
        {{0, 1, 1, 0, 1, 0xFFFFFFFFu, 0}, TERN_ST_BAD_ADDR, "obase 2^32-1"},
        {{0, 0xFFFFFFFFu, 1, 0, 1, 0, 0}, TERN_ST_BAD_ADDR, "n 2^32-1"},
        {{0, 1, 1, 0, 0xFFFFFFFFu, 0, 0}, TERN_ST_BAD_ADDR, "t 2^32-1"},
        {{0, 0x10000u * L, 0x10000u, 0, 1, 0, 0}, TERN_ST_BAD_ADDR, "NB*KW = 2^32 (no 32-bit wrap)"},
        {{0, 1, c->amem_words * W, 0, 1, 0, 0},
         run_fits(c, 1, c->amem_words * W, 1) ? TERN_ST_OK : TERN_ST_BAD_ADDR, "all of AMEM as one token"},
    };
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
        uint8_t pl[28];
        for (int j = 0; j < 7; j++)
            tern_put_u32(pl + 4 * j, runs[i].r[j]);
        expect_status(d, TERN_OP_RUN, 0, pl, 28, runs[i].st, runs[i].what);
    }
    dut_close(d);
}

/* ---- memories ----------------------------------------------------------------------------- */

static void test_write_read_mem_round_trip(void **state)
{
    (void)state;
    struct dut *d = dut_open(g_config);
    const struct tern_hwcfg *c = d->cfg;
    struct prng p = prng_seed(5);
    const size_t wb = wmem_bytes(c), ab = amem_bytes(c);
    const size_t max = c->max_payload;
    uint8_t *data = malloc(max), *back = malloc(max);
    assert_non_null(data);
    assert_non_null(back);

    for (int i = 0; i < 24; i++) {
        const int amem = i & 1;
        const size_t size = amem ? ab : wb;
        size_t len = 1 + prng_below(&p, (uint32_t)(max < size ? max : size));
        size_t off = prng_below(&p, (uint32_t)(size - len + 1));
        if (i == 2)
            off = size - len; /* up to the last byte */
        if (i == 4)
            len = 1;
        const uint32_t base = amem ? TERN_AMEM_BASE : TERN_WMEM_BASE;
        prng_bytes(&p, data, len);
        dut_write_mem(d, base + (uint32_t)off, data, len);
        /* read back from a random start inside what was written */
        size_t s = prng_below(&p, (uint32_t)len);
        dut_read_mem(d, base + (uint32_t)(off + s), back, len - s);
        if (memcmp(back, data + s, len - s) != 0)
            fail_msg("%s: %s round trip at %zu+%zu, %zu bytes", g_config, amem ? "AMEM" : "WMEM", off, s, len - s);
    }
    free(data);
    free(back);
    dut_close(d);
}

/* ---- RUN ---------------------------------------------------------------------------------- */

struct mat {
    uint32_t n, k;
    uint8_t *code; /* [n][k] codes 0, 1, 3 (2 = illegal) */
};

/* Store codes[n][k] at WMEM word wbase in the hardware layout (section 3), padding as given. */
static void upload_weights(struct dut *d, const struct mat *m, uint32_t wbase, unsigned pad_code)
{
    const uint32_t L = d->cfg->lanes, W = d->cfg->width;
    const uint32_t nb = (m->n + L - 1) / L, kw = (m->k + W - 1) / W, bpw = L * W / 4;
    uint8_t *img = calloc((size_t)nb * kw, bpw);
    assert_non_null(img);
    for (uint32_t b = 0; b < nb; b++)
        for (uint32_t j = 0; j < kw; j++)
            for (uint32_t l = 0; l < L; l++)
                for (uint32_t e = 0; e < W; e++) {
                    uint32_t r = b * L + l, col = j * W + e;
                    unsigned code = (r < m->n && col < m->k) ? m->code[(size_t)r * m->k + col] : pad_code;
                    size_t bit = 2 * ((size_t)l * W + e);
                    img[((size_t)b * kw + j) * bpw + bit / 8] |= (uint8_t)(code << (bit % 8));
                }
    dut_write_mem(d, TERN_WMEM_BASE + wbase * bpw, img, (size_t)nb * kw * bpw);
    free(img);
}

/* Store act[t][k] at AMEM word abase (token rows of KW words, padding as given). */
static void upload_acts(struct dut *d, const int8_t *act, uint32_t t, uint32_t k, uint32_t abase, int8_t pad)
{
    const uint32_t W = d->cfg->width, kw = (k + W - 1) / W;
    uint8_t *img = malloc((size_t)t * kw * W);
    assert_non_null(img);
    for (uint32_t i = 0; i < t; i++)
        for (uint32_t c = 0; c < kw * W; c++)
            img[(size_t)i * kw * W + c] = (uint8_t)(c < k ? act[(size_t)i * k + c] : pad);
    dut_write_mem(d, TERN_AMEM_BASE + abase * W, img, (size_t)t * kw * W);
    free(img);
}

static int32_t wrap(int64_t v, uint32_t a)
{
    uint64_t m = (1ull << a) - 1, s = 1ull << (a - 1);
    return (int32_t)(int64_t)((((uint64_t)v & m) ^ s) - s);
}

/* The scalar oracle of section 5; prev holds the OMEM entries before the RUN (accumulate). */
static void oracle(const struct tern_hwcfg *c, const struct mat *m, const int8_t *act, uint32_t t, int accumulate,
                   const int32_t *prev, int32_t *out /* [t][nb*L] */)
{
    const uint32_t L = c->lanes, nb = (m->n + L - 1) / L;
    for (uint32_t i = 0; i < t; i++)
        for (uint32_t r = 0; r < nb * L; r++) {
            int64_t acc = 0;
            if (r < m->n)
                for (uint32_t col = 0; col < m->k; col++) {
                    unsigned code = m->code[(size_t)r * m->k + col];
                    int a = act[(size_t)i * m->k + col];
                    acc += code == 1 ? a : code == 3 ? -a : 0;
                }
            size_t e = (size_t)i * nb * L + r;
            out[e] = r < m->n ? wrap((accumulate ? prev[e] : 0) + acc, c->acc_width) : 0;
        }
}

static void read_out(struct dut *d, uint32_t obase, uint32_t entries, int32_t *out)
{
    uint8_t *raw = malloc((size_t)entries * 4);
    assert_non_null(raw);
    dut_read_mem(d, TERN_OMEM_BASE + obase * d->cfg->lanes * 4, raw, (size_t)entries * 4);
    for (uint32_t i = 0; i < entries; i++)
        out[i] = (int32_t)tern_get_u32(raw + 4 * i);
    free(raw);
}

static int do_run(struct dut *d, uint32_t wbase, uint32_t n, uint32_t k, uint32_t abase, uint32_t t, uint32_t obase,
                  uint32_t flags)
{
    uint8_t pl[28];
    const uint32_t r[7] = {wbase, n, k, abase, t, obase, flags};
    for (int j = 0; j < 7; j++)
        tern_put_u32(pl + 4 * j, r[j]);
    return dut_cmd(d, TERN_OP_RUN, 0, pl, 28);
}

/* One RUN of random data checked entry by entry against the oracle, then an accumulating one. */
static void check_run(struct dut *d, struct prng *p, uint32_t n, uint32_t k, uint32_t t, int edge_acts)
{
    const struct tern_hwcfg *c = d->cfg;
    const uint32_t L = c->lanes, W = c->width, nb = (n + L - 1) / L, kw = (k + W - 1) / W;
    const uint32_t wbase = c->wmem_words - nb * kw, abase = c->amem_words - t * kw;
    const uint32_t obase = (uint32_t)prng_below(p, c->omem_words - t * nb + 1);
    const uint32_t entries = t * nb * L;
    struct mat m = {n, k, malloc((size_t)n * k)};
    int8_t *act = malloc((size_t)t * k);
    int32_t *prev = calloc(entries, 4), *want = malloc((size_t)entries * 4), *got = malloc((size_t)entries * 4);
    assert_true(m.code && act && prev && want && got);

    for (size_t i = 0; i < (size_t)n * k; i++)
        m.code[i] = (uint8_t)prng_code(p);
    for (size_t i = 0; i < (size_t)t * k; i++)
        act[i] = edge_acts ? (int8_t)(prng_below(p, 2) ? -128 : 127) : (int8_t)prng_next(p);
    if (edge_acts) /* the extreme sums: every weight against the sign of its activation */
        for (uint32_t r = 0; r < n; r++)
            for (uint32_t col = 0; col < k; col++)
                m.code[(size_t)r * k + col] = (uint8_t)(r % 2 ? (act[col] < 0 ? 3 : 1) : (act[col] < 0 ? 1 : 3));
    upload_weights(d, &m, wbase, 2 /* illegal codes in the padding are ignored */);
    upload_acts(d, act, t, k, abase, -128);

    assert_int_equal(do_run(d, wbase, n, k, abase, t, obase, 0), TERN_ST_OK);
    oracle(c, &m, act, t, 0, prev, want);
    read_out(d, obase, entries, got);
    for (uint32_t i = 0; i < entries; i++)
        if (got[i] != want[i])
            fail_msg("%s: RUN n=%u k=%u t=%u: entry %u = %d, expected %d", g_config, n, k, t, i, got[i], want[i]);

    memcpy(prev, got, (size_t)entries * 4);
    assert_int_equal(do_run(d, wbase, n, k, abase, t, obase, TERN_RUN_FLAG_ACCUMULATE), TERN_ST_OK);
    oracle(c, &m, act, t, 1, prev, want);
    read_out(d, obase, entries, got);
    for (uint32_t i = 0; i < entries; i++)
        if (got[i] != want[i])
            fail_msg("%s: accumulating RUN n=%u k=%u t=%u: entry %u = %d, expected %d", g_config, n, k, t, i,
                     got[i], want[i]);
    free(m.code);
    free(act);
    free(prev);
    free(want);
    free(got);
}

static void test_run_matches_scalar_oracle(void **state)
{
    (void)state;
    struct dut *d = dut_open(g_config);
    const uint32_t L = d->cfg->lanes, W = d->cfg->width;
    struct prng p = prng_seed(3);
    const uint32_t shapes[][3] = {
        {1, 1, 1}, {L, W, 1}, {L + 1, W + 1, 2}, {2 * L - 1, 3 * W - 1, 3}, {3, 2 * W, 1}, {L * 2, 1, 4},
        {5, 37, 2},
    };
    int ran = 0;
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        if (run_fits(d->cfg, shapes[i][0], shapes[i][1], shapes[i][2])) {
            check_run(d, &p, shapes[i][0], shapes[i][1], shapes[i][2], 0);
            ran++;
        }
    if (run_fits(d->cfg, L + 3, 4 * W + 3, 2))
        check_run(d, &p, L + 3, 4 * W + 3, 2, 1);
    else
        check_run(d, &p, L, d->cfg->max_k < W ? d->cfg->max_k : W, 1, 1);
    assert_true(ran >= 2);
    dut_close(d);
}

static void test_run_illegal_code_reported(void **state)
{
    (void)state;
    struct dut *d = dut_open(g_config);
    const struct tern_hwcfg *c = d->cfg;
    const uint32_t L = c->lanes, W = c->width;
    const int two = run_fits(c, L + 1, W + 3, 1);   /* two row blocks and two column words if they fit */
    const uint32_t n = two ? L + 1 : L, k = two ? W + 3 : W - 1, last_row = two ? L : L - 1;
    struct mat m = {n, k, calloc((size_t)n * k, 1)};
    int8_t *act = malloc(k);
    int32_t *got = malloc((size_t)2 * L * 4), *want = malloc((size_t)2 * L * 4), prev[1] = {0};
    assert_true(m.code && act && got && want);
    for (uint32_t i = 0; i < k; i++)
        act[i] = (int8_t)(i * 7 - 50);
    for (size_t i = 0; i < (size_t)n * k; i++)
        m.code[i] = (uint8_t)(i % 3 == 0 ? 1 : i % 3 == 1 ? 3 : 0);

    /* illegal codes only in the padding: OK */
    upload_weights(d, &m, 0, 2);
    upload_acts(d, act, 1, k, 0, 0);
    assert_int_equal(do_run(d, 0, n, k, 0, 1, 0, 0), TERN_ST_OK);
    assert_int_equal(read_reg(d, TERN_REG_ERR_FLAGS), 0);

    /* one illegal code in a real element: counted as 0, answered ILLEGAL_CODE, sticky flag */
    m.code[(size_t)last_row * k + k - 1] = 2; /* the last real row and column */
    upload_weights(d, &m, 0, 2);
    assert_int_equal(do_run(d, 0, n, k, 0, 1, 0, 0), TERN_ST_ILLEGAL_CODE);
    m.code[(size_t)last_row * k + k - 1] = 0;
    oracle(c, &m, act, 1, 0, prev, want);
    read_out(d, 0, (two ? 2 : 1) * L, got);
    assert_memory_equal(got, want, (size_t)(two ? 2 : 1) * L * 4);
    assert_int_equal(read_reg(d, TERN_REG_ERR_FLAGS), TERN_ERR_ILLEGAL_CODE);
    uint64_t cnt[TERN_NUM_COUNTERS];
    dut_counters(d, cnt);
    assert_int_equal(cnt[TERN_CNT_ILLEGAL_RUNS], 1);
    write_reg(d, TERN_REG_ERR_FLAGS, ~TERN_ERR_ILLEGAL_CODE); /* writing 0 to the bit keeps it */
    assert_int_equal(read_reg(d, TERN_REG_ERR_FLAGS), TERN_ERR_ILLEGAL_CODE);
    write_reg(d, TERN_REG_ERR_FLAGS, TERN_ERR_ILLEGAL_CODE); /* write 1 to clear */
    assert_int_equal(read_reg(d, TERN_REG_ERR_FLAGS), 0);
    free(m.code);
    free(act);
    free(got);
    free(want);
    dut_close(d);
}

/* ---- the duplicate rule ------------------------------------------------------------------- */

static void test_duplicate_not_executed_twice(void **state)
{
    (void)state;
    struct dut *d = dut_open(g_config);
    uint8_t buf[64], v[4];

    tern_put_u32(v, 1111);
    size_t n = tern_frame_cmd(buf, sizeof buf, TERN_OP_WRITE_REG, 500, TERN_REG_SCRATCH, v, 4);
    dut_raw(d, buf, n);
    dut_parse_one(d);
    assert_int_equal(d->rsp.status, TERN_ST_OK);
    /* a retry (same seq and opcode) with another value is answered OK and not executed */
    tern_put_u32(v, 2222);
    n = tern_frame_cmd(buf, sizeof buf, TERN_OP_WRITE_REG, 500, TERN_REG_SCRATCH, v, 4);
    uint64_t c0 = tern_sim_cycles(d->sim);
    dut_raw(d, buf, n);
    assert_int_equal(tern_sim_cycles(d->sim) - c0, 26 + 2 + 18); /* (22+len) RX + 2 CTRL + 18 TX */
    dut_parse_one(d);
    assert_int_equal(d->rsp.status, TERN_ST_OK);
    d->seq = 600;
    assert_int_equal(read_reg(d, TERN_REG_SCRATCH), 1111);
    /* the same seq again after another frame is a new command */
    n = tern_frame_cmd(buf, sizeof buf, TERN_OP_WRITE_REG, 500, TERN_REG_SCRATCH, v, 4);
    dut_raw(d, buf, n);
    dut_parse_one(d);
    assert_int_equal(read_reg(d, TERN_REG_SCRATCH), 2222);
    /* a refused command is replayed with its status */
    n = tern_frame_cmd(buf, sizeof buf, TERN_OP_WRITE_REG, 700, 5, v, 4);
    dut_raw(d, buf, n);
    dut_parse_one(d);
    assert_int_equal(d->rsp.status, TERN_ST_BAD_ADDR);
    dut_raw(d, buf, n);
    dut_parse_one(d);
    assert_int_equal(d->rsp.status, TERN_ST_BAD_ADDR);
    /* reads are executed again */
    n = tern_frame_cmd(buf, sizeof buf, TERN_OP_READ_REG, 800, TERN_REG_SCRATCH, NULL, 0);
    dut_raw(d, buf, n);
    dut_parse_one(d);
    assert_int_equal(tern_get_u32(d->rsp.payload), 2222);
    dut_raw(d, buf, n);
    dut_parse_one(d);
    assert_int_equal(d->rsp.len, 4);
    assert_int_equal(tern_get_u32(d->rsp.payload), 2222);
    dut_close(d);
}

/* ---- the cycle model and the counters (section 7) ----------------------------------------- */

static void test_counters_ping(void **state)
{
    (void)state;
    struct dut *d = dut_open(g_config);
    uint64_t cnt[TERN_NUM_COUNTERS];

    assert_int_equal(dut_cmd(d, TERN_OP_RESET, 0, NULL, 0), TERN_ST_OK);
    /* the first response byte is offered on the cycle after the third CTRL cycle */
    uint8_t buf[32];
    size_t n = tern_frame_cmd(buf, sizeof buf, TERN_OP_PING, d->seq++, 0, NULL, 0);
    tern_sim_push(d->sim, buf, n);
    tern_sim_step(d->sim, 22 + 3);
    assert_int_equal(tern_sim_pull(d->sim, d->rx, d->rx_cap), 0);
    tern_sim_step(d->sim, 1);
    assert_int_equal(tern_sim_pull(d->sim, d->rx, d->rx_cap), 1);
    assert_int_equal(tern_sim_run_until_quiet(d->sim, 1000), TERN_OK);
    assert_int_equal(tern_sim_pull(d->sim, d->rx, d->rx_cap), 97);

    dut_counters(d, cnt);
    /* RESET's response (18 TX), PING (22 RX + 3 CTRL + 98 TX), READ_COUNTERS up to its execute
     * cycle (22 RX + 2 CTRL) */
    const uint64_t want[TERN_NUM_COUNTERS] = {
        [TERN_CNT_CYCLES] = 44 + 116 + 5, [TERN_CNT_CYC_RX] = 44, [TERN_CNT_CYC_TX] = 116,
        [TERN_CNT_CYC_CTRL] = 5,          [TERN_CNT_BYTES_IN] = 44, [TERN_CNT_BYTES_OUT] = 116,
        [TERN_CNT_FRAMES_OK] = 2,
    };
    for (int i = 0; i < TERN_NUM_COUNTERS; i++)
        if (cnt[i] != want[i])
            fail_msg("%s: counter %s = %llu, expected %llu", g_config, tern_counter_name(i),
                     (unsigned long long)cnt[i], (unsigned long long)want[i]);
    dut_close(d);
}

static void test_counters_run(void **state)
{
    (void)state;
    struct dut *d = dut_open(g_config);
    const struct tern_hwcfg *c = d->cfg;
    const uint32_t L = c->lanes, W = c->width;
    uint32_t n = 2 * L + 1, k = 3 * W - 2, t = 2;
    if (!run_fits(c, n, k, t)) { /* the smallest configurations */
        n = L;
        k = W - 1;
        t = 1;
    }
    const uint32_t nb = (n + L - 1) / L, kw = (k + W - 1) / W;
    const uint64_t compute = (uint64_t)nb * t * kw, pipe = c->run_setup + c->run_drain;
    uint64_t cnt[TERN_NUM_COUNTERS];

    assert_int_equal(dut_cmd(d, TERN_OP_RESET, 0, NULL, 0), TERN_ST_OK);
    uint64_t c0 = tern_sim_cycles(d->sim);
    assert_int_equal(do_run(d, 0, n, k, 0, t, 0, 0), TERN_ST_OK);
    assert_int_equal(tern_sim_cycles(d->sim) - c0, 50 + 2 + pipe + compute + 18);
    dut_counters(d, cnt);
    const uint64_t want[TERN_NUM_COUNTERS] = {
        [TERN_CNT_CYCLES] = 18 + 50 + 2 + pipe + compute + 18 + 22 + 2,
        [TERN_CNT_CYC_RX] = 50 + 22,
        [TERN_CNT_CYC_TX] = 18 + 18,
        [TERN_CNT_CYC_CTRL] = 2 + 2,
        [TERN_CNT_CYC_COMPUTE] = compute,
        [TERN_CNT_CYC_PIPE] = pipe,
        [TERN_CNT_TERN_OPS] = (uint64_t)n * k * t,
        [TERN_CNT_BYTES_IN] = 50 + 22,
        [TERN_CNT_BYTES_OUT] = 18 + 18,
        [TERN_CNT_FRAMES_OK] = 2,
    };
    for (int i = 0; i < TERN_NUM_COUNTERS; i++)
        if (cnt[i] != want[i])
            fail_msg("%s: counter %s = %llu, expected %llu", g_config, tern_counter_name(i),
                     (unsigned long long)cnt[i], (unsigned long long)want[i]);
    dut_close(d);
}

static void test_counters_stalls_and_idle(void **state)
{
    (void)state;
    struct dut *d = dut_open(g_config);
    uint64_t cnt[TERN_NUM_COUNTERS];
    uint8_t buf[64], v[4];

    assert_int_equal(dut_cmd(d, TERN_OP_RESET, 0, NULL, 0), TERN_ST_OK);
    tern_sim_idle(d->sim, 100); /* idle in HUNT: not counted */
    tern_put_u32(v, 7);
    size_t n = tern_frame_cmd(buf, sizeof buf, TERN_OP_WRITE_REG, d->seq++, TERN_REG_SCRATCH, v, 4);
    const size_t cuts[] = {1, 9, 20, 24};   /* after the first magic byte, in the header, payload, pcrc */
    const uint64_t gaps[] = {3, 5, 7, 11};
    size_t at = 0;
    for (size_t i = 0; i < 4; i++) {
        tern_sim_push(d->sim, buf + at, cuts[i] - at);
        while (tern_sim_pending_in(d->sim))
            tern_sim_step(d->sim, 1);
        tern_sim_idle(d->sim, gaps[i]);
        at = cuts[i];
    }
    dut_raw(d, buf + at, n - at);
    dut_parse_one(d);
    assert_int_equal(d->rsp.status, TERN_ST_OK);
    /* a lone A5 arms the receiver: waiting after it is STALL_RX */
    const uint8_t a5 = 0xA5;
    tern_sim_push(d->sim, &a5, 1);
    tern_sim_step(d->sim, 1);
    tern_sim_idle(d->sim, 13);
    dut_counters(d, cnt);
    assert_int_equal(cnt[TERN_CNT_CYC_STALL_RX], 3 + 5 + 7 + 11 + 13);
    assert_int_equal(cnt[TERN_CNT_CYC_RX], 26 + 1 + 22);
    assert_int_equal(cnt[TERN_CNT_CYC_CTRL], 3 + 2);
    assert_int_equal(cnt[TERN_CNT_CYCLES], 18 + 26 + 3 + 18 + 1 + 22 + 2 + 3 + 5 + 7 + 11 + 13);
    assert_int_equal(cnt[TERN_CNT_CYC_STALL_TX], 0);
    dut_close(d);
}

static void test_reset_zeroes_counters(void **state)
{
    (void)state;
    struct dut *d = dut_open(g_config);
    uint64_t cnt[TERN_NUM_COUNTERS];

    assert_int_equal(dut_cmd(d, TERN_OP_PING, 0, NULL, 0), TERN_ST_OK);
    expect_status(d, 0x33, 0, NULL, 0, TERN_ST_BAD_OPCODE, "bad opcode");
    assert_int_equal(dut_cmd(d, TERN_OP_RESET, 0, NULL, 0), TERN_ST_OK);
    dut_counters(d, cnt);
    /* counting resumed after RESET's execute cycle: its response, then READ_COUNTERS */
    assert_int_equal(cnt[TERN_CNT_FRAMES_OK], 1);
    assert_int_equal(cnt[TERN_CNT_FRAMES_ERR], 0);
    assert_int_equal(cnt[TERN_CNT_CYC_TX], 18);
    assert_int_equal(cnt[TERN_CNT_CYC_RX], 22);
    assert_int_equal(cnt[TERN_CNT_CYC_CTRL], 2);
    assert_int_equal(cnt[TERN_CNT_CYCLES], 42);
    dut_close(d);
}

/* A slow host on both streams: the same responses, the same counters but for the stalls. */
static void test_slow_host_only_adds_stalls(void **state)
{
    (void)state;
    struct dut *fast = dut_open(g_config), *slow = dut_open(g_config);
    struct dut *both[2] = {fast, slow};
    const struct tern_hwcfg *c = fast->cfg;
    const uint32_t L = c->lanes, W = c->width;
    struct prng p = prng_seed(21);
    const size_t wlen = min_sz(c->max_payload, wmem_bytes(c) - 1), alen = min_sz(c->max_payload, amem_bytes(c));
    const uint32_t rn = run_fits(c, 2 * L - 1, 2 * W + 1, 2) ? 2 * L - 1 : 1;
    const uint32_t rk = run_fits(c, 2 * L - 1, 2 * W + 1, 2) ? 2 * W + 1 : 1;
    const uint32_t rt = run_fits(c, 2 * L - 1, 2 * W + 1, 2) ? 2 : 1;
    const size_t olen = (size_t)rt * ((rn + L - 1) / L) * L * 4;
    uint8_t *data = malloc(c->max_payload), *out[2];
    uint64_t cnt[2][TERN_NUM_COUNTERS];
    assert_non_null(data);
    tern_sim_set_host(slow->sim, 35, 45, 99);
    prng_bytes(&p, data, c->max_payload);
    for (size_t i = 0; i < c->max_payload; i++)
        data[i] &= 0x55; /* legal codes only: 00 or 01 */

    for (int i = 0; i < 2; i++) {
        struct dut *d = both[i];
        out[i] = calloc(wlen + alen + olen + 1, 1);
        assert_non_null(out[i]);
        assert_int_equal(dut_cmd(d, TERN_OP_RESET, 0, NULL, 0), TERN_ST_OK);
        assert_int_equal(dut_cmd(d, TERN_OP_PING, 0, NULL, 0), TERN_ST_OK);
        if (wlen)
            dut_write_mem(d, TERN_WMEM_BASE + 1, data, wlen);
        dut_write_mem(d, TERN_AMEM_BASE, data, alen);
        assert_int_equal(do_run(d, 0, rn, rk, 0, rt, 0, 0), TERN_ST_OK);
        if (wlen)
            dut_read_mem(d, TERN_WMEM_BASE + 1, out[i], wlen);
        if (alen > 1)
            dut_read_mem(d, TERN_AMEM_BASE + 1, out[i] + wlen, alen - 1);
        dut_read_mem(d, TERN_OMEM_BASE, out[i] + wlen + alen, olen);
        dut_counters(d, cnt[i]);
    }
    assert_memory_equal(out[0], out[1], wlen + alen + olen);
    for (int k = 0; k < TERN_NUM_COUNTERS; k++) {
        if (k == TERN_CNT_CYCLES || k == TERN_CNT_CYC_STALL_RX || k == TERN_CNT_CYC_STALL_TX)
            continue;
        if (cnt[0][k] != cnt[1][k])
            fail_msg("%s: %s = %llu with a slow host, %llu with an ideal one", g_config, tern_counter_name(k),
                     (unsigned long long)cnt[1][k], (unsigned long long)cnt[0][k]);
    }
    assert_int_equal(cnt[0][TERN_CNT_CYC_STALL_RX] + cnt[0][TERN_CNT_CYC_STALL_TX], 0);
    assert_true(cnt[1][TERN_CNT_CYC_STALL_RX] > 0 && cnt[1][TERN_CNT_CYC_STALL_TX] > 0);
    for (int i = 0; i < 2; i++) {
        uint64_t sum = 0;
        for (int k = TERN_CNT_CYC_RX; k <= TERN_CNT_CYC_STALL_TX; k++)
            sum += cnt[i][k];
        assert_int_equal(cnt[i][TERN_CNT_CYCLES], sum);
        free(out[i]);
    }
    free(data);
    dut_close(fast);
    dut_close(slow);
}

/* ---- the simulator API -------------------------------------------------------------------- */

static void test_sim_api(void **state)
{
    (void)state;
    const char *names[16];
    int n = tern_sim_config_names(names, 16);
    int found = 0;
    assert_true(n >= 1);
    for (int i = 0; i < n && i < 16; i++)
        found |= strcmp(names[i], g_config) == 0;
    assert_true(found);
    tern_sim *s = NULL;
    assert_int_equal(tern_sim_create("no_such_cfg", NULL, &s), TERN_E_NOTFOUND);
    assert_int_equal(tern_sim_create(NULL, NULL, &s), TERN_E_INVAL);

    /* a random initial state (seeded) still comes out of reset working; two sims coexist */
    struct tern_sim_opts o = {NULL, 12345};
    struct dut *a = dut_open_opts(g_config, &o);
    struct dut *b = dut_open(g_config);
    write_reg(a, TERN_REG_SCRATCH, 1);
    write_reg(b, TERN_REG_SCRATCH, 2);
    assert_int_equal(read_reg(a, TERN_REG_SCRATCH), 1);
    assert_int_equal(read_reg(b, TERN_REG_SCRATCH), 2);
    assert_int_equal(dut_cmd(a, TERN_OP_PING, 0, NULL, 0), TERN_ST_OK);
    dut_close(a);
    dut_close(b);
}

/* Every configuration of configs/ is either built in or refused with a message that names it, the
 * configurations that were Verilated and the CMake option that chooses them; an unknown name is
 * refused as such. */
static void test_check_config(void **state)
{
    (void)state;
    const char *names[16];
    char msg[512];
    const int n = tern_sim_config_names(names, 16);
    assert_int_equal(tern_sim_check_config(g_config, msg, sizeof msg), TERN_OK);
    assert_int_equal(tern_sim_check_config(NULL, msg, sizeof msg), TERN_E_INVAL);
    assert_int_equal(tern_sim_check_config("no_such_cfg", msg, sizeof msg), TERN_E_NOTFOUND);
    assert_non_null(strstr(msg, "no configuration 'no_such_cfg'"));
    assert_non_null(strstr(msg, g_config)); /* listed among those of configs/ */
    for (size_t i = 0; tern_hwcfg_at(i); i++) {
        const char *c = tern_hwcfg_at(i)->name;
        int built = 0;
        for (int j = 0; j < n && j < 16; j++)
            built |= strcmp(names[j], c) == 0;
        memset(msg, 0, sizeof msg);
        const int rc = tern_sim_check_config(c, msg, sizeof msg);
        if (built) {
            assert_int_equal(rc, TERN_OK);
            continue;
        }
        tern_sim *s = NULL;
        assert_int_equal(tern_sim_create(c, NULL, &s), TERN_E_NOTFOUND);
        assert_null(s);
        assert_int_equal(rc, TERN_E_NOTFOUND);
        char quoted[32];
        snprintf(quoted, sizeof quoted, "'%s'", c);
        if (!strstr(msg, quoted) || !strstr(msg, "not Verilated") || !strstr(msg, "-DTERN_SIM_CONFIGS") ||
            !strstr(msg, g_config))
            fail_msg("configuration %s not built in: unclear message \"%s\"", c, msg);
    }
}

static void test_trace_written(void **state)
{
    (void)state;
    if (strcmp(g_config, "tiny") != 0)
        skip(); /* one configuration is enough, and tiny's waveform is small */
    char path[256];
    snprintf(path, sizeof path, "rtl_trace_%s.fst", g_config);
    remove(path);
    struct tern_sim_opts o = {path, 0};
    if (!tern_sim_has_trace()) { /* -DTERN_SIM_TRACE=OFF: refused, no file written */
        tern_sim *s = NULL;
        assert_int_equal(tern_sim_create(g_config, &o, &s), TERN_E_UNSUPPORTED);
        assert_null(s);
        assert_null(fopen(path, "rb"));
        return;
    }
    struct dut *d = dut_open_opts(g_config, &o);
    assert_int_equal(dut_cmd(d, TERN_OP_PING, 0, NULL, 0), TERN_ST_OK);
    dut_close(d);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    assert_true(ftell(f) > 100);
    fclose(f);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_ping_returns_id_block),
    cmocka_unit_test(test_check_config),
    cmocka_unit_test(test_registers_scratch_errflags_reset),
    cmocka_unit_test(test_garbage_before_frame_is_skipped),
    cmocka_unit_test(test_a5_a5_54_keeps_match_armed),
    cmocka_unit_test(test_bad_header_answered_at_once),
    cmocka_unit_test(test_bad_pcrc_changes_nothing),
    cmocka_unit_test(test_unknown_opcode),
    cmocka_unit_test(test_length_and_address_checks),
    cmocka_unit_test(test_write_read_mem_round_trip),
    cmocka_unit_test(test_run_matches_scalar_oracle),
    cmocka_unit_test(test_run_illegal_code_reported),
    cmocka_unit_test(test_duplicate_not_executed_twice),
    cmocka_unit_test(test_counters_ping),
    cmocka_unit_test(test_counters_run),
    cmocka_unit_test(test_counters_stalls_and_idle),
    cmocka_unit_test(test_reset_zeroes_counters),
    cmocka_unit_test(test_slow_host_only_adds_stalls),
    cmocka_unit_test(test_sim_api),
    cmocka_unit_test(test_trace_written),
};

RTL_TEST_MAIN(tests)
