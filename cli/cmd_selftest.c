/* cmd_selftest.c — `tern selftest`: known ternary products on a device, checked against a scalar
 * oracle, with the cycles and utilisation the device reports for each. */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "commands.h"
#include "report.h"

struct shape {
    uint32_t n, k, t;
    const char *why;
};

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static void help(FILE *f)
{
    fprintf(f, "usage: tern selftest [--backend URI] [--compare URI|none] [--seed N] [--json FILE]\n"
               "  Runs ternary products of awkward and real shapes (GEMV and GEMM) on the device and\n"
               "  compares every int32 accumulator with a scalar oracle and with a second device (the\n"
               "  ref model of the same configuration, by default, for every backend but ref): the\n"
               "  accumulators, compute cycles and ternary adds must be identical. Exit status 0 when\n"
               "  all match.\n"
               "  --backend URI   device to test (default: ref)\n"
               "  --compare URI   device to compare with (default: ref:config=<the device's configuration>;\n"
               "                  'none' for the oracle only)\n"
               "  --seed N        random seed for weights and activations (default 1)\n"
               "  --json FILE     also write the report as JSON ('-': stdout, which then holds\n"
               "                  only the JSON; the report goes to stderr)\n");
}

static void oracle(const uint8_t *codes, const int8_t *act, uint32_t n, uint32_t k, uint32_t t, int32_t *out)
{
    for (uint32_t tt = 0; tt < t; tt++)
        for (uint32_t r = 0; r < n; r++) {
            int64_t acc = 0;
            for (uint32_t c = 0; c < k; c++) {
                uint64_t j = (uint64_t)r * k + c;
                acc += tern_code_get(codes, j) * act[(size_t)tt * k + c];
            }
            out[(size_t)tt * n + r] = (int32_t)acc;
        }
}

/* One product on one device, with the counter deltas it caused. */
static int device_case(tern_dev *dev, const uint8_t *codes, const int8_t *act, const struct shape *s, int32_t *got,
                       struct tern_counters *delta)
{
    struct tern_counters before, after;
    tern_mat *m = NULL;
    int rc = tern_dev_read_counters(dev, &before);

    if (!rc)
        rc = tern_mat_upload(dev, codes, s->n, s->k, &m);
    if (!rc)
        rc = tern_matmul(dev, m, act, s->t, got);
    if (!rc)
        rc = tern_dev_read_counters(dev, &after);
    if (!rc) {
        delta->cycles = after.cycles - before.cycles;
        delta->cyc_compute = after.cyc_compute - before.cyc_compute;
        delta->cyc_pipe = after.cyc_pipe - before.cyc_pipe;
        delta->tern_ops = after.tern_ops - before.tern_ops;
        delta->bytes_in = after.bytes_in - before.bytes_in;
        delta->bytes_out = after.bytes_out - before.bytes_out;
    }
    tern_mat_free(m);
    return rc;
}

static void first_mismatch(const int32_t *got, const int32_t *want, size_t count, uint32_t n, const char *what)
{
    for (size_t i = 0; i < count; i++)
        if (got[i] != want[i]) {
            fprintf(stderr, "  first mismatch: token %zu row %zu: device %d, %s %d\n", i / n, i % n, got[i], what,
                    want[i]);
            return;
        }
}

/* Run one shape on dev (and on cmp, when given: accumulators, compute cycles and ternary adds must
 * be identical); returns 1 when everything matches, 0 when not, negative on a device error. */
static int run_case(tern_dev *dev, tern_dev *cmp, const struct shape *s, uint64_t *seed, struct tern_counters *delta)
{
    uint64_t elems = (uint64_t)s->n * s->k;
    size_t outs = (size_t)s->t * s->n;
    uint8_t *codes = calloc(tern_codes_bytes(elems), 1);
    int8_t *act = malloc((size_t)s->t * s->k);
    int32_t *got = malloc(outs * 4), *want = malloc(outs * 4), *twin = malloc(outs * 4);
    struct tern_counters cd = {0};
    int rc = TERN_E_NOMEM;

    if (!codes || !act || !got || !want || !twin)
        goto out;
    for (uint64_t j = 0; j < elems; j++)
        tern_code_set(codes, j, (int)(splitmix(seed) % 3) - 1);
    for (size_t i = 0; i < (size_t)s->t * s->k; i++)
        act[i] = (int8_t)(splitmix(seed) & 0xFF);
    oracle(codes, act, s->n, s->k, s->t, want);
    rc = device_case(dev, codes, act, s, got, delta);
    if (rc)
        goto out;
    rc = memcmp(got, want, outs * 4) == 0;
    if (!rc)
        first_mismatch(got, want, outs, s->n, "oracle");
    if (cmp) {
        int crc = device_case(cmp, codes, act, s, twin, &cd);
        if (crc) {
            fprintf(stderr, "  comparison device: %s: %s\n", tern_strerror(crc), tern_dev_last_error(cmp));
            rc = crc;
            goto out;
        }
        if (memcmp(got, twin, outs * 4)) {
            first_mismatch(got, twin, outs, s->n, "comparison device");
            rc = 0;
        }
        if (cd.cyc_compute != delta->cyc_compute || cd.tern_ops != delta->tern_ops) {
            fprintf(stderr, "  counters differ from the comparison device: compute cycles %llu vs %llu, ternary "
                            "adds %llu vs %llu\n",
                    (unsigned long long)delta->cyc_compute, (unsigned long long)cd.cyc_compute,
                    (unsigned long long)delta->tern_ops, (unsigned long long)cd.tern_ops);
            rc = 0;
        }
    }
out:
    free(twin);
    free(want);
    free(got);
    free(act);
    free(codes);
    return rc;
}

int cmd_selftest(int argc, char **argv)
{
    static const struct option opts[] = {{"backend", required_argument, 0, 'b'},
                                         {"seed", required_argument, 0, 's'},
                                         {"compare", required_argument, 0, 'c'},
                                         {"json", required_argument, 0, 'j'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *uri = "ref", *json = NULL, *cmp_uri = NULL;
    uint64_t seed = 1;
    char err[512], cmp_buf[64];
    tern_dev *dev, *cmp = NULL;
    int c, rc, failed = 0;
    struct report_file rep;
    FILE *jf;
    struct json_out j;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":b:s:c:j:h", opts, NULL)) != -1) {
        switch (c) {
        case 'b': uri = optarg; break;
        case 'c': cmp_uri = optarg; break;
        case 's':
            if (arg_u64("selftest", "--seed", optarg, 0, 0, UINT64_MAX, "a whole number 0..2^64-1 (or 0x hex)",
                        &seed))
                return 2;
            break;
        case 'j': json = optarg; break;
        case 'h': help(stdout); return 0;
        default: return arg_bad_option("selftest", c, argv);
        }
    }
    if (optind < argc) {
        fprintf(stderr, "tern selftest: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (report_open(&rep, "selftest", json))
        return 1;
    rc = tern_dev_open_ex(uri, &dev, err, sizeof err);
    if (rc) {
        fprintf(stderr, "tern selftest: cannot open '%s': %s: %s\n", uri, tern_strerror(rc), err);
        report_discard(&rep);
        return 1;
    }
    const struct tern_config *cfg = tern_dev_config(dev);
    FILE *out = report_human(json);
    jf = rep.f;
    if (!cmp_uri && strncmp(uri, "ref", 3)) {
        snprintf(cmp_buf, sizeof cmp_buf, "ref:config=%s", cfg->name);
        cmp_uri = cmp_buf;
    }
    if (cmp_uri && strcmp(cmp_uri, "none")) {
        rc = tern_dev_open_ex(cmp_uri, &cmp, err, sizeof err);
        if (rc) {
            fprintf(stderr, "tern selftest: cannot open the comparison device '%s': %s: %s\n", cmp_uri,
                    tern_strerror(rc), err);
            report_discard(&rep);
            tern_dev_close(dev);
            return 1;
        }
    }
    const uint32_t L = cfg->lanes, W = cfg->width;
    const uint32_t big_k = cfg->amem_words * W + W + 3 <= cfg->max_k ? cfg->amem_words * W + W + 3 : cfg->max_k;
    const struct shape shapes[] = {
        {1, 1, 1, "smallest"},
        {L + 1, W + 1, 1, "one past the array"},
        {3 * L - 1, 2 * W + 3, 1, "ragged GEMV"},
        {5, 7, 4, "ragged GEMM"},
        {2 * L + 3, big_k, 1, "K larger than the activation buffer"},
        {L * cfg->omem_words + 5, 2 * W, 2, "N x T larger than the output buffer"},
        {256, 256, 1, "bitllama-3m wq GEMV"},
        {128, 256, 1, "bitllama-3m wk GEMV"},
        {256, 256, 8, "bitllama-3m wq GEMM, 8 tokens"},
    };
    const size_t nshapes = sizeof shapes / sizeof shapes[0];

    report_config_text(out, cfg);
    if (cmp)
        fprintf(out, "comparing with %s\n", cmp_uri);
    if (jf) {
        json_begin(&j, jf);
        json_str(&j, "device", uri);
        json_str(&j, "compare", cmp ? cmp_uri : "none");
        report_config_json(&j, "config", cfg);
        json_array(&j, "cases");
    }
    fprintf(out, "\n%-38s %7s %7s %3s %10s %10s %7s  %s\n", "case", "N", "K", "T", "cycles", "compute", "util",
            "result");
    for (size_t i = 0; i < nshapes; i++) {
        const struct shape *s = &shapes[i];
        struct tern_counters d = {0};
        rc = run_case(dev, cmp, s, &seed, &d);
        double util = d.cycles ? (double)d.tern_ops / ((double)d.cycles * L * W) : 0.0;
        const char *res = rc == 1 ? "match" : rc == 0 ? "MISMATCH" : tern_strerror(rc);
        fprintf(out, "%-38s %7u %7u %3u %10llu %10llu %6.2f%%  %s\n", s->why, s->n, s->k, s->t,
                (unsigned long long)d.cycles, (unsigned long long)d.cyc_compute, 100 * util, res);
        if (rc < 0)
            fprintf(stderr, "  %s\n", tern_dev_last_error(dev));
        if (rc != 1)
            failed++;
        if (jf) {
            json_object(&j, NULL);
            json_str(&j, "case", s->why);
            json_u64(&j, "n", s->n);
            json_u64(&j, "k", s->k);
            json_u64(&j, "t", s->t);
            json_u64(&j, "cycles", d.cycles);
            json_u64(&j, "cyc_compute", d.cyc_compute);
            json_u64(&j, "tern_ops", d.tern_ops);
            json_u64(&j, "bytes_in", d.bytes_in);
            json_u64(&j, "bytes_out", d.bytes_out);
            json_f64(&j, "pe_utilisation", util);
            json_bool(&j, "match", rc == 1);
            json_end_object(&j);
        }
    }
    struct tern_counters total;
    rc = tern_dev_read_counters(dev, &total);
    if (!rc) {
        fprintf(out, "\n");
        report_counters_text(out, &total, cfg);
    }
    fprintf(out, "\n%zu cases: %zu match, %d failed\n", nshapes, nshapes - (size_t)failed, failed);
    if (jf) {
        json_end_array(&j);
        if (!rc)
            report_counters_json(&j, "counters", &total);
        json_u64(&j, "failed", (uint64_t)failed);
        json_finish(&j);
        if (report_close(&rep, "selftest"))
            rc = 1;
    }
    tern_dev_close(cmp);
    tern_dev_close(dev);
    return failed || rc ? 1 : 0;
}
