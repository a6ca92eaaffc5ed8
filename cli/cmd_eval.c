/* cmd_eval.c — `tern eval`: teacher-forced scoring of a text (perplexity, mean negative
 * log-likelihood, top-1 agreement) with every ternary product on the accelerator. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "commands.h"
#include "llm_session.h"

static void help(FILE *f)
{
    fprintf(f,
            "usage: tern eval --model M --tokenizer T --text FILE [--backend URI] [--compare A,B] [--json FILE]\n"
            "  Scores a text teacher-forced: BOS, then the text encoded as a prompt would be. Prints\n"
            "  the perplexity, the mean negative log-likelihood (nats per token) and the top-1\n"
            "  agreement (how often the most likely next token is the text's), and the hardware summary.\n"
            "  A text longer than the model's context is scored in windows of that length, each\n"
            "  starting again from BOS.\n"
            "  --model M          checkpoint (e.g. ../shared/models/bitllama-3m/model.bin)\n"
            "  --tokenizer T      tokenizer (e.g. ../shared/models/bitllama-3m/tokenizer.bin)\n"
            "  --text FILE        the text: UTF-8 bytes (a pipe works); a file with a NUL byte is refused\n"
            "  --backend URI      device: ref, ref:config=tiny, sim:config=tiny, ... (default ref)\n"
            "  --compare A,B      run on two devices in lock step, comparing every accumulator, the\n"
            "                     logits and the counters; the report says what was compared\n"
            "  --progress         show progress on stderr even when it is not a terminal (a line per\n"
            "                     percent); by default only a terminal gets it, updated in place\n"
            "  --no-progress      no progress\n"
            "  --json FILE        write the scores and the summary as JSON too ('-': stdout, which then\n"
            "                     holds only the JSON; the scores go to stderr)\n");
}

/* The whole file (a pipe or a terminal too) as a string without its final newlines; NULL after
 * printing why: it cannot be read, or it holds a NUL byte, which no text does (the tokenizer would
 * stop there and score the text only up to it). */
static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL, *nul;
    size_t n = 0, cap = 0;

    if (!f) {
        fprintf(stderr, "tern eval: cannot read %s: %s\n", path, strerror(errno));
        return NULL;
    }
    for (;;) {
        if (cap - n < 4096) {
            char *p = realloc(buf, cap ? 2 * cap : 65536);
            if (!p) {
                fprintf(stderr, "tern eval: %s: out of memory after %zu bytes\n", path, n);
                goto fail;
            }
            buf = p;
            cap = cap ? 2 * cap : 65536;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        fprintf(stderr, "tern eval: cannot read %s: %s\n", path, strerror(errno));
        goto fail;
    }
    fclose(f);
    if ((nul = memchr(buf, 0, n))) {
        fprintf(stderr, "tern eval: %s: byte %zu (counting from 0) is NUL: a text holds no NUL bytes (is it a "
                        "binary file, or UTF-16?)\n",
                path, (size_t)(nul - buf));
        free(buf);
        return NULL;
    }
    buf[n] = 0;
    /* a text file's final newline is not part of the text */
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = 0;
    return buf;

fail:
    fclose(f);
    free(buf);
    return NULL;
}

int cmd_eval(int argc, char **argv)
{
    static const struct option opts[] = {{"model", required_argument, 0, 'm'}, {"tokenizer", required_argument, 0, 'z'},
                                         {"text", required_argument, 0, 'x'},  {"backend", required_argument, 0, 'b'},
                                         {"compare", required_argument, 0, 'c'}, {"json", required_argument, 0, 'j'},
                                         {"progress", no_argument, 0, 'P'},     {"no-progress", no_argument, 0, 'Q'},
                                         {"help", no_argument, 0, 'h'},         {0, 0, 0, 0}};
    const char *model = NULL, *tok = NULL, *text_path = NULL, *backend = "ref", *compare = NULL, *json = NULL;
    struct session s;
    struct report_file rep;
    char *text = NULL;
    int32_t *tokens = NULL, *win = NULL;
    size_t ntok = 0;
    int c, rc = 1, progress = -1;
    double nll = 0.0;
    uint64_t scored = 0, top1 = 0;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model = optarg; break;
        case 'z': tok = optarg; break;
        case 'x': text_path = optarg; break;
        case 'b': backend = optarg; break;
        case 'c': compare = optarg; break;
        case 'j': json = optarg; break;
        case 'P': progress = 1; break;
        case 'Q': progress = 0; break;
        case 'h': help(stdout); return 0;
        default: return arg_bad_option("eval", c, argv);
        }
    }
    if (optind < argc) {
        fprintf(stderr, "tern eval: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (!model || !tok || !text_path) {
        fprintf(stderr, "tern eval: --model, --tokenizer and --text are required\n");
        help(stderr);
        return 2;
    }
    if (report_open(&rep, "eval", json))
        return 1;
    text = read_text(text_path);
    if (!text) {
        report_discard(&rep);
        return 1;
    }
    memset(&s, 0, sizeof s);
    /* logits for every position of a window (rows 0: the model's sequence length) */
    if (session_open(&s, "eval", model, tok, backend, compare, 0))
        goto out;
    const struct tern_model_dims *d = tern_model_dims(s.model);
    tokens = malloc((strlen(text) + 3) * sizeof *tokens);
    win = malloc((size_t)d->seq_len * sizeof *win);
    if (!tokens || !win || tern_tokenizer_encode(s.tok, text, 1, 0, tokens, &ntok)) {
        fprintf(stderr, "tern eval: cannot encode the text\n");
        goto out;
    }
    if (ntok < 2) {
        fprintf(stderr, "tern eval: %s has no text to score\n", text_path);
        goto out;
    }
    /* windows: [BOS t1 .. t_{S-1}], then [BOS t_S ..], ...: each holds up to S-1 tokens of the text */
    const uint64_t per_window = (uint64_t)d->seq_len - 1, text_tokens = ntok - 1;
    session_progress(&s, progress, text_tokens + (text_tokens + per_window - 1) / per_window);
    size_t at = 1;
    while (at < ntok) {
        uint32_t n = 1;
        win[0] = 1;
        while (n < (uint32_t)d->seq_len && at < ntok)
            win[n++] = tokens[at++];
        if (session_forward(&s, "eval", win, n, 0, n)) {
            session_progress_end(&s);
            goto out;
        }
        for (uint32_t i = 0; i + 1 < n; i++) {
            const float *lo = s.logits + (size_t)i * d->vocab_size;
            double max = lo[0], sum = 0.0;
            int32_t best = 0;
            for (int32_t v = 1; v < d->vocab_size; v++)
                if (lo[v] > lo[best])
                    best = v;
            max = lo[best];
            for (int32_t v = 0; v < d->vocab_size; v++)
                sum += exp((double)lo[v] - max);
            nll += -((double)lo[win[i + 1]] - max - log(sum));
            top1 += best == win[i + 1];
            scored++;
        }
    }
    session_progress_end(&s);
    if (session_finish(&s, "eval"))
        goto out;
    double mean = nll / (double)scored;
    FILE *out = report_human(json);
    fprintf(out, "tokens scored     %llu\n", (unsigned long long)scored);
    fprintf(out, "mean NLL          %.9f nats/token\n", mean);
    fprintf(out, "perplexity        %.6f\n", exp(mean));
    fprintf(out, "top-1 agreement   %.4f\n", (double)top1 / (double)scored);
    session_summary_text(&s, stderr);
    if (rep.f) {
        struct json_out j;
        json_begin(&j, rep.f);
        json_str(&j, "command", "eval");
        json_str(&j, "model", model);
        json_str(&j, "text", text_path);
        json_u64(&j, "tokens_scored", scored);
        json_f64(&j, "mean_nll", mean);
        json_f64(&j, "perplexity", exp(mean));
        json_f64(&j, "top1_agreement", (double)top1 / (double)scored);
        session_summary_json(&s, &j);
        json_finish(&j);
        if (report_close(&rep, "eval"))
            goto out;
    }
    rc = 0;
out:
    if (rc)
        report_discard(&rep);
    free(win);
    free(tokens);
    free(text);
    session_close(&s);
    return rc;
}
