/* sampler.c — picking the next token from logits, as llama2.c does: greedy, or temperature softmax
 * with top-p from an xorshift generator whose state lives in the sampler. */
#include <math.h>
#include <stdlib.h>

#include "tern/tern_llm.h"

struct prob_index {
    float prob;
    int32_t index;
};

int tern_sampler_init(struct tern_sampler *s, int32_t vocab_size, float temperature, float topp, uint64_t seed)
{
    if (!s || vocab_size < 1 || !(temperature >= 0.0f) || !isfinite(temperature) || !(topp >= 0.0f) || topp > 1.0f)
        return TERN_E_INVAL;
    s->vocab_size = vocab_size;
    s->temperature = temperature;
    s->topp = topp;
    s->rng = seed ? seed : 1; /* xorshift must not start at 0 */
    s->scratch = malloc((size_t)vocab_size * sizeof(struct prob_index));
    return s->scratch ? TERN_OK : TERN_E_NOMEM;
}

void tern_sampler_free(struct tern_sampler *s)
{
    if (s) {
        free(s->scratch);
        s->scratch = NULL;
    }
}

static uint32_t random_u32(uint64_t *state)
{
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    return (uint32_t)((*state * 0x2545F4914F6CDD1Dull) >> 32);
}

static float random_f32(uint64_t *state)
{
    return (float)(random_u32(state) >> 8) / 16777216.0f;
}

static int32_t argmax(const float *p, int32_t n)
{
    int32_t best = 0;

    for (int32_t i = 1; i < n; i++)
        if (p[i] > p[best])
            best = i;
    return best;
}

static int cmp_prob(const void *a, const void *b)
{
    const struct prob_index *x = a, *y = b;
    return x->prob > y->prob ? -1 : x->prob < y->prob ? 1 : 0;
}

static int32_t sample_topp(const float *p, int32_t n, float topp, struct prob_index *pi, float coin)
{
    const float cutoff = (1.0f - topp) / (float)(n - 1 > 0 ? n - 1 : 1);
    int32_t n0 = 0, last;
    float cum = 0.0f, r, cdf = 0.0f;

    for (int32_t i = 0; i < n; i++)
        if (p[i] >= cutoff) {
            pi[n0].index = i;
            pi[n0].prob = p[i];
            n0++;
        }
    qsort(pi, (size_t)n0, sizeof *pi, cmp_prob);
    last = n0 - 1;
    for (int32_t i = 0; i < n0; i++) {
        cum += pi[i].prob;
        if (cum > topp) {
            last = i;
            break;
        }
    }
    r = coin * cum;
    for (int32_t i = 0; i <= last; i++) {
        cdf += pi[i].prob;
        if (r < cdf)
            return pi[i].index;
    }
    return pi[last].index;
}

int32_t tern_sampler_sample(struct tern_sampler *s, float *logits)
{
    float max, sum = 0.0f, coin;
    int32_t n = s->vocab_size;

    if (s->temperature == 0.0f)
        return argmax(logits, n);
    for (int32_t i = 0; i < n; i++)
        logits[i] /= s->temperature;
    max = logits[argmax(logits, n)];
    for (int32_t i = 0; i < n; i++) {
        logits[i] = expf(logits[i] - max);
        sum += logits[i];
    }
    for (int32_t i = 0; i < n; i++)
        logits[i] /= sum;
    coin = random_f32(&s->rng);
    if (s->topp <= 0.0f || s->topp >= 1.0f) {
        float cdf = 0.0f;
        for (int32_t i = 0; i < n; i++) {
            cdf += logits[i];
            if (coin < cdf)
                return i;
        }
        return n - 1;
    }
    return sample_topp(logits, n, s->topp, s->scratch, coin);
}
