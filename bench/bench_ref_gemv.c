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

/* Measure one shape: the device's product (weights resident) and the naive loop, each for at least
 * min_s seconds; prints a row and adds it to the report. 0, or 1 when it failed or mismatched. */
static int measure_shape(tern_dev *dev, const struct shape *s, double min_s, uint64_t *seed, FILE *out,
                         struct bench_report *rep)
{
    uint64_t el = (uint64_t)s->n * s->k;
    uint8_t *codes = calloc(tern_codes_bytes(el), 1);
    int8_t *x = malloc(s->k);
    int32_t *y1 = malloc((size_t)s->n * 4), *y2 = malloc((size_t)s->n * 4);
    tern_mat *m = NULL;
    struct tern_tile_stats ts0, ts1;
    int rc = TERN_E_NOMEM, ok = 0;

    if (!codes || !x || !y1 || !y2) {
        fprintf(stderr, "bench_ref_gemv: %s: out of memory\n", s->name);
        goto out;
    }
    for (uint64_t j = 0; j < el; j++)
        tern_code_set(codes, j, (int)(bench_splitmix(seed) % 3) - 1);
    for (uint32_t j = 0; j < s->k; j++)
        x[j] = (int8_t)bench_splitmix(seed);
    rc = tern_mat_upload(dev, codes, s->n, s->k, &m);
    if (!rc)
        rc = tern_mat_prefetch(m);
    if (rc) {
        fprintf(stderr, "bench_ref_gemv: %s: %s\n", s->name, tern_dev_last_error(dev));
        goto out;
    }
    tern_dev_tile_stats(dev, &ts0);
    double t_dev = TIME_IT(min_s, rc |= tern_matmul(dev, m, x, 1, y1));
    tern_dev_tile_stats(dev, &ts1);
    double t_naive = TIME_IT(min_s, naive_gemv(codes, x, s->n, s->k, y2));
    ok = !rc && memcmp(y1, y2, (size_t)s->n * 4) == 0;
    if (rc)
        fprintf(stderr, "bench_ref_gemv: %s: %s\n", s->name, tern_dev_last_error(dev));
    double dev_rate = el / t_dev, naive_rate = el / t_naive;
    int streamed = ts1.tile_uploads != ts0.tile_uploads;
    fprintf(out, "%-18s %-24s %12.3e %12.3e %7.2fx %s%s\n", s->model, s->name, dev_rate, naive_rate,
            dev_rate / naive_rate, ok ? "match" : "MISMATCH", streamed ? " (weights streamed)" : "");
    bench_json_object(rep, NULL);
    bench_json_str(rep, "model", s->model);
    bench_json_str(rep, "layer", s->name);
    bench_json_u64(rep, "n", s->n);
    bench_json_u64(rep, "k", s->k);
    bench_json_num(rep, "device_adds_per_s", dev_rate);
    bench_json_num(rep, "naive_adds_per_s", naive_rate);
    bench_json_num(rep, "ratio", dev_rate / naive_rate);
    bench_json_bool(rep, "match", ok);
    bench_json_bool(rep, "weights_streamed", streamed);
    bench_json_end_object(rep);
out:
    tern_mat_free(m);
    free(codes);
    free(x);
    free(y1);
    free(y2);
    return ok ? 0 : 1;
}

static void help(void)
{
    printf("usage: bench_ref_gemv [--backend URI] [--seconds S] [--json FILE]\n"
           "  Ternary GEMV throughput (ternary adds per second) of the device backend, weights\n"
           "  resident, beside a naive scalar loop over llama2.c-packed codes, measured in the same\n"
           "  run, on the layer shapes of BitNet b1.58 2B4T and bitllama-3m; prints the ratio and\n"
           "  checks that both give the same result.\n"
           "  --backend URI  the device (default ref:config=large)\n"
           "  --seconds S    time each measurement for at least S seconds (default 0.5; 0.001..3600)\n"
           "  --json FILE    also write the results as JSON to FILE; - writes them to stdout alone\n"
           "                 (the table then goes to stderr). A failed run leaves no report.\n");
}

int main(int argc, char **argv)
{
    static const char prog[] = "bench_ref_gemv";
    static const struct option opts[] = {{"backend", required_argument, 0, 'b'},
                                         {"json", required_argument, 0, 'j'},
                                         {"seconds", required_argument, 0, 's'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *uri = "ref:config=large", *json = NULL;
    double min_s = 0.5;
    char err[512];
    tern_dev *dev;
    struct bench_report rep;
    int c, failed = 0;

    opterr = 0;
    while ((c = getopt_long(argc, argv, ":b:j:s:h", opts, NULL)) != -1) {
        switch (c) {
        case 'b': uri = optarg; break;
        case 'j': json = optarg; break;
        case 's':
            if (bench_arg_f64(prog, "--seconds", optarg, 0.001, 3600, "a time from 0.001 to 3600 seconds", &min_s))
                return 2;
            break;
        case 'h': help(); return 0;
        default: return bench_bad_option(prog, c, argv);
        }
    }
    if (bench_no_operands(prog, argc, argv))
        return 2;
    FILE *out = bench_human(json);
    if (bench_report_open(&rep, prog, json))
        return 1;
    if (tern_dev_open_ex(uri, &dev, err, sizeof err)) {
        fprintf(stderr, "bench_ref_gemv: cannot open %s: %s\n", uri, err);
        bench_report_discard(&rep);
        return 1;
    }
    bench_json_str(&rep, "device", uri);
    bench_json_str(&rep, "config", tern_dev_config(dev)->name);
    bench_json_num(&rep, "seconds_per_measurement", min_s);
    bench_json_array(&rep, "results");
    fprintf(out, "ternary GEMV, %s (configuration %s): ternary adds per second, wall clock, one run\n", uri,
            tern_dev_config(dev)->name);
    fprintf(out, "%-18s %-24s %12s %12s %8s %s\n", "model", "layer", "device", "naive", "ratio", "check");
    uint64_t seed = 42;
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0] && !failed; i++)
        failed = measure_shape(dev, &shapes[i], min_s, &seed, out, &rep);
    bench_json_end_array(&rep);
    tern_dev_close(dev);
    if (failed) {
        bench_report_discard(&rep);
        return 1;
    }
    return bench_report_finish(&rep, prog) ? 1 : 0;
}
