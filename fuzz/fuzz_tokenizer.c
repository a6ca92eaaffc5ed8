/* fuzz_tokenizer.c — encode and decode arbitrary text with real tokenizers.
 *
 * Input: one byte (bits 0-1: which tokenizer, bit 2: BOS, bit 3: EOS), then the text; a NUL byte
 * ends one text and starts the next (the API takes C strings). The tokenizers are made once,
 * before the first input, and never change: tern_tokenizer_synth's 259-token one (no " " piece: the
 * dummy prefix falls back to its byte), its 512- and 4096-token ones, and a hostile one whose
 * pieces build "<0x41>", "\n<s>\n" and other byte and control pieces out of plain text.
 * Invariants (fuzz_tok.h): ids in range and within the buffer the API asks for, BOS/EOS as asked,
 * the tokens spell the text exactly after the dummy-prefix space, no merge left undone, and every
 * id decodes to what it stands for. */
#define _POSIX_C_SOURCE 200809L
#include <unistd.h>

#include "fuzz_util.h"
#include "fuzz_tok.h"

#define NTOK 4

static struct fixed_tok {
    uint8_t *file;
    size_t size;
    tern_tokenizer *t;
    struct tok_ref ref;
} toks[NTOK]; /* written once by LLVMFuzzerInitialize, read-only afterwards */

static uint8_t *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    long n;
    uint8_t *buf;

    FUZZ_CHECK(f && fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0,
               "cannot read %s", path);
    buf = fz_xmalloc((size_t)n);
    FUZZ_CHECK(fread(buf, 1, (size_t)n, f) == (size_t)n, "cannot read %s", path);
    fclose(f);
    *size = (size_t)n;
    return buf;
}

static void put_piece(uint8_t *buf, size_t *n, float score, const char *piece, size_t len)
{
    uint32_t u;

    memcpy(&u, &score, 4);
    for (int i = 0; i < 4; i++)
        buf[*n + (size_t)i] = (uint8_t)(u >> (8 * i));
    for (int i = 0; i < 4; i++)
        buf[*n + 4 + (size_t)i] = (uint8_t)(len >> (8 * i));
    memcpy(buf + *n + 8, piece, len);
    *n += 8 + len;
}

/* The hostile tokenizer: the llama2.c specials and byte pieces, then plain pieces whose merges lead
 * to the text of byte pieces and of BOS/EOS, and to BOS followed by a space. */
static uint8_t *hostile_file(size_t *size, int32_t *vocab)
{
    static const char *const extra[] = {" ", "<", "0", "x", "4", "1", ">", "<0", "<0x", "<0x4", "<0x41", "<0x41>",
                                        "\n", "s", "/", "\n<", "\n<s", "\n<s>", "\n<s>\n", "\n<s>\n ", "<u", "<un",
                                        "n", "k", "u", "<unk", "<unk>", "a", "b", " a", "ab", " ab", "ba", "aa", "aaa",
                                        "\xc3", "\xc3\xa9", " \xc3\xa9"};
    const size_t next = sizeof extra / sizeof extra[0];
    uint8_t *buf = fz_xmalloc(4 + 300 * 16 + next * 16);
    size_t n = 4;
    char bp[8];

    buf[0] = 6; /* max_token_length */
    buf[1] = buf[2] = buf[3] = 0;
    put_piece(buf, &n, 0, "<unk>", 5);
    put_piece(buf, &n, 0, "\n<s>\n", 5);
    put_piece(buf, &n, 0, "\n</s>\n", 6);
    for (int b = 0; b < 256; b++) {
        snprintf(bp, sizeof bp, "<0x%02X>", b);
        put_piece(buf, &n, 0, bp, 6);
    }
    for (size_t i = 0; i < next; i++) /* later pieces score higher: long merges win */
        put_piece(buf, &n, (float)i, extra[i], strlen(extra[i]));
    *size = n;
    *vocab = 259 + (int32_t)next;
    return buf;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static const struct {
        int32_t vocab;
        uint64_t seed;
    } synth[NTOK - 1] = {{259, 1}, {512, 7}, {4096, 11}};
    const char *tmp = getenv("TMPDIR");
    char dir[512], path[600], err[512];
    (void)argc;
    (void)argv;

    snprintf(dir, sizeof dir, "%s/tern_fuzz_tok_XXXXXX", tmp && *tmp ? tmp : "/tmp");
    FUZZ_CHECK(mkdtemp(dir) != NULL, "cannot make a directory in %s", dir);
    for (int i = 0; i < NTOK; i++) {
        int32_t vocab;
        if (i < NTOK - 1) {
            vocab = synth[i].vocab;
            snprintf(path, sizeof path, "%s/synth%d.tok", dir, (int)vocab);
            FUZZ_CHECK(tern_tokenizer_synth(vocab, synth[i].seed, path, err, sizeof err) == TERN_OK, "%s", err);
            toks[i].file = read_file(path, &toks[i].size);
            unlink(path);
        } else {
            toks[i].file = hostile_file(&toks[i].size, &vocab);
        }
        FUZZ_CHECK(tern_tokenizer_load_mem(toks[i].file, toks[i].size, vocab, "fixed", &toks[i].t, err, sizeof err) ==
                       TERN_OK,
                   "tokenizer %d: %s", i, err);
        tok_ref_read(&toks[i].ref, toks[i].file, toks[i].size, vocab);
        tok_check_decode(toks[i].t, &toks[i].ref);
    }
    rmdir(dir);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz in = {data, size};
    uint8_t mode = fz_u8(&in);
    const struct fixed_tok *k = &toks[mode & 3];
    char *text = fz_xmalloc(in.n + 1);

    FUZZ_CHECK(k->t != NULL, "LLVMFuzzerInitialize did not run");
    memcpy(text, in.p, in.n);
    text[in.n] = '\0';
    for (size_t at = 0;;) { /* each NUL-separated text; the last one may be empty */
        size_t len = strlen(text + at);
        tok_check_encode(k->t, &k->ref, text + at, len, mode >> 2 & 1, mode >> 3 & 1);
        at += len + 1;
        if (at > in.n)
            break;
    }
    free(text);
    return 0;
}
