/* test_ftdi_packets.c — the 2 modem status bytes that start every FTDI IN packet are stripped per
 * packet (driver/src/ftdi_transport.c): full and short packets, status-only packets, 64- and
 * 512-byte packets, random transfer layouts against a plain oracle. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "tern/tern.h"
#include "unit_util.h"
#include "usb_transport.h"

#define STATUS0 0x31u /* what an idle FTDI chip sends: modem status, then line status */
#define STATUS1 0x60u

/* Build a transfer: packets of the given lengths (each >= 2 holds 2 status bytes first), the
 * payload bytes numbered from `first`. Returns the transfer length; want gets the payload. */
static size_t build_transfer(const size_t *packet_lens, size_t packets, uint8_t *buf,
                             uint8_t *want, size_t *want_len, uint8_t first)
{
    size_t len = 0, payload = 0;
    uint8_t next = first;
    for (size_t p = 0; p < packets; p++) {
        for (size_t i = 0; i < packet_lens[p]; i++) {
            if (i == 0)
                buf[len++] = STATUS0;
            else if (i == 1)
                buf[len++] = STATUS1;
            else {
                want[payload++] = next;
                buf[len++] = next++;
            }
        }
    }
    *want_len = payload;
    return len;
}

static void check_strip(const size_t *packet_lens, size_t packets, size_t packet_size,
                        const char *what)
{
    uint8_t buf[32 * 512], want[32 * 512]; /* the largest layout: 32 packets of 512 */
    size_t want_len = 0, status = 12345;
    size_t len = build_transfer(packet_lens, packets, buf, want, &want_len, 7);
    size_t got = tern_ftdi_strip_status(buf, len, packet_size, &status);
    if (got != want_len)
        fail_msg("%s: %zu payload bytes, want %zu", what, got, want_len);
    if (status != len - want_len)
        fail_msg("%s: %zu status bytes, want %zu", what, status, len - want_len);
    if (memcmp(buf, want, got) != 0)
        fail_msg("%s: payload bytes differ", what);
}

static void test_full_packets_of_64(void **state)
{
    (void)state;
    const size_t lens[] = { 64, 64, 64, 64 };
    check_strip(lens, 4, 64, "4 full 64-byte packets");
}

static void test_full_packets_of_512(void **state)
{
    (void)state;
    const size_t lens[] = { 512, 512, 512, 100 };
    check_strip(lens, 4, 512, "3 full 512-byte packets and a 100-byte one");
}

static void test_short_last_packet(void **state)
{
    (void)state;
    const size_t lens[] = { 64, 64, 10 };
    check_strip(lens, 3, 64, "2 full packets and a 10-byte one");
    const size_t one[] = { 3 };
    check_strip(one, 1, 64, "a single 3-byte packet");
}

static void test_status_only_packets(void **state)
{
    (void)state;
    const size_t alone[] = { 2 };
    check_strip(alone, 1, 64, "a status-only packet");
    const size_t last[] = { 512, 2 };
    check_strip(last, 2, 512, "a full packet then a status-only one");

    uint8_t buf[2] = { STATUS0, STATUS1 };
    size_t status = 0;
    assert_int_equal(tern_ftdi_strip_status(buf, 2, 64, &status), 0);
    assert_int_equal(status, 2);
}

static void test_empty_and_truncated(void **state)
{
    (void)state;
    uint8_t buf[70];
    size_t status = 99;
    assert_int_equal(tern_ftdi_strip_status(buf, 0, 64, &status), 0);
    assert_int_equal(status, 0);
    /* a 1-byte last packet carries no payload */
    memset(buf, 0xAA, sizeof buf);
    buf[0] = STATUS0;
    buf[1] = STATUS1;
    buf[64] = STATUS0;
    assert_int_equal(tern_ftdi_strip_status(buf, 65, 64, &status), 62);
    assert_int_equal(status, 3);
}

/* Payload bytes that look like status bytes are kept: only the packet position decides. */
static void test_payload_that_looks_like_status(void **state)
{
    (void)state;
    uint8_t buf[128];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (i % 2) ? STATUS1 : STATUS0;
    size_t status = 0;
    assert_int_equal(tern_ftdi_strip_status(buf, sizeof buf, 64, &status), 124);
    assert_int_equal(status, 4);
    for (size_t i = 0; i < 124; i++)
        assert_int_equal(buf[i], (i % 2) ? STATUS1 : STATUS0);
}

static void test_random_layouts(void **state)
{
    (void)state;
    struct prng rng = prng_seed(20240601u);
    const size_t sizes[] = { 64, 512 };
    for (int round = 0; round < 500; round++) {
        size_t packet_size = sizes[prng_below(&rng, 2)];
        size_t packets = 1 + prng_below(&rng, 32);
        size_t lens[32];
        for (size_t p = 0; p < packets; p++)
            lens[p] = packet_size;
        /* the last packet may be short, status only, or full */
        lens[packets - 1] = 2 + prng_below(&rng, (uint32_t)packet_size - 1);
        char what[64];
        snprintf(what, sizeof what, "round %d: %zu packets of %zu", round, packets, packet_size);
        check_strip(lens, packets, packet_size, what);
    }
}

/* The transport op strips with the link's packet size and adds to the overhead counter. */
static void test_transport_op_counts_overhead(void **state)
{
    (void)state;
    struct tern_usb_link link;
    memset(&link, 0, sizeof link);
    link.in_packet = 64;
    uint8_t buf[64 * 3 + 5], want[sizeof buf];
    size_t want_len = 0;
    const size_t lens[] = { 64, 64, 64, 5 };
    size_t len = build_transfer(lens, 4, buf, want, &want_len, 0);
    uint64_t overhead = 10;
    size_t got = tern_ftdi_transport.in_payload(&link, buf, len, &overhead);
    assert_int_equal(got, want_len);
    assert_int_equal(overhead, 10 + 8);
    assert_memory_equal(buf, want, got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_packets_of_64),
        cmocka_unit_test(test_full_packets_of_512),
        cmocka_unit_test(test_short_last_packet),
        cmocka_unit_test(test_status_only_packets),
        cmocka_unit_test(test_empty_and_truncated),
        cmocka_unit_test(test_payload_that_looks_like_status),
        cmocka_unit_test(test_random_layouts),
        cmocka_unit_test(test_transport_op_counts_overhead),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
