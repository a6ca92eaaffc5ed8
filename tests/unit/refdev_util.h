/* refdev_util.h — driving tern_refdev with raw command frames in the unit tests. Frames are built
 * with tern_frame_cmd and responses parsed with tern_scan_rsp. Include after <cmocka.h>. */
#ifndef TERN_REFDEV_UTIL_H
#define TERN_REFDEV_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tern/tern_proto.h"
#include "tern_hwcfg.h"
#include "tern_refdev.h"
#include "unit_util.h"

#define RD_MAX_RSP 8

struct rd_rsp {
    uint8_t opcode;
    uint8_t status;
    uint16_t seq;
    uint32_t len;
    const uint8_t *payload; /* into struct rd's rx buffer, valid until the next exchange */
};

struct rd {
    tern_refdev *dev;
    const struct tern_hwcfg *cfg;
    uint16_t seq;
    size_t wmem_bytes, amem_bytes, omem_bytes;
    uint8_t *tx;
    size_t tx_cap;
    uint8_t *rx;
    size_t rx_cap;
    struct rd_rsp rsp[RD_MAX_RSP];
    int nrsp;
};

static inline struct rd *rd_open(const char *config)
{
    const struct tern_hwcfg *cfg = tern_hwcfg_find(config);
    if (!cfg)
        fail_msg("tern_hwcfg_find(\"%s\") returned NULL", config);
    struct rd *rd = calloc(1, sizeof *rd);
    assert_non_null(rd);
    rd->cfg = cfg;
    if (tern_refdev_create(cfg, &rd->dev) != 0 || !rd->dev)
        fail_msg("tern_refdev_create(%s) failed", config);
    rd->wmem_bytes = (size_t)cfg->wmem_words * cfg->lanes * cfg->width / 4;
    rd->amem_bytes = (size_t)cfg->amem_words * cfg->width;
    rd->omem_bytes = (size_t)cfg->omem_words * cfg->lanes * 4;
    rd->tx_cap = 2 * (size_t)cfg->max_payload + 256;
    rd->tx = malloc(rd->tx_cap);
    rd->rx_cap = 4 * (size_t)cfg->max_payload + 4096;
    rd->rx = malloc(rd->rx_cap);
    assert_non_null(rd->tx);
    assert_non_null(rd->rx);
    rd->seq = 1;
    return rd;
}

static inline void rd_close(struct rd *rd)
{
    if (!rd)
        return;
    tern_refdev_destroy(rd->dev);
    free(rd->tx);
    free(rd->rx);
    free(rd);
}

/* Push raw bytes, pull every response byte and parse all response frames. Fails the test if the
 * device sent anything that is not a valid response frame. Returns the number of frames. */
static inline int rd_exchange(struct rd *rd, const uint8_t *bytes, size_t n)
{
    tern_refdev_push(rd->dev, bytes, n);
    size_t pending = tern_refdev_pending(rd->dev);
    if (pending > rd->rx_cap) {
        free(rd->rx);
        rd->rx_cap = pending;
        rd->rx = malloc(rd->rx_cap);
        assert_non_null(rd->rx);
    }
    size_t got = tern_refdev_pull(rd->dev, rd->rx, rd->rx_cap);
    if (got != pending)
        fail_msg("tern_refdev_pull returned %zu of %zu pending bytes", got, pending);
    if (tern_refdev_pending(rd->dev) != 0)
        fail_msg("bytes still pending after pulling them all");
    rd->nrsp = 0;
    size_t off = 0;
    while (off < got) {
        struct tern_rsp r;
        size_t consumed = 0;
        enum tern_scan s = tern_scan_rsp(rd->rx + off, got - off, rd->cfg->max_payload + 120u, &r,
                                         &consumed);
        if (s != TERN_SCAN_FRAME || consumed == 0)
            fail_msg("device output at byte %zu of %zu is not a valid response frame (scan %d)", off,
                     got, s);
        if (consumed != TERN_RSP_OVERHEAD + r.len)
            fail_msg("device sent %zu bytes of garbage before a response",
                     consumed - (TERN_RSP_OVERHEAD + r.len));
        if (rd->nrsp >= RD_MAX_RSP)
            fail_msg("more than %d responses to one push", RD_MAX_RSP);
        struct rd_rsp *o = &rd->rsp[rd->nrsp++];
        o->opcode = r.opcode;
        o->status = r.status;
        o->seq = r.seq;
        o->len = r.len;
        o->payload = r.payload;
        off += consumed;
    }
    return rd->nrsp;
}

/* One frame with an explicit seq; exactly one response expected, matching seq and opcode.
 * Returns its status; the response is rd->rsp[0]. */
static inline int rd_cmd_seq(struct rd *rd, uint8_t op, uint16_t seq, uint32_t addr, const void *payload,
                             uint32_t len)
{
    size_t n = tern_frame_cmd(rd->tx, rd->tx_cap, op, seq, addr, payload, len);
    if (n != TERN_CMD_OVERHEAD + len)
        fail_msg("tern_frame_cmd(op %s, len %u) returned %zu", tern_opcode_name(op), len, n);
    int nr = rd_exchange(rd, rd->tx, n);
    if (nr != 1)
        fail_msg("%s seq %u addr 0x%08x len %u: %d responses, want 1", tern_opcode_name(op), seq, addr,
                 len, nr);
    if (rd->rsp[0].seq != seq || rd->rsp[0].opcode != op)
        fail_msg("%s seq %u: response echoes opcode %u seq %u", tern_opcode_name(op), seq,
                 rd->rsp[0].opcode, rd->rsp[0].seq);
    return rd->rsp[0].status;
}

static inline int rd_cmd(struct rd *rd, uint8_t op, uint32_t addr, const void *payload, uint32_t len)
{
    return rd_cmd_seq(rd, op, rd->seq++, addr, payload, len);
}

static inline void rd_expect_status(int got, int want, const char *what)
{
    if (got != want)
        fail_msg("%s: status %s (%d), want %s", what, tern_status_name(got), got, tern_status_name(want));
}

static inline uint32_t rd_read_reg(struct rd *rd, uint32_t index)
{
    int st = rd_cmd(rd, TERN_OP_READ_REG, index, NULL, 0);
    if (st != TERN_ST_OK || rd->rsp[0].len != 4)
        fail_msg("READ_REG %u: status %s, len %u", index, tern_status_name(st), rd->rsp[0].len);
    return unit_get_u32(rd->rsp[0].payload);
}

static inline void rd_write_reg(struct rd *rd, uint32_t index, uint32_t value)
{
    uint8_t p[4];
    unit_put_u32(p, value);
    int st = rd_cmd(rd, TERN_OP_WRITE_REG, index, p, 4);
    if (st != TERN_ST_OK)
        fail_msg("WRITE_REG %u = 0x%08x: status %s", index, value, tern_status_name(st));
}

static inline void rd_write_mem(struct rd *rd, uint32_t addr, const uint8_t *data, size_t len)
{
    for (size_t off = 0; off < len;) {
        uint32_t piece = (uint32_t)(len - off < rd->cfg->max_payload ? len - off : rd->cfg->max_payload);
        int st = rd_cmd(rd, TERN_OP_WRITE_MEM, addr + (uint32_t)off, data + off, piece);
        if (st != TERN_ST_OK)
            fail_msg("WRITE_MEM 0x%08x len %u: status %s", addr + (uint32_t)off, piece,
                     tern_status_name(st));
        off += piece;
    }
}

static inline void rd_read_mem(struct rd *rd, uint32_t addr, uint8_t *data, size_t len)
{
    for (size_t off = 0; off < len;) {
        uint32_t piece = (uint32_t)(len - off < rd->cfg->max_payload ? len - off : rd->cfg->max_payload);
        uint8_t p[4];
        unit_put_u32(p, piece);
        int st = rd_cmd(rd, TERN_OP_READ_MEM, addr + (uint32_t)off, p, 4);
        if (st != TERN_ST_OK || rd->rsp[0].len != piece)
            fail_msg("READ_MEM 0x%08x count %u: status %s, len %u", addr + (uint32_t)off, piece,
                     tern_status_name(st), rd->rsp[0].len);
        memcpy(data + off, rd->rsp[0].payload, piece);
        off += piece;
    }
}

static inline void rd_run_payload(uint8_t *p, uint32_t wbase, uint32_t n, uint32_t k, uint32_t abase,
                                  uint32_t t, uint32_t obase, uint32_t flags)
{
    const uint32_t v[7] = { wbase, n, k, abase, t, obase, flags };
    for (int i = 0; i < 7; i++)
        unit_put_u32(p + 4 * i, v[i]);
}

static inline int rd_run(struct rd *rd, uint32_t wbase, uint32_t n, uint32_t k, uint32_t abase, uint32_t t,
                         uint32_t obase, uint32_t flags)
{
    uint8_t p[TERN_RUN_PAYLOAD_BYTES];
    rd_run_payload(p, wbase, n, k, abase, t, obase, flags);
    return rd_cmd(rd, TERN_OP_RUN, 0, p, TERN_RUN_PAYLOAD_BYTES);
}

static inline void rd_counters(const struct rd *rd, uint64_t *c)
{
    tern_refdev_counters(rd->dev, c);
}

/* ---- the hardware-layout oracle (ARCHITECTURE.md 3 and 5) ---- */

static inline uint32_t rd_nb(const struct rd *rd, uint32_t n)
{
    return (n + rd->cfg->lanes - 1) / rd->cfg->lanes;
}

static inline uint32_t rd_kw(const struct rd *rd, uint32_t k)
{
    return (k + rd->cfg->width - 1) / rd->cfg->width;
}

/* The raw 2-bit code of row r, column c of a matrix at wbase (any of 00, 01, 10, 11). */
static inline unsigned rd_code_at(const struct rd *rd, const uint8_t *wmem, uint32_t wbase, uint32_t k,
                                  uint32_t r, uint32_t c)
{
    uint32_t L = rd->cfg->lanes, W = rd->cfg->width;
    size_t word = (size_t)wbase + (size_t)(r / L) * rd_kw(rd, k) + c / W;
    size_t bit = 2 * ((size_t)(r % L) * W + c % W);
    size_t byte = word * (L * W / 4) + bit / 8;
    return (wmem[byte] >> (bit % 8)) & 3u;
}

/* Set the raw code of row r, column c in a WMEM image. */
static inline void rd_code_put(const struct rd *rd, uint8_t *wmem, uint32_t wbase, uint32_t k, uint32_t r,
                               uint32_t c, unsigned code)
{
    uint32_t L = rd->cfg->lanes, W = rd->cfg->width;
    size_t word = (size_t)wbase + (size_t)(r / L) * rd_kw(rd, k) + c / W;
    size_t bit = 2 * ((size_t)(r % L) * W + c % W);
    size_t byte = word * (L * W / 4) + bit / 8;
    wmem[byte] = (uint8_t)((wmem[byte] & ~(3u << (bit % 8))) | (code << (bit % 8)));
}

static inline int32_t rd_sext(int64_t v, uint32_t bits)
{
    uint64_t m = (bits >= 64) ? ~0ull : ((1ull << bits) - 1);
    uint64_t u = (uint64_t)v & m;
    if (bits < 64 && (u >> (bits - 1)) & 1u)
        u |= ~m;
    return (int32_t)(int64_t)u;
}

/* The expected OMEM entries after a RUN, computed from memory images: omem (entries) updated. */
static inline void rd_run_oracle(const struct rd *rd, const uint8_t *wmem, const uint8_t *amem, int32_t *omem,
                                 uint32_t wbase, uint32_t n, uint32_t k, uint32_t abase, uint32_t t,
                                 uint32_t obase, uint32_t flags)
{
    uint32_t L = rd->cfg->lanes, W = rd->cfg->width;
    uint32_t nb = rd_nb(rd, n), kw = rd_kw(rd, k);
    for (uint32_t tt = 0; tt < t; tt++)
        for (uint32_t r = 0; r < nb * L; r++) {
            size_t entry = ((size_t)obase + (size_t)tt * nb) * L + r;
            if (r >= n) {
                omem[entry] = 0;
                continue;
            }
            int64_t acc = 0;
            for (uint32_t c = 0; c < k; c++) {
                unsigned code = rd_code_at(rd, wmem, wbase, k, r, c);
                int8_t a = (int8_t)amem[((size_t)abase + (size_t)tt * kw + c / W) * W + c % W];
                if (code == 1)
                    acc += a;
                else if (code == 3)
                    acc -= a;
            }
            int64_t v = (flags & 1u) ? (int64_t)omem[entry] + acc : acc;
            omem[entry] = rd_sext(v, rd->cfg->acc_width);
        }
}

/* ---- state snapshots ---- */

struct rd_snap {
    uint8_t *wmem, *amem;
    int32_t *omem;
    size_t nomem;
    uint32_t scratch, err_flags;
};

static inline void rd_snap_take(struct rd *rd, struct rd_snap *s)
{
    size_t wb = 0, ab = 0;
    const uint8_t *w = tern_refdev_wmem(rd->dev, &wb);
    const uint8_t *a = tern_refdev_amem(rd->dev, &ab);
    if (wb != rd->wmem_bytes || ab != rd->amem_bytes)
        fail_msg("%s: refdev wmem %zu bytes, amem %zu bytes; want %zu, %zu", rd->cfg->name, wb, ab,
                 rd->wmem_bytes, rd->amem_bytes);
    s->wmem = malloc(wb);
    s->amem = malloc(ab);
    s->nomem = tern_refdev_omem_entries(rd->dev);
    s->omem = malloc(s->nomem * sizeof *s->omem + 1);
    assert_non_null(s->wmem);
    assert_non_null(s->amem);
    assert_non_null(s->omem);
    memcpy(s->wmem, w, wb);
    memcpy(s->amem, a, ab);
    for (size_t i = 0; i < s->nomem; i++)
        s->omem[i] = tern_refdev_omem_entry(rd->dev, i);
    s->scratch = rd_read_reg(rd, TERN_REG_SCRATCH);
    s->err_flags = rd_read_reg(rd, TERN_REG_ERR_FLAGS);
}

static inline void rd_snap_free(struct rd_snap *s)
{
    free(s->wmem);
    free(s->amem);
    free(s->omem);
    memset(s, 0, sizeof *s);
}

/* Fails naming what (the case) and the first difference between the snapshot and the device now. */
static inline void rd_snap_expect_same(struct rd *rd, const struct rd_snap *s, const char *what)
{
    struct rd_snap now;
    rd_snap_take(rd, &now);
    for (size_t i = 0; i < rd->wmem_bytes; i++)
        if (now.wmem[i] != s->wmem[i])
            fail_msg("%s changed WMEM byte %zu: %02x -> %02x", what, i, s->wmem[i], now.wmem[i]);
    for (size_t i = 0; i < rd->amem_bytes; i++)
        if (now.amem[i] != s->amem[i])
            fail_msg("%s changed AMEM byte %zu: %02x -> %02x", what, i, s->amem[i], now.amem[i]);
    if (now.nomem != s->nomem)
        fail_msg("%s changed the OMEM entry count", what);
    for (size_t i = 0; i < s->nomem; i++)
        if (now.omem[i] != s->omem[i])
            fail_msg("%s changed OMEM entry %zu: %d -> %d", what, i, s->omem[i], now.omem[i]);
    if (now.scratch != s->scratch)
        fail_msg("%s changed SCRATCH: 0x%08x -> 0x%08x", what, s->scratch, now.scratch);
    if (now.err_flags != s->err_flags)
        fail_msg("%s changed ERR_FLAGS: 0x%08x -> 0x%08x", what, s->err_flags, now.err_flags);
    rd_snap_free(&now);
}

/* Fill WMEM and AMEM with random legal data, OMEM through one RUN, SCRATCH with a random value. */
static inline void rd_fill_random(struct rd *rd, struct prng *p)
{
    uint8_t *buf = malloc(rd->wmem_bytes > rd->amem_bytes ? rd->wmem_bytes : rd->amem_bytes);
    assert_non_null(buf);
    prng_legal_code_bytes(p, buf, rd->wmem_bytes);
    rd_write_mem(rd, TERN_WMEM_BASE, buf, rd->wmem_bytes);
    prng_bytes(p, buf, rd->amem_bytes);
    rd_write_mem(rd, TERN_AMEM_BASE, buf, rd->amem_bytes);
    free(buf);
    /* one token per OMEM word: n = L, k = W, t = omem_words */
    int st = rd_run(rd, 0, rd->cfg->lanes, rd->cfg->width, 0, rd->cfg->omem_words, 0, 0);
    if (st != TERN_ST_OK)
        fail_msg("%s: filling OMEM with a RUN: status %s", rd->cfg->name, tern_status_name(st));
    rd_write_reg(rd, TERN_REG_SCRATCH, (uint32_t)prng_next(p) | 1u);
}

#endif /* TERN_REFDEV_UTIL_H */
