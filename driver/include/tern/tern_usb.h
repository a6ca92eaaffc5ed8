/* tern_usb.h — the libusb-1.0 driver for boards that reach the accelerator through a USB bridge
 * chip: FTDI asynchronous serial (UART) and FTDI synchronous 245 FIFO today, behind a transport
 * interface that FT601 and a native USB core can join. Shape like libusb: a context, device
 * handles, TERN_E_* error codes (tern/tern.h) with a message in the caller's buffer. No global
 * state: every handle is independent, several contexts may live in one process. */
#ifndef TERN_USB_H
#define TERN_USB_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tern_usb tern_usb;         /* a driver context (owns one libusb_context) */
typedef struct tern_usb_dev tern_usb_dev; /* one open board */

/* How the bridge moves bytes. Values are those of enum tern_link_kind (tern/tern_proto.h). */
enum tern_usb_mode {
    TERN_USB_MODE_AUTO = 0,   /* from the chip: FT232H -> FIFO245, every other FTDI chip -> UART */
    TERN_USB_MODE_UART = 1,   /* asynchronous serial, 8N1, no flow control */
    TERN_USB_MODE_FIFO245 = 2 /* FT2232H channel A / FT232H synchronous 245 FIFO, RTS/CTS */
};

/* Which boards: -1 / NULL fields match anything. */
struct tern_usb_match {
    int vid, pid;       /* -1: any known bridge (FTDI 0403:6001/6010/6011/6014/6015) */
    const char *serial; /* iSerialNumber string */
    int bus, addr;      /* bus number and device address */
};
#define TERN_USB_MATCH_ANY { -1, -1, NULL, -1, -1 }

/* Link parameters: 0 / -1 fields take the defaults given. */
struct tern_usb_params {
    enum tern_usb_mode mode;
    uint32_t baud;          /* UART: bits per second; 0: 3000000 */
    int interface;          /* chip channel (0 = A, 1 = B); -1: B on FT2232H in UART mode (how
                               iCEBreaker and Arty wire it), A otherwise */
    unsigned latency_ms;    /* FTDI latency timer, 1..255; 0: 1 */
    unsigned transfers;     /* bulk transfers kept in flight each way; 0: 4 */
    size_t transfer_size;   /* bytes per bulk transfer (a multiple of the packet size); 0: 16384 */
    int keep_kernel_driver; /* 1: fail with TERN_E_BUSY instead of detaching ftdi_sio */
};

/* What a board is, from its descriptors (no I/O with the FPGA behind the bridge). */
struct tern_usb_info {
    uint16_t vid, pid, bcd_device;
    uint8_t bus, addr;
    uint8_t interfaces;    /* interfaces of the active configuration */
    uint16_t max_packet;   /* bulk IN wMaxPacketSize of the default interface (64 or 512) */
    char chip[16];         /* "FT2232H", "FT232H", "FT231X", "FT232R", "FT4232H" or "unknown" */
    char manufacturer[64];
    char product[64];
    char serial[64];
    int strings_read;      /* 0: the strings could not be read (e.g. no permission to open) */
    char note[160];        /* why not, when strings_read is 0 */
};

/* Traffic counters of one open board. */
struct tern_usb_stats {
    uint64_t bytes_out, bytes_in;   /* payload bytes (IN without the modem status bytes) */
    uint64_t status_bytes;          /* modem status bytes stripped from IN packets */
    uint64_t transfers_out, transfers_in;
    uint64_t stalls_cleared;        /* endpoint halts cleared and the transfer resumed */
    uint64_t short_reads;           /* IN transfers that ended with a short packet */
};

int tern_usb_new(tern_usb **out, char *err, size_t errlen);
void tern_usb_free(tern_usb *ctx); /* NULL is fine; every device must be closed first */

/* Fill up to cap entries with the boards that match; *count is how many match in all. */
int tern_usb_list(tern_usb *ctx, const struct tern_usb_match *m, struct tern_usb_info *out,
                  size_t cap, size_t *count, char *err, size_t errlen);

/* Open the one board that matches (TERN_E_NOTFOUND: none; TERN_E_INVAL: more than one, the
 * message lists them), detach a kernel driver bound to its interface, claim it, set the bridge
 * up (reset, purge, mode, baud, line, latency, flow control) and start the IN transfers.
 * TERN_E_ACCESS, TERN_E_BUSY, TERN_E_NODEV, TERN_E_IO as the failure says. p may be NULL. */
int tern_usb_open(tern_usb *ctx, const struct tern_usb_match *m, const struct tern_usb_params *p,
                  tern_usb_dev **out, char *err, size_t errlen);
void tern_usb_close(tern_usb_dev *dev); /* NULL is fine; gives the interface back to ftdi_sio */

/* Send all len bytes (several transfers in flight), or fail: TERN_E_TIMEOUT, TERN_E_NODEV,
 * TERN_E_IO; the message names the operation, endpoint and bytes moved. The bytes go in OUT
 * transfers of about 2 ms of the link each; TERN_E_TIMEOUT when the device completes none for
 * timeout_ms plus tern_usb_dev_link_ms() of that transfer: a write that keeps moving bytes does
 * not time out, however slow the device and however long the write (0: no limit). */
int tern_usb_write(tern_usb_dev *dev, const uint8_t *buf, size_t len, unsigned timeout_ms,
                   char *err, size_t errlen);
/* Take up to cap received bytes, waiting at most timeout_ms for the first; *got = 0 and TERN_OK
 * when nothing arrived in time. */
int tern_usb_read(tern_usb_dev *dev, uint8_t *buf, size_t cap, size_t *got, unsigned timeout_ms,
                  char *err, size_t errlen);
/* Drop every byte buffered either way (in the chip and in the driver). */
int tern_usb_purge(tern_usb_dev *dev, char *err, size_t errlen);

const struct tern_usb_info *tern_usb_dev_info(const tern_usb_dev *dev);
void tern_usb_dev_stats(const tern_usb_dev *dev, struct tern_usb_stats *out);
enum tern_usb_mode tern_usb_dev_mode(const tern_usb_dev *dev);
uint32_t tern_usb_dev_baud(const tern_usb_dev *dev); /* the rate the chip really runs (UART) */
/* The link's nominal payload rate in bytes a second: UART the rate the chip runs / 10 (8N1),
 * FIFO 40 MB/s. */
uint64_t tern_usb_dev_bytes_per_s(const tern_usb_dev *dev);
/* How long bytes may take on this board's link: 4 times their time at the nominal rate, in ms
 * rounded up. A deadline is a floor (timeout_ms) plus this for the bytes waited on. */
unsigned tern_usb_dev_link_ms(const tern_usb_dev *dev, size_t bytes);

#ifdef __cplusplus
}
#endif
#endif /* TERN_USB_H */
