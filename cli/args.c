/* args.c — strict parsing of option values for the tern command (args.h). */
#include "args.h"

#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int refuse(const char *cmd, const char *opt, const char *s, const char *problem, const char *want)
{
    if (!*s)
        fprintf(stderr, "tern %s: %s needs a value: %s\n", cmd, opt, want);
    else
        fprintf(stderr, "tern %s: %s '%s' %s; want %s\n", cmd, opt, s, problem, want);
    return -1;
}

/* The problem with the characters left after a number, or NULL when there are none. */
static const char *junk(const char *s, const char *end)
{
    if (end == s)
        return "is not a number";
    if (*end)
        return "has characters after the number";
    return NULL;
}

int arg_u64(const char *cmd, const char *opt, const char *s, int base, uint64_t min, uint64_t max,
            const char *want, uint64_t *out)
{
    const char *p = s, *problem;
    char *end;
    unsigned long long v;

    if (!*s)
        return refuse(cmd, opt, s, "", want);
    if (*s == '-')
        return refuse(cmd, opt, s, "is negative", want);
    if (!isxdigit((unsigned char)*s))
        return refuse(cmd, opt, s, "is not a whole number", want);
    if (base == 0) {
        base = 10;
        if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
            p += 2;
            base = 16;
            if (!isxdigit((unsigned char)*p))
                return refuse(cmd, opt, s, "is not a whole number", want);
        }
    }
    errno = 0;
    v = strtoull(p, &end, base);
    if ((problem = junk(p, end)))
        return refuse(cmd, opt, s, problem, want);
    if (errno == ERANGE || v > max)
        return refuse(cmd, opt, s, "is too large", want);
    if (v < min)
        return refuse(cmd, opt, s, "is too small", want);
    *out = v;
    return 0;
}

int arg_i64(const char *cmd, const char *opt, const char *s, int64_t min, int64_t max, const char *want,
            int64_t *out)
{
    const char *problem;
    char *end;
    long long v;

    if (!*s)
        return refuse(cmd, opt, s, "", want);
    if (!isdigit((unsigned char)*s) && !((*s == '-' || *s == '+') && isdigit((unsigned char)s[1])))
        return refuse(cmd, opt, s, "is not a whole number", want);
    errno = 0;
    v = strtoll(s, &end, 10);
    if ((problem = junk(s, end)))
        return refuse(cmd, opt, s, problem, want);
    if ((errno == ERANGE && v > 0) || v > max)
        return refuse(cmd, opt, s, "is too large", want);
    if (errno == ERANGE || v < min)
        return refuse(cmd, opt, s, v < 0 && min >= 0 ? "is negative" : "is too small", want);
    *out = v;
    return 0;
}

int arg_float(const char *cmd, const char *opt, const char *s, double min, double max, const char *want,
              float *out)
{
    const char *problem;
    char *end;
    double v;

    if (!*s)
        return refuse(cmd, opt, s, "", want);
    if (isspace((unsigned char)*s))
        return refuse(cmd, opt, s, "is not a number", want);
    errno = 0; /* ERANGE on underflow is fine: the value is then as near 0 as a double goes */
    v = strtod(s, &end);
    if ((problem = junk(s, end)))
        return refuse(cmd, opt, s, problem, want);
    if (isnan(v))
        return refuse(cmd, opt, s, "is not a number (NaN)", want);
    if (isinf(v))
        return refuse(cmd, opt, s, "is infinite", want);
    if (v < min)
        return refuse(cmd, opt, s, v < 0 && min >= 0 ? "is negative" : "is too small", want);
    if (v > max || fabs(v) > FLT_MAX)
        return refuse(cmd, opt, s, "is too large", want);
    *out = v == 0.0 ? 0.0f : (float)v; /* -0 reads as 0 */
    return 0;
}

int arg_bad_option(const char *cmd, int c, char **argv)
{
    const char *arg = optind > 0 ? argv[optind - 1] : "?";

    if (c == ':')
        fprintf(stderr, "tern %s: option '%s' needs a value\n", cmd, arg);
    else if (optopt && strncmp(arg, "--", 2))
        fprintf(stderr, "tern %s: unknown option '-%c'\n", cmd, optopt);
    else
        fprintf(stderr, "tern %s: unknown option '%s'\n", cmd, arg);
    fprintf(stderr, "(tern %s --help lists the options)\n", cmd);
    return 2;
}
