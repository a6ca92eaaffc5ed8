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
    int rc;

    memset(r, 0, sizeof *r);
    r->uri = uri;
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

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"model", required_argument, 0, 'm'}, {"steps", required_argument, 0, 'n'},
                                         {"config", required_argument, 0, 'c'}, {"json", required_argument, 0, 'j'},
                                         {"help", no_argument, 0, 'h'},         {0, 0, 0, 0}};
    const char *model = "../shared/models/bitllama-3m/model.bin", *config = "default", *json = NULL;
    uint32_t steps = 64;
    char err[512], ref_uri[64], sim_uri[64];
    tern_model *m;
    struct result res[2];
    int c;

    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model = optarg; break;
        case 'n': steps = (uint32_t)strtoul(optarg, NULL, 10); break;
        case 'c': config = optarg; break;
        case 'j': json = optarg; break;
        case 'h':
            printf("usage: bench_generate [--model M] [--steps N] [--config C] [--json FILE]\n"
                   "  Greedy generation of N positions (default 64) on ref:config=C and sim:config=C\n"
                   "  (default C = default), tokens/s of each and the sim/ref wall-time ratio, one run.\n");
            return 0;
        default: return 2;
        }
    }
    if (tern_model_load(model, &m, err, sizeof err)) {
        fprintf(stderr, "bench_generate: %s\n", err);
        return 1;
    }
    if (steps == 0 || steps > (uint32_t)tern_model_dims(m)->seq_len)
        steps = (uint32_t)tern_model_dims(m)->seq_len;
    snprintf(ref_uri, sizeof ref_uri, "ref:config=%s", config);
    snprintf(sim_uri, sizeof sim_uri, "sim:config=%s", config);
    printf("greedy generation, %u positions from BOS, %s\n", steps, model);
    run(m, ref_uri, steps, &res[0]);
    fprintf(stderr, "bench_generate: ref done, now the cycle-accurate simulation\n");
    run(m, sim_uri, steps, &res[1]);
    for (int i = 0; i < 2; i++)
        if (res[i].ok)
            printf("  %-22s %9.2f tokens/s (wall)  %10.0f device cycles/token  tokens %s\n", res[i].uri,
                   res[i].tokens_per_s, res[i].cycles_per_token, res[i].text_hash);
        else
            printf("  %-22s unavailable\n", res[i].uri);
    int both = res[0].ok && res[1].ok;
    double ratio = both ? res[1].seconds / res[0].seconds : 0;
    if (both)
        printf("  sim/ref wall-time ratio: %.1fx; same tokens: %s; same cycles: %s\n", ratio,
               strcmp(res[0].text_hash, res[1].text_hash) ? "NO" : "yes",
               res[0].cycles_per_token == res[1].cycles_per_token ? "yes" : "NO");
    if (json) {
        FILE *f = fopen(json, "w");
        if (!f) {
            perror(json);
            return 1;
        }
        fprintf(f, "{\n  \"model\": \"%s\",\n  \"steps\": %u,\n  \"results\": [", model, steps);
        for (int i = 0; i < 2; i++)
            fprintf(f, "%s\n    {\"device\": \"%s\", \"available\": %s, \"seconds\": %.6f, \"tokens_per_s\": %.6f, "
                       "\"device_cycles_per_token\": %.1f, \"tokens_hash\": \"%s\"}",
                    i ? "," : "", res[i].uri, res[i].ok ? "true" : "false", res[i].seconds, res[i].tokens_per_s,
                    res[i].cycles_per_token, res[i].text_hash);
        fprintf(f, "\n  ],\n  \"sim_over_ref_wall_ratio\": %.4f\n}\n", ratio);
        fclose(f);
    }
    tern_model_free(m);
    return res[0].ok ? 0 : 1;
}
