/* fuzz_util.h — what every fuzz target shares: invariant checks that abort with a message, a
 * reader that takes fields from the fuzz input (zeros once it runs out), a deterministic
 * generator, and a memory file for loaders that take a path. Header only: each target is one
 * .c file, built with libFuzzer (clang) or with replay_main.c (any compiler). */
#ifndef TERN_FUZZ_UTIL_H
#define TERN_FUZZ_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5), noreturn))
#endif
static inline void fuzz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s:%d: fuzz invariant broken: %s: ", file, line, cond);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
    abort(); /* libFuzzer saves the input as a crash; the replay test fails */
}

/* An invariant: when cond is false, the target stops with the message (printf style). */
#define FUZZ_CHECK(cond, ...)                                          \
    do {                                                               \
        if (!(cond))                                                   \
            fuzz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__);         \
    } while (0)

/* The fuzz input as a stream of fields. */
struct fz {
    const uint8_t *p;
    size_t n;
};

static inline uint8_t fz_u8(struct fz *f)
{
    if (!f->n)
        return 0;
    f->n--;
    return *f->p++;
}

static inline uint16_t fz_u16(struct fz *f)
{
    uint16_t lo = fz_u8(f);
    return (uint16_t)(lo | (uint16_t)fz_u8(f) << 8);
}

static inline uint32_t fz_u32(struct fz *f)
{
    uint32_t lo = fz_u16(f);
    return lo | (uint32_t)fz_u16(f) << 16;
}

/* Up to n bytes (fewer when the input runs out): *got says how many; points into the input. */
static inline const uint8_t *fz_bytes(struct fz *f, size_t n, size_t *got)
{
    const uint8_t *p = f->p;

    if (n > f->n)
        n = f->n;
    f->p += n;
    f->n -= n;
    *got = n;
    return p;
}

/* splitmix64: bulk data (codes, activations, chunk sizes) derived from a few input bytes. */
static inline uint64_t fz_mix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static inline void *fz_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    FUZZ_CHECK(p != NULL, "out of memory for %zu bytes", n);
    return p;
}

#ifdef _GNU_SOURCE
#include <sys/mman.h>
#include <unistd.h>

/* The input as a file for a loader that takes a path: a memory file, reached through
 * /proc/self/fd (written to path). Returns its descriptor, to close when done. */
static inline int fuzz_memfile(const uint8_t *data, size_t size, char *path, size_t pathlen)
{
    int fd = memfd_create("tern-fuzz", MFD_CLOEXEC);
    size_t done = 0;

    FUZZ_CHECK(fd >= 0, "memfd_create failed");
    while (done < size) {
        ssize_t w = write(fd, data + done, size - done);
        FUZZ_CHECK(w > 0, "writing the memory file failed");
        done += (size_t)w;
    }
    snprintf(path, pathlen, "/proc/self/fd/%d", fd);
    return fd;
}
#endif

#endif /* TERN_FUZZ_UTIL_H */
