/* device.c — opening a device by URI and the protocol client: framed commands with retries,
 * reading the configuration from ID registers, and the raw register, memory and RUN commands.
 * Every wait on the device is bounded (ARCHITECTURE.md section 8): a command ends in a bounded time
 * whatever the device sends. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tern/tern_proto.h"
#include "tern_dev_internal.h"
#include "tern_idblock.h"

#define TERN_RETRIES 4
#define TERN_BOOT_PAYLOAD 256u /* scan and frame limits before the device's max_payload is known */
/* Bytes the client takes from the link in one attempt while awaiting a response before it counts
 * the attempt as failed: this many largest responses (stale answers to earlier retries, noise)
 * plus TERN_SLACK_BYTES. A device that talks without end cannot hold a command. */
#define TERN_BUDGET_FRAMES (TERN_RETRIES + 4)
#define TERN_SLACK_BYTES 65536u
/* Real links (timeout_ms > 0) also get a wall-clock deadline an attempt: DEADLINE_TIMEOUTS times
 * timeout_ms plus DEADLINE_RATE_FACTOR times the time the attempt's bytes take at the link's rate. */
#define TERN_DEADLINE_TIMEOUTS 4u
#define TERN_DEADLINE_RATE_FACTOR 8u
/* After the resynchronisation filler: the link must go quiet within this many bytes. */
#define TERN_RESYNC_BUDGET (1u << 20)

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

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* The bounds of one attempt that sends flen bytes (see TERN_BUDGET_FRAMES, TERN_DEADLINE_*): the
 * bytes it may take from the link, and its length in ms (0: none, for in-process models, whose
 * simulated time bounds them). */
static void attempt_bounds(const tern_dev *dev, size_t flen, uint64_t *budget, uint64_t *limit_ms)
{
    uint64_t frame = (uint64_t)dev->scan_max + TERN_RSP_OVERHEAD;
    uint64_t rate = dev->cfg.link_bytes_per_s ? dev->cfg.link_bytes_per_s : 100000u; /* before PING: slow */

    *budget = TERN_BUDGET_FRAMES * frame + TERN_SLACK_BYTES;
    *limit_ms = 0;
    if (dev->link.timeout_ms)
        *limit_ms = (uint64_t)TERN_DEADLINE_TIMEOUTS * dev->link.timeout_ms +
                    TERN_DEADLINE_RATE_FACTOR * 1000u * (flen + frame) / rate + 1;
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
    uint64_t budget = 0, limit = 0, start = 0, taken = 0;

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
        attempt_bounds(dev, flen, &budget, &limit);
        start = now_ms();
        taken = 0;

        for (;;) {
            struct tern_rsp r;
            size_t used = 0, got = 0;
            enum tern_scan s = tern_scan_rsp(dev->rx, dev->rx_len, dev->scan_max, &r, &used);

            if (s == TERN_SCAN_MORE) {
                uint64_t now;
                unsigned wait = dev->link.timeout_ms;

                dev->link_stats.bytes_skipped += used;
                rx_drop(dev, used);
                if (dev->rx_len == dev->rx_cap) { /* cannot happen with a sane device: drop it all */
                    dev->link_stats.bytes_skipped += dev->rx_len;
                    dev->rx_len = 0;
                }
                if (taken >= budget) { /* a device that talks but never answers: send again */
                    snprintf(lerr, sizeof lerr, "%llu bytes arrived without the response",
                             (unsigned long long)taken);
                    break;
                }
                if (limit) {
                    now = now_ms() - start;
                    if (now >= limit) { /* a device that trickles: send again */
                        snprintf(lerr, sizeof lerr, "no complete response within %llu ms (%llu bytes arrived)",
                                 (unsigned long long)limit, (unsigned long long)taken);
                        break;
                    }
                    if (limit - now < wait)
                        wait = (unsigned)(limit - now);
                }
                rc = dev->link.ops->recv(dev->link.ctx, dev->rx + dev->rx_len, dev->rx_cap - dev->rx_len, &got, wait,
                                         lerr, sizeof lerr);
                if (rc)
                    return tern_dev_fail(dev, rc, "%s seq %u: receiving failed: %s", tern_opcode_name(op), seq, lerr);
                if (!got)
                    break; /* timeout: send again */
                dev->rx_len += got;
                dev->link_stats.bytes_received += got;
                taken += got;
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
    char why[400];
    int rc = tern_idblock_parse(id, &dev->cfg, why, sizeof why);

    if (rc)
        return tern_dev_fail(dev, rc, "refusing the device: %s", why);
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
    uint64_t taken = 0, start, limit;

    while (left) {
        size_t n = left < sizeof zeros ? left : sizeof zeros;
        int rc = dev->link.ops->send(dev->link.ctx, zeros, n, lerr, sizeof lerr);
        if (rc)
            return tern_dev_fail(dev, rc, "resynchronising the link failed: %s", lerr);
        left -= n;
    }
    /* bounded like any wait on the device: a link that never goes quiet is refused */
    start = now_ms();
    limit = (uint64_t)TERN_DEADLINE_TIMEOUTS * (dev->link.timeout_ms ? dev->link.timeout_ms : 1000u);
    do {
        int rc = dev->link.ops->recv(dev->link.ctx, dev->rx, dev->rx_cap, &got, quiet_ms, lerr, sizeof lerr);
        if (rc)
            return tern_dev_fail(dev, rc, "resynchronising the link failed: %s", lerr);
        taken += got;
        if (got && (taken > TERN_RESYNC_BUDGET || now_ms() - start >= limit))
            return tern_dev_fail(dev, TERN_E_TIMEOUT,
                                 "resynchronising the link: it did not go quiet (%llu bytes in %llu ms after the "
                                 "filler): a device or line that never stops sending",
                                 (unsigned long long)taken, (unsigned long long)(now_ms() - start));
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
