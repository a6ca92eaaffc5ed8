/* bench_usb.c — the USB link: throughput and round-trip latency of the driver through whatever
 * board it finds (the virtual board's loopback engine measures the libusb + usbdevfs path alone),
 * then the projection of bitllama-3m tokens/s onto real links (UART at the configured baud rate,
 * FT2232H FIFO, FT601) from the per-token device cycles and link bytes a run reports.
 *   tern vboard --engine loopback --config default -- build/bench/bench_usb [--mb N] [--json F]
 *   build/bench/bench_usb --projection-only --model M.bin        (no board needed) */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_common.h"
#include "tern/tern_llm.h"
#include "tern/tern_model.h"
#include "tern/tern_usb.h"

struct link_result {
    int ok;
    char chip[16];
    double mb_per_s, rtt_median_ms, rtt_p90_ms;
    uint64_t bytes;
};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Echo traffic: write a block, read the same number of bytes back, compare. */
static int echo(tern_usb_dev *d, const uint8_t *out, uint8_t *in, size_t n, char *err, size_t errlen)
{
    size_t have = 0;
    int rc = tern_usb_write(d, out, n, 5000, err, errlen);

    while (!rc && have < n) {
        size_t got = 0;
        rc = tern_usb_read(d, in + have, n - have, &got, 5000, err, errlen);
        if (!rc && !got) {
            snprintf(err, errlen, "echo: %zu of %zu bytes came back", have, n);
            return TERN_E_TIMEOUT;
        }
        have += got;
    }
    if (!rc && memcmp(out, in, n)) {
        snprintf(err, errlen, "echo: the bytes that came back differ from those sent");
        return TERN_E_IO;
    }
    return rc;
}

static void link_bench(double mb, struct link_result *r)
{
    struct tern_usb_match m = TERN_USB_MATCH_ANY;
    const size_t chunk = 65536;
    enum { RTT_N = 200 };
    double rtt[RTT_N];
    uint8_t *out = malloc(chunk), *in = malloc(chunk);
    char err[512];
    tern_usb *ctx = NULL;
    tern_usb_dev *d = NULL;
    uint64_t seed = 7;
    int rc;

    memset(r, 0, sizeof *r);
    if (!out || !in)
        goto done;
    for (size_t i = 0; i < chunk; i++)
        out[i] = (uint8_t)bench_splitmix(&seed);
    rc = tern_usb_new(&ctx, err, sizeof err);
    if (!rc)
        rc = tern_usb_open(ctx, &m, NULL, &d, err, sizeof err);
    if (rc) {
        fprintf(stderr, "bench_usb: no board to measure the link with (%s: %s);\n"
                        "  run under `tern vboard --engine loopback -- build/bench/bench_usb`, or pass\n"
                        "  --projection-only\n",
                tern_strerror(rc), err);
        goto done;
    }
    snprintf(r->chip, sizeof r->chip, "%s", tern_usb_dev_info(d)->chip);
    /* throughput: echo chunk after chunk */
    uint64_t total = (uint64_t)(mb * 1e6);
    double t0 = bench_now();
    for (uint64_t moved = 0; moved < total; moved += chunk) {
        rc = echo(d, out, in, chunk, err, sizeof err);
        if (rc) {
            fprintf(stderr, "bench_usb: %s: %s\n", tern_strerror(rc), err);
            goto done;
        }
        r->bytes += chunk;
    }
    double dt = bench_now() - t0;
    r->mb_per_s = r->bytes / dt / 1e6;
    /* round trip of one byte */
    for (int i = 0; i < RTT_N; i++) {
        double s = bench_now();
        rc = echo(d, out + i, in, 1, err, sizeof err);
        if (rc) {
            fprintf(stderr, "bench_usb: %s: %s\n", tern_strerror(rc), err);
            goto done;
        }
        rtt[i] = (bench_now() - s) * 1e3;
    }
    qsort(rtt, RTT_N, sizeof rtt[0], cmp_double);
    r->rtt_median_ms = rtt[RTT_N / 2];
    r->rtt_p90_ms = rtt[RTT_N * 9 / 10];
    r->ok = 1;
done:
    tern_usb_close(d);
    tern_usb_free(ctx);
    free(in);
    free(out);
}

/* The real links a board may have (bytes/s of payload). */
struct real_link {
    const char *name;
    double bytes_per_s;
};
static const struct real_link real_links[] = {
    {"UART 3 Mbaud 8N1 (iCEBreaker, Arty, ULX3S)", 300000},
    {"FT2232H sync FIFO (~40 MB/s)", 40e6},
    {"FT601 USB 3 FIFO (~350 MB/s)", 350e6},
};

struct projection_row {
    char config[16];
    uint32_t clock_hz;
    struct tern_projection p[3];
};

/* Greedy generation on ref:config=NAME for steps positions; the counters give the projection. */
static int project(const tern_model *m, const char *config, uint32_t steps, struct projection_row *row)
{
    char uri[64], err[512];
    tern_dev *dev = NULL;
    tern_llm *llm = NULL;
    struct tern_family fam;
    struct tern_counters c0, c1;
    int32_t vocab = tern_model_dims(m)->vocab_size, token = 1;
    float *logits = malloc((size_t)vocab * sizeof *logits);
    int rc = TERN_E_NOMEM;

    if (!logits)
        return rc;
    snprintf(uri, sizeof uri, "ref:config=%s", config);
    tern_family_bitllama(&fam);
    rc = tern_dev_open_ex(uri, &dev, err, sizeof err);
    if (!rc)
        rc = tern_llm_create(dev, m, &fam, &llm);
    if (!rc)
        rc = tern_dev_read_counters(dev, &c0);
    for (uint32_t pos = 0; !rc && pos < steps; pos++) {
        int32_t best = 0;
        rc = tern_llm_forward(llm, &token, 1, pos, logits, 1);
        for (int32_t v = 1; v < vocab; v++)
            if (logits[v] > logits[best])
                best = v;
        token = best;
    }
    if (!rc)
        rc = tern_dev_read_counters(dev, &c1);
    if (!rc) {
        const struct tern_config *c = tern_dev_config(dev);
        snprintf(row->config, sizeof row->config, "%s", config);
        row->clock_hz = c->clock_hz;
        for (int i = 0; i < 3; i++)
            tern_project(c, &c0, &c1, steps, (uint32_t)real_links[i].bytes_per_s, &row->p[i]);
    } else {
        fprintf(stderr, "bench_usb: projection on %s: %s: %s\n", uri, tern_strerror(rc),
                dev ? tern_dev_last_error(dev) : err);
    }
    tern_llm_free(llm);
    tern_dev_close(dev);
    free(logits);
    return rc;
}

static void help(void)
{
    printf("usage: bench_usb [--mb N] [--model M.bin] [--steps N] [--projection-only] [--json FILE]\n"
           "  Link throughput (echo, MB/s) and one-byte round trip (ms) through the first board found\n"
           "  (run it under `tern vboard --engine loopback --`), then bitllama-3m tokens/s projected\n"
           "  onto real links (UART, FT2232H FIFO, FT601) for each configuration from a ref run's\n"
           "  counters, with the compute bound beside them.\n"
           "  --mb N            megabytes to echo (default 8; 0.001..1000000)\n"
           "  --model FILE      checkpoint for the projection (default ../shared/models/bitllama-3m/model.bin;\n"
           "                    a synthetic model of the same shape when absent)\n"
           "  --steps N         token positions to project from (default 32; at most the model's seq_len)\n"
           "  --projection-only skip the link measurement (no board needed)\n"
           "  --json FILE       also write the results as JSON to FILE; - writes them to stdout alone\n"
           "                    (the tables then go to stderr). A failed run leaves no report.\n");
}

/* The checkpoint at path, or a synthetic one of bitllama-3m's shape when it cannot be loaded. */
static int load_model(const char *path, tern_model **m, int *synthetic)
{
    /* bitllama-3m's shape (scripts/demo.sh makes the same) */
    const struct tern_model_dims d = {256, 256, 8, 8, 4, 512, 512, 1};
    char err[512], tmp[] = "/tmp/bench_usb_model.XXXXXX";
    int fd, rc;

    *synthetic = 0;
    if (tern_model_load(path, m, err, sizeof err) == TERN_OK)
        return 0;
    fprintf(stderr, "bench_usb: %s; projecting with a synthetic model of bitllama-3m's shape\n", err);
    fd = mkstemp(tmp);
    if (fd < 0) {
        fprintf(stderr, "bench_usb: synthetic model: %s: %s\n", tmp, strerror(errno));
        return -1;
    }
    rc = tern_model_synth(&d, 1, tmp, err, sizeof err);
    if (rc == TERN_OK)
        rc = tern_model_load(tmp, m, err, sizeof err);
    close(fd);
    unlink(tmp);
    if (rc != TERN_OK) {
        fprintf(stderr, "bench_usb: synthetic model: %s\n", err);
        return -1;
    }
    *synthetic = 1;
    return 0;
}

static void report_link(const struct link_result *lr, FILE *out, struct bench_report *rep)
{
    if (lr->ok)
        fprintf(out, "link through %s: echo %.1f MB in each direction at %.2f MB/s; one-byte round trip median "
                     "%.3f ms, 90th percentile %.3f ms\n",
                lr->chip, lr->bytes / 1e6, lr->mb_per_s, lr->rtt_median_ms, lr->rtt_p90_ms);
    bench_json_object(rep, "link");
    bench_json_bool(rep, "measured", lr->ok);
    bench_json_str(rep, "chip", lr->chip);
    bench_json_u64(rep, "bytes", lr->bytes);
    bench_json_num(rep, "mb_per_s", lr->ok ? lr->mb_per_s : NAN); /* null: not measured */
    bench_json_num(rep, "rtt_median_ms", lr->ok ? lr->rtt_median_ms : NAN);
    bench_json_num(rep, "rtt_p90_ms", lr->ok ? lr->rtt_p90_ms : NAN);
    bench_json_end_object(rep);
}

static void report_projection(const struct projection_row *rows, int nrows, const char *what, uint32_t steps,
                              FILE *out, struct bench_report *rep)
{
    fprintf(out, "\nprojected tokens/s of %s (modelled: device cycles from the ref model, %u positions)\n", what,
            steps);
    fprintf(out, "%-9s %9s %12s", "config", "clock", "link B/tok");
    for (int i = 0; i < 3; i++)
        fprintf(out, " | %-13.13s", real_links[i].name);
    fprintf(out, "\n");
    bench_json_array(rep, "projection");
    for (int r = 0; r < nrows; r++) {
        fprintf(out, "%-9s %6.0f MHz %12.0f", rows[r].config, rows[r].clock_hz / 1e6,
                rows[r].p[0].link_bytes_per_token);
        for (int i = 0; i < 3; i++)
            fprintf(out, " | %13.1f", rows[r].p[i].projected_tps);
        fprintf(out, "   (compute bound %.0f)\n", rows[r].p[0].compute_bound_tps);
        bench_json_object(rep, NULL);
        bench_json_str(rep, "config", rows[r].config);
        bench_json_u64(rep, "clock_hz", rows[r].clock_hz);
        bench_json_num(rep, "link_bytes_per_token", rows[r].p[0].link_bytes_per_token);
        bench_json_num(rep, "busy_cycles_per_token", rows[r].p[0].busy_cycles_per_token);
        bench_json_num(rep, "compute_bound_tps", rows[r].p[0].compute_bound_tps);
        bench_json_array(rep, "links");
        for (int i = 0; i < 3; i++) {
            bench_json_object(rep, NULL);
            bench_json_str(rep, "link", real_links[i].name);
            bench_json_num(rep, "bytes_per_s", real_links[i].bytes_per_s);
            bench_json_num(rep, "projected_tps", rows[r].p[i].projected_tps);
            bench_json_end_object(rep);
        }
        bench_json_end_array(rep);
        bench_json_end_object(rep);
    }
    bench_json_end_array(rep);
}

int main(int argc, char **argv)
{
    static const char prog[] = "bench_usb";
    static const struct option opts[] = {{"mb", required_argument, 0, 'm'},
                                         {"model", required_argument, 0, 'M'},
                                         {"steps", required_argument, 0, 's'},
                                         {"projection-only", no_argument, 0, 'p'},
                                         {"json", required_argument, 0, 'j'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *model_path = "../shared/models/bitllama-3m/model.bin", *json = NULL;
    const char *configs[] = {"tiny", "default", "large"};
    struct projection_row rows[3];
    int nrows = 0, proj_only = 0, c, synthetic = 0;
    double mb = 8;
    uint64_t steps = 32;
    struct link_result lr = {0};
    struct bench_report rep;
    tern_model *m = NULL;

    opterr = 0;
    while ((c = getopt_long(argc, argv, ":m:M:s:pj:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm':
            if (bench_arg_f64(prog, "--mb", optarg, 0.001, 1e6, "megabytes from 0.001 to 1000000", &mb))
                return 2;
            break;
        case 'M': model_path = optarg; break;
        case 's':
            if (bench_arg_u64(prog, "--steps", optarg, 1, UINT32_MAX, "a number of positions from 1 to 4294967295",
                              &steps))
                return 2;
            break;
        case 'p': proj_only = 1; break;
        case 'j': json = optarg; break;
        case 'h': help(); return 0;
        default: return bench_bad_option(prog, c, argv);
        }
    }
    if (bench_no_operands(prog, argc, argv))
        return 2;
    FILE *out = bench_human(json);
    if (bench_report_open(&rep, prog, json))
        return 1;
    if (!proj_only)
        link_bench(mb, &lr);
    report_link(&lr, out, &rep);
    if (load_model(model_path, &m, &synthetic)) {
        bench_report_discard(&rep);
        return 1;
    }
    if (steps > (uint32_t)tern_model_dims(m)->seq_len)
        steps = (uint32_t)tern_model_dims(m)->seq_len;
    for (size_t i = 0; i < 3; i++)
        if (project(m, configs[i], (uint32_t)steps, &rows[nrows]) == TERN_OK)
            nrows++;
    tern_model_free(m);
    report_projection(rows, nrows, synthetic ? "a synthetic bitllama-3m-shaped model" : model_path, (uint32_t)steps,
                      out, &rep);
    bench_json_bool(&rep, "synthetic_model", synthetic);
    if (!(lr.ok || proj_only) || nrows < 3) { /* no link measured, or a projection failed (reasons above) */
        bench_report_discard(&rep);
        return 1;
    }
    return bench_report_finish(&rep, prog) ? 1 : 0;
}
