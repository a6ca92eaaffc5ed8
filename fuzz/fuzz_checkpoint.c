/* fuzz_checkpoint.c — the llama2.c BitNet checkpoint loader on arbitrary bytes (the input is the file).
 *
 * Invariants: the loader from memory and the loader from a file agree (code and message); a
 * failure is TERN_E_FORMAT with "<name>: <problem>" and no model; a success is a model whose
 * every field is where the format (docs, tern_model.h) puts it, recomputed here independently:
 * the dimensions pass tern_model_dims_check, the file is exactly the size they imply, every float
 * is finite and equals the input's bytes, every matrix has the right shape, a finite scale >= 0,
 * its codes at the right offset and no illegal code (counted both by tern_tmatrix_count_codes and
 * one code at a time). One byte fewer or more must then fail. */
#define _GNU_SOURCE
#include <math.h>

#include "fuzz_util.h"
#include "tern/tern.h"
#include "tern/tern_model.h"

#define NAME_MAX_LEN 64

static float f32_at(const uint8_t *p)
{
    uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    float f;

    memcpy(&f, &u, sizeof f);
    return f;
}

static int same_f32(float a, float b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

/* Shapes [rows][cols] of the seven matrix kinds, from the format's description. */
static void kind_shape(const struct tern_model_dims *d, int kind, uint64_t *rows, uint64_t *cols)
{
    uint64_t kv = (uint64_t)d->dim * (uint64_t)d->n_kv_heads / (uint64_t)d->n_heads;
    const uint64_t r[TERN_MAT_KINDS] = {(uint64_t)d->dim, kv, kv, (uint64_t)d->dim,
                                        (uint64_t)d->hidden_dim, (uint64_t)d->dim, (uint64_t)d->hidden_dim};

    *rows = r[kind];
    *cols = kind == TERN_MAT_W2 ? (uint64_t)d->hidden_dim : (uint64_t)d->dim;
}

static void check_model(const tern_model *m, const uint8_t *data, size_t size)
{
    const struct tern_model_dims *d = tern_model_dims(m);
    char why[256];
    uint64_t off, ternary = 0;

    FUZZ_CHECK(tern_model_dims_check(d, why, sizeof why) == TERN_OK, "loaded dimensions refused: %s", why);
    FUZZ_CHECK(tern_model_file_bytes(m) == size, "model of %llu bytes from %zu", (unsigned long long)tern_model_file_bytes(m),
               size);
    FUZZ_CHECK(tern_model_expected_bytes(d) == size, "expected %llu bytes, loaded %zu",
               (unsigned long long)tern_model_expected_bytes(d), size);
    /* the header fields as the format places them */
    const int32_t fields[7] = {d->dim, d->hidden_dim, d->n_layers, d->n_heads, d->n_kv_heads,
                               d->vocab_size, d->seq_len};
    for (int i = 0; i < 7; i++) {
        const uint8_t *p = data + 8 + 4 * i;
        uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
        FUZZ_CHECK(u == (uint32_t)fields[i], "header field %d is %u, loaded as %d", i, (unsigned)u, (int)fields[i]);
    }
    FUZZ_CHECK(d->shared_classifier == data[36], "shared_classifier %d, byte 36 is %d", (int)d->shared_classifier,
               data[36]);

    const float *norm = tern_model_final_norm(m), *emb = tern_model_embedding(m);
    FUZZ_CHECK(norm && emb, "no final norm or embedding");
    off = 256;
    for (int32_t i = 0; i < d->dim; i++, off += 4)
        FUZZ_CHECK(isfinite(norm[i]) && same_f32(norm[i], f32_at(data + off)), "final_norm[%d]", (int)i);
    for (uint64_t i = 0; i < (uint64_t)d->dim * (uint64_t)d->vocab_size; i++, off += 4)
        FUZZ_CHECK(isfinite(emb[i]) && same_f32(emb[i], f32_at(data + off)), "embedding element %llu",
                   (unsigned long long)i);
    FUZZ_CHECK(tern_model_float_params(m) == (uint64_t)d->dim * (1 + (uint64_t)d->vocab_size), "float params");

    for (int k = 0; k < TERN_MAT_KINDS; k++)
        for (int32_t l = 0; l < d->n_layers; l++) {
            const struct tern_tmatrix *t = tern_model_matrix(m, l, (enum tern_mat_kind)k);
            uint64_t rows, cols, elems;
            struct tern_code_counts cc;

            kind_shape(d, k, &rows, &cols);
            elems = rows * cols;
            FUZZ_CHECK(t && t->rows == rows && t->cols == cols, "layer %d %s shape", (int)l, tern_mat_kind_name(k));
            FUZZ_CHECK(off + 4 + (elems + 3) / 4 <= size, "layer %d %s runs past the file", (int)l,
                       tern_mat_kind_name(k));
            FUZZ_CHECK(same_f32(t->scale, f32_at(data + off)) && isfinite(t->scale) && t->scale >= 0,
                       "layer %d %s scale %g", (int)l, tern_mat_kind_name(k), (double)t->scale);
            FUZZ_CHECK(memcmp(t->codes, data + off + 4, (size_t)((elems + 3) / 4)) == 0, "layer %d %s codes differ",
                       (int)l, tern_mat_kind_name(k));
            tern_tmatrix_count_codes(t, &cc);
            uint64_t neg = 0, zero = 0, pos = 0, bad = 0;
            for (uint64_t j = 0; j < elems; j++) {
                int c = tern_code_get(t->codes, j);
                neg += c == -1;
                zero += c == 0;
                pos += c == 1;
                bad += c == TERN_E_CODE;
            }
            FUZZ_CHECK(bad == 0 && cc.illegal == 0, "layer %d %s: %llu illegal codes loaded", (int)l,
                       tern_mat_kind_name(k), (unsigned long long)bad);
            FUZZ_CHECK(cc.neg == neg && cc.zero == zero && cc.pos == pos,
                       "layer %d %s: counted %llu/%llu/%llu, one by one %llu/%llu/%llu", (int)l, tern_mat_kind_name(k),
                       (unsigned long long)cc.neg, (unsigned long long)cc.zero, (unsigned long long)cc.pos,
                       (unsigned long long)neg, (unsigned long long)zero, (unsigned long long)pos);
            ternary += elems;
            off += 4 + (elems + 3) / 4;
        }
    FUZZ_CHECK(off == size, "the matrices end at %llu of %zu bytes", (unsigned long long)off, size);
    FUZZ_CHECK(tern_model_ternary_params(m) == ternary, "ternary params");
    FUZZ_CHECK(!tern_model_matrix(m, d->n_layers, TERN_MAT_WQ) && !tern_model_matrix(m, -1, TERN_MAT_WQ) &&
                   !tern_model_matrix(m, 0, TERN_MAT_KINDS),
               "a matrix out of range");
}

/* A load that must fail: code, no model, "<name>: <problem>". */
static void check_failure(int rc, const tern_model *m, const char *err, const char *name)
{
    size_t nl = strlen(name);

    FUZZ_CHECK(rc == TERN_E_FORMAT, "rc %d (%s): %s", rc, tern_strerror(rc), err);
    FUZZ_CHECK(m == NULL, "a model came back with rc %d", rc);
    FUZZ_CHECK(strncmp(err, name, nl) == 0 && err[nl] == ':' && err[nl + 1] == ' ' && err[nl + 2] != '\0',
               "message \"%s\" does not read \"%s: <problem>\"", err, name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[NAME_MAX_LEN], err[512], ferr[512];
    tern_model *m = NULL, *fm = NULL;
    int rc, frc, fd;

    /* from a file (a memory file), and from memory under the same name: they must agree */
    fd = fuzz_memfile(data, size, path, sizeof path);
    frc = tern_model_load(path, &fm, ferr, sizeof ferr);
    close(fd);
    rc = tern_model_load_mem(data, size, path, &m, err, sizeof err);
    FUZZ_CHECK(rc == frc && strcmp(err, ferr) == 0, "from memory rc %d \"%s\", from the file rc %d \"%s\"", rc, err,
               frc, ferr);
    if (rc != TERN_OK) {
        check_failure(rc, m, err, path);
        check_failure(frc, fm, ferr, path);
        return 0;
    }
    FUZZ_CHECK(err[0] == '\0', "success with a message: %s", err);
    check_model(m, data, size);
    check_model(fm, data, size);
    tern_model_free(fm);
    tern_model_free(m);

    /* a valid checkpoint with a byte missing or a byte added is not one */
    rc = tern_model_load_mem(data, size - 1, "cut", &m, err, sizeof err);
    check_failure(rc, m, err, "cut");
    uint8_t *longer = fz_xmalloc(size + 1);
    memcpy(longer, data, size);
    longer[size] = 0;
    rc = tern_model_load_mem(longer, size + 1, "long", &m, err, sizeof err);
    free(longer);
    check_failure(rc, m, err, "long");
    FUZZ_CHECK(strstr(err, "1 extra byte after the last matrix") != NULL, "one byte too many: %s", err);
    return 0;
}
