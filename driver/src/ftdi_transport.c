/* ftdi_transport.c — the FTDI bridge transport: the vendor control requests that set a channel up
 * as an 8N1 UART or as the synchronous 245 FIFO, the purge, and the 2 modem status bytes that
 * start every IN packet. Request numbers and values are those of the chips (FTDI AN232B-05 and
 * the data sheets); wIndex carries the channel, port = interface + 1. */
#include <libusb.h>
#include <stdio.h>
#include <string.h>

#include "ftdi_baud.h"
#include "tern/tern.h"
#include "usb_transport.h"

/* bRequest */
#define SIO_RESET 0x00
#define SIO_SET_MODEM_CTRL 0x01
#define SIO_SET_FLOW_CTRL 0x02
#define SIO_SET_BAUD_RATE 0x03
#define SIO_SET_DATA 0x04
#define SIO_SET_LATENCY_TIMER 0x09
#define SIO_SET_BITMODE 0x0B

/* wValue of SIO_RESET */
#define SIO_RESET_SIO 0x0000
#define SIO_RESET_PURGE_RX 0x0001
#define SIO_RESET_PURGE_TX 0x0002

/* wValue of SIO_SET_DATA: 8 data bits, no parity (bits 8..10 = 0), 1 stop bit (bits 11..12 = 0) */
#define SIO_DATA_8N1 0x0008
/* wValue of SIO_SET_MODEM_CTRL: set DTR and RTS (enable mask in the high byte, level in the low) */
#define SIO_MODEM_DTR_RTS_ON 0x0303
/* wIndex high byte of SIO_SET_FLOW_CTRL */
#define SIO_FLOW_NONE 0x00
#define SIO_FLOW_RTS_CTS 0x01
/* SIO_SET_BITMODE modes (wValue high byte); the low byte is the pin direction mask */
#define SIO_BITMODE_RESET 0x00
#define SIO_BITMODE_SYNC_FIFO 0x40
#define SIO_BITMODE_ALL_PINS 0xFF

#define FTDI_STATUS_BYTES 2u

static uint16_t port_of(const struct tern_usb_link *link)
{
    return (uint16_t)(link->interface + 1);
}

static char channel_letter(const struct tern_usb_link *link)
{
    return (char)('A' + link->interface);
}

/* One vendor OUT request to the channel; the message names it and the values sent. */
static int sio_request(const struct tern_usb_link *link, uint8_t request, uint16_t wvalue,
                       uint16_t windex, const char *what, char *err, size_t errlen)
{
    int rc = libusb_control_transfer(link->handle,
                                     LIBUSB_ENDPOINT_OUT | LIBUSB_REQUEST_TYPE_VENDOR |
                                         LIBUSB_RECIPIENT_DEVICE,
                                     request, wvalue, windex, NULL, 0, link->control_timeout_ms);
    if (rc >= 0)
        return TERN_OK;
    if (rc == LIBUSB_ERROR_NO_DEVICE) {
        snprintf(err, errlen,
                 "board unplugged (or lost from the bus) during %s (FTDI request 0x%02x, wValue "
                 "0x%04x, wIndex 0x%04x) on endpoint 0x00 (%s)",
                 what, request, wvalue, windex, libusb_error_name(rc));
        return TERN_E_NODEV;
    }
    if (rc == LIBUSB_ERROR_TIMEOUT) {
        snprintf(err, errlen,
                 "timed out after %u ms during %s (FTDI request 0x%02x, wValue 0x%04x, wIndex "
                 "0x%04x) on endpoint 0x00 (%s)",
                 link->control_timeout_ms, what, request, wvalue, windex, libusb_error_name(rc));
        return TERN_E_TIMEOUT;
    }
    snprintf(err, errlen,
             "%s failed (FTDI request 0x%02x, wValue 0x%04x, wIndex 0x%04x) on endpoint 0x00: "
             "%s%s",
             what, request, wvalue, windex, libusb_error_name(rc),
             rc == LIBUSB_ERROR_PIPE ? " (the chip refused the request)" : "");
    return TERN_E_IO;
}

static int ftdi_purge(struct tern_usb_link *link, char *err, size_t errlen)
{
    int rc = sio_request(link, SIO_RESET, SIO_RESET_PURGE_RX, port_of(link),
                         "purging the chip's receive buffer", err, errlen);
    if (rc)
        return rc;
    return sio_request(link, SIO_RESET, SIO_RESET_PURGE_TX, port_of(link),
                       "purging the chip's transmit buffer", err, errlen);
}

static int setup_uart(struct tern_usb_link *link, char *err, size_t errlen)
{
    const uint16_t port = port_of(link);
    uint16_t wvalue, windex;
    uint32_t actual;
    if (tern_ftdi_baud_encode(link->chip, link->baud_requested, (uint8_t)port, &wvalue, &windex,
                              &actual) != TERN_OK) {
        snprintf(err, errlen, "%s cannot run at %u baud (no divisor within 3 %%)",
                 tern_ftdi_chip_name(link->chip), link->baud_requested);
        return TERN_E_INVAL;
    }
    int rc = sio_request(link, SIO_SET_BAUD_RATE, wvalue, windex, "setting the baud rate", err,
                         errlen);
    if (rc)
        return rc;
    link->baud_actual = actual;
    return sio_request(link, SIO_SET_DATA, SIO_DATA_8N1, port, "setting the line to 8N1", err,
                       errlen);
}

static int ftdi_setup(struct tern_usb_link *link, char *err, size_t errlen)
{
    const uint16_t port = port_of(link);
    const int fifo = link->mode == TERN_USB_MODE_FIFO245;
    int rc;

    if (link->latency_ms < 1 || link->latency_ms > 255) {
        snprintf(err, errlen, "latency timer %u ms is outside 1..255", link->latency_ms);
        return TERN_E_INVAL;
    }
    rc = sio_request(link, SIO_RESET, SIO_RESET_SIO, port, "resetting the channel", err, errlen);
    if (rc)
        return rc;
    rc = ftdi_purge(link, err, errlen);
    if (rc)
        return rc;
    rc = sio_request(link, SIO_SET_BITMODE, (uint16_t)(SIO_BITMODE_RESET << 8), port,
                     "resetting the bit mode", err, errlen);
    if (rc)
        return rc;
    if (fifo) {
        rc = sio_request(link, SIO_SET_BITMODE,
                         (uint16_t)(SIO_BITMODE_SYNC_FIFO << 8 | SIO_BITMODE_ALL_PINS), port,
                         "entering synchronous 245 FIFO mode", err, errlen);
        if (rc)
            return rc;
    } else {
        rc = setup_uart(link, err, errlen);
        if (rc)
            return rc;
    }
    rc = sio_request(link, SIO_SET_LATENCY_TIMER, (uint16_t)link->latency_ms, port,
                     "setting the latency timer", err, errlen);
    if (rc)
        return rc;
    rc = sio_request(link, SIO_SET_FLOW_CTRL, 0,
                     (uint16_t)((fifo ? SIO_FLOW_RTS_CTS : SIO_FLOW_NONE) << 8 | port),
                     "setting flow control", err, errlen);
    if (rc)
        return rc;
    if (!fifo)
        rc = sio_request(link, SIO_SET_MODEM_CTRL, SIO_MODEM_DTR_RTS_ON, port,
                         "raising DTR and RTS", err, errlen);
    return rc;
}

static void ftdi_teardown(struct tern_usb_link *link)
{
    char ignored[256]; /* the message of a best-effort request nobody reads */
    if (link->mode == TERN_USB_MODE_FIFO245)
        (void)sio_request(link, SIO_SET_BITMODE, (uint16_t)(SIO_BITMODE_RESET << 8), port_of(link),
                          "leaving FIFO mode", ignored, sizeof ignored);
}

size_t tern_ftdi_strip_status(uint8_t *buf, size_t len, size_t packet_size, size_t *status_bytes)
{
    size_t payload = 0, status = 0;
    if (packet_size <= FTDI_STATUS_BYTES) { /* no room for payload: nothing is payload */
        *status_bytes = len;
        return 0;
    }
    for (size_t pos = 0; pos < len; pos += packet_size) {
        size_t packet = len - pos < packet_size ? len - pos : packet_size;
        size_t head = packet < FTDI_STATUS_BYTES ? packet : FTDI_STATUS_BYTES;
        memmove(buf + payload, buf + pos + head, packet - head);
        payload += packet - head;
        status += head;
    }
    *status_bytes = status;
    return payload;
}

static size_t ftdi_in_payload(const struct tern_usb_link *link, uint8_t *buf, size_t len,
                              uint64_t *overhead)
{
    size_t status = 0;
    size_t payload = tern_ftdi_strip_status(buf, len, link->in_packet, &status);
    *overhead += status;
    return payload;
}

static void ftdi_describe(const struct tern_usb_link *link, char *buf, size_t len)
{
    uint32_t baud = link->baud_actual ? link->baud_actual : link->baud_requested;
    if (link->mode == TERN_USB_MODE_FIFO245)
        snprintf(buf, len, "%s channel %c, synchronous 245 FIFO", tern_ftdi_chip_name(link->chip),
                 channel_letter(link));
    else
        snprintf(buf, len, "%s channel %c, UART at %u baud 8N1", tern_ftdi_chip_name(link->chip),
                 channel_letter(link), baud);
}

const struct tern_usb_transport_ops tern_ftdi_transport = {
    .name = "ftdi",
    .setup = ftdi_setup,
    .purge = ftdi_purge,
    .teardown = ftdi_teardown,
    .in_payload = ftdi_in_payload,
    .describe = ftdi_describe,
};
