/* fuzz_tok.h — the tokenizer checks the two tokenizer targets share. An independent reading of the
 * llama2.c tokenizer file (pieces, scores) is the reference; against it every id decodes to its
 * piece, and every encoding is in range, within its buffer, framed by BOS/EOS as asked, spells the
 * text back exactly (after the dummy-prefix space), and leaves no adjacent pair the greedy merge
 * would still join. Include after fuzz_util.h. */
#ifndef TERN_FUZZ_TOK_H
#define TERN_FUZZ_TOK_H

#include "tern/tern.h"
#include "tern/tern_model.h"

struct tok_piece {
    const uint8_t *p;
    uint32_t len;
    int32_t id;
};

/* The file as the format describes it. */
struct tok_ref {
    int32_t vocab, max_len;
    const uint8_t **piece; /* [vocab] into the file's bytes */
    uint32_t *len;
    float *score;
    struct tok_piece *sorted; /* by piece bytes, then id */
};

static inline uint32_t tok_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline int tok_cmp_bytes(const uint8_t *a, uint32_t an, const uint8_t *b, uint32_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);

    if (c)
        return c;
    return an < bn ? -1 : an > bn;
}

static inline int tok_cmp_pieces(const void *x, const void *y)
{
    const struct tok_piece *a = x, *b = y;
    int c = tok_cmp_bytes(a->p, a->len, b->p, b->len);

    return c ? c : (a->id > b->id) - (a->id < b->id);
}

/* Reads a file the loader accepted (so every length is in bounds); free with tok_ref_free. */
static inline void tok_ref_read(struct tok_ref *r, const uint8_t *file, size_t size, int32_t vocab)
{
    size_t pos = 4;

    r->vocab = vocab;
    r->max_len = (int32_t)tok_le32(file);
    r->piece = fz_xmalloc((size_t)vocab * sizeof *r->piece);
    r->len = fz_xmalloc((size_t)vocab * sizeof *r->len);
    r->score = fz_xmalloc((size_t)vocab * sizeof *r->score);
    r->sorted = fz_xmalloc((size_t)vocab * sizeof *r->sorted);
    for (int32_t i = 0; i < vocab; i++) {
        FUZZ_CHECK(pos + 8 <= size, "token %d past the end of an accepted file", (int)i);
        uint32_t s = tok_le32(file + pos);
        memcpy(&r->score[i], &s, 4);
        r->len[i] = tok_le32(file + pos + 4);
        r->piece[i] = file + pos + 8;
        pos += 8 + r->len[i];
        FUZZ_CHECK(pos <= size && r->len[i] <= (uint32_t)r->max_len, "token %d of an accepted file is bad", (int)i);
        r->sorted[i] = (struct tok_piece){r->piece[i], r->len[i], i};
    }
    FUZZ_CHECK(pos == size, "an accepted file has %zu trailing bytes", size - pos);
    qsort(r->sorted, (size_t)vocab, sizeof *r->sorted, tok_cmp_pieces);
}

static inline void tok_ref_free(struct tok_ref *r)
{
    free(r->piece);
    free(r->len);
    free(r->score);
    free(r->sorted);
}

static inline int tok_hex(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* What id stands for in text, as tern_model.h describes decode: its piece, without a leading space
 * after BOS (prev 1), and a piece "<0xHH>" is that byte. */
static inline const uint8_t *tok_ref_text(const struct tok_ref *r, int32_t prev, int32_t id, uint32_t *n, uint8_t *byte)
{
    const uint8_t *p = r->piece[id];
    uint32_t len = r->len[id];

    if (prev == 1 && len && p[0] == ' ') {
        p++;
        len--;
    }
    if (len == 6 && p[0] == '<' && p[1] == '0' && p[2] == 'x' && p[5] == '>' && tok_hex(p[3]) >= 0 &&
        tok_hex(p[4]) >= 0) {
        *byte = (uint8_t)(tok_hex(p[3]) * 16 + tok_hex(p[4]));
        *n = 1;
        return byte;
    }
    *n = len;
    return p;
}

/* The id a merge of a and b gives (the lowest text id spelt a + b), or -1. */
static inline int32_t tok_ref_find(const struct tok_ref *r, const uint8_t *a, uint32_t an, const uint8_t *b, uint32_t bn)
{
    uint8_t key[2 * 65536];
    size_t lo = 0, hi = (size_t)r->vocab;

    if ((size_t)an + bn > sizeof key)
        return -1;
    memcpy(key, a, an);
    memcpy(key + an, b, bn);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (tok_cmp_bytes(key, an + bn, r->sorted[mid].p, r->sorted[mid].len) > 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    /* text pieces only: from id 259, not spelt like a byte piece (tern_model.h) */
    for (; lo < (size_t)r->vocab && tok_cmp_bytes(key, an + bn, r->sorted[lo].p, r->sorted[lo].len) == 0;
         lo++) {
        uint32_t n;
        uint8_t byte;
        int32_t id = r->sorted[lo].id;
        if (id >= 259 && tok_ref_text(r, 0, id, &n, &byte) != &byte)
            return id;
    }
    return -1;
}

/* Every id decodes to what it stands for, after BOS and otherwise; out of range is NULL. */
static inline void tok_check_decode(const tern_tokenizer *t, const struct tok_ref *r)
{
    FUZZ_CHECK(tern_tokenizer_vocab_size(t) == r->vocab, "vocab %d, file %d", (int)tern_tokenizer_vocab_size(t),
               (int)r->vocab);
    for (int32_t id = 0; id < r->vocab; id++)
        for (int32_t prev = 0; prev < 2; prev++) {
            uint32_t want_n;
            uint8_t byte;
            const uint8_t *want = tok_ref_text(r, prev, id, &want_n, &byte);
            size_t n = 99;
            const char *got = tern_tokenizer_decode(t, prev, id, &n);
            FUZZ_CHECK(got && n == want_n && memcmp(got, want, n) == 0,
                       "id %d after %d decodes to %zu bytes, its piece stands for %u", (int)id, (int)prev, n, want_n);
            if (id >= 3 && id < 259)
                FUZZ_CHECK(n == 1 && (uint8_t)got[0] == id - 3, "byte piece %d decodes to something else", (int)id);
        }
    FUZZ_CHECK(!tern_tokenizer_decode(t, 1, r->vocab, NULL) && !tern_tokenizer_decode(t, 1, -1, NULL),
               "an id out of range decodes");
}

/* Encode text (len bytes, no NUL inside) and check the result. */
static inline void tok_check_encode(const tern_tokenizer *t, const struct tok_ref *r, const char *text, size_t len, int bos,
                             int eos)
{
    int32_t *tok = fz_xmalloc((len + 3) * sizeof *tok); /* exactly what the API asks for */
    size_t n = 12345, at = 0, body0 = bos ? 1 : 0;
    int rc = tern_tokenizer_encode(t, text, bos, eos, tok, &n);

    FUZZ_CHECK(rc == TERN_OK, "encode: rc %d", rc);
    FUZZ_CHECK(n <= len + 3, "%zu tokens for %zu bytes", n, len);
    FUZZ_CHECK(n >= (size_t)((bos != 0) + (eos != 0) + (len != 0)), "%zu tokens", n);
    if (len == 0)
        FUZZ_CHECK(n == (size_t)((bos != 0) + (eos != 0)), "%zu tokens for the empty text", n);
    for (size_t i = 0; i < n; i++)
        FUZZ_CHECK(tok[i] >= 0 && tok[i] < r->vocab, "token %zu is %d, vocab %d", i, (int)tok[i], (int)r->vocab);
    if (bos)
        FUZZ_CHECK(tok[0] == 1, "BOS asked, first token %d", (int)tok[0]);
    if (eos)
        FUZZ_CHECK(tok[n - 1] == 2, "EOS asked, last token %d", (int)tok[n - 1]);

    /* the tokens between BOS and EOS spell " " + text */
    for (size_t i = body0; i < n - (eos ? 1 : 0); i++) {
        uint32_t pn;
        uint8_t byte;
        const uint8_t *p = tok_ref_text(r, 0, tok[i], &pn, &byte);
        FUZZ_CHECK(tok[i] >= 259 || (tok[i] >= 3 && tok[i] < 259), "text encodes as the control token %d",
                   (int)tok[i]);
        if (len && i == body0) { /* the dummy prefix */
            FUZZ_CHECK(pn >= 1 && p[0] == ' ', "the first token %d does not start with the dummy-prefix space",
                       (int)tok[i]);
            p++;
            pn--;
        }
        FUZZ_CHECK(at + pn <= len && memcmp(text + at, p, pn) == 0,
                   "token %zu (id %d) does not spell the text at byte %zu of %zu", i, (int)tok[i], at, len);
        at += pn;
    }
    FUZZ_CHECK(at == len, "the tokens spell %zu of the %zu bytes", at, len);

    /* greedy merging stopped: no adjacent pair is a piece the merge takes (score above -1e10) */
    for (size_t i = body0; i + 1 < n - (eos ? 1 : 0); i++) {
        int32_t a = tok[i], b = tok[i + 1];
        int32_t id = tok_ref_find(r, r->piece[a], r->len[a], r->piece[b], r->len[b]);
        FUZZ_CHECK(id < 0 || !(r->score[id] > -1e10f), "tokens %d and %d (at %zu) still merge into %d", (int)a, (int)b,
                   i, (int)id);
    }
    free(tok);
}

#endif /* TERN_FUZZ_TOK_H */
