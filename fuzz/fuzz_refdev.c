/* fuzz_refdev.c — the reference device model (runtime/backends/ref) against arbitrary command bytes.
 *
 * The input becomes the host-to-device byte stream, pushed in chunks, with every response pulled
 * after each chunk. Beside the device runs a second, deliberately plain model of the same
 * device written from ARCHITECTURE.md (sections 3-7: memories, registers, RUN, the framed
 * protocol with its checks and duplicates, the cycle model and counters). Invariants, after every
 * chunk: every byte the device sent is part of a valid response frame (tern_scan_rsp: CRCs, seq,
 * length, nothing between frames), the stream is byte for byte the responses the specification
 * demands (status, echoed opcode and seq, payloads: ID block, registers, memory, counters), all 15
 * counters agree, the receiver is inside a frame exactly when the model's is; at the end the
 * three memories agree. ASan watches every access.
 *
 * Input: byte 0: bit 0 the configuration (0: tiny; 1: one made of the next 9 bytes, any shape the
 * configuration rules of section 1 allow, WMEM of at most 64 KiB, AMEM 4 KiB), bit 1 structured records (1)
 * or a raw stream (0), bits 2-7 the seed of the chunking. Raw: the rest of the input is the stream.
 * Structured: records, each a kind byte then its fields: a command frame built with valid CRCs
 * from a few fields and then maybe damaged (bit flip, bad version, cut short, another length),
 * garbage, an idle gap, the previous frame again (a retry), a run of zero bytes (resynchronisation). */
#include "fuzz_util.h"
#include "tern/tern.h"
#include "tern/tern_proto.h"
#include "tern_refdev.h"

enum rx_state { RX_HUNT, RX_MAGIC1, RX_HDR, RX_BODY };

/* The specification's device. */
struct model {
    const struct tern_hwcfg *cfg;
    size_t word_bytes, wmem_bytes, amem_bytes, omem_entries;
    uint8_t *wmem, *amem;
    int32_t *omem;
    uint32_t scratch, err_flags;
    uint64_t cnt[TERN_NUM_COUNTERS];
    enum rx_state rx;
    uint8_t hdr[TERN_CMD_HDR_BYTES];
    size_t hdr_n;
    uint8_t *body; /* payload + pcrc */
    size_t body_n, body_len;
    int last_valid;
    uint16_t last_seq;
    uint8_t last_op, last_status;
    uint8_t *out; /* the responses it sent, not yet compared */
    size_t out_len, out_cap;
    uint8_t *frame; /* one response being built */
};

static void count(struct model *m, int which, uint64_t n)
{
    m->cnt[which] += n;
    m->cnt[TERN_CNT_CYCLES] += n;
}

static void respond(struct model *m, uint8_t op, uint16_t seq, uint8_t status, const uint8_t *pl, uint32_t len)
{
    size_t n = tern_frame_rsp(m->frame, (m->cfg->max_payload > 120 ? m->cfg->max_payload : 120) + TERN_RSP_OVERHEAD,
                              op, seq, status, pl, len);

    FUZZ_CHECK(n == (size_t)len + TERN_RSP_OVERHEAD, "cannot build a response of %u bytes", len);
    m->cnt[status == TERN_ST_OK ? TERN_CNT_FRAMES_OK : TERN_CNT_FRAMES_ERR]++;
    m->cnt[TERN_CNT_ILLEGAL_RUNS] += status == TERN_ST_ILLEGAL_CODE;
    count(m, TERN_CNT_CYC_TX, n);
    m->cnt[TERN_CNT_BYTES_OUT] += n;
    if (m->out_len + n > m->out_cap) {
        m->out_cap = 2 * (m->out_len + n);
        m->out = realloc(m->out, m->out_cap);
        FUZZ_CHECK(m->out != NULL, "out of memory");
    }
    memcpy(m->out + m->out_len, m->frame, n);
    m->out_len += n;
}

/* Section 4. */
static int read_reg(const struct model *m, uint32_t i, uint32_t *v)
{
    const struct tern_hwcfg *c = m->cfg;
    uint8_t name[8] = {0};

    memcpy(name, c->name, strlen(c->name) < 8 ? strlen(c->name) : 8);
    const uint32_t id[TERN_NUM_ID_REGS] = {
        TERN_ID_MAGIC, 1u << 16 | 1u, c->lanes, c->width, c->acc_width, c->max_k, c->wmem_words, c->amem_words,
        c->omem_words, c->max_payload, c->clock_hz, c->link_kind, c->link_bytes_per_s, c->run_setup, c->run_drain,
        TERN_NUM_COUNTERS, tern_get_u32(name), tern_get_u32(name + 4), 1, 0};
    if (i < TERN_NUM_ID_REGS)
        *v = id[i];
    else if (i == 32)
        *v = m->scratch;
    else if (i == 33)
        *v = m->err_flags;
    else
        return 0;
    return 1;
}

/* Section 3: the region an access of len bytes at addr lies in (0 WMEM, 1 AMEM, 2 OMEM), or -1. */
static int region(const struct model *m, uint32_t addr, uint32_t len, size_t *off)
{
    const uint64_t end = (uint64_t)addr + len;
    const uint64_t base[3] = {TERN_WMEM_BASE, TERN_AMEM_BASE, TERN_OMEM_BASE};
    const uint64_t size[3] = {m->wmem_bytes, m->amem_bytes, 4 * (uint64_t)m->omem_entries};

    for (int r = 0; r < 3; r++)
        if (addr >= base[r] && end <= base[r] + size[r]) {
            *off = addr - base[r];
            return r;
        }
    return -1;
}

static int32_t wrap(const struct model *m, int64_t v)
{
    const unsigned a = m->cfg->acc_width;
    uint64_t u = (uint64_t)v & ((1ull << a) - 1);

    return (int32_t)(int64_t)((u ^ (1ull << (a - 1))) - (1ull << (a - 1)));
}

/* Section 5, read literally: the shape check, then every (token, row) as a sum over columns. */
static int run(struct model *m, const uint8_t *pl)
{
    const uint32_t L = m->cfg->lanes, W = m->cfg->width;
    uint32_t wbase = tern_get_u32(pl), n = tern_get_u32(pl + 4), k = tern_get_u32(pl + 8),
             abase = tern_get_u32(pl + 12), t = tern_get_u32(pl + 16), obase = tern_get_u32(pl + 20),
             flags = tern_get_u32(pl + 24);
    int illegal = 0;

    if (n < 1 || k < 1 || k > m->cfg->max_k || t < 1 || flags > 1)
        return TERN_ST_BAD_ADDR;
    const uint64_t nb = (n + (uint64_t)L - 1) / L, kw = (k + (uint64_t)W - 1) / W;
    if (wbase + nb * kw > m->cfg->wmem_words || abase + t * kw > m->cfg->amem_words ||
        obase + t * nb > m->cfg->omem_words)
        return TERN_ST_BAD_ADDR;
    for (uint64_t tt = 0; tt < t; tt++)
        for (uint64_t r = 0; r < nb * L; r++) {
            uint64_t b = r / L, l = r % L, entry = (obase + tt * nb) * L + r;
            int64_t acc = 0;
            if (r >= n) {
                m->omem[entry] = 0; /* padding lanes: 0 in both modes */
                continue;
            }
            for (uint64_t c = 0; c < k; c++) {
                uint64_t j = c / W, e = c % W, bit = 2 * (l * W + e);
                const uint8_t *word = m->wmem + (wbase + b * kw + j) * m->word_bytes;
                unsigned code = word[bit / 8] >> (bit % 8) & 3;
                int8_t a = (int8_t)m->amem[(abase + tt * kw + j) * W + e];
                if (code == 2)
                    illegal = 1; /* counted as 0 */
                acc += code == 1 ? a : code == 3 ? -a : 0;
            }
            m->omem[entry] = wrap(m, (flags & 1) ? (int64_t)m->omem[entry] + acc : acc);
        }
    count(m, TERN_CNT_CYC_PIPE, (uint64_t)m->cfg->run_setup + m->cfg->run_drain);
    count(m, TERN_CNT_CYC_COMPUTE, nb * t * kw);
    m->cnt[TERN_CNT_TERN_OPS] += (uint64_t)n * k * t;
    if (illegal)
        m->err_flags |= TERN_ERR_ILLEGAL_CODE;
    return illegal ? TERN_ST_ILLEGAL_CODE : TERN_ST_OK;
}

/* A frame passed both CRCs: section 6's checks in order, then the command. */
static void execute(struct model *m)
{
    const uint8_t op = m->hdr[3];
    const uint16_t seq = tern_get_u16(m->hdr + 4);
    const uint32_t addr = tern_get_u32(m->hdr + 8), len = tern_get_u32(m->hdr + 12);
    const uint8_t *pl = m->body;
    const int side_effects = op == TERN_OP_WRITE_REG || op == TERN_OP_WRITE_MEM || op == TERN_OP_RUN ||
                             op == TERN_OP_RESET;
    uint8_t out[TERN_NUM_COUNTERS * 8];
    const uint8_t *out_p = out;
    uint32_t out_len = 0, v = 0;
    int st = TERN_ST_OK, r = -1;
    size_t off = 0;

    count(m, TERN_CNT_CYC_CTRL, 1);
    if (m->last_valid && seq == m->last_seq && op == m->last_op && side_effects) {
        respond(m, op, seq, m->last_status, NULL, 0); /* a retry: not executed again */
        return;
    }
    const int want_len = op == TERN_OP_WRITE_REG || op == TERN_OP_READ_MEM ? 4
                         : op == TERN_OP_RUN                               ? 28
                         : op == TERN_OP_WRITE_MEM                         ? -1
                                                                           : 0;
    if (op < TERN_OP_PING || op > TERN_OP_RESET)
        st = TERN_ST_BAD_OPCODE;
    else if (want_len >= 0 ? len != (uint32_t)want_len : len < 1)
        st = TERN_ST_BAD_LEN;
    else if (op == TERN_OP_READ_MEM && (tern_get_u32(pl) < 1 || tern_get_u32(pl) > m->cfg->max_payload))
        st = TERN_ST_BAD_LEN;
    else if ((op == TERN_OP_PING || op == TERN_OP_READ_COUNTERS || op == TERN_OP_RESET || op == TERN_OP_RUN) && addr)
        st = TERN_ST_BAD_ADDR;
    else if (op == TERN_OP_READ_REG && !read_reg(m, addr, &v))
        st = TERN_ST_BAD_ADDR;
    else if (op == TERN_OP_WRITE_REG && addr != 32 && addr != 33)
        st = TERN_ST_BAD_ADDR;
    else if (op == TERN_OP_WRITE_MEM && ((r = region(m, addr, len, &off)) < 0 || r == 2))
        st = TERN_ST_BAD_ADDR;
    else if (op == TERN_OP_READ_MEM &&
             ((r = region(m, addr, tern_get_u32(pl), &off)) < 0 || (r == 2 && ((addr | tern_get_u32(pl)) & 3))))
        st = TERN_ST_BAD_ADDR;

    if (st == TERN_ST_OK) {
        switch (op) {
        case TERN_OP_PING:
            count(m, TERN_CNT_CYC_CTRL, 1);
            for (uint32_t i = 0; i < TERN_NUM_ID_REGS; i++) {
                read_reg(m, i, &v);
                tern_put_u32(out + 4 * i, v);
            }
            out_len = 4 * TERN_NUM_ID_REGS;
            break;
        case TERN_OP_READ_REG:
            count(m, TERN_CNT_CYC_CTRL, 1);
            tern_put_u32(out, v);
            out_len = 4;
            break;
        case TERN_OP_WRITE_REG:
            count(m, TERN_CNT_CYC_CTRL, 1);
            if (addr == 32)
                m->scratch = tern_get_u32(pl);
            else
                m->err_flags &= ~tern_get_u32(pl); /* writing 1 clears */
            break;
        case TERN_OP_READ_COUNTERS: /* the values before its own execute cycle */
            for (int i = 0; i < TERN_NUM_COUNTERS; i++)
                tern_put_u64(out + 8 * i, m->cnt[i]);
            count(m, TERN_CNT_CYC_CTRL, 1);
            out_len = 8 * TERN_NUM_COUNTERS;
            break;
        case TERN_OP_RESET: /* zeroed in its execute cycle, which is therefore not counted */
            memset(m->cnt, 0, sizeof m->cnt);
            m->scratch = m->err_flags = 0;
            break;
        case TERN_OP_WRITE_MEM:
            memcpy((r == 0 ? m->wmem : m->amem) + off, pl, len);
            count(m, TERN_CNT_CYC_COMMIT, len);
            break;
        case TERN_OP_READ_MEM: {
            uint32_t n = tern_get_u32(pl);
            uint8_t *data = fz_xmalloc(n);
            count(m, TERN_CNT_CYC_CTRL, 1);
            for (uint32_t i = 0; i < n; i++)
                data[i] = r == 0   ? m->wmem[off + i]
                          : r == 1 ? m->amem[off + i]
                                   : (uint8_t)((uint32_t)m->omem[(off + i) / 4] >> (8 * ((off + i) % 4)));
            m->last_valid = 1;
            m->last_seq = seq;
            m->last_op = op;
            m->last_status = TERN_ST_OK;
            respond(m, op, seq, TERN_ST_OK, data, n);
            free(data);
            return;
        }
        case TERN_OP_RUN:
            st = run(m, pl);
            break;
        }
    }
    m->last_valid = 1;
    m->last_seq = seq;
    m->last_op = op;
    m->last_status = (uint8_t)st;
    respond(m, op, seq, (uint8_t)st, st == TERN_ST_OK ? out_p : NULL, st == TERN_ST_OK ? out_len : 0);
}

/* One byte from the host (section 6, "Receiving"). */
static void model_byte(struct model *m, uint8_t b)
{
    count(m, TERN_CNT_CYC_RX, 1);
    m->cnt[TERN_CNT_BYTES_IN]++;
    switch (m->rx) {
    case RX_HUNT:
        if (b == TERN_MAGIC0)
            m->rx = RX_MAGIC1;
        break;
    case RX_MAGIC1:
        if (b == TERN_CMD_MAGIC1) {
            m->hdr[0] = TERN_MAGIC0;
            m->hdr[1] = TERN_CMD_MAGIC1;
            m->hdr_n = 2;
            m->rx = RX_HDR;
        } else if (b != TERN_MAGIC0) {
            m->rx = RX_HUNT;
        }
        break;
    case RX_HDR: {
        m->hdr[m->hdr_n++] = b;
        if (m->hdr_n < TERN_CMD_HDR_BYTES)
            break;
        const uint32_t len = tern_get_u32(m->hdr + 12);
        int st = tern_crc16(m->hdr, 16) != tern_get_u16(m->hdr + 16) ? TERN_ST_BAD_HCRC
                 : m->hdr[2] != TERN_PROTO_VERSION                    ? TERN_ST_BAD_VERSION
                 : len > m->cfg->max_payload                          ? TERN_ST_BAD_LEN
                                                                      : TERN_ST_OK;
        count(m, TERN_CNT_CYC_CTRL, 1);
        if (st != TERN_ST_OK) { /* answered at once; the rest is hunted through */
            respond(m, m->hdr[3], tern_get_u16(m->hdr + 4), (uint8_t)st, NULL, 0);
            m->rx = RX_HUNT;
            break;
        }
        m->body_len = len + TERN_PCRC_BYTES;
        m->body_n = 0;
        m->rx = RX_BODY;
        break;
    }
    case RX_BODY: {
        m->body[m->body_n++] = b;
        if (m->body_n < m->body_len)
            break;
        const uint32_t len = (uint32_t)m->body_len - TERN_PCRC_BYTES;
        m->rx = RX_HUNT;
        if ((len ? tern_crc32(m->body, len) : 0) != tern_get_u32(m->body + len)) {
            count(m, TERN_CNT_CYC_CTRL, 1);
            respond(m, m->hdr[3], tern_get_u16(m->hdr + 4), TERN_ST_BAD_PCRC, NULL, 0);
        } else {
            execute(m);
        }
        break;
    }
    }
}

struct bench {
    struct model m;
    tern_refdev *dev;
    uint8_t *got; /* pulled from the device */
    size_t got_cap;
    uint64_t mix; /* chunking */
    uint64_t frames;
};

/* Push bytes to both, pull what the device says, and compare everything. */
static void push(struct bench *b, const uint8_t *p, size_t n)
{
    struct model *m = &b->m;
    uint64_t cnt[TERN_NUM_COUNTERS];
    size_t pending, got = 0, at = 0;

    tern_refdev_push(b->dev, p, n);
    for (size_t i = 0; i < n; i++)
        model_byte(m, p[i]);
    pending = tern_refdev_pending(b->dev);
    if (pending > b->got_cap) {
        b->got_cap = 2 * pending;
        b->got = realloc(b->got, b->got_cap);
        FUZZ_CHECK(b->got != NULL, "out of memory");
    }
    while (got < pending) { /* in pieces of a size the input chose */
        size_t cap = 1 + fz_mix(&b->mix) % (pending - got + 64);
        size_t k = tern_refdev_pull(b->dev, b->got + got, cap);
        FUZZ_CHECK(k == (cap < pending - got ? cap : pending - got), "pulled %zu of %zu with room for %zu", k,
                   pending - got, cap);
        got += k;
    }
    FUZZ_CHECK(tern_refdev_pending(b->dev) == 0 && tern_refdev_pull(b->dev, b->got, 1) == 0, "bytes left after pulling");

    /* every byte belongs to a valid response frame, back to back */
    while (at < got) {
        struct tern_rsp r;
        size_t used = 0;
        enum tern_scan s = tern_scan_rsp(b->got + at, got - at, m->cfg->max_payload > 120 ? m->cfg->max_payload : 120,
                                         &r, &used);
        FUZZ_CHECK(s == TERN_SCAN_FRAME, "the device sent bytes that are not a valid response (scan %d at byte %zu)",
                   (int)s, at);
        FUZZ_CHECK(used == (size_t)r.len + TERN_RSP_OVERHEAD, "%zu bytes before a response",
                   used - r.len - TERN_RSP_OVERHEAD);
        FUZZ_CHECK(r.version == TERN_PROTO_VERSION && r.status <= TERN_ST_ILLEGAL_CODE && r.status != TERN_ST_BUSY,
                   "version %u, status %u", r.version, r.status);
        FUZZ_CHECK(r.status == TERN_ST_OK || r.len == 0, "status %s with %u payload bytes", tern_status_name(r.status),
                   r.len);
        at += used;
        b->frames++;
    }
    FUZZ_CHECK(got == m->out_len, "the device sent %zu bytes, the specification %zu", got, m->out_len);
    for (size_t i = 0; i < got; i++)
        FUZZ_CHECK(b->got[i] == m->out[i], "response byte %zu is 0x%02x, the specification says 0x%02x", i, b->got[i],
                   m->out[i]);
    m->out_len = 0;

    tern_refdev_counters(b->dev, cnt);
    for (int i = 0; i < TERN_NUM_COUNTERS; i++)
        FUZZ_CHECK(cnt[i] == m->cnt[i], "counter %s is %llu, the specification %llu", tern_counter_name(i),
                   (unsigned long long)cnt[i], (unsigned long long)m->cnt[i]);
    FUZZ_CHECK(tern_refdev_in_frame(b->dev) == (m->rx != RX_HUNT), "in a frame: device %d, specification %d",
               tern_refdev_in_frame(b->dev), m->rx != RX_HUNT);
}

/* Push a record's bytes in one or two chunks. */
static void push_split(struct bench *b, const uint8_t *p, size_t n)
{
    size_t cut = n ? fz_mix(&b->mix) % (n + 1) : 0;

    if ((fz_mix(&b->mix) & 3) == 0 && cut > 0 && cut < n) {
        push(b, p, cut);
        push(b, p + cut, n - cut);
    } else {
        push(b, p, n);
    }
}

/* A command frame from a few input fields (addresses near the regions' bounds, small shapes). */
static size_t make_frame(struct bench *b, struct fz *in, uint8_t *buf, size_t cap)
{
    const struct model *m = &b->m;
    uint8_t sel = fz_u8(in), damage = fz_u8(in), pl[TERN_RUN_PAYLOAD_BYTES];
    uint8_t op = sel < 0xF0 ? (uint8_t)(1 + sel % 8) : fz_u8(in);
    uint16_t seq = fz_u8(in);
    uint8_t where = fz_u8(in);
    uint32_t addr, len = 0;
    const uint8_t *payload = pl;
    size_t got, n;

    switch (where & 3) { /* WMEM, AMEM, OMEM from an offset, or any address */
    case 0: addr = TERN_WMEM_BASE + fz_u16(in) % (uint32_t)(m->wmem_bytes + 8); break;
    case 1: addr = TERN_AMEM_BASE + fz_u16(in) % (uint32_t)(m->amem_bytes + 8); break;
    case 2: addr = TERN_OMEM_BASE + fz_u16(in) % (uint32_t)(4 * m->omem_entries + 8); break;
    default: addr = fz_u32(in); break;
    }
    if ((op == TERN_OP_PING || op == TERN_OP_READ_COUNTERS || op == TERN_OP_RESET || op == TERN_OP_RUN) &&
        !(where & 4))
        addr = 0;
    if ((op == TERN_OP_READ_REG || op == TERN_OP_WRITE_REG) && !(where & 4))
        addr = fz_u8(in) % 36u; /* a register index: the ID block, SCRATCH, ERR_FLAGS and beyond */
    switch (op) {
    case TERN_OP_WRITE_REG: tern_put_u32(pl, fz_u32(in)); len = 4; break;
    case TERN_OP_READ_MEM: tern_put_u32(pl, fz_u16(in) % (m->cfg->max_payload + 2)); len = 4; break;
    case TERN_OP_RUN: {
        const uint32_t f[7] = {fz_u16(in) % (m->cfg->wmem_words + 2), fz_u8(in), fz_u16(in),
                               fz_u8(in) % (m->cfg->amem_words + 2), 1 + fz_u8(in) % 8,
                               fz_u8(in) % (m->cfg->omem_words + 2), fz_u8(in) % 3};
        for (int i = 0; i < 7; i++)
            tern_put_u32(pl + 4 * i, f[i]);
        len = TERN_RUN_PAYLOAD_BYTES;
        break;
    }
    case TERN_OP_WRITE_MEM:
        n = fz_u8(in) + (where & 0x80 ? 256u * fz_u8(in) : 0u);
        payload = fz_bytes(in, n % (m->cfg->max_payload + 33), &got); /* beyond max_payload: BAD_LEN */
        len = (uint32_t)got;
        break;
    default: break;
    }
    if ((damage & 7) == 5) { /* another length, with a payload of that many input bytes */
        payload = fz_bytes(in, fz_u16(in) % (m->cfg->max_payload + 32), &got);
        len = (uint32_t)got;
    }
    n = tern_frame_cmd(buf, cap, op, seq, addr, payload, len);
    FUZZ_CHECK(n == (size_t)len + TERN_CMD_OVERHEAD, "cannot build a command of %u bytes", len);
    switch (damage & 7) {
    case 1: buf[2 + fz_u8(in) % 16] ^= (uint8_t)(1u << (damage >> 5)); break;      /* the header */
    case 2: buf[18 + fz_u16(in) % (len + 4)] ^= (uint8_t)(1u << (damage >> 5)); break; /* payload or pcrc */
    case 3: /* a version the device does not speak, with a valid hcrc */
        buf[2] = (uint8_t)(damage >> 3 | 2);
        tern_put_u16(buf + 16, tern_crc16(buf, 16));
        break;
    case 4: n = fz_u16(in) % n; break; /* cut short: the next bytes continue it */
    default: break;
    }
    return n;
}

/* A configuration the rules of ARCHITECTURE.md section 1 accept, from 9 input bytes. */
static void make_config(struct fz *in, struct tern_hwcfg *c)
{
    memset(c, 0, sizeof *c);
    c->name = "fuzz";
    c->lanes = 1u << fz_u8(in) % 9;            /* 1..256 */
    c->width = 4u << fz_u8(in) % 7;            /* 4..256 */
    c->max_k = c->width * (1u + fz_u8(in) % 64); /* >= W */
    c->acc_width = 2;
    while ((1ull << (c->acc_width - 1)) - 1 < 128ull * c->max_k) /* the smallest that cannot overflow */
        c->acc_width++;
    c->acc_width += fz_u8(in) % 3;
    if (c->acc_width > 32)
        c->acc_width = 32;
    c->wmem_words = 1u + fz_u8(in) % 64;
    while (c->wmem_words > 1 && (uint64_t)c->wmem_words * c->lanes * c->width / 4 > 65536)
        c->wmem_words /= 2;
    c->amem_words = 1u + fz_u8(in) % 64;
    while (c->amem_words > 1 && c->amem_words * c->width > 4096) /* k * t <= 4096: RUNs stay cheap */
        c->amem_words /= 2;
    c->omem_words = 1u + fz_u8(in) % 16;
    c->max_payload = 64u + 4u * (fz_u8(in) % 64);
    uint8_t t = fz_u8(in);
    c->run_setup = t & 3;
    c->run_drain = t >> 2 & 7;
    c->clock_hz = 1000000;
    c->link_kind = t >> 5 & 3;
    c->link_bytes_per_s = 100000;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz in = {data, size};
    const uint8_t mode = fz_u8(&in);
    struct tern_hwcfg custom;
    struct bench b;
    struct model *m = &b.m;
    uint8_t *frame, *prev, *zeros;
    size_t prev_n = 0, cap;

    memset(&b, 0, sizeof b);
    if (mode & 1) {
        make_config(&in, &custom);
        m->cfg = &custom;
    } else {
        m->cfg = tern_hwcfg_find("tiny");
    }
    FUZZ_CHECK(m->cfg != NULL, "no configuration");
    FUZZ_CHECK(tern_refdev_create(m->cfg, &b.dev) == TERN_OK, "cannot create the device");
    m->word_bytes = (size_t)m->cfg->lanes * m->cfg->width / 4;
    m->wmem_bytes = m->word_bytes * m->cfg->wmem_words;
    m->amem_bytes = (size_t)m->cfg->width * m->cfg->amem_words;
    m->omem_entries = (size_t)m->cfg->lanes * m->cfg->omem_words;
    m->wmem = calloc(m->wmem_bytes, 1);
    m->amem = calloc(m->amem_bytes, 1);
    m->omem = calloc(m->omem_entries, sizeof *m->omem);
    m->body = fz_xmalloc((size_t)m->cfg->max_payload + TERN_PCRC_BYTES);
    m->frame = fz_xmalloc((m->cfg->max_payload > 120 ? m->cfg->max_payload : 120) + TERN_RSP_OVERHEAD);
    cap = 2 * ((size_t)m->cfg->max_payload + 64);
    frame = fz_xmalloc(cap);
    prev = fz_xmalloc(cap);
    zeros = calloc(m->cfg->max_payload + 64, 1);
    FUZZ_CHECK(m->wmem && m->amem && m->omem && zeros, "out of memory");
    b.mix = mode >> 2;

    if (!(mode & 2)) { /* a raw stream, in chunks of 1..64 bytes */
        while (in.n) {
            size_t got;
            const uint8_t *p = fz_bytes(&in, 1 + fz_mix(&b.mix) % 64, &got);
            push(&b, p, got);
        }
    }
    while (in.n) {
        uint8_t kind = fz_u8(&in);
        size_t n, got;
        const uint8_t *p;
        switch (kind % 10) {
        case 5: /* garbage */
            p = fz_bytes(&in, fz_u8(&in) % 64, &got);
            push_split(&b, p, got);
            break;
        case 6: /* the host pauses */
            n = fz_u8(&in);
            tern_refdev_idle(b.dev, n);
            if (m->rx != RX_HUNT)
                count(m, TERN_CNT_CYC_STALL_RX, n);
            push(&b, NULL, 0);
            break;
        case 7: /* the previous frame again: a retry */
            push_split(&b, prev, prev_n);
            break;
        case 8: /* resynchronisation filler */
            push_split(&b, zeros, fz_u16(&in) % (m->cfg->max_payload + 64));
            break;
        default:
            n = make_frame(&b, &in, frame, cap);
            push_split(&b, frame, n);
            memcpy(prev, frame, n);
            prev_n = n;
            break;
        }
    }

    /* the memories, as the host can see them and as the model keeps them */
    size_t wb, ab;
    const uint8_t *w = tern_refdev_wmem(b.dev, &wb), *a = tern_refdev_amem(b.dev, &ab);
    FUZZ_CHECK(wb == m->wmem_bytes && memcmp(w, m->wmem, wb) == 0, "WMEM differs from the specification");
    FUZZ_CHECK(ab == m->amem_bytes && memcmp(a, m->amem, ab) == 0, "AMEM differs from the specification");
    FUZZ_CHECK(tern_refdev_omem_entries(b.dev) == m->omem_entries, "OMEM size");
    for (size_t i = 0; i < m->omem_entries; i++)
        FUZZ_CHECK(tern_refdev_omem_entry(b.dev, i) == m->omem[i], "OMEM entry %zu is %d, the specification %d", i,
                   (int)tern_refdev_omem_entry(b.dev, i), (int)m->omem[i]);

    tern_refdev_destroy(b.dev);
    free(zeros);
    free(prev);
    free(frame);
    free(b.got);
    free(m->out);
    free(m->frame);
    free(m->body);
    free(m->omem);
    free(m->amem);
    free(m->wmem);
    return 0;
}
