/* usb_device.c — one open board: find it, claim the bridge's interface (detaching ftdi_sio),
 * let the transport set the chip up, allocate the transfers and start the IN ones; close gives
 * everything back in reverse. Moving bytes: usb_transfer.c. */
#define _POSIX_C_SOURCE 200809L

#include <libusb.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ftdi_baud.h"
#include "tern/tern.h"
#include "tern/tern_usb.h"
#include "usb_device.h"

#define DEFAULT_BAUD 3000000u
#define DEFAULT_LATENCY_MS 1u
#define DEFAULT_TRANSFERS 4u
#define DEFAULT_TRANSFER_SIZE 16384u
#define MAX_TRANSFERS 64u
#define MAX_IN_FLIGHT_BYTES (64u << 20)  /* transfers * transfer_size */
#define CONTROL_TIMEOUT_MS 1000u

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

/* Give everything back that open took, in reverse (also the whole of close). Transfers that do
 * not come back within the bound are forgotten by libusb_close, so freeing them after is safe. */
static void release_board(tern_usb_dev *dev)
{
    dev->in_stopping = 1;
    if (dev->in)
        (void)tern_usb_drain_in(dev);
    if (dev->out)
        (void)tern_usb_drain_out(dev);
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
    dev->bytes_per_s = tern_usb_link_bytes_per_s(&dev->link);
    dev->out_chunk = tern_usb_out_chunk(dev->bytes_per_s, dev->link.in_packet, dev->transfer_size);
    rc = alloc_transfers(dev);
    if (rc) {
        snprintf(err, errlen, "out of memory for %u transfers of %zu bytes", dev->transfers,
                 dev->transfer_size);
        goto fail;
    }
    rc = tern_usb_start_in(dev, err, errlen);
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

uint64_t tern_usb_dev_bytes_per_s(const tern_usb_dev *dev)
{
    return dev ? dev->bytes_per_s : 0;
}

unsigned tern_usb_dev_link_ms(const tern_usb_dev *dev, size_t bytes)
{
    return dev ? tern_usb_link_ms(dev->bytes_per_s, bytes) : 0;
}
