/* llm_session.c — a model on one or two devices, lock-step accumulator comparison, and the
 * hardware summary (wall, simulated and modelled figures, each labelled). */
#define _POSIX_C_SOURCE 200809L
#include "llm_session.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tern/tern_proto.h"

struct acc_record {
    int layer;
    enum tern_mat_kind kind;
    uint32_t pos, t, n;
    int32_t *acc;
};

double session_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void progress_show(struct session *s, int layer, int dev);

static int record_acc(struct session *s, int layer, enum tern_mat_kind kind, uint32_t pos, uint32_t t, uint32_t n,
                      const int32_t *acc)
{
    struct acc_record *r;

    if (s->nrec == s->caprec) {
        size_t cap = s->caprec ? 2 * s->caprec : 64;
        struct acc_record *p = realloc(s->rec, cap * sizeof *p);
        if (!p)
            return TERN_E_NOMEM;
        memset(p + s->caprec, 0, (cap - s->caprec) * sizeof *p);
        s->rec = p;
        s->caprec = cap;
    }
    r = &s->rec[s->nrec];
    int32_t *copy = realloc(r->acc, (size_t)t * n * sizeof *copy);
    if (!copy)
        return TERN_E_NOMEM;
    memcpy(copy, acc, (size_t)t * n * sizeof *copy);
    *r = (struct acc_record){layer, kind, pos, t, n, copy};
    s->nrec++;
    return TERN_OK;
}

static int compare_acc(struct session *s, int layer, enum tern_mat_kind kind, uint32_t pos, uint32_t t, uint32_t n,
                       const int32_t *acc)
{
    const struct acc_record *r;

    if (s->cmp_next >= s->nrec) {
        fprintf(stderr, "tern: --compare: %s issued a product (layer %d %s) that %s did not\n", s->devs[1].uri, layer,
                tern_mat_kind_name(kind), s->devs[0].uri);
        s->mismatch = 1;
        return TERN_E_PROTO;
    }
    r = &s->rec[s->cmp_next++];
    if (r->layer != layer || r->kind != kind || r->pos != pos || r->t != t || r->n != n) {
        fprintf(stderr, "tern: --compare: the two devices issued different products (layer %d %s vs layer %d %s)\n",
                r->layer, tern_mat_kind_name(r->kind), layer, tern_mat_kind_name(kind));
        s->mismatch = 1;
        return TERN_E_PROTO;
    }
    for (size_t i = 0; i < (size_t)t * n; i++)
        if (r->acc[i] != acc[i]) {
            fprintf(stderr,
                    "tern: --compare: MISMATCH at layer %d, matrix %s, token position %zu, index %zu: "
                    "%s gives %d, %s gives %d\n",
                    layer, tern_mat_kind_name(kind), pos + i / n, i % n, s->devs[0].uri, r->acc[i], s->devs[1].uri,
                    acc[i]);
            s->mismatch = 1;
            return TERN_E_PROTO;
        }
    s->compared.products++;
    s->compared.accumulators += (uint64_t)t * n;
    return TERN_OK;
}

/* The observers of the first and the second device: record or compare (with --compare), then
 * progress. */
static int observe_first(void *ctx, int layer, enum tern_mat_kind kind, uint32_t pos, uint32_t t, uint32_t n,
                         const int32_t *acc)
{
    struct session *s = ctx;
    int rc = s->ndevs == 2 ? record_acc(s, layer, kind, pos, t, n, acc) : TERN_OK;

    if (!rc)
        progress_show(s, layer, 0);
    return rc;
}

static int observe_second(void *ctx, int layer, enum tern_mat_kind kind, uint32_t pos, uint32_t t, uint32_t n,
                          const int32_t *acc)
{
    struct session *s = ctx;
    int rc = compare_acc(s, layer, kind, pos, t, n, acc);

    if (!rc)
        progress_show(s, layer, 1);
    return rc;
}

static int open_dev(struct session *s, struct session_dev *d, const char *cmd)
{
    char err[512];
    int rc = tern_dev_open_ex(d->uri, &d->dev, err, sizeof err);

    if (rc) {
        fprintf(stderr, "tern %s: cannot open device '%s': %s: %s\n", cmd, d->uri, tern_strerror(rc), err);
        return rc;
    }
    rc = tern_llm_create(d->dev, s->model, &s->family, &d->llm);
    if (rc) {
        fprintf(stderr, "tern %s: cannot put the model on '%s': %s: %s\n", cmd, d->uri, tern_strerror(rc),
                tern_dev_last_error(d->dev));
        return rc;
    }
    rc = tern_dev_read_counters(d->dev, &d->start);
    if (rc)
        fprintf(stderr, "tern %s: %s: %s\n", cmd, d->uri, tern_dev_last_error(d->dev));
    return rc;
}

int session_open(struct session *s, const char *cmd, const char *model_path, const char *tok_path,
                 const char *backend, const char *compare, uint32_t logits_rows)
{
    char err[512];
    int rc;

    char(*uris)[256];

    memset(s, 0, sizeof *s);
    s->cmd = cmd;
    uris = s->uri_buf;
    tern_family_bitllama(&s->family);
    rc = tern_model_load(model_path, &s->model, err, sizeof err);
    if (rc) {
        fprintf(stderr, "tern %s: %s\n", cmd, err);
        return rc;
    }
    rc = tern_tokenizer_load(tok_path, tern_model_dims(s->model)->vocab_size, &s->tok, err, sizeof err);
    if (rc) {
        fprintf(stderr, "tern %s: %s\n", cmd, err);
        return rc;
    }
    if (compare) {
        const char *comma = strchr(compare, ',');
        if (!comma || comma == compare || !comma[1] || (size_t)(comma - compare) >= sizeof uris[0] ||
            strlen(comma + 1) >= sizeof uris[1]) {
            fprintf(stderr, "tern %s: --compare wants two devices, e.g. ref,sim (got '%s')\n", cmd, compare);
            return TERN_E_INVAL;
        }
        memcpy(uris[0], compare, (size_t)(comma - compare));
        uris[0][comma - compare] = 0;
        strcpy(uris[1], comma + 1);
        s->devs[0].uri = uris[0];
        s->devs[1].uri = uris[1];
        s->ndevs = 2;
    } else {
        s->devs[0].uri = backend;
        s->ndevs = 1;
    }
    for (int i = 0; i < s->ndevs; i++) {
        rc = open_dev(s, &s->devs[i], cmd);
        if (rc)
            return rc;
    }
    tern_llm_set_observer(s->devs[0].llm, observe_first, s);
    if (s->ndevs == 2)
        tern_llm_set_observer(s->devs[1].llm, observe_second, s);
    if (logits_rows == 0)
        logits_rows = (uint32_t)tern_model_dims(s->model)->seq_len;
    s->logits_rows = logits_rows;
    s->logits = malloc((size_t)logits_rows * tern_model_dims(s->model)->vocab_size * sizeof(float));
    s->logits_other = malloc((size_t)logits_rows * tern_model_dims(s->model)->vocab_size * sizeof(float));
    if (!s->logits || !s->logits_other) {
        fprintf(stderr, "tern %s: out of memory\n", cmd);
        return TERN_E_NOMEM;
    }
    s->wall_from = session_now();
    return TERN_OK;
}

void session_close(struct session *s)
{
    for (size_t i = 0; i < s->caprec; i++)
        free(s->rec[i].acc);
    free(s->rec);
    free(s->logits_other);
    free(s->logits);
    for (int i = 0; i < s->ndevs; i++) {
        tern_llm_free(s->devs[i].llm);
        tern_dev_close(s->devs[i].dev);
    }
    tern_tokenizer_free(s->tok);
    tern_model_free(s->model);
}

int session_forward(struct session *s, const char *cmd, const int32_t *tokens, uint32_t t, uint32_t pos,
                    uint32_t rows)
{
    int rc;

    s->nrec = 0;
    s->cmp_next = 0;
    s->prog.fwd_t = t;
    s->prog.fwd_products = 0;
    for (int i = 0; i < s->ndevs; i++) {
        float *lo = i == 0 ? s->logits : s->logits_other;
        rc = tern_llm_forward(s->devs[i].llm, tokens, t, pos, rows ? lo : NULL, rows);
        if (rc) {
            if (!s->mismatch)
                fprintf(stderr, "tern %s: forward pass on '%s' (positions %u..%u) failed: %s (%s)\n", cmd,
                        s->devs[i].uri, pos, pos + t - 1, tern_dev_last_error(s->devs[i].dev), tern_strerror(rc));
            return rc;
        }
    }
    if (s->ndevs == 2 && s->cmp_next != s->nrec) {
        fprintf(stderr, "tern %s: --compare: %s issued fewer products than %s\n", cmd, s->devs[1].uri,
                s->devs[0].uri);
        return TERN_E_PROTO;
    }
    if (s->ndevs == 2 && rows &&
        memcmp(s->logits, s->logits_other, (size_t)rows * tern_model_dims(s->model)->vocab_size * sizeof(float))) {
        fprintf(stderr, "tern %s: --compare: identical accumulators but different logits at position %u\n", cmd,
                pos);
        return TERN_E_PROTO;
    }
    if (s->ndevs == 2)
        s->compared.logit_rows += rows;
    s->tokens += t;
    s->prog.base += t;
    return TERN_OK;
}

/* ---- progress ----------------------------------------------------------------------------- */

void session_progress(struct session *s, int mode, uint64_t total_positions)
{
    const int tty = isatty(fileno(stderr));

    s->prog.on = mode > 0 || (mode < 0 && tty);
    s->prog.tty = tty;
    s->prog.total = total_positions;
    s->prog.last_pct = -1;
}

static void progress_show(struct session *s, int layer, int dev)
{
    struct session_progress *p = &s->prog;
    const int layers = tern_model_dims(s->model)->n_layers;
    const uint64_t per_pass = (uint64_t)layers * TERN_MAT_KINDS * (uint64_t)s->ndevs;
    uint64_t done;
    int pct;

    p->fwd_products++;
    if (!p->on || !p->total)
        return;
    done = p->base + (per_pass ? p->fwd_t * p->fwd_products / per_pass : p->fwd_t);
    pct = (int)(100 * (done < p->total ? done : p->total) / p->total);
    if (p->tty) {
        double now = session_now();
        if (now - p->last_print < 0.1 && p->fwd_products < per_pass)
            return; /* a terminal needs no more than ten updates a second */
        p->last_print = now;
        fprintf(stderr, "\rtern %s: %3d%%  ~%llu / %llu token positions  (layer %d of %d on %s)   ", s->cmd, pct,
                (unsigned long long)done, (unsigned long long)p->total, layer + 1, layers, s->devs[dev].uri);
        fflush(stderr);
    } else if (pct != p->last_pct) {
        fprintf(stderr, "tern %s: %3d%%  ~%llu / %llu token positions  (layer %d of %d on %s)\n", s->cmd, pct,
                (unsigned long long)done, (unsigned long long)p->total, layer + 1, layers, s->devs[dev].uri);
    }
    p->last_pct = pct;
}

void session_progress_end(struct session *s)
{
    if (s->prog.on && s->prog.tty && s->prog.last_print > 0)
        fputc('\n', stderr);
    s->prog.on = 0;
}

/* ---- the end of the run ------------------------------------------------------------------- */

/* The two configurations tile and time a product alike: the same array, memories and pipeline. */
static int same_array(const struct tern_config *a, const struct tern_config *b)
{
    return a->lanes == b->lanes && a->width == b->width && a->acc_width == b->acc_width && a->max_k == b->max_k &&
           a->wmem_words == b->wmem_words && a->amem_words == b->amem_words && a->omem_words == b->omem_words &&
           a->max_payload == b->max_payload && a->run_setup == b->run_setup && a->run_drain == b->run_drain;
}

/* One counter over the run on both devices (and, when want is given, as the host expects it). */
static int compare_counter(struct session *s, int index, const uint64_t *want, uint64_t *out)
{
    uint64_t v[2];

    for (int i = 0; i < 2; i++)
        v[i] = tern_counter_get(&s->devs[i].end, index) - tern_counter_get(&s->devs[i].start, index);
    if (v[0] != v[1] || (want && v[0] != *want)) {
        fprintf(stderr, "tern %s: --compare: counter %s over the run: %s reports %llu, %s reports %llu", s->cmd,
                tern_counter_name(index), s->devs[0].uri, (unsigned long long)v[0], s->devs[1].uri,
                (unsigned long long)v[1]);
        if (want)
            fprintf(stderr, ", the host issued %llu", (unsigned long long)*want);
        fputc('\n', stderr);
        return TERN_E_PROTO;
    }
    *out = v[0];
    return TERN_OK;
}

static int compare_counters(struct session *s)
{
    struct session_compared *c = &s->compared;
    struct tern_llm_stats st;
    int rc;

    tern_llm_stats(s->devs[0].llm, &st);
    rc = compare_counter(s, TERN_CNT_TERN_OPS, &st.tern_terms, &c->tern_ops);
    c->same_array = same_array(tern_dev_config(s->devs[0].dev), tern_dev_config(s->devs[1].dev));
    if (!rc && c->same_array)
        rc = compare_counter(s, TERN_CNT_CYC_COMPUTE, NULL, &c->cyc_compute);
    if (!rc && c->same_array)
        rc = compare_counter(s, TERN_CNT_CYC_PIPE, NULL, &c->cyc_pipe);
    return rc;
}

int session_finish(struct session *s, const char *cmd)
{
    for (int i = 0; i < s->ndevs; i++) {
        int rc = tern_dev_read_counters(s->devs[i].dev, &s->devs[i].end);
        if (rc) {
            fprintf(stderr, "tern %s: %s: %s\n", cmd, s->devs[i].uri, tern_dev_last_error(s->devs[i].dev));
            return rc;
        }
    }
    s->wall_seconds = session_now() - s->wall_from;
    return s->ndevs == 2 ? compare_counters(s) : TERN_OK;
}

/* Figures of one device over the run (weights upload excluded). */
struct figures {
    double wall_tps, cycles_per_token, util, link_bytes_per_token, projected_tps, compute_bound_tps, link_bound_tps;
    const char *cycles_label;
};

static struct figures figures_of(const struct session *s, const struct session_dev *d)
{
    const struct tern_config *c = tern_dev_config(d->dev);
    struct tern_projection p;
    struct figures f;

    tern_project(c, &d->start, &d->end, s->tokens, 0, &p);
    f.wall_tps = s->wall_seconds > 0 ? s->tokens / s->wall_seconds : 0;
    f.cycles_per_token = p.cycles_per_token;
    f.util = p.utilisation;
    f.link_bytes_per_token = p.link_bytes_per_token;
    f.compute_bound_tps = p.compute_bound_tps;
    f.link_bound_tps = p.link_bound_tps;
    f.projected_tps = p.projected_tps;
    f.cycles_label = c->backend ? "modelled" : "simulated";
    return f;
}

static void compare_text(const struct session *s, FILE *f)
{
    const struct session_compared *c = &s->compared;

    fprintf(f, "\n--- --compare %s with %s: everything compared is identical ---\n", s->devs[0].uri,
            s->devs[1].uri);
    fprintf(f, "  products       %llu ternary products over %llu token positions, each run on both devices\n",
            (unsigned long long)c->products, (unsigned long long)s->tokens);
    fprintf(f, "  accumulators   all %llu int32 accumulators identical\n", (unsigned long long)c->accumulators);
    fprintf(f, "  logits         all %llu rows of %d logits identical\n", (unsigned long long)c->logit_rows,
            tern_model_dims(s->model)->vocab_size);
    fprintf(f, "  counters       %s %llu on both, as the host issued", tern_counter_name(TERN_CNT_TERN_OPS),
            (unsigned long long)c->tern_ops);
    if (c->same_array)
        fprintf(f, "; %s %llu and %s %llu on both (same array and memories)\n",
                tern_counter_name(TERN_CNT_CYC_COMPUTE), (unsigned long long)c->cyc_compute,
                tern_counter_name(TERN_CNT_CYC_PIPE), (unsigned long long)c->cyc_pipe);
    else
        fprintf(f, "; cycles not compared (the configurations differ)\n");
}

static void compare_json(const struct session *s, struct json_out *j)
{
    const struct session_compared *c = &s->compared;

    json_object(j, "compare");
    json_array(j, "devices");
    json_str(j, NULL, s->devs[0].uri);
    json_str(j, NULL, s->devs[1].uri);
    json_end_array(j);
    json_bool(j, "identical", 1);
    json_u64(j, "products", c->products);
    json_u64(j, "token_positions", s->tokens);
    json_u64(j, "accumulators", c->accumulators);
    json_u64(j, "logit_rows", c->logit_rows);
    json_u64(j, "logits", c->logit_rows * (uint64_t)tern_model_dims(s->model)->vocab_size);
    json_object(j, "counters");
    json_u64(j, tern_counter_name(TERN_CNT_TERN_OPS), c->tern_ops);
    if (c->same_array) {
        json_u64(j, tern_counter_name(TERN_CNT_CYC_COMPUTE), c->cyc_compute);
        json_u64(j, tern_counter_name(TERN_CNT_CYC_PIPE), c->cyc_pipe);
    }
    json_end_object(j);
    json_bool(j, "cycles_compared", c->same_array);
    json_end_object(j);
}

void session_summary_text(const struct session *s, FILE *f)
{
    if (s->ndevs == 2)
        compare_text(s, f);
    fprintf(f, "\n--- hardware summary (%llu token positions) ---\n", (unsigned long long)s->tokens);
    for (int i = 0; i < s->ndevs; i++) {
        const struct session_dev *d = &s->devs[i];
        const struct tern_config *c = tern_dev_config(d->dev);
        struct figures g = figures_of(s, d);
        fprintf(f, "device %s: configuration %s, %ux%u array, %.0f MHz, %s link at %.3g MB/s\n", d->uri, c->name,
                c->lanes, c->width, c->clock_hz / 1e6, tern_link_kind_name((int)c->link_kind),
                c->link_bytes_per_s / 1e6);
        fprintf(f, "  wall tokens/s               %10.2f   (measured, this host)\n", g.wall_tps);
        fprintf(f, "  device cycles per token     %10.0f   (%s)\n", g.cycles_per_token, g.cycles_label);
        fprintf(f, "  PE utilisation              %9.2f%%   (%s: useful ternary adds / (cycles x %u))\n",
                100 * g.util, g.cycles_label, c->lanes * c->width);
        fprintf(f, "  link bytes per token        %10.0f   (%s)\n", g.link_bytes_per_token, g.cycles_label);
        fprintf(f, "  projected tokens/s          %10.2f   (modelled: %.0f MHz clock, %.3g MB/s link; compute "
                   "alone %.1f, link alone %.1f)\n",
                g.projected_tps, c->clock_hz / 1e6, c->link_bytes_per_s / 1e6, g.compute_bound_tps,
                g.link_bound_tps);
    }
}

/* A figure with its kind: measured, simulated or modelled. */
static void json_figure(struct json_out *j, const char *key, double value, const char *kind)
{
    json_object(j, key);
    json_f64(j, "value", value);
    json_str(j, "kind", kind);
    json_end_object(j);
}

void session_summary_json(const struct session *s, struct json_out *j)
{
    json_u64(j, "token_positions", s->tokens);
    json_f64(j, "wall_seconds", s->wall_seconds);
    if (s->ndevs == 2)
        compare_json(s, j);
    json_array(j, "devices");
    for (int i = 0; i < s->ndevs; i++) {
        const struct session_dev *d = &s->devs[i];
        struct figures g = figures_of(s, d);
        json_object(j, NULL);
        json_str(j, "device", d->uri);
        report_config_json(j, "config", tern_dev_config(d->dev));
        json_figure(j, "wall_tokens_per_s", g.wall_tps, "measured");
        json_figure(j, "device_cycles_per_token", g.cycles_per_token, g.cycles_label);
        json_figure(j, "pe_utilisation", g.util, g.cycles_label);
        json_figure(j, "link_bytes_per_token", g.link_bytes_per_token, g.cycles_label);
        json_object(j, "projected_tokens_per_s");
        json_f64(j, "value", g.projected_tps);
        json_f64(j, "compute_bound", g.compute_bound_tps);
        json_f64(j, "link_bound", g.link_bound_tps);
        json_str(j, "kind", "modelled");
        json_end_object(j);
        report_counters_json(j, "counters_start", &d->start);
        report_counters_json(j, "counters_end", &d->end);
        json_end_object(j);
    }
    json_end_array(j);
}
