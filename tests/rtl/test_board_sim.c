/* test_board_sim.c — the board tops (rtl/tern_board_<link>.sv) through tern_board_sim, the bridge
 * chip's side of the pins: real command frames go in over the UART or the FT245 FIFO and every
 * response must be byte-identical to the reference model's for the same frames (READ_COUNTERS
 * too, except CYCLES, STALL_RX and STALL_TX, which a real link changes; the informational
 * BACKEND register is masked as in test_vs_ref.c). Also: the accounting of in_used / out_len /
 * cycles call by call, the chip's byte timing, back-pressure (small and empty output buffers),
 * and for the UART baud-rate mismatches (+-2 % tolerated, +-5 % and +-20 % garbled, never a hang).
 * argv[1] names the configuration (one with a board model). */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "rtl_util.h"
#include "tern/tern_board_sim.h"

/* Cycles one exchange may take at most (a full-payload frame over the 3 Mbaud UART is ~12k). */
#define BUDGET 5000000ull

struct bench {
    tern_board_sim *b;
    tern_refdev *ref;
    const struct tern_hwcfg *c;
    uint16_t seq;
    uint8_t *frame, *rx, *ref_rx;
    size_t cap;
    size_t rx_len, ref_len;
    uint64_t calls; /* tern_board_sim_run calls of the last exchange */
};

static struct bench *bench_open(uint32_t seed, uint32_t baud)
{
    struct bench *q = calloc(1, sizeof *q);
    assert_non_null(q);
    q->c = tern_hwcfg_find(g_config);
    if (!q->c)
        fail_msg("configuration %s is not in the generated table", g_config);
    struct tern_board_sim_opts opts = {NULL, seed, baud};
    char err[256] = "";
    int e = tern_board_sim_create(g_config, &opts, &q->b, err, sizeof err);
    if (e)
        fail_msg("tern_board_sim_create(%s) = %d: %s", g_config, e, err);
    assert_int_equal(tern_refdev_create(q->c, &q->ref), TERN_OK);
    q->cap = 2 * (size_t)q->c->max_payload + 4096;
    q->frame = malloc(q->cap);
    q->rx = malloc(q->cap + 16); /* 16 canary bytes past every cap handed to the board */
    q->ref_rx = malloc(q->cap);
    assert_true(q->frame && q->rx && q->ref_rx);
    q->seq = 1;
    return q;
}

static void bench_close(struct bench *q)
{
    tern_board_sim_destroy(q->b);
    tern_refdev_destroy(q->ref);
    free(q->frame);
    free(q->rx);
    free(q->ref_rx);
    free(q);
}

/* Feed in[0..n) to the board with output chunks of `chunk` bytes (0: none at all for the first
 * `starve` cycles, to hold the FIFO off / make the UART drop), until every byte is taken and the
 * board is quiet; q->rx gets what came out. Checks the accounting of every call. Returns 0, or
 * TERN_E_TIMEOUT when the budget ran out first (the board never went quiet). */
static int board_xfer(struct bench *q, const uint8_t *in, size_t n, size_t chunk, uint64_t starve,
                      uint64_t budget)
{
    size_t taken = 0;
    uint64_t spent = 0;
    const uint64_t cyc0 = tern_board_sim_cycles(q->b);
    q->rx_len = 0;
    q->calls = 0;
    while (!(taken == n && tern_board_sim_quiet(q->b))) {
        if (spent >= budget)
            return TERN_E_TIMEOUT;
        size_t cap = spent < starve ? 0 : chunk;
        if (cap > q->cap - q->rx_len)
            cap = q->cap - q->rx_len;
        uint64_t max = spent < starve ? starve - spent : budget - spent;
        memset(q->rx + q->rx_len + cap, 0x5A, 16);
        size_t used = 99, len = 99;
        uint64_t ran = 99;
        int e = tern_board_sim_run(q->b, in + taken, n - taken, &used, q->rx + q->rx_len, cap, &len, max, &ran);
        assert_int_equal(e, TERN_OK);
        q->calls++;
        assert_true(used <= n - taken);
        assert_true(len <= cap);
        assert_true(ran <= max);
        for (int i = 0; i < 16; i++)
            assert_int_equal(q->rx[q->rx_len + cap + i], 0x5A); /* nothing written past cap */
        /* an early return: out filled, or everything taken and quiet */
        if (ran < max && !(cap && len == cap))
            assert_true(used == n - taken && tern_board_sim_quiet(q->b));
        taken += used;
        q->rx_len += len;
        spent += ran;
    }
    assert_int_equal(taken, n);
    assert_int_equal(tern_board_sim_cycles(q->b) - cyc0, spent); /* cycles agree with *ran */
    return 0;
}

/* Mask what a real link may change: the BACKEND register (0 RTL, 1 ref) and the cycle and stall
 * counters of READ_COUNTERS; the payload CRC is recomputed. */
static void mask(uint8_t *buf, size_t n, uint8_t op)
{
    if (n < 18 || buf[6] != TERN_ST_OK)
        return;
    uint32_t len = tern_get_u32(buf + 8);
    uint8_t *pl = buf + 14;
    if (n < 18 + (size_t)len)
        return;
    if (op == TERN_OP_PING && len == 80) {
        tern_put_u32(pl + 4 * TERN_REG_BACKEND, 0);
    } else if (op == TERN_OP_READ_COUNTERS && len == 8 * TERN_NUM_COUNTERS) {
        tern_put_u64(pl + 8 * TERN_CNT_CYCLES, 0);
        tern_put_u64(pl + 8 * TERN_CNT_CYC_STALL_RX, 0);
        tern_put_u64(pl + 8 * TERN_CNT_CYC_STALL_TX, 0);
    } else {
        return;
    }
    tern_put_u32(pl + len, tern_crc32(pl, len));
}

/* One command to the board and to ref; the responses must be identical. Returns the status. */
static int cmd_chunked(struct bench *q, uint8_t op, uint32_t addr, const void *pl, uint32_t len, size_t chunk,
                       uint64_t starve)
{
    size_t n = tern_frame_cmd(q->frame, q->cap, op, q->seq++, addr, pl, len);
    assert_true(n > 0);
    if (board_xfer(q, q->frame, n, chunk, starve, BUDGET))
        fail_msg("%s: %s: the board is not quiet after %llu cycles", g_config, tern_opcode_name(op),
                 (unsigned long long)BUDGET);
    tern_refdev_push(q->ref, q->frame, n);
    q->ref_len = tern_refdev_pull(q->ref, q->ref_rx, q->cap);
    mask(q->rx, q->rx_len, op);
    mask(q->ref_rx, q->ref_len, op);
    if (q->rx_len != q->ref_len || memcmp(q->rx, q->ref_rx, q->rx_len) != 0) {
        size_t i = 0;
        while (i < q->rx_len && i < q->ref_len && q->rx[i] == q->ref_rx[i])
            i++;
        fail_msg("%s: %s: board sent %zu bytes, ref %zu; first difference at byte %zu (board %02x ref %02x)",
                 g_config, tern_opcode_name(op), q->rx_len, q->ref_len, i, i < q->rx_len ? q->rx[i] : 0,
                 i < q->ref_len ? q->ref_rx[i] : 0);
    }
    assert_true(q->rx_len >= TERN_RSP_OVERHEAD);
    return q->rx[6];
}

static int cmd(struct bench *q, uint8_t op, uint32_t addr, const void *pl, uint32_t len)
{
    return cmd_chunked(q, op, addr, pl, len, q->cap, 0);
}

static uint32_t wmem_word_bytes(const struct tern_hwcfg *c)
{
    return c->lanes * c->width / 4;
}

/* Random legal codes (00, 01, 11 pairs). */
static void legal_codes(struct prng *p, uint8_t *buf, size_t n)
{
    for (size_t i = 0; i < n; i++)
        buf[i] = (uint8_t)(prng_code(p) | prng_code(p) << 2 | prng_code(p) << 4 | prng_code(p) << 6);
}

/* ------------------------------------------------------------------------------------------ */

static void test_configs(void **state)
{
    (void)state;
    const char *names[16];
    int links[16];
    int n = tern_board_sim_configs(names, links, 16);
    assert_true(n >= 1 && n <= 16);
    const struct tern_hwcfg *c = tern_hwcfg_find(g_config);
    assert_non_null(c);
    int found = 0;
    for (int i = 0; i < n; i++) {
        const struct tern_hwcfg *ci = tern_hwcfg_find(names[i]);
        assert_non_null(ci);
        assert_int_equal(links[i], (int)ci->link_kind); /* uart or fifo245 */
        assert_true(links[i] == TERN_LINK_UART || links[i] == TERN_LINK_FIFO245);
        found += strcmp(names[i], g_config) == 0;
    }
    assert_int_equal(found, 1);
    assert_int_equal(tern_board_sim_configs(NULL, NULL, 0), n);

    /* every configuration without a bridge RTL (ft601) has no board model; one with a bridge that
     * was not Verilated into this build (-DTERN_SIM_CONFIGS) is refused, naming the option */
    for (size_t i = 0; tern_hwcfg_at(i); i++) {
        const struct tern_hwcfg *ci = tern_hwcfg_at(i);
        int built = 0;
        for (int j = 0; j < n; j++)
            built |= strcmp(names[j], ci->name) == 0;
        if (built)
            continue;
        tern_board_sim *b = NULL;
        char err[512] = "";
        assert_int_equal(tern_board_sim_create(ci->name, NULL, &b, err, sizeof err), TERN_E_NOTFOUND);
        assert_null(b);
        assert_non_null(strstr(err, ci->name));
        if (ci->link_kind == TERN_LINK_UART || ci->link_kind == TERN_LINK_FIFO245) {
            if (!strstr(err, "not Verilated") || !strstr(err, "-DTERN_SIM_CONFIGS"))
                fail_msg("board of %s not built in: unclear message \"%s\"", ci->name, err);
        } else {
            assert_non_null(strstr(err, "no board model"));
        }
    }
    tern_board_sim *b = NULL;
    char err[128] = "";
    assert_int_equal(tern_board_sim_create("no-such-config", NULL, &b, err, sizeof err), TERN_E_NOTFOUND);
    assert_true(err[0] != 0);

    struct bench *q = bench_open(0, 0);
    assert_int_equal(tern_board_sim_link(q->b), (int)c->link_kind);
    if (c->link_kind == TERN_LINK_UART)
        assert_int_equal(tern_board_sim_clock_hz(q->b), c->clock_hz);
    else
        assert_int_equal(tern_board_sim_clock_hz(q->b), 60000000); /* the FT chip's CLKOUT */
    assert_int_equal(tern_board_sim_cycles(q->b), 0);
    assert_true(tern_board_sim_quiet(q->b));
    /* quiet and nothing to send: returns at once */
    size_t used = 1, len = 1;
    uint64_t ran = 1;
    assert_int_equal(tern_board_sim_run(q->b, NULL, 0, &used, q->rx, 16, &len, 1000, &ran), TERN_OK);
    assert_int_equal(used, 0);
    assert_int_equal(len, 0);
    assert_int_equal(ran, 0);
    assert_int_equal(tern_board_sim_run(NULL, NULL, 0, &used, q->rx, 16, &len, 1000, &ran), TERN_E_INVAL);
    bench_close(q);

    /* a waveform of the whole board; a trace file that cannot be opened is TERN_E_IO (and a
     * build without waveform support says TERN_E_UNSUPPORTED) */
    char path[96];
    snprintf(path, sizeof path, "board_sim_%s.fst", g_config);
    struct tern_board_sim_opts opts = {path, 0, 0};
    int e = tern_board_sim_create(g_config, &opts, &b, err, sizeof err);
    if (!tern_sim_has_trace()) { /* -DTERN_SIM_TRACE=OFF */
        assert_int_equal(e, TERN_E_UNSUPPORTED);
        assert_null(b);
        assert_non_null(strstr(err, "-DTERN_SIM_TRACE=OFF"));
        print_message("%s: %s: no trace check\n", g_config, err);
        return;
    }
    assert_int_equal(e, TERN_OK);
    uint8_t f[32], o[128];
    size_t fn = tern_frame_cmd(f, sizeof f, TERN_OP_PING, 1, 0, NULL, 0);
    assert_int_equal(tern_board_sim_run(b, f, fn, &used, o, sizeof o, &len, BUDGET, &ran), TERN_OK);
    assert_int_equal(used, fn);
    assert_int_equal(len, TERN_RSP_OVERHEAD + 80);
    tern_board_sim_destroy(b);
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    assert_int_equal(fseek(fp, 0, SEEK_END), 0);
    assert_true(ftell(fp) > 1000);
    fclose(fp);
    remove(path);
    opts.trace_path = "/nonexistent-dir/board.fst";
    b = NULL;
    assert_int_equal(tern_board_sim_create(g_config, &opts, &b, err, sizeof err), TERN_E_IO);
    assert_null(b);
}

static void test_ping_and_registers(void **state)
{
    (void)state;
    for (uint32_t seed = 0; seed < 2; seed++) { /* from all-zero and from a random initial state */
        struct bench *q = bench_open(seed, 0);
        assert_int_equal(cmd(q, TERN_OP_PING, 0, NULL, 0), TERN_ST_OK);
        assert_int_equal(q->rx_len, TERN_RSP_OVERHEAD + 80);
        uint8_t v[4];
        tern_put_u32(v, 0xC0DEF00Du);
        assert_int_equal(cmd(q, TERN_OP_WRITE_REG, TERN_REG_SCRATCH, v, 4), TERN_ST_OK);
        assert_int_equal(cmd(q, TERN_OP_READ_REG, TERN_REG_SCRATCH, NULL, 0), TERN_ST_OK);
        assert_int_equal(tern_get_u32(q->rx + 14), 0xC0DEF00Du);
        assert_int_equal(cmd(q, TERN_OP_READ_REG, TERN_REG_LINK_KIND, NULL, 0), TERN_ST_OK);
        assert_int_equal(tern_get_u32(q->rx + 14), q->c->link_kind);
        /* refused frames answer identically too */
        assert_int_equal(cmd(q, TERN_OP_READ_REG, 200, NULL, 0), TERN_ST_BAD_ADDR);
        assert_int_equal(cmd(q, 0x3F, 0, NULL, 0), TERN_ST_BAD_OPCODE);
        assert_int_equal(cmd(q, TERN_OP_READ_COUNTERS, 0, NULL, 0), TERN_ST_OK);
        assert_int_equal(tern_board_sim_frame_errors(q->b), 0);
        assert_int_equal(tern_board_sim_dropped(q->b), 0);
        bench_close(q);
    }
}

static void test_write_read_mem(void **state)
{
    (void)state;
    struct bench *q = bench_open(3, 0);
    struct prng p = prng_seed(11);
    const uint32_t mp = q->c->max_payload;
    uint8_t *data = malloc(2 * mp);
    assert_non_null(data);
    /* WMEM: two full frames and an odd tail; AMEM: one frame at an odd address */
    prng_bytes(&p, data, 2 * mp);
    assert_int_equal(cmd(q, TERN_OP_WRITE_MEM, TERN_WMEM_BASE, data, mp), TERN_ST_OK);
    assert_int_equal(cmd(q, TERN_OP_WRITE_MEM, TERN_WMEM_BASE + mp, data + mp, mp), TERN_ST_OK);
    assert_int_equal(cmd(q, TERN_OP_WRITE_MEM, TERN_WMEM_BASE + 2 * mp, data, 37), TERN_ST_OK);
    assert_int_equal(cmd(q, TERN_OP_WRITE_MEM, TERN_AMEM_BASE + 5, data + 3, mp / 2), TERN_ST_OK);
    uint8_t cnt[4];
    tern_put_u32(cnt, mp);
    assert_int_equal(cmd(q, TERN_OP_READ_MEM, TERN_WMEM_BASE + mp, cnt, 4), TERN_ST_OK);
    assert_memory_equal(q->rx + 14, data + mp, mp);
    tern_put_u32(cnt, mp / 2 - 3); /* only what was written: the rest is undefined after a random start */
    assert_int_equal(cmd(q, TERN_OP_READ_MEM, TERN_AMEM_BASE + 8, cnt, 4), TERN_ST_OK);
    assert_memory_equal(q->rx + 14, data + 6, mp / 2 - 3);
    tern_put_u32(cnt, mp + 1); /* BAD_LEN */
    assert_int_equal(cmd(q, TERN_OP_READ_MEM, TERN_WMEM_BASE, cnt, 4), TERN_ST_BAD_LEN);
    assert_int_equal(cmd(q, TERN_OP_READ_COUNTERS, 0, NULL, 0), TERN_ST_OK);
    free(data);
    bench_close(q);
}

/* A RUN of NB = 2 lane blocks, KW = 2 column words and t = 2 tokens on legal random codes, then
 * the outputs read back; a second one accumulating onto them; an illegal code. */
static void test_run(void **state)
{
    (void)state;
    struct bench *q = bench_open(5, 0);
    struct prng p = prng_seed(21);
    const struct tern_hwcfg *c = q->c;
    const uint32_t nb = 2, kw = 2, t = 2;
    const uint32_t wbytes = nb * kw * wmem_word_bytes(c), abytes = t * kw * c->width;
    uint8_t *w = malloc(wbytes), *a = malloc(abytes);
    assert_true(w && a);
    legal_codes(&p, w, wbytes);
    prng_bytes(&p, a, abytes);
    assert_int_equal(cmd(q, TERN_OP_WRITE_MEM, TERN_WMEM_BASE, w, wbytes), TERN_ST_OK);
    assert_int_equal(cmd(q, TERN_OP_WRITE_MEM, TERN_AMEM_BASE, a, abytes), TERN_ST_OK);

    const uint32_t run[7] = {0, nb * c->lanes - 1, kw * c->width - 3, 0, t, 0, 0};
    uint8_t pl[TERN_RUN_PAYLOAD_BYTES];
    for (int i = 0; i < 7; i++)
        tern_put_u32(pl + 4 * i, run[i]);
    assert_int_equal(cmd(q, TERN_OP_RUN, 0, pl, sizeof pl), TERN_ST_OK);
    uint8_t cnt[4];
    tern_put_u32(cnt, t * nb * c->lanes * 4);
    assert_int_equal(cmd(q, TERN_OP_READ_MEM, TERN_OMEM_BASE, cnt, 4), TERN_ST_OK);
    tern_put_u32(pl + 24, TERN_RUN_FLAG_ACCUMULATE);
    assert_int_equal(cmd(q, TERN_OP_RUN, 0, pl, sizeof pl), TERN_ST_OK);
    assert_int_equal(cmd(q, TERN_OP_READ_MEM, TERN_OMEM_BASE, cnt, 4), TERN_ST_OK);
    /* an illegal code (binary 10) in the first weight byte */
    uint8_t bad = 0x02;
    assert_int_equal(cmd(q, TERN_OP_WRITE_MEM, TERN_WMEM_BASE, &bad, 1), TERN_ST_OK);
    assert_int_equal(cmd(q, TERN_OP_RUN, 0, pl, sizeof pl), TERN_ST_ILLEGAL_CODE);
    assert_int_equal(cmd(q, TERN_OP_READ_COUNTERS, 0, NULL, 0), TERN_ST_OK);
    free(w);
    free(a);
    bench_close(q);
}

/* The chip's side, call by call: one cycle per call for the first bytes of a frame. UART: the
 * chip takes a byte each 10 bits (at the configuration's rate, 10 x clock / baud cycles apart,
 * back to back); FIFO: never more than a byte a cycle. Then the rest in odd slices. */
static void test_accounting(void **state)
{
    (void)state;
    struct bench *q = bench_open(0, 0);
    size_t n = tern_frame_cmd(q->frame, q->cap, TERN_OP_PING, q->seq++, 0, NULL, 0);
    const int uart = tern_board_sim_link(q->b) == TERN_LINK_UART;
    const uint64_t clk = tern_board_sim_clock_hz(q->b), baud = (uint64_t)q->c->link_bytes_per_s * 10;
    size_t taken = 0, got = 0;
    uint64_t k = 0;
    for (; k < 200; k++) {
        size_t used, len;
        uint64_t ran;
        assert_int_equal(tern_board_sim_run(q->b, q->frame + taken, n - taken, &used, q->rx + got, q->cap - got,
                                            &len, 1, &ran),
                         TERN_OK);
        if (ran == 0) { /* only once everything is taken and the answer is out: the FIFO is fast */
            assert_false(uart);
            assert_true(taken == n && tern_board_sim_quiet(q->b));
            assert_int_equal(len, 0);
            break;
        }
        assert_int_equal(ran, 1);
        assert_true(used <= 1);
        taken += used;
        got += len;
        if (uart) { /* byte i starts at i x 10 bits, in cycle floor(i x 10 x clock / baud) */
            size_t want = (size_t)(((k + 1) * baud + 10 * clk - 1) / (10 * clk));
            if (want > n)
                want = n;
            assert_int_equal(taken, want);
        } else {
            assert_true(taken <= k + 1);
        }
        assert_int_equal(tern_board_sim_cycles(q->b), k + 1);
    }
    if (uart)
        assert_int_equal(got, 0); /* 200 cycles are 5 bytes: the frame is not even in */
    /* the rest in slices of 7 cycles */
    while (!(taken == n && tern_board_sim_quiet(q->b))) {
        size_t used, len;
        uint64_t ran;
        assert_int_equal(tern_board_sim_run(q->b, q->frame + taken, n - taken, &used, q->rx + got, q->cap - got,
                                            &len, 7, &ran),
                         TERN_OK);
        taken += used;
        got += len;
        k += ran;
        assert_int_equal(tern_board_sim_cycles(q->b), k);
        assert_true(k < BUDGET);
    }
    assert_int_equal(taken, n);
    assert_int_equal(got, TERN_RSP_OVERHEAD + 80);
    struct tern_rsp r;
    size_t used = 0;
    assert_int_equal(tern_scan_rsp(q->rx, got, 200, &r, &used), TERN_SCAN_FRAME);
    assert_int_equal(used, got);
    assert_int_equal(r.opcode, TERN_OP_PING);
    assert_int_equal(r.status, TERN_ST_OK);
    bench_close(q);
}

/* Back-pressure: responses collected 3 bytes a call; then held off with no output room for a
 * while in the middle of a long READ_MEM. FIFO: txe_n holds the FPGA, nothing is lost. UART: the
 * chip's buffer overflows: the bytes are lost and counted, exactly. */
static void test_backpressure(void **state)
{
    (void)state;
    struct bench *q = bench_open(9, 0);
    struct prng p = prng_seed(31);
    const uint32_t mp = q->c->max_payload;
    uint8_t *data = malloc(mp);
    assert_non_null(data);
    prng_bytes(&p, data, mp);
    assert_int_equal(cmd_chunked(q, TERN_OP_WRITE_MEM, TERN_AMEM_BASE, data, mp, 3, 0), TERN_ST_OK);
    uint8_t cnt[4];
    tern_put_u32(cnt, mp);
    assert_int_equal(cmd_chunked(q, TERN_OP_READ_MEM, TERN_AMEM_BASE, cnt, 4, 3, 0), TERN_ST_OK);
    assert_true(q->calls >= (TERN_RSP_OVERHEAD + mp) / 3);
    assert_int_equal(cmd_chunked(q, TERN_OP_PING, 0, NULL, 0, 1, 0), TERN_ST_OK);
    assert_int_equal(tern_board_sim_dropped(q->b), 0);

    /* no room at all for a while, once the response is under way */
    const int uart = tern_board_sim_link(q->b) == TERN_LINK_UART;
    const uint64_t bit = tern_board_sim_clock_hz(q->b) / ((uint64_t)q->c->link_bytes_per_s * 10);
    const uint64_t frame_cycles = uart ? 10 * bit * (TERN_CMD_OVERHEAD + 4) : 200;
    const uint64_t hold = uart ? 10 * bit * 40 : 3000; /* UART: about 40 byte times */
    size_t n = tern_frame_cmd(q->frame, q->cap, TERN_OP_READ_MEM, q->seq++, TERN_AMEM_BASE, cnt, 4);
    assert_int_equal(board_xfer(q, q->frame, n, 64, frame_cycles + hold, BUDGET), 0);
    tern_refdev_push(q->ref, q->frame, n);
    q->ref_len = tern_refdev_pull(q->ref, q->ref_rx, q->cap);
    assert_int_equal(q->ref_len, TERN_RSP_OVERHEAD + mp);
    if (uart) {
        /* the first bytes were lost while there was no room, the rest is the response's tail */
        const uint64_t lost = tern_board_sim_dropped(q->b);
        assert_true(lost > 0 && lost < q->ref_len);
        assert_int_equal(q->rx_len + lost, q->ref_len);
        assert_memory_equal(q->rx, q->ref_rx + lost, q->rx_len);
        print_message("%s: %llu response bytes dropped while the chip had no room\n", g_config,
                      (unsigned long long)lost);
    } else {
        assert_int_equal(tern_board_sim_dropped(q->b), 0);
        assert_int_equal(q->rx_len, q->ref_len);
        assert_memory_equal(q->rx, q->ref_rx, q->rx_len);
    }
    free(data);
    bench_close(q);
}

/* UART only: the chip's rate off the FPGA's. The FPGA's receiver (tern_uart at 4 clocks a bit,
 * behind a 2-flop synchroniser) samples 0 to 1 clock after the middle of each bit, so the link
 * works from about -4.5 % (chip slow) to +2.5 % (chip fast) and no further: +-2 % must work,
 * +-5 % and +-20 % must misread bits (framing errors on the FPGA's side, or garbage either way)
 * and the simulation must still return within its budget. Back at the right rate, after some
 * filler to bring the receiver back to HUNT, PING answers again. */
static void test_baud_mismatch(void **state)
{
    (void)state;
    const struct tern_hwcfg *c = tern_hwcfg_find(g_config);
    if (c->link_kind != TERN_LINK_UART)
        skip();
    const uint32_t nominal = c->link_bytes_per_s * 10;
    static const int pct[] = {2, -2};
    for (size_t i = 0; i < sizeof pct / sizeof pct[0]; i++) {
        struct bench *q = bench_open(0, (uint32_t)((int64_t)nominal * (100 + pct[i]) / 100));
        assert_int_equal(cmd(q, TERN_OP_PING, 0, NULL, 0), TERN_ST_OK);
        uint8_t cnt[4];
        tern_put_u32(cnt, 64);
        assert_int_equal(cmd(q, TERN_OP_READ_MEM, TERN_WMEM_BASE, cnt, 4), TERN_ST_OK);
        assert_int_equal(tern_board_sim_frame_errors(q->b), 0);
        bench_close(q);
    }
    static const int bad[] = {5, -5, 20, -20};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct bench *q = bench_open(0, 0);
        tern_board_sim_set_baud(q->b, (uint32_t)((int64_t)nominal * (100 + bad[i]) / 100));
        size_t n = tern_frame_cmd(q->frame, q->cap, TERN_OP_PING, q->seq++, 0, NULL, 0);
        const uint64_t budget = 200000;
        int e = board_xfer(q, q->frame, n, q->cap, 0, budget);
        tern_refdev_push(q->ref, q->frame, n);
        q->ref_len = tern_refdev_pull(q->ref, q->ref_rx, q->cap);
        const int same = e == 0 && q->rx_len == q->ref_len;
        print_message("%s: chip at %+d %%: %llu FPGA framing errors, %zu bytes back (%s)%s\n", g_config, bad[i],
                      (unsigned long long)tern_board_sim_frame_errors(q->b), q->rx_len,
                      same ? "same length as the PING response" : "no PING response",
                      e ? ", not quiet within the budget" : "");
        assert_true(tern_board_sim_frame_errors(q->b) > 0 || q->rx_len != q->ref_len ||
                    memcmp(q->rx, q->ref_rx, q->rx_len) != 0);
        /* the right rate again; zeros until the receiver is back in HUNT (a header swallowed by
         * garbage fails its hcrc), then PING works */
        tern_board_sim_set_baud(q->b, 0);
        uint8_t zeros[64] = {0};
        for (int k = 0; k < 64 && !tern_board_sim_quiet(q->b); k++)
            board_xfer(q, zeros, sizeof zeros, q->cap, 0, 100000);
        assert_int_equal(board_xfer(q, zeros, sizeof zeros, q->cap, 0, 100000), 0);
        n = tern_frame_cmd(q->frame, q->cap, TERN_OP_PING, q->seq++, 0, NULL, 0);
        assert_int_equal(board_xfer(q, q->frame, n, q->cap, 0, BUDGET), 0);
        assert_int_equal(q->rx_len, TERN_RSP_OVERHEAD + 80);
        struct tern_rsp r;
        size_t used = 0;
        assert_int_equal(tern_scan_rsp(q->rx, q->rx_len, 200, &r, &used), TERN_SCAN_FRAME);
        assert_int_equal(r.status, TERN_ST_OK);
        bench_close(q);
    }
}

/* A long WRITE_MEM stream (full frames, one at a time as a host waits for each answer): checks the
 * answers and prints the simulation speed. */
static void test_write_stream_speed(void **state)
{
    (void)state;
    struct bench *q = bench_open(0, 0);
    struct prng p = prng_seed(41);
    const uint32_t mp = q->c->max_payload;
    const uint32_t wbytes = q->c->wmem_words * wmem_word_bytes(q->c);
    const size_t target = tern_board_sim_link(q->b) == TERN_LINK_UART ? 64 * 1024 : 1024 * 1024;
    uint8_t *data = malloc(mp);
    assert_non_null(data);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    const uint64_t c0 = tern_board_sim_cycles(q->b);
    size_t bytes = 0;
    uint32_t addr = 0;
    while (bytes < target) {
        prng_bytes(&p, data, mp);
        if (addr + mp > wbytes)
            addr = 0;
        size_t n =
            tern_frame_cmd(q->frame, q->cap, TERN_OP_WRITE_MEM, q->seq++, TERN_WMEM_BASE + addr, data, mp);
        assert_int_equal(board_xfer(q, q->frame, n, q->cap, 0, BUDGET), 0);
        assert_int_equal(q->rx_len, TERN_RSP_OVERHEAD);
        assert_int_equal(q->rx[6], TERN_ST_OK);
        bytes += n;
        addr += mp;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    const double s = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    const uint64_t cyc = tern_board_sim_cycles(q->b) - c0;
    print_message("%s: WRITE_MEM stream: %zu bytes in %llu cycles (%.2f cycles/byte), %.2f s: %.0f bytes/s, "
                  "%.0f cycles/s simulated; %.1f %% of the link's real time\n",
                  g_config, bytes, (unsigned long long)cyc, (double)cyc / (double)bytes, s, (double)bytes / s,
                  (double)cyc / s, 100.0 * ((double)cyc / tern_board_sim_clock_hz(q->b)) / s);
    free(data);
    bench_close(q);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        g_config = argv[1];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_configs),
        cmocka_unit_test(test_ping_and_registers),
        cmocka_unit_test(test_write_read_mem),
        cmocka_unit_test(test_run),
        cmocka_unit_test(test_accounting),
        cmocka_unit_test(test_backpressure),
        cmocka_unit_test(test_baud_mismatch),
        cmocka_unit_test(test_write_stream_speed),
    };
    char name[64];
    snprintf(name, sizeof name, "rtl_board_sim[%s]", g_config);
    return cmocka_run_group_tests_name(name, tests, NULL, NULL);
}
