/* tern.h — the public runtime API: open an accelerator, load ternary matrices, run products. */
#ifndef TERN_H
#define TERN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tern_dev tern_dev; /* one open accelerator (ref, sim or usb) */
typedef struct tern_mat tern_mat; /* a ternary matrix known to a device */

enum tern_err {
    TERN_OK = 0,
    TERN_E_INVAL = -1,       /* a bad argument: tern_dev_last_error() says which */
    TERN_E_NOMEM = -2,       /* out of host memory */
    TERN_E_IO = -3,          /* the link failed */
    TERN_E_PROTO = -4,       /* the device answered something the protocol forbids */
    TERN_E_NOFIT = -5,       /* the shape cannot be tiled onto this device */
    TERN_E_TIMEOUT = -6,     /* no valid response after every retry */
    TERN_E_DEVICE = -7,      /* the device refused a command (status in the message) */
    TERN_E_CODE = -8,        /* an illegal ternary code (binary 10) */
    TERN_E_NOTFOUND = -9,    /* no such backend, configuration or device */
    TERN_E_FORMAT = -10,     /* a malformed file */
    TERN_E_UNSUPPORTED = -11, /* not built into this library */
    TERN_E_NODEV = -12,      /* the device is gone (unplugged, or lost from the bus) */
    TERN_E_ACCESS = -13,     /* no permission to open the device (see docs/guide-boards.md) */
    TERN_E_BUSY = -14        /* the device is in use by another process or driver */
};

/* A short constant description of an error code (never NULL). */
const char *tern_strerror(int err);

/* Rounding rules for activation quantisation (ARCHITECTURE.md section 2). */
enum tern_round {
    TERN_ROUND_HALF_AWAY = 0, /* C round(): llama2.c BitNet, bitllama */
    TERN_ROUND_HALF_EVEN = 1  /* BitNet b1.58 2B4T */
};

/* Per-token absmax quantisation of n floats to int8 in [-127, 127].
 * *scale receives a = max|x| / 127 (0 for an all-zero token). */
int tern_quantize_absmax(const float *x, size_t n, enum tern_round rule, int8_t *q, float *scale);

/* Ternary codes, llama2.c layout: element j of a row-major [n][k] matrix sits at
 * bits 2*(j%4).. of byte j/4. Codes: 0 = zero, 1 = +1, 3 = -1; 2 is illegal. */
size_t tern_codes_bytes(uint64_t elements);
int tern_code_get(const uint8_t *codes, uint64_t j);          /* -1, 0, +1, or TERN_E_CODE */
void tern_code_set(uint8_t *codes, uint64_t j, int value);    /* value in {-1, 0, +1} */
/* Checks every code; returns TERN_OK or TERN_E_CODE and the first bad index. */
int tern_codes_check(const uint8_t *codes, uint64_t elements, uint64_t *bad_index);

/* The accelerator configuration, as the device reports it in its ID registers. */
struct tern_config {
    char name[9];              /* configuration name, NUL-terminated */
    uint32_t proto_version;
    uint32_t hw_revision;
    uint32_t lanes;            /* L: output rows in parallel */
    uint32_t width;            /* W: inputs per lane per cycle */
    uint32_t acc_width;        /* accumulator bits */
    uint32_t max_k;            /* largest K one output may accumulate */
    uint32_t wmem_words;       /* weight memory words of 2*L*W bits */
    uint32_t amem_words;       /* activation buffer words of W bytes */
    uint32_t omem_words;       /* output buffer words of L accumulators */
    uint32_t max_payload;      /* largest frame payload */
    uint32_t clock_hz;
    uint32_t link_kind;        /* enum tern_link_kind in tern_proto.h */
    uint32_t link_bytes_per_s;
    uint32_t run_setup;        /* RUN pipeline fill cycles */
    uint32_t run_drain;        /* RUN pipeline drain cycles */
    uint32_t num_counters;
    uint32_t backend;          /* 0 RTL, 1 ref model */
};

/* The device counters (ARCHITECTURE.md section 7). */
struct tern_counters {
    uint64_t cycles;
    uint64_t cyc_rx;
    uint64_t cyc_tx;
    uint64_t cyc_ctrl;
    uint64_t cyc_commit;
    uint64_t cyc_compute;
    uint64_t cyc_pipe;
    uint64_t cyc_stall_rx;
    uint64_t cyc_stall_tx;
    uint64_t tern_ops;
    uint64_t bytes_in;
    uint64_t bytes_out;
    uint64_t frames_ok;
    uint64_t frames_err;
    uint64_t illegal_runs;
};

/* Counter number i (0..14, the protocol's order; see tern_counter_name()); 0 past the end. */
uint64_t tern_counter_get(const struct tern_counters *c, int i);

/* Open a device by URI: "ref", "ref:config=tiny"; options are comma-separated key=value. */
int tern_dev_open(const char *uri, tern_dev **out);
/* The same, writing the reason of a failure to err (there is no handle to ask yet). */
int tern_dev_open_ex(const char *uri, tern_dev **out, char *err, size_t errlen);
void tern_dev_close(tern_dev *dev); /* NULL is fine */
/* Detail of the last failure on this device ("" if none). */
const char *tern_dev_last_error(const tern_dev *dev);
/* The configuration read from the device when it was opened. */
const struct tern_config *tern_dev_config(const tern_dev *dev);

/* Raw device access, one protocol command each (ARCHITECTURE.md section 6). */
int tern_dev_ping(tern_dev *dev);
int tern_dev_read_reg(tern_dev *dev, uint32_t index, uint32_t *value);
int tern_dev_write_reg(tern_dev *dev, uint32_t index, uint32_t value);
int tern_dev_write_mem(tern_dev *dev, uint32_t addr, const void *data, size_t len);
int tern_dev_read_mem(tern_dev *dev, uint32_t addr, void *data, size_t len);
/* One RUN; len-limited writes and reads are split into max_payload pieces by the two above. */
struct tern_run {
    uint32_t wbase, n, k, abase, t, obase;
    uint32_t accumulate; /* 0 or 1 */
};
int tern_dev_run(tern_dev *dev, const struct tern_run *run);
int tern_dev_read_counters(tern_dev *dev, struct tern_counters *out);
int tern_dev_reset(tern_dev *dev);

/* Link-level statistics of this handle (host side). */
struct tern_link_stats {
    uint64_t commands;     /* commands completed */
    uint64_t retries;      /* frames sent again */
    uint64_t bytes_sent;
    uint64_t bytes_received;
    uint64_t bytes_skipped; /* received bytes that were not part of a valid response */
};
void tern_dev_link_stats(const tern_dev *dev, struct tern_link_stats *out);

/* A ternary matrix [n][k] in llama2.c code layout (see above). The codes are copied into
 * hardware tiles; the tiles that fit in free weight memory are written at once, the others
 * when a product first needs them (evicting least recently used tiles of other matrices). */
int tern_mat_upload(tern_dev *dev, const uint8_t *codes, uint32_t n, uint32_t k, tern_mat **out);
void tern_mat_free(tern_mat *mat); /* NULL is fine; frees its device memory too */
uint32_t tern_mat_rows(const tern_mat *mat);
uint32_t tern_mat_cols(const tern_mat *mat);
/* Make every tile of the matrix resident now (if WMEM can hold it). */
int tern_mat_prefetch(tern_mat *mat);

/* out[t][n] = sum_k codes[n][k] * act[t][k], exact int32; t >= 1 tokens (t = 1: GEMV). */
int tern_matmul(tern_dev *dev, tern_mat *mat, const int8_t *act, uint32_t t, int32_t *out);

/* Host-side accounting of the tiler and the residency cache. */
struct tern_tile_stats {
    uint64_t runs;          /* RUN commands issued */
    uint64_t tile_uploads;  /* weight tiles written to WMEM */
    uint64_t weight_bytes;  /* weight bytes written */
    uint64_t act_bytes;     /* activation bytes written */
    uint64_t out_bytes;     /* output bytes read */
    uint64_t evictions;     /* tiles evicted to make room */
};
void tern_dev_tile_stats(const tern_dev *dev, struct tern_tile_stats *out);

/* What the hardware would do (ARCHITECTURE.md section 8): from the counters a device reported
 * before and after `tokens` token positions, the cycles and link bytes per token and the tokens/s
 * of a device of configuration c on a link of link_bytes_per_s (0: the configuration's own link).
 * The protocol is half duplex, so device work and link transfers add up. */
struct tern_projection {
    double cycles_per_token;      /* every device cycle, link waits included */
    double busy_cycles_per_token; /* COMPUTE + PIPE + CTRL + COMMIT */
    double link_bytes_per_token;  /* BYTES_IN + BYTES_OUT */
    double utilisation;           /* TERN_OPS / (CYCLES * L * W) */
    double compute_bound_tps;     /* clock_hz / busy cycles */
    double link_bound_tps;        /* link bytes/s / link bytes */
    double projected_tps;         /* 1 / (busy / clock + bytes / link) */
};
void tern_project(const struct tern_config *c, const struct tern_counters *from, const struct tern_counters *to,
                  uint64_t tokens, uint32_t link_bytes_per_s, struct tern_projection *out);

#ifdef __cplusplus
}
#endif
#endif /* TERN_H */
