/* cmd_model.c — `tern model`: inspect a checkpoint (shapes, parameters, code statistics), synthesise one. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "commands.h"
#include "report.h"
#include "tern/tern_model.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: tern model <info|synth> [options]   (tern model <subcommand> --help)\n"
               "  info    print a checkpoint's header, shapes, parameter counts and weight-code statistics,\n"
               "          after validating every byte of it\n"
               "  synth   write a synthetic checkpoint (and tokenizer) of any shape, deterministic for a seed\n");
}

static void info_help(FILE *f)
{
    fprintf(f, "usage: tern model info MODEL [--json FILE]\n"
               "  Loads and validates a ternary checkpoint (llama2.c BitNet format) and prints its header,\n"
               "  every tensor's shape, parameter and byte counts, each matrix kind's scales and how many\n"
               "  weights are -1, 0 and +1 (the zero fraction is what zero-skipping hardware gains).\n"
               "  Exits 1 with the reason when the file is malformed.\n"
               "  --json FILE     also write the report as JSON ('-': stdout, which then holds\n"
               "                  only the JSON; the report goes to stderr)\n");
}

static void synth_help(FILE *f)
{
    fprintf(f, "usage: tern model synth --like MODEL [dimension options] --out FILE [options]\n"
               "       tern model synth --dim D --hidden-dim H --layers L --heads N --kv-heads K --vocab V\n"
               "                        --seq-len S --out FILE [options]\n"
               "  Writes a random ternary checkpoint: codes with 3/8 zeros, scales, embeddings and norm\n"
               "  weights of a trained model's magnitudes. The same seed gives the same bytes.\n"
               "  --like MODEL       take the dimensions of this checkpoint (options below override them)\n"
               "  --dim D --hidden-dim H --layers L --heads N --kv-heads K --vocab V --seq-len S\n"
               "                     the dimensions (all required without --like)\n"
               "  --seed S           random seed (default 1)\n"
               "  --out FILE         the checkpoint to write (atomically: FILE appears complete or not at all)\n"
               "  --tokenizer-out F  also write a synthetic tokenizer of the model's vocabulary (>= 259)\n");
}

/* ---- info ------------------------------------------------------------------------------------ */

struct kind_stats {
    uint64_t params, bytes;
    struct tern_code_counts codes;
    float smin, smax;
    double ssum;
};

static void float_range(const float *v, uint64_t n, float *lo, float *hi)
{
    *lo = *hi = n ? v[0] : 0.0f;
    for (uint64_t i = 1; i < n; i++) {
        if (v[i] < *lo)
            *lo = v[i];
        if (v[i] > *hi)
            *hi = v[i];
    }
}

static double frac(uint64_t a, uint64_t b)
{
    return b ? (double)a / (double)b : 0.0;
}

static void collect(const tern_model *m, struct kind_stats *ks, struct tern_code_counts *all)
{
    const struct tern_model_dims *d = tern_model_dims(m);

    memset(all, 0, sizeof *all);
    for (int k = 0; k < TERN_MAT_KINDS; k++) {
        struct kind_stats *s = &ks[k];
        memset(s, 0, sizeof *s);
        for (int l = 0; l < d->n_layers; l++) {
            const struct tern_tmatrix *t = tern_model_matrix(m, l, (enum tern_mat_kind)k);
            struct tern_code_counts c;
            uint64_t elems = (uint64_t)t->rows * t->cols;
            tern_tmatrix_count_codes(t, &c);
            s->params += elems;
            s->bytes += 4 + tern_codes_bytes(elems);
            s->codes.neg += c.neg;
            s->codes.zero += c.zero;
            s->codes.pos += c.pos;
            s->codes.illegal += c.illegal;
            if (l == 0 || t->scale < s->smin)
                s->smin = t->scale;
            if (l == 0 || t->scale > s->smax)
                s->smax = t->scale;
            s->ssum += t->scale;
        }
        all->neg += s->codes.neg;
        all->zero += s->codes.zero;
        all->pos += s->codes.pos;
        all->illegal += s->codes.illegal;
    }
}

static void info_text(FILE *out, const char *path, const tern_model *m, const struct kind_stats *ks,
                      const struct tern_code_counts *all)
{
    const struct tern_model_dims *d = tern_model_dims(m);
    const uint64_t nd = (uint64_t)d->dim, nv = (uint64_t)d->vocab_size;
    const uint64_t tp = tern_model_ternary_params(m), fp = tern_model_float_params(m);
    const uint64_t tall = all->neg + all->zero + all->pos;
    float lo, hi;
    char shape[48];

    fprintf(out, "model        %s\n", path);
    fprintf(out, "file         %llu bytes: header %d, floats %llu, ternary matrices %llu\n",
            (unsigned long long)tern_model_file_bytes(m), TERN_CKPT_HEADER_BYTES, (unsigned long long)(4 * fp),
            (unsigned long long)(tern_model_file_bytes(m) - TERN_CKPT_HEADER_BYTES - 4 * fp));
    fprintf(out, "header       magic 0x%08x, version %d, shared_classifier %d\n", TERN_CKPT_MAGIC, TERN_CKPT_VERSION,
            (int)d->shared_classifier);
    fprintf(out,
            "dimensions   dim %d, hidden_dim %d, n_layers %d, n_heads %d, n_kv_heads %d, vocab_size %d, seq_len %d\n",
            (int)d->dim, (int)d->hidden_dim, (int)d->n_layers, (int)d->n_heads, (int)d->n_kv_heads,
            (int)d->vocab_size, (int)d->seq_len);
    fprintf(out, "derived      head_size %d, kv_dim %d, %d query heads per kv head\n", (int)(d->dim / d->n_heads),
            (int)(d->dim / d->n_heads * d->n_kv_heads), (int)(d->n_heads / d->n_kv_heads));
    fprintf(out, "parameters   %llu: ternary %llu (%.2f%%), float %llu\n", (unsigned long long)(tp + fp),
            (unsigned long long)tp, 100 * frac(tp, tp + fp), (unsigned long long)fp);

    fprintf(out, "\n%-16s %-16s %5s %10s %10s %10s %10s %10s %7s  %s\n", "tensor", "shape [out][in]", "count", "params",
            "bytes", "-1", "0", "+1", "zero%", "scale min / mean / max");
    float_range(tern_model_final_norm(m), nd, &lo, &hi);
    snprintf(shape, sizeof shape, "[%d]", (int)d->dim);
    fprintf(out, "%-16s %-16s %5d %10llu %10llu   f32 values in [%g, %g]\n", "final_norm", shape, 1,
            (unsigned long long)nd, (unsigned long long)(4 * nd), (double)lo, (double)hi);
    float_range(tern_model_embedding(m), nv * nd, &lo, &hi);
    snprintf(shape, sizeof shape, "[%d][%d]", (int)d->vocab_size, (int)d->dim);
    fprintf(out, "%-16s %-16s %5d %10llu %10llu   f32 values in [%g, %g]\n", "token_embedding", shape, 1,
            (unsigned long long)(nv * nd), (unsigned long long)(4 * nv * nd), (double)lo, (double)hi);
    for (int k = 0; k < TERN_MAT_KINDS; k++) {
        const struct tern_tmatrix *t = tern_model_matrix(m, 0, (enum tern_mat_kind)k);
        const struct kind_stats *s = &ks[k];
        snprintf(shape, sizeof shape, "[%u][%u]", t->rows, t->cols);
        fprintf(out, "%-16s %-16s %5d %10llu %10llu %10llu %10llu %10llu %6.2f%%  %.4g / %.4g / %.4g\n",
                tern_mat_kind_name((enum tern_mat_kind)k), shape, (int)d->n_layers, (unsigned long long)s->params,
                (unsigned long long)s->bytes, (unsigned long long)s->codes.neg, (unsigned long long)s->codes.zero,
                (unsigned long long)s->codes.pos, 100 * frac(s->codes.zero, s->params), (double)s->smin,
                s->ssum / d->n_layers, (double)s->smax);
    }
    fprintf(out, "%-16s %-16s %5d %10llu %10llu %10llu %10llu %10llu %6.2f%%\n", "all ternary", "",
            7 * (int)d->n_layers, (unsigned long long)tp,
            (unsigned long long)(tern_model_file_bytes(m) - TERN_CKPT_HEADER_BYTES - 4 * fp),
            (unsigned long long)all->neg, (unsigned long long)all->zero, (unsigned long long)all->pos,
            100 * frac(all->zero, tall));
    fprintf(out, "\ncodes        %llu weights checked: %llu illegal (binary 10); -1 %.2f%%, 0 %.2f%%, +1 %.2f%%\n",
            (unsigned long long)tall, (unsigned long long)all->illegal, 100 * frac(all->neg, tall),
            100 * frac(all->zero, tall), 100 * frac(all->pos, tall));
}

static void json_codes(struct json_out *j, const char *key, const struct tern_code_counts *c)
{
    uint64_t n = c->neg + c->zero + c->pos + c->illegal;

    json_object(j, key);
    json_u64(j, "minus_one", c->neg);
    json_u64(j, "zero", c->zero);
    json_u64(j, "plus_one", c->pos);
    json_u64(j, "illegal", c->illegal);
    json_f64(j, "zero_fraction", frac(c->zero, n));
    json_end_object(j);
}

static void info_json(struct json_out *j, const tern_model *m, const struct kind_stats *ks,
                      const struct tern_code_counts *all)
{
    const struct tern_model_dims *d = tern_model_dims(m);
    const uint64_t nd = (uint64_t)d->dim, nv = (uint64_t)d->vocab_size;
    const uint64_t tp = tern_model_ternary_params(m), fp = tern_model_float_params(m);

    json_u64(j, "file_bytes", tern_model_file_bytes(m));
    json_object(j, "header");
    json_str(j, "magic", "0x616b3432");
    json_i64(j, "version", TERN_CKPT_VERSION);
    json_i64(j, "dim", d->dim);
    json_i64(j, "hidden_dim", d->hidden_dim);
    json_i64(j, "n_layers", d->n_layers);
    json_i64(j, "n_heads", d->n_heads);
    json_i64(j, "n_kv_heads", d->n_kv_heads);
    json_i64(j, "vocab_size", d->vocab_size);
    json_i64(j, "seq_len", d->seq_len);
    json_i64(j, "shared_classifier", d->shared_classifier);
    json_end_object(j);
    json_i64(j, "head_size", d->dim / d->n_heads);
    json_i64(j, "kv_dim", d->dim / d->n_heads * d->n_kv_heads);
    json_u64(j, "params", tp + fp);
    json_u64(j, "ternary_params", tp);
    json_u64(j, "float_params", fp);
    json_array(j, "tensors");
    json_object(j, NULL);
    json_str(j, "name", "final_norm");
    json_u64(j, "rows", nd);
    json_u64(j, "cols", 1);
    json_u64(j, "count", 1);
    json_u64(j, "params", nd);
    json_u64(j, "bytes", 4 * nd);
    json_end_object(j);
    json_object(j, NULL);
    json_str(j, "name", "token_embedding");
    json_u64(j, "rows", nv);
    json_u64(j, "cols", nd);
    json_u64(j, "count", 1);
    json_u64(j, "params", nv * nd);
    json_u64(j, "bytes", 4 * nv * nd);
    json_end_object(j);
    for (int k = 0; k < TERN_MAT_KINDS; k++) {
        const struct tern_tmatrix *t = tern_model_matrix(m, 0, (enum tern_mat_kind)k);
        const struct kind_stats *s = &ks[k];
        json_object(j, NULL);
        json_str(j, "name", tern_mat_kind_name((enum tern_mat_kind)k));
        json_u64(j, "rows", t->rows);
        json_u64(j, "cols", t->cols);
        json_u64(j, "count", (uint64_t)d->n_layers);
        json_u64(j, "params", s->params);
        json_u64(j, "bytes", s->bytes);
        json_f64(j, "scale_min", s->smin);
        json_f64(j, "scale_mean", s->ssum / d->n_layers);
        json_f64(j, "scale_max", s->smax);
        json_codes(j, "codes", &s->codes);
        json_end_object(j);
    }
    json_end_array(j);
    json_codes(j, "codes", all);
}

static int model_info(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", required_argument, 0, 'j'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *json = NULL, *path;
    struct kind_stats ks[TERN_MAT_KINDS];
    struct tern_code_counts all;
    struct json_out j;
    tern_model *m = NULL;
    char err[512];
    struct report_file rep;
    FILE *jf;
    int c, rc;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":j:h", opts, NULL)) != -1) {
        switch (c) {
        case 'j': json = optarg; break;
        case 'h': info_help(stdout); return 0;
        default: return arg_bad_option("model info", c, argv);
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "tern model info: %s\n",
                optind >= argc ? "which checkpoint? (give one path)" : "give one checkpoint only");
        info_help(stderr);
        return 2;
    }
    path = argv[optind];
    if (report_open(&rep, "model info", json))
        return 1;
    jf = rep.f;
    rc = tern_model_load(path, &m, err, sizeof err);
    if (rc) {
        fprintf(stderr, "tern model info: %s\n", err);
        if (jf) {
            json_begin(&j, jf);
            json_str(&j, "model", path);
            json_bool(&j, "ok", 0);
            json_str(&j, "error", err);
            json_finish(&j);
            report_close(&rep, "model info");
        }
        return 1;
    }
    collect(m, ks, &all);
    info_text(report_human(json), path, m, ks, &all);
    if (jf) {
        json_begin(&j, jf);
        json_str(&j, "model", path);
        json_bool(&j, "ok", 1);
        info_json(&j, m, ks, &all);
        json_finish(&j);
        if (report_close(&rep, "model info")) {
            tern_model_free(m);
            return 1;
        }
    }
    tern_model_free(m);
    return 0;
}

/* ---- synth ----------------------------------------------------------------------------------- */

/* A dimension: any 32-bit integer here; tern_model_dims_check says what is wrong with its value. */
static int parse_i32(const char *opt, const char *s, int32_t *v)
{
    char *end;
    long long x;

    errno = 0;
    x = strtoll(s, &end, 10);
    if (errno || end == s || *end || x < INT32_MIN || x > INT32_MAX) {
        fprintf(stderr, "tern model synth: --%s '%s' is not a 32-bit integer\n", opt, s);
        return -1;
    }
    *v = (int32_t)x;
    return 0;
}

static int model_synth(int argc, char **argv)
{
    enum { O_DIM = 256, O_HIDDEN, O_LAYERS, O_HEADS, O_KV, O_VOCAB, O_SEQ, O_TOK };
    static const struct option opts[] = {
        {"like", required_argument, 0, 'l'},      {"dim", required_argument, 0, O_DIM},
        {"hidden-dim", required_argument, 0, O_HIDDEN}, {"layers", required_argument, 0, O_LAYERS},
        {"heads", required_argument, 0, O_HEADS}, {"kv-heads", required_argument, 0, O_KV},
        {"vocab", required_argument, 0, O_VOCAB}, {"seq-len", required_argument, 0, O_SEQ},
        {"seed", required_argument, 0, 's'},      {"out", required_argument, 0, 'o'},
        {"tokenizer-out", required_argument, 0, O_TOK}, {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    static const char *const names[7] = {"dim", "hidden-dim", "layers", "heads", "kv-heads", "vocab", "seq-len"};
    const char *like = NULL, *out = NULL, *tok_out = NULL;
    int32_t val[7] = {0};
    int given[7] = {0};
    uint64_t seed = 1;
    struct tern_model_dims d;
    char err[512];
    int c, rc;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":l:s:o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'l': like = optarg; break;
        case 's':
            if (arg_u64("model synth", "--seed", optarg, 0, 0, UINT64_MAX, "a whole number 0..2^64-1 (or 0x hex)",
                        &seed))
                return 2;
            break;
        case 'o': out = optarg; break;
        case O_TOK: tok_out = optarg; break;
        case 'h': synth_help(stdout); return 0;
        default:
            if (c >= O_DIM && c <= O_SEQ) {
                if (parse_i32(names[c - O_DIM], optarg, &val[c - O_DIM]))
                    return 2;
                given[c - O_DIM] = 1;
                break;
            }
            return arg_bad_option("model synth", c, argv);
        }
    }
    if (optind < argc) {
        fprintf(stderr, "tern model synth: unexpected argument '%s'\n", argv[optind]);
        synth_help(stderr);
        return 2;
    }
    if (!out) {
        fprintf(stderr, "tern model synth: --out FILE is required\n");
        synth_help(stderr);
        return 2;
    }
    if (like) {
        tern_model *m = NULL;
        rc = tern_model_load(like, &m, err, sizeof err);
        if (rc) {
            fprintf(stderr, "tern model synth: --like: %s\n", err);
            return 1;
        }
        d = *tern_model_dims(m);
        tern_model_free(m);
    } else {
        char missing[128] = "";
        for (int i = 0; i < 7; i++)
            if (!given[i]) {
                size_t n = strlen(missing);
                snprintf(missing + n, sizeof missing - n, "%s--%s", n ? ", " : "", names[i]);
            }
        if (missing[0]) {
            fprintf(stderr, "tern model synth: missing %s (or give --like MODEL)\n", missing);
            return 2;
        }
        memset(&d, 0, sizeof d);
        d.shared_classifier = 1;
    }
    int32_t *field[7] = {&d.dim, &d.hidden_dim, &d.n_layers, &d.n_heads, &d.n_kv_heads, &d.vocab_size, &d.seq_len};
    for (int i = 0; i < 7; i++)
        if (given[i])
            *field[i] = val[i];
    if (tern_model_dims_check(&d, err, sizeof err)) {
        fprintf(stderr, "tern model synth: bad dimensions: %s\n", err);
        return 2;
    }
    if (tok_out && d.vocab_size < 259) {
        fprintf(stderr, "tern model synth: a tokenizer needs a vocabulary of at least 259 tokens (--vocab %d)\n",
                (int)d.vocab_size);
        return 2;
    }
    rc = tern_model_synth(&d, seed, out, err, sizeof err);
    if (rc) {
        fprintf(stderr, "tern model synth: %s\n", err);
        return 1;
    }
    printf("wrote %s: %llu bytes, dim %d, hidden_dim %d, n_layers %d, n_heads %d, n_kv_heads %d, vocab_size %d, "
           "seq_len %d, seed %llu\n",
           out, (unsigned long long)tern_model_expected_bytes(&d), (int)d.dim, (int)d.hidden_dim, (int)d.n_layers,
           (int)d.n_heads, (int)d.n_kv_heads, (int)d.vocab_size, (int)d.seq_len, (unsigned long long)seed);
    if (tok_out) {
        rc = tern_tokenizer_synth(d.vocab_size, seed, tok_out, err, sizeof err);
        if (rc) {
            fprintf(stderr, "tern model synth: %s\n", err);
            return 1;
        }
        printf("wrote %s: tokenizer of %d tokens\n", tok_out, (int)d.vocab_size);
    }
    return 0;
}

int cmd_model(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "info"))
        return model_info(argc - 1, argv + 1);
    if (!strcmp(argv[1], "synth"))
        return model_synth(argc - 1, argv + 1);
    fprintf(stderr, "tern model: unknown subcommand '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
