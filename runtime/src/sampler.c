/* sampler.c — picking the next token from logits, as llama2.c does: greedy, or temperature softmax
 * with top-p from an xorshift generator whose state lives in the sampler. Logits that are not all
 * finite are refused; any finite logits with any temperature and top-p give a token of non-zero
 * probability, and nothing outside the logits and the scratch is ever read. */
#include <math.h>
#include <stdlib.h>

#include "tern/tern_llm.h"

struct prob_index {
    float prob;
    int32_t index;
};

static int params_ok(float temperature, float topp)
{
    return temperature >= 0.0f && isfinite(temperature) && topp >= 0.0f && topp <= 1.0f;
}

int tern_sampler_init(struct tern_sampler *s, int32_t vocab_size, float temperature, float topp, uint64_t seed)
{
    if (!s)
        return TERN_E_INVAL;
    s->scratch = NULL;
    if (vocab_size < 1 || !params_ok(temperature, topp))
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

/* Descending probability, ties by ascending index (what glibc's stable sort gave llama2.c, now
 * defined everywhere); a NaN, which never reaches here, would sort last rather than break qsort. */
static int cmp_prob(const void *a, const void *b)
{
    const struct prob_index *x = a, *y = b;
    const int xn = isnan(x->prob), yn = isnan(y->prob);

    if (xn != yn)
        return xn ? 1 : -1;
    if (!xn && x->prob != y->prob)
        return x->prob > y->prob ? -1 : 1;
    return (x->index > y->index) - (x->index < y->index);
}

/* Softmax of x / temperature in place; max and min are the extremes of x, all finite. The sum is
 * then at least 1 (the maximum contributes exp(0)) and at most n, so every result is in [0, 1]. */
static void softmax_t(float *x, int32_t n, float temperature, float max, float min)
{
    float sum = 0.0f;

    if (isfinite(max / temperature) && isfinite(min / temperature)) {
        /* llama2.c's order: scale, then subtract the maximum (bit-identical to it) */
        const float m = max / temperature;
        for (int32_t i = 0; i < n; i++) {
            x[i] = expf(x[i] / temperature - m);
            sum += x[i];
        }
    } else {
        /* a temperature so small that a logit divided by it overflows: scale the differences
         * instead; each is <= 0 (or -inf), so nothing overflows and the maximum stays exp(0) */
        for (int32_t i = 0; i < n; i++) {
            x[i] = expf((x[i] - max) / temperature);
            sum += x[i];
        }
    }
    for (int32_t i = 0; i < n; i++)
        x[i] /= sum;
}

/* Multinomial: the first token whose cumulative probability passes coin. Should rounding leave
 * the total below coin, the last token with a non-zero probability (never one of probability 0). */
static int32_t sample_mult(const float *p, int32_t n, float coin)
{
    float cdf = 0.0f;
    int32_t last = 0;

    for (int32_t i = 0; i < n; i++)
        if (p[i] > 0.0f) {
            cdf += p[i];
            last = i;
            if (coin < cdf)
                return i;
        }
    return last;
}

/* Nucleus sampling: among the fewest most likely tokens whose probabilities sum past topp. Tokens
 * below (1 - topp) / (n - 1) cannot be in that set unless none is above it, which happens only when
 * topp < 1/n: the most likely token alone (best) then passes topp. */
static int32_t sample_topp(const float *p, int32_t n, float topp, struct prob_index *pi, float coin, int32_t best)
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
    if (n0 == 0)
        return best;
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

int tern_sampler_sample(struct tern_sampler *s, float *logits, int32_t *token)
{
    int32_t n, best = 0;
    float min, coin;

    if (token)
        *token = -1;
    if (!s || !logits || !token || !s->scratch || s->vocab_size < 1 || !params_ok(s->temperature, s->topp))
        return TERN_E_INVAL;
    n = s->vocab_size;
    min = logits[0];
    for (int32_t i = 0; i < n; i++) {
        if (!isfinite(logits[i]))
            return TERN_E_INVAL;
        if (logits[i] > logits[best])
            best = i;
        if (logits[i] < min)
            min = logits[i];
    }
    if (s->temperature == 0.0f) {
        *token = best;
        return TERN_OK;
    }
    softmax_t(logits, n, s->temperature, logits[best], min);
    coin = random_f32(&s->rng);
    if (s->topp <= 0.0f || s->topp >= 1.0f)
        *token = sample_mult(logits, n, coin);
    else
        *token = sample_topp(logits, n, s->topp, s->scratch, coin, best);
    return TERN_OK;
}
