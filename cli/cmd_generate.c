/* cmd_generate.c — `tern generate`: a ternary model tells a story with every ternary product on the
 * accelerator; the prompt goes through as one batch (prefill), then token by token. */
#define _GNU_SOURCE
#include <ctype.h>
#include <float.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "args.h"
#include "commands.h"
#include "llm_session.h"

static void help(FILE *f)
{
    fprintf(f,
            "usage: tern generate --model M --tokenizer T [options]\n"
            "  Generates text with a ternary model (llama2.c BitNet format); every ternary matrix\n"
            "  product runs on the device. The text goes to stdout as it is made; a hardware summary\n"
            "  goes to stderr.\n"
            "  --model M          checkpoint (e.g. ../shared/models/bitllama-3m/model.bin)\n"
            "  --tokenizer T      tokenizer (e.g. ../shared/models/bitllama-3m/tokenizer.bin)\n"
            "  --backend URI      device: ref, ref:config=tiny, sim:config=tiny, ... (default ref)\n"
            "  --prompt TEXT      prompt (default empty: start from BOS)\n"
            "  --steps N          positions including the prompt, as llama2.c (default 256; 0 or more\n"
            "                     than the model's sequence length means the sequence length)\n"
            "  --temperature F    0 is greedy (default 1.0)\n"
            "  --topp F           nucleus sampling threshold in (0,1); 0 or 1 disables (default 0.9)\n"
            "  --seed S           sampling seed (default: the time; the seed used is printed)\n"
            "  --compare A,B      run on two devices in lock step and stop at the first differing\n"
            "                     accumulator (e.g. ref,sim)\n"
            "  --token-by-token   feed the prompt one position at a time instead of one batch\n"
            "  --json FILE        write the text and the summary as JSON too ('-': stdout, which then\n"
            "                     holds only the JSON; the text goes to stderr)\n");
}

/* The text as it is printed: where it goes (stdout, or stderr when the JSON goes to stdout) and
 * every byte of it, for the JSON report. */
struct text_out {
    FILE *f;
    char *buf;
    size_t len, cap;
};

/* Print a piece unless it is a single non-printable byte (as llama2.c does); keep it. */
static int print_piece(struct text_out *t, const char *p, size_t n)
{
    if (!p || n == 0)
        return 0;
    if (n == 1 && !(isprint((unsigned char)p[0]) || isspace((unsigned char)p[0])))
        return 0;
    fwrite(p, 1, n, t->f);
    fflush(t->f);
    if (t->len + n > t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 4096;
        while (cap < t->len + n)
            cap *= 2;
        char *b = realloc(t->buf, cap);
        if (!b) {
            fprintf(stderr, "tern generate: out of memory for the text\n");
            return -1;
        }
        t->buf = b;
        t->cap = cap;
    }
    memcpy(t->buf + t->len, p, n);
    t->len += n;
    return 0;
}

struct gen_args {
    const char *model, *tok, *backend, *prompt, *compare, *json;
    int64_t steps;
    float temperature, topp;
    uint64_t seed;
    int by_token;
};

/* Parse the options into a: -1 to go on, else the exit status (0 after --help, 2 on a bad one). */
static int parse_args(int argc, char **argv, struct gen_args *a)
{
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'},       {"tokenizer", required_argument, 0, 'z'},
        {"backend", required_argument, 0, 'b'},     {"prompt", required_argument, 0, 'p'},
        {"steps", required_argument, 0, 'n'},       {"temperature", required_argument, 0, 't'},
        {"topp", required_argument, 0, 'P'},        {"seed", required_argument, 0, 's'},
        {"compare", required_argument, 0, 'c'},     {"token-by-token", no_argument, 0, 'T'},
        {"json", required_argument, 0, 'j'},        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    int c, seed_given = 0;

    *a = (struct gen_args){.backend = "ref", .prompt = "", .steps = 256, .temperature = 1.0f, .topp = 0.9f};
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': a->model = optarg; break;
        case 'z': a->tok = optarg; break;
        case 'b': a->backend = optarg; break;
        case 'p': a->prompt = optarg; break;
        case 'n':
            if (arg_i64("generate", "--steps", optarg, 0, INT32_MAX,
                        "a whole number of positions >= 0 (0: the model's sequence length)", &a->steps))
                return 2;
            break;
        case 't':
            if (arg_float("generate", "--temperature", optarg, 0.0, FLT_MAX, "a finite number >= 0 (0 is greedy)",
                          &a->temperature))
                return 2;
            break;
        case 'P':
            if (arg_float("generate", "--topp", optarg, 0.0, 1.0, "a number from 0 to 1 (0 or 1: no top-p)",
                          &a->topp))
                return 2;
            break;
        case 's':
            if (arg_u64("generate", "--seed", optarg, 0, 0, UINT64_MAX, "a whole number 0..2^64-1 (or 0x hex)",
                        &a->seed))
                return 2;
            seed_given = 1;
            break;
        case 'c': a->compare = optarg; break;
        case 'T': a->by_token = 1; break;
        case 'j': a->json = optarg; break;
        case 'h': help(stdout); return 0;
        default: return arg_bad_option("generate", c, argv);
        }
    }
    if (optind < argc) {
        fprintf(stderr, "tern generate: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (!a->model || !a->tok) {
        fprintf(stderr, "tern generate: --model and --tokenizer are required\n");
        help(stderr);
        return 2;
    }
    if (!seed_given)
        a->seed = (uint64_t)time(NULL);
    return -1;
}

/* The prompt (positions 0 .. np-1 at once, or one by one), its pieces printed, then generation
 * up to steps positions or BOS; *generated counts the sampled tokens. 0, or 1 after a message. */
static int run(struct session *s, const struct gen_args *a, struct tern_sampler *sampler, const int32_t *tokens,
               size_t ntok, struct text_out *text, size_t *generated)
{
    const uint32_t np = ntok < (size_t)a->steps ? (uint32_t)ntok : (uint32_t)a->steps;

    if (a->by_token) {
        for (uint32_t p = 0; p < np; p++)
            if (session_forward(s, "generate", tokens + p, 1, p, 1))
                return 1;
    } else if (session_forward(s, "generate", tokens, np, 0, 1)) {
        return 1;
    }
    /* like llama2.c, the step at position p prints the token of position p+1 */
    uint32_t last_printed = np < ntok ? np : np - 1;
    for (uint32_t p = 1; p <= last_printed; p++) {
        size_t n = 0;
        const char *piece = tern_tokenizer_decode(s->tok, tokens[p - 1], tokens[p], &n);
        if (print_piece(text, piece, n))
            return 1;
    }
    if (np < ntok)
        return 0;
    /* generation: sample from the last position's logits, then one position at a time */
    int32_t token = tokens[np - 1];
    for (uint32_t pos = np;; pos++) {
        int32_t next;
        size_t n = 0;
        const char *piece;
        if (tern_sampler_sample(sampler, s->logits, &next)) {
            fprintf(stderr, "tern generate: cannot sample after position %u: a logit is NaN or infinite\n", pos - 1);
            return 1;
        }
        if (next == 1)
            return 0; /* BOS delimits sequences */
        piece = tern_tokenizer_decode(s->tok, token, next, &n);
        if (print_piece(text, piece, n))
            return 1;
        ++*generated;
        token = next;
        if (pos >= (uint32_t)a->steps)
            return 0;
        if (session_forward(s, "generate", &token, 1, pos, 1))
            return 1;
    }
}

static void write_json(FILE *f, const struct gen_args *a, const struct session *s, size_t ntok, size_t generated,
                       const struct text_out *text)
{
    struct json_out j;

    json_begin(&j, f);
    json_str(&j, "command", "generate");
    json_str(&j, "model", a->model);
    json_str(&j, "prompt", a->prompt);
    json_u64(&j, "prompt_tokens", ntok);
    json_u64(&j, "generated_tokens", generated);
    json_strn(&j, "text", text->buf ? text->buf : "", text->len);
    json_u64(&j, "steps", (uint64_t)a->steps);
    json_f64(&j, "temperature", a->temperature);
    json_f64(&j, "topp", a->topp);
    json_u64(&j, "seed", a->seed);
    session_summary_json(s, &j);
    json_finish(&j);
}

int cmd_generate(int argc, char **argv)
{
    struct gen_args a;
    struct session s;
    struct tern_sampler sampler = {0};
    int32_t *tokens = NULL;
    size_t ntok = 0, generated = 0;
    struct text_out text = {0};
    struct report_file rep;
    int rc = parse_args(argc, argv, &a);

    if (rc >= 0)
        return rc;
    rc = 1;
    text.f = report_human(a.json);
    if (report_open(&rep, "generate", a.json))
        return 1;
    if (session_open(&s, "generate", a.model, a.tok, a.backend, a.compare, 1))
        goto out;
    const struct tern_model_dims *d = tern_model_dims(s.model);
    if (a.steps == 0 || a.steps > d->seq_len) {
        if (a.steps > d->seq_len)
            fprintf(stderr, "tern generate: --steps %lld is more than the model's %d positions; using %d\n",
                    (long long)a.steps, d->seq_len, d->seq_len);
        a.steps = d->seq_len;
    }
    tokens = malloc((strlen(a.prompt) + 3) * sizeof *tokens);
    if (!tokens || tern_tokenizer_encode(s.tok, a.prompt, 1, 0, tokens, &ntok)) {
        fprintf(stderr, "tern generate: cannot encode the prompt\n");
        goto out;
    }
    if (ntok > (size_t)d->seq_len) {
        fprintf(stderr, "tern generate: the prompt is %zu tokens; the model's context is %d positions\n", ntok,
                d->seq_len);
        goto out;
    }
    int src = tern_sampler_init(&sampler, d->vocab_size, a.temperature, a.topp, a.seed);
    if (src) {
        fprintf(stderr, "tern generate: cannot set up the sampler (temperature %g, topp %g): %s\n", a.temperature,
                a.topp, tern_strerror(src));
        goto out;
    }
    fprintf(stderr, "tern generate: %zu prompt tokens, %lld positions, temperature %g, topp %g, seed %llu\n", ntok,
            (long long)a.steps, a.temperature, a.topp, (unsigned long long)a.seed);
    if (run(&s, &a, &sampler, tokens, ntok, &text, &generated))
        goto out;
    fputc('\n', text.f);
    fflush(text.f);
    if (session_finish(&s, "generate"))
        goto out;
    session_summary_text(&s, stderr);
    if (rep.f) {
        write_json(rep.f, &a, &s, ntok, generated, &text);
        if (report_close(&rep, "generate"))
            goto out;
    }
    rc = 0;
out:
    if (rc)
        report_discard(&rep);
    tern_sampler_free(&sampler);
    free(text.buf);
    free(tokens);
    session_close(&s);
    return rc;
}
