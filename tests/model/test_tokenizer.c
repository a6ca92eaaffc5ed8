/* test_tokenizer.c — tokenizers: bitllama-3m's encodes as llama2.c does, round trips, malformed files. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "model_test_util.h"

struct fixture {
    char dir[512];
    char synth[600]; /* a synthetic tokenizer of 300 tokens */
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    char err[512];

    if (!f || scratch_make(f->dir, sizeof f->dir))
        return -1;
    snprintf(f->synth, sizeof f->synth, "%s/synth300.tok", f->dir);
    if (tern_tokenizer_synth(300, 5, f->synth, err, sizeof err) != TERN_OK) {
        fprintf(stderr, "setup: %s\n", err);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    scratch_remove(f->dir);
    free(f);
    return 0;
}

static tern_tokenizer *load_real(void)
{
    char buf[600], err[512];
    const char *path = real_file("tokenizer.bin", buf, sizeof buf);
    tern_tokenizer *t = NULL;

    if (!path)
        return NULL;
    assert_int_equal(tern_tokenizer_load(path, 512, &t, err, sizeof err), TERN_OK);
    assert_int_equal(tern_tokenizer_vocab_size(t), 512);
    return t;
}

/* Decode tokens[1..n) after tokens[0] (BOS) into out; returns the byte length. */
static size_t decode_all(const tern_tokenizer *t, const int32_t *tokens, size_t n, char *out, size_t cap)
{
    size_t len = 0, pl;

    for (size_t i = 1; i < n; i++) {
        const char *p = tern_tokenizer_decode(t, tokens[i - 1], tokens[i], &pl);
        assert_non_null(p);
        assert_true(len + pl < cap);
        memcpy(out + len, p, pl);
        len += pl;
    }
    out[len] = '\0';
    return len;
}

static const char *const round_trip_texts[] = {
    "Once upon a time",
    "naïve café",
    "Hello, World! 123",
    "\x01\x7f",
    "🙂 ok",
    "  two  spaces",
    "The cat sat on the mat.",
    "Lily's dog, Max, ran to the park—fast!",
    "日本語のテキスト",
    "tab\tnew\nline",
    "\xc3",             /* a lone UTF-8 lead byte */
    "\x80\x80\x80\x80\x80x", /* stray continuation bytes, more than 4 */
    "\xf0\x9f\x99\x82\x82", /* a 4-byte code point and one continuation too many */
    "a",
};

static void round_trip(const tern_tokenizer *t, const char *prefix)
{
    for (size_t i = 0; i < sizeof round_trip_texts / sizeof round_trip_texts[0]; i++) {
        const char *s = round_trip_texts[i];
        int32_t tok[256];
        char out[512];
        size_t n;
        assert_int_equal(tern_tokenizer_encode(t, s, 1, 0, tok, &n), TERN_OK);
        assert_true(n >= 2 && n <= strlen(s) + 3);
        assert_int_equal(tok[0], 1);
        for (size_t k = 0; k < n; k++)
            assert_true(tok[k] >= 0 && tok[k] < tern_tokenizer_vocab_size(t));
        decode_all(t, tok, n, out, sizeof out);
        char want[512];
        snprintf(want, sizeof want, "%s%s", prefix, s);
        if (strcmp(out, want))
            fail_msg("round trip of \"%s\" gave \"%s\"", s, out);
    }
}

/* Token ids from a transcription of llama2.c's encode() run on bitllama-3m's tokenizer. */
static void test_real_encode_matches_llama2c(void **state)
{
    static const struct {
        const char *text;
        size_t n;
        int32_t ids[24];
    } golden[] = {
        {"Once upon a time", 5, {1, 403, 407, 261, 378}},
        {"naïve café", 10, {1, 297, 412, 198, 178, 360, 280, 412, 431, 485}},
        {"Hello, World! 123", 14, {1, 346, 306, 414, 432, 410, 448, 304, 341, 443, 410, 475, 479, 472}},
        {"\x01\x7f", 4, {1, 410, 4, 130}},
        {"🙂 ok", 8, {1, 410, 243, 162, 156, 133, 334, 433}},
        {"  two  spaces", 12, {1, 410, 410, 259, 424, 414, 410, 262, 427, 412, 331, 419}},
        {"The cat sat on the mat.", 11, {1, 291, 280, 294, 262, 294, 353, 265, 284, 294, 426}},
        {"Lily's dog, Max, ran to the park—fast!", 23,
         {1, 317, 439, 419, 400, 428, 432, 392, 412, 444, 432, 352, 303, 267, 265, 282, 295, 433, 481, 431, 412, 356,
          443}},
    };
    tern_tokenizer *t = load_real();
    (void)state;

    if (!t)
        skip();
    for (size_t i = 0; i < sizeof golden / sizeof golden[0]; i++) {
        int32_t tok[64];
        size_t n;
        assert_int_equal(tern_tokenizer_encode(t, golden[i].text, 1, 0, tok, &n), TERN_OK);
        size_t k = 0;
        while (k < n && k < golden[i].n && tok[k] == golden[i].ids[k])
            k++;
        if (n != golden[i].n || k != n)
            fail_msg("\"%s\": %zu tokens, want %zu; they differ at %zu", golden[i].text, n, golden[i].n, k);
    }
    tern_tokenizer_free(t);
}

static void test_real_encode_decode(void **state)
{
    tern_tokenizer *t = load_real();
    int32_t tok[64];
    char out[256];
    size_t n, len;
    (void)state;

    if (!t)
        skip();
    /* BOS, then " Once" (the dummy prefix merged), ...: the text after BOS comes back */
    assert_int_equal(tern_tokenizer_encode(t, "Once upon a time", 1, 1, tok, &n), TERN_OK);
    assert_int_equal(tok[0], 1);
    assert_int_equal(tok[n - 1], 2);
    const char *p = tern_tokenizer_decode(t, 0, tok[1], &len);
    assert_int_equal(len, 5);
    assert_memory_equal(p, " Once", 5);
    decode_all(t, tok, n - 1, out, sizeof out);
    assert_string_equal(out, "Once upon a time");

    /* empty text: BOS alone (no dummy prefix); nothing at all without BOS */
    assert_int_equal(tern_tokenizer_encode(t, "", 1, 0, tok, &n), TERN_OK);
    assert_int_equal(n, 1);
    assert_int_equal(tok[0], 1);
    assert_int_equal(tern_tokenizer_encode(t, "", 0, 0, tok, &n), TERN_OK);
    assert_int_equal(n, 0);
    assert_int_equal(tern_tokenizer_encode(t, "", 0, 1, tok, &n), TERN_OK);
    assert_int_equal(n, 1);
    assert_int_equal(tok[0], 2);

    round_trip(t, "");

    /* byte pieces decode to their byte, even NUL; out of range is NULL */
    p = tern_tokenizer_decode(t, 5, 3, &len);
    assert_int_equal(len, 1);
    assert_int_equal(p[0], 0);
    p = tern_tokenizer_decode(t, 5, 3 + 0xC3, &len);
    assert_int_equal(len, 1);
    assert_int_equal((unsigned char)p[0], 0xC3);
    assert_null(tern_tokenizer_decode(t, 1, 512, &len));
    assert_int_equal(len, 0);
    assert_null(tern_tokenizer_decode(t, 1, -1, NULL));
    /* the leading space is dropped only after BOS */
    p = tern_tokenizer_decode(t, 2, 261, &len); /* " a" */
    assert_int_equal(len, 2);
    p = tern_tokenizer_decode(t, 1, 261, &len);
    assert_int_equal(len, 1);
    assert_int_equal(p[0], 'a');

    assert_int_equal(tern_tokenizer_encode(NULL, "x", 1, 0, tok, &n), TERN_E_INVAL);
    assert_int_equal(tern_tokenizer_encode(t, NULL, 1, 0, tok, &n), TERN_E_INVAL);
    tern_tokenizer_free(t);
    tern_tokenizer_free(NULL);
}

static void test_synth_tokenizer(void **state)
{
    struct fixture *f = *state;
    tern_tokenizer *t = NULL;
    char err[512], path[700], path2[700];
    size_t n, n2;

    assert_int_equal(tern_tokenizer_load(f->synth, 300, &t, err, sizeof err), TERN_OK);
    round_trip(t, "");
    tern_tokenizer_free(t);

    /* larger vocabularies: the built-in pieces and then grown ones; max_token_length is exact */
    const int32_t sizes[] = {512, 4096, 70000};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        snprintf(path, sizeof path, "%s/synth%d.tok", f->dir, (int)sizes[i]);
        assert_int_equal(tern_tokenizer_synth(sizes[i], 11, path, err, sizeof err), TERN_OK);
        assert_int_equal(tern_tokenizer_load(path, sizes[i], &t, err, sizeof err), TERN_OK);
        round_trip(t, "");
        int32_t tok[64];
        assert_int_equal(tern_tokenizer_encode(t, "Once upon a time", 1, 0, tok, &n), TERN_OK);
        assert_int_equal(n, 5); /* BOS, " Once", " upon", " a", " time" */
        tern_tokenizer_free(t);
        uint8_t *raw = read_all(path, &n);
        assert_non_null(raw);
        uint32_t longest = 0;
        size_t pos = 4;
        for (int32_t k = 0; k < sizes[i]; k++) {
            uint32_t len = get_le32(raw + pos + 4);
            float score;
            uint32_t u = get_le32(raw + pos);
            memcpy(&score, &u, 4);
            if (k >= 259)
                assert_true(score == -(float)(k - 259)); /* descending */
            longest = len > longest ? len : longest;
            pos += 8 + len;
        }
        assert_int_equal(pos, n);
        assert_int_equal(get_le32(raw), longest);
        free(raw);
    }

    /* deterministic for a seed; the seed shows once the built-in pieces are used up */
    snprintf(path, sizeof path, "%s/a.tok", f->dir);
    snprintf(path2, sizeof path2, "%s/b.tok", f->dir);
    assert_int_equal(tern_tokenizer_synth(2000, 1, path, err, sizeof err), TERN_OK);
    assert_int_equal(tern_tokenizer_synth(2000, 1, path2, err, sizeof err), TERN_OK);
    uint8_t *a = read_all(path, &n), *b = read_all(path2, &n2);
    assert_int_equal(n, n2);
    assert_memory_equal(a, b, n);
    free(b);
    assert_int_equal(tern_tokenizer_synth(2000, 2, path2, err, sizeof err), TERN_OK);
    b = read_all(path2, &n2);
    assert_true(n != n2 || memcmp(a, b, n) != 0);
    free(a);
    free(b);

    /* the smallest: no " " piece, so the dummy prefix is the byte token of ' ' and comes back */
    snprintf(path, sizeof path, "%s/synth259.tok", f->dir);
    assert_int_equal(tern_tokenizer_synth(259, 1, path, err, sizeof err), TERN_OK);
    assert_int_equal(tern_tokenizer_load(path, 259, &t, err, sizeof err), TERN_OK);
    int32_t tok[8];
    assert_int_equal(tern_tokenizer_encode(t, "hi", 1, 0, tok, &n), TERN_OK);
    assert_int_equal(n, 4);
    assert_int_equal(tok[1], ' ' + 3);
    assert_int_equal(tok[2], 'h' + 3);
    round_trip(t, " ");
    tern_tokenizer_free(t);

    assert_int_equal(tern_tokenizer_synth(258, 1, path, err, sizeof err), TERN_E_INVAL);
    assert_non_null(strstr(err, path));
}

/* A tokenizer with duplicate pieces and equal scores: lowest id, leftmost pair. */
static void test_ties_and_duplicates(void **state)
{
    struct fixture *f = *state;
    /* tokens 259.. : " ", "a", "b", "ab" (score 5), "ba" (score 5), "ab" again (score 9), "abab" */
    const char *extra[] = {" ", "a", "b", "ab", "ba", "ab", "aba", "bab"};
    const float score[] = {0, 0, 0, 5, 5, 9, 1, 1};
    const int32_t V = 259 + 8;
    uint8_t buf[8192];
    size_t pos = 4;
    char name[16], path[700], err[512];
    tern_tokenizer *t = NULL;

    put_le32(buf, 6);
    for (int32_t i = 0; i < V; i++) {
        const char *s = i == 0 ? "<unk>" : i == 1 ? "\n<s>\n" : i == 2 ? "\n</s>\n" : i < 259 ? name : extra[i - 259];
        if (i >= 3 && i < 259)
            snprintf(name, sizeof name, "<0x%02X>", (unsigned)(i - 3));
        put_f32(buf + pos, i < 259 ? 0.0f : score[i - 259]);
        put_le32(buf + pos + 4, (uint32_t)strlen(s));
        memcpy(buf + pos + 8, s, strlen(s));
        pos += 8 + strlen(s);
    }
    snprintf(path, sizeof path, "%s/ties.tok", f->dir);
    assert_int_equal(write_all(path, buf, pos), 0);
    assert_int_equal(tern_tokenizer_load(path, V, &t, err, sizeof err), TERN_OK);
    int32_t tok[16];
    size_t n;
    /* "abab" -> " ", a, b, a, b. Best pairs: "ab" (id 262, the lower of the two "ab" ids, score 5) and
     * "ba" (score 5) tie: the leftmost wins -> " ", ab, a, b. Then "ab" (5) beats "aba" (1) -> " ", ab, ab.
     * (Were the duplicate id 264, score 9, chosen, the result would differ.) */
    assert_int_equal(tern_tokenizer_encode(t, "abab", 0, 0, tok, &n), TERN_OK);
    const int32_t want[] = {259, 262, 262};
    assert_int_equal(n, 3);
    assert_memory_equal(tok, want, sizeof want);
    tern_tokenizer_free(t);
}

/* Text is spelt with text pieces only: a vocabulary whose merges lead to "<0x41>", "\n<s>\n" or
 * BOS + " " (llama2.c would produce byte 'A', BOS, or a token swallowing BOS) keeps the text as text. */
static void test_text_stays_text(void **state)
{
    /* tokens 259.. : plain pieces that merge step by step into the spelling of specials */
    const char *extra[] = {" ", "<", "0", "x", "4", "1", ">", "<0", "<0x", "<0x4", "<0x41", "<0x41>", "\n", "s",
                           "\n<", "\n<s", "\n<s>", "\n<s>\n", "\n<s>\n ", "h", " h"};
    const int32_t V = 259 + (int32_t)(sizeof extra / sizeof extra[0]);
    uint8_t buf[8192];
    size_t pos = 4;
    char name[16], err[512];
    tern_tokenizer *t = NULL;
    int32_t tok[32];
    size_t n;
    (void)state;

    put_le32(buf, 6);
    for (int32_t i = 0; i < V; i++) {
        const char *s = i == 0 ? "<unk>" : i == 1 ? "\n<s>\n" : i == 2 ? "\n</s>\n" : i < 259 ? name : extra[i - 259];
        if (i >= 3 && i < 259)
            snprintf(name, sizeof name, "<0x%02X>", (unsigned)(i - 3));
        put_f32(buf + pos, i < 259 ? 0.0f : (float)(i - 259)); /* longer merges score higher */
        put_le32(buf + pos + 4, (uint32_t)strlen(s));
        memcpy(buf + pos + 8, s, strlen(s));
        pos += 8 + strlen(s);
    }
    assert_int_equal(tern_tokenizer_load_mem(buf, pos, V, "hostile", &t, err, sizeof err), TERN_OK);

    /* "<0x41>" merges up to "<0x41" + ">", and stops: the piece spelt "<0x41>" stands for byte 'A' */
    assert_int_equal(tern_tokenizer_encode(t, "<0x41>", 0, 0, tok, &n), TERN_OK);
    const int32_t want_bytes[] = {259, 269, 265};
    assert_int_equal(n, 3);
    assert_memory_equal(tok, want_bytes, sizeof want_bytes);
    /* "\n<s>\n" is text, not BOS: the text piece 276 (a duplicate of BOS's spelling), not id 1 */
    assert_int_equal(tern_tokenizer_encode(t, "\n<s>\n", 0, 0, tok, &n), TERN_OK);
    const int32_t want_bos_text[] = {259, 276};
    assert_int_equal(n, 2);
    assert_memory_equal(tok, want_bos_text, sizeof want_bos_text);
    /* BOS never merges with the dummy prefix, even though "\n<s>\n " is a piece */
    assert_int_equal(tern_tokenizer_encode(t, "h", 1, 1, tok, &n), TERN_OK);
    const int32_t want_bos[] = {1, 279, 2};
    assert_int_equal(n, 3);
    assert_memory_equal(tok, want_bos, sizeof want_bos);
    tern_tokenizer_free(t);
}

/* ---- malformed files --------------------------------------------------------------------------- */

/* Offset of token k's record (score) in a tokenizer file. */
static size_t token_off(const uint8_t *raw, int32_t k)
{
    size_t pos = 4;
    for (int32_t i = 0; i < k; i++)
        pos += 8 + get_le32(raw + pos + 4);
    return pos;
}

enum tok_bad {
    T_EMPTY,
    T_THREE_BYTES,
    T_MTL_ZERO,
    T_MTL_NEGATIVE,
    T_MTL_ABSURD,
    T_TRUNC_IN_RECORD,
    T_TRUNC_IN_BYTES,
    T_TRUNC_AT_TOKEN,
    T_TRAILING_1,
    T_NEG_LENGTH,
    T_LONG_LENGTH,
    T_NAN_SCORE,
    T_BAD_BYTE_PIECE,
    T_NUL_IN_PIECE,
    T_CASES
};

static const char *const tok_bad_names[T_CASES] = {
    "empty", "three_bytes", "mtl_zero", "mtl_negative", "mtl_absurd", "truncated_in_record", "truncated_in_bytes",
    "truncated_at_token", "trailing_1", "negative_length", "long_length", "nan_score", "bad_byte_piece",
    "nul_in_piece"};

static void make_tok_bad(int i, uint8_t *buf, size_t *n, int32_t V, char *expect, size_t elen)
{
    size_t last = token_off(buf, V - 1), t100 = token_off(buf, 100);
    switch (i) {
    case T_EMPTY:
        *n = 0;
        snprintf(expect, elen, "empty file");
        break;
    case T_THREE_BYTES:
        *n = 3;
        snprintf(expect, elen, "truncated in max_token_length");
        break;
    case T_MTL_ZERO:
        put_le32(buf, 0);
        snprintf(expect, elen, "max_token_length is 0: it must be 1..65536");
        break;
    case T_MTL_NEGATIVE:
        put_le32(buf, (uint32_t)-7);
        snprintf(expect, elen, "max_token_length is -7");
        break;
    case T_MTL_ABSURD:
        put_le32(buf, 1u << 20);
        snprintf(expect, elen, "max_token_length is 1048576");
        break;
    case T_TRUNC_IN_RECORD:
        *n = last + 5;
        snprintf(expect, elen, "truncated in token %d (its score and length)", (int)(V - 1));
        break;
    case T_TRUNC_IN_BYTES:
        *n = t100 + 8 + 1; /* token 100 is a byte piece: 6 bytes */
        snprintf(expect, elen, "truncated in token 100 (1 of its 6 bytes)");
        break;
    case T_TRUNC_AT_TOKEN:
        *n = last;
        snprintf(expect, elen, "the file ends after %d tokens, the model has %d", (int)(V - 1), (int)V);
        break;
    case T_TRAILING_1:
        buf[*n] = 'x';
        *n += 1;
        snprintf(expect, elen, "1 trailing byte after the last of %d tokens", (int)V);
        break;
    case T_NEG_LENGTH:
        put_le32(buf + t100 + 4, (uint32_t)-5);
        snprintf(expect, elen, "token 100: length -5 is negative");
        break;
    case T_LONG_LENGTH:
        put_le32(buf + t100 + 4, get_le32(buf) + 1);
        snprintf(expect, elen, "token 100: length %u is more than max_token_length %u", get_le32(buf) + 1,
                 get_le32(buf));
        break;
    case T_NAN_SCORE:
        put_f32(buf + last, NAN);
        snprintf(expect, elen, "token %d: score is not finite", (int)(V - 1));
        break;
    case T_BAD_BYTE_PIECE:
        buf[t100 + 8 + 4] = 'G'; /* "<0x61>" -> "<0x6G>" */
        snprintf(expect, elen, "token 100 is \"<0x6G>\": tokens 3..258 must be the byte pieces");
        break;
    case T_NUL_IN_PIECE:
        buf[last + 8] = 0;
        snprintf(expect, elen, "token %d: the piece \"\\x00", (int)(V - 1));
        break;
    }
}

static void check_bad_tokenizers(const char *dir, const char *good, int32_t V, const char *tag)
{
    size_t n0;
    uint8_t *orig = read_all(good, &n0);
    char path[700], err[512], expect[200];

    assert_non_null(orig);
    for (int i = 0; i < T_CASES; i++) {
        uint8_t *buf = malloc(n0 + 1);
        size_t n = n0;
        assert_non_null(buf);
        memcpy(buf, orig, n0);
        make_tok_bad(i, buf, &n, V, expect, sizeof expect);
        snprintf(path, sizeof path, "%s/%s_%s.tok", dir, tag, tok_bad_names[i]);
        assert_int_equal(write_all(path, buf, n), 0);
        tern_tokenizer *t = (tern_tokenizer *)orig;
        int rc = tern_tokenizer_load(path, V, &t, err, sizeof err);
        if (getenv("TERN_TEST_VERBOSE"))
            print_message("%s\n", err);
        if (rc != TERN_E_FORMAT || t != NULL || strncmp(err, path, strlen(path)) || !strstr(err, expect))
            fail_msg("%s %s: rc %d, out %p, message \"%s\" (want \"<path>: ...%s...\")", tag, tok_bad_names[i], rc,
                     (void *)t, err, expect);
        /* the same bytes from memory, named like the file: the same code and the same message */
        char merr[512];
        int mrc = tern_tokenizer_load_mem(buf, n, V, path, &t, merr, sizeof merr);
        if (mrc != rc || t != NULL || strcmp(merr, err))
            fail_msg("%s %s from memory: rc %d, out %p, message \"%s\" (file \"%s\")", tag, tok_bad_names[i], mrc,
                     (void *)t, merr, err);
        free(buf);
    }
    /* the vocabulary size of another model */
    tern_tokenizer *t = (tern_tokenizer *)orig;
    assert_int_equal(tern_tokenizer_load(good, V - 1, &t, err, sizeof err), TERN_E_FORMAT);
    assert_null(t);
    assert_non_null(strstr(err, "trailing bytes after the last of"));
    assert_int_equal(tern_tokenizer_load(good, V + 1, &t, err, sizeof err), TERN_E_FORMAT);
    assert_non_null(strstr(err, "the file ends after"));
    assert_int_equal(tern_tokenizer_load(good, 100, &t, err, sizeof err), TERN_E_INVAL);
    assert_non_null(strstr(err, "vocab_size 100"));
    assert_int_equal(tern_tokenizer_load(good, 1 << 21, &t, err, sizeof err), TERN_E_INVAL);
    free(orig);
}

static void test_malformed_synth(void **state)
{
    struct fixture *f = *state;
    check_bad_tokenizers(f->dir, f->synth, 300, "synth");
}

static void test_malformed_real(void **state)
{
    struct fixture *f = *state;
    char buf[600];
    const char *path = real_file("tokenizer.bin", buf, sizeof buf);

    if (!path)
        skip();
    check_bad_tokenizers(f->dir, path, 512, "real");
}

static void test_tokenizer_io_errors(void **state)
{
    struct fixture *f = *state;
    char path[700], err[512];
    tern_tokenizer *t = (tern_tokenizer *)f;

    snprintf(path, sizeof path, "%s/missing.tok", f->dir);
    assert_int_equal(tern_tokenizer_load(path, 300, &t, err, sizeof err), TERN_E_IO);
    assert_null(t);
    assert_non_null(strstr(err, path));
    assert_int_equal(tern_tokenizer_load(NULL, 300, &t, err, sizeof err), TERN_E_INVAL);
    assert_int_equal(tern_tokenizer_load(path, 300, NULL, err, sizeof err), TERN_E_INVAL);
}

/* tern_tokenizer_load_mem: the same tokenizer as from the file (it keeps its own copy). */
static void test_load_from_memory(void **state)
{
    struct fixture *f = *state;
    size_t n;
    uint8_t *buf = read_all(f->synth, &n);
    char err[512];
    tern_tokenizer *a = NULL, *b = (tern_tokenizer *)f;
    const char *text = "the quick brown fox, \xc3\xa9t\xc3\xa9 <0x41>";
    int32_t ta[64], tb[64];
    size_t na, nb;

    assert_non_null(buf);
    assert_int_equal(tern_tokenizer_load(f->synth, 300, &a, err, sizeof err), TERN_OK);
    assert_int_equal(tern_tokenizer_load_mem(buf, n, 300, NULL, &b, err, sizeof err), TERN_OK);
    assert_string_equal(err, "");
    memset(buf, 0xEE, n);
    free(buf);
    assert_int_equal(tern_tokenizer_vocab_size(b), 300);
    for (int32_t id = 0; id < 300; id++) {
        size_t la, lb;
        const char *pa = tern_tokenizer_decode(a, 5, id, &la), *pb = tern_tokenizer_decode(b, 5, id, &lb);
        assert_int_equal(la, lb);
        assert_memory_equal(pa, pb, la);
    }
    assert_int_equal(tern_tokenizer_encode(a, text, 1, 1, ta, &na), TERN_OK);
    assert_int_equal(tern_tokenizer_encode(b, text, 1, 1, tb, &nb), TERN_OK);
    assert_int_equal(na, nb);
    assert_memory_equal(ta, tb, na * sizeof ta[0]);
    tern_tokenizer_free(a);
    tern_tokenizer_free(b);

    assert_int_equal(tern_tokenizer_load_mem(NULL, 0, 300, NULL, &b, err, sizeof err), TERN_E_FORMAT);
    assert_null(b);
    assert_non_null(strstr(err, "(memory): empty file"));
    assert_int_equal(tern_tokenizer_load_mem(NULL, 4, 300, "x", &b, err, sizeof err), TERN_E_INVAL);
    assert_string_equal(err, "x: tern_tokenizer_load_mem: data is NULL");
    assert_int_equal(tern_tokenizer_load_mem("", 0, 100, "x", &b, err, sizeof err), TERN_E_INVAL);
    assert_int_equal(tern_tokenizer_load_mem("", 0, 300, "x", NULL, err, sizeof err), TERN_E_INVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_encode_matches_llama2c),
        cmocka_unit_test(test_real_encode_decode),
        cmocka_unit_test(test_synth_tokenizer),
        cmocka_unit_test(test_ties_and_duplicates),
        cmocka_unit_test(test_text_stays_text),
        cmocka_unit_test(test_malformed_synth),
        cmocka_unit_test(test_malformed_real),
        cmocka_unit_test(test_tokenizer_io_errors),
        cmocka_unit_test(test_load_from_memory),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
