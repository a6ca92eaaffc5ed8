/* fileio.c — the model tools' file plumbing: "<path>: <problem>" messages, checked reads, atomic writes. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tern/tern.h"
#include "tm_internal.h"

void tm_err(char *err, size_t errlen, const char *path, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (!err || !errlen)
        return;
    n = snprintf(err, errlen, "%s: ", path ? path : "(null)");
    if (n < 0 || (size_t)n >= errlen)
        return;
    va_start(ap, fmt);
    vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
    va_end(ap);
}

/* strerror without its shared buffer */
static const char *errtext(int e, char *buf, size_t len)
{
    if (strerror_r(e, buf, len) != 0)
        snprintf(buf, len, "error %d", e);
    return buf;
}

float tm_lef32(const uint8_t *p)
{
    uint32_t u = tm_le32(p);
    float f;

    memcpy(&f, &u, sizeof f);
    return f;
}

int tm_file_open(const char *path, struct tm_file *f, char *err, size_t errlen)
{
    char eb[128];
    struct stat st;

    f->fd = -1;
    f->size = 0;
    do
        f->fd = open(path, O_RDONLY | O_CLOEXEC);
    while (f->fd < 0 && errno == EINTR);
    if (f->fd < 0) {
        tm_err(err, errlen, path, "cannot open: %s", errtext(errno, eb, sizeof eb));
        return TERN_E_IO;
    }
    if (fstat(f->fd, &st) != 0) {
        tm_err(err, errlen, path, "cannot stat: %s", errtext(errno, eb, sizeof eb));
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        tm_err(err, errlen, path, "not a regular file");
        goto fail;
    }
    f->size = (uint64_t)st.st_size;
    return TERN_OK;

fail:
    close(f->fd);
    f->fd = -1;
    return TERN_E_IO;
}

int tm_file_read(const struct tm_file *f, uint64_t off, void *dst, size_t n, const char *path, char *err,
                 size_t errlen)
{
    char eb[128];
    uint8_t *p = dst;

    while (n) {
        size_t chunk = n > ((size_t)1 << 30) ? (size_t)1 << 30 : n;
        ssize_t got = pread(f->fd, p, chunk, (off_t)off);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            tm_err(err, errlen, path, "read error at byte %llu: %s", (unsigned long long)off,
                   errtext(errno, eb, sizeof eb));
            return TERN_E_IO;
        }
        if (got == 0) {
            tm_err(err, errlen, path, "the file shrank to %llu bytes while it was being read", (unsigned long long)off);
            return TERN_E_IO;
        }
        p += got;
        off += (uint64_t)got;
        n -= (size_t)got;
    }
    return TERN_OK;
}

int tm_src_read(const struct tm_src *s, uint64_t off, void *dst, size_t n, const char *path, char *err,
                size_t errlen)
{
    if (s->file)
        return tm_file_read(s->file, off, dst, n, path, err, errlen);
    if (off > s->size || n > s->size - off) { /* the loaders never ask for this */
        tm_err(err, errlen, path, "internal error: reading %zu bytes at %llu of %llu", n, (unsigned long long)off,
               (unsigned long long)s->size);
        return TERN_E_INVAL;
    }
    if (n)
        memcpy(dst, s->mem + off, n);
    return TERN_OK;
}

void tm_file_close(struct tm_file *f)
{
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
}

int tm_out_open(struct tm_out *o, const char *path, char *err, size_t errlen)
{
    char eb[128];
    size_t len = strlen(path) + 48;
    int fd = -1, e = 0;

    o->f = NULL;
    o->path = path;
    o->tmp = malloc(len);
    if (!o->tmp) {
        tm_err(err, errlen, path, "out of memory");
        return TERN_E_NOMEM;
    }
    /* O_EXCL instead of mkstemp: the file gets the umask's permissions, like any written file */
    for (int attempt = 0; attempt < 100 && fd < 0; attempt++) {
        snprintf(o->tmp, len, "%s.tmp%ld.%d", path, (long)getpid(), attempt);
        fd = open(o->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        e = errno;
        if (fd < 0 && e != EEXIST && e != EINTR)
            break;
    }
    if (fd < 0) {
        tm_err(err, errlen, path, "cannot create the temporary file %s: %s", o->tmp, errtext(e, eb, sizeof eb));
        goto fail;
    }
    o->f = fdopen(fd, "wb");
    if (!o->f) {
        tm_err(err, errlen, path, "cannot write: %s", errtext(errno, eb, sizeof eb));
        close(fd);
        unlink(o->tmp);
        goto fail;
    }
    return TERN_OK;

fail:
    free(o->tmp);
    o->tmp = NULL;
    return TERN_E_IO;
}

int tm_out_write(struct tm_out *o, const void *p, size_t n, char *err, size_t errlen)
{
    char eb[128];

    if (n && fwrite(p, 1, n, o->f) != n) {
        tm_err(err, errlen, o->path, "cannot write %s: %s", o->tmp, errtext(errno, eb, sizeof eb));
        return TERN_E_IO;
    }
    return TERN_OK;
}

int tm_out_u32(struct tm_out *o, uint32_t v, char *err, size_t errlen)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};

    return tm_out_write(o, b, 4, err, errlen);
}

int tm_out_f32(struct tm_out *o, float v, char *err, size_t errlen)
{
    uint32_t u;

    memcpy(&u, &v, sizeof u);
    return tm_out_u32(o, u, err, errlen);
}

int tm_out_commit(struct tm_out *o, char *err, size_t errlen)
{
    char eb[128];
    int rc = TERN_OK;

    if (fflush(o->f) != 0 || fsync(fileno(o->f)) != 0) {
        tm_err(err, errlen, o->path, "cannot write %s: %s", o->tmp, errtext(errno, eb, sizeof eb));
        rc = TERN_E_IO;
    }
    if (fclose(o->f) != 0 && rc == TERN_OK) {
        tm_err(err, errlen, o->path, "cannot write %s: %s", o->tmp, errtext(errno, eb, sizeof eb));
        rc = TERN_E_IO;
    }
    o->f = NULL;
    if (rc == TERN_OK && rename(o->tmp, o->path) != 0) {
        tm_err(err, errlen, o->path, "cannot rename %s into place: %s", o->tmp, errtext(errno, eb, sizeof eb));
        rc = TERN_E_IO;
    }
    if (rc != TERN_OK)
        unlink(o->tmp);
    free(o->tmp);
    o->tmp = NULL;
    return rc;
}

void tm_out_abort(struct tm_out *o)
{
    if (o->f)
        fclose(o->f);
    o->f = NULL;
    if (o->tmp) {
        unlink(o->tmp);
        free(o->tmp);
    }
    o->tmp = NULL;
}
