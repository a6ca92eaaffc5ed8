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
/* Open a JSON report file ("-" is stdout); prints the reason and returns NULL on failure. */
FILE *report_open(const char *path);
/* Close what report_open opened (stdout is left open); returns 0, or -1 if writing failed. */
int report_close(FILE *f);

/* Shared report pieces. */
void report_config_text(FILE *f, const struct tern_config *c);
void report_config_json(struct json_out *j, const char *key, const struct tern_config *c);
void report_counters_text(FILE *f, const struct tern_counters *c, const struct tern_config *cfg);
void report_counters_json(struct json_out *j, const char *key, const struct tern_counters *c);

#endif /* TERN_CLI_REPORT_H */
