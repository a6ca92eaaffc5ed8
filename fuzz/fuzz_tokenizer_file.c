/* fuzz_tokenizer_file.c — the llama2.c tokenizer loader on arbitrary bytes.
 *
 * Input: a little-endian u16 v (the model's vocabulary is 259 + v % 8192), then the file.
 * Invariants: the loaders from memory and from a file agree (code and message); a failure is
 * TERN_E_FORMAT with "<name>: <problem>" and no tokenizer; an accepted file reads back, by an
 * independent reading of the format, as what the tokenizer decodes (fuzz_tok.h), and the
 * tokenizer then encodes a fixed set of texts and texts made of its own pieces with every
 * encoding invariant holding (in range, in its buffer, spelling the text, no merge left). */
#define _GNU_SOURCE
#include "fuzz_util.h"
#include "fuzz_tok.h"

#define TEXT_CAP 512

static const char *const fixed_texts[] = {
    "", "a", " ", "  x", "hello world", "The quick brown fox.\n", "<0x41>", "<0x4a>z", " <0x20>", "\n<s>\n", "\n</s>\n",
    "<unk>", "\xc3\xa9t\xc3\xa9", "\xff\xfe\x80", "\xf0\x9f\x98\x80!", "\xe2\x82", "aaaaaaaaaaaaaaaaaaaa",
};

static void check_failure(int rc, const tern_tokenizer *t, const char *err, const char *name)
{
    size_t nl = strlen(name);

    FUZZ_CHECK(rc == TERN_E_FORMAT, "rc %d (%s): %s", rc, tern_strerror(rc), err);
    FUZZ_CHECK(t == NULL, "a tokenizer came back with rc %d", rc);
    FUZZ_CHECK(strncmp(err, name, nl) == 0 && err[nl] == ':' && err[nl + 1] == ' ' && err[nl + 2] != '\0',
               "message \"%s\" does not read \"%s: <problem>\"", err, name);
}

/* A text of the tokenizer's own pieces (those without NUL: all of them, the loader refuses NUL). */
static size_t pieces_text(const struct tok_ref *r, int32_t first, int32_t step, char *buf)
{
    size_t n = 0;

    for (int32_t id = first; id < r->vocab && n < TEXT_CAP; id += step) {
        size_t take = r->len[id] < TEXT_CAP - n ? r->len[id] : TEXT_CAP - n;
        memcpy(buf + n, r->piece[id], take);
        n += take;
    }
    buf[n] = '\0';
    return n;
}

/* t from memory and ft from the file decode alike; t encodes. */
static void check_tokenizer(const tern_tokenizer *t, const tern_tokenizer *ft, const uint8_t *file, size_t size,
                            int32_t vocab)
{
    struct tok_ref r;
    char text[TEXT_CAP + 1];
    size_t n;

    tok_ref_read(&r, file, size, vocab);
    tok_check_decode(t, &r);
    tok_check_decode(ft, &r);
    for (size_t i = 0; i < sizeof fixed_texts / sizeof fixed_texts[0]; i++) {
        tok_check_encode(t, &r, fixed_texts[i], strlen(fixed_texts[i]), 1, 1);
        tok_check_encode(t, &r, fixed_texts[i], strlen(fixed_texts[i]), 0, 0);
    }
    /* the pieces themselves, one after the other: the merges this vocabulary makes */
    n = pieces_text(&r, 259, 1 + (vocab - 259) / 24, text);
    tok_check_encode(t, &r, text, n, 1, 0);
    n = pieces_text(&r, 0, 1 + vocab / 24, text);
    tok_check_encode(t, &r, text, n, 0, 1);
    tok_ref_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz in = {data, size};
    int32_t vocab = 259 + fz_u16(&in) % 8192;
    char path[64], err[512], ferr[512];
    tern_tokenizer *t = NULL, *ft = NULL;
    int rc, frc, fd;

    fd = fuzz_memfile(in.p, in.n, path, sizeof path);
    frc = tern_tokenizer_load(path, vocab, &ft, ferr, sizeof ferr);
    close(fd);
    rc = tern_tokenizer_load_mem(in.p, in.n, vocab, path, &t, err, sizeof err);
    FUZZ_CHECK(rc == frc && strcmp(err, ferr) == 0, "from memory rc %d \"%s\", from the file rc %d \"%s\"", rc, err,
               frc, ferr);
    if (rc != TERN_OK) {
        check_failure(rc, t, err, path);
        check_failure(frc, ft, ferr, path);
        return 0;
    }
    FUZZ_CHECK(err[0] == '\0', "success with a message: %s", err);
    check_tokenizer(t, ft, in.p, in.n, vocab);
    tern_tokenizer_free(ft);
    tern_tokenizer_free(t);
    return 0;
}
