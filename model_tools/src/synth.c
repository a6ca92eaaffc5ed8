/* synth.c — synthetic ternary checkpoints and tokenizers of any shape, deterministic for a seed. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "tern/tern.h"
#include "tern/tern_model.h"
#include "tm_internal.h"

/* Approximately N(0, 1): Irwin-Hall sum of 12 uniforms. Exact IEEE arithmetic, no libm, so the
 * bytes are the same on every platform. */
static double gauss(uint64_t *s)
{
    double sum = 0;

    for (int i = 0; i < 12; i++)
        sum += tm_uniform(s);
    return sum - 6.0;
}

/* Buffered little-endian output of a section. */
struct chunk {
    uint8_t b[1 << 16];
    size_t n;
};

static int chunk_flush(struct tm_out *o, struct chunk *c, char *err, size_t errlen)
{
    int rc = tm_out_write(o, c->b, c->n, err, errlen);
    c->n = 0;
    return rc;
}

static int chunk_f32(struct tm_out *o, struct chunk *c, float v, char *err, size_t errlen)
{
    uint32_t u;

    if (c->n + 4 > sizeof c->b) {
        int rc = chunk_flush(o, c, err, errlen);
        if (rc)
            return rc;
    }
    memcpy(&u, &v, 4);
    c->b[c->n++] = (uint8_t)u;
    c->b[c->n++] = (uint8_t)(u >> 8);
    c->b[c->n++] = (uint8_t)(u >> 16);
    c->b[c->n++] = (uint8_t)(u >> 24);
    return TERN_OK;
}

/* Codes of one matrix: P(0) = 6/16, P(+1) = P(-1) = 5/16 (bitllama-3m has 0.31..0.39 zeros). */
static int write_codes(struct tm_out *o, struct chunk *c, uint64_t elems, uint64_t *s, char *err, size_t errlen)
{
    static const uint8_t code_of[16] = {0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 3, 3, 3, 3, 3};
    uint64_t bytes = (elems + 3) / 4, r = 0;
    int rc;

    for (uint64_t i = 0; i < bytes; i++) {
        uint8_t b = 0;
        if (i % 4 == 0)
            r = tm_splitmix(s); /* 16 codes per draw */
        for (int j = 0; j < 4; j++) {
            if (4 * i + (uint64_t)j < elems) /* the padding pairs of the last byte stay 00 */
                b |= (uint8_t)(code_of[r & 15] << (2 * j));
            r >>= 4;
        }
        if (c->n == sizeof c->b && (rc = chunk_flush(o, c, err, errlen)))
            return rc;
        c->b[c->n++] = b;
    }
    return TERN_OK;
}

int tern_model_synth(const struct tern_model_dims *d, uint64_t seed, const char *path, char *err, size_t errlen)
{
    /* scale ranges per kind, as in bitllama-3m: large for wq and wk, small elsewhere */
    static const float scale_lo[TERN_MAT_KINDS] = {0.7f, 0.7f, 0.06f, 0.06f, 0.1f, 0.15f, 0.1f};
    static const float scale_hi[TERN_MAT_KINDS] = {3.0f, 3.0f, 0.25f, 0.3f, 0.3f, 0.45f, 0.3f};
    struct tm_layout L;
    struct tm_out o = {0};
    struct chunk *c = NULL;
    uint8_t hdr[TERN_CKPT_HEADER_BYTES] = {0};
    uint64_t s = seed ^ 0x7465726e6d6f646cull; /* "ternmodl" */
    char why[256] = "the file size overflows 64 bits";
    int rc;

    if (err && errlen)
        err[0] = '\0';
    if (!d || !path) {
        tm_err(err, errlen, path, "tern_model_synth: %s is NULL", d ? "path" : "dims");
        return TERN_E_INVAL;
    }
    if (tern_model_dims_check(d, why, sizeof why) != TERN_OK || !tm_layout_make(d, &L)) {
        tm_err(err, errlen, path, "cannot synthesise: %s", why);
        return TERN_E_INVAL;
    }
    c = malloc(sizeof *c);
    if (!c) {
        tm_err(err, errlen, path, "out of memory");
        return TERN_E_NOMEM;
    }
    c->n = 0;
    rc = tm_out_open(&o, path, err, errlen);
    if (rc)
        goto done;

    const int32_t h[8] = {(int32_t)TERN_CKPT_MAGIC, TERN_CKPT_VERSION, d->dim, d->hidden_dim, d->n_layers, d->n_heads,
                          d->n_kv_heads, d->vocab_size};
    for (int i = 0; i < 9; i++) {
        uint32_t v = i < 8 ? (uint32_t)h[i] : (uint32_t)d->seq_len;
        for (int b = 0; b < 4; b++)
            hdr[4 * i + b] = (uint8_t)(v >> (8 * b));
    }
    hdr[36] = (uint8_t)d->shared_classifier;
    rc = tm_out_write(&o, hdr, sizeof hdr, err, errlen);
    for (int32_t i = 0; i < d->dim && !rc; i++)
        rc = chunk_f32(&o, c, (float)(1.0 + 0.1 * gauss(&s)), err, errlen);
    for (uint64_t i = 0; i < (uint64_t)d->vocab_size * (uint64_t)d->dim && !rc; i++)
        rc = chunk_f32(&o, c, (float)(0.05 * gauss(&s)), err, errlen);
    for (int k = 0; k < TERN_MAT_KINDS && !rc; k++)
        for (int32_t l = 0; l < d->n_layers && !rc; l++) {
            float scale = scale_lo[k] + (scale_hi[k] - scale_lo[k]) * (float)tm_uniform(&s);
            rc = chunk_f32(&o, c, scale, err, errlen);
            if (!rc)
                rc = write_codes(&o, c, (uint64_t)L.rows[k] * L.cols[k], &s, err, errlen);
        }
    if (!rc)
        rc = chunk_flush(&o, c, err, errlen);
    if (!rc)
        rc = tm_out_commit(&o, err, errlen);
    if (rc)
        tm_out_abort(&o);
done:
    free(c);
    return rc;
}

/* ---- tokenizer ---------------------------------------------------------------------------- */

/* The printable pieces of a synthetic vocabulary, unique, in file order. */
struct pieces {
    char *text;     /* pieces back to back */
    size_t used, cap;
    size_t *off;    /* [n + 1] */
    uint32_t n, max;
    uint32_t *hash; /* open addressing, index + 1; 0 empty */
    uint32_t hcap;  /* power of two */
    uint32_t longest;
};

static uint32_t fnv(const char *p, size_t n)
{
    uint32_t h = 2166136261u;

    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)p[i]) * 16777619u;
    return h;
}

/* Adds p[0..n) unless present or full: 1 added, 0 not, negative out of memory. */
static int piece_add(struct pieces *P, const char *p, size_t n)
{
    uint32_t h;

    if (P->n >= P->max)
        return 0;
    for (h = fnv(p, n) & (P->hcap - 1); P->hash[h]; h = (h + 1) & (P->hcap - 1)) {
        uint32_t i = P->hash[h] - 1;
        if (P->off[i + 1] - P->off[i] == n && !memcmp(P->text + P->off[i], p, n))
            return 0;
    }
    if (P->used + n > P->cap) {
        size_t cap = 2 * P->cap + n;
        char *t = realloc(P->text, cap);
        if (!t)
            return TERN_E_NOMEM;
        P->text = t;
        P->cap = cap;
    }
    memcpy(P->text + P->used, p, n);
    P->used += n;
    P->hash[h] = P->n + 1;
    P->off[++P->n] = P->used;
    if (n > P->longest)
        P->longest = (uint32_t)n;
    return 1;
}

static int piece_add_str(struct pieces *P, const char *s)
{
    return piece_add(P, s, strlen(s));
}

/* A word and every prefix of two or more bytes, so that merges can build it. */
static int piece_add_chain(struct pieces *P, const char *w)
{
    size_t n = strlen(w);

    for (size_t k = 2; k <= n; k++) {
        int rc = piece_add(P, w, k);
        if (rc < 0)
            return rc;
    }
    return TERN_OK;
}

static const char *const bigrams[] = {
    "th", "he", "in", "er", "an", "re", "on", "at", "en", "nd", "ti", "es", "or", "te", "of", "ed", "is", "it",
    "al", "ar", "st", "to", "nt", "ng", "se", "ha", "as", "ou", "io", "le", "ve", "co", "me", "de", "hi", "ri",
    "ro", "ic", "ne", "ea", "ra", "ce", "ll", "ay", "ow", "oo", "ee", "ck", "ing", "ed", "ly", "'s", "n't"};

static const char *const words[] = {
    " the", " and", " was", " to", " he", " she", " it", " in", " of", " with", " they", " her", " his", " that",
    " said", " day", " Once", " upon", " time", " there", " little", " girl", " boy", " named", " Lily", " Tom",
    " play", " happy", " big", " saw", " wanted", " friends", " mom", " very", " had", " went", " one", " The",
    " you", " for", " on", " not", " but", " so", " were", " park", " tree", " ball", " dog", " cat", " bird",
    " sun", " fun", " help", " home", " toy", " red", " blue", " run", " jump", " smiled", " loved", " found",
    " asked", " looked", " felt", " sad", " good", " new", " friend", " together", " again", " what", " too",
    " all", " is", " are", " can", " do", " did", " see", " like", " go", " out", " up", " down", " We", " She",
    " He", " They", " It", " One", " Then", " When", " But", " After", " Sam", " Ben", " Anna", " Max", " Sue"};

static int build_pieces(struct pieces *P, uint64_t seed)
{
    char s[3] = {0};
    uint64_t st = seed ^ 0x7465726e746f6b6eull; /* "terntokn" */
    uint64_t attempts = 0;
    uint32_t first_grown;
    int rc = 0;

    rc = piece_add_str(P, " ");
    for (int ch = 'a'; ch <= 'z' && rc >= 0; ch++)
        s[0] = (char)ch, rc = piece_add(P, s, 1);
    for (int ch = 'A'; ch <= 'Z' && rc >= 0; ch++)
        s[0] = (char)ch, rc = piece_add(P, s, 1);
    for (int ch = 33; ch <= 126 && rc >= 0; ch++)
        s[0] = (char)ch, rc = piece_add(P, s, 1);
    s[0] = ' ';
    for (int ch = 'a'; ch <= 'z' && rc >= 0; ch++)
        s[1] = (char)ch, rc = piece_add(P, s, 2);
    for (int ch = 'A'; ch <= 'Z' && rc >= 0; ch++)
        s[1] = (char)ch, rc = piece_add(P, s, 2);
    for (size_t i = 0; i < sizeof bigrams / sizeof bigrams[0] && rc >= 0; i++)
        rc = piece_add_chain(P, bigrams[i]);
    for (size_t i = 0; i < sizeof words / sizeof words[0] && rc >= 0; i++)
        rc = piece_add_chain(P, words[i]);
    if (rc < 0)
        return rc;
    /* beyond the built-in list: grow random multi-byte pieces by a letter (each is a merge of two) */
    first_grown = 1 + 94 + 52; /* " ", the printable characters, the " a" pieces: multi-byte from here */
    while (P->n < P->max) {
        char buf[16];
        uint32_t i = first_grown + (uint32_t)(tm_splitmix(&st) % (P->n - first_grown));
        size_t n = P->off[i + 1] - P->off[i];
        if (++attempts > 64 * (uint64_t)P->max + 4096)
            return TERN_E_FORMAT; /* cannot happen: there are far more candidates than the limit */
        if (n + 1 > sizeof buf)
            continue;
        memcpy(buf, P->text + P->off[i], n);
        buf[n] = (char)('a' + tm_splitmix(&st) % 26);
        if ((rc = piece_add(P, buf, n + 1)) < 0)
            return rc;
    }
    return TERN_OK;
}

int tern_tokenizer_synth(int32_t vocab_size, uint64_t seed, const char *path, char *err, size_t errlen)
{
    struct pieces P = {0};
    struct tm_out o = {0};
    char name[8];
    int rc;

    if (err && errlen)
        err[0] = '\0';
    if (!path) {
        tm_err(err, errlen, path, "tern_tokenizer_synth: path is NULL");
        return TERN_E_INVAL;
    }
    if (vocab_size < 259 || vocab_size > TERN_MODEL_MAX_VOCAB) {
        tm_err(err, errlen, path, "cannot synthesise a tokenizer of %d tokens: it needs 259..%d", (int)vocab_size,
               TERN_MODEL_MAX_VOCAB);
        return TERN_E_INVAL;
    }
    P.max = (uint32_t)vocab_size - 259;
    P.hcap = 64;
    while (P.hcap < 2 * P.max)
        P.hcap *= 2;
    P.off = calloc((size_t)P.max + 1, sizeof *P.off);
    P.hash = calloc(P.hcap, sizeof *P.hash);
    if (!P.off || !P.hash) {
        rc = TERN_E_NOMEM;
        goto fail;
    }
    rc = build_pieces(&P, seed);
    if (rc)
        goto fail;
    rc = tm_out_open(&o, path, err, errlen);
    if (rc)
        goto done;
    uint32_t longest = P.longest > 6 ? P.longest : 6; /* "<0x00>" and "\n</s>\n" are 6 bytes */
    rc = tm_out_u32(&o, longest, err, errlen);
    for (int i = 0; i < 259 && !rc; i++) {
        const char *t = i == 0 ? "<unk>" : i == 1 ? "\n<s>\n" : i == 2 ? "\n</s>\n" : name;
        if (i >= 3)
            snprintf(name, sizeof name, "<0x%02X>", i - 3);
        rc = tm_out_f32(&o, 0.0f, err, errlen);
        if (!rc)
            rc = tm_out_u32(&o, (uint32_t)strlen(t), err, errlen);
        if (!rc)
            rc = tm_out_write(&o, t, strlen(t), err, errlen);
    }
    for (uint32_t i = 0; i < P.n && !rc; i++) {
        size_t n = P.off[i + 1] - P.off[i];
        rc = tm_out_f32(&o, -(float)i, err, errlen);
        if (!rc)
            rc = tm_out_u32(&o, (uint32_t)n, err, errlen);
        if (!rc)
            rc = tm_out_write(&o, P.text + P.off[i], n, err, errlen);
    }
    if (!rc)
        rc = tm_out_commit(&o, err, errlen);
    if (rc)
        tm_out_abort(&o);
    goto done;

fail:
    if (rc == TERN_E_NOMEM)
        tm_err(err, errlen, path, "out of memory");
    else
        tm_err(err, errlen, path, "could not grow enough distinct pieces");
done:
    free(P.hash);
    free(P.off);
    free(P.text);
    return rc;
}
