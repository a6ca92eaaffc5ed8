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

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"configs", required_argument, 0, 'c'}, {"quick", no_argument, 0, 'q'},
                                         {"json", required_argument, 0, 'j'},    {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *configs = "tiny,default,large", *json = NULL;
    int quick = 0, c, failed = 0, first = 1;
    FILE *jf = NULL;

    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': configs = optarg; break;
        case 'q': quick = 1; break;
        case 'j': json = optarg; break;
        case 'h':
            printf("usage: bench_sim [--configs a,b,c] [--quick] [--json FILE]\n"
                   "  For each configuration and layer shape, one GEMV and one 8-token GEMM on sim and on ref\n"
                   "  (weights resident): PE utilisation, simulated cycles per second, sim/ref wall ratio.\n"
                   "  --quick leaves out the BitNet b1.58 2B4T shapes.\n");
            return 0;
        default: return 2;
        }
    }
    if (json && !(jf = fopen(json, "w"))) {
        perror(json);
        return 1;
    }
    if (jf)
        fprintf(jf, "{\n  \"results\": [");
    printf("%-8s %-32s %3s %8s %9s %9s %8s %12s %9s %s\n", "config", "layer", "T", "cycles", "util_run", "util_all",
           "sim_s", "sim_cycles/s", "sim/ref", "check");
    char list[256];
    snprintf(list, sizeof list, "%s", configs);
    for (char *save = NULL, *cfg = strtok_r(list, ",", &save); cfg; cfg = strtok_r(NULL, ",", &save)) {
        for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
            const struct shape *s = &shapes[i];
            if (quick && s->n > 1024)
                continue;
            for (uint32_t t = 1; t <= 8; t += 7) {
                uint64_t seed = 7 + i, el = (uint64_t)s->n * s->k;
                uint8_t *codes = calloc(tern_codes_bytes(el), 1);
                int8_t *act = malloc((size_t)t * s->k);
                struct measure r = {0}, m = {0};
                char uri_s[64], uri_r[64];
                r.out = malloc((size_t)t * s->n * 4);
                m.out = malloc((size_t)t * s->n * 4);
                for (uint64_t j = 0; j < el; j++)
                    tern_code_set(codes, j, (int)(bench_splitmix(&seed) % 3) - 1);
                for (size_t j = 0; j < (size_t)t * s->k; j++)
                    act[j] = (int8_t)bench_splitmix(&seed);
                snprintf(uri_s, sizeof uri_s, "sim:config=%s", cfg);
                snprintf(uri_r, sizeof uri_r, "ref:config=%s", cfg);
                int ok = !measure(uri_r, codes, s, act, t, &r) && !measure(uri_s, codes, s, act, t, &m);
                int same = ok && !memcmp(r.out, m.out, (size_t)t * s->n * 4) && r.d.cycles == m.d.cycles &&
                           r.d.cyc_compute == m.d.cyc_compute;
                if (ok) {
                    double ideal = (double)m.d.tern_ops / m.lw; /* cycles of a perfectly busy array */
                    double util_run = ideal / (double)(m.d.cyc_compute + m.d.cyc_pipe);
                    double util_all = ideal / (double)m.d.cycles;
                    double cps = m.d.cycles / m.seconds, ratio = m.seconds / r.seconds;
                    printf("%-8s %-32s %3u %8llu %8.1f%% %8.1f%% %8.3f %12.3g %8.0fx %s%s\n", cfg, s->layer, t,
                           (unsigned long long)m.d.cycles, 100 * util_run, 100 * util_all, m.seconds, cps, ratio,
                           same ? "identical" : "DIFFERENT", m.streamed ? " (weights streamed)" : "");
                    if (jf)
                        fprintf(jf,
                                "%s\n    {\"config\": \"%s\", \"model\": \"%s\", \"layer\": \"%s\", \"n\": %u, \"k\": %u, "
                                "\"t\": %u, \"cycles\": %llu, \"compute_cycles\": %llu, \"ideal_cycles\": %.1f, "
                                "\"pe_utilisation_run\": %.6f, \"pe_utilisation_all\": %.6f, \"sim_seconds\": %.6f, "
                                "\"ref_seconds\": %.6f, \"sim_cycles_per_s\": %.1f, \"sim_over_ref\": %.2f, "
                                "\"identical\": %s, \"weights_streamed\": %s}",
                                first ? "" : ",", cfg, s->model, s->layer, s->n, s->k, t,
                                (unsigned long long)m.d.cycles, (unsigned long long)m.d.cyc_compute, ideal, util_run,
                                util_all, m.seconds, r.seconds, cps, ratio, same ? "true" : "false",
                                m.streamed ? "true" : "false");
                    first = 0;
                    fflush(stdout);
                } else {
                    printf("%-8s %-32s %3u unavailable\n", cfg, s->layer, t);
                }
                failed += ok && !same;
                free(codes);
                free(act);
                free(r.out);
                free(m.out);
            }
        }
    }
    if (jf) {
        fprintf(jf, "\n  ]\n}\n");
        fclose(jf);
    }
    return failed ? 1 : 0;
}
