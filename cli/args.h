/* args.h — the values of the tern command's options, parsed strictly: an empty value, trailing
 * junk, a sign where none belongs, inf, nan or a number out of range is refused with one line
 * naming the command, the option, the value and what the option wants. */
#ifndef TERN_CLI_ARGS_H
#define TERN_CLI_ARGS_H

#include <stdint.h>

/* Each returns 0 with *out set, or prints "tern CMD: OPT 'S' <problem>; want WANT" to stderr and
 * returns -1 (*out untouched). cmd is e.g. "generate", opt e.g. "--steps". */

/* A whole number in [min, max]: decimal, or hexadecimal after 0x; base 16: hexadecimal digits
 * alone (USB vendor and product ids). */
int arg_u64(const char *cmd, const char *opt, const char *s, int base, uint64_t min, uint64_t max,
            const char *want, uint64_t *out);
/* A decimal whole number, optionally signed, in [min, max]. */
int arg_i64(const char *cmd, const char *opt, const char *s, int64_t min, int64_t max, const char *want,
            int64_t *out);
/* A finite number in [min, max] that is finite as a float too. */
int arg_float(const char *cmd, const char *opt, const char *s, double min, double max, const char *want,
              float *out);

/* What getopt_long returned for a bad option (opterr must be 0, optstring start with ':'): prints
 * "tern CMD: unknown option 'X'" or "tern CMD: option X needs a value" and where help is;
 * returns 2, the exit status for a usage error. */
int arg_bad_option(const char *cmd, int c, char **argv);

#endif /* TERN_CLI_ARGS_H */
