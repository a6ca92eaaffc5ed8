/* vboard_ftdi.h — the emulated FTDI bridge chip of the virtual board (FT2232H or FT232H): its
 * descriptors and strings, its control requests, its per-channel buffers and how it packs them
 * into USB packets (modem status bytes, latency timer). Internal to vboard/.
 *
 * Locking: the buffers and channel state are shared by the USB side (the main-loop thread) and
 * the engine thread; every function that touches them expects f->lock held, except the ones
 * marked "no lock" (descriptors, set-up). */
#ifndef TERN_VBOARD_FTDI_H
#define TERN_VBOARD_FTDI_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "ftdi_baud.h"

enum vboard_chip {
    VBOARD_FT2232H = 0, /* 0403:6010, two channels, 4 KB buffers each way per channel */
    VBOARD_FT232H = 1   /* 0403:6014, one channel, 1 KB buffers each way */
};

#define VBOARD_PKT 512u        /* bulk wMaxPacketSize (high speed) */
#define VBOARD_PKT_DATA 510u   /* data bytes in a full IN packet (2 are modem status) */
#define VBOARD_MAX_CH 2
#define VBOARD_DESC_MAX 128

/* A byte ring. */
struct vboard_ring {
    uint8_t *buf;
    size_t cap, head, len;
};

struct vboard_ftdi_channel {
    struct vboard_ring rx; /* host -> FPGA: what the chip received over USB, not yet sent on */
    struct vboard_ring tx; /* FPGA -> host: what the chip received from the FPGA side */
    uint32_t baud;         /* decoded from the last SIO_SET_BAUD_RATE */
    uint16_t baud_wvalue, baud_windex;
    uint8_t latency_ms;    /* SIO_SET_LATENCY_TIMER (default 16) */
    uint8_t bitmode;       /* SIO_SET_BITMODE high byte: 0 reset (UART), 0x40 sync FIFO, ... */
    uint8_t bitmask;       /* its low byte */
    uint8_t flow;          /* SIO_SET_FLOW_CTRL: 0, 0x01 RTS/CTS, 0x02 DTR/DSR, 0x04 XON/XOFF */
    uint16_t line;         /* SIO_SET_DATA wValue: data bits, parity, stop bits, break */
    uint8_t dtr, rts;      /* SIO_SET_MODEM_CTRL */
    uint8_t event_char, error_char;
    int64_t last_pkt_us;   /* when the chip last sent an IN packet (latency timer base) */
    uint64_t rx_gen;       /* bumped on every RX purge (the engine thread may hold a copy) */
    /* counters */
    uint64_t bytes_out, bytes_in, bytes_discarded, pkts_in, status_pkts;
};

struct vboard_ftdi {
    enum vboard_chip chip;
    enum tern_ftdi_chip baud_chip;
    int nch;               /* channels: 2 (FT2232H) or 1 (FT232H) */
    int engine_ch;         /* the channel the FPGA hangs on (0 = A, 1 = B) */
    int engine_link;       /* TERN_LINK_UART or TERN_LINK_FIFO245 */
    struct vboard_ftdi_channel ch[VBOARD_MAX_CH];
    uint8_t desc[VBOARD_DESC_MAX]; /* device descriptor then configuration descriptor */
    size_t desc_len;
    char manufacturer[32], product[32], serial[64];
    /* the engine thread's view, protected by lock */
    pthread_mutex_t lock;
    pthread_cond_t cond;     /* the engine thread waits here */
    int baud_pending;        /* the engine channel's baud changed: hand it to the engine */
    uint32_t baud_for_engine;
};

/* Set up the chip (no lock): chip kind, which channel the FPGA is on, link mode, serial string.
 * 0 or a negative TERN_E_* code. */
int vboard_ftdi_init(struct vboard_ftdi *f, enum vboard_chip chip, int engine_link, const char *serial,
                     char *err, size_t errlen);
void vboard_ftdi_destroy(struct vboard_ftdi *f);
const char *vboard_chip_name(enum vboard_chip chip);

/* Power-on / USB reset state of every channel: defaults, buffers empty. */
void vboard_ftdi_power_on(struct vboard_ftdi *f, int64_t now_us);

/* The chip's USB interface number of a channel, its bulk endpoints, and the reverse. */
uint8_t vboard_ftdi_ep_in(int ch);
uint8_t vboard_ftdi_ep_out(int ch);

/* A control request the chip itself answers: GET_DESCRIPTOR and the FTDI vendor requests.
 * setup: the 8-byte setup packet; data: the data stage (IN: filled; OUT: given), *len: wLength
 * in, bytes transferred out. Returns 0, -EPIPE (the chip stalls the request) or 1 (not a
 * request of the chip: the USB side answers it). Log lines go to log (may be NULL). */
int vboard_ftdi_control(struct vboard_ftdi *f, const uint8_t setup[8], uint8_t *data, size_t *len,
                        int64_t now_us, void (*log)(void *ctx, const char *fmt, ...), void *log_ctx);

/* 1 when channel ch's bytes reach the FPGA: the engine channel in the mode the FPGA's link needs
 * (UART: bit mode reset; FIFO: bit mode 0x40, synchronous FIFO). */
int vboard_ftdi_live(const struct vboard_ftdi *f, int ch);

/* Bulk OUT: how many more bytes channel ch takes now (RX buffer room; a channel that goes
 * nowhere takes everything), and take them. */
size_t vboard_ftdi_out_room(const struct vboard_ftdi *f, int ch);
void vboard_ftdi_out_push(struct vboard_ftdi *f, int ch, const uint8_t *data, size_t n);

/* Bulk IN: the packet the chip sends on channel ch at now_us into pkt[VBOARD_PKT]: a full packet
 * (2 status + 510 data) as soon as 510 bytes are buffered; else a short one (status + what there
 * is, maybe nothing) once the latency timer expired since the last packet. Returns its length
 * (2..512), or 0 when nothing goes yet (*next_us: when the latency timer expires). hold: the chip
 * moves no data (status-only packets). */
size_t vboard_ftdi_in_packet(struct vboard_ftdi *f, int ch, int64_t now_us, int hold, uint8_t *pkt,
                             int64_t *next_us);

/* The engine side of the engine channel: RX bytes to hand to the FPGA (copied, not removed),
 * removing them once taken, TX room and appending what the FPGA sent. */
size_t vboard_ftdi_rx_peek(const struct vboard_ftdi *f, uint8_t *buf, size_t cap);
void vboard_ftdi_rx_drop(struct vboard_ftdi *f, size_t n);
size_t vboard_ftdi_tx_room(const struct vboard_ftdi *f);
void vboard_ftdi_tx_push(struct vboard_ftdi *f, const uint8_t *data, size_t n);

/* Ring helpers. */
int vboard_ring_init(struct vboard_ring *r, size_t cap);
void vboard_ring_free(struct vboard_ring *r);
size_t vboard_ring_push(struct vboard_ring *r, const uint8_t *p, size_t n);
size_t vboard_ring_peek(const struct vboard_ring *r, uint8_t *p, size_t n);
void vboard_ring_drop(struct vboard_ring *r, size_t n);

#endif /* TERN_VBOARD_FTDI_H */
