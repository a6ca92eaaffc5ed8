/* unit_util.h — helpers shared by the cmocka unit tests: a seeded PRNG, code packing, oracles. */
#ifndef TERN_UNIT_UTIL_H
#define TERN_UNIT_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* splitmix64: deterministic, seeded per test (never rand()). */
struct prng {
    uint64_t s;
};

static inline struct prng prng_seed(uint64_t seed)
{
    struct prng p = { seed * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull };
    return p;
}

static inline uint64_t prng_next(struct prng *p)
{
    uint64_t z = (p->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [0, n) (n >= 1; the tiny modulo bias does not matter here). */
static inline uint32_t prng_below(struct prng *p, uint32_t n)
{
    return (uint32_t)(prng_next(p) % n);
}

/* Uniform in [lo, hi]. */
static inline int32_t prng_range(struct prng *p, int32_t lo, int32_t hi)
{
    return lo + (int32_t)prng_below(p, (uint32_t)(hi - lo + 1));
}

static inline int prng_ternary(struct prng *p)
{
    return (int)prng_below(p, 3) - 1;
}

static inline void prng_bytes(struct prng *p, uint8_t *buf, size_t n)
{
    for (size_t i = 0; i < n; i++)
        buf[i] = (uint8_t)prng_next(p);
}

/* Random bytes whose every 2-bit pair is a legal code (00, 01, 11). */
static inline void prng_legal_code_bytes(struct prng *p, uint8_t *buf, size_t n)
{
    static const uint8_t legal[3] = { 0u, 1u, 3u };
    for (size_t i = 0; i < n; i++) {
        uint8_t b = 0;
        for (int j = 0; j < 4; j++)
            b |= (uint8_t)(legal[prng_below(p, 3)] << (2 * j));
        buf[i] = b;
    }
}

/* Test-side code packing, written independently of the library (llama2.c layout). */
static inline uint8_t unit_code_of(int v)
{
    return v > 0 ? 1u : v < 0 ? 3u : 0u;
}

static inline void unit_code_put(uint8_t *codes, uint64_t j, int v)
{
    uint8_t shift = (uint8_t)(2 * (j % 4));
    codes[j / 4] = (uint8_t)((codes[j / 4] & ~(3u << shift)) | (unit_code_of(v) << shift));
}

/* Bitwise reference CRCs, independent of the library's table-driven ones. */
static inline uint16_t unit_crc16(const uint8_t *p, size_t n)
{
    uint16_t crc = 0xFFFFu;
    for (size_t i = 0; i < n; i++) {
        crc ^= (uint16_t)(p[i] << 8);
        for (int b = 0; b < 8; b++)
            crc = (uint16_t)((crc & 0x8000u) ? ((unsigned)crc << 1) ^ 0x1021u : (unsigned)crc << 1);
    }
    return crc;
}

static inline uint32_t unit_crc32(const uint8_t *p, size_t n)
{
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int b = 0; b < 8; b++)
            crc = (crc & 1u) ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
    }
    return crc ^ 0xFFFFFFFFu;
}

static inline void unit_put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static inline uint32_t unit_get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static inline uint64_t unit_get_u64(const uint8_t *p)
{
    return (uint64_t)unit_get_u32(p) | ((uint64_t)unit_get_u32(p + 4) << 32);
}

/* A response frame built by the test itself (device side layout of ARCHITECTURE.md 6). */
static inline size_t unit_build_rsp(uint8_t *buf, uint8_t opcode, uint16_t seq, uint8_t status,
                                    const uint8_t *payload, uint32_t len)
{
    buf[0] = 0xA5;
    buf[1] = 0x52;
    buf[2] = 1;
    buf[3] = opcode;
    buf[4] = (uint8_t)seq;
    buf[5] = (uint8_t)(seq >> 8);
    buf[6] = status;
    buf[7] = 0;
    unit_put_u32(buf + 8, len);
    uint16_t h = unit_crc16(buf, 12);
    buf[12] = (uint8_t)h;
    buf[13] = (uint8_t)(h >> 8);
    if (len)
        memcpy(buf + 14, payload, len);
    unit_put_u32(buf + 14 + len, len ? unit_crc32(payload, len) : 0u);
    return 18u + len;
}

/* A command frame built by the test itself (host side layout). */
static inline size_t unit_build_cmd(uint8_t *buf, uint8_t version, uint8_t opcode, uint16_t seq,
                                    uint32_t addr, const uint8_t *payload, uint32_t len)
{
    buf[0] = 0xA5;
    buf[1] = 0x54;
    buf[2] = version;
    buf[3] = opcode;
    buf[4] = (uint8_t)seq;
    buf[5] = (uint8_t)(seq >> 8);
    buf[6] = 0;
    buf[7] = 0;
    unit_put_u32(buf + 8, addr);
    unit_put_u32(buf + 12, len);
    uint16_t h = unit_crc16(buf, 16);
    buf[16] = (uint8_t)h;
    buf[17] = (uint8_t)(h >> 8);
    if (len)
        memcpy(buf + 18, payload, len);
    unit_put_u32(buf + 18 + len, len ? unit_crc32(payload, len) : 0u);
    return 22u + len;
}

/* Naive ternary matmul oracle: out[t][n] = sum_c w[r][c] * act[t][c]; w as int8 in {-1,0,1}. */
static inline void unit_matmul_oracle(const int8_t *w, const int8_t *act, uint32_t n, uint32_t k,
                                      uint32_t t, int32_t *out)
{
    for (uint32_t tt = 0; tt < t; tt++)
        for (uint32_t r = 0; r < n; r++) {
            int64_t acc = 0;
            for (uint32_t c = 0; c < k; c++)
                acc += (int64_t)w[(size_t)r * k + c] * act[(size_t)tt * k + c];
            out[(size_t)tt * n + r] = (int32_t)acc;
        }
}

#endif /* TERN_UNIT_UTIL_H */
