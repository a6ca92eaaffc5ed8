/* test_matmul.c — tern_matmul through the public API on every configuration, against a scalar
 * oracle; tiling, streaming and residency (ARCHITECTURE.md 8). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tern/tern.h"
#include "unit_util.h"

struct fixture {
    const char *config;
    tern_dev *dev;
    const struct tern_config *cfg;
};

/* A random ternary matrix: int8 values for the oracle and packed llama2.c codes for upload. */
struct matrix {
    uint32_t n, k;
    int8_t *w;
    uint8_t *codes;
};

static void matrix_make(struct matrix *m, uint32_t n, uint32_t k, struct prng *p)
{
    m->n = n;
    m->k = k;
    m->w = malloc((size_t)n * k);
    m->codes = calloc(1, tern_codes_bytes((uint64_t)n * k));
    assert_non_null(m->w);
    assert_non_null(m->codes);
    for (size_t j = 0; j < (size_t)n * k; j++) {
        m->w[j] = (int8_t)prng_ternary(p);
        unit_code_put(m->codes, j, m->w[j]);
    }
}

static void matrix_free(struct matrix *m)
{
    free(m->w);
    free(m->codes);
    memset(m, 0, sizeof *m);
}

static int8_t *random_acts(struct prng *p, uint32_t t, uint32_t k)
{
    int8_t *a = malloc((size_t)t * k);
    assert_non_null(a);
    for (size_t i = 0; i < (size_t)t * k; i++)
        a[i] = (int8_t)(uint8_t)prng_next(p); /* every int8 including -128 */
    return a;
}

static tern_mat *upload(struct fixture *f, const struct matrix *m)
{
    tern_mat *mat = NULL;
    int err = tern_mat_upload(f->dev, m->codes, m->n, m->k, &mat);
    if (err != TERN_OK || !mat)
        fail_msg("%s: tern_mat_upload %u x %u: %s (%s)", f->config, m->n, m->k, tern_strerror(err),
                 tern_dev_last_error(f->dev));
    if (tern_mat_rows(mat) != m->n || tern_mat_cols(mat) != m->k)
        fail_msg("%s: uploaded %u x %u, matrix reports %u x %u", f->config, m->n, m->k,
                 tern_mat_rows(mat), tern_mat_cols(mat));
    return mat;
}

/* Runs mat on t random tokens and compares every output with the oracle. */
static void check_product(struct fixture *f, tern_mat *mat, const struct matrix *m, uint32_t t,
                          struct prng *p, const char *what)
{
    int8_t *act = random_acts(p, t, m->k);
    int32_t *got = malloc((size_t)t * m->n * sizeof *got), *want = malloc((size_t)t * m->n * sizeof *want);
    assert_non_null(got);
    assert_non_null(want);
    memset(got, 0x5A, (size_t)t * m->n * sizeof *got);
    unit_matmul_oracle(m->w, act, m->n, m->k, t, want);
    int err = tern_matmul(f->dev, mat, act, t, got);
    if (err != TERN_OK)
        fail_msg("%s, config %s, N %u K %u t %u: tern_matmul: %s (%s)", what, f->config, m->n, m->k, t,
                 tern_strerror(err), tern_dev_last_error(f->dev));
    for (size_t tt = 0; tt < t; tt++)
        for (size_t r = 0; r < m->n; r++)
            if (got[tt * m->n + r] != want[tt * m->n + r])
                fail_msg("%s, config %s, N %u K %u t %u: out[token %zu][row %zu] = %d, want %d", what,
                         f->config, m->n, m->k, t, tt, r, got[tt * m->n + r], want[tt * m->n + r]);
    free(act);
    free(got);
    free(want);
}

static void check_shape(struct fixture *f, uint32_t n, uint32_t k, uint32_t t, uint64_t seed, const char *what)
{
    struct prng p = prng_seed(seed);
    struct matrix m;
    matrix_make(&m, n, k, &p);
    tern_mat *mat = upload(f, &m);
    check_product(f, mat, &m, t, &p, what);
    tern_mat_free(mat);
    matrix_free(&m);
}

static struct tern_tile_stats stats(struct fixture *f)
{
    struct tern_tile_stats s;
    memset(&s, 0xFF, sizeof s);
    tern_dev_tile_stats(f->dev, &s);
    return s;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->config = *state;
    char uri[64];
    snprintf(uri, sizeof uri, "ref:config=%s", f->config);
    int err = tern_dev_open(uri, &f->dev);
    if (err != TERN_OK || !f->dev)
        fail_msg("tern_dev_open(\"%s\"): %s", uri, tern_strerror(err));
    f->cfg = tern_dev_config(f->dev);
    assert_non_null(f->cfg);
    assert_string_equal(f->cfg->name, f->config);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    tern_dev_close(f->dev);
    free(f);
    return 0;
}

/* The activation buffer in columns and the weight memory in words, from the ID registers. */
static uint32_t amem_cols(const struct fixture *f)
{
    return f->cfg->amem_words * f->cfg->width;
}

/* ---- shapes ---- */

static void test_gemv_awkward_shapes(void **state)
{
    struct fixture *f = *state;
    const uint32_t L = f->cfg->lanes, W = f->cfg->width;
    const uint32_t ns[] = { 1, 2, L - 1 ? L - 1 : 1, L, L + 1, 3 * L + 5 };
    const uint32_t ks[] = { 1, 3, W - 1, W, W + 1, 5 * W + 3 };
    for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++)
        for (size_t j = 0; j < sizeof ks / sizeof ks[0]; j++) {
            char what[64];
            snprintf(what, sizeof what, "GEMV %u x %u", ns[i], ks[j]);
            check_shape(f, ns[i], ks[j], 1, 100 * i + j, what);
        }
}

static void test_gemm_random_shapes(void **state)
{
    struct fixture *f = *state;
    struct prng p = prng_seed(0x6E66u);
    const uint32_t L = f->cfg->lanes, W = f->cfg->width;
    for (int iter = 0; iter < 25; iter++) {
        uint32_t n = 1 + prng_below(&p, 4 * L + 3);
        uint32_t k = 1 + prng_below(&p, 6 * W + 5);
        uint32_t t = 2 + prng_below(&p, 8);
        char what[64];
        snprintf(what, sizeof what, "GEMM iteration %d", iter);
        check_shape(f, n, k, t, 1000 + (uint64_t)iter, what);
    }
}

static void test_one_by_one(void **state)
{
    struct fixture *f = *state;
    const int wv[] = { 1, -1, 0 };
    for (int i = 0; i < 3; i++) {
        uint8_t code = 0;
        unit_code_put(&code, 0, wv[i]);
        tern_mat *mat = NULL;
        int err = tern_mat_upload(f->dev, &code, 1, 1, &mat);
        if (err != TERN_OK)
            fail_msg("%s: upload 1 x 1: %s", f->config, tern_strerror(err));
        const int8_t act[3] = { -128, 127, 0 };
        int32_t out[3] = { 99, 99, 99 };
        err = tern_matmul(f->dev, mat, act, 3, out);
        if (err != TERN_OK)
            fail_msg("%s: matmul 1 x 1, t 3: %s (%s)", f->config, tern_strerror(err), tern_dev_last_error(f->dev));
        for (int t = 0; t < 3; t++)
            if (out[t] != wv[i] * act[t])
                fail_msg("%s: 1 x 1 weight %d, act %d: got %d, want %d", f->config, wv[i], act[t], out[t],
                         wv[i] * act[t]);
        tern_mat_free(mat);
    }
}

static void test_k_larger_than_activation_buffer(void **state)
{
    struct fixture *f = *state;
    uint32_t k = amem_cols(f) + f->cfg->width + 3;
    if (k > f->cfg->max_k) {
        print_message("config %s: activation buffer %u columns = max_k: K above it cannot fit\n", f->config,
                      amem_cols(f));
        k = f->cfg->max_k; /* still spans the whole buffer */
    }
    check_shape(f, f->cfg->lanes + 3, k, 2, 0xA11u, "K beyond the activation buffer");
}

static void test_output_larger_than_output_buffer(void **state)
{
    struct fixture *f = *state;
    uint32_t entries = f->cfg->omem_words * f->cfg->lanes;
    uint32_t t = 3;
    uint32_t n = entries / t + f->cfg->lanes + 1; /* n * t > entries */
    check_shape(f, n, 2 * f->cfg->width + 1, t, 0x0E0u, "N * t beyond the output buffer");
    check_shape(f, entries + 1, f->cfg->width, 1, 0x0E1u, "N beyond the output buffer (GEMV)");
}

static void test_many_tokens(void **state)
{
    struct fixture *f = *state;
    /* more tokens than the activation buffer holds at this K */
    uint32_t k = 4 * f->cfg->width + 1;
    uint32_t t = f->cfg->amem_words / 5 + 3;
    if (t > 600)
        t = 600;
    check_shape(f, f->cfg->lanes + 1, k, t, 0x70Cu, "tokens beyond the activation buffer");
}

static void test_k_equal_max_k_exact(void **state)
{
    struct fixture *f = *state;
    uint32_t k = f->cfg->max_k, n = 3;
    struct prng p = prng_seed(0x3A4u);
    struct matrix m;
    m.n = n;
    m.k = k;
    m.w = malloc((size_t)n * k);
    m.codes = calloc(1, tern_codes_bytes((uint64_t)n * k));
    assert_non_null(m.w);
    assert_non_null(m.codes);
    for (uint32_t c = 0; c < k; c++) {
        m.w[c] = 1;              /* row 0 all +1 */
        m.w[k + c] = -1;         /* row 1 all -1 */
        m.w[2 * k + c] = (int8_t)prng_ternary(&p);
    }
    for (size_t j = 0; j < (size_t)n * k; j++)
        unit_code_put(m.codes, j, m.w[j]);
    tern_mat *mat = upload(f, &m);
    int8_t *act = malloc(2 * (size_t)k);
    assert_non_null(act);
    memset(act, 0x80, k); /* token 0: all -128: sums of -128 max_k and +128 max_k */
    for (uint32_t c = 0; c < k; c++)
        act[k + c] = (int8_t)(uint8_t)prng_next(&p);
    int32_t got[6], want[6];
    unit_matmul_oracle(m.w, act, n, k, 2, want);
    int err = tern_matmul(f->dev, mat, act, 2, got);
    if (err != TERN_OK)
        fail_msg("%s: K = max_k = %u: tern_matmul: %s (%s)", f->config, k, tern_strerror(err),
                 tern_dev_last_error(f->dev));
    for (int i = 0; i < 6; i++)
        if (got[i] != want[i])
            fail_msg("%s: K = max_k = %u: out[%d][%d] = %d, want %d", f->config, k, i / 3, i % 3, got[i],
                     want[i]);
    assert_int_equal(want[0], -128 * (int32_t)k);
    free(act);
    tern_mat_free(mat);
    matrix_free(&m);
}

static void test_k_over_max_k_is_nofit(void **state)
{
    struct fixture *f = *state;
    uint32_t k = f->cfg->max_k + 1;
    uint8_t *codes = calloc(1, tern_codes_bytes(k));
    int8_t *act = calloc(1, k);
    assert_non_null(codes);
    assert_non_null(act);
    tern_mat *mat = NULL;
    int err = tern_mat_upload(f->dev, codes, 1, k, &mat);
    if (err == TERN_OK) {
        int32_t out = 0;
        err = tern_matmul(f->dev, mat, act, 1, &out);
        tern_mat_free(mat);
    }
    if (err != TERN_E_NOFIT)
        fail_msg("%s: 1 x %u (max_k + 1): %s, want TERN_E_NOFIT (at upload or at matmul)", f->config, k,
                 tern_strerror(err));
    free(codes);
    free(act);
}

/* ---- residency ---- */

/* A matrix taking about frac_num/frac_den of WMEM (in words of the hardware layout). */
static void matrix_of_wmem_fraction(struct fixture *f, struct matrix *m, uint32_t num, uint32_t den,
                                    struct prng *p)
{
    const struct tern_config *c = f->cfg;
    uint32_t kw = 8;
    uint32_t words = (uint32_t)((uint64_t)c->wmem_words * num / den);
    uint32_t nb = words / kw;
    if (nb == 0)
        nb = 1;
    matrix_make(m, nb * c->lanes, kw * c->width, p);
}

static void test_streaming_matrix_larger_than_wmem(void **state)
{
    struct fixture *f = *state;
    const struct tern_config *c = f->cfg;
    struct prng p = prng_seed(0x5713u);
    /* 5/4 of WMEM, with a ragged edge in both dimensions */
    uint32_t kw = 64;
    if (kw * c->width > c->max_k)
        kw = c->max_k / c->width;
    uint32_t nb = (uint32_t)((uint64_t)c->wmem_words * 5 / 4 / kw) + 1;
    struct matrix m;
    matrix_make(&m, nb * c->lanes - 1, kw * c->width - 3, &p);
    tern_mat *mat = upload(f, &m);
    check_product(f, mat, &m, 1, &p, "matrix 5/4 of WMEM, first pass");
    struct tern_tile_stats s1 = stats(f);
    if (s1.evictions == 0)
        fail_msg("%s: a %u x %u matrix (%u words, WMEM %u words) ran without evictions", f->config, m.n, m.k,
                 nb * kw, c->wmem_words);
    check_product(f, mat, &m, 2, &p, "matrix 5/4 of WMEM, second pass");
    struct tern_tile_stats s2 = stats(f);
    if (s2.tile_uploads <= s1.tile_uploads)
        fail_msg("%s: second pass over a streaming matrix uploaded nothing (%llu tiles)", f->config,
                 (unsigned long long)s2.tile_uploads);
    tern_mat_free(mat);
    matrix_free(&m);
}

static void test_fitting_matrix_uploaded_once(void **state)
{
    struct fixture *f = *state;
    struct prng p = prng_seed(0x0CEu);
    struct matrix m;
    matrix_of_wmem_fraction(f, &m, 1, 3, &p);
    tern_mat *mat = upload(f, &m);
    check_product(f, mat, &m, 1, &p, "first run");
    struct tern_tile_stats s1 = stats(f);
    if (s1.tile_uploads == 0 || s1.weight_bytes == 0)
        fail_msg("%s: first run of %u x %u: tile_uploads %llu weight_bytes %llu", f->config, m.n, m.k,
                 (unsigned long long)s1.tile_uploads, (unsigned long long)s1.weight_bytes);
    for (int i = 0; i < 3; i++)
        check_product(f, mat, &m, 1 + (uint32_t)i, &p, "repeated run");
    struct tern_tile_stats s2 = stats(f);
    if (s2.tile_uploads != s1.tile_uploads || s2.weight_bytes != s1.weight_bytes)
        fail_msg("%s: %u x %u (1/3 of WMEM) re-uploaded: tile_uploads %llu -> %llu, weight_bytes %llu -> %llu",
                 f->config, m.n, m.k, (unsigned long long)s1.tile_uploads, (unsigned long long)s2.tile_uploads,
                 (unsigned long long)s1.weight_bytes, (unsigned long long)s2.weight_bytes);
    if (s2.runs <= s1.runs)
        fail_msg("%s: repeated runs issued no RUN commands", f->config);
    assert_int_equal(s2.evictions, 0);
    tern_mat_free(mat);
    matrix_free(&m);
}

static void test_prefetch_makes_matrix_resident(void **state)
{
    struct fixture *f = *state;
    struct prng p = prng_seed(0x9F3u);
    struct matrix m;
    matrix_of_wmem_fraction(f, &m, 1, 4, &p);
    tern_mat *mat = upload(f, &m);
    int err = tern_mat_prefetch(mat);
    if (err != TERN_OK)
        fail_msg("%s: prefetch: %s", f->config, tern_strerror(err));
    struct tern_tile_stats s1 = stats(f);
    if (s1.tile_uploads == 0)
        fail_msg("%s: no tile uploaded after upload + prefetch", f->config);
    check_product(f, mat, &m, 2, &p, "run after prefetch");
    struct tern_tile_stats s2 = stats(f);
    if (s2.tile_uploads != s1.tile_uploads)
        fail_msg("%s: run after prefetch uploaded %llu more tiles", f->config,
                 (unsigned long long)(s2.tile_uploads - s1.tile_uploads));
    tern_mat_free(mat);
    matrix_free(&m);
}

/* ARCHITECTURE.md 8: "Each tile is uploaded when first needed"; tern.h: "the device holds them
 * from first use until evicted". tern_mat_upload itself moves no weights. */
/* A matrix that fits in free WMEM is written at upload (ARCHITECTURE.md section 8), all of it, and
 * its first product uploads nothing more. */
static void test_upload_writes_fitting_tiles_at_once(void **state)
{
    struct fixture *f = *state;
    struct prng p = prng_seed(0x9F4u);
    struct matrix m;
    matrix_of_wmem_fraction(f, &m, 1, 4, &p);
    struct tern_tile_stats s0 = stats(f);
    tern_mat *mat = upload(f, &m);
    struct tern_tile_stats s1 = stats(f);
    const size_t word_bytes = (size_t)f->cfg->lanes * f->cfg->width / 4;
    const uint64_t want = (uint64_t)((m.n + f->cfg->lanes - 1) / f->cfg->lanes) *
                          ((m.k + f->cfg->width - 1) / f->cfg->width) * word_bytes;
    if (s1.weight_bytes - s0.weight_bytes != want || s1.tile_uploads == s0.tile_uploads)
        fail_msg("%s: tern_mat_upload of %u x %u wrote %llu tiles (%llu bytes) to WMEM, want all %llu bytes",
                 f->config, m.n, m.k, (unsigned long long)(s1.tile_uploads - s0.tile_uploads),
                 (unsigned long long)(s1.weight_bytes - s0.weight_bytes), (unsigned long long)want);
    check_product(f, mat, &m, 1, &p, "first use");
    struct tern_tile_stats s2 = stats(f);
    if (s2.tile_uploads != s1.tile_uploads)
        fail_msg("%s: first use uploaded %llu more tiles of a resident matrix", f->config,
                 (unsigned long long)(s2.tile_uploads - s1.tile_uploads));
    tern_mat_free(mat);
    matrix_free(&m);
}

static void test_two_fitting_matrices_interleaved(void **state)
{
    struct fixture *f = *state;
    struct prng p = prng_seed(0x2F17u);
    struct matrix a, b;
    matrix_of_wmem_fraction(f, &a, 1, 3, &p);
    matrix_make(&b, 2 * f->cfg->lanes + 1, 3 * f->cfg->width + 2, &p);
    tern_mat *ma = upload(f, &a), *mb = upload(f, &b);
    check_product(f, ma, &a, 1, &p, "A, round 1");
    check_product(f, mb, &b, 2, &p, "B, round 1");
    struct tern_tile_stats s1 = stats(f);
    for (int round = 2; round <= 4; round++) {
        check_product(f, ma, &a, 2, &p, "A, later round");
        check_product(f, mb, &b, 1, &p, "B, later round");
    }
    struct tern_tile_stats s2 = stats(f);
    if (s2.tile_uploads != s1.tile_uploads || s2.evictions != 0)
        fail_msg("%s: two matrices that fit together: tile_uploads %llu -> %llu, evictions %llu", f->config,
                 (unsigned long long)s1.tile_uploads, (unsigned long long)s2.tile_uploads,
                 (unsigned long long)s2.evictions);
    tern_mat_free(ma);
    tern_mat_free(mb);
    matrix_free(&a);
    matrix_free(&b);
}

static void test_two_evicting_matrices_interleaved(void **state)
{
    struct fixture *f = *state;
    struct prng p = prng_seed(0x2F18u);
    struct matrix a, b;
    matrix_of_wmem_fraction(f, &a, 3, 5, &p);
    matrix_of_wmem_fraction(f, &b, 3, 5, &p);
    tern_mat *ma = upload(f, &a), *mb = upload(f, &b);
    for (int round = 0; round < 3; round++) {
        check_product(f, ma, &a, 1, &p, "A (3/5 of WMEM) interleaved with B");
        check_product(f, mb, &b, 1, &p, "B (3/5 of WMEM) interleaved with A");
    }
    struct tern_tile_stats s = stats(f);
    if (s.evictions == 0)
        fail_msg("%s: two matrices of 3/5 WMEM each ran interleaved without evictions", f->config);
    tern_mat_free(ma);
    tern_mat_free(mb);
    matrix_free(&a);
    matrix_free(&b);
}

/* A, B, C of 2/5 WMEM each: after A, B, A the least recently used is B, so C evicts B's tiles and
 * A stays resident (no upload when A runs again). */
static void test_eviction_takes_least_recently_used(void **state)
{
    struct fixture *f = *state;
    struct prng p = prng_seed(0x1A0u);
    struct matrix a, b, c;
    matrix_of_wmem_fraction(f, &a, 2, 5, &p);
    matrix_of_wmem_fraction(f, &b, 2, 5, &p);
    matrix_of_wmem_fraction(f, &c, 2, 5, &p);
    tern_mat *ma = upload(f, &a), *mb = upload(f, &b), *mc = upload(f, &c);
    check_product(f, ma, &a, 1, &p, "A");
    check_product(f, mb, &b, 1, &p, "B");
    check_product(f, ma, &a, 1, &p, "A again (B is now least recently used)");
    check_product(f, mc, &c, 1, &p, "C (must evict B, not A)");
    struct tern_tile_stats s1 = stats(f);
    check_product(f, ma, &a, 1, &p, "A after C");
    struct tern_tile_stats s2 = stats(f);
    if (s2.tile_uploads != s1.tile_uploads)
        fail_msg("%s: running A after A, B, A, C uploaded %llu tiles: C evicted A, not the least recently used B",
                 f->config, (unsigned long long)(s2.tile_uploads - s1.tile_uploads));
    check_product(f, mb, &b, 1, &p, "B after C");
    struct tern_tile_stats s3 = stats(f);
    if (s3.tile_uploads == s2.tile_uploads)
        fail_msg("%s: B ran after C without uploads: nothing of B was evicted", f->config);
    tern_mat_free(ma);
    tern_mat_free(mb);
    tern_mat_free(mc);
    matrix_free(&a);
    matrix_free(&b);
    matrix_free(&c);
}

static void test_free_releases_wmem_for_reuse(void **state)
{
    struct fixture *f = *state;
    struct prng p = prng_seed(0xF4EEu);
    struct matrix a, b;
    matrix_of_wmem_fraction(f, &a, 3, 4, &p);
    matrix_of_wmem_fraction(f, &b, 3, 4, &p);
    tern_mat *ma = upload(f, &a);
    check_product(f, ma, &a, 1, &p, "A (3/4 of WMEM)");
    tern_mat_free(ma);
    tern_mat *mb = upload(f, &b);
    check_product(f, mb, &b, 2, &p, "B (3/4 of WMEM) after freeing A");
    struct tern_tile_stats s = stats(f);
    if (s.evictions != 0)
        fail_msg("%s: B needed %llu evictions although A was freed", f->config, (unsigned long long)s.evictions);
    check_product(f, mb, &b, 1, &p, "B again");
    tern_mat_free(mb);
    matrix_free(&a);
    matrix_free(&b);
}

static void test_large_gemv_2560(void **state)
{
    struct fixture *f = *state;
    check_shape(f, 2560, 2560, 1, 0x2560u, "GEMV 2560 x 2560");
}

int main(void)
{
    static const char *const configs[] = { "tiny", "default", "large" };
#define T(fn, i) { #fn, fn, setup, teardown, (void *)configs[i] }
#define ALL(fn) T(fn, 0), T(fn, 1), T(fn, 2)
    const struct CMUnitTest tests[] = {
        ALL(test_gemv_awkward_shapes),
        ALL(test_gemm_random_shapes),
        ALL(test_one_by_one),
        ALL(test_k_larger_than_activation_buffer),
        ALL(test_output_larger_than_output_buffer),
        ALL(test_many_tokens),
        ALL(test_k_equal_max_k_exact),
        ALL(test_k_over_max_k_is_nofit),
        ALL(test_streaming_matrix_larger_than_wmem),
        ALL(test_fitting_matrix_uploaded_once),
        ALL(test_prefetch_makes_matrix_resident),
        ALL(test_upload_writes_fitting_tiles_at_once),
        ALL(test_two_fitting_matrices_interleaved),
        ALL(test_two_evicting_matrices_interleaved),
        ALL(test_eviction_takes_least_recently_used),
        ALL(test_free_releases_wmem_for_reuse),
        T(test_large_gemv_2560, 2),
    };
#undef ALL
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
