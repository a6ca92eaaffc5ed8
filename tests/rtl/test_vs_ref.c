/* test_vs_ref.c — the RTL against the reference model (tern_refdev), byte for byte: the same random
 * stream of commands (valid, refused, corrupted, duplicated, interrupted by host stalls, preceded
 * by garbage) goes to both, and every response must be identical — payloads, statuses and the
 * counters of READ_COUNTERS, i.e. the cycle model of ARCHITECTURE.md section 7 — except the
 * informational BACKEND register (0 for RTL, 1 for ref). argv[1] names the configuration,
 * argv[2] (optional) the number of commands. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "rtl_util.h"

static unsigned g_commands = 400;
static uint32_t g_seed = 1; /* random initial state of the RTL (0: all zero) */

struct pair {
    struct dut *d;
    tern_refdev *ref;
    const struct tern_hwcfg *c;
    struct prng p;
    uint8_t *frame, *ref_rx;
    size_t frame_cap, ref_cap;
    uint8_t last_op;
    uint32_t last_addr;
    unsigned sent, responses;
};

/* Normalise the informational BACKEND register so that RTL and ref responses compare equal. */
static void mask_backend(uint8_t *buf, size_t n, uint8_t op, uint32_t addr)
{
    if (n < 18 || buf[6] != TERN_ST_OK)
        return;
    uint32_t len = tern_get_u32(buf + 8);
    uint8_t *pl = buf + 14;
    if (op == TERN_OP_PING && len == 80)
        tern_put_u32(pl + 4 * TERN_REG_BACKEND, 0);
    else if (op == TERN_OP_READ_REG && addr == TERN_REG_BACKEND && len == 4)
        tern_put_u32(pl, 0);
    else
        return;
    tern_put_u32(pl + len, tern_crc32(pl, len));
}

/* Both devices take bytes [0, n); the ideal host of the simulator runs it until it is quiet. */
static void push_both(struct pair *q, const uint8_t *b, size_t n)
{
    tern_sim_push(q->d->sim, b, n);
    tern_refdev_push(q->ref, b, n);
}

/* Bytes [0, cut) now, then a host stall of gap cycles, then the rest (only where both models agree
 * on what a stall is: inside a header or inside a body, never at a decision cycle). */
static void send_stalled(struct pair *q, const uint8_t *b, size_t n, size_t cut, uint64_t gap)
{
    tern_sim_push(q->d->sim, b, cut);
    tern_refdev_push(q->ref, b, cut);
    while (tern_sim_pending_in(q->d->sim))
        tern_sim_step(q->d->sim, 1);
    tern_sim_idle(q->d->sim, gap);
    tern_refdev_idle(q->ref, gap);
    push_both(q, b + cut, n - cut);
}

static void compare(struct pair *q, const char *what)
{
    if (tern_sim_run_until_quiet(q->d->sim, DUT_MAX_CYCLES))
        fail_msg("%s: command %u (%s): simulator not quiet", g_config, q->sent, what);
    size_t ns = tern_sim_pull(q->d->sim, q->d->rx, q->d->rx_cap);
    size_t nr = tern_refdev_pull(q->ref, q->ref_rx, q->ref_cap);
    mask_backend(q->d->rx, ns, q->last_op, q->last_addr);
    mask_backend(q->ref_rx, nr, q->last_op, q->last_addr);
    if (ns != nr || memcmp(q->d->rx, q->ref_rx, ns) != 0) {
        size_t i = 0;
        while (i < ns && i < nr && q->d->rx[i] == q->ref_rx[i])
            i++;
        fail_msg("%s: command %u (%s): RTL sent %zu bytes, ref %zu; first difference at byte %zu "
                 "(rtl %02x ref %02x)",
                 g_config, q->sent, what, ns, nr, i, i < ns ? q->d->rx[i] : 0, i < nr ? q->ref_rx[i] : 0);
    }
    q->responses += ns > 0;
}

/* True if hunting through b[from, n) could see a frame start (A5 54). */
static int hunt_unsafe(const uint8_t *b, size_t from, size_t n)
{
    for (size_t i = from; i + 1 < n; i++)
        if (b[i] == TERN_MAGIC0 && b[i + 1] == TERN_CMD_MAGIC1)
            return 1;
    return 0;
}

static size_t build(uint8_t *buf, uint8_t ver, uint8_t op, uint16_t seq, uint32_t addr, uint32_t len_field,
                    const uint8_t *pl, uint32_t plen, int bad_hcrc, int bad_pcrc)
{
    buf[0] = TERN_MAGIC0;
    buf[1] = TERN_CMD_MAGIC1;
    buf[2] = ver;
    buf[3] = op;
    tern_put_u16(buf + 4, seq);
    tern_put_u16(buf + 6, 0);
    tern_put_u32(buf + 8, addr);
    tern_put_u32(buf + 12, len_field);
    tern_put_u16(buf + 16, (uint16_t)(tern_crc16(buf, 16) ^ (bad_hcrc ? 0x8001 : 0)));
    if (plen)
        memcpy(buf + 18, pl, plen);
    tern_put_u32(buf + 18 + plen, (plen ? tern_crc32(pl, plen) : 0) ^ (bad_pcrc ? 0x10000u : 0));
    return 22 + (size_t)plen;
}

static uint32_t rnd_run_field(struct pair *q, uint32_t *r)
{
    const struct tern_hwcfg *c = q->c;
    struct prng *p = &q->p;
    const uint32_t L = c->lanes, W = c->width;
    /* a shape that fits the memories: KW <= 4, NB <= 3, t <= 4 */
    uint32_t kwmax = 4;
    if (kwmax > c->max_k / W)
        kwmax = c->max_k / W;
    if (kwmax > c->wmem_words)
        kwmax = c->wmem_words;
    if (kwmax > c->amem_words)
        kwmax = c->amem_words;
    uint32_t kw = 1 + prng_below(p, kwmax);
    uint32_t nbmax = c->wmem_words / kw;
    if (nbmax > 3)
        nbmax = 3;
    if (nbmax > c->omem_words)
        nbmax = c->omem_words;
    uint32_t nb = 1 + prng_below(p, nbmax);
    uint32_t tmax = c->amem_words / kw;
    if (c->omem_words / nb < tmax)
        tmax = c->omem_words / nb;
    if (tmax > 4)
        tmax = 4;
    uint32_t t = 1 + prng_below(p, tmax);
    r[1] = (nb - 1) * L + 1 + prng_below(p, L);
    r[2] = (kw - 1) * W + 1 + prng_below(p, W);
    r[4] = t;
    r[0] = prng_below(p, c->wmem_words - nb * kw + 1);
    if (prng_below(p, 2))
        r[0] = prng_below(p, 4 > c->wmem_words - nb * kw + 1 ? c->wmem_words - nb * kw + 1 : 4);
    r[3] = prng_below(p, c->amem_words - t * kw + 1);
    if (prng_below(p, 2))
        r[3] = prng_below(p, 4 > c->amem_words - t * kw + 1 ? c->amem_words - t * kw + 1 : 4);
    r[5] = prng_below(p, c->omem_words - t * nb + 1);
    r[6] = prng_below(p, 2);
    switch (prng_below(p, 12)) { /* sometimes out of range */
    case 0: r[0] = c->wmem_words - nb * kw + 1; break;
    case 1: r[3] = c->amem_words - t * kw + 1 + prng_below(p, 3); break;
    case 2: r[5] = c->omem_words - t * nb + 1; break;
    case 3: r[2] = c->max_k + 1 + prng_below(p, 100); break;
    case 4: r[6] = 2 + prng_below(p, 5); break;
    case 5: r[1 + 3 * prng_below(p, 2)] = 0; break;
    case 6: r[1] = (uint32_t)prng_next(p); break;
    default: break;
    }
    return 28;
}

/* One random command (or corrupted frame) to both devices. */
static void one_command(struct pair *q, uint16_t *seq, uint8_t *prev, size_t *prev_n)
{
    const struct tern_hwcfg *c = q->c;
    struct prng *p = &q->p;
    const uint32_t wb = c->wmem_words * c->lanes * c->width / 4, ab = c->amem_words * c->width;
    const uint32_t ob = c->omem_words * c->lanes * 4;
    const uint32_t maxlen = c->max_payload < 300 ? c->max_payload : 300;
    uint8_t pl[512];
    uint32_t plen = 0, addr = 0, r[7];
    uint8_t op;
    const char *what;

    /* a retry of the previous frame */
    if (*prev_n && prng_below(p, 20) == 0) {
        q->sent++;
        push_both(q, prev, *prev_n);
        compare(q, "duplicate");
        return;
    }

    uint32_t k = prng_below(p, 100);
    if (k < 22) {
        op = TERN_OP_WRITE_MEM;
        what = "WRITE_MEM";
        plen = 1 + prng_below(p, maxlen);
        uint32_t rgn = prng_below(p, 20);
        if (rgn < 11) {
            addr = prng_below(p, wb > 512 ? 512 : wb);
            if (rgn == 0)
                addr = prng_below(p, wb);
        } else if (rgn < 19) {
            addr = TERN_AMEM_BASE + prng_below(p, ab > 256 ? 256 : ab);
        } else {
            addr = TERN_OMEM_BASE + 4 * prng_below(p, 8);
        }
        if (prng_below(p, 4)) /* mostly legal codes, sometimes raw bytes (illegal codes) */
            for (uint32_t i = 0; i < plen; i++)
                pl[i] = (uint8_t)(prng_code(p) | prng_code(p) << 2 | prng_code(p) << 4 | prng_code(p) << 6);
        else
            prng_bytes(p, pl, plen);
    } else if (k < 40) {
        op = TERN_OP_READ_MEM;
        what = "READ_MEM";
        uint32_t cnt = 1 + prng_below(p, maxlen), rgn = prng_below(p, 3);
        addr = rgn == 0 ? prng_below(p, wb > 700 ? 700 : wb) : rgn == 1 ? TERN_AMEM_BASE + prng_below(p, ab)
                                                                      : TERN_OMEM_BASE + 4 * prng_below(p, ob / 4);
        if (rgn == 2 && prng_below(p, 8))
            cnt = 4 * (1 + prng_below(p, maxlen / 4));
        if (prng_below(p, 30) == 0)
            cnt = prng_below(p, 2) ? 0 : c->max_payload + 1;
        tern_put_u32(pl, cnt);
        plen = 4;
    } else if (k < 62) {
        op = TERN_OP_RUN;
        what = "RUN";
        plen = rnd_run_field(q, r);
        for (int i = 0; i < 7; i++)
            tern_put_u32(pl + 4 * i, r[i]);
    } else if (k < 72) {
        op = TERN_OP_READ_COUNTERS;
        what = "READ_COUNTERS";
    } else if (k < 76) {
        op = TERN_OP_PING;
        what = "PING";
    } else if (k < 82) {
        op = TERN_OP_READ_REG;
        what = "READ_REG";
        addr = prng_below(p, 36);
    } else if (k < 90) {
        op = TERN_OP_WRITE_REG;
        what = "WRITE_REG";
        addr = prng_below(p, 4) ? 32 + prng_below(p, 2) : prng_below(p, 40);
        tern_put_u32(pl, (uint32_t)prng_next(p));
        plen = 4;
    } else if (k < 93) {
        op = TERN_OP_RESET;
        what = "RESET";
    } else {
        op = (uint8_t)(prng_below(p, 2) ? 0x09 + prng_below(p, 200) : 0);
        what = "unknown opcode";
        plen = prng_below(p, 8);
        prng_bytes(p, pl, plen);
    }
    if (prng_below(p, 25) == 0) { /* wrong payload length for the opcode */
        plen = (plen + 1 + prng_below(p, 5)) % 40;
        prng_bytes(p, pl, plen);
        what = "wrong length";
    }
    if (prng_below(p, 30) == 0) {
        addr ^= 1u << prng_below(p, 32);
        what = "odd address";
    }

    uint8_t ver = 1;
    uint32_t len_field = plen;
    int bad_hcrc = 0, bad_pcrc = 0;
    uint32_t corrupt = prng_below(p, 40);
    if (corrupt == 0) {
        bad_hcrc = 1;
        what = "bad hcrc";
    } else if (corrupt == 1) {
        ver = (uint8_t)(2 + prng_below(p, 250));
        what = "bad version";
    } else if (corrupt == 2) {
        len_field = c->max_payload + 1 + prng_below(p, 1000);
        what = "len > max_payload";
    } else if (corrupt < 5) {
        bad_pcrc = 1;
        what = "bad pcrc";
    }
    const int header_fails = corrupt < 3;

    uint8_t *f = q->frame;
    size_t n = 0;
    if (prng_below(p, 10) == 0) { /* garbage first: never A5 54, sometimes lone or doubled A5 */
        uint32_t g = 1 + prng_below(p, 30);
        for (uint32_t i = 0; i < g; i++) {
            uint8_t b = (uint8_t)prng_next(p);
            if (n && f[n - 1] == TERN_MAGIC0 && b == TERN_CMD_MAGIC1)
                b = 0;
            f[n++] = b;
        }
    }
    size_t start = n;
    for (;;) {
        n = start + build(f + start, ver, op, (*seq), addr, len_field, pl, plen, bad_hcrc, bad_pcrc);
        /* a refused header's body is hunted through: it must not hold a frame start */
        if (!header_fails || !hunt_unsafe(f, start + 17, n))
            break;
        for (uint32_t i = 0; i < plen; i++)
            if (pl[i] == TERN_MAGIC0)
                pl[i] = 0xA4;
        if (plen)
            pl[0]++;
        else
            addr++;
    }
    if (prng_below(p, 4))
        (*seq)++;
    q->last_op = op;
    q->last_addr = addr;
    q->sent++;

    size_t body0 = start + 19, fend = n;
    if (prng_below(p, 8) == 0) { /* a host stall inside the header or the body */
        size_t cut;
        if (prng_below(p, 2) || fend <= body0 + 1 || header_fails)
            cut = start + 1 + prng_below(p, 17);
        else
            cut = body0 + prng_below(p, (uint32_t)(fend - body0));
        send_stalled(q, f, n, cut, 1 + prng_below(p, 20));
    } else {
        push_both(q, f, n);
    }
    compare(q, what);
    memcpy(prev, f + start, n - start);
    *prev_n = n - start;
}

/* A random initial state leaves the memories' contents undefined, as on a real device after
 * power-on: give both devices the same random WMEM and AMEM contents, and overwrite every OMEM word
 * with one RUN, before anything compares them. */
static void init_memories(struct pair *q, uint16_t *seq)
{
    const struct region {
        uint32_t base;
        size_t bytes;
    } mems[2] = {{TERN_WMEM_BASE, (size_t)q->c->wmem_words * q->c->lanes * q->c->width / 4},
                 {TERN_AMEM_BASE, (size_t)q->c->amem_words * q->c->width}};
    const uint32_t chunk = q->c->max_payload;
    uint8_t *data = malloc(chunk);
    assert_non_null(data);

    for (int m = 0; m < 2; m++)
        for (size_t off = 0; off < mems[m].bytes; off += chunk) {
            uint32_t n = mems[m].bytes - off < chunk ? (uint32_t)(mems[m].bytes - off) : chunk;
            for (uint32_t i = 0; i < n; i++)
                data[i] = (uint8_t)prng_next(&q->p);
            size_t len = tern_frame_cmd(q->frame, q->frame_cap, TERN_OP_WRITE_MEM, (*seq)++,
                                        mems[m].base + (uint32_t)off, data, n);
            assert_true(len > 0);
            q->last_op = TERN_OP_WRITE_MEM;
            q->last_addr = mems[m].base + (uint32_t)off;
            push_both(q, q->frame, len);
            compare(q, "memory initialisation");
        }
    /* one RUN writes every OMEM word: n = omem_words * lanes rows of one column word, one token */
    uint8_t pl[TERN_RUN_PAYLOAD_BYTES];
    const uint32_t run[7] = {0, q->c->omem_words * q->c->lanes, q->c->width, 0, 1, 0, 0};
    for (int i = 0; i < 7; i++)
        tern_put_u32(pl + 4 * i, run[i]);
    size_t len = tern_frame_cmd(q->frame, q->frame_cap, TERN_OP_RUN, (*seq)++, 0, pl, sizeof pl);
    q->last_op = TERN_OP_RUN;
    q->last_addr = 0;
    push_both(q, q->frame, len);
    compare(q, "output buffer initialisation");
    free(data);
}

static void test_random_commands_match_ref(void **state)
{
    (void)state;
    struct pair q = {0};
    struct tern_sim_opts opts = {NULL, g_seed}; /* random initial state of every register and memory */
    q.d = dut_open_opts(g_config, &opts);
    q.c = q.d->cfg;
    assert_int_equal(tern_refdev_create(q.c, &q.ref), TERN_OK);
    q.p = prng_seed(0xC0FFEEull ^ g_seed);
    q.frame_cap = (size_t)q.c->max_payload + 4096; /* a whole WRITE_MEM frame and then some */
    q.frame = malloc(q.frame_cap);
    q.ref_cap = q.d->rx_cap;
    q.ref_rx = malloc(q.ref_cap);
    uint8_t *prev = malloc(q.frame_cap);
    size_t prev_n = 0;
    uint16_t seq = 1;
    assert_true(q.frame && q.ref_rx && prev);
    if (g_seed)
        init_memories(&q, &seq);

    for (unsigned i = 0; i < g_commands; i++)
        one_command(&q, &seq, prev, &prev_n);
    /* and the counters once more at the end */
    q.last_op = TERN_OP_READ_COUNTERS;
    uint8_t buf[32];
    size_t n = tern_frame_cmd(buf, sizeof buf, TERN_OP_READ_COUNTERS, (uint16_t)(seq + 1), 0, NULL, 0);
    push_both(&q, buf, n);
    compare(&q, "final READ_COUNTERS");
    print_message("%s: %u commands, %u responses, %llu cycles\n", g_config, q.sent, q.responses,
                  (unsigned long long)tern_sim_cycles(q.d->sim));

    free(prev);
    free(q.frame);
    free(q.ref_rx);
    tern_refdev_destroy(q.ref);
    dut_close(q.d);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        g_config = argv[1];
    if (argc > 2)
        g_commands = (unsigned)strtoul(argv[2], NULL, 10);
    if (argc > 3)
        g_seed = (uint32_t)strtoul(argv[3], NULL, 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_commands_match_ref),
    };
    char name[64];
    snprintf(name, sizeof name, "rtl_vs_ref[%s, seed %u]", g_config, g_seed);
    return cmocka_run_group_tests_name(name, tests, NULL, NULL);
}
