/* quant.c — per-token absmax quantisation of activations to int8 (ARCHITECTURE.md section 2). */
#include <math.h>

#include "tern/tern.h"

int tern_quantize_absmax(const float *x, size_t n, enum tern_round rule, int8_t *q, float *scale)
{
    float m = 0.0f, a;

    if (!x || !q || !scale || n == 0 || (rule != TERN_ROUND_HALF_AWAY && rule != TERN_ROUND_HALF_EVEN))
        return TERN_E_INVAL;
    for (size_t i = 0; i < n; i++) {
        float v = fabsf(x[i]);
        if (!(v <= m)) /* also catches NaN: it propagates to the scale */
            m = v;
    }
    if (!isfinite(m))
        return TERN_E_INVAL;
    a = m / 127.0f;
    *scale = a;
    if (m == 0.0f) {
        for (size_t i = 0; i < n; i++)
            q[i] = 0;
        return TERN_OK;
    }
    for (size_t i = 0; i < n; i++) {
        float u = x[i] / a;
        float r = rule == TERN_ROUND_HALF_AWAY ? roundf(u) : nearbyintf(u);
        if (r > 127.0f)
            r = 127.0f;
        if (r < -127.0f)
            r = -127.0f;
        q[i] = (int8_t)r;
    }
    return TERN_OK;
}
