/* bench_ref_gemv.c — throughput of the ref backend's ternary GEMV (through the whole protocol
 * stack, weights resident) beside a naive scalar loop over llama2.c-packed codes, in one run. */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_common.h"
#include "tern/tern.h"

struct shape {
    const char *model, *name;
    uint32_t n, k;
};

static const struct shape shapes[] = {
    {"bitnet-b1.58-2b4t", "attn q/o 2560x2560", 2560, 2560},
    {"bitnet-b1.58-2b4t", "ffn up/gate 6912x2560", 6912, 2560},
    {"bitnet-b1.58-2b4t", "ffn down 2560x6912", 2560, 6912},
    {"bitllama-3m", "attn q/o, ffn 256x256", 256, 256},
    {"bitllama-3m", "attn k/v 128x256", 128, 256},
};

/* The naive loop: decode every 2-bit code on the fly and multiply-add. */
static void naive_gemv(const uint8_t *codes, const int8_t *x, uint32_t n, uint32_t k, int32_t *y)
{
    for (uint32_t r = 0; r < n; r++) {
        int32_t acc = 0;
        for (uint32_t c = 0; c < k; c++) {
            uint64_t j = (uint64_t)r * k + c;
            int code = (codes[j / 4] >> (2 * (j % 4))) & 3;
            int w = code == 1 ? 1 : code == 3 ? -1 : 0;
            acc += w * x[c];
        }
        y[r] = acc;
    }
}

/* Repeat fn until at least min_s seconds pass; returns seconds per call. */
#define TIME_IT(min_s, stmt)                                                                                        \
    ({                                                                                                                \
        double t0_ = bench_now(), t_;                                                                                       \
        long reps_ = 0;                                                                                               \
        do {                                                                                                          \
            stmt;                                                                                                     \
            reps_++;                                                                                                  \
        } while ((t_ = bench_now() - t0_) < (min_s));                                                                      \
        t_ / reps_;                                                                                                   \
    })

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"backend", required_argument, 0, 'b'},
                                         {"json", required_argument, 0, 'j'},
                                         {"seconds", required_argument, 0, 's'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *uri = "ref:config=large", *json = NULL;
    double min_s = 0.5;
    char err[512];
    tern_dev *dev;
    FILE *jf = NULL;
    int c, rc;

    while ((c = getopt_long(argc, argv, "b:j:s:h", opts, NULL)) != -1) {
        switch (c) {
        case 'b': uri = optarg; break;
        case 'j': json = optarg; break;
        case 's': min_s = atof(optarg); break;
        case 'h':
            printf("usage: bench_ref_gemv [--backend URI] [--seconds S] [--json FILE]\n"
                   "  Ternary GEMV throughput (ternary adds per second) of the device backend, weights\n"
                   "  resident, beside a naive scalar loop, measured in the same run; prints the ratio.\n"
                   "  --backend URI  default ref:config=large    --seconds S  time per measurement (0.5)\n");
            return 0;
        default: return 2;
        }
    }
    rc = tern_dev_open_ex(uri, &dev, err, sizeof err);
    if (rc) {
        fprintf(stderr, "bench_ref_gemv: cannot open %s: %s\n", uri, err);
        return 1;
    }
    if (json) {
        jf = fopen(json, "w");
        if (!jf) {
            perror(json);
            return 1;
        }
        fprintf(jf, "{\n  \"device\": \"%s\",\n  \"results\": [", uri);
    }
    printf("ternary GEMV, %s (configuration %s): ternary adds per second, wall clock, one run\n", uri,
           tern_dev_config(dev)->name);
    printf("%-18s %-24s %12s %12s %8s %s\n", "model", "layer", "device", "naive", "ratio", "check");
    uint64_t seed = 42;
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        const struct shape *s = &shapes[i];
        uint64_t el = (uint64_t)s->n * s->k;
        uint8_t *codes = calloc(tern_codes_bytes(el), 1);
        int8_t *x = malloc(s->k);
        int32_t *y1 = malloc((size_t)s->n * 4), *y2 = malloc((size_t)s->n * 4);
        tern_mat *m = NULL;
        struct tern_tile_stats ts0, ts1;

        if (!codes || !x || !y1 || !y2)
            return 1;
        for (uint64_t j = 0; j < el; j++)
            tern_code_set(codes, j, (int)(bench_splitmix(&seed) % 3) - 1);
        for (uint32_t j = 0; j < s->k; j++)
            x[j] = (int8_t)bench_splitmix(&seed);
        rc = tern_mat_upload(dev, codes, s->n, s->k, &m);
        if (!rc)
            rc = tern_mat_prefetch(m);
        if (rc) {
            fprintf(stderr, "%s: %s\n", s->name, tern_dev_last_error(dev));
            return 1;
        }
        tern_dev_tile_stats(dev, &ts0);
        double t_dev = TIME_IT(min_s, rc |= tern_matmul(dev, m, x, 1, y1));
        tern_dev_tile_stats(dev, &ts1);
        double t_naive = TIME_IT(min_s, naive_gemv(codes, x, s->n, s->k, y2));
        int ok = !rc && memcmp(y1, y2, (size_t)s->n * 4) == 0;
        double dev_rate = el / t_dev, naive_rate = el / t_naive;
        printf("%-18s %-24s %12.3e %12.3e %7.2fx %s%s\n", s->model, s->name, dev_rate, naive_rate,
               dev_rate / naive_rate, ok ? "match" : "MISMATCH",
               ts1.tile_uploads != ts0.tile_uploads ? " (weights streamed)" : "");
        if (jf)
            fprintf(jf,
                    "%s\n    {\"model\": \"%s\", \"layer\": \"%s\", \"n\": %u, \"k\": %u, \"device_adds_per_s\": %.6g, "
                    "\"naive_adds_per_s\": %.6g, \"ratio\": %.4f, \"match\": %s, \"weights_streamed\": %s}",
                    i ? "," : "", s->model, s->name, s->n, s->k, dev_rate, naive_rate, dev_rate / naive_rate,
                    ok ? "true" : "false", ts1.tile_uploads != ts0.tile_uploads ? "true" : "false");
        tern_mat_free(m);
        free(codes);
        free(x);
        free(y1);
        free(y2);
        if (!ok)
            return 1;
    }
    if (jf) {
        fprintf(jf, "\n  ]\n}\n");
        fclose(jf);
    }
    tern_dev_close(dev);
    return 0;
}
