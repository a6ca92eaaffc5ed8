/* vboard_loopback.c — the loopback engine of the virtual board: the FPGA side of the bridge chip
 * echoes every byte it receives, at once (no link timing). For measuring the USB path alone:
 * libusb, umockdev and the emulated chip, without an accelerator behind them. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tern/tern.h"
#include "tern/tern_proto.h"
#include "vboard_engine.h"

struct loopback {
    uint32_t fpga_baud; /* UART: the rate the far end runs at */
    uint32_t host_baud; /* the rate the chip was set to (recorded; the echo does not depend on it) */
    uint64_t bytes;
};

static int loopback_step(void *ctx, const uint8_t *in, size_t in_len, size_t *in_used, uint8_t *out,
                         size_t out_cap, size_t *out_len, int *quiet, char *err, size_t errlen)
{
    struct loopback *l = ctx;
    size_t n = in_len < out_cap ? in_len : out_cap;

    (void)err;
    (void)errlen;
    memcpy(out, in, n);
    *in_used = n;
    *out_len = n;
    l->bytes += n;
    *quiet = 1; /* nothing of its own to do: it only answers input */
    return TERN_OK;
}

static void loopback_set_baud(void *ctx, uint32_t baud)
{
    struct loopback *l = ctx;

    l->host_baud = baud;
}

static void loopback_reset(void *ctx)
{
    struct loopback *l = ctx;

    l->bytes = 0;
}

static void loopback_destroy(void *ctx)
{
    free(ctx);
}

static const struct vboard_engine_ops loopback_ops = {loopback_step, loopback_set_baud, loopback_reset,
                                                      loopback_destroy};

int vboard_engine_loopback(int link, uint32_t baud, struct vboard_engine *out, char *err, size_t errlen)
{
    struct loopback *l;

    if (link != TERN_LINK_UART && link != TERN_LINK_FIFO245) {
        snprintf(err, errlen, "the loopback engine needs a UART or FIFO245 link, not %s", tern_link_kind_name(link));
        return TERN_E_UNSUPPORTED;
    }
    l = calloc(1, sizeof *l);
    if (!l) {
        snprintf(err, errlen, "out of memory");
        return TERN_E_NOMEM;
    }
    l->fpga_baud = baud;
    l->host_baud = baud;
    out->ops = &loopback_ops;
    out->ctx = l;
    out->name = "loopback";
    out->link = link;
    out->baud = link == TERN_LINK_UART ? baud : 0;
    return TERN_OK;
}
