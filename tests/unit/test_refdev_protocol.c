/* test_refdev_protocol.c — the reference device driven with raw frames (ARCHITECTURE.md 3-6). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "refdev_util.h"

static const char *const id_reg_names[TERN_NUM_ID_REGS] = {
    "ID_MAGIC",    "ID_VERSION",  "LANES",       "WIDTH",        "ACC_WIDTH",
    "MAX_K",       "WMEM_WORDS",  "AMEM_WORDS",  "OMEM_WORDS",   "MAX_PAYLOAD",
    "CLOCK_HZ",    "LINK_KIND",   "LINK_BYTES_PER_S", "RUN_SETUP", "RUN_DRAIN",
    "NUM_COUNTERS", "NAME_LO",    "NAME_HI",     "BACKEND",      "RESERVED",
};

static int setup_tiny(void **state)
{
    struct prng p = prng_seed(0x7E57u);
    struct rd *rd = rd_open("tiny");
    rd_fill_random(rd, &p);
    *state = rd;
    return 0;
}

static int teardown(void **state)
{
    rd_close(*state);
    return 0;
}

/* ---- helpers ---- */

/* 1 when bytes [from, n) hold no A5 54 pair and do not end in A5: hunting through them leaves the
 * receiver in HUNT without starting a frame. */
static int frame_clean(const uint8_t *buf, size_t from, size_t n)
{
    for (size_t i = from; i + 1 < n; i++)
        if (buf[i] == 0xA5 && buf[i + 1] == 0x54)
            return 0;
    return n == 0 || buf[n - 1] != 0xA5;
}

static void random_payload(struct prng *p, uint8_t *buf, size_t n)
{
    prng_bytes(p, buf, n);
    for (size_t i = 0; i < n; i++)
        if (buf[i] == 0xA5)
            buf[i] = 0x5A;
}

static void expect_counter_delta(const uint64_t *c0, const uint64_t *c1, int idx, uint64_t want,
                                 const char *what)
{
    if (c1[idx] - c0[idx] != want)
        fail_msg("%s: counter %s moved by %llu, want %llu", what, tern_counter_name(idx),
                 (unsigned long long)(c1[idx] - c0[idx]), (unsigned long long)want);
}

/* Sends raw bytes that must be answered by exactly one refusal (want status, echoing op and seq,
 * no payload) and must change nothing but the counters (FRAMES_ERR + 1). */
static void expect_refused(struct rd *rd, const uint8_t *bytes, size_t n, uint8_t op, uint16_t seq,
                           int want, const char *what)
{
    struct rd_snap before;
    uint64_t c0[TERN_NUM_COUNTERS], c1[TERN_NUM_COUNTERS];
    uint8_t *copy = malloc(n + 1); /* bytes may live in rd->tx, which the snapshot reuses */
    assert_non_null(copy);
    memcpy(copy, bytes, n);
    rd_snap_take(rd, &before);
    rd_counters(rd, c0);
    int nr = rd_exchange(rd, copy, n);
    rd_counters(rd, c1);
    free(copy);
    if (nr != 1)
        fail_msg("%s: %d responses, want 1", what, nr);
    if (rd->rsp[0].status != want)
        fail_msg("%s: status %s, want %s", what, tern_status_name(rd->rsp[0].status),
                 tern_status_name(want));
    if (rd->rsp[0].opcode != op || rd->rsp[0].seq != seq)
        fail_msg("%s: response echoes opcode 0x%02x seq %u, want 0x%02x seq %u", what,
                 rd->rsp[0].opcode, rd->rsp[0].seq, op, seq);
    if (rd->rsp[0].len != 0)
        fail_msg("%s: refusal carries %u payload bytes, want 0", what, rd->rsp[0].len);
    expect_counter_delta(c0, c1, TERN_CNT_FRAMES_ERR, 1, what);
    expect_counter_delta(c0, c1, TERN_CNT_FRAMES_OK, 0, what);
    expect_counter_delta(c0, c1, TERN_CNT_CYC_COMMIT, 0, what);
    expect_counter_delta(c0, c1, TERN_CNT_CYC_COMPUTE, 0, what);
    expect_counter_delta(c0, c1, TERN_CNT_TERN_OPS, 0, what);
    if (tern_refdev_in_frame(rd->dev))
        fail_msg("%s: the receiver is left inside a frame, want HUNT", what);
    rd_snap_expect_same(rd, &before, what);
    rd_snap_free(&before);
}

/* A command frame with the next seq, refused with want and changing nothing. */
static void expect_cmd_refused(struct rd *rd, uint8_t op, uint32_t addr, const uint8_t *payload,
                               uint32_t len, int want, const char *what)
{
    uint16_t seq = rd->seq++;
    size_t n = tern_frame_cmd(rd->tx, rd->tx_cap, op, seq, addr, payload, len);
    assert_int_equal(n, 22 + len);
    expect_refused(rd, rd->tx, n, op, seq, want, what);
}

/* ---- ID block and registers ---- */

static void check_ping_id_block(const char *config)
{
    struct rd *rd = rd_open(config);
    const struct tern_hwcfg *c = rd->cfg;
    int st = rd_cmd(rd, TERN_OP_PING, 0, NULL, 0);
    if (st != TERN_ST_OK || rd->rsp[0].len != 80)
        fail_msg("%s: PING status %s, len %u, want OK, 80", config, tern_status_name(st),
                 rd->rsp[0].len);
    uint8_t name[8] = { 0 };
    memcpy(name, c->name, strlen(c->name) < 8 ? strlen(c->name) : 8);
    const uint32_t want[TERN_NUM_ID_REGS] = {
        0x5445524Eu, (1u << 16) | 1u, c->lanes, c->width, c->acc_width, c->max_k, c->wmem_words,
        c->amem_words, c->omem_words, c->max_payload, c->clock_hz, c->link_kind, c->link_bytes_per_s,
        c->run_setup, c->run_drain, 15u, unit_get_u32(name), unit_get_u32(name + 4), 1u, 0u,
    };
    for (int i = 0; i < TERN_NUM_ID_REGS; i++) {
        uint32_t got = unit_get_u32(rd->rsp[0].payload + 4 * i);
        if (got != want[i])
            fail_msg("config %s: PING word %d (%s) = 0x%08x (%u), want 0x%08x (%u)", config, i,
                     id_reg_names[i], got, got, want[i], want[i]);
    }
    rd_close(rd);
}

static void test_ping_id_block_tiny(void **state)
{
    (void)state;
    check_ping_id_block("tiny");
}

static void test_ping_id_block_default(void **state)
{
    (void)state;
    check_ping_id_block("default");
}

static void test_ping_id_block_large(void **state)
{
    (void)state;
    check_ping_id_block("large");
}

static void test_hwcfg_link_kinds_match_config_files(void **state)
{
    (void)state;
    /* configs/<name>.cfg: tiny uart, default fifo245, large ft601 */
    assert_int_equal(tern_hwcfg_find("tiny")->link_kind, TERN_LINK_UART);
    assert_int_equal(tern_hwcfg_find("default")->link_kind, TERN_LINK_FIFO245);
    assert_int_equal(tern_hwcfg_find("large")->link_kind, TERN_LINK_FT601);
    assert_null(tern_hwcfg_find("nosuch"));
}

static void test_read_reg_matches_ping_words(void **state)
{
    struct rd *rd = *state;
    int st = rd_cmd(rd, TERN_OP_PING, 0, NULL, 0);
    rd_expect_status(st, TERN_ST_OK, "PING");
    uint8_t block[80];
    memcpy(block, rd->rsp[0].payload, 80);
    for (uint32_t i = 0; i < TERN_NUM_ID_REGS; i++) {
        uint32_t v = rd_read_reg(rd, i);
        if (v != unit_get_u32(block + 4 * i))
            fail_msg("READ_REG %u (%s) = 0x%08x, PING word 0x%08x", i, id_reg_names[i], v,
                     unit_get_u32(block + 4 * i));
    }
}

static void test_scratch_round_trip(void **state)
{
    struct rd *rd = *state;
    const uint32_t vals[] = { 0u, 1u, 0xDEADBEEFu, 0xFFFFFFFFu, 0x80000000u, 0x00A55400u };
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        rd_write_reg(rd, TERN_REG_SCRATCH, vals[i]);
        uint32_t got = rd_read_reg(rd, TERN_REG_SCRATCH);
        if (got != vals[i])
            fail_msg("SCRATCH written 0x%08x reads 0x%08x", vals[i], got);
    }
}

static void test_id_registers_are_read_only(void **state)
{
    struct rd *rd = *state;
    for (uint32_t i = 0; i < TERN_NUM_ID_REGS; i++) {
        uint8_t p[4];
        unit_put_u32(p, 0x12345678u);
        char what[64];
        snprintf(what, sizeof what, "WRITE_REG %u (%s)", i, id_reg_names[i]);
        expect_cmd_refused(rd, TERN_OP_WRITE_REG, i, p, 4, TERN_ST_BAD_ADDR, what);
    }
    int st = rd_cmd(rd, TERN_OP_PING, 0, NULL, 0);
    rd_expect_status(st, TERN_ST_OK, "PING after writes");
    assert_int_equal(unit_get_u32(rd->rsp[0].payload + 4 * TERN_REG_LANES), rd->cfg->lanes);
    assert_int_equal(unit_get_u32(rd->rsp[0].payload), TERN_ID_MAGIC);
}

static void test_unknown_registers_are_bad_addr(void **state)
{
    struct rd *rd = *state;
    const uint32_t regs[] = { 20, 21, 31, 34, 35, 63, 64, 0x100, 0x10000, 0x80000020u, 0xFFFFFFFFu };
    for (size_t i = 0; i < sizeof regs / sizeof regs[0]; i++) {
        char what[64];
        snprintf(what, sizeof what, "READ_REG %u", regs[i]);
        expect_cmd_refused(rd, TERN_OP_READ_REG, regs[i], NULL, 0, TERN_ST_BAD_ADDR, what);
        uint8_t p[4];
        unit_put_u32(p, 0xCAFEF00Du);
        snprintf(what, sizeof what, "WRITE_REG %u", regs[i]);
        expect_cmd_refused(rd, TERN_OP_WRITE_REG, regs[i], p, 4, TERN_ST_BAD_ADDR, what);
    }
}

/* ---- memories ---- */

static void check_mem_round_trip(struct rd *rd, uint32_t addr, uint32_t len, struct prng *p)
{
    uint8_t *data = malloc(len), *back = malloc(len);
    assert_non_null(data);
    assert_non_null(back);
    prng_bytes(p, data, len);
    struct rd_snap before;
    rd_snap_take(rd, &before);
    rd_write_mem(rd, addr, data, len);
    rd_read_mem(rd, addr, back, len);
    if (memcmp(data, back, len) != 0)
        fail_msg("%s: WRITE_MEM/READ_MEM 0x%08x len %u read back different bytes", rd->cfg->name,
                 addr, len);
    /* the inspection view shows exactly these bytes changed */
    int in_w = addr < TERN_AMEM_BASE;
    size_t off = in_w ? addr : addr - TERN_AMEM_BASE;
    size_t size = 0;
    const uint8_t *mem = in_w ? tern_refdev_wmem(rd->dev, &size) : tern_refdev_amem(rd->dev, &size);
    const uint8_t *old = in_w ? before.wmem : before.amem;
    for (size_t i = 0; i < size; i++) {
        uint8_t want = (i >= off && i < off + len) ? data[i - off] : old[i];
        if (mem[i] != want)
            fail_msg("%s: after WRITE_MEM 0x%08x len %u, %s byte %zu = %02x, want %02x",
                     rd->cfg->name, addr, len, in_w ? "WMEM" : "AMEM", i, mem[i], want);
    }
    rd_snap_free(&before);
    free(data);
    free(back);
}

static void test_mem_round_trip_at_region_edges(void **state)
{
    struct rd *rd = *state;
    struct prng p = prng_seed(0xED6E);
    const uint32_t wend = (uint32_t)rd->wmem_bytes, aend = (uint32_t)rd->amem_bytes;
    const uint32_t mp = rd->cfg->max_payload;
    const struct {
        uint32_t addr, len;
    } cases[] = {
        { TERN_WMEM_BASE, 1 },          { TERN_WMEM_BASE + wend - 1, 1 },
        { TERN_WMEM_BASE + wend - 5, 5 }, { TERN_WMEM_BASE, mp },
        { TERN_WMEM_BASE + wend - mp, mp }, { TERN_WMEM_BASE + 3, 77 },
        { TERN_AMEM_BASE, 1 },          { TERN_AMEM_BASE + aend - 1, 1 },
        { TERN_AMEM_BASE + aend - 7, 7 }, { TERN_AMEM_BASE, mp },
        { TERN_AMEM_BASE + aend - mp, mp },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_mem_round_trip(rd, cases[i].addr, cases[i].len, &p);
}

/* The region sizes of section 3 on the bigger configurations: last bytes work, one past fails. */
static void check_region_sizes(const char *config)
{
    struct rd *rd = rd_open(config);
    struct prng p = prng_seed(0x5123u);
    struct rd_snap s;
    rd_snap_take(rd, &s); /* checks the inspection sizes against wmem_words * L*W/4 and amem_words * W */
    rd_snap_free(&s);
    if (tern_refdev_omem_entries(rd->dev) != (size_t)rd->cfg->omem_words * rd->cfg->lanes)
        fail_msg("%s: %zu OMEM entries, want omem_words * lanes = %u", config,
                 tern_refdev_omem_entries(rd->dev), rd->cfg->omem_words * rd->cfg->lanes);
    const uint32_t ends[3] = { TERN_WMEM_BASE + (uint32_t)rd->wmem_bytes, TERN_AMEM_BASE + (uint32_t)rd->amem_bytes,
                               TERN_OMEM_BASE + (uint32_t)rd->omem_bytes };
    for (int r = 0; r < 3; r++) {
        uint8_t pl[4];
        unit_put_u32(pl, 4);
        char what[96];
        snprintf(what, sizeof what, "%s: READ_MEM of the last 4 bytes of region %d (0x%08x)", config, r, ends[r] - 4);
        rd_expect_status(rd_cmd(rd, TERN_OP_READ_MEM, ends[r] - 4, pl, 4), TERN_ST_OK, what);
        snprintf(what, sizeof what, "%s: READ_MEM of 4 bytes just past region %d (0x%08x)", config, r, ends[r]);
        rd_expect_status(rd_cmd(rd, TERN_OP_READ_MEM, ends[r], pl, 4), TERN_ST_BAD_ADDR, what);
        if (r < 2)
            check_mem_round_trip(rd, ends[r] - rd->cfg->max_payload, rd->cfg->max_payload, &p);
    }
    rd_close(rd);
}

static void test_region_sizes_default(void **state)
{
    (void)state;
    check_region_sizes("default");
}

static void test_region_sizes_large(void **state)
{
    (void)state;
    check_region_sizes("large");
}

static void test_omem_read_is_sign_extended_entries(void **state)
{
    struct rd *rd = *state;
    uint8_t *buf = malloc(rd->omem_bytes);
    assert_non_null(buf);
    rd_read_mem(rd, TERN_OMEM_BASE, buf, rd->omem_bytes);
    int negatives = 0;
    for (size_t i = 0; i < tern_refdev_omem_entries(rd->dev); i++) {
        int32_t e = tern_refdev_omem_entry(rd->dev, i);
        if ((int32_t)unit_get_u32(buf + 4 * i) != e)
            fail_msg("OMEM entry %zu reads 0x%08x over READ_MEM, inspection says %d", i,
                     unit_get_u32(buf + 4 * i), e);
        negatives += e < 0;
    }
    assert_true(negatives > 0); /* the random fill gives some, so sign extension was exercised */
    free(buf);
}

static void test_omem_last_word_readable(void **state)
{
    struct rd *rd = *state;
    uint8_t b[4];
    uint32_t last = TERN_OMEM_BASE + (uint32_t)rd->omem_bytes - 4;
    rd_read_mem(rd, last, b, 4);
    size_t i = rd->omem_bytes / 4 - 1;
    assert_int_equal((int32_t)unit_get_u32(b), tern_refdev_omem_entry(rd->dev, i));
}

/* ---- RUN ---- */

static void check_run(struct rd *rd, uint32_t wbase, uint32_t n, uint32_t k, uint32_t abase, uint32_t t,
                      uint32_t obase, uint32_t flags)
{
    struct rd_snap s;
    rd_snap_take(rd, &s);
    rd_run_oracle(rd, s.wmem, s.amem, s.omem, wbase, n, k, abase, t, obase, flags);
    int st = rd_run(rd, wbase, n, k, abase, t, obase, flags);
    if (st != TERN_ST_OK)
        fail_msg("RUN wbase %u n %u k %u abase %u t %u obase %u flags %u: status %s", wbase, n, k,
                 abase, t, obase, flags, tern_status_name(st));
    for (size_t i = 0; i < s.nomem; i++) {
        int32_t got = tern_refdev_omem_entry(rd->dev, i);
        if (got != s.omem[i])
            fail_msg("RUN wbase %u n %u k %u abase %u t %u obase %u flags %u: OMEM entry %zu = %d, "
                     "want %d",
                     wbase, n, k, abase, t, obase, flags, i, got, s.omem[i]);
    }
    rd_snap_free(&s);
}

static void test_run_matches_hardware_layout_oracle(void **state)
{
    struct rd *rd = *state;
    struct prng p = prng_seed(0x2D2Du);
    const struct tern_hwcfg *c = rd->cfg;
    for (int iter = 0; iter < 60; iter++) {
        uint32_t n = 1 + prng_below(&p, 3 * c->lanes + 2);
        uint32_t kw_max = c->amem_words / 4;
        uint32_t k = 1 + prng_below(&p, kw_max * c->width);
        uint32_t nb = rd_nb(rd, n), kw = rd_kw(rd, k);
        uint32_t t = 1 + prng_below(&p, 3);
        if (t * kw > c->amem_words || t * nb > c->omem_words || nb * kw > c->wmem_words)
            continue;
        uint32_t wbase = prng_below(&p, c->wmem_words - nb * kw + 1);
        uint32_t abase = prng_below(&p, c->amem_words - t * kw + 1);
        uint32_t obase = prng_below(&p, c->omem_words - t * nb + 1);
        check_run(rd, wbase, n, k, abase, t, obase, prng_below(&p, 2));
    }
}

static void test_run_at_max_k_and_full_memories(void **state)
{
    struct rd *rd = *state;
    const struct tern_hwcfg *c = rd->cfg;
    /* the whole activation buffer as one token's K (k <= max_k for tiny), at the top of each memory */
    uint32_t k = c->amem_words * c->width < c->max_k ? c->amem_words * c->width : c->max_k;
    uint32_t kw = rd_kw(rd, k);
    check_run(rd, c->wmem_words - kw, 1, k, c->amem_words - kw, 1, c->omem_words - 1, 0);
    check_run(rd, c->wmem_words - kw, c->lanes, k, c->amem_words - kw, 1, c->omem_words - 1, 1);
}

static void test_run_extreme_values_exact(void **state)
{
    struct rd *rd = *state;
    const struct tern_hwcfg *c = rd->cfg;
    /* row 0 all +1, row 1 all -1 over activations of -128: -128 k and +128 k */
    uint32_t k = c->amem_words * c->width;
    uint32_t kw = rd_kw(rd, k);
    size_t wbytes = (size_t)kw * c->lanes * c->width / 4;
    uint8_t *w = calloc(1, wbytes), *a = malloc(k);
    assert_non_null(w);
    assert_non_null(a);
    for (uint32_t col = 0; col < k; col++) {
        rd_code_put(rd, w, 0, k, 0, col, 1);
        rd_code_put(rd, w, 0, k, 1, col, 3);
    }
    memset(a, 0x80, k);
    rd_write_mem(rd, TERN_WMEM_BASE, w, wbytes);
    rd_write_mem(rd, TERN_AMEM_BASE, a, k);
    int st = rd_run(rd, 0, 2, k, 0, 1, 0, 0);
    rd_expect_status(st, TERN_ST_OK, "RUN all +-1 x -128");
    assert_int_equal(tern_refdev_omem_entry(rd->dev, 0), -128 * (int32_t)k);
    assert_int_equal(tern_refdev_omem_entry(rd->dev, 1), 128 * (int32_t)k);
    uint8_t b[8];
    rd_read_mem(rd, TERN_OMEM_BASE, b, 8);
    assert_int_equal((int32_t)unit_get_u32(b), -128 * (int32_t)k);
    assert_int_equal((int32_t)unit_get_u32(b + 4), 128 * (int32_t)k);
    free(w);
    free(a);
}

/* ---- corrupt, truncated and refused frames ---- */

static void test_bad_magic_is_hunted_without_response(void **state)
{
    struct rd *rd = *state;
    struct prng p = prng_seed(0xBAD0u);
    uint8_t payload[16];
    random_payload(&p, payload, sizeof payload);
    size_t n;
    do {
        n = tern_frame_cmd(rd->tx, rd->tx_cap, TERN_OP_WRITE_MEM, rd->seq++, TERN_AMEM_BASE, payload, 16);
        rd->tx[1] = 0x55; /* A5 55: not a command magic */
    } while (!frame_clean(rd->tx, 1, n));
    struct rd_snap before;
    uint64_t c0[TERN_NUM_COUNTERS], c1[TERN_NUM_COUNTERS];
    uint8_t copy[64];
    memcpy(copy, rd->tx, n); /* the snapshot reuses rd->tx */
    rd_snap_take(rd, &before);
    rd_counters(rd, c0);
    int nr = rd_exchange(rd, copy, n);
    rd_counters(rd, c1);
    if (nr != 0)
        fail_msg("WRITE_MEM with magic A5 55: %d responses, want none", nr);
    expect_counter_delta(c0, c1, TERN_CNT_FRAMES_ERR, 0, "bad magic");
    expect_counter_delta(c0, c1, TERN_CNT_FRAMES_OK, 0, "bad magic");
    expect_counter_delta(c0, c1, TERN_CNT_BYTES_IN, n, "bad magic");
    expect_counter_delta(c0, c1, TERN_CNT_BYTES_OUT, 0, "bad magic");
    if (tern_refdev_in_frame(rd->dev))
        fail_msg("bad magic: receiver left inside a frame");
    rd_snap_expect_same(rd, &before, "WRITE_MEM with magic A5 55");
    rd_snap_free(&before);
}

static void test_bad_hcrc_answered_and_ignored(void **state)
{
    struct rd *rd = *state;
    struct prng p = prng_seed(0xBAD1u);
    uint8_t payload[16];
    random_payload(&p, payload, sizeof payload);
    size_t n;
    uint16_t seq;
    do {
        seq = rd->seq++;
        n = tern_frame_cmd(rd->tx, rd->tx_cap, TERN_OP_WRITE_MEM, seq, TERN_AMEM_BASE + 8, payload, 16);
        rd->tx[16] ^= 0x01;
    } while (!frame_clean(rd->tx, 2, n));
    expect_refused(rd, rd->tx, n, TERN_OP_WRITE_MEM, seq, TERN_ST_BAD_HCRC, "WRITE_MEM with hcrc ^ 1");
}

static void test_bad_hcrc_from_flipped_addr_writes_nowhere(void **state)
{
    struct rd *rd = *state;
    struct prng p = prng_seed(0xBAD2u);
    uint8_t payload[8];
    random_payload(&p, payload, sizeof payload);
    size_t n;
    uint16_t seq;
    do {
        seq = rd->seq++;
        n = tern_frame_cmd(rd->tx, rd->tx_cap, TERN_OP_WRITE_MEM, seq, TERN_WMEM_BASE + 16, payload, 8);
        rd->tx[8] ^= 0x40; /* addr 16 -> 80 in transit */
    } while (!frame_clean(rd->tx, 2, n));
    expect_refused(rd, rd->tx, n, TERN_OP_WRITE_MEM, seq, TERN_ST_BAD_HCRC,
                   "WRITE_MEM whose addr bit 6 flipped in transit");
}

static void test_bad_hcrc_answered_right_after_header(void **state)
{
    struct rd *rd = *state;
    uint16_t seq;
    size_t n;
    do {
        seq = rd->seq++;
        n = tern_frame_cmd(rd->tx, rd->tx_cap, TERN_OP_READ_MEM, seq, TERN_AMEM_BASE, "\x04\0\0\0", 4);
        rd->tx[15] ^= 0x80; /* len becomes 2^31 + 4 in transit */
    } while (!frame_clean(rd->tx, 2, 18));
    expect_refused(rd, rd->tx, 18, TERN_OP_READ_MEM, seq, TERN_ST_BAD_HCRC,
                   "18-byte header with a corrupt len (bad hcrc)");
    (void)n;
}

static void test_bad_pcrc_answered_and_ignored(void **state)
{
    struct rd *rd = *state;
    struct prng p = prng_seed(0xBAD3u);
    uint8_t payload[32];
    random_payload(&p, payload, sizeof payload);
    uint16_t seq = rd->seq++;
    size_t n = tern_frame_cmd(rd->tx, rd->tx_cap, TERN_OP_WRITE_MEM, seq, TERN_WMEM_BASE + 100, payload, 32);
    rd->tx[18 + 5] ^= 0x10;
    expect_refused(rd, rd->tx, n, TERN_OP_WRITE_MEM, seq, TERN_ST_BAD_PCRC, "WRITE_MEM with a payload bit flipped");
}

static void test_bad_pcrc_on_empty_payload(void **state)
{
    struct rd *rd = *state;
    uint16_t seq = rd->seq++;
    size_t n = tern_frame_cmd(rd->tx, rd->tx_cap, TERN_OP_RESET, seq, 0, NULL, 0);
    rd->tx[n - 1] = 0x01; /* pcrc must be 0 when len = 0 */
    expect_refused(rd, rd->tx, n, TERN_OP_RESET, seq, TERN_ST_BAD_PCRC, "RESET with pcrc 0x01000000");
}

static void test_bad_version_answered_and_payload_hunted(void **state)
{
    struct rd *rd = *state;
    struct prng p = prng_seed(0xBAD4u);
    const uint8_t versions[] = { 0, 2, 0xFF };
    for (size_t v = 0; v < sizeof versions; v++) {
        uint8_t payload[12];
        random_payload(&p, payload, sizeof payload);
        uint16_t seq;
        size_t n;
        do {
            seq = rd->seq++;
            n = unit_build_cmd(rd->tx, versions[v], TERN_OP_WRITE_MEM, seq, TERN_AMEM_BASE, payload, 12);
        } while (!frame_clean(rd->tx, 2, n));
        char what[64];
        snprintf(what, sizeof what, "WRITE_MEM with version %u", versions[v]);
        expect_refused(rd, rd->tx, n, TERN_OP_WRITE_MEM, seq, TERN_ST_BAD_VERSION, what);
    }
}

static void test_header_checks_in_order(void **state)
{
    struct rd *rd = *state;
    /* version 2 and len > max_payload with a good hcrc: BAD_VERSION (version is checked before len) */
    uint32_t big = rd->cfg->max_payload + 1;
    uint8_t hdr[18];
    uint16_t seq = rd->seq++;
    hdr[0] = 0xA5;
    hdr[1] = 0x54;
    hdr[2] = 2;
    hdr[3] = TERN_OP_WRITE_MEM;
    hdr[4] = (uint8_t)seq;
    hdr[5] = (uint8_t)(seq >> 8);
    hdr[6] = hdr[7] = 0;
    unit_put_u32(hdr + 8, TERN_AMEM_BASE);
    unit_put_u32(hdr + 12, big);
    uint16_t h = unit_crc16(hdr, 16);
    hdr[16] = (uint8_t)h;
    hdr[17] = (uint8_t)(h >> 8);
    expect_refused(rd, hdr, 18, TERN_OP_WRITE_MEM, seq, TERN_ST_BAD_VERSION,
                   "header with version 2 and len max_payload + 1");
    /* the same with a bad hcrc: BAD_HCRC first */
    seq = rd->seq++;
    hdr[4] = (uint8_t)seq;
    hdr[5] = (uint8_t)(seq >> 8);
    h = unit_crc16(hdr, 16) ^ 0x0100u;
    hdr[16] = (uint8_t)h;
    hdr[17] = (uint8_t)(h >> 8);
    if (!frame_clean(hdr, 2, 18))
        return; /* cannot happen for these bytes, but keep the test honest */
    expect_refused(rd, hdr, 18, TERN_OP_WRITE_MEM, seq, TERN_ST_BAD_HCRC,
                   "header with version 2, len max_payload + 1 and a bad hcrc");
}

static void test_truncated_frame_eats_next_frame(void **state)
{
    struct rd *rd = *state;
    struct prng p = prng_seed(0xBAD5u);
    /* WRITE_MEM of 16 bytes cut after 5 payload bytes, then a whole PING (22 bytes). The receiver
     * still expects 11 payload + 4 pcrc bytes: it takes the PING's first 15 bytes for them, the pcrc
     * fails, it answers BAD_PCRC for the WRITE_MEM, and hunts through the PING's last 7 bytes. So:
     * one response (BAD_PCRC, WRITE_MEM's seq), the PING is never answered, nothing changes. */
    uint8_t payload[16];
    random_payload(&p, payload, sizeof payload);
    uint8_t bytes[64];
    uint16_t wseq = rd->seq++;
    size_t wn = tern_frame_cmd(bytes, sizeof bytes, TERN_OP_WRITE_MEM, wseq, TERN_AMEM_BASE + 32, payload, 16);
    assert_int_equal(wn, 38);
    size_t cut = 18 + 5, pn;
    do {
        pn = tern_frame_cmd(bytes + cut, sizeof bytes - cut, TERN_OP_PING, rd->seq++, 0, NULL, 0);
    } while (!frame_clean(bytes + cut, 15, pn));
    expect_refused(rd, bytes, cut + pn, TERN_OP_WRITE_MEM, wseq, TERN_ST_BAD_PCRC,
                   "WRITE_MEM cut after 5 of 16 payload bytes, then a PING");
    /* the link works again */
    int st = rd_cmd(rd, TERN_OP_PING, 0, NULL, 0);
    rd_expect_status(st, TERN_ST_OK, "PING after the truncated frame");
}

static void test_len_over_max_payload_answered_after_header(void **state)
{
    struct rd *rd = *state;
    uint32_t big = rd->cfg->max_payload + 1;
    uint16_t seq;
    size_t n;
    do {
        seq = rd->seq++;
        n = unit_build_cmd(rd->tx, 1, TERN_OP_WRITE_MEM, seq, TERN_AMEM_BASE, NULL, 0);
        unit_put_u32(rd->tx + 12, big);
        uint16_t h = unit_crc16(rd->tx, 16);
        rd->tx[16] = (uint8_t)h;
        rd->tx[17] = (uint8_t)(h >> 8);
    } while (!frame_clean(rd->tx, 2, 18));
    (void)n;
    expect_refused(rd, rd->tx, 18, TERN_OP_WRITE_MEM, seq, TERN_ST_BAD_LEN,
                   "WRITE_MEM header alone with len = max_payload + 1");
}

static void test_len_over_max_payload_hunts_through_payload(void **state)
{
    struct rd *rd = *state;
    uint32_t big = rd->cfg->max_payload + 1;
    size_t total = 18 + big + 4;
    uint8_t *bytes = calloc(1, total);
    assert_non_null(bytes);
    uint16_t seq = rd->seq++;
    unit_build_cmd(bytes, 1, TERN_OP_WRITE_MEM, seq, TERN_AMEM_BASE, NULL, 0);
    unit_put_u32(bytes + 12, big);
    uint16_t h = unit_crc16(bytes, 16);
    bytes[16] = (uint8_t)h;
    bytes[17] = (uint8_t)(h >> 8);
    /* the "payload" starts with a complete PING: hunted as garbage, it is a frame of its own */
    uint16_t pseq = rd->seq++;
    size_t pn = tern_frame_cmd(bytes + 18, big, TERN_OP_PING, pseq, 0, NULL, 0);
    assert_int_equal(pn, 22);
    struct rd_snap before;
    rd_snap_take(rd, &before);
    int nr = rd_exchange(rd, bytes, total);
    if (nr != 2)
        fail_msg("WRITE_MEM with len max_payload + 1 whose payload holds a PING: %d responses, want 2 "
                 "(BAD_LEN, then the PING's OK)",
                 nr);
    if (rd->rsp[0].status != TERN_ST_BAD_LEN || rd->rsp[0].seq != seq)
        fail_msg("first response: status %s seq %u, want BAD_LEN seq %u",
                 tern_status_name(rd->rsp[0].status), rd->rsp[0].seq, seq);
    if (rd->rsp[1].status != TERN_ST_OK || rd->rsp[1].seq != pseq || rd->rsp[1].opcode != TERN_OP_PING ||
        rd->rsp[1].len != 80)
        fail_msg("second response: %s %s seq %u len %u, want PING OK seq %u len 80",
                 tern_opcode_name(rd->rsp[1].opcode), tern_status_name(rd->rsp[1].status),
                 rd->rsp[1].seq, rd->rsp[1].len, pseq);
    if (tern_refdev_in_frame(rd->dev))
        fail_msg("receiver left inside a frame after the zero bytes");
    rd_snap_expect_same(rd, &before, "WRITE_MEM with len max_payload + 1");
    rd_snap_free(&before);
    free(bytes);
}

static void test_unknown_opcodes_are_bad_opcode(void **state)
{
    struct rd *rd = *state;
    const uint8_t ops[] = { 0x00, 0x09, 0x0A, 0x10, 0x7F, 0x80, 0x86, 0xFF };
    for (size_t i = 0; i < sizeof ops; i++) {
        char what[64];
        snprintf(what, sizeof what, "opcode 0x%02x, len 0", ops[i]);
        expect_cmd_refused(rd, ops[i], 0, NULL, 0, TERN_ST_BAD_OPCODE, what);
        uint8_t p[4] = { 1, 2, 3, 4 };
        snprintf(what, sizeof what, "opcode 0x%02x, len 4, addr AMEM", ops[i]);
        expect_cmd_refused(rd, ops[i], TERN_AMEM_BASE, p, 4, TERN_ST_BAD_OPCODE, what);
    }
}

static void test_write_mem_out_of_range_is_bad_addr(void **state)
{
    struct rd *rd = *state;
    const uint32_t wend = (uint32_t)rd->wmem_bytes, aend = TERN_AMEM_BASE + (uint32_t)rd->amem_bytes;
    const uint32_t oend = TERN_OMEM_BASE + (uint32_t)rd->omem_bytes;
    const struct {
        uint32_t addr, len;
        const char *what;
    } cases[] = {
        { wend, 1, "first byte past WMEM" },
        { wend - 1, 2, "straddling the end of WMEM" },
        { wend - 8, 16, "8 bytes past the end of WMEM" },
        { TERN_AMEM_BASE - 1, 1, "last byte below AMEM" },
        { TERN_AMEM_BASE - 1, 2, "straddling the start of AMEM" },
        { aend, 1, "first byte past AMEM" },
        { aend - 3, 4, "straddling the end of AMEM" },
        { TERN_OMEM_BASE, 4, "OMEM (read only)" },
        { oend - 4, 4, "last OMEM word (read only)" },
        { oend, 4, "past OMEM" },
        { 0xC0000000u, 4, "0xC0000000" },
        { 0xFFFFFFFFu, 2, "0xFFFFFFFF, wrapping to 0" },
        { 0xFFFFFFFCu, 8, "0xFFFFFFFC, wrapping into WMEM" },
        { 0xBFFFFFFCu, 8, "0xBFFFFFFC, straddling nothing into nothing" },
    };
    uint8_t payload[16] = { 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5, 6 };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char what[96];
        snprintf(what, sizeof what, "WRITE_MEM 0x%08x len %u (%s)", cases[i].addr, cases[i].len,
                 cases[i].what);
        expect_cmd_refused(rd, TERN_OP_WRITE_MEM, cases[i].addr, payload, cases[i].len, TERN_ST_BAD_ADDR,
                           what);
    }
}

static void test_read_mem_out_of_range_is_bad_addr(void **state)
{
    struct rd *rd = *state;
    const uint32_t wend = (uint32_t)rd->wmem_bytes, aend = TERN_AMEM_BASE + (uint32_t)rd->amem_bytes;
    const uint32_t oend = TERN_OMEM_BASE + (uint32_t)rd->omem_bytes;
    const struct {
        uint32_t addr, count;
        const char *what;
    } cases[] = {
        { wend, 1, "first byte past WMEM" },
        { wend - 1, 2, "straddling the end of WMEM" },
        { TERN_AMEM_BASE - 1, 2, "straddling the start of AMEM" },
        { 0x3FFFFFFFu, 1, "the gap below AMEM" },
        { aend, 1, "first byte past AMEM" },
        { aend - 3, 4, "straddling the end of AMEM" },
        { TERN_OMEM_BASE - 4, 8, "straddling the start of OMEM" },
        { TERN_OMEM_BASE + 2, 4, "unaligned OMEM address" },
        { TERN_OMEM_BASE + 1, 4, "unaligned OMEM address" },
        { TERN_OMEM_BASE, 6, "unaligned OMEM length" },
        { TERN_OMEM_BASE, 1, "unaligned OMEM length" },
        { oend - 4, 8, "straddling the end of OMEM" },
        { oend, 4, "past OMEM" },
        { 0xFFFFFFFCu, 8, "0xFFFFFFFC, wrapping into WMEM" },
        { 0xFFFFFFFFu, 1, "0xFFFFFFFF" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char what[96];
        uint8_t p[4];
        unit_put_u32(p, cases[i].count);
        snprintf(what, sizeof what, "READ_MEM 0x%08x count %u (%s)", cases[i].addr, cases[i].count,
                 cases[i].what);
        expect_cmd_refused(rd, TERN_OP_READ_MEM, cases[i].addr, p, 4, TERN_ST_BAD_ADDR, what);
    }
}

/* The count of a READ_MEM is a length: out of 1..max_payload it answers BAD_LEN (the brief's reading
 * of section 6; ARCHITECTURE.md could also be read as BAD_ADDR, "length out of range"). */
static void test_read_mem_bad_count_is_bad_len(void **state)
{
    struct rd *rd = *state;
    const uint32_t mp = rd->cfg->max_payload;
    const struct {
        uint32_t addr, count;
        const char *what;
    } cases[] = {
        { 0, 0, "count 0" },
        { TERN_AMEM_BASE, 0, "count 0 in AMEM" },
        { TERN_OMEM_BASE, 0, "count 0 in OMEM" },
        { 0, mp + 1, "count max_payload + 1" },
        { TERN_OMEM_BASE, mp + 4, "count max_payload + 4 in OMEM" },
        { 0, 0xFFFFFFFFu, "count 2^32 - 1" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char what[96];
        uint8_t p[4];
        unit_put_u32(p, cases[i].count);
        snprintf(what, sizeof what, "READ_MEM 0x%08x count %u (%s)", cases[i].addr, cases[i].count,
                 cases[i].what);
        expect_cmd_refused(rd, TERN_OP_READ_MEM, cases[i].addr, p, 4, TERN_ST_BAD_LEN, what);
    }
}

static void test_wrong_payload_length_is_bad_len(void **state)
{
    struct rd *rd = *state;
    uint8_t p[40];
    memset(p, 0, sizeof p);
    p[0] = 4; /* a READ_MEM count of 4 and small values everywhere else */
    const struct {
        uint8_t op;
        uint32_t addr, len;
    } cases[] = {
        { TERN_OP_PING, 0, 4 },
        { TERN_OP_READ_REG, TERN_REG_SCRATCH, 4 },
        { TERN_OP_WRITE_REG, TERN_REG_SCRATCH, 0 },
        { TERN_OP_WRITE_REG, TERN_REG_SCRATCH, 3 },
        { TERN_OP_WRITE_REG, TERN_REG_SCRATCH, 5 },
        { TERN_OP_WRITE_REG, TERN_REG_SCRATCH, 8 },
        { TERN_OP_WRITE_MEM, TERN_AMEM_BASE, 0 },
        { TERN_OP_READ_MEM, TERN_AMEM_BASE, 0 },
        { TERN_OP_READ_MEM, TERN_AMEM_BASE, 3 },
        { TERN_OP_READ_MEM, TERN_AMEM_BASE, 8 },
        { TERN_OP_RUN, 0, 0 },
        { TERN_OP_RUN, 0, 24 },
        { TERN_OP_RUN, 0, 27 },
        { TERN_OP_RUN, 0, 32 },
        { TERN_OP_READ_COUNTERS, 0, 1 },
        { TERN_OP_RESET, 0, 4 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char what[96];
        snprintf(what, sizeof what, "%s addr 0x%08x with payload length %u",
                 tern_opcode_name(cases[i].op), cases[i].addr, cases[i].len);
        expect_cmd_refused(rd, cases[i].op, cases[i].addr, p, cases[i].len, TERN_ST_BAD_LEN, what);
    }
}

static void test_nonzero_addr_where_zero_required_is_bad_addr(void **state)
{
    struct rd *rd = *state;
    uint8_t run[TERN_RUN_PAYLOAD_BYTES];
    rd_run_payload(run, 0, 1, 1, 0, 1, 0, 0); /* a valid shape */
    const struct {
        uint8_t op;
        uint32_t addr;
        const uint8_t *payload;
        uint32_t len;
    } cases[] = {
        { TERN_OP_PING, 1, NULL, 0 },
        { TERN_OP_READ_COUNTERS, 4, NULL, 0 },
        { TERN_OP_RESET, 1, NULL, 0 },
        { TERN_OP_RESET, 0x80000000u, NULL, 0 },
        { TERN_OP_RUN, 1, run, TERN_RUN_PAYLOAD_BYTES },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char what[96];
        snprintf(what, sizeof what, "%s with addr 0x%08x", tern_opcode_name(cases[i].op), cases[i].addr);
        expect_cmd_refused(rd, cases[i].op, cases[i].addr, cases[i].payload, cases[i].len,
                           TERN_ST_BAD_ADDR, what);
    }
}

static void test_run_bad_shapes_are_bad_addr(void **state)
{
    struct rd *rd = *state;
    const struct tern_hwcfg *c = rd->cfg;
    const uint32_t L = c->lanes, W = c->width;
    const struct {
        uint32_t wbase, n, k, abase, t, obase, flags;
        const char *what;
    } cases[] = {
        { 0, 0, W, 0, 1, 0, 0, "n = 0" },
        { 0, L, 0, 0, 1, 0, 0, "k = 0" },
        { 0, L, W, 0, 0, 0, 0, "t = 0" },
        { 0, 1, c->max_k + 1, 0, 1, 0, 0, "k = max_k + 1" },
        { 0, 1, 0xFFFFFFFFu, 0, 1, 0, 0, "k = 2^32 - 1" },
        { c->wmem_words - 1, L + 1, W, 0, 1, 0, 0, "weights past WMEM (wbase + 2 > wmem_words)" },
        { c->wmem_words, 1, 1, 0, 1, 0, 0, "wbase = wmem_words" },
        { 0xFFFFFFFFu, 1, 1, 0, 1, 0, 0, "wbase = 2^32 - 1 (wraps)" },
        { 0, 1, 2 * W, c->amem_words - 1, 1, 0, 0, "activations past AMEM" },
        { 0, 1, W, c->amem_words - 1, 2, 0, 0, "two tokens past AMEM" },
        { 0, 1, W, 0xFFFFFFFFu, 1, 0, 0, "abase = 2^32 - 1 (wraps)" },
        { 0, 1, W + 1, 0, 0x80000000u, 0, 0, "t * KW = 2^32 (wraps to 0)" },
        { 0, L + 1, W, 0, 1, c->omem_words - 1, 0, "outputs past OMEM (2 row blocks)" },
        { 0, L, W, 0, 2, c->omem_words - 1, 0, "two tokens past OMEM" },
        { 0, 1, W, 0, 1, 0xFFFFFFFFu, 0, "obase = 2^32 - 1 (wraps)" },
        { 0, 0xFFFFFFFFu, W, 0, 1, 0, 0, "n = 2^32 - 1 (ceil(n/L) wraps)" },
        { 0, 0x20000000u * L, 8 * W, 0, 8, 0, 0, "NB * KW and t * NB both 2^32 (wrap to 0)" },
        { 0, L * 2, W, 0, 0x80000000u, 0, 0, "t * NB = 2^32 (wraps)" },
        { 0, L, W, 0, 1, 0, 2, "flags = 2" },
        { 0, L, W, 0, 1, 0, 3, "flags = 3" },
        { 0, L, W, 0, 1, 0, 0x80000000u, "flags = 0x80000000" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t p[TERN_RUN_PAYLOAD_BYTES];
        rd_run_payload(p, cases[i].wbase, cases[i].n, cases[i].k, cases[i].abase, cases[i].t,
                       cases[i].obase, cases[i].flags);
        char what[160];
        snprintf(what, sizeof what, "RUN %s (wbase %u n %u k %u abase %u t %u obase %u flags %u)",
                 cases[i].what, cases[i].wbase, cases[i].n, cases[i].k, cases[i].abase, cases[i].t,
                 cases[i].obase, cases[i].flags);
        expect_cmd_refused(rd, TERN_OP_RUN, 0, p, TERN_RUN_PAYLOAD_BYTES, TERN_ST_BAD_ADDR, what);
    }
}

static void test_run_largest_legal_shapes_accepted(void **state)
{
    struct rd *rd = *state;
    const struct tern_hwcfg *c = rd->cfg;
    /* each bound exactly met: the refusals above are not off by one */
    check_run(rd, c->wmem_words - 2, c->lanes + 1, c->width, 0, 1, 0, 0);
    check_run(rd, 0, 1, c->width, c->amem_words - 2, 2, 0, 0);
    check_run(rd, 0, c->lanes, c->width, 0, 2, c->omem_words - 2, 1);
}

/* ---- duplicates (retries) ---- */

static void test_duplicate_write_mem_not_executed_again(void **state)
{
    struct rd *rd = *state;
    const uint8_t first[4] = { 0x11, 0x22, 0x33, 0x44 }, second[4] = { 0x55, 0x66, 0x77, 0x88 };
    uint16_t seq = rd->seq++;
    int st = rd_cmd_seq(rd, TERN_OP_WRITE_MEM, seq, TERN_AMEM_BASE + 40, first, 4);
    rd_expect_status(st, TERN_ST_OK, "first WRITE_MEM");
    uint64_t c0[TERN_NUM_COUNTERS], c1[TERN_NUM_COUNTERS];
    rd_counters(rd, c0);
    st = rd_cmd_seq(rd, TERN_OP_WRITE_MEM, seq, TERN_AMEM_BASE + 40, second, 4);
    rd_counters(rd, c1);
    rd_expect_status(st, TERN_ST_OK, "repeated WRITE_MEM (same seq, other payload)");
    expect_counter_delta(c0, c1, TERN_CNT_FRAMES_OK, 1, "replayed WRITE_MEM");
    expect_counter_delta(c0, c1, TERN_CNT_CYC_COMMIT, 0, "replayed WRITE_MEM");
    size_t ab;
    const uint8_t *a = tern_refdev_amem(rd->dev, &ab);
    if (memcmp(a + 40, first, 4) != 0)
        fail_msg("repeated WRITE_MEM seq %u was executed again: AMEM 40..43 = %02x %02x %02x %02x", seq,
                 a[40], a[41], a[42], a[43]);
}

static void test_duplicate_write_reg_not_executed_again(void **state)
{
    struct rd *rd = *state;
    uint8_t p[4];
    uint16_t seq = rd->seq++;
    unit_put_u32(p, 0x1111u);
    rd_expect_status(rd_cmd_seq(rd, TERN_OP_WRITE_REG, seq, TERN_REG_SCRATCH, p, 4), TERN_ST_OK, "WRITE_REG");
    unit_put_u32(p, 0x2222u);
    rd_expect_status(rd_cmd_seq(rd, TERN_OP_WRITE_REG, seq, TERN_REG_SCRATCH, p, 4), TERN_ST_OK,
                     "repeated WRITE_REG");
    uint32_t v = rd_read_reg(rd, TERN_REG_SCRATCH);
    if (v != 0x1111u)
        fail_msg("repeated WRITE_REG SCRATCH seq %u executed again: SCRATCH 0x%x, want 0x1111", seq, v);
}

static void test_duplicate_replays_remembered_refusal(void **state)
{
    struct rd *rd = *state;
    uint8_t p[4];
    uint16_t seq = rd->seq++;
    unit_put_u32(p, 7);
    rd_expect_status(rd_cmd_seq(rd, TERN_OP_WRITE_REG, seq, TERN_REG_LANES, p, 4), TERN_ST_BAD_ADDR,
                     "WRITE_REG LANES");
    /* same seq and opcode: a retry, answered with the remembered status even though this one is valid */
    rd_expect_status(rd_cmd_seq(rd, TERN_OP_WRITE_REG, seq, TERN_REG_SCRATCH, p, 4), TERN_ST_BAD_ADDR,
                     "repeat of a refused WRITE_REG with the same seq");
    uint32_t v = rd_read_reg(rd, TERN_REG_SCRATCH);
    if (v == 7)
        fail_msg("the repeat (same seq %u, WRITE_REG) was executed: SCRATCH = 7", seq);
}

static void test_duplicate_detected_across_corrupt_frame(void **state)
{
    struct rd *rd = *state;
    const uint8_t first[2] = { 0xAB, 0xCD }, second[2] = { 0x01, 0x02 };
    uint16_t seq = rd->seq++;
    rd_expect_status(rd_cmd_seq(rd, TERN_OP_WRITE_MEM, seq, TERN_WMEM_BASE + 5, first, 2), TERN_ST_OK,
                     "WRITE_MEM");
    /* the retry is corrupted once in transit (BAD_HCRC), then arrives whole */
    size_t n;
    do {
        n = tern_frame_cmd(rd->tx, rd->tx_cap, TERN_OP_WRITE_MEM, seq, TERN_WMEM_BASE + 5, second, 2);
        rd->tx[17] ^= 0x02;
        if (!frame_clean(rd->tx, 2, n))
            fail_msg("test bytes not clean: choose another payload");
    } while (0);
    int nr = rd_exchange(rd, rd->tx, n);
    if (nr != 1 || rd->rsp[0].status != TERN_ST_BAD_HCRC)
        fail_msg("corrupted retry: %d responses, status %s", nr, tern_status_name(rd->rsp[0].status));
    rd_expect_status(rd_cmd_seq(rd, TERN_OP_WRITE_MEM, seq, TERN_WMEM_BASE + 5, second, 2), TERN_ST_OK,
                     "retry after a corrupted retry");
    size_t wb;
    const uint8_t *w = tern_refdev_wmem(rd->dev, &wb);
    if (w[5] != 0xAB || w[6] != 0xCD)
        fail_msg("retry seq %u after a BAD_HCRC frame was executed: WMEM 5..6 = %02x %02x", seq, w[5],
                 w[6]);
}

static void test_duplicate_run_accumulate_not_accumulated_twice(void **state)
{
    struct rd *rd = *state;
    const struct tern_hwcfg *c = rd->cfg;
    uint32_t n = c->lanes + 1, k = 2 * c->width + 1, t = 2;
    struct rd_snap s;
    rd_snap_take(rd, &s);
    rd_run_oracle(rd, s.wmem, s.amem, s.omem, 3, n, k, 5, t, 7, 1);
    uint8_t p[TERN_RUN_PAYLOAD_BYTES];
    rd_run_payload(p, 3, n, k, 5, t, 7, 1);
    uint16_t seq = rd->seq++;
    rd_expect_status(rd_cmd_seq(rd, TERN_OP_RUN, seq, 0, p, sizeof p), TERN_ST_OK, "RUN accumulate");
    uint64_t c0[TERN_NUM_COUNTERS], c1[TERN_NUM_COUNTERS];
    rd_counters(rd, c0);
    rd_expect_status(rd_cmd_seq(rd, TERN_OP_RUN, seq, 0, p, sizeof p), TERN_ST_OK, "repeated RUN accumulate");
    rd_counters(rd, c1);
    expect_counter_delta(c0, c1, TERN_CNT_TERN_OPS, 0, "replayed RUN");
    expect_counter_delta(c0, c1, TERN_CNT_CYC_COMPUTE, 0, "replayed RUN");
    for (size_t i = 0; i < s.nomem; i++)
        if (tern_refdev_omem_entry(rd->dev, i) != s.omem[i])
            fail_msg("RUN accumulate repeated with seq %u: OMEM entry %zu = %d, want %d (accumulated once)",
                     seq, i, tern_refdev_omem_entry(rd->dev, i), s.omem[i]);
    rd_snap_free(&s);
}

static void test_duplicate_read_executed_again(void **state)
{
    struct rd *rd = *state;
    uint16_t seq = rd->seq++;
    rd_expect_status(rd_cmd_seq(rd, TERN_OP_READ_COUNTERS, seq, 0, NULL, 0), TERN_ST_OK, "READ_COUNTERS");
    assert_int_equal(rd->rsp[0].len, 8 * TERN_NUM_COUNTERS);
    uint64_t first_cycles = unit_get_u64(rd->rsp[0].payload);
    rd_expect_status(rd_cmd_seq(rd, TERN_OP_READ_COUNTERS, seq, 0, NULL, 0), TERN_ST_OK,
                     "repeated READ_COUNTERS");
    if (rd->rsp[0].len != 8 * TERN_NUM_COUNTERS)
        fail_msg("repeated READ_COUNTERS seq %u: len %u, want 120", seq, rd->rsp[0].len);
    uint64_t second_cycles = unit_get_u64(rd->rsp[0].payload);
    if (second_cycles <= first_cycles)
        fail_msg("repeated READ_COUNTERS seq %u not executed again: CYCLES %llu then %llu", seq,
                 (unsigned long long)first_cycles, (unsigned long long)second_cycles);
}

static void test_duplicate_read_mem_returns_data_again(void **state)
{
    struct rd *rd = *state;
    uint8_t p[4];
    unit_put_u32(p, 16);
    uint16_t seq = rd->seq++;
    size_t ab;
    const uint8_t *a = tern_refdev_amem(rd->dev, &ab);
    for (int rep = 0; rep < 3; rep++) {
        int st = rd_cmd_seq(rd, TERN_OP_READ_MEM, seq, TERN_AMEM_BASE + 64, p, 4);
        if (st != TERN_ST_OK || rd->rsp[0].len != 16 || memcmp(rd->rsp[0].payload, a + 64, 16) != 0)
            fail_msg("READ_MEM seq %u, repetition %d: status %s len %u or data differ", seq, rep,
                     tern_status_name(st), rd->rsp[0].len);
    }
}

static void test_same_seq_other_opcode_executes(void **state)
{
    struct rd *rd = *state;
    uint8_t p[4];
    uint16_t seq = rd->seq++;
    unit_put_u32(p, 0xAAAAu);
    rd_expect_status(rd_cmd_seq(rd, TERN_OP_WRITE_REG, seq, TERN_REG_SCRATCH, p, 4), TERN_ST_OK, "WRITE_REG");
    const uint8_t d[3] = { 1, 2, 3 };
    rd_expect_status(rd_cmd_seq(rd, TERN_OP_WRITE_MEM, seq, TERN_AMEM_BASE + 3, d, 3), TERN_ST_OK,
                     "WRITE_MEM with the same seq");
    size_t ab;
    const uint8_t *a = tern_refdev_amem(rd->dev, &ab);
    if (memcmp(a + 3, d, 3) != 0)
        fail_msg("WRITE_MEM with the seq %u of the previous WRITE_REG was not executed", seq);
}

static void test_next_seq_executes(void **state)
{
    struct rd *rd = *state;
    uint8_t p[4];
    uint16_t seq = rd->seq++;
    unit_put_u32(p, 0x1u);
    rd_expect_status(rd_cmd_seq(rd, TERN_OP_WRITE_REG, seq, TERN_REG_SCRATCH, p, 4), TERN_ST_OK, "WRITE_REG");
    unit_put_u32(p, 0x2u);
    rd_expect_status(rd_cmd_seq(rd, TERN_OP_WRITE_REG, (uint16_t)(seq + 1), TERN_REG_SCRATCH, p, 4),
                     TERN_ST_OK, "WRITE_REG with the next seq");
    rd->seq++;
    assert_int_equal(rd_read_reg(rd, TERN_REG_SCRATCH), 2);
}

/* ---- RESET ---- */

static void test_reset_clears_counters_scratch_flags_keeps_memories(void **state)
{
    struct rd *rd = *state;
    /* set ERR_FLAGS through an illegal code in a RUN */
    uint8_t bad = 0x02;
    rd_write_mem(rd, TERN_WMEM_BASE, &bad, 1);
    rd_expect_status(rd_run(rd, 0, 1, 1, 0, 1, 0, 0), TERN_ST_ILLEGAL_CODE, "RUN over code 10");
    assert_int_equal(rd_read_reg(rd, TERN_REG_ERR_FLAGS) & 1u, 1);
    assert_int_not_equal(rd_read_reg(rd, TERN_REG_SCRATCH), 0);
    struct rd_snap before;
    rd_snap_take(rd, &before);
    rd_expect_status(rd_cmd(rd, TERN_OP_RESET, 0, NULL, 0), TERN_ST_OK, "RESET");
    uint64_t c[TERN_NUM_COUNTERS];
    rd_counters(rd, c);
    const int zeroed[] = { TERN_CNT_CYC_RX, TERN_CNT_CYC_CTRL, TERN_CNT_CYC_COMMIT, TERN_CNT_CYC_COMPUTE,
                           TERN_CNT_CYC_PIPE, TERN_CNT_TERN_OPS, TERN_CNT_BYTES_IN, TERN_CNT_FRAMES_ERR,
                           TERN_CNT_ILLEGAL_RUNS };
    for (size_t i = 0; i < sizeof zeroed / sizeof zeroed[0]; i++)
        if (c[zeroed[i]] != 0)
            fail_msg("after RESET counter %s = %llu, want 0", tern_counter_name(zeroed[i]),
                     (unsigned long long)c[zeroed[i]]);
    assert_int_equal(rd_read_reg(rd, TERN_REG_SCRATCH), 0);
    assert_int_equal(rd_read_reg(rd, TERN_REG_ERR_FLAGS), 0);
    before.scratch = 0;
    before.err_flags = 0;
    rd_snap_expect_same(rd, &before, "RESET (memories must be kept)");
    rd_snap_free(&before);
}

/* ---- illegal codes ---- */

static void test_illegal_code_in_run_reported_and_counted_as_zero(void **state)
{
    struct rd *rd = *state;
    const struct tern_hwcfg *c = rd->cfg;
    uint32_t n = 3, k = c->width + 3, wbase = 10, abase = 5, t = 2, obase = 3;
    size_t wb;
    const uint8_t *w = tern_refdev_wmem(rd->dev, &wb);
    uint8_t *img = malloc(wb);
    assert_non_null(img);
    memcpy(img, w, wb);
    rd_code_put(rd, img, wbase, k, 1, 2, 2u);           /* row 1, column 2: code 10 */
    rd_code_put(rd, img, wbase, k, 2, c->width + 1, 2u); /* row 2, second column word */
    size_t wordb = c->lanes * c->width / 4;
    rd_write_mem(rd, TERN_WMEM_BASE + wbase * (uint32_t)wordb, img + wbase * wordb, 2 * wordb);
    struct rd_snap s;
    rd_snap_take(rd, &s);
    rd_run_oracle(rd, s.wmem, s.amem, s.omem, wbase, n, k, abase, t, obase, 0);
    uint64_t c0[TERN_NUM_COUNTERS], c1[TERN_NUM_COUNTERS];
    rd_counters(rd, c0);
    int st = rd_run(rd, wbase, n, k, abase, t, obase, 0);
    rd_counters(rd, c1);
    rd_expect_status(st, TERN_ST_ILLEGAL_CODE, "RUN over two 10 codes in real elements");
    for (size_t i = 0; i < s.nomem; i++)
        if (tern_refdev_omem_entry(rd->dev, i) != s.omem[i])
            fail_msg("RUN with code 10: OMEM entry %zu = %d, want %d (10 counted as 0, RUN completed)", i,
                     tern_refdev_omem_entry(rd->dev, i), s.omem[i]);
    expect_counter_delta(c0, c1, TERN_CNT_ILLEGAL_RUNS, 1, "RUN with code 10");
    expect_counter_delta(c0, c1, TERN_CNT_FRAMES_ERR, 1, "RUN with code 10");
    assert_int_equal(rd_read_reg(rd, TERN_REG_ERR_FLAGS), TERN_ERR_ILLEGAL_CODE);
    rd_snap_free(&s);
    free(img);
}

static void test_err_flags_write_one_clears(void **state)
{
    struct rd *rd = *state;
    uint8_t bad = 0x08; /* element 1 of lane 0 = code 10 */
    rd_write_mem(rd, TERN_WMEM_BASE, &bad, 1);
    rd_expect_status(rd_run(rd, 0, 1, 2, 0, 1, 0, 0), TERN_ST_ILLEGAL_CODE, "RUN over code 10");
    rd_write_reg(rd, TERN_REG_ERR_FLAGS, 0);
    if (rd_read_reg(rd, TERN_REG_ERR_FLAGS) != 1)
        fail_msg("writing 0 to ERR_FLAGS changed the sticky bit");
    rd_write_reg(rd, TERN_REG_ERR_FLAGS, 2); /* other bits: no effect on bit 0 */
    if (rd_read_reg(rd, TERN_REG_ERR_FLAGS) != 1)
        fail_msg("writing 2 to ERR_FLAGS changed bit 0");
    rd_write_reg(rd, TERN_REG_ERR_FLAGS, 1);
    if (rd_read_reg(rd, TERN_REG_ERR_FLAGS) != 0)
        fail_msg("writing 1 to ERR_FLAGS did not clear bit 0");
    /* a clean RUN does not set it again */
    rd_write_mem(rd, TERN_WMEM_BASE, (const uint8_t *)"\x01", 1);
    rd_expect_status(rd_run(rd, 0, 1, 2, 0, 1, 0, 0), TERN_ST_OK, "RUN after fixing the code");
    assert_int_equal(rd_read_reg(rd, TERN_REG_ERR_FLAGS), 0);
}

static void test_illegal_code_in_padding_columns_ignored(void **state)
{
    struct rd *rd = *state;
    const struct tern_hwcfg *c = rd->cfg;
    uint32_t k = c->width + 3, n = c->lanes, wbase = 20;
    size_t wordb = c->lanes * c->width / 4;
    uint8_t *img = calloc(2, wordb);
    assert_non_null(img);
    for (uint32_t r = 0; r < n; r++)
        for (uint32_t col = 0; col < k; col++)
            rd_code_put(rd, img, 0, k, r, col, (r + col) % 2 ? 1u : 3u);
    for (uint32_t r = 0; r < n; r++) /* every padding column of every lane holds 10 */
        for (uint32_t col = k; col < 2 * c->width; col++)
            rd_code_put(rd, img, 0, k, r, col, 2u);
    rd_write_mem(rd, TERN_WMEM_BASE + wbase * (uint32_t)wordb, img, 2 * wordb);
    struct rd_snap s;
    rd_snap_take(rd, &s);
    rd_run_oracle(rd, s.wmem, s.amem, s.omem, wbase, n, k, 0, 1, 0, 0);
    int st = rd_run(rd, wbase, n, k, 0, 1, 0, 0);
    rd_expect_status(st, TERN_ST_OK, "RUN with code 10 only in padding columns");
    assert_int_equal(rd_read_reg(rd, TERN_REG_ERR_FLAGS), 0);
    for (uint32_t r = 0; r < n; r++)
        if (tern_refdev_omem_entry(rd->dev, r) != s.omem[r])
            fail_msg("padding-column 10s changed row %u: %d, want %d", r, tern_refdev_omem_entry(rd->dev, r),
                     s.omem[r]);
    rd_snap_free(&s);
    free(img);
}

static void test_illegal_code_in_padding_rows_ignored(void **state)
{
    struct rd *rd = *state;
    const struct tern_hwcfg *c = rd->cfg;
    uint32_t k = c->width, n = c->lanes - 1, wbase = 30;
    size_t wordb = c->lanes * c->width / 4;
    uint8_t *img = calloc(1, wordb);
    assert_non_null(img);
    for (uint32_t r = 0; r < n; r++)
        for (uint32_t col = 0; col < k; col++)
            rd_code_put(rd, img, 0, k, r, col, 1u);
    for (uint32_t col = 0; col < k; col++) /* the padding lane is all 10 */
        rd_code_put(rd, img, 0, k, c->lanes - 1, col, 2u);
    rd_write_mem(rd, TERN_WMEM_BASE + wbase * (uint32_t)wordb, img, wordb);
    struct rd_snap s;
    rd_snap_take(rd, &s);
    rd_run_oracle(rd, s.wmem, s.amem, s.omem, wbase, n, k, 0, 1, 0, 0);
    int st = rd_run(rd, wbase, n, k, 0, 1, 0, 0);
    rd_expect_status(st, TERN_ST_OK, "RUN with code 10 only in the padding row");
    assert_int_equal(rd_read_reg(rd, TERN_REG_ERR_FLAGS), 0);
    for (uint32_t r = 0; r < c->lanes; r++)
        if (tern_refdev_omem_entry(rd->dev, r) != s.omem[r])
            fail_msg("padding-row 10s: row %u = %d, want %d (padding lane must be 0)", r,
                     tern_refdev_omem_entry(rd->dev, r), s.omem[r]);
    rd_snap_free(&s);
    free(img);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup_tiny, teardown)
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ping_id_block_tiny),
        cmocka_unit_test(test_ping_id_block_default),
        cmocka_unit_test(test_ping_id_block_large),
        cmocka_unit_test(test_hwcfg_link_kinds_match_config_files),
        T(test_read_reg_matches_ping_words),
        T(test_scratch_round_trip),
        T(test_id_registers_are_read_only),
        T(test_unknown_registers_are_bad_addr),
        T(test_mem_round_trip_at_region_edges),
        cmocka_unit_test(test_region_sizes_default),
        cmocka_unit_test(test_region_sizes_large),
        T(test_omem_read_is_sign_extended_entries),
        T(test_omem_last_word_readable),
        T(test_run_matches_hardware_layout_oracle),
        T(test_run_at_max_k_and_full_memories),
        T(test_run_extreme_values_exact),
        T(test_bad_magic_is_hunted_without_response),
        T(test_bad_hcrc_answered_and_ignored),
        T(test_bad_hcrc_from_flipped_addr_writes_nowhere),
        T(test_bad_hcrc_answered_right_after_header),
        T(test_bad_pcrc_answered_and_ignored),
        T(test_bad_pcrc_on_empty_payload),
        T(test_bad_version_answered_and_payload_hunted),
        T(test_header_checks_in_order),
        T(test_truncated_frame_eats_next_frame),
        T(test_len_over_max_payload_answered_after_header),
        T(test_len_over_max_payload_hunts_through_payload),
        T(test_unknown_opcodes_are_bad_opcode),
        T(test_write_mem_out_of_range_is_bad_addr),
        T(test_read_mem_out_of_range_is_bad_addr),
        T(test_read_mem_bad_count_is_bad_len),
        T(test_wrong_payload_length_is_bad_len),
        T(test_nonzero_addr_where_zero_required_is_bad_addr),
        T(test_run_bad_shapes_are_bad_addr),
        T(test_run_largest_legal_shapes_accepted),
        T(test_duplicate_write_mem_not_executed_again),
        T(test_duplicate_write_reg_not_executed_again),
        T(test_duplicate_replays_remembered_refusal),
        T(test_duplicate_detected_across_corrupt_frame),
        T(test_duplicate_run_accumulate_not_accumulated_twice),
        T(test_duplicate_read_executed_again),
        T(test_duplicate_read_mem_returns_data_again),
        T(test_same_seq_other_opcode_executes),
        T(test_next_seq_executes),
        T(test_reset_clears_counters_scratch_flags_keeps_memories),
        T(test_illegal_code_in_run_reported_and_counted_as_zero),
        T(test_err_flags_write_one_clears),
        T(test_illegal_code_in_padding_columns_ignored),
        T(test_illegal_code_in_padding_rows_ignored),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
