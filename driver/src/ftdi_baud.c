/* ftdi_baud.c — the FTDI baud rate divisor (FTDI AN232B-05): the chip divides a base clock
 * (3 MHz, or 12 MHz on the H series with the divide-by-5 off) by an integer of 14 bits plus a
 * fraction in eighths. The fraction travels as a 3-bit code in bits 14..16 of the 17-bit
 * divisor; bit 17 is the H series' clock select. Divisors 0 and 1 stand for 1 and 1.5; others
 * below 2 do not exist. The host side encodes, the virtual board decodes with the same code. */
#include "ftdi_baud.h"

#include <stddef.h>

#include "tern/tern.h"

#define FTDI_BASE_3MHZ 3000000u   /* 48 MHz / 16: every chip, and the H series below ~1200 baud */
#define FTDI_BASE_12MHZ 12000000u /* 120 MHz / 10: the H series with the divide-by-5 off */

#define FTDI_DIV_INT_MAX 0x3FFFu                        /* 14 bits of integer divisor */
#define FTDI_EIGHTHS_MAX (FTDI_DIV_INT_MAX * 8u + 7u)   /* 16383.875 */
#define FTDI_EIGHTHS_ONE 8u                             /* divisor 1, sent as 0 */
#define FTDI_EIGHTHS_ONE_HALF 12u                       /* divisor 1.5, sent as 1 */
#define FTDI_EIGHTHS_TWO 16u                            /* the first ordinary divisor */

#define FTDI_DIV_FRAC_SHIFT 14u
#define FTDI_DIV_CLK12_BIT (1u << 17) /* H series: 12 MHz base (divide-by-5 off) */

/* The sub-integer code of each fraction in eighths, and back. */
static const uint8_t frac_code_of_eighths[8] = { 0, 3, 2, 4, 1, 5, 6, 7 };
static const uint8_t eighths_of_frac_code[8] = { 0, 4, 2, 1, 3, 5, 6, 7 };

enum tern_ftdi_chip tern_ftdi_chip_from_bcd(uint16_t bcd_device)
{
    switch (bcd_device >> 8) {
    case 0x06:
        return TERN_FTDI_FT232R;
    case 0x07:
        return TERN_FTDI_FT2232H;
    case 0x08:
        return TERN_FTDI_FT4232H;
    case 0x09:
        return TERN_FTDI_FT232H;
    case 0x10:
        return TERN_FTDI_FTX;
    default:
        return TERN_FTDI_UNKNOWN;
    }
}

const char *tern_ftdi_chip_name(enum tern_ftdi_chip chip)
{
    switch (chip) {
    case TERN_FTDI_FT232R:
        return "FT232R";
    case TERN_FTDI_FT2232H:
        return "FT2232H";
    case TERN_FTDI_FT4232H:
        return "FT4232H";
    case TERN_FTDI_FT232H:
        return "FT232H";
    case TERN_FTDI_FTX:
        return "FT231X";
    case TERN_FTDI_UNKNOWN:
        break;
    }
    return "unknown";
}

int tern_ftdi_chip_is_h(enum tern_ftdi_chip chip)
{
    return chip == TERN_FTDI_FT2232H || chip == TERN_FTDI_FT4232H || chip == TERN_FTDI_FT232H;
}

/* The rate of a divisor given in eighths, rounded to the nearest bit per second. */
static uint32_t rate_of_eighths(uint32_t base, uint32_t eighths)
{
    uint64_t num = (uint64_t)base * 8u;
    return (uint32_t)((num + eighths / 2u) / eighths);
}

static uint32_t distance(uint32_t a, uint32_t b)
{
    return a > b ? a - b : b - a;
}

/* The valid divisor (in eighths) on this base clock whose rate is nearest to baud. */
static uint32_t nearest_eighths(uint32_t base, uint32_t baud)
{
    uint64_t scaled = (uint64_t)base * 8u;
    uint64_t below = scaled / baud; /* the divisor just above the rate, and the next */
    uint32_t candidates[5];
    size_t n = 0;

    if (below < FTDI_EIGHTHS_TWO) {
        candidates[n++] = FTDI_EIGHTHS_ONE;
        candidates[n++] = FTDI_EIGHTHS_ONE_HALF;
        candidates[n++] = FTDI_EIGHTHS_TWO;
    } else if (below >= FTDI_EIGHTHS_MAX) {
        candidates[n++] = FTDI_EIGHTHS_MAX;
    } else {
        candidates[n++] = (uint32_t)below;
        candidates[n++] = (uint32_t)below + 1u;
    }
    uint32_t best = candidates[0];
    for (size_t i = 1; i < n; i++)
        if (distance(rate_of_eighths(base, candidates[i]), baud) <
            distance(rate_of_eighths(base, best), baud))
            best = candidates[i];
    return best;
}

/* The 17-bit divisor field (without the clock select) of a valid divisor in eighths. */
static uint32_t divisor_field(uint32_t eighths)
{
    if (eighths == FTDI_EIGHTHS_ONE)
        return 0;
    if (eighths == FTDI_EIGHTHS_ONE_HALF)
        return 1;
    return (eighths >> 3) | ((uint32_t)frac_code_of_eighths[eighths & 7u] << FTDI_DIV_FRAC_SHIFT);
}

int tern_ftdi_baud_encode(enum tern_ftdi_chip chip, uint32_t baud, uint8_t port,
                          uint16_t *wvalue, uint16_t *windex, uint32_t *actual)
{
    if (chip == TERN_FTDI_UNKNOWN || baud == 0)
        return TERN_E_INVAL;

    int is_h = tern_ftdi_chip_is_h(chip);
    uint32_t eighths = nearest_eighths(FTDI_BASE_3MHZ, baud);
    uint32_t rate = rate_of_eighths(FTDI_BASE_3MHZ, eighths);
    int clk12 = 0;
    if (is_h) {
        /* The 12 MHz base is finer; it wins ties (it cannot go below ~733 baud). */
        uint32_t e12 = nearest_eighths(FTDI_BASE_12MHZ, baud);
        uint32_t r12 = rate_of_eighths(FTDI_BASE_12MHZ, e12);
        if (distance(r12, baud) <= distance(rate, baud)) {
            eighths = e12;
            rate = r12;
            clk12 = 1;
        }
    }
    if ((uint64_t)distance(rate, baud) * 100u > (uint64_t)baud * 3u)
        return TERN_E_INVAL;

    uint32_t divisor = divisor_field(eighths) | (clk12 ? FTDI_DIV_CLK12_BIT : 0u);
    *wvalue = (uint16_t)(divisor & 0xFFFFu);
    if (is_h) /* the divisor's high bits in the high byte, the channel in the low byte */
        *windex = (uint16_t)(((divisor >> 16) << 8) | port);
    else
        *windex = (uint16_t)(divisor >> 16);
    *actual = rate;
    return TERN_OK;
}

uint32_t tern_ftdi_baud_decode(enum tern_ftdi_chip chip, uint16_t wvalue, uint16_t windex)
{
    uint32_t high; /* divisor bits 16 and up */
    if (chip == TERN_FTDI_UNKNOWN)
        return 0;
    if (tern_ftdi_chip_is_h(chip))
        high = (uint32_t)windex >> 8;
    else
        high = windex;
    if (high & ~3u)
        return 0;
    if (!tern_ftdi_chip_is_h(chip) && (high & 2u))
        return 0; /* no clock select outside the H series */

    uint32_t base = (high & 2u) ? FTDI_BASE_12MHZ : FTDI_BASE_3MHZ;
    uint32_t field = (uint32_t)wvalue | ((high & 1u) << 16);
    uint32_t eighths;
    if (field == 0)
        eighths = FTDI_EIGHTHS_ONE;
    else if (field == 1)
        eighths = FTDI_EIGHTHS_ONE_HALF;
    else if ((field & FTDI_DIV_INT_MAX) < 2u)
        return 0; /* 1.5 is only ever sent as 1, and nothing else lies below 2 */
    else
        eighths = ((field & FTDI_DIV_INT_MAX) << 3) |
                  eighths_of_frac_code[field >> FTDI_DIV_FRAC_SHIFT];
    return rate_of_eighths(base, eighths);
}
