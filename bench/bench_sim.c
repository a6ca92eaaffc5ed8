/* bench_sim.c — the RTL under Verilator against the ref model on the same products: PE utilisation
 * (ideal / measured cycles) for GEMV and GEMM on real layer shapes per configuration, simulated
 * cycles per wall-clock second, and the sim/ref wall-time ratio, all from one run. */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_common.h"
#include "tern/tern.h"

struct shape {
    const char *model, *layer;
    uint32_t n, k;
};

static const struct shape shapes[] = {
    {"bitllama-3m", "wq/wo/w1/w3 256x256", 256, 256},
    {"bitllama-3m", "wk/wv 128x256", 128, 256},
    {"bitnet-b1.58-2b4t", "wq/wo 2560x2560", 2560, 2560},
    {"bitnet-b1.58-2b4t", "w1/w3 6912x2560", 6912, 2560},
    {"bitnet-b1.58-2b4t", "w2 2560x6912", 2560, 6912},
};

struct measure {
    double seconds;
    uint32_t lw; /* ternary adds the array does a cycle */
    int streamed; /* the matrix did not fit in WMEM: its upload is part of the product */
    struct tern_counters d; /* counter deltas of the product alone (weights resident) */
    int32_t *out;
};

static int measure(const char *uri, const uint8_t *codes, const struct shape *s, const int8_t *act, uint32_t t,
                   struct measure *m)
{
    char err[512];
    tern_dev *dev;
    tern_mat *mat = NULL;
    struct tern_counters a, b;
    int rc = tern_dev_open_ex(uri, &dev, err, sizeof err);

    if (rc) {
        fprintf(stderr, "bench_sim: %s: %s\n", uri, err);
        return rc;
    }
    m->lw = tern_dev_config(dev)->lanes * tern_dev_config(dev)->width;
    rc = tern_mat_upload(dev, codes, s->n, s->k, &mat);
    m->streamed = 0;
    if (!rc) {
        rc = tern_mat_prefetch(mat);
        if (rc == TERN_E_NOFIT) { /* larger than WMEM: the product streams its tiles, and they count */
            m->streamed = 1;
            rc = TERN_OK;
        }
    }
    if (!rc)
        rc = tern_dev_read_counters(dev, &a);
    double t0 = bench_now();
    if (!rc)
        rc = tern_matmul(dev, mat, act, t, m->out);
    m->seconds = bench_now() - t0;
    if (!rc)
        rc = tern_dev_read_counters(dev, &b);
    if (rc)
        fprintf(stderr, "bench_sim: %s: %s\n", uri, tern_dev_last_error(dev));
    memset(&m->d, 0, sizeof m->d);
    if (!rc) {
        m->d.cycles = b.cycles - a.cycles;
        m->d.cyc_compute = b.cyc_compute - a.cyc_compute;
        m->d.cyc_pipe = b.cyc_pipe - a.cyc_pipe;
        m->d.tern_ops = b.tern_ops - a.tern_ops;
        m->d.bytes_in = b.bytes_in - a.bytes_in;
        m->d.bytes_out = b.bytes_out - a.bytes_out;
    }
    tern_mat_free(mat);
    tern_dev_close(dev);
    return rc;
}

/* One shape with t tokens on ref and on sim: prints a row and adds it to the report. Returns 0 when
 * both ran and agree, 1 when they differ, -1 when a device could not run it (row "unavailable"). */
static int measure_row(const char *cfg, size_t i, uint32_t t, FILE *out, struct bench_report *rep)
{
    const struct shape *s = &shapes[i];
    uint64_t seed = 7 + i, el = (uint64_t)s->n * s->k;
    uint8_t *codes = calloc(tern_codes_bytes(el), 1);
    int8_t *act = malloc((size_t)t * s->k);
    struct measure r = {0}, m = {0};
    char uri_s[96], uri_r[96];
    int ok = 0, same = 0;

    r.out = malloc((size_t)t * s->n * 4);
    m.out = malloc((size_t)t * s->n * 4);
    if (!codes || !act || !r.out || !m.out) {
        fprintf(stderr, "bench_sim: %s: out of memory\n", s->layer);
        goto out;
    }
    for (uint64_t j = 0; j < el; j++)
        tern_code_set(codes, j, (int)(bench_splitmix(&seed) % 3) - 1);
    for (size_t j = 0; j < (size_t)t * s->k; j++)
        act[j] = (int8_t)bench_splitmix(&seed);
    snprintf(uri_s, sizeof uri_s, "sim:config=%s", cfg);
    snprintf(uri_r, sizeof uri_r, "ref:config=%s", cfg);
    ok = !measure(uri_r, codes, s, act, t, &r) && !measure(uri_s, codes, s, act, t, &m);
    same = ok && !memcmp(r.out, m.out, (size_t)t * s->n * 4) && r.d.cycles == m.d.cycles &&
           r.d.cyc_compute == m.d.cyc_compute;
    if (!ok) {
        fprintf(out, "%-8s %-32s %3u unavailable\n", cfg, s->layer, t);
        goto out;
    }
    double ideal = (double)m.d.tern_ops / m.lw; /* cycles of a perfectly busy array */
    double util_run = ideal / (double)(m.d.cyc_compute + m.d.cyc_pipe);
    double util_all = ideal / (double)m.d.cycles;
    double cps = m.d.cycles / m.seconds, ratio = m.seconds / r.seconds;
    fprintf(out, "%-8s %-32s %3u %8llu %8.1f%% %8.1f%% %8.3f %12.3g %8.0fx %s%s\n", cfg, s->layer, t,
            (unsigned long long)m.d.cycles, 100 * util_run, 100 * util_all, m.seconds, cps, ratio,
            same ? "identical" : "DIFFERENT", m.streamed ? " (weights streamed)" : "");
    fflush(out);
    bench_json_object(rep, NULL);
    bench_json_str(rep, "config", cfg);
    bench_json_str(rep, "model", s->model);
    bench_json_str(rep, "layer", s->layer);
    bench_json_u64(rep, "n", s->n);
    bench_json_u64(rep, "k", s->k);
    bench_json_u64(rep, "t", t);
    bench_json_u64(rep, "cycles", m.d.cycles);
    bench_json_u64(rep, "compute_cycles", m.d.cyc_compute);
    bench_json_num(rep, "ideal_cycles", ideal);
    bench_json_num(rep, "pe_utilisation_run", util_run);
    bench_json_num(rep, "pe_utilisation_all", util_all);
    bench_json_num(rep, "sim_seconds", m.seconds);
    bench_json_num(rep, "ref_seconds", r.seconds);
    bench_json_num(rep, "sim_cycles_per_s", cps);
    bench_json_num(rep, "sim_over_ref", ratio);
    bench_json_bool(rep, "identical", same);
    bench_json_bool(rep, "weights_streamed", m.streamed);
    bench_json_end_object(rep);
out:
    free(codes);
    free(act);
    free(r.out);
    free(m.out);
    return !ok ? -1 : !same;
}

/* Split --configs into at most max names (in buf), each one the ref backend knows. n, or -1. */
static int parse_configs(const char *prog, const char *list, char *buf, size_t buflen, char **names, int max)
{
    int n = 0;

    if (!*list)
        return bench_refuse(prog, "--configs", list, "", "names separated by commas, e.g. tiny,default");
    if (strlen(list) >= buflen) {
        fprintf(stderr, "%s: --configs '%.40s...' is too long; want a few names, e.g. tiny,default\n", prog, list);
        return -1;
    }
    snprintf(buf, buflen, "%s", list);
    for (char *p = buf, *comma;; p = comma + 1) {
        comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        if (!*p) {
            fprintf(stderr, "%s: --configs '%s' has an empty name; want names separated by commas, e.g. "
                            "tiny,default\n", prog, list);
            return -1;
        }
        if (n == max) {
            fprintf(stderr, "%s: --configs '%s' has more than %d names\n", prog, list, max);
            return -1;
        }
        if (bench_arg_config(prog, "--configs", p))
            return -1;
        names[n++] = p;
        if (!comma)
            return n;
    }
}

static void help(void)
{
    printf("usage: bench_sim [--configs a,b,c] [--quick] [--json FILE]\n"
           "  The RTL under Verilator against the ref model: for each configuration and layer shape\n"
           "  (bitllama-3m, BitNet b1.58 2B4T), one GEMV and one 8-token GEMM on sim and on ref, weights\n"
           "  resident: PE utilisation (ideal / measured cycles), simulated cycles per wall-clock\n"
           "  second and the sim/ref wall-time ratio, measured in one run; checks that both give the\n"
           "  same products and cycle counts.\n"
           "  --configs LIST  configurations, comma-separated (default tiny,default,large)\n"
           "  --quick         leave out the BitNet b1.58 2B4T shapes\n"
           "  --json FILE     also write the results as JSON to FILE; - writes them to stdout alone\n"
           "                  (the table then goes to stderr). A failed run leaves no report.\n");
}

int main(int argc, char **argv)
{
    static const char prog[] = "bench_sim";
    static const struct option opts[] = {{"configs", required_argument, 0, 'c'}, {"quick", no_argument, 0, 'q'},
                                         {"json", required_argument, 0, 'j'},    {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *configs = "tiny,default,large", *json = NULL;
    int quick = 0, c, failed = 0, measured = 0, nconf;
    char list[256], *names[16];
    struct bench_report rep;

    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': configs = optarg; break;
        case 'q': quick = 1; break;
        case 'j': json = optarg; break;
        case 'h': help(); return 0;
        default: return bench_bad_option(prog, c, argv);
        }
    }
    if (bench_no_operands(prog, argc, argv))
        return 2;
    nconf = parse_configs(prog, configs, list, sizeof list, names, 16);
    if (nconf < 0)
        return 2;
    FILE *out = bench_human(json);
    if (bench_report_open(&rep, prog, json))
        return 1;
    bench_json_array(&rep, "results");
    fprintf(out, "%-8s %-32s %3s %8s %9s %9s %8s %12s %9s %s\n", "config", "layer", "T", "cycles", "util_run",
            "util_all", "sim_s", "sim_cycles/s", "sim/ref", "check");
    for (int ci = 0; ci < nconf; ci++)
        for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
            for (uint32_t t = 1; t <= 8 && !(quick && shapes[i].n > 1024); t += 7) {
                int rc = measure_row(names[ci], i, t, out, &rep);
                measured += rc >= 0;
                failed += rc > 0;
            }
    bench_json_end_array(&rep);
    if (!measured)
        fprintf(stderr, "bench_sim: nothing could be measured (the reasons are above)\n");
    if (failed || !measured) {
        bench_report_discard(&rep);
        return 1;
    }
    return bench_report_finish(&rep, prog) ? 1 : 0;
}
