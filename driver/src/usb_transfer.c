/* usb_transfer.c — how an open board moves bytes, with libusb's asynchronous API: several IN
 * transfers stay in flight and feed a ring buffer inside the handle (paused while the ring is
 * nearly full); writes keep several OUT transfers in flight. Stalls are cleared and the transfer
 * resumed; every failure becomes a TERN_E_* code with a message naming the operation, the
 * endpoint and the bytes moved. A handle is used by one thread at a time; callbacks only run
 * inside this file's calls. Opening and closing: usb_device.c. */
#define _POSIX_C_SOURCE 200809L

#include <libusb.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tern/tern.h"
#include "tern/tern_usb.h"
#include "usb_device.h"

#define DRAIN_LIMIT_NS 1000000000ll      /* how long close and purge wait for cancelled transfers */
#define EVENT_SLICE_NS 100000000ll       /* one wait for events when no deadline is closer */
#define MAX_STALLS_WITHOUT_PROGRESS 8u

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
        snprintf(err, errlen, "no progress for %u ms during %s on endpoint 0x%02x%s (%s)",
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
int tern_usb_drain_in(tern_usb_dev *dev)
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
        if (tern_usb_drain_in(dev) < 0) {
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

/* Open: every IN transfer in flight. */
int tern_usb_start_in(tern_usb_dev *dev, char *err, size_t errlen)
{
    for (unsigned i = 0; i < dev->transfers; i++) {
        if (submit_in(dev, &dev->in[i]) < 0)
            return transfer_error(err, errlen, dev->in_error, "open (starting the IN transfers)",
                                  dev->link.ep_in, 0, 0, 0, dev->in_error_libusb);
    }
    return TERN_OK;
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

int tern_usb_drain_out(tern_usb_dev *dev)
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
    unsigned waited_ms = timeout_ms; /* how long the oldest transfer waited, for the message */
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
    if (dev->out_flying > 0 && tern_usb_drain_out(dev) < 0) {
        snprintf(err, errlen,
                 "write on endpoint 0x%02x: %u transfers of an earlier write are still pending",
                 ep, dev->out_flying);
        return TERN_E_IO;
    }

    while (moved < len) {
        while (queued < dev->transfers && next < len) {
            struct out_slot *slot = &dev->out[(head + queued) % dev->transfers];
            size_t n = len - next < dev->out_chunk ? len - next : dev->out_chunk;
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

        /* the no-progress rule: the oldest transfer may wait timeout_ms plus its own time on the
         * link (its clock starts when the one before it completed, i.e. at the last progress) */
        struct out_slot *slot = &dev->out[head];
        unsigned wait_ms = timeout_ms ? timeout_ms + tern_usb_link_ms(dev->bytes_per_s, slot->length) : 0;
        int64_t deadline = timeout_ms ? now_ns() + (int64_t)wait_ms * 1000000ll : INT64_MAX;
        while (slot->flying) {
            int64_t left = deadline - now_ns();
            if (left <= 0) {
                code = TERN_E_TIMEOUT;
                libusb_code = LIBUSB_TRANSFER_TIMED_OUT;
                waited_ms = wait_ms;
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
        if (tern_usb_drain_out(dev) < 0) {
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
    if (tern_usb_drain_out(dev) < 0 && code != TERN_E_NODEV)
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
    return transfer_error(err, errlen, code, op, ep, moved, len, waited_ms, libusb_code);
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
    int drained = tern_usb_drain_in(dev);
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
