/* checkpoint.c — llama2.c BitNet checkpoints: the layout, a loader that validates every byte, inspection. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tern/tern.h"
#include "tern/tern_model.h"
#include "tm_internal.h"

struct tern_model {
    struct tern_model_dims dims;
    uint8_t *buf; /* the whole file */
    uint64_t size;
    const float *final_norm, *embedding;
    struct tern_tmatrix *mats; /* [kind][layer] */
};

static const char *const kind_names[TERN_MAT_KINDS] = {"wq", "wk", "wv", "wo", "w1", "w2", "w3"};

const char *tern_mat_kind_name(enum tern_mat_kind kind)
{
    return (unsigned)kind < TERN_MAT_KINDS ? kind_names[kind] : "?";
}

static int mul64(uint64_t a, uint64_t b, uint64_t *r)
{
    if (a && b > UINT64_MAX / a)
        return 0;
    *r = a * b;
    return 1;
}

static int add64(uint64_t a, uint64_t b, uint64_t *r)
{
    if (b > UINT64_MAX - a)
        return 0;
    *r = a + b;
    return 1;
}

int tm_layout_make(const struct tern_model_dims *d, struct tm_layout *L)
{
    uint64_t kv_dim, off, t;

    if (d->dim <= 0 || d->hidden_dim <= 0 || d->n_layers <= 0 || d->n_heads <= 0 || d->n_kv_heads <= 0 ||
        d->vocab_size <= 0)
        return 0;
    if (((uint64_t)d->dim * (uint64_t)d->n_kv_heads) % (uint64_t)d->n_heads)
        return 0;
    kv_dim = (uint64_t)d->dim * (uint64_t)d->n_kv_heads / (uint64_t)d->n_heads;
    if (kv_dim == 0 || kv_dim > UINT32_MAX)
        return 0;
    L->rows[TERN_MAT_WQ] = L->rows[TERN_MAT_WO] = (uint32_t)d->dim;
    L->rows[TERN_MAT_WK] = L->rows[TERN_MAT_WV] = (uint32_t)kv_dim;
    L->rows[TERN_MAT_W1] = L->rows[TERN_MAT_W3] = (uint32_t)d->hidden_dim;
    L->rows[TERN_MAT_W2] = (uint32_t)d->dim;
    for (int k = 0; k < TERN_MAT_KINDS; k++)
        L->cols[k] = k == TERN_MAT_W2 ? (uint32_t)d->hidden_dim : (uint32_t)d->dim;

    L->final_norm = TERN_CKPT_HEADER_BYTES;
    L->embedding = L->final_norm + 4 * (uint64_t)d->dim;
    if (!mul64((uint64_t)d->vocab_size * 4, (uint64_t)d->dim, &t) || !add64(L->embedding, t, &off))
        return 0;
    for (int k = 0; k < TERN_MAT_KINDS; k++) {
        uint64_t elems = (uint64_t)L->rows[k] * L->cols[k];
        L->mat_bytes[k] = 4 + (elems + 3) / 4;
        L->kind_off[k] = off;
        if (!mul64(L->mat_bytes[k], (uint64_t)d->n_layers, &t) || !add64(off, t, &off))
            return 0;
    }
    L->total = off;
    return 1;
}

uint64_t tern_model_expected_bytes(const struct tern_model_dims *d)
{
    struct tm_layout L;

    return d && tm_layout_make(d, &L) ? L.total : 0;
}

/* The reason dimensions are unacceptable, or NULL when they are fine. */
static const char *dims_problem(const struct tern_model_dims *d, char *buf, size_t len)
{
    const struct {
        const char *name;
        int32_t v, max;
    } f[] = {
        {"dim", d->dim, TERN_MODEL_MAX_DIM},
        {"hidden_dim", d->hidden_dim, TERN_MODEL_MAX_HIDDEN},
        {"n_layers", d->n_layers, TERN_MODEL_MAX_LAYERS},
        {"n_heads", d->n_heads, TERN_MODEL_MAX_HEADS},
        {"n_kv_heads", d->n_kv_heads, TERN_MODEL_MAX_HEADS},
        {"vocab_size", d->vocab_size, TERN_MODEL_MAX_VOCAB},
        {"seq_len", d->seq_len, TERN_MODEL_MAX_SEQ},
    };

    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        if (f[i].v <= 0) {
            snprintf(buf, len, "%s is %d: it must be at least 1", f[i].name, (int)f[i].v);
            return buf;
        }
        if (f[i].v > f[i].max) {
            snprintf(buf, len, "%s is %d: more than the limit %d", f[i].name, (int)f[i].v, (int)f[i].max);
            return buf;
        }
    }
    if (d->dim % d->n_heads) {
        snprintf(buf, len, "dim %d is not a multiple of n_heads %d", (int)d->dim, (int)d->n_heads);
        return buf;
    }
    if (d->n_heads % d->n_kv_heads) {
        snprintf(buf, len, "n_heads %d is not a multiple of n_kv_heads %d", (int)d->n_heads, (int)d->n_kv_heads);
        return buf;
    }
    if ((d->dim / d->n_heads) % 2) {
        snprintf(buf, len, "head size %d (dim %d / n_heads %d) is odd: RoPE rotates pairs of elements",
                 (int)(d->dim / d->n_heads), (int)d->dim, (int)d->n_heads);
        return buf;
    }
    if (d->shared_classifier != 1) {
        snprintf(buf, len,
                 "shared_classifier is %d: only checkpoints whose classifier is the token embedding (1) are supported",
                 (int)d->shared_classifier);
        return buf;
    }
    return NULL;
}

int tern_model_dims_check(const struct tern_model_dims *d, char *err, size_t errlen)
{
    char buf[256];
    const char *why;

    if (!d) {
        if (err && errlen)
            snprintf(err, errlen, "no dimensions given");
        return TERN_E_INVAL;
    }
    why = dims_problem(d, buf, sizeof buf);
    if (!why)
        return TERN_OK;
    if (err && errlen)
        snprintf(err, errlen, "%s", why);
    return TERN_E_FORMAT;
}

/* Names the part of the file that holds byte off (off < L->total), e.g. "layer 3 w2 (codes, row 5)". */
static void section_at(const struct tern_model_dims *d, const struct tm_layout *L, uint64_t off, char *buf, size_t len)
{
    if (off < L->final_norm) {
        snprintf(buf, len, "the header");
    } else if (off < L->embedding) {
        snprintf(buf, len, "final_norm (element %llu of %d)", (unsigned long long)((off - L->final_norm) / 4),
                 (int)d->dim);
    } else if (off < L->kind_off[0]) {
        snprintf(buf, len, "token_embedding (token %llu of %d)",
                 (unsigned long long)((off - L->embedding) / (4 * (uint64_t)d->dim)), (int)d->vocab_size);
    } else {
        int k = TERN_MAT_KINDS - 1;
        while (k > 0 && off < L->kind_off[k])
            k--;
        uint64_t rel = off - L->kind_off[k];
        uint64_t layer = rel / L->mat_bytes[k], in = rel % L->mat_bytes[k];
        if (in < 4)
            snprintf(buf, len, "layer %llu %s (its scale)", (unsigned long long)layer, kind_names[k]);
        else
            snprintf(buf, len, "layer %llu %s (codes, row %llu of %u)", (unsigned long long)layer, kind_names[k],
                     (unsigned long long)((in - 4) * 4 / L->cols[k]), L->rows[k]);
    }
}

static int host_is_little_endian(void)
{
    const uint32_t one = 1;
    uint8_t b;

    memcpy(&b, &one, 1);
    return b == 1;
}

/* Header checks in file order: magic, version, length of the header, dimensions, padding. */
static int check_header(const struct tm_src *f, const char *path, uint8_t *hdr, struct tern_model_dims *d, char *err,
                        size_t errlen)
{
    char why[256];
    uint64_t n = f->size < TERN_CKPT_HEADER_BYTES ? f->size : TERN_CKPT_HEADER_BYTES;
    int rc;

    if (f->size == 0) {
        tm_err(err, errlen, path, "empty file (a checkpoint starts with a %d-byte header)", TERN_CKPT_HEADER_BYTES);
        return TERN_E_FORMAT;
    }
    memset(hdr, 0, TERN_CKPT_HEADER_BYTES);
    rc = tm_src_read(f, 0, hdr, (size_t)n, path, err, errlen);
    if (rc)
        return rc;
    if (n >= 4 && tm_le32(hdr) != TERN_CKPT_MAGIC) {
        tm_err(err, errlen, path, "wrong magic 0x%08x: not a ternary llama2.c checkpoint (expected 0x%08x, \"24ka\")",
               (unsigned)tm_le32(hdr), TERN_CKPT_MAGIC);
        return TERN_E_FORMAT;
    }
    if (n >= 8 && tm_le32s(hdr + 4) != TERN_CKPT_VERSION) {
        tm_err(err, errlen, path, "version %d is not supported (only version %d)", (int)tm_le32s(hdr + 4),
               TERN_CKPT_VERSION);
        return TERN_E_FORMAT;
    }
    if (f->size < TERN_CKPT_HEADER_BYTES) {
        tm_err(err, errlen, path,
               "truncated in the header: the file is %llu bytes, the header alone is %d (%llu missing)",
               (unsigned long long)f->size, TERN_CKPT_HEADER_BYTES,
               (unsigned long long)(TERN_CKPT_HEADER_BYTES - f->size));
        return TERN_E_FORMAT;
    }
    d->dim = tm_le32s(hdr + 8);
    d->hidden_dim = tm_le32s(hdr + 12);
    d->n_layers = tm_le32s(hdr + 16);
    d->n_heads = tm_le32s(hdr + 20);
    d->n_kv_heads = tm_le32s(hdr + 24);
    d->vocab_size = tm_le32s(hdr + 28);
    d->seq_len = tm_le32s(hdr + 32);
    d->shared_classifier = hdr[36];
    if (dims_problem(d, why, sizeof why)) {
        tm_err(err, errlen, path, "%s", why);
        return TERN_E_FORMAT;
    }
    for (int i = 37; i < TERN_CKPT_HEADER_BYTES; i++)
        if (hdr[i]) {
            tm_err(err, errlen, path, "header padding byte %d is 0x%02x: bytes 37..%d must be zero", i, hdr[i],
                   TERN_CKPT_HEADER_BYTES - 1);
            return TERN_E_FORMAT;
        }
    return TERN_OK;
}

/* Every float finite, every scale finite and >= 0, every code legal; fills m->mats. */
static int check_body(tern_model *m, const struct tm_layout *L, const char *path, char *err, size_t errlen)
{
    const struct tern_model_dims *d = &m->dims;
    uint64_t nfloat = (uint64_t)d->dim * (1 + (uint64_t)d->vocab_size);
    float *fl = (float *)(void *)(m->buf + L->final_norm); /* 256-byte offset into malloc'd memory */

    if (!host_is_little_endian())
        for (uint64_t i = 0; i < nfloat; i++)
            fl[i] = tm_lef32((const uint8_t *)&fl[i]);
    for (uint64_t i = 0; i < nfloat; i++)
        if (!isfinite(fl[i])) {
            if (i < (uint64_t)d->dim)
                tm_err(err, errlen, path, "final_norm[%llu] is not finite (%g)", (unsigned long long)i, (double)fl[i]);
            else
                tm_err(err, errlen, path, "token_embedding[%llu][%llu] is not finite (%g)",
                       (unsigned long long)((i - (uint64_t)d->dim) / (uint64_t)d->dim),
                       (unsigned long long)((i - (uint64_t)d->dim) % (uint64_t)d->dim), (double)fl[i]);
            return TERN_E_FORMAT;
        }
    m->final_norm = fl;
    m->embedding = fl + d->dim;

    for (int k = 0; k < TERN_MAT_KINDS; k++)
        for (int l = 0; l < d->n_layers; l++) {
            uint64_t off = L->kind_off[k] + (uint64_t)l * L->mat_bytes[k];
            uint64_t elems = (uint64_t)L->rows[k] * L->cols[k], bad;
            struct tern_tmatrix *t = &m->mats[(size_t)k * (size_t)d->n_layers + (size_t)l];
            t->rows = L->rows[k];
            t->cols = L->cols[k];
            t->scale = tm_lef32(m->buf + off);
            t->codes = m->buf + off + 4;
            if (!isfinite(t->scale) || t->scale < 0) {
                tm_err(err, errlen, path, "layer %d %s: scale is %g: it must be finite and not negative", l,
                       kind_names[k], (double)t->scale);
                return TERN_E_FORMAT;
            }
            if (tern_codes_check(t->codes, elems, &bad) != TERN_OK) {
                uint64_t count = 0;
                for (uint64_t j = bad; j < elems; j++)
                    count += tern_code_get(t->codes, j) == TERN_E_CODE;
                tm_err(err, errlen, path,
                       "layer %d %s: illegal weight code 10 (binary) at row %llu, column %llu (file byte %llu; "
                       "%llu illegal code%s in this matrix)",
                       l, kind_names[k], (unsigned long long)(bad / t->cols), (unsigned long long)(bad % t->cols),
                       (unsigned long long)(off + 4 + bad / 4), (unsigned long long)count, count == 1 ? "" : "s");
                return TERN_E_FORMAT;
            }
        }
    return TERN_OK;
}

/* The loader behind both entry points: f is the file or the bytes in memory. */
static int load_src(const struct tm_src *f, const char *path, tern_model **out, char *err, size_t errlen)
{
    uint8_t hdr[TERN_CKPT_HEADER_BYTES];
    struct tm_layout L;
    tern_model *m = NULL;
    int rc;

    m = calloc(1, sizeof *m);
    if (!m) {
        tm_err(err, errlen, path, "out of memory");
        return TERN_E_NOMEM;
    }
    rc = check_header(f, path, hdr, &m->dims, err, errlen);
    if (rc)
        goto fail;
    if (!tm_layout_make(&m->dims, &L)) { /* cannot happen within the limits; kept for safety */
        tm_err(err, errlen, path, "the dimensions imply an impossible file size");
        rc = TERN_E_FORMAT;
        goto fail;
    }
    if (f->size < L.total) {
        char where[128];
        section_at(&m->dims, &L, f->size, where, sizeof where);
        tm_err(err, errlen, path, "truncated in %s: the file is %llu bytes, the dimensions imply %llu (%llu missing)",
               where, (unsigned long long)f->size, (unsigned long long)L.total,
               (unsigned long long)(L.total - f->size));
        rc = TERN_E_FORMAT;
        goto fail;
    }
    if (f->size > L.total) {
        uint64_t extra = f->size - L.total;
        tm_err(err, errlen, path,
               "%llu extra byte%s after the last matrix: the file is %llu bytes, the dimensions imply %llu",
               (unsigned long long)extra, extra == 1 ? "" : "s", (unsigned long long)f->size,
               (unsigned long long)L.total);
        rc = TERN_E_FORMAT;
        goto fail;
    }
    if (L.total > SIZE_MAX) {
        tm_err(err, errlen, path, "%llu bytes do not fit in this address space", (unsigned long long)L.total);
        rc = TERN_E_NOMEM;
        goto fail;
    }
    m->size = L.total;
    m->buf = malloc((size_t)L.total);
    m->mats = calloc((size_t)TERN_MAT_KINDS * (size_t)m->dims.n_layers, sizeof *m->mats);
    if (!m->buf || !m->mats) {
        tm_err(err, errlen, path, "out of memory for %llu bytes", (unsigned long long)L.total);
        rc = TERN_E_NOMEM;
        goto fail;
    }
    memcpy(m->buf, hdr, TERN_CKPT_HEADER_BYTES);
    rc = tm_src_read(f, TERN_CKPT_HEADER_BYTES, m->buf + TERN_CKPT_HEADER_BYTES,
                     (size_t)(L.total - TERN_CKPT_HEADER_BYTES), path, err, errlen);
    if (rc)
        goto fail;
    rc = check_body(m, &L, path, err, errlen);
    if (rc)
        goto fail;
    *out = m;
    return TERN_OK;

fail:
    tern_model_free(m);
    return rc;
}

int tern_model_load(const char *path, tern_model **out, char *err, size_t errlen)
{
    struct tm_file f = {-1, 0};
    struct tm_src src;
    int rc;

    if (err && errlen)
        err[0] = '\0';
    if (out)
        *out = NULL;
    if (!path || !out) {
        tm_err(err, errlen, path, "tern_model_load: %s is NULL", path ? "out" : "path");
        return TERN_E_INVAL;
    }
    rc = tm_file_open(path, &f, err, errlen);
    if (rc)
        return rc;
    src = (struct tm_src){&f, NULL, f.size};
    rc = load_src(&src, path, out, err, errlen);
    tm_file_close(&f);
    return rc;
}

int tern_model_load_mem(const void *data, size_t size, const char *name, tern_model **out, char *err, size_t errlen)
{
    struct tm_src src = {NULL, data, size};

    if (!name)
        name = "(memory)";
    if (err && errlen)
        err[0] = '\0';
    if (out)
        *out = NULL;
    if ((!data && size) || !out) {
        tm_err(err, errlen, name, "tern_model_load_mem: %s is NULL", out ? "data" : "out");
        return TERN_E_INVAL;
    }
    return load_src(&src, name, out, err, errlen);
}

void tern_model_free(tern_model *m)
{
    if (!m)
        return;
    free(m->mats);
    free(m->buf);
    free(m);
}

const struct tern_model_dims *tern_model_dims(const tern_model *m)
{
    return m ? &m->dims : NULL;
}

const float *tern_model_final_norm(const tern_model *m)
{
    return m ? m->final_norm : NULL;
}

const float *tern_model_embedding(const tern_model *m)
{
    return m ? m->embedding : NULL;
}

const struct tern_tmatrix *tern_model_matrix(const tern_model *m, int layer, enum tern_mat_kind kind)
{
    if (!m || layer < 0 || layer >= m->dims.n_layers || (unsigned)kind >= TERN_MAT_KINDS)
        return NULL;
    return &m->mats[(size_t)kind * (size_t)m->dims.n_layers + (size_t)layer];
}

uint64_t tern_model_ternary_params(const tern_model *m)
{
    uint64_t n = 0;

    if (!m)
        return 0;
    for (size_t i = 0; i < (size_t)TERN_MAT_KINDS * (size_t)m->dims.n_layers; i++)
        n += (uint64_t)m->mats[i].rows * m->mats[i].cols;
    return n;
}

uint64_t tern_model_float_params(const tern_model *m)
{
    return m ? (uint64_t)m->dims.dim * (1 + (uint64_t)m->dims.vocab_size) : 0;
}

uint64_t tern_model_file_bytes(const tern_model *m)
{
    return m ? m->size : 0;
}

static unsigned popcount64(uint64_t x)
{
#if defined(__GNUC__)
    return (unsigned)__builtin_popcountll(x);
#else
    unsigned n = 0;
    for (; x; x &= x - 1)
        n++;
    return n;
#endif
}

void tern_tmatrix_count_codes(const struct tern_tmatrix *mat, struct tern_code_counts *out)
{
    const uint64_t lo_mask = 0x5555555555555555ull;
    uint64_t elems, full, pos = 0, neg = 0, ill = 0;

    if (!out)
        return;
    memset(out, 0, sizeof *out);
    if (!mat || !mat->codes)
        return;
    elems = (uint64_t)mat->rows * mat->cols;
    full = elems / 32; /* 8 bytes = 32 codes per word */
    for (uint64_t w = 0; w < full; w++) {
        uint64_t x, lo, hi;
        memcpy(&x, mat->codes + 8 * w, 8);
        lo = x & lo_mask;
        hi = (x >> 1) & lo_mask;
        pos += popcount64(lo & ~hi); /* 01 */
        neg += popcount64(lo & hi);  /* 11 */
        ill += popcount64(hi & ~lo); /* 10 */
    }
    for (uint64_t j = full * 32; j < elems; j++) {
        int c = tern_code_get(mat->codes, j);
        pos += c == 1;
        neg += c == -1;
        ill += c == TERN_E_CODE;
    }
    out->pos = pos;
    out->neg = neg;
    out->illegal = ill;
    out->zero = elems - pos - neg - ill;
}
