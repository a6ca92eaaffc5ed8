/* bench_common.h — what every benchmark needs: a monotonic wall clock, a seeded generator, strict
 * option values, and its two reports. The human report goes to stdout, or to stderr when the JSON
 * report goes to stdout (--json -), so that stdout then holds the JSON alone. The JSON report's
 * path is opened before the run, so that a path that cannot be written fails at once; the JSON is
 * assembled in memory and written out only by a run that succeeds, and a run that fails removes
 * the file it opened: no half-written report is left, on a file or on stdout.
 * The same rules as the tern command's (cli/args.c, cli/report.c), which bench does not depend on.
 * Include it after defining _GNU_SOURCE (or _POSIX_C_SOURCE 200809L). */
#ifndef TERN_BENCH_COMMON_H
#define TERN_BENCH_COMMON_H

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tern/tern.h"

/* Seconds on the monotonic clock. */
static inline double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* splitmix64: deterministic workloads for a seed. */
static inline uint64_t bench_splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* ---- option values: "PROG: OPT 'S' <problem>; want WANT" on stderr, then exit status 2 ---- */

static inline int bench_refuse(const char *prog, const char *opt, const char *s, const char *problem,
                               const char *want)
{
    if (!*s)
        fprintf(stderr, "%s: %s needs a value: %s\n", prog, opt, want);
    else
        fprintf(stderr, "%s: %s '%s' %s; want %s\n", prog, opt, s, problem, want);
    return -1;
}

/* A decimal whole number in [min, max]: no sign, no space, nothing after it. 0 or -1. */
static inline int bench_arg_u64(const char *prog, const char *opt, const char *s, uint64_t min, uint64_t max,
                                const char *want, uint64_t *out)
{
    char *end;
    unsigned long long v;

    if (!*s)
        return bench_refuse(prog, opt, s, "", want);
    if (*s == '-')
        return bench_refuse(prog, opt, s, "is negative", want);
    if (!isdigit((unsigned char)*s))
        return bench_refuse(prog, opt, s, "is not a whole number", want);
    errno = 0;
    v = strtoull(s, &end, 10);
    if (*end)
        return bench_refuse(prog, opt, s, "has characters after the number", want);
    if (errno == ERANGE || v > max)
        return bench_refuse(prog, opt, s, "is too large", want);
    if (v < min)
        return bench_refuse(prog, opt, s, "is too small", want);
    *out = v;
    return 0;
}

/* A finite number in [min, max] (never inf or nan), nothing after it. 0 or -1. */
static inline int bench_arg_f64(const char *prog, const char *opt, const char *s, double min, double max,
                                const char *want, double *out)
{
    char *end;
    double v;

    if (!*s)
        return bench_refuse(prog, opt, s, "", want);
    if (isspace((unsigned char)*s))
        return bench_refuse(prog, opt, s, "is not a number", want);
    errno = 0;
    v = strtod(s, &end);
    if (end == s)
        return bench_refuse(prog, opt, s, "is not a number", want);
    if (*end)
        return bench_refuse(prog, opt, s, "has characters after the number", want);
    if (isnan(v))
        return bench_refuse(prog, opt, s, "is not a number (NaN)", want);
    if (isinf(v))
        return bench_refuse(prog, opt, s, errno == ERANGE ? "is too large" : "is infinite", want);
    if (v < min)
        return bench_refuse(prog, opt, s, v < 0 && min >= 0 ? "is negative" : "is too small", want);
    if (v > max)
        return bench_refuse(prog, opt, s, "is too large", want);
    *out = v;
    return 0;
}

/* A configuration name from configs/: one the ref backend opens. 0, or -1 with the reason. */
static inline int bench_arg_config(const char *prog, const char *opt, const char *name)
{
    char uri[96], err[512];
    tern_dev *dev = NULL;

    if (!*name || strpbrk(name, ",:=") || strlen(name) > 64) {
        fprintf(stderr, "%s: %s '%s' is not a configuration name; want one of configs/*.cfg, e.g. default\n",
                prog, opt, name);
        return -1;
    }
    snprintf(uri, sizeof uri, "ref:config=%s", name);
    if (tern_dev_open_ex(uri, &dev, err, sizeof err)) {
        fprintf(stderr, "%s: %s '%s': %s\n", prog, opt, name, err);
        return -1;
    }
    tern_dev_close(dev);
    return 0;
}

/* What getopt_long returned for a bad option (opterr = 0, optstring starting with ':'): one line
 * naming it and where help is. Returns 2, the exit status of a usage error. */
static inline int bench_bad_option(const char *prog, int c, char **argv)
{
    const char *arg = optind > 0 ? argv[optind - 1] : "?";

    if (c == ':')
        fprintf(stderr, "%s: option '%s' needs a value\n", prog, arg);
    else if (optopt && !strncmp(arg, "--", 2) && strchr(arg, '=')) /* a known option, given a value */
        fprintf(stderr, "%s: option '%.*s' takes no value\n", prog, (int)(strchr(arg, '=') - arg), arg);
    else if (optopt && strncmp(arg, "--", 2))
        fprintf(stderr, "%s: unknown option '-%c'\n", prog, optopt);
    else
        fprintf(stderr, "%s: unknown option '%s'\n", prog, arg);
    fprintf(stderr, "(%s --help lists the options)\n", prog);
    return 2;
}

/* After the options: anything left is refused (the benchmarks take no operands). 0, or 2. */
static inline int bench_no_operands(const char *prog, int argc, char **argv)
{
    if (optind >= argc)
        return 0;
    fprintf(stderr, "%s: unexpected argument '%s'\n(%s --help lists the options)\n", prog, argv[optind], prog);
    return 2;
}

/* ---- the reports ---- */

/* Where the human report goes: stdout, or stderr when the JSON report goes to stdout. */
static inline FILE *bench_human(const char *json_path)
{
    return json_path && json_path[0] == '-' && !json_path[1] ? stderr : stdout;
}

struct bench_report {
    FILE *f;         /* where the JSON goes: NULL (no report), stdout, or the file opened */
    const char *path;
    int removable;   /* a regular file this run created or emptied: removed if the run fails */
    FILE *mem;       /* the JSON is assembled here, written to f only by a run that succeeds */
    char *buf;
    size_t len;
    int depth, need_comma;
};

/* Open the JSON report before the run: NULL path is no report, "-" is stdout, anything else is
 * created or emptied now (a FIFO or /dev/null works too). On failure prints
 * "PROG: --json PATH: <reason>" and returns -1. The report starts as an open object. */
static inline int bench_report_open(struct bench_report *r, const char *prog, const char *path)
{
    struct stat st;
    int fd, existed;

    memset(r, 0, sizeof *r);
    r->path = path;
    if (!path)
        return 0;
    if (!(r->mem = open_memstream(&r->buf, &r->len))) {
        fprintf(stderr, "%s: --json %s: no memory for the report: %s\n", prog, path, strerror(errno));
        return -1;
    }
    if (path[0] == '-' && !path[1]) {
        r->f = stdout;
    } else {
        existed = lstat(path, &st) == 0;
        if (existed && S_ISDIR(st.st_mode)) {
            fprintf(stderr, "%s: --json %s: is a directory (give a file name)\n", prog, path);
            goto fail;
        }
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
        if (fd < 0 || !(r->f = fdopen(fd, "w"))) {
            fprintf(stderr, "%s: --json %s: cannot write the report there: %s\n", prog, path, strerror(errno));
            if (fd >= 0)
                close(fd);
            if (fd >= 0 && !existed)
                unlink(path);
            goto fail;
        }
        /* a regular file (not a link to one, nor a device) may be removed again if the run fails */
        r->removable = !existed || S_ISREG(st.st_mode);
    }
    fputc('{', r->mem);
    r->depth = 1;
    return 0;
fail:
    fclose(r->mem);
    free(r->buf);
    r->mem = NULL;
    r->buf = NULL;
    return -1;
}

/* ---- the JSON writer: each call is a no-op without a report; key NULL inside arrays ---- */

static inline void bench_json_sep_(struct bench_report *r, const char *key)
{
    fputs(r->need_comma ? ",\n" : "\n", r->mem);
    for (int i = 0; i < r->depth; i++)
        fputs("  ", r->mem);
    if (key)
        fprintf(r->mem, "\"%s\": ", key); /* keys are the benchmark's own identifiers */
    r->need_comma = 1;
}

static inline void bench_json_open_(struct bench_report *r, const char *key, char c)
{
    if (!r->mem)
        return;
    bench_json_sep_(r, key);
    fputc(c, r->mem);
    r->depth++;
    r->need_comma = 0;
}

static inline void bench_json_close_(struct bench_report *r, char c)
{
    if (!r->mem)
        return;
    r->depth--;
    fputc('\n', r->mem);
    for (int i = 0; i < r->depth; i++)
        fputs("  ", r->mem);
    fputc(c, r->mem);
    r->need_comma = 1;
}

static inline void bench_json_object(struct bench_report *r, const char *key) { bench_json_open_(r, key, '{'); }
static inline void bench_json_array(struct bench_report *r, const char *key) { bench_json_open_(r, key, '['); }
static inline void bench_json_end_object(struct bench_report *r) { bench_json_close_(r, '}'); }
static inline void bench_json_end_array(struct bench_report *r) { bench_json_close_(r, ']'); }

/* The length of the well-formed UTF-8 sequence at p (RFC 3629), of avail bytes, or 0. */
static inline size_t bench_utf8_len_(const unsigned char *p, size_t avail)
{
    size_t n;
    unsigned lo = 0x80, hi = 0xBF;

    if (p[0] < 0x80)
        return 1;
    if (p[0] >= 0xC2 && p[0] <= 0xDF) {
        n = 2;
    } else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
        n = 3;
        lo = p[0] == 0xE0 ? 0xA0 : 0x80;
        hi = p[0] == 0xED ? 0x9F : 0xBF;
    } else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
        n = 4;
        lo = p[0] == 0xF0 ? 0x90 : 0x80;
        hi = p[0] == 0xF4 ? 0x8F : 0xBF;
    } else {
        return 0;
    }
    if (avail < n || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 0;
    return n;
}

/* A string (a path, a device's name): escaped, and each byte that is not UTF-8 becomes U+FFFD. */
static inline void bench_json_str(struct bench_report *r, const char *key, const char *v)
{
    const unsigned char *p = (const unsigned char *)v, *end = p + strlen(v);

    if (!r->mem)
        return;
    bench_json_sep_(r, key);
    fputc('"', r->mem);
    while (p < end) {
        size_t len = bench_utf8_len_(p, (size_t)(end - p));
        if (len == 0) {
            fputs("\\ufffd", r->mem);
            p++;
        } else if (*p == '"' || *p == '\\') {
            fprintf(r->mem, "\\%c", *p++);
        } else if (*p < 0x20) {
            fprintf(r->mem, "\\u%04x", *p++);
        } else {
            fwrite(p, 1, len, r->mem);
            p += len;
        }
    }
    fputc('"', r->mem);
}

/* A measured figure: null when it is not finite (JSON has neither inf nor nan). */
static inline void bench_json_num(struct bench_report *r, const char *key, double v)
{
    if (!r->mem)
        return;
    bench_json_sep_(r, key);
    if (isfinite(v))
        fprintf(r->mem, "%.15g", v);
    else
        fputs("null", r->mem);
}

static inline void bench_json_u64(struct bench_report *r, const char *key, uint64_t v)
{
    if (!r->mem)
        return;
    bench_json_sep_(r, key);
    fprintf(r->mem, "%llu", (unsigned long long)v);
}

static inline void bench_json_bool(struct bench_report *r, const char *key, int v)
{
    if (!r->mem)
        return;
    bench_json_sep_(r, key);
    fputs(v ? "true" : "false", r->mem);
}

/* ---- the end of a run ---- */

/* The run failed: nothing is written, and the file opened for the report is removed again (a
 * regular file only). Safe without a report and after bench_report_finish. */
static inline void bench_report_discard(struct bench_report *r)
{
    if (r->mem)
        fclose(r->mem);
    free(r->buf);
    if (r->f && r->f != stdout) {
        fclose(r->f);
        if (r->removable)
            unlink(r->path);
    }
    r->mem = NULL;
    r->buf = NULL;
    r->f = NULL;
}

/* The run succeeded: close what is open, write the JSON out. 0, or -1 with the reason printed
 * (and the file removed). Nothing to do without a report. */
static inline int bench_report_finish(struct bench_report *r, const char *prog)
{
    int bad;

    if (!r->mem)
        return 0;
    while (r->depth > 0)
        bench_json_close_(r, '}');
    fputc('\n', r->mem);
    bad = fclose(r->mem) != 0;
    r->mem = NULL;
    if (!bad)
        bad = fwrite(r->buf, 1, r->len, r->f) != r->len;
    bad = fflush(r->f) || bad;
    if (bad) {
        fprintf(stderr, "%s: --json %s: writing the report failed: %s\n", prog, r->path, strerror(errno));
        bench_report_discard(r);
        return -1;
    }
    if (r->f != stdout && fclose(r->f)) {
        r->f = NULL;
        fprintf(stderr, "%s: --json %s: writing the report failed: %s\n", prog, r->path, strerror(errno));
        if (r->removable)
            unlink(r->path);
        free(r->buf);
        r->buf = NULL;
        return -1;
    }
    r->f = NULL;
    free(r->buf);
    r->buf = NULL;
    return 0;
}

#endif /* TERN_BENCH_COMMON_H */
