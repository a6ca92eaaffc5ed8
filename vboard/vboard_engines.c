/* vboard_engines.c — the accelerators a virtual board can carry behind its bridge chip: the board
 * RTL under Verilator (tern_board_sim: the bridge RTL included, at the bit or byte timing of the
 * link) or the ref model (instant, for long workloads). Both speak the framed protocol; the
 * chip model in vboard_ftdi.c does not know which it feeds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tern/tern.h"
#include "tern/tern_proto.h"
#include "tern_refdev.h"
#include "vboard_engine.h"
#ifdef TERN_HAVE_SIM
#include "tern/tern_board_sim.h"
#endif

/* ------------------------------------------------------------------------------------ ref */

struct ref_engine {
    tern_refdev *dev;
    const struct tern_hwcfg *cfg;
    uint32_t fpga_baud; /* UART: the rate the board's UART runs at */
    uint32_t host_baud; /* the rate the chip was set to */
};

/* 8N1 tolerates a few percent between the two ends; beyond that every byte is garbage. */
static int baud_mismatch(uint32_t a, uint32_t b)
{
    uint32_t d = a > b ? a - b : b - a;
    return (uint64_t)d * 100 > (uint64_t)3 * b;
}

static int ref_step(void *ctx, const uint8_t *in, size_t in_len, size_t *in_used, uint8_t *out, size_t out_cap,
                    size_t *out_len, int *quiet, char *err, size_t errlen)
{
    struct ref_engine *e = ctx;

    (void)err;
    (void)errlen;
    if (e->cfg->link_kind == TERN_LINK_UART && baud_mismatch(e->host_baud, e->fpga_baud)) {
        /* the FPGA's receiver sees framing errors only: the bytes never make a frame */
        *in_used = in_len;
        *out_len = 0;
        *quiet = 1;
        return TERN_OK;
    }
    tern_refdev_push(e->dev, in, in_len);
    *in_used = in_len;
    *out_len = tern_refdev_pull(e->dev, out, out_cap);
    *quiet = tern_refdev_pending(e->dev) == 0;
    return TERN_OK;
}

static void ref_set_baud(void *ctx, uint32_t baud)
{
    struct ref_engine *e = ctx;

    e->host_baud = baud;
}

static void ref_reset(void *ctx)
{
    struct ref_engine *e = ctx;
    tern_refdev *fresh;

    if (tern_refdev_create(e->cfg, &fresh) == TERN_OK) {
        tern_refdev_destroy(e->dev);
        e->dev = fresh;
    }
}

static void ref_destroy(void *ctx)
{
    struct ref_engine *e = ctx;

    if (!e)
        return;
    tern_refdev_destroy(e->dev);
    free(e);
}

static const struct vboard_engine_ops ref_ops = {ref_step, ref_set_baud, ref_reset, ref_destroy};

/* The bridge chips the virtual board emulates: FTDI UART and FT245 FIFO. */
static int check_link(const char *config, uint32_t link, char *err, size_t errlen)
{
    if (link == TERN_LINK_UART || link == TERN_LINK_FIFO245)
        return TERN_OK;
    snprintf(err, errlen,
             "configuration '%s' uses a %s link; the virtual board emulates FTDI UART and FT245 FIFO bridges only "
             "(use --config tiny or default)",
             config, tern_link_kind_name((int)link));
    return TERN_E_UNSUPPORTED;
}

int vboard_engine_ref(const char *config, struct vboard_engine *out, char *err, size_t errlen)
{
    const struct tern_hwcfg *cfg = tern_hwcfg_find(config);
    struct ref_engine *e;
    int rc;

    if (!cfg) {
        snprintf(err, errlen, "no configuration '%s'", config);
        return TERN_E_NOTFOUND;
    }
    rc = check_link(config, cfg->link_kind, err, errlen);
    if (rc)
        return rc;
    e = calloc(1, sizeof *e);
    if (!e) {
        snprintf(err, errlen, "out of memory");
        return TERN_E_NOMEM;
    }
    rc = tern_refdev_create(cfg, &e->dev);
    if (rc) {
        snprintf(err, errlen, "cannot create the '%s' ref model: %s", config, tern_strerror(rc));
        free(e);
        return rc;
    }
    e->cfg = cfg;
    e->fpga_baud = cfg->link_bytes_per_s * 10; /* 8N1: ten bits a byte */
    e->host_baud = e->fpga_baud;
    out->ops = &ref_ops;
    out->ctx = e;
    out->name = "ref";
    out->link = (int)cfg->link_kind;
    out->baud = e->fpga_baud;
    return TERN_OK;
}

/* ------------------------------------------------------------------------------------ rtl */

#ifdef TERN_HAVE_SIM
/* Cycles one step may clock: a few ms of wall time at the slowest model's speed, so the chip
 * model's buffers are served often. */
#define RTL_STEP_CYCLES 20000u

struct rtl_engine {
    tern_board_sim *sim;
    char config[16];
    char *trace_path;
    uint32_t baud;
};

static int rtl_step(void *ctx, const uint8_t *in, size_t in_len, size_t *in_used, uint8_t *out, size_t out_cap,
                    size_t *out_len, int *quiet, char *err, size_t errlen)
{
    struct rtl_engine *e = ctx;
    uint64_t ran = 0;
    int rc;

    if (!e->sim) {
        snprintf(err, errlen, "the board simulation could not be restarted after a power cycle");
        return TERN_E_IO;
    }
    rc = tern_board_sim_run(e->sim, in, in_len, in_used, out, out_cap, out_len, RTL_STEP_CYCLES, &ran);
    if (rc) {
        snprintf(err, errlen, "board simulation failed: %s", tern_strerror(rc));
        return rc;
    }
    *quiet = *in_used == in_len && tern_board_sim_quiet(e->sim);
    return TERN_OK;
}

static void rtl_set_baud(void *ctx, uint32_t baud)
{
    struct rtl_engine *e = ctx;

    e->baud = baud;
    tern_board_sim_set_baud(e->sim, baud);
}

static void rtl_reset(void *ctx)
{
    struct rtl_engine *e = ctx;
    struct tern_board_sim_opts o = {e->trace_path, 0, e->baud};
    tern_board_sim *fresh;
    char err[256];

    /* a power cycle: a new design from reset (the trace, if any, starts over) */
    tern_board_sim_destroy(e->sim);
    e->sim = NULL;
    if (tern_board_sim_create(e->config, &o, &fresh, err, sizeof err) == TERN_OK)
        e->sim = fresh;
}

static void rtl_destroy(void *ctx)
{
    struct rtl_engine *e = ctx;

    if (!e)
        return;
    tern_board_sim_destroy(e->sim);
    free(e->trace_path);
    free(e);
}

static const struct vboard_engine_ops rtl_ops = {rtl_step, rtl_set_baud, rtl_reset, rtl_destroy};

int vboard_engine_rtl(const char *config, const char *trace_path, struct vboard_engine *out, char *err,
                      size_t errlen)
{
    struct tern_board_sim_opts o = {trace_path, 0, 0};
    struct rtl_engine *e;
    int rc;

    e = calloc(1, sizeof *e);
    if (!e) {
        snprintf(err, errlen, "out of memory");
        return TERN_E_NOMEM;
    }
    snprintf(e->config, sizeof e->config, "%s", config);
    if (trace_path && !(e->trace_path = strdup(trace_path))) {
        rc = TERN_E_NOMEM;
        snprintf(err, errlen, "out of memory");
        goto fail_free;
    }
    rc = tern_board_sim_create(config, &o, &e->sim, err, errlen);
    if (rc)
        goto fail_trace;
    out->ops = &rtl_ops;
    out->ctx = e;
    out->name = "rtl";
    out->link = tern_board_sim_link(e->sim);
    out->baud = 0;
    if (out->link == TERN_LINK_UART) {
        const struct tern_hwcfg *cfg = tern_hwcfg_find(config);
        out->baud = cfg ? cfg->link_bytes_per_s * 10 : 0;
    }
    e->baud = out->baud;
    return TERN_OK;

fail_trace:
    free(e->trace_path);
fail_free:
    free(e);
    return rc;
}
#else
int vboard_engine_rtl(const char *config, const char *trace_path, struct vboard_engine *out, char *err,
                      size_t errlen)
{
    (void)config;
    (void)trace_path;
    (void)out;
    snprintf(err, errlen, "the rtl engine needs the Verilated board models (Verilator was not found at build time); "
                          "use --engine ref");
    return TERN_E_UNSUPPORTED;
}
#endif
