/* vboard_ftdi.c — the emulated FTDI bridge chip of the virtual board: FT2232H (two channels, the
 * FPGA UART on channel B as on iCEBreaker, Arty and ULX3S) or FT232H (the synchronous 245 FIFO).
 * Descriptors and strings, the standard GET_DESCRIPTOR and the FTDI vendor requests, the per
 * channel RX (host -> FPGA) and TX (FPGA -> host) buffers of the chip's size, and the IN packet
 * rules of the real chip: 2 modem status bytes in front of every packet, a full packet as soon as
 * 510 bytes are buffered, a short one (status only, when nothing is buffered) each time the
 * latency timer expires. */
#define _GNU_SOURCE
#include "vboard_ftdi.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tern/tern.h"
#include "tern/tern_proto.h"

/* FTDI vendor requests (bRequest). */
enum {
    SIO_RESET = 0x00,
    SIO_SET_MODEM_CTRL = 0x01,
    SIO_SET_FLOW_CTRL = 0x02,
    SIO_SET_BAUD_RATE = 0x03,
    SIO_SET_DATA = 0x04,
    SIO_POLL_MODEM_STATUS = 0x05,
    SIO_SET_EVENT_CHAR = 0x06,
    SIO_SET_ERROR_CHAR = 0x07,
    SIO_SET_LATENCY_TIMER = 0x09,
    SIO_GET_LATENCY_TIMER = 0x0A,
    SIO_SET_BITMODE = 0x0B,
    SIO_READ_PINS = 0x0C,
    SIO_READ_EEPROM = 0x90
};

/* Modem status bytes of every IN packet: B0 = 0x01 (the low nibble the H chips report), no
 * CTS/DSR/RI/DCD; B1 = 0x60, transmitter holding register and transmitter empty: an idle UART. */
#define FTDI_MS0 0x01u
#define FTDI_MS1 0x60u

#define FTDI_DEFAULT_BAUD 9600u
#define FTDI_DEFAULT_LATENCY 16u

const char *vboard_chip_name(enum vboard_chip chip)
{
    return chip == VBOARD_FT232H ? "FT232H" : "FT2232H";
}

/* ------------------------------------------------------------------------------- rings */

int vboard_ring_init(struct vboard_ring *r, size_t cap)
{
    r->buf = malloc(cap);
    r->cap = r->buf ? cap : 0;
    r->head = r->len = 0;
    return r->buf ? 0 : -1;
}

void vboard_ring_free(struct vboard_ring *r)
{
    free(r->buf);
    r->buf = NULL;
    r->cap = r->head = r->len = 0;
}

size_t vboard_ring_push(struct vboard_ring *r, const uint8_t *p, size_t n)
{
    size_t room = r->cap - r->len, done = 0;

    if (n > room)
        n = room;
    while (done < n) {
        size_t tail = (r->head + r->len) % r->cap;
        size_t chunk = r->cap - tail;
        if (chunk > n - done)
            chunk = n - done;
        memcpy(r->buf + tail, p + done, chunk);
        r->len += chunk;
        done += chunk;
    }
    return n;
}

size_t vboard_ring_peek(const struct vboard_ring *r, uint8_t *p, size_t n)
{
    size_t done = 0;

    if (n > r->len)
        n = r->len;
    while (done < n) {
        size_t at = (r->head + done) % r->cap;
        size_t chunk = r->cap - at;
        if (chunk > n - done)
            chunk = n - done;
        memcpy(p + done, r->buf + at, chunk);
        done += chunk;
    }
    return n;
}

void vboard_ring_drop(struct vboard_ring *r, size_t n)
{
    if (n > r->len)
        n = r->len;
    r->head = (r->head + n) % r->cap;
    r->len -= n;
    if (!r->len)
        r->head = 0;
}

/* ------------------------------------------------------------------------- descriptors */

uint8_t vboard_ftdi_ep_in(int ch)
{
    return (uint8_t)(0x81 + 2 * ch); /* A: 0x81, B: 0x83 */
}

uint8_t vboard_ftdi_ep_out(int ch)
{
    return (uint8_t)(0x02 + 2 * ch); /* A: 0x02, B: 0x04 */
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void build_descriptors(struct vboard_ftdi *f)
{
    uint8_t *d = f->desc;
    size_t n = 0, cfg_at;
    uint16_t pid = f->chip == VBOARD_FT232H ? 0x6014 : 0x6010;
    uint16_t bcd = f->chip == VBOARD_FT232H ? 0x0900 : 0x0700;

    /* device */
    d[n++] = 18;
    d[n++] = 1;
    put16(d + n, 0x0200); /* bcdUSB 2.00 */
    n += 2;
    d[n++] = 0; /* class: per interface */
    d[n++] = 0;
    d[n++] = 0;
    d[n++] = 64; /* bMaxPacketSize0 */
    put16(d + n, 0x0403);
    n += 2;
    put16(d + n, pid);
    n += 2;
    put16(d + n, bcd);
    n += 2;
    d[n++] = 1; /* iManufacturer */
    d[n++] = 2; /* iProduct */
    d[n++] = 3; /* iSerialNumber */
    d[n++] = 1; /* bNumConfigurations */
    /* configuration */
    cfg_at = n;
    d[n++] = 9;
    d[n++] = 2;
    n += 2; /* wTotalLength, below */
    d[n++] = (uint8_t)f->nch;
    d[n++] = 1;    /* bConfigurationValue */
    d[n++] = 0;    /* iConfiguration */
    d[n++] = 0x80; /* bus powered */
    d[n++] = 0x32; /* 100 mA */
    for (int ch = 0; ch < f->nch; ch++) {
        d[n++] = 9;
        d[n++] = 4;
        d[n++] = (uint8_t)ch; /* bInterfaceNumber */
        d[n++] = 0;           /* bAlternateSetting */
        d[n++] = 2;           /* bNumEndpoints */
        d[n++] = 0xFF;        /* vendor specific */
        d[n++] = 0xFF;
        d[n++] = 0xFF;
        d[n++] = 2; /* iInterface: the product string, as the real chips */
        for (int k = 0; k < 2; k++) {
            d[n++] = 7;
            d[n++] = 5;
            d[n++] = k == 0 ? vboard_ftdi_ep_in(ch) : vboard_ftdi_ep_out(ch);
            d[n++] = 2; /* bulk */
            put16(d + n, VBOARD_PKT);
            n += 2;
            d[n++] = 0;
        }
    }
    put16(d + cfg_at + 2, (uint16_t)(n - cfg_at));
    f->desc_len = n;
}

int vboard_ftdi_init(struct vboard_ftdi *f, enum vboard_chip chip, int engine_link, const char *serial, char *err,
                     size_t errlen)
{
    size_t bufsz = chip == VBOARD_FT232H ? 1024 : 4096; /* datasheets: 1 KB / 4 KB per channel */

    memset(f, 0, sizeof *f);
    f->chip = chip;
    f->baud_chip = chip == VBOARD_FT232H ? TERN_FTDI_FT232H : TERN_FTDI_FT2232H;
    f->nch = chip == VBOARD_FT232H ? 1 : 2;
    f->engine_link = engine_link;
    /* iCEBreaker wiring: the FPGA UART on channel B of the FT2232H; the FIFO on channel A */
    f->engine_ch = (chip == VBOARD_FT2232H && engine_link == TERN_LINK_UART) ? 1 : 0;
    snprintf(f->manufacturer, sizeof f->manufacturer, "FTDI");
    snprintf(f->product, sizeof f->product, "%s", chip == VBOARD_FT232H ? "Single RS232-HS" : "Dual RS232-HS");
    snprintf(f->serial, sizeof f->serial, "%s", serial && *serial ? serial : "TERNVB01");
    for (int ch = 0; ch < f->nch; ch++)
        if (vboard_ring_init(&f->ch[ch].rx, bufsz) || vboard_ring_init(&f->ch[ch].tx, bufsz)) {
            snprintf(err, errlen, "cannot allocate the chip's buffers: out of memory");
            vboard_ftdi_destroy(f);
            return TERN_E_NOMEM;
        }
    if (pthread_mutex_init(&f->lock, NULL)) {
        snprintf(err, errlen, "pthread_mutex_init failed");
        vboard_ftdi_destroy(f);
        return TERN_E_NOMEM;
    }
    if (pthread_cond_init(&f->cond, NULL)) {
        pthread_mutex_destroy(&f->lock);
        snprintf(err, errlen, "pthread_cond_init failed");
        for (int ch = 0; ch < f->nch; ch++) {
            vboard_ring_free(&f->ch[ch].rx);
            vboard_ring_free(&f->ch[ch].tx);
        }
        return TERN_E_NOMEM;
    }
    build_descriptors(f);
    vboard_ftdi_power_on(f, 0);
    return TERN_OK;
}

void vboard_ftdi_destroy(struct vboard_ftdi *f)
{
    for (int ch = 0; ch < VBOARD_MAX_CH; ch++) {
        vboard_ring_free(&f->ch[ch].rx);
        vboard_ring_free(&f->ch[ch].tx);
    }
    if (f->desc_len) { /* init completed */
        pthread_cond_destroy(&f->cond);
        pthread_mutex_destroy(&f->lock);
        f->desc_len = 0;
    }
}

void vboard_ftdi_power_on(struct vboard_ftdi *f, int64_t now_us)
{
    for (int i = 0; i < f->nch; i++) {
        struct vboard_ftdi_channel *c = &f->ch[i];
        c->rx.head = c->rx.len = 0;
        c->tx.head = c->tx.len = 0;
        c->rx_gen++;
        c->baud = FTDI_DEFAULT_BAUD;
        c->baud_wvalue = c->baud_windex = 0;
        c->latency_ms = FTDI_DEFAULT_LATENCY;
        c->bitmode = 0;
        c->bitmask = 0;
        c->flow = 0;
        c->line = 8; /* 8N1 */
        c->dtr = c->rts = 0;
        c->event_char = c->error_char = 0;
        c->last_pkt_us = now_us;
    }
    /* the UART behind the chip sees the chip's power-on rate until the host sets one */
    f->baud_pending = 1;
    f->baud_for_engine = FTDI_DEFAULT_BAUD;
}

/* ------------------------------------------------------------------------------ requests */

static size_t string_descriptor(const struct vboard_ftdi *f, unsigned idx, uint16_t langid, uint8_t *out,
                                size_t cap, int *ok)
{
    uint8_t d[2 + 2 * 64];
    const char *s = NULL;
    size_t n = 0;

    *ok = 1;
    if (idx == 0) {
        d[n++] = 4;
        d[n++] = 3;
        put16(d + n, 0x0409);
        n += 2;
    } else {
        if (langid != 0x0409) {
            *ok = 0;
            return 0;
        }
        s = idx == 1 ? f->manufacturer : idx == 2 ? f->product : idx == 3 ? f->serial : NULL;
        if (!s) {
            *ok = 0;
            return 0;
        }
        size_t len = strlen(s);
        if (len > 63)
            len = 63;
        d[n++] = (uint8_t)(2 + 2 * len);
        d[n++] = 3;
        for (size_t i = 0; i < len; i++) {
            d[n++] = (uint8_t)s[i];
            d[n++] = 0;
        }
    }
    if (n > cap)
        n = cap;
    memcpy(out, d, n);
    return n;
}

static int get_descriptor(struct vboard_ftdi *f, const uint8_t *setup, uint8_t *data, size_t *len)
{
    uint8_t type = setup[3], idx = setup[2];
    uint16_t windex = (uint16_t)(setup[4] | setup[5] << 8);
    size_t want = *len, n = 0;
    int ok = 1;

    switch (type) {
    case 1: /* device */
        n = 18;
        memcpy(data, f->desc, n < want ? n : want);
        break;
    case 2: /* configuration */
        if (idx != 0)
            return -EPIPE;
        n = f->desc_len - 18;
        memcpy(data, f->desc + 18, n < want ? n : want);
        break;
    case 3: /* string */
        n = string_descriptor(f, idx, windex, data, want, &ok);
        if (!ok)
            return -EPIPE;
        break;
    case 6: { /* device qualifier: a high-speed device has one */
        static const uint8_t q[10] = {10, 6, 0x00, 0x02, 0, 0, 0, 64, 1, 0};
        n = sizeof q;
        memcpy(data, q, n < want ? n : want);
        break;
    }
    default: /* BOS, other speed configuration, ...: not on these chips */
        return -EPIPE;
    }
    *len = n < want ? n : want;
    return 0;
}

int vboard_ftdi_live(const struct vboard_ftdi *f, int ch)
{
    if (ch != f->engine_ch)
        return 0;
    if (f->engine_link == TERN_LINK_FIFO245)
        return f->ch[ch].bitmode == 0x40;
    return f->ch[ch].bitmode == 0x00;
}

static const char *bitmode_name(uint8_t mode)
{
    switch (mode) {
    case 0x00:
        return "reset (UART)";
    case 0x01:
        return "async bitbang";
    case 0x02:
        return "MPSSE";
    case 0x04:
        return "sync bitbang";
    case 0x08:
        return "MCU host bus";
    case 0x10:
        return "fast opto-isolated serial";
    case 0x20:
        return "CBUS bitbang";
    case 0x40:
        return "synchronous 245 FIFO";
    default:
        return "unknown";
    }
}

#define LOG(...)                                                                                                       \
    do {                                                                                                               \
        if (log)                                                                                                       \
            log(log_ctx, __VA_ARGS__);                                                                                 \
    } while (0)

int vboard_ftdi_control(struct vboard_ftdi *f, const uint8_t setup[8], uint8_t *data, size_t *len, int64_t now_us,
                        void (*log)(void *ctx, const char *fmt, ...), void *log_ctx)
{
    uint8_t rt = setup[0], req = setup[1];
    uint16_t wvalue = (uint16_t)(setup[2] | setup[3] << 8);
    uint16_t windex = (uint16_t)(setup[4] | setup[5] << 8);
    size_t want = *len;
    int port, ch;
    struct vboard_ftdi_channel *c;

    if (rt == 0x80 && req == 6)
        return get_descriptor(f, setup, data, len);
    if ((rt & 0x60) != 0x40)
        return 1; /* standard or class: the USB side */
    if ((rt & 0x1F) != 0) /* FTDI requests address the device */
        return -EPIPE;
    /* wIndex low byte: the port, 1 = A, 2 = B (0 is taken as A, as the chips do) */
    port = windex & 0xFF;
    ch = port ? port - 1 : 0;
    if (req == SIO_READ_EEPROM) {
        if (!(rt & 0x80) || want < 2)
            return -EPIPE;
        data[0] = data[1] = 0xFF; /* a blank EEPROM: the chip runs on its defaults */
        *len = 2;
        return 0;
    }
    if (ch >= f->nch) {
        LOG("vendor request 0x%02x for port %d: no such channel on the %s: stall", req, port,
            vboard_chip_name(f->chip));
        return -EPIPE;
    }
    c = &f->ch[ch];
    if (rt & 0x80) { /* device to host */
        switch (req) {
        case SIO_POLL_MODEM_STATUS:
            if (want < 2)
                return -EPIPE;
            data[0] = FTDI_MS0;
            data[1] = FTDI_MS1;
            *len = 2;
            return 0;
        case SIO_GET_LATENCY_TIMER:
            if (want < 1)
                return -EPIPE;
            data[0] = c->latency_ms;
            *len = 1;
            return 0;
        case SIO_READ_PINS:
            if (want < 1)
                return -EPIPE;
            data[0] = 0xFF; /* every pin pulled up: nothing drives them in this model */
            *len = 1;
            return 0;
        default:
            LOG("unknown FTDI IN request 0x%02x (wValue 0x%04x wIndex 0x%04x): stall", req, wvalue, windex);
            return -EPIPE;
        }
    }
    *len = 0;
    switch (req) {
    case SIO_RESET:
        if (wvalue == 0 || wvalue == 1) { /* reset / purge RX: the host -> FPGA buffer */
            c->rx.head = c->rx.len = 0;
            c->rx_gen++;
        }
        if (wvalue == 0 || wvalue == 2) { /* reset / purge TX: the FPGA -> host buffer */
            c->tx.head = c->tx.len = 0;
        }
        if (wvalue > 2)
            return -EPIPE;
        LOG("channel %c: %s", 'A' + ch, wvalue == 0 ? "reset" : wvalue == 1 ? "purge RX (host->FPGA)" : "purge TX (FPGA->host)");
        return 0;
    case SIO_SET_MODEM_CTRL:
        if (wvalue & 0x0100)
            c->dtr = wvalue & 1;
        if (wvalue & 0x0200)
            c->rts = (wvalue >> 1) & 1;
        return 0;
    case SIO_SET_FLOW_CTRL:
        c->flow = (uint8_t)(windex >> 8);
        LOG("channel %c: flow control %s", 'A' + ch,
            c->flow == 0 ? "none" : c->flow & 1 ? "RTS/CTS" : c->flow & 2 ? "DTR/DSR" : "XON/XOFF");
        return 0;
    case SIO_SET_BAUD_RATE: {
        uint32_t baud = tern_ftdi_baud_decode(f->baud_chip, wvalue, windex);
        if (!baud) {
            LOG("channel %c: malformed baud divisor wValue 0x%04x wIndex 0x%04x: stall", 'A' + ch, wvalue, windex);
            return -EPIPE;
        }
        c->baud = baud;
        c->baud_wvalue = wvalue;
        c->baud_windex = windex;
        LOG("channel %c: baud rate %u (wValue 0x%04x wIndex 0x%04x)", 'A' + ch, (unsigned)baud, wvalue, windex);
        if (ch == f->engine_ch && f->engine_link == TERN_LINK_UART) {
            f->baud_pending = 1;
            f->baud_for_engine = baud;
            pthread_cond_broadcast(&f->cond);
        }
        return 0;
    }
    case SIO_SET_DATA:
        c->line = wvalue;
        return 0;
    case SIO_SET_EVENT_CHAR:
        c->event_char = (uint8_t)wvalue;
        return 0;
    case SIO_SET_ERROR_CHAR:
        c->error_char = (uint8_t)wvalue;
        return 0;
    case SIO_SET_LATENCY_TIMER:
        c->latency_ms = (uint8_t)(wvalue & 0xFF);
        if (!c->latency_ms)
            c->latency_ms = 1; /* 0 behaves as 1 ms here */
        LOG("channel %c: latency timer %u ms", 'A' + ch, (unsigned)c->latency_ms);
        return 0;
    case SIO_SET_BITMODE:
        c->bitmask = (uint8_t)wvalue;
        c->bitmode = (uint8_t)(wvalue >> 8);
        c->last_pkt_us = now_us;
        LOG("channel %c: bit mode 0x%02x (%s), mask 0x%02x%s", 'A' + ch, c->bitmode, bitmode_name(c->bitmode),
            c->bitmask, ch == f->engine_ch ? (vboard_ftdi_live(f, ch) ? ": the FPGA link is up" : ": the FPGA link is down") : "");
        pthread_cond_broadcast(&f->cond);
        return 0;
    default:
        LOG("unknown FTDI OUT request 0x%02x (wValue 0x%04x wIndex 0x%04x): stall", req, wvalue, windex);
        return -EPIPE;
    }
}

/* ------------------------------------------------------------------------------ bulk data */

size_t vboard_ftdi_out_room(const struct vboard_ftdi *f, int ch)
{
    if (!vboard_ftdi_live(f, ch))
        return SIZE_MAX; /* the bytes go out of pins nobody listens to */
    return f->ch[ch].rx.cap - f->ch[ch].rx.len;
}

void vboard_ftdi_out_push(struct vboard_ftdi *f, int ch, const uint8_t *data, size_t n)
{
    struct vboard_ftdi_channel *c = &f->ch[ch];

    c->bytes_out += n;
    if (!vboard_ftdi_live(f, ch)) {
        c->bytes_discarded += n;
        return;
    }
    vboard_ring_push(&c->rx, data, n);
    pthread_cond_broadcast(&f->cond);
}

size_t vboard_ftdi_in_packet(struct vboard_ftdi *f, int ch, int64_t now_us, int hold, uint8_t *pkt, int64_t *next_us)
{
    struct vboard_ftdi_channel *c = &f->ch[ch];
    size_t avail = hold ? 0 : c->tx.len, n;
    int64_t due = c->last_pkt_us + (int64_t)c->latency_ms * 1000;

    if (avail >= VBOARD_PKT_DATA)
        n = VBOARD_PKT_DATA;
    else if (now_us >= due)
        n = avail;
    else {
        *next_us = due;
        return 0;
    }
    pkt[0] = FTDI_MS0;
    pkt[1] = FTDI_MS1;
    vboard_ring_peek(&c->tx, pkt + 2, n);
    vboard_ring_drop(&c->tx, n);
    c->last_pkt_us = now_us;
    c->pkts_in++;
    c->bytes_in += n;
    if (!n)
        c->status_pkts++;
    else
        pthread_cond_broadcast(&f->cond); /* TX room for the FPGA */
    *next_us = now_us + (int64_t)c->latency_ms * 1000;
    return n + 2;
}

size_t vboard_ftdi_rx_peek(const struct vboard_ftdi *f, uint8_t *buf, size_t cap)
{
    if (!vboard_ftdi_live(f, f->engine_ch))
        return 0;
    return vboard_ring_peek(&f->ch[f->engine_ch].rx, buf, cap);
}

void vboard_ftdi_rx_drop(struct vboard_ftdi *f, size_t n)
{
    vboard_ring_drop(&f->ch[f->engine_ch].rx, n);
}

size_t vboard_ftdi_tx_room(const struct vboard_ftdi *f)
{
    const struct vboard_ring *r = &f->ch[f->engine_ch].tx;

    if (!vboard_ftdi_live(f, f->engine_ch))
        return 0; /* the chip does not take the FPGA's bytes in this mode: it is held off */
    return r->cap - r->len;
}

void vboard_ftdi_tx_push(struct vboard_ftdi *f, const uint8_t *data, size_t n)
{
    vboard_ring_push(&f->ch[f->engine_ch].tx, data, n);
}
