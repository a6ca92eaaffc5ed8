/* tern_llm.h — a ternary transformer on an accelerator: every ternary matrix product runs on the
 * device through the runtime, the rest (norms, RoPE, attention, activations, classifier) on the host. */
#ifndef TERN_LLM_H
#define TERN_LLM_H

#include <stddef.h>
#include <stdint.h>

#include "tern/tern.h"
#include "tern/tern_model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A model family: the numerics that differ between ternary LLMs, so one forward pass serves all. */
enum tern_norm_style {
    TERN_NORM_BITLINEAR = 0, /* parameter-free u = x / rms(x) / n inside every BitLinear (bitllama) */
    TERN_NORM_LEARNED = 1    /* learned RMSNorm before attention and FFN plus sub-norms (2B4T) */
};
enum tern_ffn_act {
    TERN_ACT_SWIGLU = 0, /* silu(w1 x) * (w3 x) */
    TERN_ACT_RELU2 = 1   /* relu(w1 x)^2 * (w3 x) */
};
enum tern_rope_style {
    TERN_ROPE_ADJACENT = 0, /* rotate pairs (i, i+1) */
    TERN_ROPE_HALF = 1      /* rotate pairs (i, i + head_size/2) */
};

struct tern_family {
    const char *name;
    enum tern_norm_style norm;
    enum tern_ffn_act act;
    enum tern_round round;
    enum tern_rope_style rope;
    float rope_theta;
    float norm_eps; /* of the learned and final RMSNorms */
};

/* The bitllama / llama2.c BitNet family (../shared/models/bitllama-3m/README.md). */
void tern_family_bitllama(struct tern_family *out);
/* The BitNet b1.58 2B4T family (learned norms and sub-norms, squared ReLU, half-split RoPE,
 * half-to-even rounding, theta 500000). Its checkpoints need a loader that provides norm weights. */
void tern_family_bitnet_2b4t(struct tern_family *out);

typedef struct tern_llm tern_llm;

/* Called with the int32 accumulators of every ternary product: layer, matrix kind, the first
 * position of the batch, t tokens, n outputs each (acc is [t][n]). Nonzero aborts the forward
 * pass with that value. Used by --compare to check two devices accumulator by accumulator. */
typedef int (*tern_acc_observer)(void *ctx, int layer, enum tern_mat_kind kind, uint32_t pos, uint32_t t,
                                 uint32_t n, const int32_t *acc);

/* Bind a model to a device: uploads every ternary matrix (once; streamed later if it does not fit)
 * and allocates the KV cache. The model must outlive the llm. */
int tern_llm_create(tern_dev *dev, const tern_model *model, const struct tern_family *family, tern_llm **out);
void tern_llm_free(tern_llm *llm);
void tern_llm_set_observer(tern_llm *llm, tern_acc_observer fn, void *ctx);

/* Run t tokens at positions pos .. pos+t-1 (t > 1: a prefill, one GEMM per ternary layer; the
 * causal attention is on the host). logits receives [rows][vocab_size] for the last `rows`
 * tokens (rows 1 for generation, t for scoring); NULL skips the classifier. A value that is not
 * finite (the model's numbers overflow float: activations entering a layer, the residual stream
 * after the last layer, the final RMSNorm, or a logit) is TERN_E_INVAL with a message naming the
 * position, the stage and the value. */
int tern_llm_forward(tern_llm *llm, const int32_t *tokens, uint32_t t, uint32_t pos, float *logits, uint32_t rows);

/* Host-side counts: ternary products issued and tokens pushed through the model. */
struct tern_llm_stats {
    uint64_t matmuls;     /* tern_matmul calls */
    uint64_t tokens;      /* token positions processed */
    uint64_t tern_terms;  /* n*k*t summed over products: the useful ternary additions */
};
void tern_llm_stats(const tern_llm *llm, struct tern_llm_stats *out);

/* llama2.c-compatible sampling: greedy at temperature 0, else softmax with temperature and
 * top-p (nucleus) sampling from an xorshift generator; the state lives in the struct. Set the
 * fields with tern_sampler_init only (scratch holds vocab_size entries). */
struct tern_sampler {
    int32_t vocab_size;
    float temperature;
    float topp;
    uint64_t rng;
    void *scratch; /* internal, allocated by tern_sampler_init */
};
/* TERN_OK; TERN_E_INVAL for vocab_size < 1, a temperature that is negative, NaN or infinite, or a
 * topp outside [0, 1]; TERN_E_NOMEM. topp 0 or 1 samples from the whole distribution. */
int tern_sampler_init(struct tern_sampler *s, int32_t vocab_size, float temperature, float topp, uint64_t seed);
void tern_sampler_free(struct tern_sampler *s);
/* Pick the next token from logits (vocab_size floats, modified in place when temperature > 0)
 * into *token: TERN_OK, or TERN_E_INVAL (*token -1) when a logit is NaN or infinite (a forward
 * pass that overflowed: tern_llm_forward reports it first), an argument is NULL or the fields are
 * out of range. Any finite logits and any temperature > 0, however small (the limit is greedy),
 * give a token of non-zero probability; ties go to the lower token id. */
int tern_sampler_sample(struct tern_sampler *s, float *logits, int32_t *token);

#ifdef __cplusplus
}
#endif
#endif /* TERN_LLM_H */
