/* test_ftdi_baud.c — the FTDI baud divisor (driver/src/ftdi_baud.c): values from FTDI AN232B-05
 * and the H series' clock select, encode/decode round trips over every divisor, the 3 % rule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ftdi_baud.h"
#include "tern/tern.h"

static const enum tern_ftdi_chip all_chips[] = { TERN_FTDI_FT232R, TERN_FTDI_FT2232H,
                                                 TERN_FTDI_FT4232H, TERN_FTDI_FT232H,
                                                 TERN_FTDI_FTX };

struct known_divisor {
    enum tern_ftdi_chip chip;
    uint32_t baud;
    uint8_t port;
    uint16_t wvalue, windex;
    uint32_t actual;
};

static void test_known_divisors(void **state)
{
    (void)state;
    const struct known_divisor cases[] = {
        /* 3 MHz base: 115200 -> divisor 26 (AN232B-05), 9600 -> 312.5 (code 1 in bit 14) */
        { TERN_FTDI_FT232R, 115200, 1, 0x001A, 0x0000, 115385 },
        { TERN_FTDI_FT232R, 9600, 1, 0x4138, 0x0000, 9600 },
        /* AN232B-05's example: 490000 -> 6.125 (1/8 is code 3: bits 14 and 15) */
        { TERN_FTDI_FT232R, 490000, 1, 0xC006, 0x0000, 489796 },
        /* 3/8 is code 4: bit 16, wIndex bit 0 on a single-channel non-H chip */
        { TERN_FTDI_FT232R, 289157, 1, 0x000A, 0x0001, 289157 },
        /* the special divisors: 0 = 3 Mbaud, 1 = 2 Mbaud */
        { TERN_FTDI_FT232R, 3000000, 1, 0x0000, 0x0000, 3000000 },
        { TERN_FTDI_FT232R, 2000000, 1, 0x0001, 0x0000, 2000000 },
        { TERN_FTDI_FTX, 3000000, 1, 0x0000, 0x0000, 3000000 },
        { TERN_FTDI_FTX, 115200, 1, 0x001A, 0x0000, 115385 },
        /* H series, 12 MHz base (bit 17 -> wIndex bit 9), channel in wIndex's low byte */
        { TERN_FTDI_FT2232H, 3000000, 1, 0x0004, 0x0201, 3000000 },
        { TERN_FTDI_FT2232H, 3000000, 2, 0x0004, 0x0202, 3000000 },
        { TERN_FTDI_FT2232H, 12000000, 1, 0x0000, 0x0201, 12000000 },
        { TERN_FTDI_FT2232H, 8000000, 2, 0x0001, 0x0202, 8000000 },
        { TERN_FTDI_FT232H, 1000000, 1, 0x000C, 0x0201, 1000000 },
        { TERN_FTDI_FT4232H, 115200, 4, 0xC068, 0x0204, 115246 },
        /* 12 MHz / 10.375: code 4 -> wIndex bit 8 next to the clock bit */
        { TERN_FTDI_FT2232H, 1156627, 1, 0x000A, 0x0301, 1156627 },
        /* below ~733 baud the H series needs the 3 MHz base: no bit 17 */
        { TERN_FTDI_FT2232H, 300, 2, 0x2710, 0x0002, 300 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct known_divisor *c = &cases[i];
        uint16_t wvalue = 0xDEAD, windex = 0xBEEF;
        uint32_t actual = 0;
        int rc = tern_ftdi_baud_encode(c->chip, c->baud, c->port, &wvalue, &windex, &actual);
        if (rc != TERN_OK || wvalue != c->wvalue || windex != c->windex || actual != c->actual)
            fail_msg("%s %u baud port %u: rc %d wValue 0x%04x wIndex 0x%04x actual %u, want "
                     "wValue 0x%04x wIndex 0x%04x actual %u",
                     tern_ftdi_chip_name(c->chip), c->baud, c->port, rc, wvalue, windex, actual,
                     c->wvalue, c->windex, c->actual);
        uint32_t decoded = tern_ftdi_baud_decode(c->chip, c->wvalue, c->windex);
        if (decoded != c->actual)
            fail_msg("%s decode(0x%04x, 0x%04x) = %u, want %u", tern_ftdi_chip_name(c->chip),
                     c->wvalue, c->windex, decoded, c->actual);
    }
}

/* Rates from 183 baud to 12.5 Mbaud in 0.1 % steps, plus the usual ones. */
static void test_round_trip_and_error_bound(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof all_chips / sizeof all_chips[0]; k++) {
        enum tern_ftdi_chip chip = all_chips[k];
        int is_h = tern_ftdi_chip_is_h(chip);
        size_t accepted = 0;
        for (double rate = 183.0; rate < 12.5e6; rate *= 1.001) {
            uint32_t baud = (uint32_t)rate;
            uint16_t wvalue, windex;
            uint32_t actual;
            uint8_t port = is_h ? 2 : 1;
            if (tern_ftdi_baud_encode(chip, baud, port, &wvalue, &windex, &actual) != TERN_OK)
                continue;
            accepted++;
            uint64_t diff = actual > baud ? actual - baud : baud - actual;
            if (diff * 100u > (uint64_t)baud * 3u)
                fail_msg("%s %u baud: accepted with %u (more than 3 %% off)",
                         tern_ftdi_chip_name(chip), baud, actual);
            if (is_h && (windex & 0xFFu) != port)
                fail_msg("%s %u baud: wIndex 0x%04x lost the port", tern_ftdi_chip_name(chip),
                         baud, windex);
            uint32_t decoded = tern_ftdi_baud_decode(chip, wvalue, windex);
            if (decoded != actual)
                fail_msg("%s %u baud: encode gave 0x%04x/0x%04x = %u, decode says %u",
                         tern_ftdi_chip_name(chip), baud, wvalue, windex, actual, decoded);
        }
        if (accepted < 1000)
            fail_msg("%s: only %zu rates accepted", tern_ftdi_chip_name(chip), accepted);
    }
    const uint32_t usual[] = { 300,    1200,   9600,    19200,   57600,   115200, 230400,
                               460800, 921600, 1000000, 1500000, 2000000, 3000000 };
    for (size_t k = 0; k < sizeof all_chips / sizeof all_chips[0]; k++)
        for (size_t i = 0; i < sizeof usual / sizeof usual[0]; i++) {
            uint16_t wvalue, windex;
            uint32_t actual;
            if (tern_ftdi_baud_encode(all_chips[k], usual[i], 1, &wvalue, &windex, &actual) !=
                TERN_OK)
                fail_msg("%s refuses %u baud", tern_ftdi_chip_name(all_chips[k]), usual[i]);
        }
}

/* Every divisor a chip can be sent: decode it, encode the rate, get that rate back exactly. */
static void test_every_divisor_round_trips(void **state)
{
    (void)state;
    const enum tern_ftdi_chip chips[] = { TERN_FTDI_FT232R, TERN_FTDI_FT2232H };
    for (size_t k = 0; k < 2; k++) {
        enum tern_ftdi_chip chip = chips[k];
        int is_h = tern_ftdi_chip_is_h(chip);
        for (uint32_t clk12 = 0; clk12 <= (uint32_t)is_h; clk12++) {
            for (uint32_t field = 0; field < (1u << 17); field++) {
                uint16_t wvalue = (uint16_t)field;
                uint16_t windex = is_h ? (uint16_t)((((field >> 16) | clk12 << 1) << 8) | 1u)
                                       : (uint16_t)(field >> 16);
                uint32_t rate = tern_ftdi_baud_decode(chip, wvalue, windex);
                uint32_t integer = field & 0x3FFFu;
                int valid = field <= 1 || integer >= 2;
                if (!valid) {
                    if (rate != 0)
                        fail_msg("%s field 0x%05x (below 2, not special) decodes to %u",
                                 tern_ftdi_chip_name(chip), field, rate);
                    continue;
                }
                if (rate == 0)
                    fail_msg("%s field 0x%05x clk12 %u decodes to 0", tern_ftdi_chip_name(chip),
                             field, clk12);
                uint16_t v2, i2;
                uint32_t actual;
                if (tern_ftdi_baud_encode(chip, rate, 1, &v2, &i2, &actual) != TERN_OK ||
                    actual != rate || tern_ftdi_baud_decode(chip, v2, i2) != rate)
                    fail_msg("%s field 0x%05x clk12 %u: %u baud does not come back (got %u)",
                             tern_ftdi_chip_name(chip), field, clk12, rate, actual);
            }
        }
    }
}

static void test_impossible_rates_are_refused(void **state)
{
    (void)state;
    const struct {
        enum tern_ftdi_chip chip;
        uint32_t baud;
    } cases[] = {
        { TERN_FTDI_FT232R, 0 },        { TERN_FTDI_FT232R, 4000000 },
        { TERN_FTDI_FT232R, 2500000 },  /* between the 2 and 3 Mbaud special divisors */
        { TERN_FTDI_FT232R, 2900000 },  /* 3.4 % below 3 Mbaud */
        { TERN_FTDI_FT232R, 100 },      /* below 3 MHz / 16383.875 */
        { TERN_FTDI_FTX, 6000000 },     { TERN_FTDI_FT2232H, 13000000 },
        { TERN_FTDI_FT232H, 100000000 }, { TERN_FTDI_FT232H, 10 },
        { TERN_FTDI_UNKNOWN, 115200 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint16_t wvalue, windex;
        uint32_t actual;
        int rc = tern_ftdi_baud_encode(cases[i].chip, cases[i].baud, 1, &wvalue, &windex, &actual);
        if (rc != TERN_E_INVAL)
            fail_msg("%s %u baud: returned %d (actual %u), want TERN_E_INVAL",
                     tern_ftdi_chip_name(cases[i].chip), cases[i].baud, rc, actual);
    }
    /* near misses within 3 % are taken */
    uint16_t wvalue, windex;
    uint32_t actual;
    assert_int_equal(tern_ftdi_baud_encode(TERN_FTDI_FT232R, 3050000, 1, &wvalue, &windex, &actual),
                     TERN_OK);
    assert_int_equal(actual, 3000000);
    assert_int_equal(tern_ftdi_baud_encode(TERN_FTDI_FT2232H, 12300000, 1, &wvalue, &windex,
                                           &actual),
                     TERN_OK);
    assert_int_equal(actual, 12000000);
}

static void test_malformed_divisors_decode_to_zero(void **state)
{
    (void)state;
    /* 1.25 and 0.5 do not exist; a clock bit outside the H series; stray wIndex bits */
    assert_int_equal(tern_ftdi_baud_decode(TERN_FTDI_FT232R, 0x8001, 0x0000), 0);
    assert_int_equal(tern_ftdi_baud_decode(TERN_FTDI_FT232R, 0x4000, 0x0000), 0);
    assert_int_equal(tern_ftdi_baud_decode(TERN_FTDI_FT232R, 0x001A, 0x0002), 0);
    assert_int_equal(tern_ftdi_baud_decode(TERN_FTDI_FT2232H, 0x0004, 0x0401), 0);
    assert_int_equal(tern_ftdi_baud_decode(TERN_FTDI_UNKNOWN, 0x001A, 0x0000), 0);
    /* the port byte does not change the rate */
    assert_int_equal(tern_ftdi_baud_decode(TERN_FTDI_FT2232H, 0x0004, 0x0201),
                     tern_ftdi_baud_decode(TERN_FTDI_FT2232H, 0x0004, 0x0202));
}

static void test_chip_from_bcd_device(void **state)
{
    (void)state;
    const struct {
        uint16_t bcd;
        enum tern_ftdi_chip chip;
        const char *name;
        int is_h;
    } cases[] = {
        { 0x0600, TERN_FTDI_FT232R, "FT232R", 0 },   { 0x0700, TERN_FTDI_FT2232H, "FT2232H", 1 },
        { 0x0800, TERN_FTDI_FT4232H, "FT4232H", 1 }, { 0x0900, TERN_FTDI_FT232H, "FT232H", 1 },
        { 0x1000, TERN_FTDI_FTX, "FT231X", 0 },      { 0x0500, TERN_FTDI_UNKNOWN, "unknown", 0 },
        { 0x0400, TERN_FTDI_UNKNOWN, "unknown", 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        enum tern_ftdi_chip chip = tern_ftdi_chip_from_bcd(cases[i].bcd);
        if (chip != cases[i].chip)
            fail_msg("bcdDevice 0x%04x: chip %d, want %d", cases[i].bcd, chip, cases[i].chip);
        assert_string_equal(tern_ftdi_chip_name(chip), cases[i].name);
        assert_int_equal(tern_ftdi_chip_is_h(chip), cases[i].is_h);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_divisors),
        cmocka_unit_test(test_round_trip_and_error_bound),
        cmocka_unit_test(test_every_divisor_round_trips),
        cmocka_unit_test(test_impossible_rates_are_refused),
        cmocka_unit_test(test_malformed_divisors_decode_to_zero),
        cmocka_unit_test(test_chip_from_bcd_device),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
