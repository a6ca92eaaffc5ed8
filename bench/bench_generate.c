/* bench_generate.c — tokens per second of greedy generation with bitllama-3m (or any checkpoint) on
 * the ref backend and on the cycle-accurate sim backend, measured in one run, and their ratio. */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_common.h"
#include "tern/tern_llm.h"

struct result {
    const char *uri;
    int ok;
    double seconds, tokens_per_s, cycles_per_token;
    uint64_t tokens;
    char text_hash[17];
};

/* Greedy generation of `steps` positions from BOS; returns 0 and fills r. */
static int run(const tern_model *m, const char *uri, uint32_t steps, struct result *r)
{
    char err[512];
    tern_dev *dev = NULL;
    tern_llm *llm = NULL;
    struct tern_family fam;
    struct tern_counters c0, c1;
    int32_t vocab = tern_model_dims(m)->vocab_size, token = 1;
    float *logits = malloc((size_t)vocab * sizeof *logits);
    uint64_t h = 1469598103934665603ull;
    int rc = TERN_E_NOMEM;

    memset(r, 0, sizeof *r);
    r->uri = uri;
    if (!logits) {
        fprintf(stderr, "bench_generate: %s: out of memory\n", uri);
        return rc;
    }
    tern_family_bitllama(&fam);
    rc = tern_dev_open_ex(uri, &dev, err, sizeof err);
    if (rc) {
        fprintf(stderr, "bench_generate: %s: %s\n", uri, err);
        goto out;
    }
    rc = tern_llm_create(dev, m, &fam, &llm);
    if (!rc)
        rc = tern_dev_read_counters(dev, &c0);
    double t0 = bench_now();
    for (uint32_t pos = 0; !rc && pos < steps; pos++) {
        rc = tern_llm_forward(llm, &token, 1, pos, logits, 1);
        int32_t best = 0;
        for (int32_t v = 1; v < vocab; v++)
            if (logits[v] > logits[best])
                best = v;
        token = best;
        h = (h ^ (uint64_t)token) * 1099511628211ull;
    }
    r->seconds = bench_now() - t0;
    if (!rc)
        rc = tern_dev_read_counters(dev, &c1);
    if (rc) {
        fprintf(stderr, "bench_generate: %s: %s\n", uri, tern_dev_last_error(dev));
        goto out;
    }
    r->ok = 1;
    r->tokens = steps;
    r->tokens_per_s = steps / r->seconds;
    r->cycles_per_token = (double)(c1.cycles - c0.cycles) / steps;
    snprintf(r->text_hash, sizeof r->text_hash, "%016llx", (unsigned long long)h);
out:
    tern_llm_free(llm);
    tern_dev_close(dev);
    free(logits);
    return rc;
}

static void help(void)
{
    printf("usage: bench_generate [--model M] [--steps N] [--config C] [--json FILE]\n"
           "  Tokens per second of greedy generation from BOS on the ref backend and on the\n"
           "  cycle-accurate sim backend (the RTL under Verilator), measured in one run, with the\n"
           "  device cycles per token of each and the sim/ref wall-time ratio; checks that both give\n"
           "  the same tokens and the same cycle counts.\n"
           "  --model M    checkpoint (default ../shared/models/bitllama-3m/model.bin)\n"
           "  --steps N    positions to generate (default 64; at most the model's seq_len, more is cut)\n"
           "  --config C   accelerator configuration of both devices (default: default)\n"
           "  --json FILE  also write the results as JSON to FILE; - writes them to stdout alone\n"
           "               (the table then goes to stderr). A failed run leaves no report.\n");
}

int main(int argc, char **argv)
{
    static const char prog[] = "bench_generate";
    static const struct option opts[] = {{"model", required_argument, 0, 'm'}, {"steps", required_argument, 0, 'n'},
                                         {"config", required_argument, 0, 'c'}, {"json", required_argument, 0, 'j'},
                                         {"help", no_argument, 0, 'h'},         {0, 0, 0, 0}};
    const char *model = "../shared/models/bitllama-3m/model.bin", *config = "default", *json = NULL;
    uint64_t steps = 64;
    char err[512], ref_uri[96], sim_uri[96];
    tern_model *m;
    struct result res[2];
    struct bench_report rep;
    int c;

    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model = optarg; break;
        case 'n':
            if (bench_arg_u64(prog, "--steps", optarg, 1, UINT32_MAX, "a number of positions from 1 to 4294967295",
                              &steps))
                return 2;
            break;
        case 'c': config = optarg; break;
        case 'j': json = optarg; break;
        case 'h': help(); return 0;
        default: return bench_bad_option(prog, c, argv);
        }
    }
    if (bench_no_operands(prog, argc, argv) || bench_arg_config(prog, "--config", config))
        return 2;
    FILE *out = bench_human(json);
    if (bench_report_open(&rep, prog, json))
        return 1;
    if (tern_model_load(model, &m, err, sizeof err)) {
        fprintf(stderr, "bench_generate: %s\n", err);
        bench_report_discard(&rep);
        return 1;
    }
    if (steps > (uint32_t)tern_model_dims(m)->seq_len)
        steps = (uint32_t)tern_model_dims(m)->seq_len;
    snprintf(ref_uri, sizeof ref_uri, "ref:config=%s", config);
    snprintf(sim_uri, sizeof sim_uri, "sim:config=%s", config);
    fprintf(out, "greedy generation, %u positions from BOS, %s\n", (unsigned)steps, model);
    run(m, ref_uri, (uint32_t)steps, &res[0]);
    fprintf(stderr, "bench_generate: ref done, now the cycle-accurate simulation\n");
    run(m, sim_uri, (uint32_t)steps, &res[1]);
    tern_model_free(m);
    for (int i = 0; i < 2; i++)
        if (res[i].ok)
            fprintf(out, "  %-22s %9.2f tokens/s (wall)  %10.0f device cycles/token  tokens %s\n", res[i].uri,
                    res[i].tokens_per_s, res[i].cycles_per_token, res[i].text_hash);
        else
            fprintf(out, "  %-22s unavailable\n", res[i].uri);
    int both = res[0].ok && res[1].ok;
    double ratio = both ? res[1].seconds / res[0].seconds : 0;
    if (both)
        fprintf(out, "  sim/ref wall-time ratio: %.1fx; same tokens: %s; same cycles: %s\n", ratio,
                strcmp(res[0].text_hash, res[1].text_hash) ? "NO" : "yes",
                res[0].cycles_per_token == res[1].cycles_per_token ? "yes" : "NO");
    if (!res[0].ok) { /* without ref there is nothing to compare with */
        bench_report_discard(&rep);
        return 1;
    }
    bench_json_str(&rep, "model", model);
    bench_json_u64(&rep, "steps", steps);
    bench_json_array(&rep, "results");
    for (int i = 0; i < 2; i++) {
        bench_json_object(&rep, NULL);
        bench_json_str(&rep, "device", res[i].uri);
        bench_json_bool(&rep, "available", res[i].ok);
        bench_json_num(&rep, "seconds", res[i].ok ? res[i].seconds : NAN); /* null: not measured */
        bench_json_num(&rep, "tokens_per_s", res[i].ok ? res[i].tokens_per_s : NAN);
        bench_json_num(&rep, "device_cycles_per_token", res[i].ok ? res[i].cycles_per_token : NAN);
        bench_json_str(&rep, "tokens_hash", res[i].text_hash);
        bench_json_end_object(&rep);
    }
    bench_json_end_array(&rep);
    bench_json_num(&rep, "sim_over_ref_wall_ratio", both ? ratio : NAN);
    return bench_report_finish(&rep, prog) ? 1 : 0;
}
