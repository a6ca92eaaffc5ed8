/* usb_transport.h — what a bridge chip adds to plain bulk transfers (internal): how to set it up
 * after the interface is claimed, how to purge it, how a received IN transfer turns into payload.
 * usb_device.c owns the transfers and the ring buffer and calls these; a transport (FTDI today,
 * FT601 or a native USB core later) never touches the transfer machinery. Also the few functions
 * usb_context.c shares with usb_device.c. */
#ifndef TERN_USB_TRANSPORT_H
#define TERN_USB_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "ftdi_baud.h"
#include "tern/tern_usb.h"

struct libusb_context;
struct libusb_device;
struct libusb_device_handle;

/* The claimed interface a transport drives: filled by usb_device.c before setup. */
struct tern_usb_link {
    struct libusb_device_handle *handle;
    enum tern_ftdi_chip chip;   /* TERN_FTDI_UNKNOWN for a bridge that is not FTDI */
    enum tern_usb_mode mode;    /* UART or FIFO245 (never AUTO here) */
    int interface;              /* bInterfaceNumber: 0 = channel A */
    uint8_t ep_in, ep_out;      /* bulk endpoint addresses */
    uint16_t in_packet;         /* bulk IN wMaxPacketSize */
    uint32_t baud_requested;    /* UART */
    uint32_t baud_actual;       /* UART: what setup programmed (0 before) */
    unsigned latency_ms;
    unsigned control_timeout_ms; /* for each control request */
};

struct tern_usb_transport_ops {
    const char *name;
    /* Program the bridge for link->mode after the claim; fills link->baud_actual. 0 or TERN_E_*
     * with a message naming the request that failed. */
    int (*setup)(struct tern_usb_link *link, char *err, size_t errlen);
    /* Drop the bytes the chip buffers either way. */
    int (*purge)(struct tern_usb_link *link, char *err, size_t errlen);
    /* Give the chip back in a neutral state before release (best effort, may be NULL). */
    void (*teardown)(struct tern_usb_link *link);
    /* Turn the len bytes of a completed IN transfer into payload in place; returns the payload
     * length and adds the framing bytes it removed to *overhead. */
    size_t (*in_payload)(const struct tern_usb_link *link, uint8_t *buf, size_t len,
                         uint64_t *overhead);
    /* One line for messages: "FT2232H channel B, UART at 3000000 baud 8N1". */
    void (*describe)(const struct tern_usb_link *link, char *buf, size_t len);
};

extern const struct tern_usb_transport_ops tern_ftdi_transport;

/* FTDI IN packets: every packet_size-byte packet of buf[0..len) starts with 2 modem status
 * bytes; remove them in place (the last packet may be short, a 2-byte packet is status only).
 * Returns the payload length; *status_bytes receives how many bytes were removed. */
size_t tern_ftdi_strip_status(uint8_t *buf, size_t len, size_t packet_size, size_t *status_bytes);

/* ---- pacing (usb_pacing.c): deadlines from the bytes to move and the link's rate ---- */

#define TERN_USB_FIFO245_BYTES_PER_S 40000000u /* the synchronous 245 FIFO's nominal payload rate */
#define TERN_USB_LINK_SAFETY 4u  /* bytes may take this many times their time at the nominal rate */
#define TERN_USB_OUT_CHUNK_MS 2u /* an OUT transfer of a write holds about this much of the link */

/* The link's nominal payload rate in bytes a second: UART baud / 10 (8N1), FIFO 40 MB/s. */
uint64_t tern_usb_link_bytes_per_s(const struct tern_usb_link *link);
/* TERN_USB_LINK_SAFETY times the time bytes need at bytes_per_s, in ms rounded up. */
unsigned tern_usb_link_ms(uint64_t bytes_per_s, size_t bytes);
/* The OUT transfer size of a write: the bytes of TERN_USB_OUT_CHUNK_MS at bytes_per_s in whole
 * packets, at least one packet, at most transfer_size. */
size_t tern_usb_out_chunk(uint64_t bytes_per_s, size_t packet, size_t transfer_size);

/* ---- shared by usb_context.c and usb_device.c ---- */

struct libusb_context *tern_usb_libusb(const tern_usb *ctx);

/* The one device that matches m (a reference the caller drops with libusb_unref_device) and
 * its description. TERN_E_NOTFOUND or TERN_E_INVAL (several match) with the message the
 * public API documents; TERN_E_IO when the bus cannot be listed. */
int tern_usb_find_one(tern_usb *ctx, const struct tern_usb_match *m, struct libusb_device **out,
                      struct tern_usb_info *info, char *err, size_t errlen);

/* Descriptor fields of a device (no strings: strings_read = 0, note empty). */
int tern_usb_describe(struct libusb_device *dev, struct tern_usb_info *info);
/* Read the manufacturer, product and serial strings through an open handle; sets strings_read
 * or the note. */
void tern_usb_read_strings(struct libusb_device_handle *handle, struct tern_usb_info *info);

/* The bulk endpoints of an interface (alternate setting 0) of the active configuration, the IN
 * endpoint's wMaxPacketSize and how many interfaces the configuration has (any pointer may be
 * NULL). TERN_E_NOTFOUND when the interface or its bulk endpoints do not exist. */
int tern_usb_bulk_endpoints(struct libusb_device *dev, int interface, uint8_t *ep_in,
                            uint8_t *ep_out, uint16_t *in_packet, uint8_t *interfaces);

/* The TERN_E_* code for a libusb_error (TERN_E_IO for the ones without a closer match). */
int tern_usb_code_of(int libusb_error);

/* The message every permission failure ends with. */
#define TERN_USB_ACCESS_HINT "install driver/udev/60-tern.rules, see docs/guide-boards.md"

#endif /* TERN_USB_TRANSPORT_H */
