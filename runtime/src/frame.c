/* frame.c — building and scanning protocol frames (ARCHITECTURE.md section 6), and their names. */
#include <string.h>

#include "tern/tern_proto.h"

size_t tern_frame_cmd(uint8_t *buf, size_t cap, uint8_t opcode, uint16_t seq, uint32_t addr, const void *payload,
                      uint32_t len)
{
    size_t n = (size_t)len + TERN_CMD_OVERHEAD;

    if (!buf || cap < n || (len && !payload))
        return 0;
    buf[0] = TERN_MAGIC0;
    buf[1] = TERN_CMD_MAGIC1;
    buf[2] = TERN_PROTO_VERSION;
    buf[3] = opcode;
    tern_put_u16(buf + 4, seq);
    tern_put_u16(buf + 6, 0);
    tern_put_u32(buf + 8, addr);
    tern_put_u32(buf + 12, len);
    tern_put_u16(buf + 16, tern_crc16(buf, 16));
    if (len)
        memcpy(buf + TERN_CMD_HDR_BYTES, payload, len);
    tern_put_u32(buf + TERN_CMD_HDR_BYTES + len, len ? tern_crc32(payload, len) : 0);
    return n;
}

size_t tern_frame_rsp(uint8_t *buf, size_t cap, uint8_t opcode, uint16_t seq, uint8_t status, const void *payload,
                      uint32_t len)
{
    size_t n = (size_t)len + TERN_RSP_OVERHEAD;

    if (!buf || cap < n || (len && !payload))
        return 0;
    buf[0] = TERN_MAGIC0;
    buf[1] = TERN_RSP_MAGIC1;
    buf[2] = TERN_PROTO_VERSION;
    buf[3] = opcode;
    tern_put_u16(buf + 4, seq);
    buf[6] = status;
    buf[7] = 0;
    tern_put_u32(buf + 8, len);
    tern_put_u16(buf + 12, tern_crc16(buf, 12));
    if (len)
        memcpy(buf + TERN_RSP_HDR_BYTES, payload, len);
    tern_put_u32(buf + TERN_RSP_HDR_BYTES + len, len ? tern_crc32(payload, len) : 0);
    return n;
}

enum tern_scan tern_scan_rsp(const uint8_t *buf, size_t n, uint32_t max_len, struct tern_rsp *rsp, size_t *consumed)
{
    size_t i = 0;

    for (; i < n; i++) {
        const uint8_t *h = buf + i;
        size_t left = n - i;
        uint32_t len;

        if (h[0] != TERN_MAGIC0)
            continue;
        if (left < 2)
            break; /* a lone A5 at the end may start a frame */
        if (h[1] != TERN_RSP_MAGIC1)
            continue;
        if (left < TERN_RSP_HDR_BYTES)
            break;
        if (tern_crc16(h, 12) != tern_get_u16(h + 12))
            continue;
        len = tern_get_u32(h + 8);
        if (len > max_len)
            continue;
        if (left < (size_t)len + TERN_RSP_OVERHEAD)
            break;
        rsp->version = h[2];
        rsp->opcode = h[3];
        rsp->seq = tern_get_u16(h + 4);
        rsp->status = h[6];
        rsp->len = len;
        rsp->payload = h + TERN_RSP_HDR_BYTES;
        *consumed = i + len + TERN_RSP_OVERHEAD;
        if ((len ? tern_crc32(rsp->payload, len) : 0) != tern_get_u32(h + TERN_RSP_HDR_BYTES + len))
            return TERN_SCAN_BAD_PCRC;
        return TERN_SCAN_FRAME;
    }
    *consumed = i;
    return TERN_SCAN_MORE;
}

const char *tern_status_name(int status)
{
    static const char *const names[] = {"OK",      "BAD_HCRC", "BAD_PCRC", "BAD_VERSION", "BAD_OPCODE",
                                        "BAD_ADDR", "BAD_LEN", "BUSY",     "ILLEGAL_CODE"};
    return (status >= 0 && (size_t)status < sizeof names / sizeof names[0]) ? names[status] : "?";
}

const char *tern_opcode_name(int opcode)
{
    static const char *const names[] = {"?",        "PING", "READ_REG",      "WRITE_REG", "WRITE_MEM",
                                        "READ_MEM", "RUN",  "READ_COUNTERS", "RESET"};
    return (opcode > 0 && (size_t)opcode < sizeof names / sizeof names[0]) ? names[opcode] : "?";
}

const char *tern_counter_name(int index)
{
    static const char *const names[TERN_NUM_COUNTERS] = {
        "cycles",      "cyc_rx",   "cyc_tx",    "cyc_ctrl",  "cyc_commit", "cyc_compute", "cyc_pipe",    "cyc_stall_rx",
        "cyc_stall_tx", "tern_ops", "bytes_in", "bytes_out", "frames_ok",  "frames_err",  "illegal_runs"};
    return (index >= 0 && index < TERN_NUM_COUNTERS) ? names[index] : "?";
}

const char *tern_link_kind_name(int kind)
{
    static const char *const names[] = {"stream", "uart", "fifo245", "ft601"};
    return (kind >= 0 && (size_t)kind < sizeof names / sizeof names[0]) ? names[kind] : "?";
}
