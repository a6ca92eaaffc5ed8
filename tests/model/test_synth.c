/* test_synth.c — synthetic checkpoints: they load, are deterministic per seed, look like a trained model. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "model_test_util.h"

static int setup(void **state)
{
    char *dir = malloc(512);

    if (!dir || scratch_make(dir, 512))
        return -1;
    *state = dir;
    return 0;
}

static int teardown(void **state)
{
    scratch_remove(*state);
    free(*state);
    return 0;
}

static const struct tern_model_dims shapes[] = {
    {18, 25, 2, 3, 1, 300, 32, 1},    /* odd element counts, GQA 3:1 */
    {2, 1, 1, 1, 1, 1, 1, 1},         /* the smallest legal model */
    {64, 172, 3, 4, 4, 259, 128, 1},  /* multi-head attention, no GQA */
    {256, 256, 8, 8, 4, 512, 512, 1}, /* bitllama-3m */
};

static void test_round_trip(void **state)
{
    const char *dir = *state;
    char path[700], err[512];

    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        const struct tern_model_dims *d = &shapes[i];
        tern_model *m = NULL;
        size_t n;
        snprintf(path, sizeof path, "%s/round%zu.bin", dir, i);
        assert_int_equal(tern_model_synth(d, 42, path, err, sizeof err), TERN_OK);
        uint8_t *raw = read_all(path, &n);
        assert_non_null(raw);
        assert_int_equal(n, file_size_of(d));
        assert_int_equal(n, tern_model_expected_bytes(d));
        for (int b = 37; b < 256; b++)
            assert_int_equal(raw[b], 0);
        assert_int_equal(tern_model_load(path, &m, err, sizeof err), TERN_OK);
        assert_memory_equal(tern_model_dims(m), d, sizeof *d);
        assert_int_equal(tern_model_file_bytes(m), n);
        /* the padding pairs after the last element of a matrix are 00 */
        for (int k = 0; k < TERN_MAT_KINDS; k++) {
            const struct tern_tmatrix *t = tern_model_matrix(m, d->n_layers - 1, (enum tern_mat_kind)k);
            uint64_t e = (uint64_t)t->rows * t->cols;
            if (e % 4)
                assert_int_equal(t->codes[e / 4] >> (2 * (e % 4)), 0);
        }
        tern_model_free(m);
        free(raw);
    }
    assert_int_equal(dir_entries(dir), (int)(sizeof shapes / sizeof shapes[0])); /* no temporary files left */
}

static void test_deterministic(void **state)
{
    const char *dir = *state;
    const struct tern_model_dims *d = &shapes[0];
    char a[700], b[700], err[512];
    size_t na, nb;

    snprintf(a, sizeof a, "%s/seed1a.bin", dir);
    snprintf(b, sizeof b, "%s/seed1b.bin", dir);
    assert_int_equal(tern_model_synth(d, 1, a, err, sizeof err), TERN_OK);
    assert_int_equal(tern_model_synth(d, 1, b, err, sizeof err), TERN_OK);
    uint8_t *x = read_all(a, &na), *y = read_all(b, &nb);
    assert_int_equal(na, nb);
    assert_memory_equal(x, y, na);
    free(y);
    assert_int_equal(tern_model_synth(d, 2, b, err, sizeof err), TERN_OK); /* replaces b */
    y = read_all(b, &nb);
    assert_int_equal(na, nb);
    assert_memory_equal(x, y, 256);                       /* same header */
    assert_memory_not_equal(x + 256, y + 256, na - 256);  /* different everything else */
    size_t same = 0;
    for (size_t i = 256; i < na; i++)
        same += x[i] == y[i];
    assert_true(same < (na - 256) / 2);
    free(x);
    free(y);
}

/* The magnitudes of a trained ternary model (bitllama-3m: 31..39% zeros, balanced signs). */
static void test_statistics(void **state)
{
    const char *dir = *state;
    const struct tern_model_dims *d = &shapes[3];
    char path[700], err[512];
    tern_model *m = NULL;

    snprintf(path, sizeof path, "%s/stats.bin", dir);
    assert_int_equal(tern_model_synth(d, 9, path, err, sizeof err), TERN_OK);
    assert_int_equal(tern_model_load(path, &m, err, sizeof err), TERN_OK);
    for (int k = 0; k < TERN_MAT_KINDS; k++)
        for (int l = 0; l < d->n_layers; l++) {
            const struct tern_tmatrix *t = tern_model_matrix(m, l, (enum tern_mat_kind)k);
            struct tern_code_counts c;
            double e = (double)t->rows * t->cols;
            tern_tmatrix_count_codes(t, &c);
            assert_int_equal(c.illegal, 0);
            assert_true(c.zero / e > 0.35 && c.zero / e < 0.40);
            assert_true(fabs((double)c.pos - (double)c.neg) / e < 0.02);
            assert_true(t->scale > 0.05f && t->scale < 3.5f);
        }
    double s1 = 0, s2 = 0;
    const float *emb = tern_model_embedding(m), *norm = tern_model_final_norm(m);
    const size_t ne = (size_t)d->vocab_size * (size_t)d->dim;
    for (size_t i = 0; i < ne; i++) {
        s1 += emb[i];
        s2 += (double)emb[i] * emb[i];
    }
    assert_true(fabs(s1 / ne) < 0.005);
    assert_true(fabs(sqrt(s2 / ne) - 0.05) < 0.005);
    for (int i = 0; i < d->dim; i++)
        assert_true(norm[i] > 0.3f && norm[i] < 1.7f);
    tern_model_free(m);
}

static void test_errors(void **state)
{
    const char *dir = *state;
    char path[700], err[512];
    struct tern_model_dims d = shapes[0];
    int before = dir_entries(dir);

    snprintf(path, sizeof path, "%s/bad.bin", dir);
    d.n_heads = 4; /* 18 is not a multiple of 4 */
    assert_int_equal(tern_model_synth(&d, 1, path, err, sizeof err), TERN_E_INVAL);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "dim 18 is not a multiple of n_heads 4"));
    d = shapes[0];
    d.shared_classifier = 0;
    assert_int_equal(tern_model_synth(&d, 1, path, err, sizeof err), TERN_E_INVAL);
    assert_int_equal(tern_model_synth(NULL, 1, path, err, sizeof err), TERN_E_INVAL);
    assert_int_equal(tern_model_synth(&shapes[0], 1, NULL, err, sizeof err), TERN_E_INVAL);
    assert_int_equal(dir_entries(dir), before);

    /* a directory that does not exist: an I/O error naming the file, nothing written */
    snprintf(path, sizeof path, "%s/no/such/dir/m.bin", dir);
    assert_int_equal(tern_model_synth(&shapes[0], 1, path, err, sizeof err), TERN_E_IO);
    assert_non_null(strstr(err, path));
    assert_int_equal(tern_tokenizer_synth(300, 1, path, err, sizeof err), TERN_E_IO);
    assert_non_null(strstr(err, path));
    /* a path that is a directory: the rename fails and the temporary file is removed */
    assert_int_equal(tern_model_synth(&shapes[0], 1, dir, err, sizeof err), TERN_E_IO);
    assert_non_null(strstr(err, "rename"));
    assert_int_equal(dir_entries(dir), before);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_statistics),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
