/* report.c — JSON writer and the human and JSON forms of configurations and counters. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report.h"
#include "tern/tern_proto.h"

static void sep(struct json_out *j, const char *key)
{
    if (j->need_comma)
        fputc(',', j->f);
    fputc('\n', j->f);
    for (int i = 0; i < j->depth; i++)
        fputs("  ", j->f);
    if (key) {
        fputc('"', j->f);
        fputs(key, j->f);
        fputs("\": ", j->f);
    }
    j->need_comma = 1;
}

void json_begin(struct json_out *j, FILE *f)
{
    j->f = f;
    j->depth = 0;
    j->need_comma = 0;
    fputc('{', f);
    j->depth = 1;
}

void json_object(struct json_out *j, const char *key)
{
    sep(j, key);
    fputc('{', j->f);
    j->depth++;
    j->need_comma = 0;
}

void json_array(struct json_out *j, const char *key)
{
    sep(j, key);
    fputc('[', j->f);
    j->depth++;
    j->need_comma = 0;
}

static void close_with(struct json_out *j, char c)
{
    j->depth--;
    fputc('\n', j->f);
    for (int i = 0; i < j->depth; i++)
        fputs("  ", j->f);
    fputc(c, j->f);
    j->need_comma = 1;
}

void json_end_object(struct json_out *j)
{
    close_with(j, '}');
}

void json_end_array(struct json_out *j)
{
    close_with(j, ']');
}

/* The length of the well-formed UTF-8 sequence at p, of the avail bytes there (RFC 3629: no
 * overlong forms, no surrogates, nothing past U+10FFFF), or 0. */
static size_t utf8_len(const unsigned char *p, size_t avail)
{
    size_t n;
    unsigned lo = 0x80, hi = 0xBF;

    if (p[0] < 0x80)
        return 1;
    if (p[0] >= 0xC2 && p[0] <= 0xDF)
        n = 2;
    else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
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

void json_strn(struct json_out *j, const char *key, const char *v, size_t n)
{
    const unsigned char *p = (const unsigned char *)v, *end = p + n;

    sep(j, key);
    fputc('"', j->f);
    while (p < end) {
        size_t len = utf8_len(p, (size_t)(end - p));
        if (len == 0) {
            fputs("\\ufffd", j->f); /* JSON is UTF-8: a byte that is not stands for U+FFFD */
            p++;
        } else if (*p == '"' || *p == '\\') {
            fprintf(j->f, "\\%c", *p++);
        } else if (*p < 0x20) {
            fprintf(j->f, "\\u%04x", *p++);
        } else {
            fwrite(p, 1, len, j->f);
            p += len;
        }
    }
    fputc('"', j->f);
}

void json_str(struct json_out *j, const char *key, const char *v)
{
    json_strn(j, key, v, strlen(v));
}

void json_u64(struct json_out *j, const char *key, uint64_t v)
{
    sep(j, key);
    fprintf(j->f, "%llu", (unsigned long long)v);
}

void json_i64(struct json_out *j, const char *key, int64_t v)
{
    sep(j, key);
    fprintf(j->f, "%lld", (long long)v);
}

void json_f64(struct json_out *j, const char *key, double v)
{
    sep(j, key);
    if (isfinite(v))
        fprintf(j->f, "%.17g", v);
    else
        fputs("null", j->f);
}

void json_bool(struct json_out *j, const char *key, int v)
{
    sep(j, key);
    fputs(v ? "true" : "false", j->f);
}

void json_finish(struct json_out *j)
{
    while (j->depth > 0)
        close_with(j, '}');
    fputc('\n', j->f);
}

FILE *report_human(const char *json_path)
{
    return json_path && json_path[0] == '-' && !json_path[1] ? stderr : stdout;
}

int report_open(struct report_file *r, const char *cmd, const char *path)
{
    struct stat st;
    int fd, existed;

    memset(r, 0, sizeof *r);
    r->path = path;
    if (!path)
        return 0;
    if (path[0] == '-' && !path[1]) {
        r->f = stdout;
        return 0;
    }
    existed = lstat(path, &st) == 0;
    if (existed && S_ISDIR(st.st_mode)) {
        fprintf(stderr, "tern %s: --json %s: is a directory (give a file name)\n", cmd, path);
        return -1;
    }
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0 || !(r->f = fdopen(fd, "w"))) {
        fprintf(stderr, "tern %s: --json %s: cannot write the report there: %s\n", cmd, path, strerror(errno));
        if (fd >= 0)
            close(fd);
        if (!existed)
            unlink(path);
        return -1;
    }
    /* a regular file (not a link to one) may be removed again should the run fail */
    r->removable = !existed || S_ISREG(st.st_mode);
    return 0;
}

int report_close(struct report_file *r, const char *cmd)
{
    int bad;

    if (!r->f)
        return 0;
    bad = ferror(r->f);
    if (r->f == stdout)
        bad = fflush(stdout) || bad;
    else
        bad = fclose(r->f) || bad;
    r->f = NULL;
    if (bad) {
        fprintf(stderr, "tern %s: --json %s: writing the report failed: %s\n", cmd, r->path, strerror(errno));
        return -1;
    }
    return 0;
}

void report_discard(struct report_file *r)
{
    if (!r->f || r->f == stdout) {
        r->f = NULL;
        return;
    }
    fclose(r->f);
    r->f = NULL;
    if (r->removable)
        unlink(r->path);
}

void report_config_text(FILE *f, const struct tern_config *c)
{
    fprintf(f, "configuration %s (%s backend), protocol %u, hardware revision %u\n", c->name,
            c->backend ? "reference model" : "RTL", c->proto_version, c->hw_revision);
    fprintf(f, "  array        %u lanes x %u inputs = %u ternary adds a cycle, %u-bit accumulators, max K %u\n",
            c->lanes, c->width, c->lanes * c->width, c->acc_width, c->max_k);
    fprintf(f, "  weight mem   %u words x %u bytes = %u KiB\n", c->wmem_words, c->lanes * c->width / 4,
            (unsigned)((uint64_t)c->wmem_words * c->lanes * c->width / 4 / 1024));
    fprintf(f, "  act buffer   %u words x %u bytes\n", c->amem_words, c->width);
    fprintf(f, "  out buffer   %u words x %u accumulators\n", c->omem_words, c->lanes);
    fprintf(f, "  link         %s, %u bytes/s, frames up to %u payload bytes\n", tern_link_kind_name((int)c->link_kind),
            c->link_bytes_per_s, c->max_payload);
    fprintf(f, "  clock        %.1f MHz, RUN pipeline %u + %u cycles\n", c->clock_hz / 1e6, c->run_setup,
            c->run_drain);
}

void report_config_json(struct json_out *j, const char *key, const struct tern_config *c)
{
    json_object(j, key);
    json_str(j, "name", c->name);
    json_str(j, "backend", c->backend ? "ref" : "rtl");
    json_u64(j, "proto_version", c->proto_version);
    json_u64(j, "hw_revision", c->hw_revision);
    json_u64(j, "lanes", c->lanes);
    json_u64(j, "width", c->width);
    json_u64(j, "acc_width", c->acc_width);
    json_u64(j, "max_k", c->max_k);
    json_u64(j, "wmem_words", c->wmem_words);
    json_u64(j, "amem_words", c->amem_words);
    json_u64(j, "omem_words", c->omem_words);
    json_u64(j, "max_payload", c->max_payload);
    json_u64(j, "clock_hz", c->clock_hz);
    json_str(j, "link", tern_link_kind_name((int)c->link_kind));
    json_u64(j, "link_bytes_per_s", c->link_bytes_per_s);
    json_u64(j, "run_setup", c->run_setup);
    json_u64(j, "run_drain", c->run_drain);
    json_end_object(j);
}

void report_counters_text(FILE *f, const struct tern_counters *c, const struct tern_config *cfg)
{
    double util = c->cycles ? (double)c->tern_ops / ((double)c->cycles * cfg->lanes * cfg->width) : 0.0;

    fprintf(f, "counters (simulated device cycles; modelled for ref):\n");
    for (int i = 0; i < TERN_NUM_COUNTERS; i++)
        fprintf(f, "  %-13s %llu\n", tern_counter_name(i), (unsigned long long)tern_counter_get(c, i));
    fprintf(f, "  PE utilisation over all counted cycles: %.2f%%\n", 100.0 * util);
}

void report_counters_json(struct json_out *j, const char *key, const struct tern_counters *c)
{
    json_object(j, key);
    for (int i = 0; i < TERN_NUM_COUNTERS; i++)
        json_u64(j, tern_counter_name(i), tern_counter_get(c, i));
    json_end_object(j);
}
