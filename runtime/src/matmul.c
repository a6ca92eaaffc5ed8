/* matmul.c — ternary matrices on a device: conversion to hardware weight tiles, residency of the
 * tiles in weight memory (first fit, least-recently-used eviction, streaming), and the tiler that
 * splits any N x K x T product into RUN commands that fit the buffers the device reported. */
#include <stdlib.h>
#include <string.h>

#include "tern/tern_proto.h"
#include "tern_dev_internal.h"

/* One tile: a group of row blocks by one K chunk, in hardware layout (ARCHITECTURE.md section 3). */
struct tern_tile {
    tern_mat *mat;
    uint32_t block0, nblocks; /* row blocks [block0, block0 + nblocks) */
    uint32_t k0, kc, kw;      /* columns [k0, k0 + kc), kw = ceil(kc / width) words a block */
    size_t words;             /* nblocks * kw */
    uint8_t *data;            /* words * word_bytes bytes */
    int resident;
    uint32_t wbase;
    uint64_t last_use;
};

struct tern_mat {
    tern_dev *dev;
    uint32_t n, k;
    uint32_t kc;                  /* columns a chunk (the last may be shorter) */
    uint32_t nchunks;
    uint32_t group_blocks;        /* row blocks a tile (the last group may be shorter) */
    uint32_t ngroups;
    struct tern_tile *tiles;      /* [group][chunk] */
    tern_mat *prev, *next;        /* the device's list of matrices */
};

static size_t word_bytes(const struct tern_config *c)
{
    return (size_t)c->lanes * c->width / 4;
}

static uint32_t div_up(uint64_t a, uint32_t b)
{
    return (uint32_t)((a + b - 1) / b);
}

/* ---- residency ---------------------------------------------------------------------------- */

static void resident_remove(tern_dev *dev, size_t i)
{
    dev->resident[i]->resident = 0;
    memmove(dev->resident + i, dev->resident + i + 1, (dev->n_resident - i - 1) * sizeof *dev->resident);
    dev->n_resident--;
}

/* First fit in WMEM for `words`; returns the insertion index and base, or -1. */
static long find_hole(const tern_dev *dev, size_t words, uint32_t *base)
{
    uint64_t at = 0;

    for (size_t i = 0; i <= dev->n_resident; i++) {
        uint64_t end = i < dev->n_resident ? dev->resident[i]->wbase : dev->cfg.wmem_words;
        if (end - at >= words) {
            *base = (uint32_t)at;
            return (long)i;
        }
        if (i < dev->n_resident)
            at = (uint64_t)dev->resident[i]->wbase + dev->resident[i]->words;
    }
    return -1;
}

/* Place a tile in WMEM and upload it. With may_evict, least recently used tiles make room. */
static int make_resident(tern_dev *dev, struct tern_tile *t, int may_evict)
{
    uint32_t base = 0;
    long at;
    int rc;

    if (t->resident) {
        t->last_use = ++dev->use_clock;
        return TERN_OK;
    }
    while ((at = find_hole(dev, t->words, &base)) < 0) {
        size_t victim = 0;
        if (!may_evict || dev->n_resident == 0)
            return TERN_E_NOFIT;
        for (size_t i = 1; i < dev->n_resident; i++)
            if (dev->resident[i]->last_use < dev->resident[victim]->last_use)
                victim = i;
        resident_remove(dev, victim);
        dev->tile_stats.evictions++;
    }
    if (dev->n_resident == dev->cap_resident) {
        size_t cap = dev->cap_resident ? 2 * dev->cap_resident : 64;
        struct tern_tile **r = realloc(dev->resident, cap * sizeof *r);
        if (!r)
            return tern_dev_fail(dev, TERN_E_NOMEM, "out of memory tracking resident tiles");
        dev->resident = r;
        dev->cap_resident = cap;
    }
    rc = tern_dev_write_mem(dev, (uint32_t)(TERN_WMEM_BASE + (uint64_t)base * word_bytes(&dev->cfg)), t->data,
                            t->words * word_bytes(&dev->cfg));
    if (rc)
        return rc;
    memmove(dev->resident + at + 1, dev->resident + at, (dev->n_resident - (size_t)at) * sizeof *dev->resident);
    dev->resident[at] = t;
    dev->n_resident++;
    t->resident = 1;
    t->wbase = base;
    t->last_use = ++dev->use_clock;
    dev->tile_stats.tile_uploads++;
    dev->tile_stats.weight_bytes += t->words * word_bytes(&dev->cfg);
    return TERN_OK;
}

void tern_residency_drop_mat(tern_dev *dev, const tern_mat *mat)
{
    for (size_t i = dev->n_resident; i-- > 0;)
        if (dev->resident[i]->mat == mat)
            resident_remove(dev, i);
}

void tern_residency_detach_all(tern_dev *dev)
{
    for (tern_mat *m = dev->mats; m; m = m->next) {
        m->dev = NULL;
        for (size_t i = 0; i < (size_t)m->ngroups * m->nchunks; i++)
            m->tiles[i].resident = 0;
    }
    dev->mats = NULL;
    dev->n_resident = 0;
}

/* ---- matrices ------------------------------------------------------------------------------ */

/* Write the codes of one tile in hardware layout. */
static void pack_tile(const struct tern_config *c, const uint8_t *codes, uint32_t n, uint32_t k,
                      struct tern_tile *t)
{
    const size_t wb = word_bytes(c);

    for (uint32_t b = 0; b < t->nblocks; b++)
        for (uint32_t l = 0; l < c->lanes; l++) {
            uint64_t row = (uint64_t)(t->block0 + b) * c->lanes + l;
            if (row >= n)
                break;
            for (uint32_t col = 0; col < t->kc; col++) {
                uint64_t j = row * k + t->k0 + col;
                unsigned code = (codes[j / 4] >> (2 * (j % 4))) & 3;
                uint32_t word = b * t->kw + col / c->width;
                uint32_t e = l * c->width + col % c->width;
                t->data[word * wb + e / 4] |= (uint8_t)(code << (2 * (e % 4)));
            }
        }
}

void tern_mat_free(tern_mat *mat)
{
    if (!mat)
        return;
    if (mat->dev) {
        tern_residency_drop_mat(mat->dev, mat);
        if (mat->prev)
            mat->prev->next = mat->next;
        else if (mat->dev->mats == mat)
            mat->dev->mats = mat->next;
        if (mat->next)
            mat->next->prev = mat->prev;
    }
    if (mat->tiles)
        for (size_t i = 0; i < (size_t)mat->ngroups * mat->nchunks; i++)
            free(mat->tiles[i].data);
    free(mat->tiles);
    free(mat);
}

int tern_mat_upload(tern_dev *dev, const uint8_t *codes, uint32_t n, uint32_t k, tern_mat **out)
{
    const struct tern_config *c;
    uint64_t bad = 0;
    uint32_t kc_words, nb, kw_max, quarter;
    uint64_t kc64;
    tern_mat *m;
    int rc;

    if (!dev || !codes || !out)
        return tern_dev_fail(dev, TERN_E_INVAL, "tern_mat_upload: NULL argument");
    *out = NULL;
    c = &dev->cfg;
    if (n == 0 || k == 0)
        return tern_dev_fail(dev, TERN_E_INVAL, "tern_mat_upload: impossible shape %u x %u", n, k);
    if (k > c->max_k)
        return tern_dev_fail(dev, TERN_E_NOFIT,
                             "tern_mat_upload: K = %u exceeds the device's max_k = %u (its accumulators "
                             "are %u bits)",
                             k, c->max_k, c->acc_width);
    if (tern_codes_check(codes, (uint64_t)n * k, &bad))
        return tern_dev_fail(dev, TERN_E_CODE, "tern_mat_upload: illegal code 10 at row %llu, column %llu",
                             (unsigned long long)(bad / k), (unsigned long long)(bad % k));

    m = calloc(1, sizeof *m);
    if (!m)
        return tern_dev_fail(dev, TERN_E_NOMEM, "out of memory");
    m->dev = dev;
    m->next = dev->mats;
    if (dev->mats)
        dev->mats->prev = m;
    dev->mats = m;
    m->n = n;
    m->k = k;
    /* 64-bit: the device's limits (idblock.c) keep these in range, the arithmetic does not rely on it */
    kc_words = c->amem_words < c->wmem_words ? c->amem_words : c->wmem_words;
    kc64 = (uint64_t)kc_words * c->width;
    m->kc = kc64 >= k ? k : (uint32_t)kc64;
    m->nchunks = div_up(k, m->kc);
    nb = div_up(n, c->lanes);
    kw_max = div_up(m->kc, c->width);
    quarter = c->wmem_words / 4 / kw_max;
    m->group_blocks = nb;
    if (m->group_blocks > quarter)
        m->group_blocks = quarter ? quarter : 1;
    if (m->group_blocks > c->omem_words)
        m->group_blocks = c->omem_words;
    m->ngroups = div_up(nb, m->group_blocks);
    rc = TERN_E_NOMEM;
    m->tiles = calloc((size_t)m->ngroups * m->nchunks, sizeof *m->tiles);
    if (!m->tiles)
        goto fail;
    for (uint32_t g = 0; g < m->ngroups; g++)
        for (uint32_t ch = 0; ch < m->nchunks; ch++) {
            struct tern_tile *t = &m->tiles[(size_t)g * m->nchunks + ch];
            t->mat = m;
            t->block0 = g * m->group_blocks;
            t->nblocks = nb - t->block0 < m->group_blocks ? nb - t->block0 : m->group_blocks;
            t->k0 = ch * m->kc;
            t->kc = k - t->k0 < m->kc ? k - t->k0 : m->kc;
            t->kw = div_up(t->kc, c->width);
            t->words = (size_t)t->nblocks * t->kw;
            t->data = calloc(t->words, word_bytes(c));
            if (!t->data)
                goto fail;
            pack_tile(c, codes, n, k, t);
        }
    /* upload what fits now without evicting anything; the rest goes on first use */
    for (size_t i = 0; i < (size_t)m->ngroups * m->nchunks; i++) {
        rc = make_resident(dev, &m->tiles[i], 0);
        if (rc == TERN_E_NOFIT)
            break;
        if (rc)
            goto fail;
    }
    *out = m;
    return TERN_OK;

fail:
    tern_mat_free(m);
    if (rc == TERN_E_NOMEM)
        tern_dev_fail(dev, rc, "out of memory converting a %u x %u matrix", n, k);
    return rc;
}

uint32_t tern_mat_rows(const tern_mat *mat)
{
    return mat ? mat->n : 0;
}

uint32_t tern_mat_cols(const tern_mat *mat)
{
    return mat ? mat->k : 0;
}

int tern_mat_prefetch(tern_mat *mat)
{
    uint64_t words = 0;
    size_t tiles;

    if (!mat)
        return TERN_E_INVAL;
    if (!mat->dev)
        return TERN_E_INVAL;
    tiles = (size_t)mat->ngroups * mat->nchunks;
    for (size_t j = 0; j < tiles; j++)
        words += mat->tiles[j].words;
    if (words > mat->dev->cfg.wmem_words)
        return tern_dev_fail(mat->dev, TERN_E_NOFIT, "the matrix needs %llu WMEM words, the device has %u",
                             (unsigned long long)words, mat->dev->cfg.wmem_words);
    for (size_t i = 0; i < tiles; i++) {
        int rc = make_resident(mat->dev, &mat->tiles[i], 1);
        if (rc)
            return rc;
    }
    return TERN_OK;
}

/* ---- the product ---------------------------------------------------------------------------- */

/* Write the activations of tokens [t0, t0 + tt), columns of chunk t, into AMEM from word 0. */
static int write_acts(tern_dev *dev, const tern_mat *m, const struct tern_tile *t, const int8_t *act, uint32_t t0,
                      uint32_t tt)
{
    const uint32_t W = dev->cfg.width;
    size_t bytes = (size_t)tt * t->kw * W;

    if (bytes > dev->act_cap) {
        int8_t *p = realloc(dev->act_buf, bytes);
        if (!p)
            return tern_dev_fail(dev, TERN_E_NOMEM, "out of memory staging activations");
        dev->act_buf = (uint8_t *)p;
        dev->act_cap = bytes;
    }
    memset(dev->act_buf, 0, bytes);
    for (uint32_t i = 0; i < tt; i++)
        memcpy(dev->act_buf + (size_t)i * t->kw * W, act + (size_t)(t0 + i) * m->k + t->k0, t->kc);
    dev->tile_stats.act_bytes += bytes;
    return tern_dev_write_mem(dev, TERN_AMEM_BASE, dev->act_buf, bytes);
}

int tern_matmul(tern_dev *dev, tern_mat *m, const int8_t *act, uint32_t t, int32_t *out)
{
    const struct tern_config *c;
    uint32_t kw_max, tt_max;
    uint8_t *obuf;
    int rc = TERN_OK;

    if (!dev || !m || !act || !out)
        return tern_dev_fail(dev, TERN_E_INVAL, "tern_matmul: NULL argument");
    if (m->dev == NULL)
        return tern_dev_fail(dev, TERN_E_INVAL, "tern_matmul: the matrix's device was closed");
    if (m->dev != dev)
        return tern_dev_fail(dev, TERN_E_INVAL, "tern_matmul: the matrix belongs to another device");
    if (t == 0)
        return tern_dev_fail(dev, TERN_E_INVAL, "tern_matmul: zero tokens");
    c = &dev->cfg;
    kw_max = div_up(m->kc, c->width);
    tt_max = c->amem_words / kw_max;
    if (tt_max > c->omem_words / m->group_blocks)
        tt_max = c->omem_words / m->group_blocks;
    if (tt_max > t)
        tt_max = t;
    obuf = malloc((size_t)tt_max * m->group_blocks * c->lanes * 4);
    if (!obuf)
        return tern_dev_fail(dev, TERN_E_NOMEM, "out of memory for outputs");

    for (uint32_t t0 = 0; t0 < t && !rc; t0 += tt_max) {
        uint32_t tt = t - t0 < tt_max ? t - t0 : tt_max;
        if (m->nchunks == 1)
            rc = write_acts(dev, m, &m->tiles[0], act, t0, tt);
        for (uint32_t g = 0; g < m->ngroups && !rc; g++) {
            const struct tern_tile *first = &m->tiles[(size_t)g * m->nchunks];
            uint32_t row0 = first->block0 * c->lanes;
            uint32_t rows = m->n - row0 < first->nblocks * c->lanes ? m->n - row0 : first->nblocks * c->lanes;
            size_t entries = (size_t)tt * first->nblocks * c->lanes;

            for (uint32_t ch = 0; ch < m->nchunks && !rc; ch++) {
                struct tern_tile *tile = &m->tiles[(size_t)g * m->nchunks + ch];
                struct tern_run run = {0, rows, tile->kc, 0, tt, 0, ch > 0};
                if (m->nchunks > 1)
                    rc = write_acts(dev, m, tile, act, t0, tt);
                if (!rc)
                    rc = make_resident(dev, tile, 1);
                if (rc)
                    break;
                run.wbase = tile->wbase;
                rc = tern_dev_run(dev, &run);
                dev->tile_stats.runs++;
            }
            if (rc)
                break;
            rc = tern_dev_read_mem(dev, TERN_OMEM_BASE, obuf, entries * 4);
            if (rc)
                break;
            dev->tile_stats.out_bytes += entries * 4;
            for (uint32_t i = 0; i < tt; i++)
                for (uint32_t r = 0; r < rows; r++)
                    out[(size_t)(t0 + i) * m->n + row0 + r] =
                        (int32_t)tern_get_u32(obuf + 4 * ((size_t)i * first->nblocks * c->lanes + r));
        }
    }
    free(obuf);
    return rc;
}
