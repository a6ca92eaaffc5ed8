/* tern_proto.h — the framed command protocol every backend speaks: constants, CRCs, frames.
 * ARCHITECTURE.md section 6 is the specification; this header is its C form. */
#ifndef TERN_PROTO_H
#define TERN_PROTO_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TERN_PROTO_VERSION 1u
#define TERN_HW_REVISION 1u
#define TERN_ID_MAGIC 0x5445524Eu /* "TERN" */

#define TERN_MAGIC0 0xA5u
#define TERN_CMD_MAGIC1 0x54u
#define TERN_RSP_MAGIC1 0x52u

#define TERN_CMD_HDR_BYTES 18u /* magic..hcrc */
#define TERN_RSP_HDR_BYTES 14u
#define TERN_PCRC_BYTES 4u
#define TERN_CMD_OVERHEAD (TERN_CMD_HDR_BYTES + TERN_PCRC_BYTES) /* 22 */
#define TERN_RSP_OVERHEAD (TERN_RSP_HDR_BYTES + TERN_PCRC_BYTES) /* 18 */

/* Memory regions (byte addresses for WRITE_MEM / READ_MEM). */
#define TERN_WMEM_BASE 0x00000000u
#define TERN_AMEM_BASE 0x40000000u
#define TERN_OMEM_BASE 0x80000000u

/* The largest device the runtime accepts (ARCHITECTURE.md section 4): an ID block beyond these is
 * refused naming the register. configs/<name>.cfg are held to the same limits at configure time. */
#define TERN_LIMIT_LANES 256u
#define TERN_LIMIT_WIDTH 256u
#define TERN_LIMIT_REGION_BYTES 0x40000000ull /* each memory fits its 1 GiB address window */
#define TERN_LIMIT_MAX_PAYLOAD 0x100000u      /* 1 MiB frame payloads */
#define TERN_LIMIT_PIPE_CYCLES 65535u         /* RUN_SETUP, RUN_DRAIN */

enum tern_opcode {
    TERN_OP_PING = 0x01,
    TERN_OP_READ_REG = 0x02,
    TERN_OP_WRITE_REG = 0x03,
    TERN_OP_WRITE_MEM = 0x04,
    TERN_OP_READ_MEM = 0x05,
    TERN_OP_RUN = 0x06,
    TERN_OP_READ_COUNTERS = 0x07,
    TERN_OP_RESET = 0x08
};

enum tern_status {
    TERN_ST_OK = 0,
    TERN_ST_BAD_HCRC = 1,
    TERN_ST_BAD_PCRC = 2,
    TERN_ST_BAD_VERSION = 3,
    TERN_ST_BAD_OPCODE = 4,
    TERN_ST_BAD_ADDR = 5,
    TERN_ST_BAD_LEN = 6,
    TERN_ST_BUSY = 7,
    TERN_ST_ILLEGAL_CODE = 8
};

enum tern_reg {
    TERN_REG_ID_MAGIC = 0,
    TERN_REG_ID_VERSION = 1,
    TERN_REG_LANES = 2,
    TERN_REG_WIDTH = 3,
    TERN_REG_ACC_WIDTH = 4,
    TERN_REG_MAX_K = 5,
    TERN_REG_WMEM_WORDS = 6,
    TERN_REG_AMEM_WORDS = 7,
    TERN_REG_OMEM_WORDS = 8,
    TERN_REG_MAX_PAYLOAD = 9,
    TERN_REG_CLOCK_HZ = 10,
    TERN_REG_LINK_KIND = 11,
    TERN_REG_LINK_BYTES_PER_S = 12,
    TERN_REG_RUN_SETUP = 13,
    TERN_REG_RUN_DRAIN = 14,
    TERN_REG_NUM_COUNTERS = 15,
    TERN_REG_NAME_LO = 16,
    TERN_REG_NAME_HI = 17,
    TERN_REG_BACKEND = 18,
    TERN_REG_RESERVED = 19,
    TERN_NUM_ID_REGS = 20,
    TERN_REG_SCRATCH = 32,
    TERN_REG_ERR_FLAGS = 33
};

#define TERN_ERR_ILLEGAL_CODE 0x1u /* ERR_FLAGS bit 0 */

enum tern_link_kind {
    TERN_LINK_STREAM = 0,
    TERN_LINK_UART = 1,
    TERN_LINK_FIFO245 = 2,
    TERN_LINK_FT601 = 3
};

enum tern_counter_index {
    TERN_CNT_CYCLES = 0,
    TERN_CNT_CYC_RX,
    TERN_CNT_CYC_TX,
    TERN_CNT_CYC_CTRL,
    TERN_CNT_CYC_COMMIT,
    TERN_CNT_CYC_COMPUTE,
    TERN_CNT_CYC_PIPE,
    TERN_CNT_CYC_STALL_RX,
    TERN_CNT_CYC_STALL_TX,
    TERN_CNT_TERN_OPS,
    TERN_CNT_BYTES_IN,
    TERN_CNT_BYTES_OUT,
    TERN_CNT_FRAMES_OK,
    TERN_CNT_FRAMES_ERR,
    TERN_CNT_ILLEGAL_RUNS,
    TERN_NUM_COUNTERS
};

#define TERN_RUN_PAYLOAD_BYTES 28u
#define TERN_RUN_FLAG_ACCUMULATE 0x1u

/* CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF) and CRC-32 (IEEE, reflected). */
#define TERN_CRC16_INIT 0xFFFFu
uint16_t tern_crc16_update(uint16_t crc, const void *data, size_t len);
uint16_t tern_crc16(const void *data, size_t len);
/* crc32: start with 0 and chain: tern_crc32_update(tern_crc32_update(0, a, n), b, m). */
uint32_t tern_crc32_update(uint32_t crc, const void *data, size_t len);
uint32_t tern_crc32(const void *data, size_t len);

/* Little-endian field helpers. */
static inline void tern_put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static inline void tern_put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static inline void tern_put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static inline uint16_t tern_get_u16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}
static inline uint32_t tern_get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline uint64_t tern_get_u64(const uint8_t *p)
{
    return (uint64_t)tern_get_u32(p) | ((uint64_t)tern_get_u32(p + 4) << 32);
}

/* Build a command frame into buf. Returns the frame length (22 + len), or 0 when cap is
 * too small. payload may be NULL when len is 0. */
size_t tern_frame_cmd(uint8_t *buf, size_t cap, uint8_t opcode, uint16_t seq, uint32_t addr,
                      const void *payload, uint32_t len);
/* Build a response frame (the device side). Same conventions. */
size_t tern_frame_rsp(uint8_t *buf, size_t cap, uint8_t opcode, uint16_t seq, uint8_t status,
                      const void *payload, uint32_t len);

/* A parsed response; payload points into the caller's buffer. */
struct tern_rsp {
    uint8_t version;
    uint8_t opcode;
    uint16_t seq;
    uint8_t status;
    uint32_t len;
    const uint8_t *payload;
};

enum tern_scan {
    TERN_SCAN_MORE = 0,     /* no complete frame yet: *consumed bytes are garbage to drop */
    TERN_SCAN_FRAME = 1,    /* a valid frame: *consumed bytes end just after it */
    TERN_SCAN_BAD_PCRC = 2  /* a frame whose header is valid but payload CRC is not; rsp has
                               its header fields; *consumed bytes end just after it */
};

/* Scan buf for the first response frame. max_len bounds the len field a header may carry
 * (larger means the header is garbage). Never fails: bytes that cannot start a valid
 * frame are counted into *consumed. */
enum tern_scan tern_scan_rsp(const uint8_t *buf, size_t n, uint32_t max_len, struct tern_rsp *rsp,
                             size_t *consumed);

const char *tern_status_name(int status); /* "OK", "BAD_HCRC", ...; "?" when unknown */
const char *tern_opcode_name(int opcode); /* "PING", ...; "?" when unknown */
const char *tern_counter_name(int index); /* "cycles", "cyc_rx", ...; "?" when unknown */
const char *tern_link_kind_name(int kind); /* "stream", "uart", "fifo245", "ft601" */

#ifdef __cplusplus
}
#endif
#endif /* TERN_PROTO_H */
