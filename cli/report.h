/* report.h — machine-readable reports of the tern command: a small streaming JSON writer. */
#ifndef TERN_CLI_REPORT_H
#define TERN_CLI_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "tern/tern.h"

struct json_out {
    FILE *f;
    int depth;
    int need_comma;
};

void json_begin(struct json_out *j, FILE *f);
void json_object(struct json_out *j, const char *key); /* key NULL inside arrays / at top */
void json_array(struct json_out *j, const char *key);
void json_end_object(struct json_out *j);
void json_end_array(struct json_out *j);
void json_str(struct json_out *j, const char *key, const char *v);
/* n bytes that may hold NULs and invalid UTF-8 (each byte that is not UTF-8 becomes U+FFFD). */
void json_strn(struct json_out *j, const char *key, const char *v, size_t n);
void json_u64(struct json_out *j, const char *key, uint64_t v);
void json_i64(struct json_out *j, const char *key, int64_t v);
void json_f64(struct json_out *j, const char *key, double v);
void json_bool(struct json_out *j, const char *key, int v);
void json_finish(struct json_out *j); /* newline */

/* Where the human report goes: stdout, or stderr when the JSON report goes to stdout ("-"), so
 * that stdout then holds nothing but the JSON. */
FILE *report_human(const char *json_path);
/* The JSON report file of a command. */
struct report_file {
    FILE *f;        /* NULL: no report */
    const char *path;
    int removable;  /* a regular file this command emptied or created */
};

/* Open the JSON report before the work starts, so that a path that cannot be written fails at
 * once: NULL path is no report, "-" is stdout, anything else is created or emptied now (a FIFO
 * or /dev/null works too). Prints "tern CMD: --json PATH: <reason>" and returns -1 on failure. */
int report_open(struct report_file *r, const char *cmd, const char *path);
/* Finish writing (nothing to do without a report); prints the reason and returns -1 on failure. */
int report_close(struct report_file *r, const char *cmd);
/* The run failed: close and remove the file (a regular file only: never a device or a FIFO), so
 * that no half-written or stale report is left. Safe after report_close or without a report. */
void report_discard(struct report_file *r);

/* Shared report pieces. */
void report_config_text(FILE *f, const struct tern_config *c);
void report_config_json(struct json_out *j, const char *key, const struct tern_config *c);
void report_counters_text(FILE *f, const struct tern_counters *c, const struct tern_config *cfg);
void report_counters_json(struct json_out *j, const char *key, const struct tern_counters *c);

#endif /* TERN_CLI_REPORT_H */
