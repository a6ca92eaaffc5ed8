/* test_usb_pacing.c — what the driver's deadlines are derived from (driver/src/usb_pacing.c):
 * the link's nominal rate, the time bytes may take on it, and the OUT transfer size of a write,
 * which must let a device far slower than its link show progress within the default timeout. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <limits.h>
#include <stdio.h>

#include "tern/tern.h"
#include "usb_transport.h"

static void test_link_rates(void **state)
{
    struct tern_usb_link link = {0};

    (void)state;
    link.mode = TERN_USB_MODE_UART;
    link.baud_requested = 3000000;
    assert_int_equal(tern_usb_link_bytes_per_s(&link), 300000); /* before set-up: what was asked */
    link.baud_actual = 2990000;
    assert_int_equal(tern_usb_link_bytes_per_s(&link), 299000); /* after: what the chip runs */
    link.baud_actual = 3;
    assert_int_equal(tern_usb_link_bytes_per_s(&link), 1);      /* never 0 */
    link.mode = TERN_USB_MODE_FIFO245;
    assert_int_equal(tern_usb_link_bytes_per_s(&link), TERN_USB_FIFO245_BYTES_PER_S);
}

static void test_link_ms(void **state)
{
    (void)state;
    assert_int_equal(tern_usb_link_ms(300000, 0), 0);
    assert_int_equal(tern_usb_link_ms(300000, 4096), 55);     /* 13.65 ms, 4 times, rounded up */
    assert_int_equal(tern_usb_link_ms(40000000, 16384), 2);
    assert_int_equal(tern_usb_link_ms(960, 512), 2134);       /* 9600 baud: 533 ms a packet */
    assert_int_equal(tern_usb_link_ms(0, 1), 4000);           /* no rate known: 1 byte a second */
    assert_int_equal(tern_usb_link_ms(1, SIZE_MAX), UINT_MAX); /* saturates */
}

static void test_out_chunks(void **state)
{
    (void)state;
    assert_int_equal(tern_usb_out_chunk(300000, 512, 16384), 512);       /* tiny's 3 Mbaud */
    assert_int_equal(tern_usb_out_chunk(1200000, 512, 16384), 2048);     /* 12 Mbaud */
    assert_int_equal(tern_usb_out_chunk(300000, 64, 16384), 576);        /* full speed packets */
    assert_int_equal(tern_usb_out_chunk(40000000, 512, 16384), 16384);   /* FIFO: the whole transfer */
    assert_int_equal(tern_usb_out_chunk(40000000, 512, 65536), 65536);
    assert_int_equal(tern_usb_out_chunk(960, 512, 16384), 512);          /* at least one packet */
    assert_int_equal(tern_usb_out_chunk(UINT64_MAX, 512, 16384), 16384); /* no overflow */
    assert_int_equal(tern_usb_out_chunk(300000, 0, 16384), 600);
}

/* The point of the rule: with the default 2000 ms, a device a thousand times slower than its
 * link (a simulated board on a loaded host) still completes every OUT transfer in time, and a
 * transfer's own allowance covers its time on a link as slow as 9600 baud. */
static void test_slow_devices_show_progress(void **state)
{
    static const uint64_t rates[] = {300000, 1200000, TERN_USB_FIFO245_BYTES_PER_S};
    static const uint64_t slow_rates[] = {960, 11520, 300000, 1200000, TERN_USB_FIFO245_BYTES_PER_S};

    (void)state;
    for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++) {
        size_t chunk = tern_usb_out_chunk(rates[i], 512, 16384);
        uint64_t ms_at_thousandth = chunk * 1000u * 1000u / rates[i];
        printf("%llu B/s: transfers of %zu bytes, %llu ms each at a thousandth of the rate\n",
               (unsigned long long)rates[i], chunk, (unsigned long long)ms_at_thousandth);
        assert_true(ms_at_thousandth <= 2000);
    }
    for (size_t i = 0; i < sizeof slow_rates / sizeof slow_rates[0]; i++) {
        size_t chunk = tern_usb_out_chunk(slow_rates[i], 512, 16384);
        uint64_t ms = chunk * 1000u / slow_rates[i]; /* its time at the nominal rate, rounded down */
        assert_true(tern_usb_link_ms(slow_rates[i], chunk) >= 4 * ms);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_link_rates),
        cmocka_unit_test(test_link_ms),
        cmocka_unit_test(test_out_chunks),
        cmocka_unit_test(test_slow_devices_show_progress),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
