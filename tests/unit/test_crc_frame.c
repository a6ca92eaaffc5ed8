/* test_crc_frame.c — CRCs, command frame building and response scanning (ARCHITECTURE.md 6). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "tern/tern_proto.h"
#include "unit_util.h"

static const uint8_t check_str[] = "123456789";

static void test_crc16_check_value(void **state)
{
    (void)state;
    assert_int_equal(tern_crc16(check_str, 9), 0x29B1);
    assert_int_equal(tern_crc16_update(TERN_CRC16_INIT, check_str, 9), 0x29B1);
}

static void test_crc16_empty_is_init(void **state)
{
    (void)state;
    assert_int_equal(tern_crc16(check_str, 0), 0xFFFF);
}

static void test_crc32_check_value(void **state)
{
    (void)state;
    assert_int_equal(tern_crc32(check_str, 9), 0xCBF43926u);
    assert_int_equal(tern_crc32_update(0, check_str, 9), 0xCBF43926u);
}

static void test_crc32_empty_is_zero(void **state)
{
    (void)state;
    assert_int_equal(tern_crc32(check_str, 0), 0u);
}

static void test_crc_random_buffers_match_bitwise_reference(void **state)
{
    (void)state;
    struct prng p = prng_seed(0xC5C5u);
    uint8_t buf[1000];
    for (int iter = 0; iter < 200; iter++) {
        size_t n = prng_below(&p, sizeof buf + 1);
        prng_bytes(&p, buf, n);
        if (tern_crc16(buf, n) != unit_crc16(buf, n))
            fail_msg("crc16 of %zu random bytes (iter %d): %04x, want %04x", n, iter,
                     tern_crc16(buf, n), unit_crc16(buf, n));
        if (tern_crc32(buf, n) != unit_crc32(buf, n))
            fail_msg("crc32 of %zu random bytes (iter %d): %08x, want %08x", n, iter,
                     tern_crc32(buf, n), unit_crc32(buf, n));
    }
}

static void test_crc32_chained_equals_one_shot(void **state)
{
    (void)state;
    struct prng p = prng_seed(0xC32u);
    uint8_t buf[257];
    prng_bytes(&p, buf, sizeof buf);
    uint32_t whole = tern_crc32(buf, sizeof buf);
    for (size_t a = 0; a <= sizeof buf; a++) {
        size_t b = a + (sizeof buf - a) / 2; /* three pieces: [0,a) [a,b) [b,end) */
        uint32_t c = tern_crc32_update(0, buf, a);
        c = tern_crc32_update(c, buf + a, b - a);
        c = tern_crc32_update(c, buf + b, sizeof buf - b);
        if (c != whole)
            fail_msg("crc32 split at %zu and %zu: %08x, one shot %08x", a, b, c, whole);
    }
}

static void test_crc16_chained_equals_one_shot(void **state)
{
    (void)state;
    struct prng p = prng_seed(0xC16u);
    uint8_t buf[100];
    prng_bytes(&p, buf, sizeof buf);
    uint16_t whole = tern_crc16(buf, sizeof buf);
    for (size_t a = 0; a <= sizeof buf; a++) {
        uint16_t c = tern_crc16_update(TERN_CRC16_INIT, buf, a);
        c = tern_crc16_update(c, buf + a, sizeof buf - a);
        if (c != whole)
            fail_msg("crc16 split at %zu: %04x, one shot %04x", a, c, whole);
    }
}

static void test_frame_cmd_layout_byte_by_byte(void **state)
{
    (void)state;
    const uint8_t payload[5] = { 0x11, 0x22, 0x33, 0x44, 0x55 };
    uint8_t got[64];
    memset(got, 0xEE, sizeof got);
    size_t n = tern_frame_cmd(got, sizeof got, TERN_OP_WRITE_MEM, 0xBEEF, 0x40000123u, payload, 5);
    assert_int_equal(n, 27);
    uint8_t want[27] = { 0xA5, 0x54, 0x01, 0x04, 0xEF, 0xBE, 0x00, 0x00, 0x23, 0x01, 0x00, 0x40,
                         0x05, 0x00, 0x00, 0x00 };
    uint16_t h = unit_crc16(want, 16);
    want[16] = (uint8_t)h;
    want[17] = (uint8_t)(h >> 8);
    memcpy(want + 18, payload, 5);
    unit_put_u32(want + 23, unit_crc32(payload, 5));
    for (size_t i = 0; i < 27; i++)
        if (got[i] != want[i])
            fail_msg("WRITE_MEM frame byte %zu = %02x, want %02x", i, got[i], want[i]);
    assert_int_equal(got[27], 0xEE); /* nothing written past the frame */
}

static void test_frame_cmd_empty_payload_has_zero_pcrc(void **state)
{
    (void)state;
    uint8_t got[22], want[22];
    size_t n = tern_frame_cmd(got, sizeof got, TERN_OP_PING, 7, 0, NULL, 0);
    assert_int_equal(n, 22);
    unit_build_cmd(want, 1, TERN_OP_PING, 7, 0, NULL, 0);
    for (size_t i = 0; i < 22; i++)
        if (got[i] != want[i])
            fail_msg("PING frame byte %zu = %02x, want %02x", i, got[i], want[i]);
}

static void test_frame_cmd_cap_too_small_returns_0(void **state)
{
    (void)state;
    uint8_t buf[64], payload[10] = { 0 };
    assert_int_equal(tern_frame_cmd(buf, 31, TERN_OP_WRITE_MEM, 1, 0, payload, 10), 0);
    assert_int_equal(tern_frame_cmd(buf, 21, TERN_OP_PING, 1, 0, NULL, 0), 0);
    assert_int_equal(tern_frame_cmd(buf, 0, TERN_OP_PING, 1, 0, NULL, 0), 0);
    assert_int_equal(tern_frame_cmd(buf, 32, TERN_OP_WRITE_MEM, 1, 0, payload, 10), 32);
}

static void test_frame_rsp_layout_matches_reference(void **state)
{
    (void)state;
    const uint8_t payload[4] = { 1, 2, 3, 4 };
    uint8_t got[32], want[32];
    size_t n = tern_frame_rsp(got, sizeof got, TERN_OP_READ_REG, 0x1234, TERN_ST_BAD_ADDR, payload, 4);
    assert_int_equal(n, 22);
    unit_build_rsp(want, TERN_OP_READ_REG, 0x1234, TERN_ST_BAD_ADDR, payload, 4);
    for (size_t i = 0; i < 22; i++)
        if (got[i] != want[i])
            fail_msg("response frame byte %zu = %02x, want %02x", i, got[i], want[i]);
}

/* ---- tern_scan_rsp ---- */

#define MAXLEN 256u

static size_t sample_rsp(uint8_t *buf, uint16_t seq, uint32_t len)
{
    uint8_t payload[MAXLEN];
    for (uint32_t i = 0; i < len; i++)
        payload[i] = (uint8_t)(0x10 + i); /* never A5 for len < 149 */
    return unit_build_rsp(buf, TERN_OP_READ_MEM, seq, TERN_ST_OK, payload, len);
}

static void expect_frame(const char *what, const uint8_t *buf, size_t n, uint16_t seq, uint32_t len,
                         size_t want_consumed)
{
    struct tern_rsp rsp;
    size_t consumed = 9999;
    memset(&rsp, 0, sizeof rsp);
    enum tern_scan r = tern_scan_rsp(buf, n, MAXLEN, &rsp, &consumed);
    if (r != TERN_SCAN_FRAME)
        fail_msg("%s: scan returned %d (consumed %zu), want FRAME", what, r, consumed);
    if (consumed != want_consumed)
        fail_msg("%s: consumed %zu, want %zu", what, consumed, want_consumed);
    if (rsp.seq != seq || rsp.len != len || rsp.opcode != TERN_OP_READ_MEM ||
        rsp.status != TERN_ST_OK || rsp.version != 1)
        fail_msg("%s: parsed seq %u len %u opcode %u status %u version %u, want seq %u len %u", what,
                 rsp.seq, rsp.len, rsp.opcode, rsp.status, rsp.version, seq, len);
    for (uint32_t i = 0; i < len; i++)
        if (rsp.payload[i] != (uint8_t)(0x10 + i))
            fail_msg("%s: payload byte %u = %02x", what, i, rsp.payload[i]);
}

static void test_scan_clean_frame(void **state)
{
    (void)state;
    uint8_t buf[300];
    size_t n = sample_rsp(buf, 42, 10);
    expect_frame("clean 10-byte frame", buf, n, 42, 10, n);
    n = sample_rsp(buf, 43, 0);
    expect_frame("clean empty frame", buf, n, 43, 0, n);
}

static void test_scan_garbage_before_frame_is_consumed(void **state)
{
    (void)state;
    uint8_t buf[400];
    const uint8_t garbage[] = { 0x00, 0x52, 0xA5, 0x00, 0x54, 0xA5, 0x53, 0xFF, 0x52 };
    for (size_t g = 0; g <= sizeof garbage; g++) {
        memcpy(buf, garbage, g);
        size_t n = g + sample_rsp(buf + g, 9, 7);
        char what[64];
        snprintf(what, sizeof what, "%zu garbage bytes before a frame", g);
        expect_frame(what, buf, n, 9, 7, n);
    }
}

static void test_scan_only_garbage_is_all_consumed(void **state)
{
    (void)state;
    const uint8_t garbage[] = { 0x00, 0x52, 0xA5, 0x00, 0x54, 0x11, 0xA5, 0x54 };
    struct tern_rsp rsp;
    size_t consumed = 9999;
    enum tern_scan r = tern_scan_rsp(garbage, sizeof garbage, MAXLEN, &rsp, &consumed);
    if (r != TERN_SCAN_MORE || consumed != sizeof garbage)
        fail_msg("8 garbage bytes without A5 at the end: scan %d consumed %zu, want MORE, 8", r,
                 consumed);
}

static void test_scan_trailing_a5_is_kept(void **state)
{
    (void)state;
    const uint8_t garbage[] = { 0x00, 0x01, 0xA5 };
    struct tern_rsp rsp;
    size_t consumed = 9999;
    enum tern_scan r = tern_scan_rsp(garbage, 3, MAXLEN, &rsp, &consumed);
    if (r != TERN_SCAN_MORE || consumed != 2)
        fail_msg("00 01 A5: scan %d consumed %zu, want MORE with 2 consumed (A5 may start a frame)",
                 r, consumed);
}

static void test_scan_frame_split_at_every_boundary(void **state)
{
    (void)state;
    uint8_t buf[300];
    size_t n = sample_rsp(buf, 0x0102, 33);
    for (size_t cut = 0; cut < n; cut++) {
        struct tern_rsp rsp;
        size_t consumed = 9999;
        enum tern_scan r = tern_scan_rsp(buf, cut, MAXLEN, &rsp, &consumed);
        if (r != TERN_SCAN_MORE || consumed != 0)
            fail_msg("first %zu of %zu frame bytes: scan %d consumed %zu, want MORE with 0", cut, n,
                     r, consumed);
    }
    expect_frame("all bytes after every cut", buf, n, 0x0102, 33, n);
}

static void test_scan_streaming_byte_by_byte(void **state)
{
    (void)state;
    /* A receiver that appends one byte at a time and drops what scan consumes. */
    uint8_t stream[400], win[400];
    const uint8_t garbage[] = { 0xA5, 0xA5, 0x00, 0x52 };
    memcpy(stream, garbage, sizeof garbage);
    size_t n = sizeof garbage + sample_rsp(stream + sizeof garbage, 77, 20);
    size_t have = 0, fed = 0, dropped = 0;
    int got_frame = 0;
    while (fed < n && !got_frame) {
        win[have++] = stream[fed++];
        struct tern_rsp rsp;
        size_t consumed = 0;
        enum tern_scan r = tern_scan_rsp(win, have, MAXLEN, &rsp, &consumed);
        if (r == TERN_SCAN_FRAME) {
            if (fed != n || rsp.seq != 77)
                fail_msg("frame reported after %zu of %zu bytes, seq %u", fed, n, rsp.seq);
            got_frame = 1;
        } else if (r != TERN_SCAN_MORE) {
            fail_msg("after %zu bytes: scan returned %d", fed, r);
        }
        dropped += consumed;
        memmove(win, win + consumed, have - consumed);
        have -= consumed;
    }
    if (!got_frame)
        fail_msg("no frame after feeding all %zu bytes one at a time", n);
    if (dropped != n)
        fail_msg("dropped %zu bytes in total, want %zu (4 garbage + the frame)", dropped, n);
}

static void test_scan_bad_hcrc_is_skipped(void **state)
{
    (void)state;
    uint8_t buf[300];
    size_t a = sample_rsp(buf, 1, 5);
    buf[12] ^= 0x01; /* corrupt hcrc */
    size_t b = sample_rsp(buf + a, 2, 6);
    expect_frame("frame with bad hcrc then a good frame", buf, a + b, 2, 6, a + b);
}

static void test_scan_bad_header_field_is_skipped(void **state)
{
    (void)state;
    uint8_t buf[300];
    size_t a = sample_rsp(buf, 1, 5);
    buf[4] ^= 0x40; /* corrupt seq: the hcrc no longer matches */
    size_t b = sample_rsp(buf + a, 3, 4);
    expect_frame("frame with a flipped seq bit then a good frame", buf, a + b, 3, 4, a + b);
}

static void test_scan_bad_pcrc_is_reported(void **state)
{
    (void)state;
    uint8_t buf[300];
    size_t n = sample_rsp(buf, 0x4455, 12);
    buf[14 + 3] ^= 0x80; /* corrupt the payload */
    struct tern_rsp rsp;
    size_t consumed = 9999;
    memset(&rsp, 0, sizeof rsp);
    enum tern_scan r = tern_scan_rsp(buf, n, MAXLEN, &rsp, &consumed);
    if (r != TERN_SCAN_BAD_PCRC || consumed != n)
        fail_msg("frame with a corrupt payload byte: scan %d consumed %zu, want BAD_PCRC, %zu", r,
                 consumed, n);
    if (rsp.seq != 0x4455 || rsp.opcode != TERN_OP_READ_MEM || rsp.len != 12)
        fail_msg("BAD_PCRC header fields: seq %04x opcode %u len %u", rsp.seq, rsp.opcode, rsp.len);
}

static void test_scan_bad_pcrc_field_is_reported(void **state)
{
    (void)state;
    uint8_t buf[300];
    size_t n = sample_rsp(buf, 5, 0);
    buf[n - 1] = 0x01; /* pcrc must be 0 for an empty payload */
    struct tern_rsp rsp;
    size_t consumed = 9999;
    enum tern_scan r = tern_scan_rsp(buf, n, MAXLEN, &rsp, &consumed);
    if (r != TERN_SCAN_BAD_PCRC || consumed != n)
        fail_msg("empty frame with pcrc 0x01000000: scan %d consumed %zu, want BAD_PCRC, %zu", r,
                 consumed, n);
}

static void test_scan_len_over_max_is_garbage(void **state)
{
    (void)state;
    uint8_t buf[400];
    /* a header with a valid hcrc announcing MAXLEN + 1 bytes, then a good frame right away */
    uint8_t big[MAXLEN + 1];
    memset(big, 0, sizeof big);
    size_t a = unit_build_rsp(buf, TERN_OP_READ_MEM, 1, TERN_ST_OK, big, MAXLEN + 1);
    (void)a;
    size_t b = sample_rsp(buf + 14, 8, 3);
    expect_frame("header with len = max_len + 1 then a good frame", buf, 14 + b, 8, 3, 14 + b);
}

static void test_scan_len_equal_max_is_accepted(void **state)
{
    (void)state;
    static uint8_t buf[MAXLEN + 18];
    uint8_t payload[MAXLEN];
    memset(payload, 0x10, sizeof payload);
    size_t n = unit_build_rsp(buf, TERN_OP_READ_MEM, 1, TERN_ST_OK, payload, MAXLEN);
    struct tern_rsp rsp;
    size_t consumed = 0;
    enum tern_scan r = tern_scan_rsp(buf, n, MAXLEN, &rsp, &consumed);
    if (r != TERN_SCAN_FRAME || consumed != n || rsp.len != MAXLEN)
        fail_msg("frame with len = max_len: scan %d consumed %zu len %u", r, consumed, rsp.len);
}

static void test_scan_two_frames_back_to_back(void **state)
{
    (void)state;
    uint8_t buf[300];
    size_t a = sample_rsp(buf, 100, 4);
    size_t b = sample_rsp(buf + a, 101, 9);
    expect_frame("first of two frames", buf, a + b, 100, 4, a);
    expect_frame("second of two frames", buf + a, b, 101, 9, b);
}

static void test_scan_a5_a5_52_finds_frame(void **state)
{
    (void)state;
    uint8_t buf[300];
    for (size_t extra = 1; extra <= 3; extra++) {
        memset(buf, 0xA5, extra);
        size_t n = extra + sample_rsp(buf + extra, 55, 2);
        char what[64];
        snprintf(what, sizeof what, "%zu extra A5 before A5 52", extra);
        expect_frame(what, buf, n, 55, 2, n);
    }
}

static void test_scan_command_magic_is_not_a_response(void **state)
{
    (void)state;
    /* A5 54 is a command: a response scanner must not accept it */
    uint8_t buf[300];
    size_t a = unit_build_cmd(buf, 1, TERN_OP_PING, 3, 0, NULL, 0);
    size_t b = sample_rsp(buf + a, 4, 1);
    expect_frame("command frame then a response", buf, a + b, 4, 1, a + b);
}

static void test_names_of_statuses_and_opcodes(void **state)
{
    (void)state;
    assert_string_equal(tern_status_name(TERN_ST_OK), "OK");
    assert_string_equal(tern_status_name(TERN_ST_BAD_HCRC), "BAD_HCRC");
    assert_string_equal(tern_status_name(TERN_ST_BAD_PCRC), "BAD_PCRC");
    assert_string_equal(tern_status_name(TERN_ST_BAD_VERSION), "BAD_VERSION");
    assert_string_equal(tern_status_name(TERN_ST_BAD_OPCODE), "BAD_OPCODE");
    assert_string_equal(tern_status_name(TERN_ST_BAD_ADDR), "BAD_ADDR");
    assert_string_equal(tern_status_name(TERN_ST_BAD_LEN), "BAD_LEN");
    assert_string_equal(tern_status_name(TERN_ST_BUSY), "BUSY");
    assert_string_equal(tern_status_name(TERN_ST_ILLEGAL_CODE), "ILLEGAL_CODE");
    assert_string_equal(tern_status_name(9), "?");
    assert_string_equal(tern_status_name(-1), "?");
    assert_string_equal(tern_opcode_name(TERN_OP_PING), "PING");
    assert_string_equal(tern_opcode_name(TERN_OP_READ_COUNTERS), "READ_COUNTERS");
    assert_string_equal(tern_opcode_name(TERN_OP_RESET), "RESET");
    assert_string_equal(tern_opcode_name(0), "?");
    assert_string_equal(tern_opcode_name(9), "?");
    assert_string_equal(tern_counter_name(TERN_CNT_CYCLES), "cycles");
    assert_string_equal(tern_counter_name(TERN_CNT_CYC_RX), "cyc_rx");
    assert_string_equal(tern_counter_name(TERN_NUM_COUNTERS), "?");
    assert_string_equal(tern_link_kind_name(TERN_LINK_STREAM), "stream");
    assert_string_equal(tern_link_kind_name(TERN_LINK_UART), "uart");
    assert_string_equal(tern_link_kind_name(TERN_LINK_FIFO245), "fifo245");
    assert_string_equal(tern_link_kind_name(TERN_LINK_FT601), "ft601");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc16_check_value),
        cmocka_unit_test(test_crc16_empty_is_init),
        cmocka_unit_test(test_crc32_check_value),
        cmocka_unit_test(test_crc32_empty_is_zero),
        cmocka_unit_test(test_crc_random_buffers_match_bitwise_reference),
        cmocka_unit_test(test_crc32_chained_equals_one_shot),
        cmocka_unit_test(test_crc16_chained_equals_one_shot),
        cmocka_unit_test(test_frame_cmd_layout_byte_by_byte),
        cmocka_unit_test(test_frame_cmd_empty_payload_has_zero_pcrc),
        cmocka_unit_test(test_frame_cmd_cap_too_small_returns_0),
        cmocka_unit_test(test_frame_rsp_layout_matches_reference),
        cmocka_unit_test(test_scan_clean_frame),
        cmocka_unit_test(test_scan_garbage_before_frame_is_consumed),
        cmocka_unit_test(test_scan_only_garbage_is_all_consumed),
        cmocka_unit_test(test_scan_trailing_a5_is_kept),
        cmocka_unit_test(test_scan_frame_split_at_every_boundary),
        cmocka_unit_test(test_scan_streaming_byte_by_byte),
        cmocka_unit_test(test_scan_bad_hcrc_is_skipped),
        cmocka_unit_test(test_scan_bad_header_field_is_skipped),
        cmocka_unit_test(test_scan_bad_pcrc_is_reported),
        cmocka_unit_test(test_scan_bad_pcrc_field_is_reported),
        cmocka_unit_test(test_scan_len_over_max_is_garbage),
        cmocka_unit_test(test_scan_len_equal_max_is_accepted),
        cmocka_unit_test(test_scan_two_frames_back_to_back),
        cmocka_unit_test(test_scan_a5_a5_52_finds_frame),
        cmocka_unit_test(test_scan_command_magic_is_not_a_response),
        cmocka_unit_test(test_names_of_statuses_and_opcodes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
