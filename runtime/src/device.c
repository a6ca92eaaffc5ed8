/* device.c — opening a device by URI and the protocol client: framed commands with retries,
 * reading the configuration from ID registers, and the raw register, memory and RUN commands. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tern/tern_proto.h"
#include "tern_dev_internal.h"

#define TERN_RETRIES 4
#define TERN_BOOT_PAYLOAD 256u /* scan and frame limits before the device's max_payload is known */

struct backend {
    const char *scheme;
    int (*open)(struct tern_uri *uri, struct tern_link *out, char *err, size_t errlen);
    const char *missing; /* why it is not available, when open is NULL */
};

static const struct backend backends[] = {
    {"ref", tern_ref_link_open, NULL},
#ifdef TERN_HAVE_SIM
    {"sim", tern_sim_link_open, NULL},
#else
    {"sim", NULL, "the sim backend is not built into this library (Verilator was not found at configure time)"},
#endif
#ifdef TERN_HAVE_USB
    {"usb", tern_usb_link_open, NULL},
#else
    {"usb", NULL, "the usb backend is not built into this library (libusb-1.0 was not found at build time)"},
#endif
};

int tern_dev_fail(tern_dev *dev, int err, const char *fmt, ...)
{
    va_list ap;

    if (dev) {
        va_start(ap, fmt);
        vsnprintf(dev->err, sizeof dev->err, fmt, ap);
        va_end(ap);
    }
    return err;
}

const char *tern_dev_last_error(const tern_dev *dev)
{
    return dev ? dev->err : "no device";
}

const struct tern_config *tern_dev_config(const tern_dev *dev)
{
    return dev ? &dev->cfg : NULL;
}

void tern_dev_link_stats(const tern_dev *dev, struct tern_link_stats *out)
{
    if (dev && out)
        *out = dev->link_stats;
}

void tern_dev_tile_stats(const tern_dev *dev, struct tern_tile_stats *out)
{
    if (dev && out)
        *out = dev->tile_stats;
}

/* Size the frame and receive buffers for a payload limit. */
static int size_buffers(tern_dev *dev, uint32_t max_payload)
{
    uint32_t pl = max_payload > TERN_NUM_COUNTERS * 8 ? max_payload : TERN_NUM_COUNTERS * 8;
    size_t tx_cap = (size_t)pl + TERN_CMD_OVERHEAD;
    size_t rx_cap = 2 * ((size_t)pl + TERN_RSP_OVERHEAD);
    uint8_t *tx = realloc(dev->tx, tx_cap);

    if (!tx)
        return TERN_E_NOMEM;
    dev->tx = tx;
    dev->tx_cap = tx_cap;
    if (rx_cap > dev->rx_cap) {
        uint8_t *rx = realloc(dev->rx, rx_cap);
        if (!rx)
            return TERN_E_NOMEM;
        dev->rx = rx;
        dev->rx_cap = rx_cap;
    }
    dev->scan_max = pl;
    return TERN_OK;
}

static void rx_drop(tern_dev *dev, size_t n)
{
    memmove(dev->rx, dev->rx + n, dev->rx_len - n);
    dev->rx_len -= n;
}

/* One command: send the frame, wait for the response with this seq and opcode, retrying the
 * same frame on timeouts, corrupt responses and BAD_HCRC/BAD_PCRC/BUSY. On success the response
 * payload (exactly want_len bytes unless want_len is SIZE_MAX) is copied to rsp. */
static int transact(tern_dev *dev, uint8_t op, uint32_t addr, const void *payload, uint32_t len, void *rsp,
                    size_t want_len)
{
    uint16_t seq = ++dev->seq;
    size_t flen = tern_frame_cmd(dev->tx, dev->tx_cap, op, seq, addr, payload, len);
    char lerr[256] = "";
    int last_status = -1;

    if (!flen)
        return tern_dev_fail(dev, TERN_E_INVAL, "%s: payload of %u bytes exceeds the frame buffer", tern_opcode_name(op),
                             len);
    for (int attempt = 0; attempt <= TERN_RETRIES; attempt++) {
        int rc;

        if (attempt)
            dev->link_stats.retries++;
        rc = dev->link.ops->send(dev->link.ctx, dev->tx, flen, lerr, sizeof lerr);
        /* a device that takes no bytes for a while is retried like one that does not answer: a
         * frame cut short fails its CRC, the resent one (same seq) goes through */
        if (rc == TERN_E_TIMEOUT && attempt < TERN_RETRIES)
            continue;
        if (rc)
            return tern_dev_fail(dev, rc, "%s seq %u: sending %zu bytes failed: %s", tern_opcode_name(op), seq, flen,
                                 lerr);
        dev->link_stats.bytes_sent += flen;

        for (;;) {
            struct tern_rsp r;
            size_t used = 0, got = 0;
            enum tern_scan s = tern_scan_rsp(dev->rx, dev->rx_len, dev->scan_max, &r, &used);

            if (s == TERN_SCAN_MORE) {
                dev->link_stats.bytes_skipped += used;
                rx_drop(dev, used);
                if (dev->rx_len == dev->rx_cap) { /* cannot happen with a sane device: drop it all */
                    dev->link_stats.bytes_skipped += dev->rx_len;
                    dev->rx_len = 0;
                }
                rc = dev->link.ops->recv(dev->link.ctx, dev->rx + dev->rx_len, dev->rx_cap - dev->rx_len, &got,
                                         dev->link.timeout_ms, lerr, sizeof lerr);
                if (rc)
                    return tern_dev_fail(dev, rc, "%s seq %u: receiving failed: %s", tern_opcode_name(op), seq, lerr);
                if (!got)
                    break; /* timeout: send again */
                dev->rx_len += got;
                dev->link_stats.bytes_received += got;
                continue;
            }
            size_t frame_start = used - r.len - TERN_RSP_OVERHEAD;
            dev->link_stats.bytes_skipped += frame_start;
            if (r.seq != seq || r.opcode != op || s == TERN_SCAN_BAD_PCRC) {
                int mine = r.seq == seq && r.opcode == op;
                /* a stale response to an earlier retry, or ours damaged: skip it */
                if (!mine)
                    dev->link_stats.bytes_skipped += used - frame_start;
                rx_drop(dev, used);
                if (mine)
                    break; /* ours, corrupted in transit: send again */
                continue;
            }
            last_status = r.status;
            if (r.status == TERN_ST_BAD_HCRC || r.status == TERN_ST_BAD_PCRC || r.status == TERN_ST_BUSY) {
                rx_drop(dev, used);
                break;
            }
            if (r.status == TERN_ST_OK && want_len != SIZE_MAX && r.len != want_len) {
                rx_drop(dev, used);
                return tern_dev_fail(dev, TERN_E_PROTO, "%s seq %u: response payload of %u bytes, expected %zu",
                                     tern_opcode_name(op), seq, r.len, want_len);
            }
            if (r.status == TERN_ST_OK && rsp)
                memcpy(rsp, r.payload, r.len);
            rx_drop(dev, used);
            dev->link_stats.commands++;
            if (r.status == TERN_ST_OK)
                return TERN_OK;
            if (r.status == TERN_ST_ILLEGAL_CODE)
                return tern_dev_fail(dev, TERN_E_CODE,
                                     "%s seq %u: the device met an illegal weight code (10) in the matrix",
                                     tern_opcode_name(op), seq);
            return tern_dev_fail(dev, TERN_E_DEVICE, "%s seq %u (addr 0x%08x, %u payload bytes): device answered %s",
                                 tern_opcode_name(op), seq, addr, len, tern_status_name(r.status));
        }
    }
    if (last_status >= 0)
        return tern_dev_fail(dev, TERN_E_TIMEOUT, "%s seq %u: still %s after %d retries", tern_opcode_name(op), seq,
                             tern_status_name(last_status), TERN_RETRIES);
    return tern_dev_fail(dev, TERN_E_TIMEOUT, "%s seq %u: no valid response after %d retries (%s)",
                         tern_opcode_name(op), seq, TERN_RETRIES, lerr[0] ? lerr : "timeout");
}

/* Check the ID block and fill the configuration; a device that reports nonsense is refused. */
static int read_config(tern_dev *dev, const uint8_t *id)
{
    struct tern_config *c = &dev->cfg;
    uint32_t r[TERN_NUM_ID_REGS], ver;

    for (int i = 0; i < TERN_NUM_ID_REGS; i++)
        r[i] = tern_get_u32(id + 4 * i);
    if (r[TERN_REG_ID_MAGIC] != TERN_ID_MAGIC)
        return tern_dev_fail(dev, TERN_E_PROTO, "ID_MAGIC is 0x%08x, not 0x%08x: not a tern device",
                             r[TERN_REG_ID_MAGIC], TERN_ID_MAGIC);
    ver = r[TERN_REG_ID_VERSION] >> 16;
    if (ver != TERN_PROTO_VERSION)
        return tern_dev_fail(dev, TERN_E_PROTO, "device speaks protocol version %u, this runtime %u", ver,
                             TERN_PROTO_VERSION);
    memset(c, 0, sizeof *c);
    memcpy(c->name, id + 4 * TERN_REG_NAME_LO, 8);
    c->proto_version = ver;
    c->hw_revision = r[TERN_REG_ID_VERSION] & 0xFFFF;
    c->lanes = r[TERN_REG_LANES];
    c->width = r[TERN_REG_WIDTH];
    c->acc_width = r[TERN_REG_ACC_WIDTH];
    c->max_k = r[TERN_REG_MAX_K];
    c->wmem_words = r[TERN_REG_WMEM_WORDS];
    c->amem_words = r[TERN_REG_AMEM_WORDS];
    c->omem_words = r[TERN_REG_OMEM_WORDS];
    c->max_payload = r[TERN_REG_MAX_PAYLOAD];
    c->clock_hz = r[TERN_REG_CLOCK_HZ];
    c->link_kind = r[TERN_REG_LINK_KIND];
    c->link_bytes_per_s = r[TERN_REG_LINK_BYTES_PER_S];
    c->run_setup = r[TERN_REG_RUN_SETUP];
    c->run_drain = r[TERN_REG_RUN_DRAIN];
    c->num_counters = r[TERN_REG_NUM_COUNTERS];
    c->backend = r[TERN_REG_BACKEND];
    if (!c->lanes || (c->lanes & (c->lanes - 1)) || c->lanes > 256 || c->width < 4 || (c->width & (c->width - 1)) ||
        c->width > 256 || !c->wmem_words || !c->amem_words || !c->omem_words || c->max_payload < 64 ||
        c->max_payload % 4 || c->max_k < c->width || c->acc_width < 10 || c->acc_width > 32 ||
        c->num_counters != TERN_NUM_COUNTERS)
        return tern_dev_fail(dev, TERN_E_PROTO,
                             "device reports an impossible configuration (lanes %u, width %u, acc %u, payload %u)",
                             c->lanes, c->width, c->acc_width, c->max_payload);
    return TERN_OK;
}

/* Bring the receiver of a device in an unknown state back to HUNT (ARCHITECTURE.md section 6). */
static int resync(tern_dev *dev)
{
    static const uint8_t zeros[4096];
    char lerr[256] = "";
    size_t left = 65536 + TERN_CMD_OVERHEAD, got;
    /* whatever the filler makes the device say comes at once; a longer wait buys nothing, and a
     * late stale response is skipped like any other (wrong seq) */
    unsigned quiet_ms = dev->link.timeout_ms < 250 ? dev->link.timeout_ms : 250;

    while (left) {
        size_t n = left < sizeof zeros ? left : sizeof zeros;
        int rc = dev->link.ops->send(dev->link.ctx, zeros, n, lerr, sizeof lerr);
        if (rc)
            return tern_dev_fail(dev, rc, "resynchronising the link failed: %s", lerr);
        left -= n;
    }
    do {
        int rc = dev->link.ops->recv(dev->link.ctx, dev->rx, dev->rx_cap, &got, quiet_ms, lerr, sizeof lerr);
        if (rc)
            return tern_dev_fail(dev, rc, "resynchronising the link failed: %s", lerr);
    } while (got);
    return TERN_OK;
}

int tern_dev_open_link(const struct tern_link *link, tern_dev **out, char *err, size_t errlen)
{
    uint8_t id[TERN_NUM_ID_REGS * 4];
    tern_dev *dev;
    int rc = TERN_E_NOMEM;

    dev = calloc(1, sizeof *dev);
    if (!dev) {
        link->ops->close(link->ctx);
        snprintf(err, errlen, "out of memory");
        return rc;
    }
    dev->link = *link;
    dev->seq = 0;
    rc = size_buffers(dev, TERN_BOOT_PAYLOAD);
    if (rc) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (dev->link.resync_on_open) {
        rc = resync(dev);
        if (rc)
            goto fail_msg;
    }
    rc = transact(dev, TERN_OP_PING, 0, NULL, 0, id, sizeof id);
    if (rc)
        goto fail_msg;
    rc = read_config(dev, id);
    if (rc)
        goto fail_msg;
    rc = size_buffers(dev, dev->cfg.max_payload);
    if (rc) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    *out = dev;
    return TERN_OK;

fail_msg:
    snprintf(err, errlen, "%s", dev->err);
fail:
    tern_dev_close(dev);
    return rc;
}

int tern_dev_open(const char *uri_text, tern_dev **out)
{
    return tern_dev_open_ex(uri_text, out, NULL, 0);
}

int tern_dev_open_ex(const char *uri_text, tern_dev **out, char *err, size_t errlen)
{
    char scratch[512];
    struct tern_uri uri;
    struct tern_link link;
    int rc;

    if (!err || !errlen) {
        err = scratch;
        errlen = sizeof scratch;
    }
    err[0] = 0;
    if (!out) {
        snprintf(err, errlen, "tern_dev_open: out is NULL");
        return TERN_E_INVAL;
    }
    *out = NULL;
    rc = tern_uri_parse(uri_text, &uri, err, errlen);
    if (rc)
        return rc;
    for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++) {
        if (strcmp(backends[i].scheme, uri.scheme))
            continue;
        if (!backends[i].open) {
            snprintf(err, errlen, "%s", backends[i].missing);
            return TERN_E_UNSUPPORTED;
        }
        rc = backends[i].open(&uri, &link, err, errlen);
        if (rc)
            return rc;
        return tern_dev_open_link(&link, out, err, errlen);
    }
    snprintf(err, errlen, "unknown backend '%s' (known: ref, sim, usb)", uri.scheme);
    return TERN_E_NOTFOUND;
}

void tern_dev_close(tern_dev *dev)
{
    if (!dev)
        return;
    tern_residency_detach_all(dev);
    free(dev->act_buf);
    free(dev->resident);
    free(dev->rx);
    free(dev->tx);
    if (dev->link.ops)
        dev->link.ops->close(dev->link.ctx);
    free(dev);
}

int tern_dev_ping(tern_dev *dev)
{
    uint8_t id[TERN_NUM_ID_REGS * 4];

    if (!dev)
        return TERN_E_INVAL;
    return transact(dev, TERN_OP_PING, 0, NULL, 0, id, sizeof id);
}

int tern_dev_read_reg(tern_dev *dev, uint32_t index, uint32_t *value)
{
    uint8_t v[4];
    int rc;

    if (!dev || !value)
        return tern_dev_fail(dev, TERN_E_INVAL, "tern_dev_read_reg: NULL argument");
    rc = transact(dev, TERN_OP_READ_REG, index, NULL, 0, v, 4);
    if (!rc)
        *value = tern_get_u32(v);
    return rc;
}

int tern_dev_write_reg(tern_dev *dev, uint32_t index, uint32_t value)
{
    uint8_t v[4];

    if (!dev)
        return TERN_E_INVAL;
    tern_put_u32(v, value);
    return transact(dev, TERN_OP_WRITE_REG, index, v, 4, NULL, 0);
}

int tern_dev_write_mem(tern_dev *dev, uint32_t addr, const void *data, size_t len)
{
    const uint8_t *p = data;

    if (!dev || (!data && len))
        return tern_dev_fail(dev, TERN_E_INVAL, "tern_dev_write_mem: NULL argument");
    if ((uint64_t)addr + len > 0x100000000ull)
        return tern_dev_fail(dev, TERN_E_INVAL, "tern_dev_write_mem: 0x%08x + %zu passes the end of the address space",
                             addr, len);
    while (len) {
        uint32_t n = len > dev->cfg.max_payload ? dev->cfg.max_payload : (uint32_t)len;
        int rc = transact(dev, TERN_OP_WRITE_MEM, addr, p, n, NULL, 0);
        if (rc)
            return rc;
        addr += n;
        p += n;
        len -= n;
    }
    return TERN_OK;
}

int tern_dev_read_mem(tern_dev *dev, uint32_t addr, void *data, size_t len)
{
    uint8_t *p = data;

    if (!dev || (!data && len))
        return tern_dev_fail(dev, TERN_E_INVAL, "tern_dev_read_mem: NULL argument");
    if ((uint64_t)addr + len > 0x100000000ull)
        return tern_dev_fail(dev, TERN_E_INVAL, "tern_dev_read_mem: 0x%08x + %zu passes the end of the address space",
                             addr, len);
    while (len) {
        uint32_t n = len > dev->cfg.max_payload ? dev->cfg.max_payload : (uint32_t)len;
        uint8_t cnt[4];
        int rc;

        tern_put_u32(cnt, n);
        rc = transact(dev, TERN_OP_READ_MEM, addr, cnt, 4, p, n);
        if (rc)
            return rc;
        addr += n;
        p += n;
        len -= n;
    }
    return TERN_OK;
}

int tern_dev_run(tern_dev *dev, const struct tern_run *run)
{
    uint8_t pl[TERN_RUN_PAYLOAD_BYTES];

    if (!dev || !run)
        return tern_dev_fail(dev, TERN_E_INVAL, "tern_dev_run: NULL argument");
    tern_put_u32(pl, run->wbase);
    tern_put_u32(pl + 4, run->n);
    tern_put_u32(pl + 8, run->k);
    tern_put_u32(pl + 12, run->abase);
    tern_put_u32(pl + 16, run->t);
    tern_put_u32(pl + 20, run->obase);
    tern_put_u32(pl + 24, run->accumulate);
    return transact(dev, TERN_OP_RUN, 0, pl, sizeof pl, NULL, 0);
}

int tern_dev_read_counters(tern_dev *dev, struct tern_counters *out)
{
    uint8_t raw[TERN_NUM_COUNTERS * 8];
    uint64_t v[TERN_NUM_COUNTERS];
    int rc;

    if (!dev || !out)
        return tern_dev_fail(dev, TERN_E_INVAL, "tern_dev_read_counters: NULL argument");
    rc = transact(dev, TERN_OP_READ_COUNTERS, 0, NULL, 0, raw, sizeof raw);
    if (rc)
        return rc;
    for (int i = 0; i < TERN_NUM_COUNTERS; i++)
        v[i] = tern_get_u64(raw + 8 * i);
    out->cycles = v[TERN_CNT_CYCLES];
    out->cyc_rx = v[TERN_CNT_CYC_RX];
    out->cyc_tx = v[TERN_CNT_CYC_TX];
    out->cyc_ctrl = v[TERN_CNT_CYC_CTRL];
    out->cyc_commit = v[TERN_CNT_CYC_COMMIT];
    out->cyc_compute = v[TERN_CNT_CYC_COMPUTE];
    out->cyc_pipe = v[TERN_CNT_CYC_PIPE];
    out->cyc_stall_rx = v[TERN_CNT_CYC_STALL_RX];
    out->cyc_stall_tx = v[TERN_CNT_CYC_STALL_TX];
    out->tern_ops = v[TERN_CNT_TERN_OPS];
    out->bytes_in = v[TERN_CNT_BYTES_IN];
    out->bytes_out = v[TERN_CNT_BYTES_OUT];
    out->frames_ok = v[TERN_CNT_FRAMES_OK];
    out->frames_err = v[TERN_CNT_FRAMES_ERR];
    out->illegal_runs = v[TERN_CNT_ILLEGAL_RUNS];
    return TERN_OK;
}

uint64_t tern_counter_get(const struct tern_counters *c, int i)
{
    if (!c)
        return 0;
    switch (i) {
    case TERN_CNT_CYCLES: return c->cycles;
    case TERN_CNT_CYC_RX: return c->cyc_rx;
    case TERN_CNT_CYC_TX: return c->cyc_tx;
    case TERN_CNT_CYC_CTRL: return c->cyc_ctrl;
    case TERN_CNT_CYC_COMMIT: return c->cyc_commit;
    case TERN_CNT_CYC_COMPUTE: return c->cyc_compute;
    case TERN_CNT_CYC_PIPE: return c->cyc_pipe;
    case TERN_CNT_CYC_STALL_RX: return c->cyc_stall_rx;
    case TERN_CNT_CYC_STALL_TX: return c->cyc_stall_tx;
    case TERN_CNT_TERN_OPS: return c->tern_ops;
    case TERN_CNT_BYTES_IN: return c->bytes_in;
    case TERN_CNT_BYTES_OUT: return c->bytes_out;
    case TERN_CNT_FRAMES_OK: return c->frames_ok;
    case TERN_CNT_FRAMES_ERR: return c->frames_err;
    case TERN_CNT_ILLEGAL_RUNS: return c->illegal_runs;
    default: return 0;
    }
}

int tern_dev_reset(tern_dev *dev)
{
    if (!dev)
        return TERN_E_INVAL;
    return transact(dev, TERN_OP_RESET, 0, NULL, 0, NULL, 0);
}
