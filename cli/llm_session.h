/* llm_session.h — what `tern generate` and `tern eval` share: a model and tokenizer bound to one
 * device (or two in lock step, for --compare), and the hardware summary they print. */
#ifndef TERN_CLI_LLM_SESSION_H
#define TERN_CLI_LLM_SESSION_H

#include <stdio.h>

#include "report.h"
#include "tern/tern_llm.h"

#define SESSION_MAX_DEVS 2

struct session_dev {
    const char *uri;
    tern_dev *dev;
    tern_llm *llm;
    struct tern_counters start; /* counters after the weights were uploaded */
    struct tern_counters end;
};

/* Progress of long work on stderr (session_progress). */
struct session_progress {
    int on, tty;
    uint64_t total;        /* token positions the run pushes through the model */
    uint64_t base;         /* ... of the forward passes finished */
    uint32_t fwd_t;        /* positions of the forward pass under way */
    uint64_t fwd_products; /* its products done so far, over every device */
    int last_pct;
    double last_print;
};

/* What --compare compared (all of it identical, or the run stopped at the first difference). */
struct session_compared {
    uint64_t products;     /* ternary products, each on both devices */
    uint64_t accumulators; /* int32 accumulators in them */
    uint64_t logit_rows;   /* rows of logits (vocab_size floats each) */
    uint64_t tern_ops;     /* TERN_OPS on each device over the run, as the host counted */
    int same_array;        /* same array and memories: compute and pipeline cycles compared too */
    uint64_t cyc_compute, cyc_pipe;
};

struct session {
    const char *cmd;
    tern_model *model;
    tern_tokenizer *tok;
    struct tern_family family;
    struct session_dev devs[SESSION_MAX_DEVS];
    char uri_buf[SESSION_MAX_DEVS][256];
    int ndevs; /* 2 with --compare: devs[1] must give the same accumulators as devs[0] */
    float *logits;        /* [rows][vocab] of devs[0] */
    float *logits_other;  /* scratch for devs[1] */
    uint32_t logits_rows;
    /* compare mode: the accumulators of devs[0]'s current forward pass */
    struct acc_record *rec;
    size_t nrec, caprec, cmp_next;
    int mismatch;
    struct session_compared compared;
    struct session_progress prog;
    double wall_from;    /* when the model was ready on every device */
    double wall_seconds; /* from then to session_finish */
    uint64_t tokens;               /* positions pushed through the model */
};

/* Load the model and tokenizer and open the devices: backend is one URI, compare is
 * "URI,URI" or NULL; logits_rows 0 means the model's sequence length. Prints a clear error and returns nonzero on failure. */
int session_open(struct session *s, const char *cmd, const char *model_path, const char *tok_path,
                 const char *backend, const char *compare, uint32_t logits_rows);
void session_close(struct session *s);

/* One forward pass on every device; the logits of devs[0] land in s->logits. With two devices
 * their accumulators are compared product by product; the first difference is printed (layer,
 * matrix, token position, index, both values) and the call fails. */
int session_forward(struct session *s, const char *cmd, const int32_t *tokens, uint32_t t, uint32_t pos,
                    uint32_t rows);

/* Show progress on stderr while forward passes run: per ternary product, as the share of the
 * total token positions done (a prefill moves every position of its batch through a layer at a
 * time). mode 1: always (whole lines, one per percent, when stderr is not a terminal); 0: never;
 * -1: when stderr is a terminal (updated in place). session_progress_end ends the line. */
void session_progress(struct session *s, int mode, uint64_t total_positions);
void session_progress_end(struct session *s);

/* Counters at the end (with --compare, checked between the devices: TERN_OPS always, compute and
 * pipeline cycles when both have the same array and memories; a difference is printed and fails),
 * the hardware summary on f and in JSON. */
int session_finish(struct session *s, const char *cmd);
void session_summary_text(const struct session *s, FILE *f);
void session_summary_json(const struct session *s, struct json_out *j);

double session_now(void);

#endif /* TERN_CLI_LLM_SESSION_H */
