/* usb_device.c — one open board: claim the bridge's interface, let the transport set the chip up,
 * then move bytes with libusb's asynchronous API. Several IN transfers stay in flight and feed a
 * ring buffer inside the handle (paused while the ring is nearly full); writes keep several OUT
 * transfers in flight. Stalls are cleared and the transfer resumed; every failure becomes a
 * TERN_E_* code with a message naming the operation, the endpoint and the bytes moved.
 * A handle is used by one thread at a time; callbacks only run inside this file's calls. */
#define _POSIX_C_SOURCE 200809L

#include <libusb.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ftdi_baud.h"
#include "tern/tern.h"
#include "tern/tern_usb.h"
#include "usb_transport.h"

#define DEFAULT_BAUD 3000000u
#define DEFAULT_LATENCY_MS 1u
#define DEFAULT_TRANSFERS 4u
#define DEFAULT_TRANSFER_SIZE 16384u
#define MAX_TRANSFERS 64u
#define MAX_IN_FLIGHT_BYTES (64u << 20)  /* transfers * transfer_size */
#define CONTROL_TIMEOUT_MS 1000u
#define DRAIN_LIMIT_NS 1000000000ll      /* how long close and purge wait for cancelled transfers */
#define EVENT_SLICE_NS 100000000ll       /* one wait for events when no deadline is closer */
#define MAX_STALLS_WITHOUT_PROGRESS 8u

struct in_slot {
    struct libusb_transfer *xfer;
    tern_usb_dev *dev;
    int flying; /* submitted, callback not run yet */
};

struct out_slot {
    struct libusb_transfer *xfer;
    tern_usb_dev *dev;
    int flying;
    size_t offset; /* of its first byte in the caller's buffer */
    size_t length;
    int status;    /* enum libusb_transfer_status once done */
    size_t actual; /* bytes the device took */
};

struct tern_usb_dev {
    libusb_context *usb;
    libusb_device *device; /* a reference we hold */
    libusb_device_handle *handle;
    const struct tern_usb_transport_ops *transport;
    struct tern_usb_link link;
    struct tern_usb_info info;
    struct tern_usb_stats stats;
    char board[64];  /* "usb 0403:6010 bus 1 addr 5" for messages */
    int kernel_driver_detached;
    int claimed;
    int bridge_touched; /* the transport's setup ran (teardown on the way out) */
    unsigned transfers;
    size_t transfer_size;
    int event;       /* set by every callback: ends a wait for events */

    /* IN: transfers feed the ring */
    struct in_slot *in;
    unsigned in_flying;
    int in_stopping; /* close or purge: drop what arrives, resubmit nothing */
    int in_halted;   /* an IN transfer stalled: clear the halt before resubmitting */
    int in_error;    /* TERN_E_* an IN transfer met, reported by the next read */
    int in_error_libusb;      /* the transfer status or libusb error behind it */
    const char *in_error_op;  /* what was being done */
    int gone;        /* the device disappeared: every call fails with TERN_E_NODEV */
    uint8_t *ring;
    size_t ring_cap, ring_head, ring_len;

    /* OUT: used by write only, in submission order */
    struct out_slot *out;
    unsigned out_flying;
};

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

/* Handle libusb events for at most wait_ns, returning early once a callback of this handle ran. */
static int pump_events(tern_usb_dev *dev, int64_t wait_ns)
{
    if (wait_ns < 0)
        wait_ns = 0;
    struct timeval tv = { .tv_sec = (time_t)(wait_ns / 1000000000ll),
                          .tv_usec = (suseconds_t)((wait_ns % 1000000000ll) / 1000) };
    dev->event = 0;
    int rc = libusb_handle_events_timeout_completed(dev->usb, &tv, &dev->event);
    return rc == LIBUSB_ERROR_INTERRUPTED ? 0 : rc;
}

/* The message of a failed transfer; returns code. */
static int transfer_error(char *err, size_t errlen, int code, const char *op, uint8_t endpoint,
                          size_t done, size_t total, unsigned timeout_ms, int libusb_code)
{
    char moved[64] = "";
    if (total)
        snprintf(moved, sizeof moved, " after %zu of %zu bytes", done, total);
    switch (code) {
    case TERN_E_NODEV:
        snprintf(err, errlen,
                 "board unplugged (or lost from the bus) during %s on endpoint 0x%02x%s (%s)", op,
                 endpoint, moved, libusb_error_name(libusb_code));
        break;
    case TERN_E_TIMEOUT:
        snprintf(err, errlen, "timed out after %u ms during %s on endpoint 0x%02x%s (%s)",
                 timeout_ms, op, endpoint, moved, libusb_error_name(libusb_code));
        break;
    default:
        snprintf(err, errlen, "%s on endpoint 0x%02x failed%s: %s", op, endpoint, moved,
                 libusb_error_name(libusb_code));
        break;
    }
    return code;
}

static int code_of_status(int status)
{
    switch (status) {
    case LIBUSB_TRANSFER_COMPLETED:
        return TERN_OK;
    case LIBUSB_TRANSFER_NO_DEVICE:
        return TERN_E_NODEV;
    case LIBUSB_TRANSFER_TIMED_OUT:
        return TERN_E_TIMEOUT;
    default:
        return TERN_E_IO;
    }
}

/* ---- IN: transfers -> ring ---- */

static void ring_put(tern_usb_dev *dev, const uint8_t *src, size_t len)
{
    size_t tail = (dev->ring_head + dev->ring_len) % dev->ring_cap;
    size_t first = dev->ring_cap - tail < len ? dev->ring_cap - tail : len;
    memcpy(dev->ring + tail, src, first);
    memcpy(dev->ring, src + first, len - first);
    dev->ring_len += len;
}

static size_t ring_get(tern_usb_dev *dev, uint8_t *dst, size_t cap)
{
    size_t len = dev->ring_len < cap ? dev->ring_len : cap;
    size_t first = dev->ring_cap - dev->ring_head < len ? dev->ring_cap - dev->ring_head : len;
    memcpy(dst, dev->ring + dev->ring_head, first);
    memcpy(dst + first, dev->ring, len - first);
    dev->ring_head = (dev->ring_head + len) % dev->ring_cap;
    dev->ring_len -= len;
    if (dev->ring_len == 0)
        dev->ring_head = 0;
    return len;
}

static void note_in_error(tern_usb_dev *dev, int code, int libusb_code, const char *op)
{
    if (code == TERN_E_NODEV)
        dev->gone = 1;
    if (dev->in_error && dev->in_error != TERN_E_IO)
        return; /* keep the first serious one */
    dev->in_error = code;
    dev->in_error_libusb = libusb_code;
    dev->in_error_op = op;
}

/* Room for one more IN transfer whatever the ones in flight bring. */
static int ring_has_room(const tern_usb_dev *dev)
{
    return dev->ring_cap - dev->ring_len >= (size_t)(dev->in_flying + 1u) * dev->transfer_size;
}

static void LIBUSB_CALL in_done(struct libusb_transfer *xfer);

static int submit_in(tern_usb_dev *dev, struct in_slot *slot)
{
    libusb_fill_bulk_transfer(slot->xfer, dev->handle, dev->link.ep_in, slot->xfer->buffer,
                              (int)dev->transfer_size, in_done, slot, 0);
    int rc = libusb_submit_transfer(slot->xfer);
    if (rc < 0) {
        note_in_error(dev, tern_usb_code_of(rc), rc, "read (submitting an IN transfer)");
        return rc;
    }
    slot->flying = 1;
    dev->in_flying++;
    return 0;
}

static int may_submit_in(const tern_usb_dev *dev)
{
    return !dev->in_stopping && !dev->in_halted && !dev->gone && !dev->in_error &&
           ring_has_room(dev);
}

static void LIBUSB_CALL in_done(struct libusb_transfer *xfer)
{
    struct in_slot *slot = xfer->user_data;
    tern_usb_dev *dev = slot->dev;
    slot->flying = 0;
    dev->in_flying--;
    dev->event = 1;

    if (!dev->in_stopping && xfer->actual_length > 0) {
        size_t len = (size_t)xfer->actual_length;
        size_t payload = dev->transport->in_payload(&dev->link, xfer->buffer, len,
                                                    &dev->stats.status_bytes);
        if (payload > dev->ring_cap - dev->ring_len) { /* cannot happen: ring_has_room() */
            note_in_error(dev, TERN_E_IO, LIBUSB_ERROR_OVERFLOW, "read (the ring overflowed)");
            payload = dev->ring_cap - dev->ring_len;
        }
        ring_put(dev, xfer->buffer, payload);
        dev->stats.bytes_in += payload;
    }
    switch (xfer->status) {
    case LIBUSB_TRANSFER_COMPLETED:
        dev->stats.transfers_in++;
        if (xfer->actual_length < xfer->length)
            dev->stats.short_reads++;
        break;
    case LIBUSB_TRANSFER_CANCELLED:
    case LIBUSB_TRANSFER_TIMED_OUT:
        break;
    case LIBUSB_TRANSFER_STALL:
        dev->in_halted = 1;
        return;
    case LIBUSB_TRANSFER_NO_DEVICE:
        note_in_error(dev, TERN_E_NODEV, xfer->status, "read");
        return;
    default:
        note_in_error(dev, TERN_E_IO, xfer->status, "read");
        return;
    }
    if (may_submit_in(dev))
        (void)submit_in(dev, slot);
}

static void cancel_in(tern_usb_dev *dev)
{
    for (unsigned i = 0; i < dev->transfers; i++)
        if (dev->in[i].flying)
            (void)libusb_cancel_transfer(dev->in[i].xfer);
}

/* Cancel every IN transfer and wait (bounded) for their callbacks; 0 when all came back. */
static int drain_in(tern_usb_dev *dev)
{
    int64_t deadline = now_ns() + DRAIN_LIMIT_NS;
    cancel_in(dev);
    while (dev->in_flying > 0) {
        int64_t left = deadline - now_ns();
        if (left <= 0 || pump_events(dev, left) < 0)
            return -1;
    }
    return 0;
}

/* Outside callbacks: clear a halted IN endpoint, then keep as many IN transfers in flight as the
 * ring has room for. */
static void service_in(tern_usb_dev *dev)
{
    if (dev->in_halted && !dev->gone) {
        /* the transfers queued behind the stalled one go first, keeping their bytes */
        if (drain_in(dev) < 0) {
            note_in_error(dev, TERN_E_IO, LIBUSB_ERROR_TIMEOUT,
                          "read (cancelling IN transfers after a stall)");
            return;
        }
        int rc = libusb_clear_halt(dev->handle, dev->link.ep_in);
        if (rc < 0) {
            note_in_error(dev, tern_usb_code_of(rc), rc, "read (clearing the halt after a stall)");
            return;
        }
        dev->in_halted = 0;
        dev->stats.stalls_cleared++;
    }
    for (unsigned i = 0; i < dev->transfers && may_submit_in(dev); i++)
        if (!dev->in[i].flying && submit_in(dev, &dev->in[i]) < 0)
            break;
}

/* ---- OUT ---- */

static void LIBUSB_CALL out_done(struct libusb_transfer *xfer)
{
    struct out_slot *slot = xfer->user_data;
    tern_usb_dev *dev = slot->dev;
    slot->flying = 0;
    slot->status = xfer->status;
    slot->actual = (size_t)xfer->actual_length;
    dev->out_flying--;
    dev->event = 1;
}

static int drain_out(tern_usb_dev *dev)
{
    int64_t deadline = now_ns() + DRAIN_LIMIT_NS;
    for (unsigned i = 0; i < dev->transfers; i++)
        if (dev->out[i].flying)
            (void)libusb_cancel_transfer(dev->out[i].xfer);
    while (dev->out_flying > 0) {
        int64_t left = deadline - now_ns();
        if (left <= 0 || pump_events(dev, left) < 0)
            return -1;
    }
    return 0;
}

int tern_usb_write(tern_usb_dev *dev, const uint8_t *buf, size_t len, unsigned timeout_ms,
                   char *err, size_t errlen)
{
    const uint8_t ep = dev ? dev->link.ep_out : 0;
    size_t next = 0;  /* first byte not handed to a transfer yet */
    size_t moved = 0; /* bytes the device took, in order */
    unsigned head = 0, queued = 0; /* out slots in flight, oldest first */
    unsigned stalls = 0;           /* in a row, without progress */
    int failed_in_order = 0;       /* the oldest transfer failed: the later ones moved nothing */
    int code = TERN_OK, libusb_code = 0;
    const char *op = "write";

    if (!err)
        errlen = 0;
    if (!dev || (!buf && len)) {
        snprintf(err, errlen, "tern_usb_write: %s is NULL", dev ? "buf" : "dev");
        return TERN_E_INVAL;
    }
    if (dev->gone)
        return transfer_error(err, errlen, TERN_E_NODEV, "write", ep, 0, len, timeout_ms,
                              LIBUSB_ERROR_NO_DEVICE);
    if (dev->out_flying > 0 && drain_out(dev) < 0) {
        snprintf(err, errlen,
                 "write on endpoint 0x%02x: %u transfers of an earlier write are still pending",
                 ep, dev->out_flying);
        return TERN_E_IO;
    }

    while (moved < len) {
        while (queued < dev->transfers && next < len) {
            struct out_slot *slot = &dev->out[(head + queued) % dev->transfers];
            size_t n = len - next < dev->transfer_size ? len - next : dev->transfer_size;
            memcpy(slot->xfer->buffer, buf + next, n);
            /* no libusb timeout: the clock of a transfer starts when it reaches the head */
            libusb_fill_bulk_transfer(slot->xfer, dev->handle, ep, slot->xfer->buffer, (int)n,
                                      out_done, slot, 0);
            int rc = libusb_submit_transfer(slot->xfer);
            if (rc < 0) {
                code = tern_usb_code_of(rc);
                libusb_code = rc;
                op = "write";
                goto abort;
            }
            slot->flying = 1;
            slot->offset = next;
            slot->length = n;
            slot->actual = 0;
            dev->out_flying++;
            queued++;
            next += n;
        }

        struct out_slot *slot = &dev->out[head];
        int64_t deadline = timeout_ms ? now_ns() + (int64_t)timeout_ms * 1000000ll : INT64_MAX;
        while (slot->flying) {
            int64_t left = deadline - now_ns();
            if (left <= 0) {
                code = TERN_E_TIMEOUT;
                libusb_code = LIBUSB_TRANSFER_TIMED_OUT;
                goto abort;
            }
            int rc = pump_events(dev, left < EVENT_SLICE_NS ? left : EVENT_SLICE_NS);
            if (rc < 0) {
                code = TERN_E_IO;
                libusb_code = rc;
                op = "write (handling USB events)";
                goto abort;
            }
            /* keep the board's answers flowing (a halted IN endpoint could block the FPGA,
             * and with it the bytes this write waits on) */
            service_in(dev);
        }
        head = (head + 1) % dev->transfers;
        queued--;
        dev->stats.transfers_out++;
        dev->stats.bytes_out += slot->actual;
        moved += slot->actual;
        if (slot->status == LIBUSB_TRANSFER_COMPLETED && slot->actual == slot->length) {
            stalls = 0;
            continue;
        }
        if (slot->status != LIBUSB_TRANSFER_STALL && slot->status != LIBUSB_TRANSFER_COMPLETED) {
            code = code_of_status(slot->status);
            libusb_code = slot->status;
            failed_in_order = 1;
            goto abort;
        }
        /* A stall (or a short write): the transfers behind it have not moved; take them back,
         * clear the halt and go on from the first byte the device did not take. */
        if (drain_out(dev) < 0) {
            code = TERN_E_IO;
            libusb_code = LIBUSB_ERROR_TIMEOUT;
            op = "write (cancelling transfers after a stall)";
            goto abort;
        }
        for (unsigned i = 0; i < queued; i++) {
            struct out_slot *later = &dev->out[(head + i) % dev->transfers];
            if (later->actual) {
                code = TERN_E_IO;
                libusb_code = LIBUSB_ERROR_PIPE;
                op = "write (bytes after a stall went out of order)";
                goto fail;
            }
        }
        head = 0;
        queued = 0;
        next = moved;
        if (slot->status == LIBUSB_TRANSFER_STALL) {
            int rc = libusb_clear_halt(dev->handle, ep);
            if (rc < 0) {
                code = tern_usb_code_of(rc);
                libusb_code = rc;
                op = "write (clearing the halt after a stall)";
                goto fail;
            }
            dev->stats.stalls_cleared++;
        }
        if (slot->actual)
            stalls = 0;
        else if (++stalls > MAX_STALLS_WITHOUT_PROGRESS) {
            code = TERN_E_IO;
            libusb_code = slot->status;
            op = "write (the endpoint keeps stalling)";
            goto fail;
        }
    }
    return TERN_OK;

abort:
    if (drain_out(dev) < 0 && code != TERN_E_NODEV)
        op = "write (and its transfers could not be cancelled)";
    /* bytes the transfers still queued moved, in order, before the first that fell short */
    for (unsigned i = 0; i < queued && !failed_in_order; i++) {
        struct out_slot *s = &dev->out[(head + i) % dev->transfers];
        if (s->flying)
            break;
        moved += s->actual;
        dev->stats.bytes_out += s->actual;
        if (s->actual < s->length)
            break;
    }
fail:
    if (code == TERN_E_NODEV)
        dev->gone = 1;
    return transfer_error(err, errlen, code, op, ep, moved, len, timeout_ms, libusb_code);
}

int tern_usb_read(tern_usb_dev *dev, uint8_t *buf, size_t cap, size_t *got, unsigned timeout_ms,
                  char *err, size_t errlen)
{
    if (!err)
        errlen = 0;
    if (got)
        *got = 0;
    if (!dev || !got || (!buf && cap)) {
        snprintf(err, errlen, "tern_usb_read: %s is NULL", !dev ? "dev" : !got ? "got" : "buf");
        return TERN_E_INVAL;
    }
    if (cap == 0)
        return TERN_OK;

    const int64_t deadline = now_ns() + (int64_t)timeout_ms * 1000000ll;
    int polled = 0;
    for (;;) {
        if (dev->ring_len > 0) {
            *got = ring_get(dev, buf, cap);
            service_in(dev); /* resume transfers paused while the ring was full */
            return TERN_OK;
        }
        if (dev->in_error) {
            int code = dev->in_error;
            transfer_error(err, errlen, code, dev->in_error_op, dev->link.ep_in, 0, cap, 0,
                           dev->in_error_libusb);
            if (!dev->gone)
                dev->in_error = 0; /* reported: the transfers are resubmitted next time */
            return code;
        }
        service_in(dev);
        if (dev->in_error)
            continue;
        if (dev->in_flying == 0 && !dev->in_halted) {
            snprintf(err, errlen, "read on endpoint 0x%02x: no IN transfer could be kept in flight",
                     dev->link.ep_in);
            return TERN_E_IO;
        }
        int64_t left = deadline - now_ns();
        if (left <= 0 && polled)
            return TERN_OK;
        int rc = pump_events(dev, left);
        polled = 1;
        if (rc < 0)
            return transfer_error(err, errlen, TERN_E_IO, "read (handling USB events)",
                                  dev->link.ep_in, 0, cap, 0, rc);
    }
}

int tern_usb_purge(tern_usb_dev *dev, char *err, size_t errlen)
{
    if (!err)
        errlen = 0;
    if (!dev) {
        snprintf(err, errlen, "tern_usb_purge: dev is NULL");
        return TERN_E_INVAL;
    }
    if (dev->gone)
        return transfer_error(err, errlen, TERN_E_NODEV, "purge", dev->link.ep_in, 0, 0, 0,
                              LIBUSB_ERROR_NO_DEVICE);
    dev->in_stopping = 1;
    int drained = drain_in(dev);
    dev->in_stopping = 0;
    if (drained < 0) {
        snprintf(err, errlen, "purge: %u IN transfers on endpoint 0x%02x did not come back",
                 dev->in_flying, dev->link.ep_in);
        return TERN_E_IO;
    }
    dev->ring_head = dev->ring_len = 0;
    int rc = dev->transport->purge(&dev->link, err, errlen);
    if (rc == TERN_E_NODEV)
        dev->gone = 1;
    if (!dev->gone)
        dev->in_error = 0;
    dev->ring_head = dev->ring_len = 0;
    service_in(dev);
    return rc;
}

/* ---- open and close ---- */

static void free_transfers(tern_usb_dev *dev)
{
    for (unsigned i = 0; dev->in && i < dev->transfers; i++) {
        if (dev->in[i].xfer) {
            free(dev->in[i].xfer->buffer);
            libusb_free_transfer(dev->in[i].xfer);
        }
    }
    for (unsigned i = 0; dev->out && i < dev->transfers; i++) {
        if (dev->out[i].xfer) {
            free(dev->out[i].xfer->buffer);
            libusb_free_transfer(dev->out[i].xfer);
        }
    }
    free(dev->in);
    free(dev->out);
    free(dev->ring);
    dev->in = NULL;
    dev->out = NULL;
    dev->ring = NULL;
}

static struct libusb_transfer *new_transfer(size_t size)
{
    struct libusb_transfer *xfer = libusb_alloc_transfer(0);
    if (!xfer)
        return NULL;
    xfer->buffer = malloc(size);
    if (!xfer->buffer) {
        libusb_free_transfer(xfer);
        return NULL;
    }
    return xfer;
}

static int alloc_transfers(tern_usb_dev *dev)
{
    dev->ring_cap = 2u * dev->transfers * dev->transfer_size;
    dev->ring = malloc(dev->ring_cap);
    dev->in = calloc(dev->transfers, sizeof *dev->in);
    dev->out = calloc(dev->transfers, sizeof *dev->out);
    if (!dev->ring || !dev->in || !dev->out)
        return TERN_E_NOMEM;
    for (unsigned i = 0; i < dev->transfers; i++) {
        dev->in[i].dev = dev;
        dev->out[i].dev = dev;
        dev->in[i].xfer = new_transfer(dev->transfer_size);
        dev->out[i].xfer = new_transfer(dev->transfer_size);
        if (!dev->in[i].xfer || !dev->out[i].xfer)
            return TERN_E_NOMEM;
    }
    return TERN_OK;
}

/* Defaults for the zero fields; TERN_E_INVAL for values out of range. */
static int resolve_params(const struct tern_usb_params *p, struct tern_usb_params *out, char *err,
                          size_t errlen)
{
    const struct tern_usb_params defaults = { TERN_USB_MODE_AUTO, 0, -1, 0, 0, 0, 0 };
    *out = p ? *p : defaults;
    if (out->baud == 0)
        out->baud = DEFAULT_BAUD;
    if (out->latency_ms == 0)
        out->latency_ms = DEFAULT_LATENCY_MS;
    if (out->transfers == 0)
        out->transfers = DEFAULT_TRANSFERS;
    if (out->transfer_size == 0)
        out->transfer_size = DEFAULT_TRANSFER_SIZE;
    if (out->mode != TERN_USB_MODE_AUTO && out->mode != TERN_USB_MODE_UART &&
        out->mode != TERN_USB_MODE_FIFO245) {
        snprintf(err, errlen, "unknown usb mode %d", (int)out->mode);
        return TERN_E_INVAL;
    }
    if (out->latency_ms > 255) {
        snprintf(err, errlen, "latency timer %u ms is outside 1..255", out->latency_ms);
        return TERN_E_INVAL;
    }
    if (out->transfers > MAX_TRANSFERS) {
        snprintf(err, errlen, "%u transfers in flight: at most %u", out->transfers, MAX_TRANSFERS);
        return TERN_E_INVAL;
    }
    if (out->transfer_size > MAX_IN_FLIGHT_BYTES / out->transfers) {
        snprintf(err, errlen, "%u transfers of %zu bytes: at most %u bytes in flight",
                 out->transfers, out->transfer_size, MAX_IN_FLIGHT_BYTES);
        return TERN_E_INVAL;
    }
    if (out->interface < -1 || out->interface > 3) {
        snprintf(err, errlen, "interface %d: the chips have channels 0..3 (A..D)", out->interface);
        return TERN_E_INVAL;
    }
    return TERN_OK;
}

/* Mode, channel and rate for this chip; TERN_E_INVAL for a combination it cannot do. */
static int choose_link(tern_usb_dev *dev, const struct tern_usb_params *p, char *err,
                       size_t errlen)
{
    struct tern_usb_link *link = &dev->link;
    link->chip = dev->info.vid == 0x0403 ? tern_ftdi_chip_from_bcd(dev->info.bcd_device)
                                         : TERN_FTDI_UNKNOWN;
    if (link->chip == TERN_FTDI_UNKNOWN) {
        snprintf(err, errlen,
                 "%s (bcdDevice 0x%04x) is not an FTDI bridge this driver knows (FT232R, "
                 "FT2232H, FT4232H, FT232H, FT-X)",
                 dev->board, dev->info.bcd_device);
        return TERN_E_INVAL;
    }
    link->mode = p->mode;
    if (link->mode == TERN_USB_MODE_AUTO)
        link->mode = link->chip == TERN_FTDI_FT232H ? TERN_USB_MODE_FIFO245 : TERN_USB_MODE_UART;
    link->interface = p->interface;
    if (link->interface < 0)
        link->interface = link->chip == TERN_FTDI_FT2232H && link->mode == TERN_USB_MODE_UART;
    if (link->interface >= dev->info.interfaces) {
        snprintf(err, errlen, "%s (%s) has %u interface%s: there is no interface %d", dev->board,
                 dev->info.chip, dev->info.interfaces, dev->info.interfaces == 1 ? "" : "s",
                 link->interface);
        return TERN_E_INVAL;
    }
    if (link->mode == TERN_USB_MODE_FIFO245 &&
        !((link->chip == TERN_FTDI_FT2232H || link->chip == TERN_FTDI_FT232H) &&
          link->interface == 0)) {
        snprintf(err, errlen,
                 "%s (%s) interface %d cannot do the synchronous 245 FIFO: only FT2232H channel A "
                 "and FT232H can",
                 dev->board, dev->info.chip, link->interface);
        return TERN_E_INVAL;
    }
    link->baud_requested = p->baud;
    if (link->mode == TERN_USB_MODE_UART) {
        uint16_t wvalue, windex;
        uint32_t actual;
        if (tern_ftdi_baud_encode(link->chip, p->baud, (uint8_t)(link->interface + 1), &wvalue,
                                  &windex, &actual) != TERN_OK) {
            snprintf(err, errlen, "%s cannot run at %u baud (no divisor within 3 %%)",
                     dev->info.chip, p->baud);
            return TERN_E_INVAL;
        }
    }
    link->latency_ms = p->latency_ms;
    link->control_timeout_ms = CONTROL_TIMEOUT_MS;
    return TERN_OK;
}

static int open_handle(tern_usb_dev *dev, char *err, size_t errlen)
{
    int rc = libusb_open(dev->device, &dev->handle);
    if (rc == 0)
        return TERN_OK;
    dev->handle = NULL;
    if (rc == LIBUSB_ERROR_ACCESS)
        snprintf(err, errlen, "no permission to open %s (%s): %s", dev->board,
                 libusb_error_name(rc), TERN_USB_ACCESS_HINT);
    else if (rc == LIBUSB_ERROR_NO_DEVICE)
        snprintf(err, errlen, "board unplugged (or lost from the bus) while opening %s (%s)",
                 dev->board, libusb_error_name(rc));
    else
        snprintf(err, errlen, "opening %s failed: %s", dev->board, libusb_error_name(rc));
    return tern_usb_code_of(rc);
}

/* Take the interface from a kernel driver (ftdi_sio) unless told not to. */
static int detach_kernel_driver(tern_usb_dev *dev, int keep, char *err, size_t errlen)
{
    int itf = dev->link.interface;
    int rc = libusb_kernel_driver_active(dev->handle, itf);
    if (rc == 0 || rc == LIBUSB_ERROR_NOT_SUPPORTED)
        return TERN_OK;
    if (rc < 0) {
        snprintf(err, errlen, "asking whether a kernel driver holds interface %d of %s failed: %s",
                 itf, dev->board, libusb_error_name(rc));
        return tern_usb_code_of(rc);
    }
    if (keep) {
        snprintf(err, errlen,
                 "interface %d of %s is bound to a kernel driver (ftdi_sio) and "
                 "keep_kernel_driver is set",
                 itf, dev->board);
        return TERN_E_BUSY;
    }
    rc = libusb_detach_kernel_driver(dev->handle, itf);
    if (rc == LIBUSB_ERROR_NOT_FOUND)
        return TERN_OK; /* it let go in between */
    if (rc < 0) {
        snprintf(err, errlen, "detaching the kernel driver from interface %d of %s failed: %s%s%s",
                 itf, dev->board, libusb_error_name(rc), rc == LIBUSB_ERROR_ACCESS ? ": " : "",
                 rc == LIBUSB_ERROR_ACCESS ? TERN_USB_ACCESS_HINT : "");
        return tern_usb_code_of(rc);
    }
    dev->kernel_driver_detached = 1;
    return TERN_OK;
}

static int claim_interface(tern_usb_dev *dev, char *err, size_t errlen)
{
    int itf = dev->link.interface;
    int rc = libusb_claim_interface(dev->handle, itf);
    if (rc == 0) {
        dev->claimed = 1;
        return TERN_OK;
    }
    if (rc == LIBUSB_ERROR_BUSY)
        snprintf(err, errlen, "interface %d is claimed by another process (%s, %s)", itf,
                 dev->board, libusb_error_name(rc));
    else if (rc == LIBUSB_ERROR_NO_DEVICE)
        snprintf(err, errlen,
                 "board unplugged (or lost from the bus) while claiming interface %d of %s (%s)",
                 itf, dev->board, libusb_error_name(rc));
    else
        snprintf(err, errlen, "claiming interface %d of %s failed: %s", itf, dev->board,
                 libusb_error_name(rc));
    return tern_usb_code_of(rc);
}

static int setup_bridge(tern_usb_dev *dev, char *err, size_t errlen)
{
    char what[96], detail[256];
    dev->link.handle = dev->handle;
    int rc = tern_usb_bulk_endpoints(dev->device, dev->link.interface, &dev->link.ep_in,
                                     &dev->link.ep_out, &dev->link.in_packet, NULL);
    if (rc) {
        snprintf(err, errlen, "interface %d of %s has no bulk IN and OUT endpoints",
                 dev->link.interface, dev->board);
        return rc == TERN_E_NOTFOUND ? TERN_E_IO : rc;
    }
    if (dev->link.in_packet == 0 || dev->transfer_size % dev->link.in_packet != 0 ||
        dev->transfer_size > INT_MAX) {
        snprintf(err, errlen, "transfer_size %zu is not a multiple of the %u-byte packets of %s",
                 dev->transfer_size, dev->link.in_packet, dev->board);
        return TERN_E_INVAL;
    }
    dev->bridge_touched = 1;
    rc = dev->transport->setup(&dev->link, detail, sizeof detail);
    if (rc) {
        dev->transport->describe(&dev->link, what, sizeof what);
        snprintf(err, errlen, "setting up %s as %s: %s", dev->board, what, detail);
        if (rc == TERN_E_NODEV)
            dev->gone = 1;
    }
    return rc;
}

static int start_in(tern_usb_dev *dev, char *err, size_t errlen)
{
    for (unsigned i = 0; i < dev->transfers; i++) {
        if (submit_in(dev, &dev->in[i]) < 0)
            return transfer_error(err, errlen, dev->in_error, "open (starting the IN transfers)",
                                  dev->link.ep_in, 0, 0, 0, dev->in_error_libusb);
    }
    return TERN_OK;
}

/* Give everything back that open took, in reverse (also the whole of close). Transfers that do
 * not come back within the bound are forgotten by libusb_close, so freeing them after is safe. */
static void release_board(tern_usb_dev *dev)
{
    dev->in_stopping = 1;
    if (dev->in)
        (void)drain_in(dev);
    if (dev->out)
        (void)drain_out(dev);
    if (dev->bridge_touched && !dev->gone && dev->transport->teardown)
        dev->transport->teardown(&dev->link);
    if (dev->claimed)
        (void)libusb_release_interface(dev->handle, dev->link.interface);
    if (dev->kernel_driver_detached && !dev->gone)
        (void)libusb_attach_kernel_driver(dev->handle, dev->link.interface);
    if (dev->handle)
        libusb_close(dev->handle);
    free_transfers(dev);
    if (dev->device)
        libusb_unref_device(dev->device);
    free(dev);
}

int tern_usb_open(tern_usb *ctx, const struct tern_usb_match *m, const struct tern_usb_params *p,
                  tern_usb_dev **out, char *err, size_t errlen)
{
    const struct tern_usb_match any = TERN_USB_MATCH_ANY;
    struct tern_usb_params params;
    int rc;

    if (!err)
        errlen = 0;
    if (!ctx || !out) {
        snprintf(err, errlen, "tern_usb_open: %s is NULL", ctx ? "out" : "ctx");
        return TERN_E_INVAL;
    }
    *out = NULL;
    rc = resolve_params(p, &params, err, errlen);
    if (rc)
        return rc;

    tern_usb_dev *dev = calloc(1, sizeof *dev);
    if (!dev) {
        snprintf(err, errlen, "out of memory for a usb device handle");
        return TERN_E_NOMEM;
    }
    dev->usb = tern_usb_libusb(ctx);
    dev->transport = &tern_ftdi_transport;
    dev->transfers = params.transfers;
    dev->transfer_size = params.transfer_size;

    rc = tern_usb_find_one(ctx, m ? m : &any, &dev->device, &dev->info, err, errlen);
    if (rc)
        goto fail;
    snprintf(dev->board, sizeof dev->board, "usb %04x:%04x bus %u addr %u", dev->info.vid,
             dev->info.pid, dev->info.bus, dev->info.addr);
    rc = choose_link(dev, &params, err, errlen);
    if (rc)
        goto fail;
    rc = open_handle(dev, err, errlen);
    if (rc)
        goto fail;
    tern_usb_read_strings(dev->handle, &dev->info);
    rc = detach_kernel_driver(dev, params.keep_kernel_driver, err, errlen);
    if (rc)
        goto fail;
    rc = claim_interface(dev, err, errlen);
    if (rc)
        goto fail;
    rc = setup_bridge(dev, err, errlen);
    if (rc)
        goto fail;
    rc = alloc_transfers(dev);
    if (rc) {
        snprintf(err, errlen, "out of memory for %u transfers of %zu bytes", dev->transfers,
                 dev->transfer_size);
        goto fail;
    }
    rc = start_in(dev, err, errlen);
    if (rc)
        goto fail;
    *out = dev;
    return TERN_OK;

fail:
    if (rc == TERN_E_NODEV)
        dev->gone = 1;
    release_board(dev);
    return rc;
}

void tern_usb_close(tern_usb_dev *dev)
{
    if (dev)
        release_board(dev);
}

const struct tern_usb_info *tern_usb_dev_info(const tern_usb_dev *dev)
{
    return dev ? &dev->info : NULL;
}

void tern_usb_dev_stats(const tern_usb_dev *dev, struct tern_usb_stats *out)
{
    if (!out)
        return;
    if (dev)
        *out = dev->stats;
    else
        memset(out, 0, sizeof *out);
}

enum tern_usb_mode tern_usb_dev_mode(const tern_usb_dev *dev)
{
    return dev ? dev->link.mode : TERN_USB_MODE_AUTO;
}

uint32_t tern_usb_dev_baud(const tern_usb_dev *dev)
{
    return dev && dev->link.mode == TERN_USB_MODE_UART ? dev->link.baud_actual : 0;
}
