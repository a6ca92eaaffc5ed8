/* llm.c — the transformer forward pass: ternary products on the device, everything else on the host,
 * with the numerics of ../shared/models/bitllama-3m/README.md (and a descriptor for other families). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tern/tern_llm.h"
#include "tern_dev_internal.h"

struct tern_llm {
    tern_dev *dev;
    const tern_model *model;
    struct tern_model_dims d;
    struct tern_family fam;
    int kv_dim, head_size;
    tern_mat **mats; /* [layer][TERN_MAT_KINDS] */
    float *key_cache, *value_cache; /* [layer][seq_len][kv_dim] */

    uint32_t cap_t; /* tokens the scratch buffers hold */
    float *x, *xb, *xb2, *q, *k, *v, *hb, *hb2, *norm, *ascale, *att;
    int8_t *q8;
    int32_t *acc;

    tern_acc_observer observer;
    void *observer_ctx;
    struct tern_llm_stats stats;
};

void tern_family_bitllama(struct tern_family *f)
{
    f->name = "bitllama";
    f->norm = TERN_NORM_BITLINEAR;
    f->act = TERN_ACT_SWIGLU;
    f->round = TERN_ROUND_HALF_AWAY;
    f->rope = TERN_ROPE_ADJACENT;
    f->rope_theta = 10000.0f;
    f->norm_eps = 1e-5f;
}

void tern_family_bitnet_2b4t(struct tern_family *f)
{
    f->name = "bitnet-b1.58-2b4t";
    f->norm = TERN_NORM_LEARNED;
    f->act = TERN_ACT_RELU2;
    f->round = TERN_ROUND_HALF_EVEN;
    f->rope = TERN_ROPE_HALF;
    f->rope_theta = 500000.0f;
    f->norm_eps = 1e-5f;
}

void tern_llm_set_observer(tern_llm *llm, tern_acc_observer fn, void *ctx)
{
    if (!llm)
        return;
    llm->observer = fn;
    llm->observer_ctx = ctx;
}

void tern_llm_stats(const tern_llm *llm, struct tern_llm_stats *out)
{
    if (llm && out)
        *out = llm->stats;
}

static void free_scratch(tern_llm *l)
{
    free(l->x);
    free(l->xb);
    free(l->xb2);
    free(l->q);
    free(l->k);
    free(l->v);
    free(l->hb);
    free(l->hb2);
    free(l->norm);
    free(l->ascale);
    free(l->att);
    free(l->q8);
    free(l->acc);
    l->x = l->xb = l->xb2 = l->q = l->k = l->v = l->hb = l->hb2 = l->norm = l->ascale = l->att = NULL;
    l->q8 = NULL;
    l->acc = NULL;
    l->cap_t = 0;
}

/* Make the scratch buffers hold t tokens. */
static int reserve(tern_llm *l, uint32_t t)
{
    size_t dim = (size_t)l->d.dim, hid = (size_t)l->d.hidden_dim, wide = dim > hid ? dim : hid;

    if (t <= l->cap_t)
        return TERN_OK;
    free_scratch(l);
    l->x = malloc(t * dim * sizeof(float));
    l->xb = malloc(t * dim * sizeof(float));
    l->xb2 = malloc(t * dim * sizeof(float));
    l->q = malloc(t * dim * sizeof(float));
    l->k = malloc(t * (size_t)l->kv_dim * sizeof(float));
    l->v = malloc(t * (size_t)l->kv_dim * sizeof(float));
    l->hb = malloc(t * hid * sizeof(float));
    l->hb2 = malloc(t * hid * sizeof(float));
    l->norm = malloc(wide * sizeof(float));
    l->ascale = malloc(t * sizeof(float));
    l->att = malloc((size_t)l->d.seq_len * sizeof(float));
    l->q8 = malloc(t * wide);
    l->acc = malloc(t * wide * sizeof(int32_t));
    if (!l->x || !l->xb || !l->xb2 || !l->q || !l->k || !l->v || !l->hb || !l->hb2 || !l->norm || !l->ascale ||
        !l->att || !l->q8 || !l->acc) {
        free_scratch(l);
        return TERN_E_NOMEM;
    }
    l->cap_t = t;
    return TERN_OK;
}

void tern_llm_free(tern_llm *l)
{
    if (!l)
        return;
    if (l->mats)
        for (size_t i = 0; i < (size_t)l->d.n_layers * TERN_MAT_KINDS; i++)
            tern_mat_free(l->mats[i]);
    free(l->mats);
    free(l->key_cache);
    free(l->value_cache);
    free_scratch(l);
    free(l);
}

int tern_llm_create(tern_dev *dev, const tern_model *model, const struct tern_family *fam, tern_llm **out)
{
    tern_llm *l;
    size_t cache;
    int rc;

    if (!dev || !model || !fam || !out)
        return tern_dev_fail(dev, TERN_E_INVAL, "tern_llm_create: NULL argument");
    *out = NULL;
    if (fam->norm != TERN_NORM_BITLINEAR)
        return tern_dev_fail(dev, TERN_E_UNSUPPORTED,
                             "model family %s needs learned norm weights, which this checkpoint format lacks",
                             fam->name);
    l = calloc(1, sizeof *l);
    if (!l)
        return tern_dev_fail(dev, TERN_E_NOMEM, "out of memory");
    l->dev = dev;
    l->model = model;
    l->d = *tern_model_dims(model);
    l->fam = *fam;
    l->kv_dim = l->d.dim / l->d.n_heads * l->d.n_kv_heads;
    l->head_size = l->d.dim / l->d.n_heads;
    rc = TERN_E_NOMEM;
    cache = (size_t)l->d.n_layers * l->d.seq_len * l->kv_dim;
    l->key_cache = calloc(cache, sizeof(float));
    l->value_cache = calloc(cache, sizeof(float));
    l->mats = calloc((size_t)l->d.n_layers * TERN_MAT_KINDS, sizeof *l->mats);
    if (!l->key_cache || !l->value_cache || !l->mats) {
        tern_dev_fail(dev, rc, "out of memory for the KV cache");
        goto fail;
    }
    for (int layer = 0; layer < l->d.n_layers; layer++)
        for (int kind = 0; kind < TERN_MAT_KINDS; kind++) {
            const struct tern_tmatrix *m = tern_model_matrix(model, layer, (enum tern_mat_kind)kind);
            rc = tern_mat_upload(dev, m->codes, m->rows, m->cols, &l->mats[layer * TERN_MAT_KINDS + kind]);
            if (rc)
                goto fail;
        }
    *out = l;
    return TERN_OK;

fail:
    tern_llm_free(l);
    return rc;
}

/* ---- host numerics ------------------------------------------------------------------------ */

/* The parameter-free normalisation of a BitLinear input: u = x * (1/sqrt(mean(x^2))) / n. */
static void bit_norm(float *out, const float *x, int n)
{
    float ss = 0.0f;

    for (int i = 0; i < n; i++)
        ss += x[i] * x[i];
    ss /= (float)n;
    ss = 1.0f / sqrtf(ss);
    ss /= (float)n;
    for (int i = 0; i < n; i++)
        out[i] = x[i] * ss;
}

static void rms_norm(float *out, const float *x, const float *w, int n, float eps)
{
    float ss = 0.0f;

    for (int i = 0; i < n; i++)
        ss += x[i] * x[i];
    ss /= (float)n;
    ss += eps;
    ss = 1.0f / sqrtf(ss);
    for (int i = 0; i < n; i++)
        out[i] = w[i] * (ss * x[i]);
}

static void softmax(float *x, int n)
{
    float max = x[0], sum = 0.0f;

    for (int i = 1; i < n; i++)
        if (x[i] > max)
            max = x[i];
    for (int i = 0; i < n; i++) {
        x[i] = expf(x[i] - max);
        sum += x[i];
    }
    for (int i = 0; i < n; i++)
        x[i] /= sum;
}

/* The index of the first element of v[0..n) that is NaN or infinite, or -1. */
static long first_nonfinite(const float *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return (long)i;
    return -1;
}

/* After the last layer: the residual stream, the final RMSNorm and the logits of row r (position
 * pos) must be finite; a checkpoint whose numbers overflow float fails here, naming what. */
static int check_finite(tern_llm *l, const float *x, const float *xr, const float *lo, uint32_t pos)
{
    const int dim = l->d.dim, nv = l->d.vocab_size;
    long at;

    if ((at = first_nonfinite(x, (size_t)dim)) >= 0)
        return tern_dev_fail(l->dev, TERN_E_INVAL,
                             "position %u: the residual stream after the last layer is not finite "
                             "(element %ld is %g): the model's numbers overflow float",
                             pos, at, (double)x[at]);
    if ((at = first_nonfinite(xr, (size_t)dim)) >= 0) {
        const float *w = tern_model_final_norm(l->model);
        float wmax = 0.0f;
        for (int j = 0; j < dim; j++)
            if (fabsf(w[j]) > wmax)
                wmax = fabsf(w[j]);
        return tern_dev_fail(l->dev, TERN_E_INVAL,
                             "position %u: the final RMSNorm gives a value that is not finite (element %ld is "
                             "%g; the largest final-norm weight is %g): the model's numbers overflow float",
                             pos, at, (double)xr[at], (double)wmax);
    }
    if ((at = first_nonfinite(lo, (size_t)nv)) >= 0) {
        int nan = 0, inf = 0;
        for (int v = 0; v < nv; v++) {
            nan += isnan(lo[v]) != 0;
            inf += isinf(lo[v]) != 0;
        }
        return tern_dev_fail(l->dev, TERN_E_INVAL,
                             "position %u: the logits are not finite (%d NaN and %d infinite of %d; token %ld "
                             "is %g): the classifier overflows float",
                             pos, nan, inf, nv, at, (double)lo[at]);
    }
    return TERN_OK;
}

/* A group of BitLinear layers sharing one input: in is [t][n_in]; outs[i] is [t][rows_i]. */
static int bitlinear(tern_llm *l, int layer, const enum tern_mat_kind *kinds, float *const *outs, int count,
                     const float *in, int n_in, uint32_t t, uint32_t pos)
{
    for (uint32_t i = 0; i < t; i++) {
        const float *xi = in + (size_t)i * n_in;
        if (l->fam.norm == TERN_NORM_BITLINEAR) {
            bit_norm(l->norm, xi, n_in);
            xi = l->norm;
        }
        int rc = tern_quantize_absmax(xi, (size_t)n_in, l->fam.round, l->q8 + (size_t)i * n_in, &l->ascale[i]);
        if (rc)
            return tern_dev_fail(l->dev, rc, "layer %d: activations are not finite at position %u", layer, pos + i);
    }
    for (int g = 0; g < count; g++) {
        const struct tern_tmatrix *m = tern_model_matrix(l->model, layer, kinds[g]);
        tern_mat *dm = l->mats[layer * TERN_MAT_KINDS + kinds[g]];
        int rc = tern_matmul(l->dev, dm, l->q8, t, l->acc);
        if (rc)
            return rc;
        l->stats.matmuls++;
        l->stats.tern_terms += (uint64_t)m->rows * m->cols * t;
        if (l->observer) {
            rc = l->observer(l->observer_ctx, layer, kinds[g], pos, t, m->rows, l->acc);
            if (rc)
                return rc;
        }
        for (uint32_t i = 0; i < t; i++) {
            float s = m->scale * l->ascale[i];
            float *o = outs[g] + (size_t)i * m->rows;
            const int32_t *a = l->acc + (size_t)i * m->rows;
            for (uint32_t r = 0; r < m->rows; r++)
                o[r] = (float)a[r] * s;
        }
    }
    return TERN_OK;
}

static void rope(const tern_llm *l, float *vec, int n, uint32_t pos)
{
    const int hs = l->head_size;

    if (l->fam.rope == TERN_ROPE_ADJACENT) {
        for (int i = 0; i < n; i += 2) {
            int hd = i % hs;
            float freq = 1.0f / powf(l->fam.rope_theta, hd / (float)hs);
            float val = (float)pos * freq, fcr = cosf(val), fci = sinf(val);
            float v0 = vec[i], v1 = vec[i + 1];
            vec[i] = v0 * fcr - v1 * fci;
            vec[i + 1] = v0 * fci + v1 * fcr;
        }
    } else {
        for (int h = 0; h < n / hs; h++)
            for (int i = 0; i < hs / 2; i++) {
                float freq = 1.0f / powf(l->fam.rope_theta, 2 * i / (float)hs);
                float val = (float)pos * freq, fcr = cosf(val), fci = sinf(val);
                float *p = vec + h * hs;
                float v0 = p[i], v1 = p[i + hs / 2];
                p[i] = v0 * fcr - v1 * fci;
                p[i + hs / 2] = v0 * fci + v1 * fcr;
            }
    }
}

int tern_llm_forward(tern_llm *l, const int32_t *tokens, uint32_t t, uint32_t pos, float *logits, uint32_t rows)
{
    const int dim = l ? l->d.dim : 0, kv_dim = l ? l->kv_dim : 0, hid = l ? l->d.hidden_dim : 0;
    int rc;

    if (!l || !tokens || t == 0)
        return tern_dev_fail(l ? l->dev : NULL, TERN_E_INVAL, "tern_llm_forward: NULL argument or no tokens");
    if ((uint64_t)pos + t > (uint64_t)l->d.seq_len)
        return tern_dev_fail(l->dev, TERN_E_INVAL, "positions %u..%u pass the model's sequence length %d", pos,
                             pos + t - 1, l->d.seq_len);
    if (logits && (rows == 0 || rows > t))
        return tern_dev_fail(l->dev, TERN_E_INVAL, "logits rows %u: must be 1..%u", rows, t);
    for (uint32_t i = 0; i < t; i++)
        if (tokens[i] < 0 || tokens[i] >= l->d.vocab_size)
            return tern_dev_fail(l->dev, TERN_E_INVAL, "token %d at position %u is outside the vocabulary (%d)",
                                 tokens[i], pos + i, l->d.vocab_size);
    rc = reserve(l, t);
    if (rc)
        return tern_dev_fail(l->dev, rc, "out of memory for %u tokens", t);

    const float *emb = tern_model_embedding(l->model);
    for (uint32_t i = 0; i < t; i++)
        memcpy(l->x + (size_t)i * dim, emb + (size_t)tokens[i] * dim, dim * sizeof(float));

    for (int layer = 0; layer < l->d.n_layers; layer++) {
        const size_t loff = (size_t)layer * l->d.seq_len * kv_dim;
        static const enum tern_mat_kind qkv[3] = {TERN_MAT_WQ, TERN_MAT_WK, TERN_MAT_WV};
        static const enum tern_mat_kind up[2] = {TERN_MAT_W1, TERN_MAT_W3};
        static const enum tern_mat_kind wo[1] = {TERN_MAT_WO};
        static const enum tern_mat_kind down[1] = {TERN_MAT_W2};
        float *qkv_out[3] = {l->q, l->k, l->v};
        float *up_out[2] = {l->hb, l->hb2};

        /* attention */
        rc = bitlinear(l, layer, qkv, qkv_out, 3, l->x, dim, t, pos);
        if (rc)
            return rc;
        for (uint32_t i = 0; i < t; i++) {
            rope(l, l->q + (size_t)i * dim, dim, pos + i);
            rope(l, l->k + (size_t)i * kv_dim, kv_dim, pos + i);
            memcpy(l->key_cache + loff + (size_t)(pos + i) * kv_dim, l->k + (size_t)i * kv_dim, kv_dim * sizeof(float));
            memcpy(l->value_cache + loff + (size_t)(pos + i) * kv_dim, l->v + (size_t)i * kv_dim,
                   kv_dim * sizeof(float));
        }
        const int kv_mul = l->d.n_heads / l->d.n_kv_heads, hs = l->head_size;
        for (uint32_t i = 0; i < t; i++) {
            const uint32_t p = pos + i;
            for (int h = 0; h < l->d.n_heads; h++) {
                const float *qh = l->q + (size_t)i * dim + h * hs;
                float *xb = l->xb + (size_t)i * dim + h * hs;
                for (uint32_t s = 0; s <= p; s++) {
                    const float *kh = l->key_cache + loff + (size_t)s * kv_dim + (h / kv_mul) * hs;
                    float score = 0.0f;
                    for (int j = 0; j < hs; j++)
                        score += qh[j] * kh[j];
                    l->att[s] = score / sqrtf((float)hs);
                }
                softmax(l->att, (int)p + 1);
                memset(xb, 0, hs * sizeof(float));
                for (uint32_t s = 0; s <= p; s++) {
                    const float *vh = l->value_cache + loff + (size_t)s * kv_dim + (h / kv_mul) * hs;
                    for (int j = 0; j < hs; j++)
                        xb[j] += l->att[s] * vh[j];
                }
            }
        }
        float *wo_out[1] = {l->xb2};
        rc = bitlinear(l, layer, wo, wo_out, 1, l->xb, dim, t, pos);
        if (rc)
            return rc;
        for (size_t i = 0; i < (size_t)t * dim; i++)
            l->x[i] += l->xb2[i];

        /* feed-forward */
        rc = bitlinear(l, layer, up, up_out, 2, l->x, dim, t, pos);
        if (rc)
            return rc;
        for (size_t i = 0; i < (size_t)t * hid; i++) {
            float val = l->hb[i];
            if (l->fam.act == TERN_ACT_SWIGLU)
                val *= 1.0f / (1.0f + expf(-val));
            else
                val = val > 0.0f ? val * val : 0.0f;
            l->hb[i] = val * l->hb2[i];
        }
        float *down_out[1] = {l->xb};
        rc = bitlinear(l, layer, down, down_out, 1, l->hb, hid, t, pos);
        if (rc)
            return rc;
        for (size_t i = 0; i < (size_t)t * dim; i++)
            l->x[i] += l->xb[i];
    }
    l->stats.tokens += t;

    if (logits) {
        const float *fin = tern_model_final_norm(l->model);
        for (uint32_t r = 0; r < rows; r++) {
            float *xr = l->x + (size_t)(t - rows + r) * dim;
            float *lo = logits + (size_t)r * l->d.vocab_size;
            /* the residual is checked before the norm overwrites it (xb is free scratch now) */
            memcpy(l->xb, xr, dim * sizeof(float));
            rms_norm(xr, xr, fin, dim, l->fam.norm_eps);
            for (int v = 0; v < l->d.vocab_size; v++) {
                const float *e = emb + (size_t)v * dim;
                float val = 0.0f;
                for (int j = 0; j < dim; j++)
                    val += e[j] * xr[j];
                lo[v] = val;
            }
            rc = check_finite(l, l->xb, xr, lo, pos + t - rows + r);
            if (rc)
                return rc;
        }
    }
    return TERN_OK;
}
