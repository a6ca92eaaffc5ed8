/* tm_internal.h — helpers shared by the model tools: error messages, whole-file I/O, atomic writes. */
#ifndef TERN_TM_INTERNAL_H
#define TERN_TM_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tern/tern_model.h"

/* Writes "<path>: <message>" to err (nothing when err is NULL or errlen is 0). */
#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
void tm_err(char *err, size_t errlen, const char *path, const char *fmt, ...);

/* An open file for reading, with its size. */
struct tm_file {
    int fd;
    uint64_t size;
};

/* Opens a regular file: TERN_E_IO with the reason when it cannot. */
int tm_file_open(const char *path, struct tm_file *f, char *err, size_t errlen);
/* Reads exactly n bytes at off: TERN_E_IO when the read fails or the file shrank meanwhile. */
int tm_file_read(const struct tm_file *f, uint64_t off, void *dst, size_t n, const char *path, char *err,
                 size_t errlen);
void tm_file_close(struct tm_file *f);

/* What a loader reads: an open file, or bytes in memory (the *_load_mem entry points). */
struct tm_src {
    const struct tm_file *file; /* NULL: read from mem */
    const uint8_t *mem;
    uint64_t size;
};

/* Reads exactly n bytes at off (off + n <= size): from the file, or copied from memory. */
int tm_src_read(const struct tm_src *s, uint64_t off, void *dst, size_t n, const char *path, char *err,
                size_t errlen);

/* An atomic write: data goes to a temporary file beside path, renamed over path on commit. */
struct tm_out {
    FILE *f;
    char *tmp;       /* the temporary file's name */
    const char *path;
};

int tm_out_open(struct tm_out *o, const char *path, char *err, size_t errlen);
int tm_out_write(struct tm_out *o, const void *p, size_t n, char *err, size_t errlen);
int tm_out_u32(struct tm_out *o, uint32_t v, char *err, size_t errlen); /* little-endian */
int tm_out_f32(struct tm_out *o, float v, char *err, size_t errlen);    /* little-endian */
/* Flushes, syncs and renames into place; the temporary file is removed on failure. */
int tm_out_commit(struct tm_out *o, char *err, size_t errlen);
/* Removes the temporary file (after a failure); safe after commit and on a closed writer. */
void tm_out_abort(struct tm_out *o);

/* Where everything sits in a checkpoint of some dimensions (checkpoint.c). */
struct tm_layout {
    uint32_t rows[TERN_MAT_KINDS], cols[TERN_MAT_KINDS];
    uint64_t mat_bytes[TERN_MAT_KINDS]; /* scale + codes of one matrix */
    uint64_t kind_off[TERN_MAT_KINDS];  /* first matrix of the kind */
    uint64_t final_norm, embedding, total;
};

/* Fills the layout; 0 when a dimension is not positive, kv_dim is fractional, or it overflows. */
int tm_layout_make(const struct tern_model_dims *d, struct tm_layout *L);

/* Little-endian loads from unaligned bytes. */
static inline uint32_t tm_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline int32_t tm_le32s(const uint8_t *p)
{
    uint32_t u = tm_le32(p);
    return u <= INT32_MAX ? (int32_t)u : (int32_t)(u - 0x80000000u) + INT32_MIN;
}

float tm_lef32(const uint8_t *p);

/* splitmix64: the deterministic generator behind every synthetic file. */
static inline uint64_t tm_splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1) with 53 random bits. */
static inline double tm_uniform(uint64_t *s)
{
    return (double)(tm_splitmix(s) >> 11) * (1.0 / 9007199254740992.0);
}

#endif /* TERN_TM_INTERNAL_H */
