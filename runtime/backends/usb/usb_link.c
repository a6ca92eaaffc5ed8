/* usb_link.c — the `usb` backend: protocol frames to a real board through the libusb driver
 * (driver/, tern/tern_usb.h). URI options pick the board and the link:
 *   usb:                          the one board on the bus
 *   usb:serial=FT4ABCDE           by serial number
 *   usb:vid=0403,pid=6010         by USB ids (hex)
 *   usb:bus=1,addr=2              by position on the bus
 *   link=uart|fifo245, baud=N, interface=A|B, latency_ms=N, timeout_ms=N, transfers=N */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tern/tern_usb.h"
#include "tern_link.h"

/* Per response: a RUN of the largest tile on the slowest configuration takes well under this. */
#define USB_DEFAULT_TIMEOUT_MS 2000u
/* The most a bridge holds on its way to the FPGA (FT2232H: 4 KB a channel): when the host's
 * write returns, up to this much may still have to cross the link before the device has it. */
#define USB_BRIDGE_BUFFER 4096u

struct usb_link {
    tern_usb *ctx;
    tern_usb_dev *dev;
    unsigned timeout_ms;
    size_t unanswered; /* bytes sent since the board last sent anything */
};

/* The deadlines (docs/ARCHITECTURE.md section 10): a write fails only when the device takes no
 * bytes for timeout_ms (the driver's no-progress rule); a wait for an answer is timeout_ms plus
 * the time the bytes still on their way to the device may need on the link. */
static int usb_send(void *ctx, const uint8_t *buf, size_t len, char *err, size_t errlen)
{
    struct usb_link *l = ctx;
    int rc = tern_usb_write(l->dev, buf, len, l->timeout_ms, err, errlen);

    if (!rc)
        l->unanswered = len < USB_BRIDGE_BUFFER - l->unanswered ? l->unanswered + len : USB_BRIDGE_BUFFER;
    return rc;
}

static int usb_recv(void *ctx, uint8_t *buf, size_t cap, size_t *got, unsigned timeout_ms, char *err, size_t errlen)
{
    struct usb_link *l = ctx;
    int rc = tern_usb_read(l->dev, buf, cap, got, timeout_ms + tern_usb_dev_link_ms(l->dev, l->unanswered), err,
                           errlen);

    if (!rc && *got)
        l->unanswered = 0;
    return rc;
}

static void usb_close(void *ctx)
{
    struct usb_link *l = ctx;

    if (!l)
        return;
    tern_usb_close(l->dev);
    tern_usb_free(l->ctx);
    free(l);
}

static const struct tern_link_ops usb_ops = {usb_send, usb_recv, usb_close};

/* A number option: decimal, or hex when hex is set (USB ids are written in hex). */
static int opt_number(struct tern_uri *uri, const char *key, int hex, unsigned long max, long *out, char *err,
                      size_t errlen)
{
    const char *s = tern_uri_get(uri, key);
    char *end;
    unsigned long v;

    if (!s)
        return 0;
    v = strtoul(s, &end, hex ? 16 : 10);
    if (!*s || *end || v > max) {
        snprintf(err, errlen, "usb: %s=%s is not a %snumber up to %lu", key, s, hex ? "hexadecimal " : "", max);
        return TERN_E_INVAL;
    }
    *out = (long)v;
    return 0;
}

/* Fill the driver's match and link parameters from the URI. */
static int uri_params(struct tern_uri *uri, struct tern_usb_match *m, struct tern_usb_params *p,
                      unsigned *timeout_ms, char *err, size_t errlen)
{
    long vid = -1, pid = -1, bus = -1, addr = -1, baud = 0, lat = 0, tmo = USB_DEFAULT_TIMEOUT_MS, xfers = 0;
    const char *link = tern_uri_get(uri, "link"), *itf = tern_uri_get(uri, "interface");
    int rc;

    if ((rc = opt_number(uri, "vid", 1, 0xFFFF, &vid, err, errlen)) ||
        (rc = opt_number(uri, "pid", 1, 0xFFFF, &pid, err, errlen)) ||
        (rc = opt_number(uri, "bus", 0, 255, &bus, err, errlen)) ||
        (rc = opt_number(uri, "addr", 0, 127, &addr, err, errlen)) ||
        (rc = opt_number(uri, "baud", 0, 12000000, &baud, err, errlen)) ||
        (rc = opt_number(uri, "latency_ms", 0, 255, &lat, err, errlen)) ||
        (rc = opt_number(uri, "timeout_ms", 0, 600000, &tmo, err, errlen)) ||
        (rc = opt_number(uri, "transfers", 0, 64, &xfers, err, errlen)))
        return rc;
    memset(m, 0, sizeof *m);
    memset(p, 0, sizeof *p);
    m->vid = (int)vid;
    m->pid = (int)pid;
    m->bus = (int)bus;
    m->addr = (int)addr;
    m->serial = tern_uri_get(uri, "serial");
    p->mode = TERN_USB_MODE_AUTO;
    if (link) {
        if (!strcmp(link, "uart"))
            p->mode = TERN_USB_MODE_UART;
        else if (!strcmp(link, "fifo245"))
            p->mode = TERN_USB_MODE_FIFO245;
        else {
            snprintf(err, errlen, "usb: link=%s: expected uart or fifo245", link);
            return TERN_E_INVAL;
        }
    }
    p->interface = -1;
    if (itf) {
        if (!strcasecmp(itf, "A") || !strcmp(itf, "0"))
            p->interface = 0;
        else if (!strcasecmp(itf, "B") || !strcmp(itf, "1"))
            p->interface = 1;
        else {
            snprintf(err, errlen, "usb: interface=%s: expected A or B", itf);
            return TERN_E_INVAL;
        }
    }
    p->baud = (uint32_t)baud;
    p->latency_ms = (unsigned)lat;
    p->transfers = (unsigned)xfers;
    if (tmo == 0) {
        snprintf(err, errlen, "usb: timeout_ms must be at least 1");
        return TERN_E_INVAL;
    }
    *timeout_ms = (unsigned)tmo;
    return 0;
}

int tern_usb_link_open(struct tern_uri *uri, struct tern_link *out, char *err, size_t errlen)
{
    struct tern_usb_match m;
    struct tern_usb_params p;
    struct usb_link *l;
    unsigned timeout_ms;
    int rc;

    rc = uri_params(uri, &m, &p, &timeout_ms, err, errlen);
    if (rc)
        return rc;
    rc = tern_uri_check_used(uri, err, errlen);
    if (rc)
        return rc;
    l = calloc(1, sizeof *l);
    if (!l) {
        snprintf(err, errlen, "usb: out of memory");
        return TERN_E_NOMEM;
    }
    rc = tern_usb_new(&l->ctx, err, errlen);
    if (rc)
        goto fail_free;
    rc = tern_usb_open(l->ctx, &m, &p, &l->dev, err, errlen);
    if (rc)
        goto fail_ctx;
    l->timeout_ms = timeout_ms;
    out->ops = &usb_ops;
    out->ctx = l;
    out->timeout_ms = timeout_ms;
    out->resync_on_open = 1; /* the board keeps running across host sessions */
    return TERN_OK;

fail_ctx:
    tern_usb_free(l->ctx);
fail_free:
    free(l);
    return rc;
}
