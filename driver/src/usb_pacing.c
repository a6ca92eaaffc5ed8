/* usb_pacing.c — what the driver's deadlines are derived from (docs/ARCHITECTURE.md section 10):
 * the link's nominal payload rate, the time bytes may take on it (a safety factor over their
 * time at that rate), and the size of the OUT transfers of a write, small enough that a device
 * which keeps taking bytes, however slowly, shows progress often: the unit in which the host
 * sees progress is a completed transfer. */
#include <limits.h>

#include "usb_transport.h"

uint64_t tern_usb_link_bytes_per_s(const struct tern_usb_link *link)
{
    if (link->mode == TERN_USB_MODE_UART) {
        uint32_t baud = link->baud_actual ? link->baud_actual : link->baud_requested;
        return baud >= 10 ? baud / 10 : 1; /* 8N1: 10 bits a byte */
    }
    return TERN_USB_FIFO245_BYTES_PER_S;
}

unsigned tern_usb_link_ms(uint64_t bytes_per_s, size_t bytes)
{
    uint64_t ms;

    if (bytes_per_s == 0)
        bytes_per_s = 1;
    if (bytes > UINT64_MAX / (1000u * TERN_USB_LINK_SAFETY))
        return UINT_MAX;
    ms = ((uint64_t)bytes * 1000u * TERN_USB_LINK_SAFETY + bytes_per_s - 1) / bytes_per_s;
    return ms > UINT_MAX ? UINT_MAX : (unsigned)ms;
}

size_t tern_usb_out_chunk(uint64_t bytes_per_s, size_t packet, size_t transfer_size)
{
    uint64_t want = bytes_per_s / 1000u * TERN_USB_OUT_CHUNK_MS;
    size_t n;

    if (packet == 0)
        packet = 1;
    n = want >= transfer_size ? transfer_size : (size_t)want / packet * packet;
    if (n < packet)
        n = packet;
    return n > transfer_size ? transfer_size : n;
}
