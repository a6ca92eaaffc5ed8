/* idblock.c — reading the ID block a device returns to PING into a tern_config, trusting nothing:
 * every register is checked against the rules of configs/<name>.cfg and the sane limits of
 * ARCHITECTURE.md section 4, and a device that breaks one is refused naming the register. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tern/tern_proto.h"
#include "tern_idblock.h"

static const char *const reg_names[TERN_NUM_ID_REGS] = {
    "ID_MAGIC",   "ID_VERSION",   "LANES",     "WIDTH",     "ACC_WIDTH",        "MAX_K",     "WMEM_WORDS",
    "AMEM_WORDS", "OMEM_WORDS",   "MAX_PAYLOAD", "CLOCK_HZ", "LINK_KIND",       "LINK_BYTES_PER_S",
    "RUN_SETUP",  "RUN_DRAIN",    "NUM_COUNTERS", "NAME_LO", "NAME_HI",         "BACKEND",   "RESERVED"};

const char *tern_id_reg_name(unsigned index)
{
    return index < TERN_NUM_ID_REGS ? reg_names[index] : "?";
}

/* Refuse the device: "register <i> <NAME> = <value> ...: <why>". */
__attribute__((format(printf, 5, 6))) static int refuse(char *err, size_t errlen, unsigned reg, uint32_t value,
                                                         const char *fmt, ...)
{
    va_list ap;
    int w = snprintf(err, errlen, "the device's ID register %u %s = %u (0x%08x) ", reg, reg_names[reg], value, value);

    if (w > 0 && (size_t)w < errlen) {
        va_start(ap, fmt);
        vsnprintf(err + w, errlen - (size_t)w, fmt, ap);
        va_end(ap);
    }
    return TERN_E_PROTO;
}

static int pow2(uint32_t v)
{
    return v && !(v & (v - 1));
}

int tern_idblock_parse(const uint8_t *id, struct tern_config *out, char *err, size_t errlen)
{
    uint32_t r[TERN_NUM_ID_REGS];
    struct tern_config c;
    uint64_t bytes, acc_max;

    for (unsigned i = 0; i < TERN_NUM_ID_REGS; i++)
        r[i] = tern_get_u32(id + 4 * i);
    if (r[TERN_REG_ID_MAGIC] != TERN_ID_MAGIC)
        return refuse(err, errlen, TERN_REG_ID_MAGIC, r[TERN_REG_ID_MAGIC], "is not 0x%08x (\"TERN\"): not a tern device",
                      TERN_ID_MAGIC);
    if (r[TERN_REG_ID_VERSION] >> 16 != TERN_PROTO_VERSION)
        return refuse(err, errlen, TERN_REG_ID_VERSION, r[TERN_REG_ID_VERSION],
                      "says protocol version %u; this runtime speaks %u", r[TERN_REG_ID_VERSION] >> 16,
                      TERN_PROTO_VERSION);
    memset(&c, 0, sizeof c);
    c.proto_version = r[TERN_REG_ID_VERSION] >> 16;
    c.hw_revision = r[TERN_REG_ID_VERSION] & 0xFFFF;
    c.lanes = r[TERN_REG_LANES];
    c.width = r[TERN_REG_WIDTH];
    c.acc_width = r[TERN_REG_ACC_WIDTH];
    c.max_k = r[TERN_REG_MAX_K];
    c.wmem_words = r[TERN_REG_WMEM_WORDS];
    c.amem_words = r[TERN_REG_AMEM_WORDS];
    c.omem_words = r[TERN_REG_OMEM_WORDS];
    c.max_payload = r[TERN_REG_MAX_PAYLOAD];
    c.clock_hz = r[TERN_REG_CLOCK_HZ];
    c.link_kind = r[TERN_REG_LINK_KIND];
    c.link_bytes_per_s = r[TERN_REG_LINK_BYTES_PER_S];
    c.run_setup = r[TERN_REG_RUN_SETUP];
    c.run_drain = r[TERN_REG_RUN_DRAIN];
    c.num_counters = r[TERN_REG_NUM_COUNTERS];
    c.backend = r[TERN_REG_BACKEND];

    if (!pow2(c.lanes) || c.lanes > TERN_LIMIT_LANES)
        return refuse(err, errlen, TERN_REG_LANES, c.lanes, "is not a power of two in 1..%u", TERN_LIMIT_LANES);
    if (!pow2(c.width) || c.width < 4 || c.width > TERN_LIMIT_WIDTH)
        return refuse(err, errlen, TERN_REG_WIDTH, c.width, "is not a power of two in 4..%u", TERN_LIMIT_WIDTH);
    if (c.acc_width < 10 || c.acc_width > 32)
        return refuse(err, errlen, TERN_REG_ACC_WIDTH, c.acc_width, "is not in 10..32");
    acc_max = (1ull << (c.acc_width - 1)) - 1;
    if (c.max_k < c.width || 128ull * c.max_k > acc_max)
        return refuse(err, errlen, TERN_REG_MAX_K, c.max_k,
                      "is not in WIDTH (%u) .. %llu, the most %u-bit accumulators hold without overflow", c.width,
                      (unsigned long long)(acc_max / 128), c.acc_width);
    /* every region's bytes fit its 1 GiB window of the address space (section 3) */
    bytes = (uint64_t)c.wmem_words * c.lanes * c.width / 4;
    if (!c.wmem_words || bytes > TERN_LIMIT_REGION_BYTES)
        return refuse(err, errlen, TERN_REG_WMEM_WORDS, c.wmem_words,
                      "words of %u bytes make %llu bytes of weight memory, not in 1..%llu (its address window)",
                      c.lanes * c.width / 4, (unsigned long long)bytes, (unsigned long long)TERN_LIMIT_REGION_BYTES);
    bytes = (uint64_t)c.amem_words * c.width;
    if (!c.amem_words || bytes > TERN_LIMIT_REGION_BYTES)
        return refuse(err, errlen, TERN_REG_AMEM_WORDS, c.amem_words,
                      "words of %u bytes make %llu bytes of activation buffer, not in 1..%llu (its address window)",
                      c.width, (unsigned long long)bytes, (unsigned long long)TERN_LIMIT_REGION_BYTES);
    bytes = (uint64_t)c.omem_words * c.lanes * 4;
    if (!c.omem_words || bytes > TERN_LIMIT_REGION_BYTES)
        return refuse(err, errlen, TERN_REG_OMEM_WORDS, c.omem_words,
                      "words of %u bytes make %llu bytes of output buffer, not in 1..%llu (its address window)",
                      c.lanes * 4, (unsigned long long)bytes, (unsigned long long)TERN_LIMIT_REGION_BYTES);
    if (c.max_payload < 64 || c.max_payload % 4 || c.max_payload > TERN_LIMIT_MAX_PAYLOAD)
        return refuse(err, errlen, TERN_REG_MAX_PAYLOAD, c.max_payload, "is not a multiple of 4 in 64..%u",
                      TERN_LIMIT_MAX_PAYLOAD);
    if (!c.clock_hz)
        return refuse(err, errlen, TERN_REG_CLOCK_HZ, c.clock_hz, "is zero");
    if (c.link_kind > TERN_LINK_FT601)
        return refuse(err, errlen, TERN_REG_LINK_KIND, c.link_kind, "is not a link kind (0 stream .. 3 ft601)");
    if (!c.link_bytes_per_s)
        return refuse(err, errlen, TERN_REG_LINK_BYTES_PER_S, c.link_bytes_per_s, "is zero");
    if (c.run_setup > TERN_LIMIT_PIPE_CYCLES)
        return refuse(err, errlen, TERN_REG_RUN_SETUP, c.run_setup, "is more than %u cycles", TERN_LIMIT_PIPE_CYCLES);
    if (c.run_drain > TERN_LIMIT_PIPE_CYCLES)
        return refuse(err, errlen, TERN_REG_RUN_DRAIN, c.run_drain, "is more than %u cycles", TERN_LIMIT_PIPE_CYCLES);
    if (c.num_counters != TERN_NUM_COUNTERS)
        return refuse(err, errlen, TERN_REG_NUM_COUNTERS, c.num_counters, "is not %u", TERN_NUM_COUNTERS);
    if (c.backend > 1)
        return refuse(err, errlen, TERN_REG_BACKEND, c.backend, "is not 0 (RTL) or 1 (ref model)");
    /* the name: [a-z0-9_]{1,8}, NUL-padded */
    memcpy(c.name, id + 4 * TERN_REG_NAME_LO, 8);
    for (unsigned i = 0; i < 8; i++) {
        unsigned char ch = (unsigned char)c.name[i];
        int ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_';
        if (!ch && i > 0) {
            for (unsigned j = i; j < 8; j++)
                if (c.name[j])
                    return refuse(err, errlen, j < 4 ? TERN_REG_NAME_LO : TERN_REG_NAME_HI,
                                  r[j < 4 ? TERN_REG_NAME_LO : TERN_REG_NAME_HI],
                                  "holds a byte after the name's terminating NUL");
            break;
        }
        if (!ok)
            return refuse(err, errlen, i < 4 ? TERN_REG_NAME_LO : TERN_REG_NAME_HI,
                          r[i < 4 ? TERN_REG_NAME_LO : TERN_REG_NAME_HI],
                          "holds byte 0x%02x at name position %u: a name is 1..8 of [a-z0-9_], NUL-padded", ch, i);
    }
    c.name[8] = 0;
    *out = c;
    return TERN_OK;
}
