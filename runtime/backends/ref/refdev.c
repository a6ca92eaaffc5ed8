/* refdev.c — the reference accelerator: executes command frames bit-exactly and counts cycles
 * with the model of ARCHITECTURE.md section 7, so the RTL can be held to it cycle for cycle. */
#include "tern_refdev.h"

#include <stdlib.h>
#include <string.h>

#include "tern/tern.h"
#include "tern/tern_proto.h"

enum rx_state { RX_HUNT, RX_MAGIC1, RX_HDR, RX_BODY };

struct tern_refdev {
    struct tern_hwcfg cfg;
    size_t word_bytes; /* WMEM word: lanes*width/4 bytes */
    uint8_t *wmem;
    size_t wmem_bytes;
    uint8_t *amem;
    size_t amem_bytes;
    int32_t *omem; /* entries, kept sign-extended from acc_width bits */
    size_t omem_entries;
    uint32_t scratch;
    uint32_t err_flags;
    uint64_t cnt[TERN_NUM_COUNTERS];

    enum rx_state rx;
    uint8_t hdr[TERN_CMD_HDR_BYTES];
    size_t hdr_n;
    uint32_t body_len; /* payload + pcrc bytes expected */
    uint8_t *stage;    /* max_payload + 4 bytes */
    size_t stage_n;

    int last_valid;
    uint16_t last_seq;
    uint8_t last_op;
    uint8_t last_status;

    uint8_t *txq;
    size_t tx_head, tx_len, tx_cap;
    uint8_t *rsp_buf; /* one response frame being built */
    int8_t *row;      /* one decoded weight row of a RUN, max_k + width values */

    int8_t dec[256][4]; /* byte of four codes -> four weights */
    uint8_t bad[256];   /* bit i: pair i of the byte is the illegal code 10 */
};

static void count(tern_refdev *d, int which, uint64_t cycles)
{
    d->cnt[which] += cycles;
    d->cnt[TERN_CNT_CYCLES] += cycles;
}

/* The largest response: a READ_MEM of max_payload bytes, or the counters. */
static size_t rsp_cap(const struct tern_hwcfg *cfg)
{
    size_t pl = cfg->max_payload > TERN_NUM_COUNTERS * 8 ? cfg->max_payload : TERN_NUM_COUNTERS * 8;
    return pl + TERN_RSP_OVERHEAD;
}

static void build_tables(tern_refdev *d)
{
    for (int b = 0; b < 256; b++) {
        d->bad[b] = 0;
        for (int i = 0; i < 4; i++) {
            int c = (b >> (2 * i)) & 3;
            d->dec[b][i] = (int8_t)(c == 1 ? 1 : c == 3 ? -1 : 0);
            if (c == 2)
                d->bad[b] |= (uint8_t)(1u << i);
        }
    }
}

int tern_refdev_create(const struct tern_hwcfg *cfg, tern_refdev **out)
{
    int err = TERN_E_INVAL;
    tern_refdev *d;

    if (!cfg || !out)
        return err;
    err = TERN_E_NOMEM;
    d = calloc(1, sizeof *d);
    if (!d)
        return err;
    d->cfg = *cfg;
    d->word_bytes = (size_t)cfg->lanes * cfg->width / 4;
    d->wmem_bytes = d->word_bytes * cfg->wmem_words;
    d->amem_bytes = (size_t)cfg->width * cfg->amem_words;
    d->omem_entries = (size_t)cfg->lanes * cfg->omem_words;
    d->wmem = calloc(d->wmem_bytes, 1);
    if (!d->wmem)
        goto fail_dev;
    d->amem = calloc(d->amem_bytes, 1);
    if (!d->amem)
        goto fail_wmem;
    d->omem = calloc(d->omem_entries, sizeof *d->omem);
    if (!d->omem)
        goto fail_amem;
    d->stage = malloc((size_t)cfg->max_payload + TERN_PCRC_BYTES);
    if (!d->stage)
        goto fail_omem;
    d->rsp_buf = malloc(rsp_cap(cfg));
    if (!d->rsp_buf)
        goto fail_stage;
    d->row = malloc((size_t)cfg->max_k + cfg->width);
    if (!d->row)
        goto fail_rsp;
    build_tables(d);
    d->rx = RX_HUNT;
    *out = d;
    return TERN_OK;

fail_rsp:
    free(d->rsp_buf);
fail_stage:
    free(d->stage);
fail_omem:
    free(d->omem);
fail_amem:
    free(d->amem);
fail_wmem:
    free(d->wmem);
fail_dev:
    free(d);
    return err;
}

void tern_refdev_destroy(tern_refdev *d)
{
    if (!d)
        return;
    free(d->txq);
    free(d->row);
    free(d->rsp_buf);
    free(d->stage);
    free(d->omem);
    free(d->amem);
    free(d->wmem);
    free(d);
}

/* Queue bytes for the host; on allocation failure the bytes are lost, as on a broken link. */
static void tx_append(tern_refdev *d, const uint8_t *p, size_t n)
{
    if (d->tx_head && d->tx_head == d->tx_len)
        d->tx_head = d->tx_len = 0;
    if (d->tx_len + n > d->tx_cap) {
        if (d->tx_head) {
            memmove(d->txq, d->txq + d->tx_head, d->tx_len - d->tx_head);
            d->tx_len -= d->tx_head;
            d->tx_head = 0;
        }
        if (d->tx_len + n > d->tx_cap) {
            size_t cap = d->tx_cap ? d->tx_cap : 4096;
            while (cap < d->tx_len + n)
                cap *= 2;
            uint8_t *q = realloc(d->txq, cap);
            if (!q)
                return;
            d->txq = q;
            d->tx_cap = cap;
        }
    }
    memcpy(d->txq + d->tx_len, p, n);
    d->tx_len += n;
}

/* Send one response: frame counters tick at its first byte, then one TX cycle a byte. */
static void respond(tern_refdev *d, uint8_t op, uint16_t seq, uint8_t status, const uint8_t *payload,
                    uint32_t len)
{
    size_t n = tern_frame_rsp(d->rsp_buf, rsp_cap(&d->cfg), op, seq, status,
                              payload, len);
    if (status == TERN_ST_OK)
        d->cnt[TERN_CNT_FRAMES_OK]++;
    else
        d->cnt[TERN_CNT_FRAMES_ERR]++;
    if (status == TERN_ST_ILLEGAL_CODE)
        d->cnt[TERN_CNT_ILLEGAL_RUNS]++;
    count(d, TERN_CNT_CYC_TX, n);
    d->cnt[TERN_CNT_BYTES_OUT] += n;
    tx_append(d, d->rsp_buf, n);
}

static uint32_t id_reg(const tern_refdev *d, uint32_t i)
{
    const struct tern_hwcfg *c = &d->cfg;
    uint8_t name[8] = {0};
    size_t nl = strlen(c->name);

    memcpy(name, c->name, nl > 8 ? 8 : nl);
    switch (i) {
    case TERN_REG_ID_MAGIC: return TERN_ID_MAGIC;
    case TERN_REG_ID_VERSION: return (TERN_PROTO_VERSION << 16) | TERN_HW_REVISION;
    case TERN_REG_LANES: return c->lanes;
    case TERN_REG_WIDTH: return c->width;
    case TERN_REG_ACC_WIDTH: return c->acc_width;
    case TERN_REG_MAX_K: return c->max_k;
    case TERN_REG_WMEM_WORDS: return c->wmem_words;
    case TERN_REG_AMEM_WORDS: return c->amem_words;
    case TERN_REG_OMEM_WORDS: return c->omem_words;
    case TERN_REG_MAX_PAYLOAD: return c->max_payload;
    case TERN_REG_CLOCK_HZ: return c->clock_hz;
    case TERN_REG_LINK_KIND: return c->link_kind;
    case TERN_REG_LINK_BYTES_PER_S: return c->link_bytes_per_s;
    case TERN_REG_RUN_SETUP: return c->run_setup;
    case TERN_REG_RUN_DRAIN: return c->run_drain;
    case TERN_REG_NUM_COUNTERS: return TERN_NUM_COUNTERS;
    case TERN_REG_NAME_LO: return tern_get_u32(name);
    case TERN_REG_NAME_HI: return tern_get_u32(name + 4);
    case TERN_REG_BACKEND: return 1;
    default: return 0;
    }
}

/* Register read: 0 on success, else a status. */
static int reg_read(const tern_refdev *d, uint32_t i, uint32_t *v)
{
    if (i < TERN_NUM_ID_REGS)
        *v = id_reg(d, i);
    else if (i == TERN_REG_SCRATCH)
        *v = d->scratch;
    else if (i == TERN_REG_ERR_FLAGS)
        *v = d->err_flags;
    else
        return TERN_ST_BAD_ADDR;
    return TERN_ST_OK;
}

/* Where a byte-addressed access lands: the region's bytes and the offset, or NULL. */
static uint8_t *region(tern_refdev *d, uint32_t addr, uint32_t len, int *is_omem, size_t *off)
{
    uint64_t end = (uint64_t)addr + len;

    *is_omem = 0;
    if (end <= d->wmem_bytes) {
        *off = addr;
        return d->wmem;
    }
    if (addr >= TERN_AMEM_BASE && end <= TERN_AMEM_BASE + (uint64_t)d->amem_bytes) {
        *off = addr - TERN_AMEM_BASE;
        return d->amem;
    }
    if (addr >= TERN_OMEM_BASE && end <= TERN_OMEM_BASE + 4 * (uint64_t)d->omem_entries) {
        *is_omem = 1;
        *off = addr - TERN_OMEM_BASE;
        return (uint8_t *)d->omem;
    }
    return NULL;
}

static int32_t wrap_acc(const tern_refdev *d, int64_t v)
{
    uint32_t a = d->cfg.acc_width;
    uint64_t mask = (a >= 64) ? ~0ull : ((1ull << a) - 1);
    uint64_t sign = 1ull << (a - 1);
    uint64_t u = ((uint64_t)v & mask);

    return (int32_t)(int64_t)((u ^ sign) - sign);
}

struct run_args {
    uint32_t wbase, n, k, abase, t, obase, flags;
};

static int run_check(const tern_refdev *d, const struct run_args *r)
{
    uint64_t nb, kw;

    if (r->n < 1 || r->k < 1 || r->t < 1 || r->k > d->cfg.max_k || r->flags > TERN_RUN_FLAG_ACCUMULATE)
        return TERN_ST_BAD_ADDR;
    nb = (r->n + (uint64_t)d->cfg.lanes - 1) / d->cfg.lanes;
    kw = (r->k + (uint64_t)d->cfg.width - 1) / d->cfg.width;
    if ((uint64_t)r->wbase + nb * kw > d->cfg.wmem_words || (uint64_t)r->abase + r->t * kw > d->cfg.amem_words ||
        (uint64_t)r->obase + r->t * nb > d->cfg.omem_words)
        return TERN_ST_BAD_ADDR;
    return TERN_ST_OK;
}

/* The RUN command (section 5). Returns OK or ILLEGAL_CODE. */
static int run_exec(tern_refdev *d, const struct run_args *r)
{
    const uint32_t L = d->cfg.lanes, W = d->cfg.width;
    const uint32_t nb = (r->n + L - 1) / L, kw = (r->k + W - 1) / W;
    const size_t lane_bytes = W / 4;
    int8_t *w = d->row;
    int illegal = 0;

    for (uint32_t b = 0; b < nb; b++) {
        for (uint32_t l = 0; l < L; l++) {
            uint32_t row = b * L + l;
            if (row >= r->n) {
                for (uint32_t t = 0; t < r->t; t++)
                    d->omem[((size_t)r->obase + (size_t)t * nb + b) * L + l] = 0;
                continue;
            }
            /* decode this row's real codes; columns >= k are padding and ignored */
            for (uint32_t j = 0; j < kw; j++) {
                const uint8_t *p = d->wmem + ((size_t)r->wbase + (size_t)b * kw + j) * d->word_bytes + l * lane_bytes;
                for (size_t i = 0; i < lane_bytes; i++) {
                    uint32_t c0 = j * W + (uint32_t)i * 4;
                    uint8_t bad = d->bad[p[i]];
                    if (c0 + 4 > r->k)
                        bad &= (uint8_t)((1u << (c0 < r->k ? r->k - c0 : 0)) - 1);
                    illegal |= bad != 0;
                    memcpy(w + c0, d->dec[p[i]], 4);
                }
            }
            for (uint32_t t = 0; t < r->t; t++) {
                const int8_t *a = (const int8_t *)d->amem + ((size_t)r->abase + (size_t)t * kw) * W;
                int32_t acc = 0;
                for (uint32_t c = 0; c < r->k; c++)
                    acc += w[c] * a[c];
                size_t e = ((size_t)r->obase + (size_t)t * nb + b) * L + l;
                int64_t v = (r->flags & TERN_RUN_FLAG_ACCUMULATE) ? (int64_t)d->omem[e] + acc : acc;
                d->omem[e] = wrap_acc(d, v);
            }
        }
    }
    count(d, TERN_CNT_CYC_PIPE, (uint64_t)d->cfg.run_setup + d->cfg.run_drain);
    count(d, TERN_CNT_CYC_COMPUTE, (uint64_t)nb * r->t * kw);
    d->cnt[TERN_CNT_TERN_OPS] += (uint64_t)r->n * r->k * r->t;
    if (illegal) {
        d->err_flags |= TERN_ERR_ILLEGAL_CODE;
        return TERN_ST_ILLEGAL_CODE;
    }
    return TERN_ST_OK;
}

static int has_side_effects(uint8_t op)
{
    return op == TERN_OP_WRITE_REG || op == TERN_OP_WRITE_MEM || op == TERN_OP_RUN || op == TERN_OP_RESET;
}

/* Expected payload length of an opcode: exact value, or -1 for WRITE_MEM (1..max_payload). */
static int expected_len(uint8_t op)
{
    switch (op) {
    case TERN_OP_PING:
    case TERN_OP_READ_REG:
    case TERN_OP_READ_COUNTERS:
    case TERN_OP_RESET: return 0;
    case TERN_OP_WRITE_REG:
    case TERN_OP_READ_MEM: return 4;
    case TERN_OP_RUN: return TERN_RUN_PAYLOAD_BYTES;
    case TERN_OP_WRITE_MEM: return -1;
    default: return -2;
    }
}

/* A frame passed both CRCs: the dispatch CTRL cycle, then checks, execution and the response. */
static void dispatch(tern_refdev *d)
{
    const uint8_t op = d->hdr[3];
    const uint16_t seq = tern_get_u16(d->hdr + 4);
    const uint32_t addr = tern_get_u32(d->hdr + 8);
    const uint32_t len = tern_get_u32(d->hdr + 12);
    const uint8_t *pl = d->stage;
    uint8_t out[TERN_NUM_COUNTERS * 8];
    uint32_t out_len = 0;
    const uint8_t *out_p = out;
    int st = TERN_ST_OK, el;
    int is_omem = 0;
    size_t off = 0;
    uint8_t *mem = NULL;

    count(d, TERN_CNT_CYC_CTRL, 1);

    if (d->last_valid && seq == d->last_seq && op == d->last_op && has_side_effects(op)) {
        respond(d, op, seq, d->last_status, NULL, 0);
        return;
    }

    /* checks, in order: opcode, payload length, address and range */
    el = expected_len(op);
    if (el == -2)
        st = TERN_ST_BAD_OPCODE;
    else if ((el >= 0 && len != (uint32_t)el) || (el == -1 && len < 1))
        st = TERN_ST_BAD_LEN;
    else if ((op == TERN_OP_PING || op == TERN_OP_READ_COUNTERS || op == TERN_OP_RESET || op == TERN_OP_RUN) &&
             addr != 0)
        st = TERN_ST_BAD_ADDR;
    else if (op == TERN_OP_READ_REG) {
        uint32_t v;
        st = reg_read(d, addr, &v);
    } else if (op == TERN_OP_WRITE_REG) {
        if (addr != TERN_REG_SCRATCH && addr != TERN_REG_ERR_FLAGS)
            st = TERN_ST_BAD_ADDR;
    } else if (op == TERN_OP_WRITE_MEM) {
        mem = region(d, addr, len, &is_omem, &off);
        if (!mem || is_omem)
            st = TERN_ST_BAD_ADDR;
    } else if (op == TERN_OP_READ_MEM) {
        uint32_t cnt = tern_get_u32(pl);
        if (cnt < 1 || cnt > d->cfg.max_payload)
            st = TERN_ST_BAD_LEN;
        else {
            mem = region(d, addr, cnt, &is_omem, &off);
            if (!mem || (is_omem && ((addr | cnt) & 3)))
                st = TERN_ST_BAD_ADDR;
        }
    } else if (op == TERN_OP_RUN) {
        struct run_args r = {tern_get_u32(pl), tern_get_u32(pl + 4), tern_get_u32(pl + 8), tern_get_u32(pl + 12),
                             tern_get_u32(pl + 16), tern_get_u32(pl + 20), tern_get_u32(pl + 24)};
        st = run_check(d, &r);
    }

    d->last_valid = 1;
    d->last_seq = seq;
    d->last_op = op;
    if (st != TERN_ST_OK) {
        d->last_status = (uint8_t)st;
        respond(d, op, seq, (uint8_t)st, NULL, 0);
        return;
    }

    switch (op) {
    case TERN_OP_PING:
        count(d, TERN_CNT_CYC_CTRL, 1);
        for (uint32_t i = 0; i < TERN_NUM_ID_REGS; i++)
            tern_put_u32(out + 4 * i, id_reg(d, i));
        out_len = TERN_NUM_ID_REGS * 4;
        break;
    case TERN_OP_READ_REG: {
        uint32_t v = 0;
        count(d, TERN_CNT_CYC_CTRL, 1);
        reg_read(d, addr, &v);
        tern_put_u32(out, v);
        out_len = 4;
        break;
    }
    case TERN_OP_WRITE_REG: {
        uint32_t v = tern_get_u32(pl);
        count(d, TERN_CNT_CYC_CTRL, 1);
        if (addr == TERN_REG_SCRATCH)
            d->scratch = v;
        else
            d->err_flags &= ~v;
        break;
    }
    case TERN_OP_READ_COUNTERS:
        for (int i = 0; i < TERN_NUM_COUNTERS; i++)
            tern_put_u64(out + 8 * i, d->cnt[i]);
        count(d, TERN_CNT_CYC_CTRL, 1);
        out_len = TERN_NUM_COUNTERS * 8;
        break;
    case TERN_OP_RESET:
        memset(d->cnt, 0, sizeof d->cnt); /* the execute cycle itself is not counted */
        d->scratch = 0;
        d->err_flags = 0;
        break;
    case TERN_OP_WRITE_MEM:
        memcpy(mem + off, pl, len);
        count(d, TERN_CNT_CYC_COMMIT, len);
        break;
    case TERN_OP_READ_MEM: {
        uint32_t cnt = tern_get_u32(pl);
        count(d, TERN_CNT_CYC_CTRL, 1);
        if (is_omem) {
            /* entries are stored sign-extended: serialise little-endian */
            uint8_t *tmp = d->stage; /* the payload was consumed above; reuse the staging buffer */
            for (uint32_t i = 0; i < cnt / 4; i++)
                tern_put_u32(tmp + 4 * i, (uint32_t)d->omem[off / 4 + i]);
            out_p = tmp;
        } else {
            out_p = mem + off;
        }
        out_len = cnt;
        break;
    }
    case TERN_OP_RUN: {
        struct run_args r = {tern_get_u32(pl), tern_get_u32(pl + 4), tern_get_u32(pl + 8), tern_get_u32(pl + 12),
                             tern_get_u32(pl + 16), tern_get_u32(pl + 20), tern_get_u32(pl + 24)};
        st = run_exec(d, &r);
        break;
    }
    }
    d->last_status = (uint8_t)st;
    respond(d, op, seq, (uint8_t)st, out_p, out_len);
}

/* The header is complete: the header CTRL cycle and its checks. */
static void header_done(tern_refdev *d)
{
    const uint8_t op = d->hdr[3];
    const uint16_t seq = tern_get_u16(d->hdr + 4);
    const uint32_t len = tern_get_u32(d->hdr + 12);
    int st = TERN_ST_OK;

    count(d, TERN_CNT_CYC_CTRL, 1);
    if (tern_crc16(d->hdr, 16) != tern_get_u16(d->hdr + 16))
        st = TERN_ST_BAD_HCRC;
    else if (d->hdr[2] != TERN_PROTO_VERSION)
        st = TERN_ST_BAD_VERSION;
    else if (len > d->cfg.max_payload)
        st = TERN_ST_BAD_LEN;
    if (st != TERN_ST_OK) {
        respond(d, op, seq, (uint8_t)st, NULL, 0);
        d->rx = RX_HUNT;
        return;
    }
    d->body_len = len + TERN_PCRC_BYTES;
    d->stage_n = 0;
    d->rx = RX_BODY;
}

static void body_done(tern_refdev *d)
{
    const uint32_t len = d->body_len - TERN_PCRC_BYTES;

    d->rx = RX_HUNT;
    if (tern_crc32(d->stage, len) != tern_get_u32(d->stage + len)) {
        count(d, TERN_CNT_CYC_CTRL, 1);
        respond(d, d->hdr[3], tern_get_u16(d->hdr + 4), TERN_ST_BAD_PCRC, NULL, 0);
        return;
    }
    dispatch(d);
}

void tern_refdev_push(tern_refdev *d, const uint8_t *data, size_t len)
{
    if (!d || !data)
        return;
    for (size_t i = 0; i < len; i++) {
        uint8_t b = data[i];
        count(d, TERN_CNT_CYC_RX, 1);
        d->cnt[TERN_CNT_BYTES_IN]++;
        switch (d->rx) {
        case RX_HUNT:
            if (b == TERN_MAGIC0)
                d->rx = RX_MAGIC1;
            break;
        case RX_MAGIC1:
            if (b == TERN_CMD_MAGIC1) {
                d->hdr[0] = TERN_MAGIC0;
                d->hdr[1] = TERN_CMD_MAGIC1;
                d->hdr_n = 2;
                d->rx = RX_HDR;
            } else if (b != TERN_MAGIC0) {
                d->rx = RX_HUNT;
            }
            break;
        case RX_HDR:
            d->hdr[d->hdr_n++] = b;
            if (d->hdr_n == TERN_CMD_HDR_BYTES)
                header_done(d);
            break;
        case RX_BODY: {
            /* copy as much of the body as is here in one go */
            size_t take = d->body_len - d->stage_n;
            if (take > len - i)
                take = len - i;
            memcpy(d->stage + d->stage_n, data + i, take);
            d->stage_n += take;
            if (take > 1) {
                count(d, TERN_CNT_CYC_RX, take - 1);
                d->cnt[TERN_CNT_BYTES_IN] += take - 1;
            }
            i += take - 1;
            if (d->stage_n == d->body_len)
                body_done(d);
            break;
        }
        }
    }
}

size_t tern_refdev_pull(tern_refdev *d, uint8_t *buf, size_t cap)
{
    size_t n;

    if (!d || !buf)
        return 0;
    n = d->tx_len - d->tx_head;
    if (n > cap)
        n = cap;
    if (n == 0)
        return 0;
    memcpy(buf, d->txq + d->tx_head, n);
    d->tx_head += n;
    return n;
}

size_t tern_refdev_pending(const tern_refdev *d)
{
    return d ? d->tx_len - d->tx_head : 0;
}

void tern_refdev_idle(tern_refdev *d, uint64_t cycles)
{
    if (d && d->rx != RX_HUNT)
        count(d, TERN_CNT_CYC_STALL_RX, cycles);
}

const struct tern_hwcfg *tern_refdev_hwcfg(const tern_refdev *d)
{
    return d ? &d->cfg : NULL;
}

void tern_refdev_counters(const tern_refdev *d, uint64_t *out)
{
    if (d && out)
        memcpy(out, d->cnt, sizeof d->cnt);
}

const uint8_t *tern_refdev_wmem(const tern_refdev *d, size_t *bytes)
{
    if (bytes)
        *bytes = d ? d->wmem_bytes : 0;
    return d ? d->wmem : NULL;
}

const uint8_t *tern_refdev_amem(const tern_refdev *d, size_t *bytes)
{
    if (bytes)
        *bytes = d ? d->amem_bytes : 0;
    return d ? d->amem : NULL;
}

int32_t tern_refdev_omem_entry(const tern_refdev *d, size_t i)
{
    return (d && i < d->omem_entries) ? d->omem[i] : 0;
}

size_t tern_refdev_omem_entries(const tern_refdev *d)
{
    return d ? d->omem_entries : 0;
}

int tern_refdev_in_frame(const tern_refdev *d)
{
    return d && d->rx != RX_HUNT;
}
