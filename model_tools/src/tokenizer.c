/* tokenizer.c — llama2.c tokenizers: a validating loader, encode (greedy best-score merges) and decode. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tern/tern.h"
#include "tern/tern_model.h"
#include "tm_internal.h"

struct sorted_piece {
    const char *str;
    uint32_t len;
    int32_t id;
};

struct tern_tokenizer {
    int32_t vocab_size, max_token_length;
    char *text;                  /* every piece, each followed by a NUL */
    const char **piece;          /* [vocab_size] into text */
    uint32_t *len;               /* [vocab_size] */
    float *score;                /* [vocab_size] */
    struct sorted_piece *sorted; /* by bytes, then id: built once, never changed */
    int32_t space_id;            /* the piece " ", or -1 */
    char byte_pieces[512];       /* byte b, then NUL, at 2*b */
};

/* Up to 32 bytes of a piece, printable, with C escapes: for messages. */
static const char *escape(const char *p, size_t n, char *buf, size_t len)
{
    size_t o = 0;

    for (size_t i = 0; i < n && i < 32 && o + 5 < len; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c >= 32 && c < 127 && c != '"' && c != '\\')
            buf[o++] = (char)c;
        else
            o += (size_t)snprintf(buf + o, len - o, "\\x%02x", c);
    }
    if (n > 32 && o + 4 < len) {
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    buf[o] = '\0';
    return buf;
}

static int cmp_sorted(const void *a, const void *b)
{
    const struct sorted_piece *x = a, *y = b;
    uint32_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->str, y->str, n);

    if (c)
        return c;
    if (x->len != y->len)
        return x->len < y->len ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* Compares the key a[0..an) b[0..bn) with a piece, bytes as unsigned (strcmp order). */
static int cmp_key(const char *a, size_t an, const char *b, size_t bn, const struct sorted_piece *p)
{
    size_t kn = an + bn, n = kn < p->len ? kn : p->len;

    for (size_t i = 0; i < n; i++) {
        unsigned char k = (unsigned char)(i < an ? a[i] : b[i - an]), q = (unsigned char)p->str[i];
        if (k != q)
            return k < q ? -1 : 1;
    }
    return kn < p->len ? -1 : kn > p->len;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The byte of a "<0xHH>" piece, or -1. */
static int byte_piece(const char *p, size_t n)
{
    if (n != 6 || p[0] != '<' || p[1] != '0' || p[2] != 'x' || p[5] != '>' || hexval(p[3]) < 0 || hexval(p[4]) < 0)
        return -1;
    return hexval(p[3]) * 16 + hexval(p[4]);
}

/* The id of the text piece a + b, or -1. Text is only ever spelt with text pieces: ids from 259
 * up, and no piece spelt like a byte piece ("<0xHH>" stands for a byte, not for its six
 * characters); among duplicates the lowest such id. So no text encodes as <unk>, BOS or EOS, or as
 * a byte it does not hold. */
static int32_t lookup(const tern_tokenizer *t, const char *a, size_t an, const char *b, size_t bn)
{
    size_t lo = 0, hi = (size_t)t->vocab_size;
    char key[6];

    if (an + bn > (size_t)t->max_token_length)
        return -1;
    if (an + bn == 6) {
        memcpy(key, a, an);
        memcpy(key + an, b, bn);
        if (byte_piece(key, 6) >= 0)
            return -1;
    }
    while (lo < hi) { /* the first piece not less than the key */
        size_t mid = lo + (hi - lo) / 2;
        if (cmp_key(a, an, b, bn, &t->sorted[mid]) > 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    /* duplicates sit together in id order: the first text id among them */
    for (; lo < (size_t)t->vocab_size && cmp_key(a, an, b, bn, &t->sorted[lo]) == 0; lo++)
        if (t->sorted[lo].id >= 259)
            return t->sorted[lo].id;
    return -1;
}

/* Walks the raw file: lengths, scores and the byte pieces; fills len/score and the piece offsets. */
static int parse(tern_tokenizer *t, const uint8_t *buf, uint64_t have, uint64_t size, size_t *offs, const char *path,
                 char *err, size_t errlen)
{
    const int32_t V = t->vocab_size;
    uint64_t pos = 4;
    char eb[160];

    for (int32_t i = 0; i < V; i++) {
        if (pos == size) {
            tm_err(err, errlen, path, "the file ends after %d tokens, the model has %d: a different vocabulary?",
                   (int)i, (int)V);
            return TERN_E_FORMAT;
        }
        if (pos + 8 > size) {
            tm_err(err, errlen, path, "truncated in token %d (its score and length): the file is %llu bytes", (int)i,
                   (unsigned long long)size);
            return TERN_E_FORMAT;
        }
        float s = tm_lef32(buf + pos);
        int32_t n = tm_le32s(buf + pos + 4);
        if (!isfinite(s)) {
            tm_err(err, errlen, path, "token %d: score is not finite (%g)", (int)i, (double)s);
            return TERN_E_FORMAT;
        }
        if (n < 0) {
            tm_err(err, errlen, path, "token %d: length %d is negative", (int)i, (int)n);
            return TERN_E_FORMAT;
        }
        if (n > t->max_token_length) {
            tm_err(err, errlen, path, "token %d: length %d is more than max_token_length %d", (int)i, (int)n,
                   (int)t->max_token_length);
            return TERN_E_FORMAT;
        }
        pos += 8;
        if (pos + (uint64_t)n > size) {
            tm_err(err, errlen, path, "truncated in token %d (%llu of its %d bytes): the file is %llu bytes", (int)i,
                   (unsigned long long)(size - pos), (int)n, (unsigned long long)size);
            return TERN_E_FORMAT;
        }
        if (pos + (uint64_t)n > have) { /* cannot happen: a token takes at most 8 + max_token_length */
            tm_err(err, errlen, path, "internal error: token %d lies past the bytes read", (int)i);
            return TERN_E_FORMAT;
        }
        const char *p = (const char *)buf + pos;
        if (memchr(p, 0, (size_t)n)) {
            tm_err(err, errlen, path, "token %d: the piece \"%s\" contains a NUL byte", (int)i,
                   escape(p, (size_t)n, eb, sizeof eb));
            return TERN_E_FORMAT;
        }
        if (i >= 3 && i < 259 && byte_piece(p, (size_t)n) != i - 3) {
            tm_err(err, errlen, path,
                   "token %d is \"%s\": tokens 3..258 must be the byte pieces <0x00>..<0xFF> (<0x%02X> here)", (int)i, escape(p, (size_t)n, eb, sizeof eb), (unsigned)(i - 3));
            return TERN_E_FORMAT;
        }
        t->score[i] = s;
        t->len[i] = (uint32_t)n;
        offs[i] = (size_t)pos;
        pos += (uint64_t)n;
    }
    if (pos < size) {
        uint64_t extra = size - pos;
        tm_err(err, errlen, path, "%llu trailing byte%s after the last of %d tokens: a larger vocabulary?",
               (unsigned long long)extra, extra == 1 ? "" : "s", (int)V);
        return TERN_E_FORMAT;
    }
    return TERN_OK;
}

/* The loader behind both entry points: f is the file or the bytes in memory. */
static int load_src(const struct tm_src *f, const char *path, int32_t vocab_size, tern_tokenizer **out, char *err,
                    size_t errlen)
{
    tern_tokenizer *t = NULL;
    uint8_t *buf = NULL, head[4];
    size_t *offs = NULL, total = 0;
    uint64_t bound, have;
    int rc = TERN_E_FORMAT;

    if (f->size == 0) {
        tm_err(err, errlen, path, "empty file (a tokenizer starts with max_token_length)");
        goto fail;
    }
    if (f->size < 4) {
        tm_err(err, errlen, path, "truncated in max_token_length: the file is %llu bytes", (unsigned long long)f->size);
        goto fail;
    }
    rc = tm_src_read(f, 0, head, 4, path, err, errlen);
    if (rc)
        goto fail;
    rc = TERN_E_FORMAT;
    int32_t mtl = tm_le32s(head);
    if (mtl < 1 || mtl > TERN_TOKEN_MAX_BYTES) {
        tm_err(err, errlen, path, "max_token_length is %d: it must be 1..%d", (int)mtl, TERN_TOKEN_MAX_BYTES);
        goto fail;
    }
    bound = 4 + (uint64_t)vocab_size * (8 + (uint64_t)mtl); /* the longest file these can make */
    have = f->size < bound ? f->size : bound;
    if (have > SIZE_MAX) {
        tm_err(err, errlen, path, "%llu bytes do not fit in this address space", (unsigned long long)have);
        rc = TERN_E_NOMEM;
        goto fail;
    }
    t = calloc(1, sizeof *t);
    buf = malloc((size_t)have);
    offs = malloc((size_t)vocab_size * sizeof *offs);
    if (t) {
        t->piece = malloc((size_t)vocab_size * sizeof *t->piece);
        t->len = malloc((size_t)vocab_size * sizeof *t->len);
        t->score = malloc((size_t)vocab_size * sizeof *t->score);
        t->sorted = malloc((size_t)vocab_size * sizeof *t->sorted);
    }
    if (!t || !buf || !offs || !t->piece || !t->len || !t->score || !t->sorted) {
        tm_err(err, errlen, path, "out of memory");
        rc = TERN_E_NOMEM;
        goto fail;
    }
    t->vocab_size = vocab_size;
    t->max_token_length = mtl;
    rc = tm_src_read(f, 0, buf, (size_t)have, path, err, errlen);
    if (rc)
        goto fail;
    /* beyond the bound the file can only be trailing garbage: parse() reports f->size - end */
    rc = parse(t, buf, have, f->size, offs, path, err, errlen);
    if (rc)
        goto fail;

    for (int32_t i = 0; i < vocab_size; i++)
        total += (size_t)t->len[i] + 1;
    t->text = malloc(total);
    if (!t->text) {
        tm_err(err, errlen, path, "out of memory");
        rc = TERN_E_NOMEM;
        goto fail;
    }
    total = 0;
    for (int32_t i = 0; i < vocab_size; i++) {
        memcpy(t->text + total, buf + offs[i], t->len[i]);
        t->text[total + t->len[i]] = '\0';
        t->piece[i] = t->text + total;
        t->sorted[i] = (struct sorted_piece){t->piece[i], t->len[i], i};
        total += (size_t)t->len[i] + 1;
    }
    qsort(t->sorted, (size_t)vocab_size, sizeof *t->sorted, cmp_sorted);
    t->space_id = lookup(t, " ", 1, "", 0);
    for (int b = 0; b < 256; b++) {
        t->byte_pieces[2 * b] = (char)b;
        t->byte_pieces[2 * b + 1] = '\0';
    }
    free(offs);
    free(buf);
    *out = t;
    return TERN_OK;

fail:
    tern_tokenizer_free(t);
    free(offs);
    free(buf);
    return rc;
}

/* The argument checks of both entry points (clears err and *out first): TERN_OK or TERN_E_INVAL. */
static int check_args(const char *fn, const char *path, int32_t vocab_size, tern_tokenizer **out, char *err,
                      size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (out)
        *out = NULL;
    if (!out) {
        tm_err(err, errlen, path, "%s: out is NULL", fn);
        return TERN_E_INVAL;
    }
    if (vocab_size < 259 || vocab_size > TERN_MODEL_MAX_VOCAB) {
        tm_err(err, errlen, path, "vocab_size %d: a tokenizer with byte fallback has 259..%d tokens", (int)vocab_size,
               TERN_MODEL_MAX_VOCAB);
        return TERN_E_INVAL;
    }
    return TERN_OK;
}

int tern_tokenizer_load(const char *path, int32_t vocab_size, tern_tokenizer **out, char *err, size_t errlen)
{
    struct tm_file f = {-1, 0};
    struct tm_src src;
    int rc = check_args("tern_tokenizer_load", path, vocab_size, out, err, errlen);

    if (!path) {
        tm_err(err, errlen, path, "tern_tokenizer_load: path is NULL");
        return TERN_E_INVAL;
    }
    if (rc)
        return rc;
    rc = tm_file_open(path, &f, err, errlen);
    if (rc)
        return rc;
    src = (struct tm_src){&f, NULL, f.size};
    rc = load_src(&src, path, vocab_size, out, err, errlen);
    tm_file_close(&f);
    return rc;
}

int tern_tokenizer_load_mem(const void *data, size_t size, int32_t vocab_size, const char *name,
                            tern_tokenizer **out, char *err, size_t errlen)
{
    struct tm_src src = {NULL, data, size};
    int rc;

    if (!name)
        name = "(memory)";
    rc = check_args("tern_tokenizer_load_mem", name, vocab_size, out, err, errlen);
    if (rc)
        return rc;
    if (!data && size) {
        tm_err(err, errlen, name, "tern_tokenizer_load_mem: data is NULL");
        return TERN_E_INVAL;
    }
    return load_src(&src, name, vocab_size, out, err, errlen);
}

void tern_tokenizer_free(tern_tokenizer *t)
{
    if (!t)
        return;
    free(t->sorted);
    free(t->score);
    free(t->len);
    free(t->piece);
    free(t->text);
    free(t);
}

int32_t tern_tokenizer_vocab_size(const tern_tokenizer *t)
{
    return t ? t->vocab_size : 0;
}

int tern_tokenizer_encode(const tern_tokenizer *t, const char *text, int bos, int eos, int32_t *tokens, size_t *n)
{
    size_t cnt = 0, blen = 0;
    char cp[4]; /* one UTF-8 code point, at most 4 bytes */

    if (n)
        *n = 0;
    if (!t || !text || !tokens || !n)
        return TERN_E_INVAL;
    if (bos)
        tokens[cnt++] = 1;
    if (text[0] != '\0')
        tokens[cnt++] = t->space_id >= 0 ? t->space_id : ' ' + 3;

    for (const char *c = text; *c; c++) {
        if (((unsigned char)*c & 0xC0) != 0x80) /* not a continuation byte: a new code point */
            blen = 0;
        cp[blen++] = *c;
        if (((unsigned char)c[1] & 0xC0) == 0x80 && blen < 4)
            continue;
        int32_t id = lookup(t, cp, blen, "", 0);
        if (id >= 0)
            tokens[cnt++] = id;
        else /* byte fallback: <0x00>.. are tokens 3.. */
            for (size_t i = 0; i < blen; i++)
                tokens[cnt++] = (int32_t)(unsigned char)cp[i] + 3;
        blen = 0;
    }

    for (;;) { /* merge the best-scoring adjacent pair of the text (never BOS); on a tie the leftmost */
        float best = -1e10f;
        int32_t best_id = -1;
        size_t best_i = 0;
        for (size_t i = bos ? 1 : 0; i + 1 < cnt; i++) {
            int32_t a = tokens[i], b = tokens[i + 1];
            int32_t id = lookup(t, t->piece[a], t->len[a], t->piece[b], t->len[b]);
            if (id >= 0 && t->score[id] > best) {
                best = t->score[id];
                best_id = id;
                best_i = i;
            }
        }
        if (best_id < 0)
            break;
        tokens[best_i] = best_id;
        memmove(tokens + best_i + 1, tokens + best_i + 2, (cnt - best_i - 2) * sizeof *tokens);
        cnt--;
    }
    if (eos)
        tokens[cnt++] = 2;
    *n = cnt;
    return TERN_OK;
}

const char *tern_tokenizer_decode(const tern_tokenizer *t, int32_t prev, int32_t token, size_t *len)
{
    const char *p;
    size_t n;
    int b;

    if (len)
        *len = 0;
    if (!t || token < 0 || token >= t->vocab_size)
        return NULL;
    p = t->piece[token];
    n = t->len[token];
    if (prev == 1 && n && p[0] == ' ') { /* after BOS the dummy-prefix space is not text */
        p++;
        n--;
    }
    b = byte_piece(p, n);
    if (b >= 0) {
        p = t->byte_pieces + 2 * b;
        n = 1;
    }
    if (len)
        *len = n;
    return p;
}
