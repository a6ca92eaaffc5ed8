/* test_checkpoint.c — the checkpoint loader: the real bitllama-3m, and every kind of malformed file. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "model_test_util.h"

struct fixture {
    char dir[512];
    char small[600]; /* a small synthetic model */
    struct tern_model_dims d;
};

/* Small but awkward: GQA (3 heads, 1 kv head), w1 with an element count not a multiple of 4. */
static const struct tern_model_dims small_dims = {18, 25, 2, 3, 1, 300, 32, 1};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    char err[512];

    if (!f || scratch_make(f->dir, sizeof f->dir))
        return -1;
    snprintf(f->small, sizeof f->small, "%s/small.bin", f->dir);
    f->d = small_dims;
    if (tern_model_synth(&f->d, 7, f->small, err, sizeof err) != TERN_OK) {
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

static void test_real_model_loads(void **state)
{
    char buf[600], err[512];
    const char *path = real_file("model.bin", buf, sizeof buf);
    tern_model *m = NULL;
    (void)state;

    if (!path)
        skip();
    assert_int_equal(tern_model_load(path, &m, err, sizeof err), TERN_OK);
    assert_string_equal(err, "");
    const struct tern_model_dims *d = tern_model_dims(m);
    assert_int_equal(d->dim, 256);
    assert_int_equal(d->hidden_dim, 256);
    assert_int_equal(d->n_layers, 8);
    assert_int_equal(d->n_heads, 8);
    assert_int_equal(d->n_kv_heads, 4);
    assert_int_equal(d->vocab_size, 512);
    assert_int_equal(d->seq_len, 512);
    assert_int_equal(d->shared_classifier, 1);
    assert_int_equal(tern_model_file_bytes(m), 1312224);
    assert_int_equal(tern_model_expected_bytes(d), 1312224);
    assert_int_equal(tern_model_float_params(m), 256 + 512 * 256);
    assert_int_equal(tern_model_ternary_params(m), 8 * (2 * 65536 + 2 * 32768 + 3 * 65536));

    /* shapes [out][in] */
    const uint32_t rows[7] = {256, 128, 128, 256, 256, 256, 256};
    for (int k = 0; k < TERN_MAT_KINDS; k++)
        for (int l = 0; l < 8; l++) {
            const struct tern_tmatrix *t = tern_model_matrix(m, l, (enum tern_mat_kind)k);
            assert_non_null(t);
            assert_int_equal(t->rows, rows[k]);
            assert_int_equal(t->cols, 256);
            assert_true(t->scale > 0.01f && t->scale < 10.0f);
        }
    assert_null(tern_model_matrix(m, 8, TERN_MAT_WQ));
    assert_null(tern_model_matrix(m, -1, TERN_MAT_WQ));
    assert_null(tern_model_matrix(m, 0, TERN_MAT_KINDS));
    assert_string_equal(tern_mat_kind_name(TERN_MAT_W2), "w2");

    /* the statistics `tern model info` prints, measured independently when the file was added */
    struct tern_code_counts c;
    tern_tmatrix_count_codes(tern_model_matrix(m, 0, TERN_MAT_WQ), &c);
    uint64_t zero = 0, neg = 0, pos = 0;
    for (int l = 0; l < 8; l++) {
        tern_tmatrix_count_codes(tern_model_matrix(m, l, TERN_MAT_WQ), &c);
        zero += c.zero;
        neg += c.neg;
        pos += c.pos;
        assert_int_equal(c.illegal, 0);
    }
    assert_int_equal(zero, 204263);
    assert_int_equal(pos, 160332);
    assert_int_equal(neg, 159693);
    /* floats: the first final-norm weight and the layer-0 wq scale as the file holds them */
    size_t n;
    uint8_t *raw = read_all(path, &n);
    assert_non_null(raw);
    float f0, s0;
    uint32_t u = get_le32(raw + 256);
    memcpy(&f0, &u, 4);
    u = get_le32(raw + off_matrix(d, 0, TERN_MAT_WQ));
    memcpy(&s0, &u, 4);
    assert_true(tern_model_final_norm(m)[0] == f0);
    assert_true(tern_model_matrix(m, 0, TERN_MAT_WQ)->scale == s0);
    assert_memory_equal(tern_model_embedding(m), raw + off_embedding(d), 4 * 512 * 256);
    free(raw);
    tern_model_free(m);
}

/* One malformed file: how to make it from a good one, and what the loader must say. */
struct bad {
    char name[48];
    int rc;
    char expect[200], expect2[80];
};

static void set_hdr(uint8_t *buf, int field, int32_t v) /* field 0 = dim .. 6 = seq_len */
{
    put_le32(buf + 8 + 4 * field, (uint32_t)v);
}

static void plant_code10(uint8_t *buf, const struct tern_model_dims *d, int layer, int kind, uint64_t row, uint64_t col)
{
    uint64_t r, c;
    kind_shape(d, kind, &r, &c);
    uint64_t j = row * c + col, at = off_matrix(d, layer, kind) + 4 + j / 4;
    buf[at] = (uint8_t)((buf[at] & ~(3u << (2 * (j % 4)))) | (2u << (2 * (j % 4))));
}

enum bad_id {
    WRONG_MAGIC,
    WRONG_VERSION,
    TRUNCATED_HEADER,
    TRUNCATED_3_BYTES,
    TRUNCATED_AT_FINAL_NORM,
    TRUNCATED_IN_FINAL_NORM,
    TRUNCATED_IN_EMBEDDING,
    TRUNCATED_IN_SCALE,
    TRUNCATED_MID_MATRIX,
    TRUNCATED_LAST_BYTE,
    OVERLONG_1_BYTE,
    DIM_ZERO,
    HEADS_NEGATIVE,
    KV_HEADS_ZERO,
    SEQ_LEN_NEGATIVE,
    DIM_NOT_MULTIPLE_OF_HEADS,
    KV_HEADS_NOT_DIVIDING,
    HEAD_SIZE_ODD,
    DIM_ABSURD,
    LAYERS_ABSURD,
    VOCAB_ABSURD,
    HUGE_BUT_LEGAL_DIMS,
    SHARED_CLASSIFIER_0,
    PADDING_NONZERO,
    ILLEGAL_CODE,
    ILLEGAL_CODE_LAST,
    NAN_EMBEDDING,
    INF_FINAL_NORM,
    NAN_SCALE,
    NEGATIVE_SCALE,
    EMPTY,
    BAD_CASES
};

static const char *const bad_names[BAD_CASES] = {
    "wrong_magic",
    "wrong_version",
    "truncated_header",
    "truncated_3_bytes",
    "truncated_at_final_norm",
    "truncated_in_final_norm",
    "truncated_in_embedding",
    "truncated_in_scale",
    "truncated_mid_matrix",
    "truncated_last_byte",
    "overlong_1_byte",
    "dim_zero",
    "heads_negative",
    "kv_heads_zero",
    "seq_len_negative",
    "dim_not_multiple_of_heads",
    "kv_heads_not_dividing",
    "head_size_odd",
    "dim_absurd",
    "layers_absurd",
    "vocab_absurd",
    "huge_but_legal_dims",
    "shared_classifier_0",
    "padding_nonzero",
    "illegal_code",
    "illegal_code_last",
    "nan_embedding",
    "inf_final_norm",
    "nan_scale",
    "negative_scale",
    "empty",
};

/* Case i applied to buf (room for n + 1 bytes); 0 when there is no case i. */
static int make_bad(int i, const struct tern_model_dims *d, uint8_t *buf, size_t *n, struct bad *b)
{
    const int L = d->n_layers - 1;
    uint64_t r, c;
    if (i < 0 || i >= BAD_CASES)
        return 0;
    memset(b, 0, sizeof *b);
    b->rc = TERN_E_FORMAT;
    snprintf(b->name, sizeof b->name, "%s", bad_names[i]);
    switch (i) {
    case WRONG_MAGIC:
        memcpy(buf, "XXXX", 4);
        snprintf(b->expect, sizeof b->expect, "wrong magic 0x58585858");
        break;
    case WRONG_VERSION:
        put_le32(buf + 4, 2);
        snprintf(b->expect, sizeof b->expect, "version 2 is not supported");
        break;
    case TRUNCATED_HEADER:
        *n = 100;
        snprintf(b->expect, sizeof b->expect, "truncated in the header: the file is 100 bytes");
        break;
    case TRUNCATED_3_BYTES:
        *n = 3;
        snprintf(b->expect, sizeof b->expect, "truncated in the header");
        break;
    case TRUNCATED_AT_FINAL_NORM:
        *n = 256;
        snprintf(b->expect, sizeof b->expect, "truncated in final_norm (element 0 of %d)", d->dim);
        break;
    case TRUNCATED_IN_FINAL_NORM:
        *n = 256 + 4 + 2;
        snprintf(b->expect, sizeof b->expect, "truncated in final_norm (element 1 of %d)", d->dim);
        break;
    case TRUNCATED_IN_EMBEDDING:
        *n = (size_t)off_embedding(d) + 4 * (size_t)d->dim * 3 + 5;
        snprintf(b->expect, sizeof b->expect, "truncated in token_embedding (token 3 of %d)", d->vocab_size);
        break;
    case TRUNCATED_IN_SCALE:
        *n = (size_t)off_matrix(d, 0, TERN_MAT_WK) + 2;
        snprintf(b->expect, sizeof b->expect, "truncated in layer 0 wk (its scale)");
        break;
    case TRUNCATED_MID_MATRIX: {
        kind_shape(d, TERN_MAT_W2, &r, &c);
        uint64_t half = (r * c + 3) / 4 / 2;
        *n = (size_t)(off_matrix(d, L, TERN_MAT_W2) + 4 + half);
        snprintf(b->expect, sizeof b->expect, "truncated in layer %d w2 (codes, row %llu of %llu)", L,
                 (unsigned long long)(half * 4 / c), (unsigned long long)r);
        break;
    }
    case TRUNCATED_LAST_BYTE:
        *n -= 1;
        snprintf(b->expect, sizeof b->expect, "truncated in layer %d w3", L);
        snprintf(b->expect2, sizeof b->expect2, "(1 missing)");
        break;
    case OVERLONG_1_BYTE:
        buf[*n] = 0;
        *n += 1;
        snprintf(b->expect, sizeof b->expect, "1 extra byte after the last matrix");
        break;
    case DIM_ZERO:
        set_hdr(buf, 0, 0);
        snprintf(b->expect, sizeof b->expect, "dim is 0: it must be at least 1");
        break;
    case HEADS_NEGATIVE:
        set_hdr(buf, 3, -8);
        snprintf(b->expect, sizeof b->expect, "n_heads is -8: it must be at least 1");
        break;
    case KV_HEADS_ZERO:
        set_hdr(buf, 4, 0);
        snprintf(b->expect, sizeof b->expect, "n_kv_heads is 0");
        break;
    case SEQ_LEN_NEGATIVE:
        set_hdr(buf, 6, -1);
        snprintf(b->expect, sizeof b->expect, "seq_len is -1");
        break;
    case DIM_NOT_MULTIPLE_OF_HEADS:
        set_hdr(buf, 0, d->n_heads + 1);
        snprintf(b->expect, sizeof b->expect, "dim %d is not a multiple of n_heads %d", d->n_heads + 1, d->n_heads);
        break;
    case KV_HEADS_NOT_DIVIDING:
        set_hdr(buf, 4, d->n_heads + 1);
        snprintf(b->expect, sizeof b->expect, "n_heads %d is not a multiple of n_kv_heads %d", d->n_heads,
                 d->n_heads + 1);
        break;
    case HEAD_SIZE_ODD:
        set_hdr(buf, 0, 3 * d->n_heads);
        set_hdr(buf, 4, 1);
        snprintf(b->expect, sizeof b->expect, "head size 3 (dim %d / n_heads %d) is odd", 3 * d->n_heads, d->n_heads);
        break;
    case DIM_ABSURD:
        set_hdr(buf, 0, 1 << 30);
        snprintf(b->expect, sizeof b->expect, "dim is 1073741824: more than the limit 65536");
        break;
    case LAYERS_ABSURD:
        set_hdr(buf, 2, 5000);
        snprintf(b->expect, sizeof b->expect, "n_layers is 5000: more than the limit 1024");
        break;
    case VOCAB_ABSURD:
        set_hdr(buf, 5, INT32_MAX);
        snprintf(b->expect, sizeof b->expect, "vocab_size is 2147483647: more than the limit");
        break;
    case HUGE_BUT_LEGAL_DIMS:
        set_hdr(buf, 0, 65536);
        set_hdr(buf, 1, 1 << 18);
        set_hdr(buf, 2, 1024);
        set_hdr(buf, 3, 1024);
        set_hdr(buf, 4, 1024);
        set_hdr(buf, 5, 1 << 20);
        snprintf(b->expect, sizeof b->expect, "truncated in ");
        snprintf(b->expect2, sizeof b->expect2, " missing)");
        break;
    case SHARED_CLASSIFIER_0:
        buf[36] = 0;
        snprintf(b->expect, sizeof b->expect,
                 "shared_classifier is 0: only checkpoints whose classifier is the token embedding");
        break;
    case PADDING_NONZERO:
        buf[200] = 7;
        snprintf(b->expect, sizeof b->expect, "header padding byte 200 is 0x07");
        break;
    case ILLEGAL_CODE:
        plant_code10(buf, d, 1, TERN_MAT_W2, 3, 7);
        snprintf(b->expect, sizeof b->expect, "layer 1 w2: illegal weight code 10 (binary) at row 3, column 7");
        break;
    case ILLEGAL_CODE_LAST:
        kind_shape(d, TERN_MAT_W3, &r, &c);
        plant_code10(buf, d, L, TERN_MAT_W3, r - 1, c - 1);
        snprintf(b->expect, sizeof b->expect, "layer %d w3: illegal weight code 10 (binary) at row %llu, column %llu",
                 L, (unsigned long long)(r - 1), (unsigned long long)(c - 1));
        break;
    case NAN_EMBEDDING:
        put_f32(buf + off_embedding(d) + 4 * ((size_t)d->dim * 5 + 2), NAN);
        snprintf(b->expect, sizeof b->expect, "token_embedding[5][2] is not finite");
        break;
    case INF_FINAL_NORM:
        put_f32(buf + 256 + 4, -INFINITY);
        snprintf(b->expect, sizeof b->expect, "final_norm[1] is not finite");
        break;
    case NAN_SCALE:
        put_f32(buf + off_matrix(d, 0, TERN_MAT_WV), NAN);
        snprintf(b->expect, sizeof b->expect, "layer 0 wv: scale is ");
        break;
    case NEGATIVE_SCALE:
        put_f32(buf + off_matrix(d, L, TERN_MAT_WO), -0.5f);
        snprintf(b->expect, sizeof b->expect, "layer %d wo: scale is -0.5: it must be finite and not negative", L);
        break;
    case EMPTY:
        *n = 0;
        snprintf(b->expect, sizeof b->expect, "empty file");
        break;
    default:
        return 0;
    }
    return 1;
}

static void check_bad_files(const char *dir, const char *good, const char *tag)
{
    size_t n0;
    uint8_t *orig = read_all(good, &n0);
    assert_non_null(orig);
    tern_model *probe = NULL;
    char err[512], path[700];
    assert_int_equal(tern_model_load(good, &probe, err, sizeof err), TERN_OK);
    const struct tern_model_dims d = *tern_model_dims(probe);
    tern_model_free(probe);

    int cases = 0;
    for (int i = 0;; i++) {
        uint8_t *buf = malloc(n0 + 1);
        size_t n = n0;
        struct bad b;
        assert_non_null(buf);
        memcpy(buf, orig, n0);
        if (!make_bad(i, &d, buf, &n, &b)) {
            free(buf);
            break;
        }
        snprintf(path, sizeof path, "%s/%s_%s.bin", dir, tag, b.name);
        assert_int_equal(write_all(path, buf, n), 0);
        tern_model *m = (tern_model *)&b; /* must come back NULL */
        err[0] = '\0';
        int rc = tern_model_load(path, &m, err, sizeof err);
        if (rc != b.rc || m != NULL || strncmp(err, path, strlen(path)) || strncmp(err + strlen(path), ": ", 2) ||
            !strstr(err, b.expect) || !strstr(err, b.expect2))
            fail_msg("%s %s: rc %d (want %d), out %p, message \"%s\" (want \"<path>: ...%s...%s\")", tag, b.name, rc,
                     b.rc, (void *)m, err, b.expect, b.expect2);
        /* the same bytes from memory, named like the file: the same code and the same message */
        char merr[512];
        tern_model *mm = (tern_model *)&b;
        int mrc = tern_model_load_mem(buf, n, path, &mm, merr, sizeof merr);
        if (mrc != rc || mm != NULL || strcmp(merr, err))
            fail_msg("%s %s from memory: rc %d (file %d), out %p, message \"%s\" (file \"%s\")", tag, b.name, mrc, rc,
                     (void *)mm, merr, err);
        free(buf);
        if (getenv("TERN_TEST_VERBOSE"))
            print_message("%s\n", err);
        if (m && m != (tern_model *)&b)
            tern_model_free(m);
        cases++;
    }
    assert_int_equal(cases, BAD_CASES);
    free(orig);
}

static void test_malformed_small(void **state)
{
    struct fixture *f = *state;
    check_bad_files(f->dir, f->small, "small");
}

static void test_malformed_real(void **state)
{
    struct fixture *f = *state;
    char buf[600];
    const char *path = real_file("model.bin", buf, sizeof buf);

    if (!path)
        skip();
    check_bad_files(f->dir, path, "real");
}

static void test_io_errors(void **state)
{
    struct fixture *f = *state;
    char path[700], err[512];
    tern_model *m = (tern_model *)f;

    snprintf(path, sizeof path, "%s/no_such_file.bin", f->dir);
    assert_int_equal(tern_model_load(path, &m, err, sizeof err), TERN_E_IO);
    assert_null(m);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "cannot open"));

    m = (tern_model *)f;
    assert_int_equal(tern_model_load(f->dir, &m, err, sizeof err), TERN_E_IO);
    assert_null(m);
    assert_non_null(strstr(err, "not a regular file"));

    assert_int_equal(tern_model_load(NULL, &m, err, sizeof err), TERN_E_INVAL);
    assert_int_equal(tern_model_load(f->small, NULL, err, sizeof err), TERN_E_INVAL);
    /* no message buffer is fine */
    assert_int_equal(tern_model_load(path, &m, NULL, 0), TERN_E_IO);
    assert_null(m);
    /* a message buffer too small is cut, not overrun */
    char tiny[8];
    memset(tiny, 'x', sizeof tiny);
    assert_int_equal(tern_model_load(path, &m, tiny, 5), TERN_E_IO);
    assert_int_equal(tiny[4], '\0');
    assert_int_equal(tiny[5], 'x');
    tern_model_free(NULL);
}

/* tern_model_load_mem: the same model as from the file, every matrix pointing into its own copy. */
static void test_load_from_memory(void **state)
{
    struct fixture *f = *state;
    size_t n;
    uint8_t *buf = read_all(f->small, &n);
    char err[512];
    tern_model *a = NULL, *b = (tern_model *)f;

    assert_non_null(buf);
    assert_int_equal(tern_model_load(f->small, &a, err, sizeof err), TERN_OK);
    assert_int_equal(tern_model_load_mem(buf, n, NULL, &b, err, sizeof err), TERN_OK);
    assert_string_equal(err, "");
    memset(buf, 0xEE, n); /* the model keeps a copy */
    free(buf);
    assert_memory_equal(tern_model_dims(a), tern_model_dims(b), sizeof(struct tern_model_dims));
    assert_int_equal(tern_model_file_bytes(a), tern_model_file_bytes(b));
    const struct tern_model_dims *d = tern_model_dims(a);
    assert_memory_equal(tern_model_final_norm(a), tern_model_final_norm(b), (size_t)d->dim * 4);
    assert_memory_equal(tern_model_embedding(a), tern_model_embedding(b), (size_t)d->dim * (size_t)d->vocab_size * 4);
    for (int k = 0; k < TERN_MAT_KINDS; k++)
        for (int l = 0; l < d->n_layers; l++) {
            const struct tern_tmatrix *x = tern_model_matrix(a, l, (enum tern_mat_kind)k);
            const struct tern_tmatrix *y = tern_model_matrix(b, l, (enum tern_mat_kind)k);
            assert_int_equal(x->rows, y->rows);
            assert_int_equal(x->cols, y->cols);
            assert_true(x->scale == y->scale);
            assert_memory_equal(x->codes, y->codes, tern_codes_bytes((uint64_t)x->rows * x->cols));
        }
    tern_model_free(a);
    tern_model_free(b);

    /* no bytes at all: an empty file, named "(memory)" without a name */
    assert_int_equal(tern_model_load_mem(NULL, 0, NULL, &b, err, sizeof err), TERN_E_FORMAT);
    assert_null(b);
    assert_non_null(strstr(err, "(memory): empty file"));
    assert_int_equal(tern_model_load_mem(NULL, 1, "x", &b, err, sizeof err), TERN_E_INVAL);
    assert_string_equal(err, "x: tern_model_load_mem: data is NULL");
    assert_int_equal(tern_model_load_mem("", 0, "x", NULL, err, sizeof err), TERN_E_INVAL);
}

static void test_zero_scale_is_legal(void **state)
{
    struct fixture *f = *state;
    size_t n;
    uint8_t *buf = read_all(f->small, &n);
    char path[700], err[512];
    tern_model *m = NULL;

    assert_non_null(buf);
    put_f32(buf + off_matrix(&f->d, 1, TERN_MAT_W1), 0.0f);
    snprintf(path, sizeof path, "%s/zero_scale.bin", f->dir);
    assert_int_equal(write_all(path, buf, n), 0);
    free(buf);
    assert_int_equal(tern_model_load(path, &m, err, sizeof err), TERN_OK);
    assert_true(tern_model_matrix(m, 1, TERN_MAT_W1)->scale == 0.0f);
    tern_model_free(m);
}

static void test_small_model_layout(void **state)
{
    struct fixture *f = *state;
    size_t n;
    uint8_t *raw = read_all(f->small, &n);
    char err[512];
    tern_model *m = NULL;

    assert_non_null(raw);
    assert_int_equal(n, file_size_of(&f->d));
    assert_int_equal(tern_model_load(f->small, &m, err, sizeof err), TERN_OK);
    const uint8_t *base = tern_model_matrix(m, 0, TERN_MAT_WQ)->codes - 4 - off_matrix(&f->d, 0, TERN_MAT_WQ);
    assert_ptr_equal((const uint8_t *)tern_model_final_norm(m), base + 256);
    assert_ptr_equal((const uint8_t *)tern_model_embedding(m), base + off_embedding(&f->d));
    for (int k = 0; k < TERN_MAT_KINDS; k++)
        for (int l = 0; l < f->d.n_layers; l++) {
            const struct tern_tmatrix *t = tern_model_matrix(m, l, (enum tern_mat_kind)k);
            uint64_t r, c;
            kind_shape(&f->d, k, &r, &c);
            assert_int_equal(t->rows, r);
            assert_int_equal(t->cols, c);
            assert_ptr_equal(t->codes, base + off_matrix(&f->d, l, k) + 4); /* one buffer, file offsets */
            assert_memory_equal(t->codes, raw + off_matrix(&f->d, l, k) + 4, (r * c + 3) / 4);
        }
    free(raw);
    tern_model_free(m);
}

static void test_dims_check(void **state)
{
    struct tern_model_dims d = small_dims;
    char err[256];
    (void)state;

    assert_int_equal(tern_model_dims_check(&d, err, sizeof err), TERN_OK);
    d.n_kv_heads = 2;
    assert_int_equal(tern_model_dims_check(&d, err, sizeof err), TERN_E_FORMAT);
    assert_string_equal(err, "n_heads 3 is not a multiple of n_kv_heads 2");
    d = small_dims;
    d.shared_classifier = 0;
    assert_int_equal(tern_model_dims_check(&d, err, sizeof err), TERN_E_FORMAT);
    assert_int_equal(tern_model_dims_check(NULL, err, sizeof err), TERN_E_INVAL);

    const struct tern_model_dims real = {256, 256, 8, 8, 4, 512, 512, 1};
    assert_int_equal(tern_model_expected_bytes(&real), 1312224);
    assert_int_equal(tern_model_expected_bytes(&small_dims), file_size_of(&small_dims));
    d = real;
    d.dim = 0;
    assert_int_equal(tern_model_expected_bytes(&d), 0);
    d = (struct tern_model_dims){INT32_MAX - 1, INT32_MAX, INT32_MAX, 2, 2, INT32_MAX, 1, 1};
    assert_int_equal(tern_model_expected_bytes(&d), 0); /* overflows 64 bits */
    assert_int_equal(tern_model_expected_bytes(NULL), 0);
}

static void test_count_codes(void **state)
{
    uint8_t codes[20] = {0};
    struct tern_tmatrix t = {7, 11, 1.0f, codes}; /* 77 elements: 19 bytes and a bit */
    struct tern_code_counts c;
    (void)state;

    for (uint64_t j = 0; j < 77; j++)
        tern_code_set(codes, j, j % 5 == 0 ? 1 : j % 5 == 1 ? -1 : 0);
    tern_tmatrix_count_codes(&t, &c);
    assert_int_equal(c.pos, 16);
    assert_int_equal(c.neg, 16);
    assert_int_equal(c.zero, 45);
    assert_int_equal(c.illegal, 0);
    codes[19] = 0xFC; /* element 76 (was -1) becomes 0; the padding pairs after it (11) do not count */
    tern_tmatrix_count_codes(&t, &c);
    assert_int_equal(c.neg, 15);
    assert_int_equal(c.zero, 46);
    codes[2] = 0xAA; /* four illegal codes */
    tern_tmatrix_count_codes(&t, &c);
    assert_int_equal(c.illegal, 4);
    assert_int_equal(c.pos + c.neg + c.zero + c.illegal, 77);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_model_loads),
        cmocka_unit_test(test_small_model_layout),
        cmocka_unit_test(test_malformed_small),
        cmocka_unit_test(test_malformed_real),
        cmocka_unit_test(test_io_errors),
        cmocka_unit_test(test_load_from_memory),
        cmocka_unit_test(test_zero_scale_is_legal),
        cmocka_unit_test(test_dims_check),
        cmocka_unit_test(test_count_codes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
