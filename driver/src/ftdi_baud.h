/* ftdi_baud.h — the FTDI baud rate divisor: what the driver sends in SIO_SET_BAUD_RATE and what
 * the virtual board decodes from it (one implementation for both sides, internal). */
#ifndef TERN_FTDI_BAUD_H
#define TERN_FTDI_BAUD_H

#include <stdint.h>

enum tern_ftdi_chip {
    TERN_FTDI_UNKNOWN = 0,
    TERN_FTDI_FT232R,   /* bcdDevice 0x0600, 48 MHz / 16 base */
    TERN_FTDI_FT2232H,  /* 0x0700, H series: 120 MHz / 10 base with the divide-by-5 off */
    TERN_FTDI_FT4232H,  /* 0x0800 */
    TERN_FTDI_FT232H,   /* 0x0900 */
    TERN_FTDI_FTX       /* 0x1000, FT230X / FT231X */
};

enum tern_ftdi_chip tern_ftdi_chip_from_bcd(uint16_t bcd_device);
const char *tern_ftdi_chip_name(enum tern_ftdi_chip chip);
int tern_ftdi_chip_is_h(enum tern_ftdi_chip chip); /* the H series: high speed, 120 MHz clock */

/* Encode the divisor nearest to baud: the wValue and wIndex of SIO_SET_BAUD_RATE for channel
 * `port` (1 = A, 2 = B; it goes in wIndex's low byte on multi-channel chips) and the rate it
 * really gives. 0, or TERN_E_INVAL when no divisor is within 3 % of the request. */
int tern_ftdi_baud_encode(enum tern_ftdi_chip chip, uint32_t baud, uint8_t port,
                          uint16_t *wvalue, uint16_t *windex, uint32_t *actual);
/* The rate a chip runs at for the wValue and wIndex it was sent (0 for a malformed divisor). */
uint32_t tern_ftdi_baud_decode(enum tern_ftdi_chip chip, uint16_t wvalue, uint16_t windex);

#endif /* TERN_FTDI_BAUD_H */
