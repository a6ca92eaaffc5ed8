/* tern_model.h — ternary checkpoints and tokenizers: loading with full validation, inspection,
 * and synthetic models of any shape (llama2.c BitNet format, ../shared/models/bitllama-3m/README.md). */
#ifndef TERN_MODEL_H
#define TERN_MODEL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TERN_CKPT_MAGIC 0x616b3432u /* bytes "2","4","k","a" */
#define TERN_CKPT_VERSION 1
#define TERN_CKPT_HEADER_BYTES 256

/* The largest dimensions a checkpoint may declare (anything larger is treated as corrupt). */
#define TERN_MODEL_MAX_DIM (1 << 16)        /* dim */
#define TERN_MODEL_MAX_HIDDEN (1 << 18)     /* hidden_dim */
#define TERN_MODEL_MAX_LAYERS 1024          /* n_layers */
#define TERN_MODEL_MAX_HEADS 1024           /* n_heads, n_kv_heads */
#define TERN_MODEL_MAX_VOCAB (1 << 20)      /* vocab_size */
#define TERN_MODEL_MAX_SEQ (1 << 20)        /* seq_len */
#define TERN_TOKEN_MAX_BYTES (1 << 16)      /* a tokenizer's max_token_length */

typedef struct tern_model tern_model;
typedef struct tern_tokenizer tern_tokenizer;

struct tern_model_dims {
    int32_t dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len;
    int32_t shared_classifier; /* 1: the token embedding is also the classifier */
};

/* The ternary matrices of a layer, in file order. */
enum tern_mat_kind { TERN_MAT_WQ, TERN_MAT_WK, TERN_MAT_WV, TERN_MAT_WO, TERN_MAT_W1, TERN_MAT_W2, TERN_MAT_W3, TERN_MAT_KINDS };

struct tern_tmatrix {
    uint32_t rows, cols;  /* [out][in] */
    float scale;          /* s: mean absolute value of the latent weights */
    const uint8_t *codes; /* ceil(rows*cols/4) bytes, llama2.c layout (tern.h) */
};

/* Load and validate a checkpoint. Every problem is an error naming the file and the problem
 * (wrong magic or version, truncated or overlong, zero/negative/inconsistent/absurd dimensions,
 * illegal weight code 10 with layer, matrix, row and column, non-finite floats): TERN_E_FORMAT,
 * or TERN_E_IO when the file cannot be read, TERN_E_NOMEM, TERN_E_INVAL for a NULL argument.
 * Messages read "<path>: <problem>"; layers count from 0. Only shared_classifier == 1 is supported.
 * Scales must be finite and >= 0 (0: an all-zero latent matrix); the header padding must be zero.
 * The whole file is kept in one buffer that the matrices point into.
 * *out is NULL on failure: no partial model is ever returned. err may be NULL. */
int tern_model_load(const char *path, tern_model **out, char *err, size_t errlen);
/* The same from size bytes in memory (copied: data may go once this returns); name stands for the
 * path in messages ("(memory)" when NULL). The same checks, codes and messages as tern_model_load,
 * but never TERN_E_IO; TERN_E_INVAL when data is NULL with a size. */
int tern_model_load_mem(const void *data, size_t size, const char *name, tern_model **out, char *err, size_t errlen);
void tern_model_free(tern_model *m); /* NULL is fine */

const struct tern_model_dims *tern_model_dims(const tern_model *m);
const float *tern_model_final_norm(const tern_model *m); /* [dim] */
const float *tern_model_embedding(const tern_model *m);  /* [vocab_size][dim], also the classifier */
const struct tern_tmatrix *tern_model_matrix(const tern_model *m, int layer, enum tern_mat_kind kind);
const char *tern_mat_kind_name(enum tern_mat_kind kind); /* "wq", "wk", ... */
uint64_t tern_model_ternary_params(const tern_model *m);   /* weights in ternary matrices */
uint64_t tern_model_float_params(const tern_model *m);     /* final norm + embedding */
uint64_t tern_model_file_bytes(const tern_model *m);

/* How many weights of a matrix are -1, 0 and +1 (and illegal, never for a loaded model). */
struct tern_code_counts {
    uint64_t neg, zero, pos, illegal;
};
void tern_tmatrix_count_codes(const struct tern_tmatrix *mat, struct tern_code_counts *out);

/* Check dimensions alone (also used by the loader and the synthesiser): TERN_OK, or TERN_E_FORMAT
 * with the reason in err (no path prefix): each dimension in 1..its TERN_MODEL_MAX_*, dim a multiple
 * of n_heads, n_heads of n_kv_heads, an even head size (RoPE pairs), shared_classifier == 1. */
int tern_model_dims_check(const struct tern_model_dims *d, char *err, size_t errlen);
/* The exact file size implied by the dimensions (0 if a dimension is not positive, kv_dim is not
 * a whole number, or the size overflows 64 bits). */
uint64_t tern_model_expected_bytes(const struct tern_model_dims *d);

/* Write a random ternary model of these dimensions: deterministic for a seed (the same bytes on
 * every IEEE-754 platform), weight codes drawn with the zero fraction of a trained BitNet model (3/8 zeros,
 * balanced signs; bitllama-3m has 0.37), scales and embeddings of the magnitudes bitllama-3m has
 * (wq/wk scales 0.7..3, the others 0.06..0.45; embedding ~N(0, 0.05)), final norm weights ~N(1, 0.1).
 * TERN_E_INVAL (dimensions as tern_model_dims_check), TERN_E_IO, TERN_E_NOMEM. The file is written
 * to a temporary file beside path and renamed into place; path is left untouched on failure. */
int tern_model_synth(const struct tern_model_dims *d, uint64_t seed, const char *path, char *err, size_t errlen);

/* Tokenizers, llama2.c format: i32 max_token_length, then per token f32 score, i32 length, bytes.
 * vocab_size comes from the model (259..TERN_MODEL_MAX_VOCAB, else TERN_E_INVAL). The loader checks
 * everything: max_token_length in 1..TERN_TOKEN_MAX_BYTES, every length in 0..max_token_length,
 * finite scores, no NUL byte inside a piece, tokens 3..258 the byte pieces "<0x00>".."<0xFF>", and
 * the file ending exactly after vocab_size tokens (a wrong vocabulary size shows as truncation or
 * trailing bytes): TERN_E_FORMAT "<path>: <problem>", TERN_E_IO, TERN_E_NOMEM. *out NULL on failure.
 * The loaded tokenizer is immutable (the sorted vocabulary is built here): share it across threads. */
int tern_tokenizer_load(const char *path, int32_t vocab_size, tern_tokenizer **out, char *err, size_t errlen);
/* The same from size bytes in memory, like tern_model_load_mem. */
int tern_tokenizer_load_mem(const void *data, size_t size, int32_t vocab_size, const char *name,
                            tern_tokenizer **out, char *err, size_t errlen);
void tern_tokenizer_free(tern_tokenizer *t);
int32_t tern_tokenizer_vocab_size(const tern_tokenizer *t);
/* Encode like llama2.c: optional BOS (1), a dummy-prefix " " token when text is not empty, UTF-8
 * code points looked up or byte-fallback (byte + 3), then greedy best-score merges; optional EOS (2).
 * tokens must hold strlen(text) + 3 entries. Text is spelt only with text pieces (ids from 259 that
 * are not spelt like a byte piece "<0xHH>") and BOS never merges, so the tokens between BOS and EOS
 * always decode back to " " + text (llama2.c, on a vocabulary with pieces such as "<0x4" or
 * "\n<s>\n ", could turn text into a byte it does not hold, BOS, or BOS merged with text). Among
 * duplicate pieces the lowest id wins; when " " is not a piece the dummy prefix falls back to its
 * byte token. TERN_OK, or TERN_E_INVAL for NULLs. */
int tern_tokenizer_encode(const tern_tokenizer *t, const char *text, int bos, int eos, int32_t *tokens, size_t *n);
/* The text of token after prev: a leading space is dropped after BOS, "<0xHH>" becomes that byte.
 * *len receives the byte length (a byte piece may be NUL). NULL for an out-of-range token. */
const char *tern_tokenizer_decode(const tern_tokenizer *t, int32_t prev, int32_t token, size_t *len);
/* Write a synthetic tokenizer of vocab_size >= 259 tokens: "<unk>", "\n<s>\n", "\n</s>\n" (as
 * llama2.c exports them), the 256 byte pieces "<0x00>".., then printable pieces with descending scores (" ", the printable ASCII characters,
 * " a"-style pieces, common English bigrams and words with all their prefixes; beyond those,
 * pieces grown from the seed). Written atomically like tern_model_synth. */
int tern_tokenizer_synth(int32_t vocab_size, uint64_t seed, const char *path, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif /* TERN_MODEL_H */
