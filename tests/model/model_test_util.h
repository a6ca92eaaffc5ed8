/* model_test_util.h — helpers of the model tests: a scratch directory, whole files, the checkpoint layout. */
#ifndef TERN_MODEL_TEST_UTIL_H
#define TERN_MODEL_TEST_UTIL_H

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tern/tern.h"
#include "tern/tern_model.h"

#ifndef TERN_TEST_MODEL_DIR
#define TERN_TEST_MODEL_DIR "../shared/models/bitllama-3m"
#endif

/* The real bitllama-3m file name, or NULL when it is absent (the tests that need it skip). */
static inline const char *real_file(const char *name, char *buf, size_t len)
{
    const char *dir = getenv("TERN_MODEL_DIR");
    struct stat st;

    snprintf(buf, len, "%s/%s", dir && *dir ? dir : TERN_TEST_MODEL_DIR, name);
    return stat(buf, &st) == 0 && S_ISREG(st.st_mode) ? buf : NULL;
}

/* A fresh scratch directory under $TMPDIR (or /tmp); 0 on success. */
static inline int scratch_make(char *dir, size_t len)
{
    const char *base = getenv("TMPDIR");

    snprintf(dir, len, "%s/tern_model_test_XXXXXX", base && *base ? base : "/tmp");
    return mkdtemp(dir) ? 0 : -1;
}

/* Removes the scratch directory and the files in it. */
static inline void scratch_remove(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[1024];

    if (!d)
        return;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (rmdir(p) != 0)
            unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

/* How many entries the directory holds (besides . and ..). */
static inline int dir_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    if (!d)
        return -1;
    while ((e = readdir(d)) != NULL)
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(d);
    return n;
}

static inline uint8_t *read_all(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    long len;

    *n = 0;
    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
        buf = malloc((size_t)len + 1);
        if (buf && fread(buf, 1, (size_t)len, f) != (size_t)len) {
            free(buf);
            buf = NULL;
        }
        if (buf)
            *n = (size_t)len;
    }
    fclose(f);
    return buf;
}

static inline int write_all(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    int ok;

    if (!f)
        return -1;
    ok = fwrite(p, 1, n, f) == n;
    return fclose(f) == 0 && ok ? 0 : -1;
}

static inline void put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static inline uint32_t get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void put_f32(uint8_t *p, float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    put_le32(p, u);
}

/* The checkpoint layout, written out again from the README as an independent oracle. */
static inline void kind_shape(const struct tern_model_dims *d, int kind, uint64_t *rows, uint64_t *cols)
{
    uint64_t kv = (uint64_t)d->dim * (uint64_t)d->n_kv_heads / (uint64_t)d->n_heads;
    static const int big_rows[7] = {0, 1, 1, 0, 2, 0, 2}; /* 0: dim, 1: kv_dim, 2: hidden_dim */

    *rows = big_rows[kind] == 0 ? (uint64_t)d->dim : big_rows[kind] == 1 ? kv : (uint64_t)d->hidden_dim;
    *cols = kind == TERN_MAT_W2 ? (uint64_t)d->hidden_dim : (uint64_t)d->dim;
}

static inline uint64_t mat_bytes(const struct tern_model_dims *d, int kind)
{
    uint64_t r, c;
    kind_shape(d, kind, &r, &c);
    return 4 + (r * c + 3) / 4;
}

static inline uint64_t off_final_norm(void)
{
    return 256;
}

static inline uint64_t off_embedding(const struct tern_model_dims *d)
{
    return 256 + 4 * (uint64_t)d->dim;
}

/* Byte offset of the scale of (layer, kind); its codes follow 4 bytes later. kind TERN_MAT_KINDS: the end. */
static inline uint64_t off_matrix(const struct tern_model_dims *d, int layer, int kind)
{
    uint64_t off = off_embedding(d) + 4 * (uint64_t)d->vocab_size * (uint64_t)d->dim;
    for (int k = 0; k < kind; k++)
        off += (uint64_t)d->n_layers * mat_bytes(d, k);
    return kind < TERN_MAT_KINDS ? off + (uint64_t)layer * mat_bytes(d, kind) : off;
}

static inline uint64_t file_size_of(const struct tern_model_dims *d)
{
    return off_matrix(d, 0, TERN_MAT_KINDS);
}

#endif /* TERN_MODEL_TEST_UTIL_H */
