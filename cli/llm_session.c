/* llm_session.c — a model on one or two devices, lock-step accumulator comparison, and the
 * hardware summary (wall, simulated and modelled figures, each labelled). */
#define _POSIX_C_SOURCE 200809L
#include "llm_session.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

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

static int record_acc(void *ctx, int layer, enum tern_mat_kind kind, uint32_t pos, uint32_t t, uint32_t n,
                      const int32_t *acc)
{
    struct session *s = ctx;
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

static int compare_acc(void *ctx, int layer, enum tern_mat_kind kind, uint32_t pos, uint32_t t, uint32_t n,
                       const int32_t *acc)
{
    struct session *s = ctx;
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
    return TERN_OK;
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
    if (s->ndevs == 2) {
        tern_llm_set_observer(s->devs[0].llm, record_acc, s);
        tern_llm_set_observer(s->devs[1].llm, compare_acc, s);
    }
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
    s->tokens += t;
    return TERN_OK;
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
    return TERN_OK;
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

void session_summary_text(const struct session *s, FILE *f)
{
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
