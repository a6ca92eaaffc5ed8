/* usb_device.h — one open board as the driver's two halves share it (internal): usb_device.c
 * opens and closes it (claim, bridge set-up, release), usb_transfer.c moves its bytes (IN
 * transfers into the ring, OUT transfers of a write, stall recovery, purge). */
#ifndef TERN_USB_DEVICE_H
#define TERN_USB_DEVICE_H

#include <libusb.h>
#include <stddef.h>
#include <stdint.h>

#include "tern/tern_usb.h"
#include "usb_transport.h"

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
    uint64_t bytes_per_s; /* the link's nominal rate (usb_pacing.c) */
    size_t out_chunk;     /* bytes in one OUT transfer of a write */
};

/* usb_transfer.c, for open and close */
int tern_usb_start_in(tern_usb_dev *dev, char *err, size_t errlen); /* every IN transfer in flight */
int tern_usb_drain_in(tern_usb_dev *dev);  /* cancel the IN transfers, wait (bounded): 0 when all came back */
int tern_usb_drain_out(tern_usb_dev *dev); /* the same for OUT */

#endif /* TERN_USB_DEVICE_H */
