/* fuzz_client.c — the protocol client (runtime/src/device.c, matmul.c) against a device that
 * answers anything.
 *
 * A fake link (tern_dev_open_link) stands for the device: every command goes to a real reference
 * device (tiny), whose answers the fuzz input then releases, cuts, drops, damages, duplicates or
 * buries in garbage, one input record per receive; in free mode the input may also forge any
 * response (any opcode, seq, status, length and payload, or an ID block with registers of its
 * choosing) and raw bytes. When the input is used up the device goes quiet, or, in endless mode,
 * talks noise (stale frames included) for ever. The client then opens the device and drives a
 * ping, register and memory round trips, a RUN, the counters, a reset, and the upload and product
 * of a small matrix (several tiles, chunks and groups on tiny); in endless mode a ping and a read.
 *
 * Invariants: every call returns TERN_OK or a TERN_E_* code with a message (never TERN_E_NOMEM:
 * that would mean a size the device reported was trusted), and the link is closed exactly once; an accepted ID block obeys every limit of ARCHITECTURE.md section 4; no
 * command takes more than its byte budget from a device that talks without end (section 8); the
 * link statistics add up. In truthful mode (only the real device's bytes, damaged or not, and
 * garbage without the magic byte) calls fail only with TERN_E_TIMEOUT or TERN_E_IO (or
 * TERN_E_CODE for a matrix holding code 10), and what succeeds is right: the registers and
 * memory read back what was written, the configuration is tiny's, and the product equals a
 * plain integer oracle.
 *
 * Input: byte 0: bit 0 truthful, bit 1 resynchronise on open, bit 2 endless; then the matrix: rows
 * 1 + u8 % 24, columns 1 + u16 % 2048, tokens 1 + u8 % 3, a seed for codes and activations, a byte
 * whose bit 7 plants one code 10; the length of a memory round trip (u16 % 700); then the
 * device's script: records of a kind byte and its fields (see record()). */
#define _POSIX_C_SOURCE 200809L
#include "fuzz_util.h"
#include "tern/tern.h"
#include "tern/tern_proto.h"
#include "tern_hwcfg.h"
#include "tern_link.h"
#include "tern_refdev.h"

struct fake {
    struct fz in; /* the script */
    int truthful, endless;
    tern_refdev *dev;
    const struct tern_hwcfg *cfg;
    uint8_t *pend; /* the real device's answers, not yet released */
    size_t pend_len, pend_cap;
    uint8_t *q; /* released, handed out by recv */
    size_t q_len, q_head, q_cap;
    uint8_t last_op;
    uint16_t last_seq;
    uint32_t last_count; /* of the last READ_MEM */
    int fail_send;       /* the next send fails with this code */
    uint64_t mix;        /* endless noise */
    uint64_t sends, frame_bytes_sent, recvs, delivered, delivered_after_frames;
    uint64_t since_send, max_after_frame, max_after_filler;
    int after_frame;
    int closed;
};

static void grow_append(uint8_t **buf, size_t *len, size_t *cap, const uint8_t *p, size_t n)
{
    if (n == 0)
        return;
    if (*len + n > *cap) {
        *cap = 2 * (*len + n) + 256;
        *buf = realloc(*buf, *cap);
        FUZZ_CHECK(*buf != NULL, "out of memory");
    }
    memcpy(*buf + *len, p, n);
    *len += n;
}

static void release(struct fake *f, const uint8_t *p, size_t n)
{
    grow_append(&f->q, &f->q_len, &f->q_cap, p, n);
}

static void end_phase(struct fake *f)
{
    uint64_t *max = f->after_frame ? &f->max_after_frame : &f->max_after_filler;
    if (f->since_send > *max)
        *max = f->since_send;
    f->since_send = 0;
}

static int fake_send(void *ctx, const uint8_t *buf, size_t len, char *err, size_t errlen)
{
    struct fake *f = ctx;
    int frame = len >= TERN_CMD_OVERHEAD && buf[0] == TERN_MAGIC0 && buf[1] == TERN_CMD_MAGIC1;
    uint8_t tmp[4096];
    size_t n;

    FUZZ_CHECK(!f->closed, "send on a closed link");
    f->sends++;
    end_phase(f);
    f->after_frame = frame;
    if (f->fail_send) {
        int rc = f->fail_send;
        f->fail_send = 0;
        snprintf(err, errlen, "fake link: the send failed");
        return rc;
    }
    if (frame) {
        f->frame_bytes_sent += len;
        f->last_op = buf[3];
        f->last_seq = tern_get_u16(buf + 4);
        if (buf[3] == TERN_OP_READ_MEM && len >= TERN_CMD_OVERHEAD + 4)
            f->last_count = tern_get_u32(buf + TERN_CMD_HDR_BYTES);
    }
    tern_refdev_push(f->dev, buf, len);
    while ((n = tern_refdev_pull(f->dev, tmp, sizeof tmp)) > 0)
        grow_append(&f->pend, &f->pend_len, &f->pend_cap, tmp, n);
    return TERN_OK;
}

/* The ID block of the real device, as PING answers it. */
static void real_id(const struct fake *f, uint8_t *id)
{
    const struct tern_hwcfg *h = f->cfg;
    uint8_t name[8] = {0};
    memcpy(name, h->name, strlen(h->name) < 8 ? strlen(h->name) : 8);
    const uint32_t r[TERN_NUM_ID_REGS] = {
        TERN_ID_MAGIC, TERN_PROTO_VERSION << 16 | TERN_HW_REVISION, h->lanes, h->width, h->acc_width, h->max_k,
        h->wmem_words, h->amem_words, h->omem_words, h->max_payload, h->clock_hz, h->link_kind, h->link_bytes_per_s,
        h->run_setup, h->run_drain, TERN_NUM_COUNTERS, tern_get_u32(name), tern_get_u32(name + 4), 1, 0};
    for (int i = 0; i < TERN_NUM_ID_REGS; i++)
        tern_put_u32(id + 4 * i, r[i]);
}

/* The payload length a correct answer to op has. */
static uint32_t answer_len(const struct fake *f, uint8_t op)
{
    switch (op) {
    case TERN_OP_PING: return 4 * TERN_NUM_ID_REGS;
    case TERN_OP_READ_REG: return 4;
    case TERN_OP_READ_COUNTERS: return 8 * TERN_NUM_COUNTERS;
    case TERN_OP_READ_MEM: return f->last_count < 4096 ? f->last_count : 4096;
    default: return 0;
    }
}

static void forge(struct fake *f, uint8_t op, uint16_t seq, uint8_t status, const uint8_t *pl, uint32_t len, int flip)
{
    uint8_t *frame = fz_xmalloc((size_t)len + TERN_RSP_OVERHEAD);
    size_t n = tern_frame_rsp(frame, (size_t)len + TERN_RSP_OVERHEAD, op, seq, status, pl, len);

    FUZZ_CHECK(n == (size_t)len + TERN_RSP_OVERHEAD, "cannot forge a frame");
    if (flip)
        frame[(flip >> 3) % n] ^= (uint8_t)(1u << (flip & 7));
    release(f, frame, n);
    free(frame);
}

/* One record of the script: what the device does at this receive. Returns a link error or 0. */
static int record(struct fake *f, char *err, size_t errlen)
{
    const uint8_t kind = fz_u8(&f->in) % (f->truthful ? 8 : 11);
    size_t n;
    const uint8_t *p;

    switch (kind) {
    case 0: /* the answers so far, as they are */
        release(f, f->pend, f->pend_len);
        f->pend_len = 0;
        break;
    case 1: /* part of them */
        n = fz_u16(&f->in) % (f->pend_len + 1);
        release(f, f->pend, n);
        if (n)
            memmove(f->pend, f->pend + n, f->pend_len - n);
        f->pend_len -= n;
        break;
    case 2: /* lost */
        f->pend_len = 0;
        break;
    case 3: /* nothing yet */
        break;
    case 4: /* one bit flipped */
        if (f->pend_len)
            f->pend[fz_u16(&f->in) % f->pend_len] ^= (uint8_t)(1u << fz_u8(&f->in) % 8);
        release(f, f->pend, f->pend_len);
        f->pend_len = 0;
        break;
    case 5: /* twice */
        release(f, f->pend, f->pend_len);
        release(f, f->pend, f->pend_len);
        f->pend_len = 0;
        break;
    case 6: { /* line noise; in truthful mode without the magic byte, so it never hides a frame */
        uint8_t g[64];
        p = fz_bytes(&f->in, fz_u8(&f->in) % 64, &n);
        for (size_t i = 0; i < n; i++)
            g[i] = f->truthful && p[i] == TERN_MAGIC0 ? 0x5A : p[i];
        release(f, g, n);
        break;
    }
    case 7: { /* the link fails: this receive, or the next send */
        uint8_t how = fz_u8(&f->in);
        if (how & 1) {
            f->fail_send = how & 2 ? TERN_E_TIMEOUT : TERN_E_IO;
            break;
        }
        snprintf(err, errlen, "fake link: the receive failed");
        return TERN_E_IO;
    }
    case 8: { /* a forged response */
        uint8_t fl = fz_u8(&f->in);
        uint8_t op = fl & 1 ? f->last_op : fz_u8(&f->in);
        uint16_t seq = (uint16_t)(f->last_seq + (fl & 2 ? (int8_t)fz_u8(&f->in) : 0));
        uint8_t status = fl & 4 ? fz_u8(&f->in) % 10 : TERN_ST_OK;
        uint32_t len = fl & 8 ? fz_u16(&f->in) % 1100u : answer_len(f, op);
        uint8_t *pl = calloc(len + 1, 1);
        FUZZ_CHECK(pl != NULL, "out of memory");
        p = fz_bytes(&f->in, len, &n);
        memcpy(pl, p, n);
        forge(f, op, seq, status, pl, len, fl & 16 ? 1 + fz_u16(&f->in) : 0);
        free(pl);
        break;
    }
    case 9: { /* a forged ID block: the real one with registers of the input's choosing */
        uint8_t id[4 * TERN_NUM_ID_REGS];
        int k = fz_u8(&f->in) % 5;
        real_id(f, id);
        for (int i = 0; i < k; i++) {
            uint8_t reg = fz_u8(&f->in);
            tern_put_u32(id + 4 * (reg % TERN_NUM_ID_REGS), reg & 0x80 ? fz_u32(&f->in) : fz_u8(&f->in));
        }
        forge(f, TERN_OP_PING, f->last_seq, TERN_ST_OK, id, sizeof id, 0);
        break;
    }
    default: /* raw bytes */
        p = fz_bytes(&f->in, fz_u8(&f->in) % 64, &n);
        release(f, p, n);
        break;
    }
    return TERN_OK;
}

/* A device that talks without end: noise and stale frames, never the awaited response. */
static void noise(struct fake *f)
{
    uint8_t b[512];

    if (fz_mix(&f->mix) % 4 == 0) {
        uint8_t pl[4] = {1, 2, 3, 4};
        /* answers to earlier seqs: stale whatever command comes next (truthful mode relies on it) */
        forge(f, f->last_op, (uint16_t)(f->last_seq - 1 - fz_mix(&f->mix) % 100), TERN_ST_OK, pl, 4, 0);
        return;
    }
    for (size_t i = 0; i < sizeof b; i += 8) {
        uint64_t x = fz_mix(&f->mix);
        memcpy(b + i, &x, 8);
    }
    release(f, b, sizeof b);
}

static int fake_recv(void *ctx, uint8_t *buf, size_t cap, size_t *got, unsigned timeout_ms, char *err, size_t errlen)
{
    struct fake *f = ctx;
    size_t n;
    (void)timeout_ms;

    FUZZ_CHECK(!f->closed, "receive on a closed link");
    f->recvs++;
    *got = 0;
    if (f->q_head == f->q_len) {
        f->q_head = f->q_len = 0;
        if (f->in.n) {
            int rc = record(f, err, errlen);
            if (rc)
                return rc;
        } else if (f->endless) {
            noise(f);
        }
    }
    n = f->q_len - f->q_head < cap ? f->q_len - f->q_head : cap;
    if (n)
        memcpy(buf, f->q + f->q_head, n);
    f->q_head += n;
    *got = n;
    f->delivered += n;
    f->since_send += n;
    if (f->after_frame)
        f->delivered_after_frames += n;
    return TERN_OK;
}

static void fake_close(void *ctx)
{
    struct fake *f = ctx;

    FUZZ_CHECK(!f->closed, "the link is closed twice");
    f->closed = 1;
    tern_refdev_destroy(f->dev);
    f->dev = NULL;
}

static const struct tern_link_ops fake_ops = {fake_send, fake_recv, fake_close};

/* A call's result: a known code with a message; in truthful mode only the link's failures. */
static void check_rc_also(const struct fake *f, const tern_dev *dev, int rc, const char *what, int also)
{
    FUZZ_CHECK(rc <= TERN_OK && rc >= TERN_E_BUSY, "%s returned %d", what, rc);
    if (rc == TERN_OK)
        return;
    /* the host has memory to spare: running out means a size the device reported was trusted */
    FUZZ_CHECK(rc != TERN_E_NOMEM, "%s ran out of memory: %s", what, tern_dev_last_error(dev));
    FUZZ_CHECK(tern_dev_last_error(dev)[0] != '\0', "%s failed (%s) without a message", what, tern_strerror(rc));
    if (f->truthful)
        FUZZ_CHECK(rc == TERN_E_TIMEOUT || rc == TERN_E_IO || rc == also, "%s: %s from a truthful device: %s", what,
                   tern_strerror(rc), tern_dev_last_error(dev));
}

static void check_rc(const struct fake *f, const tern_dev *dev, int rc, const char *what)
{
    check_rc_also(f, dev, rc, what, TERN_OK);
}

/* Section 4's limits, which the runtime promises an accepted device obeys. */
static void check_config(const struct fake *f, const struct tern_config *c)
{
    uint64_t wb = (uint64_t)c->wmem_words * c->lanes * c->width / 4, ab = (uint64_t)c->amem_words * c->width,
             ob = (uint64_t)c->omem_words * c->lanes * 4;

    FUZZ_CHECK(c->lanes >= 1 && c->lanes <= 256 && !(c->lanes & (c->lanes - 1)), "lanes %u", c->lanes);
    FUZZ_CHECK(c->width >= 4 && c->width <= 256 && !(c->width & (c->width - 1)), "width %u", c->width);
    FUZZ_CHECK(c->acc_width >= 10 && c->acc_width <= 32 && c->max_k >= c->width &&
                   128ull * c->max_k <= (1ull << (c->acc_width - 1)) - 1,
               "acc_width %u, max_k %u", c->acc_width, c->max_k);
    FUZZ_CHECK(c->wmem_words && c->amem_words && c->omem_words && wb <= 1ull << 30 && ab <= 1ull << 30 &&
                   ob <= 1ull << 30,
               "memories %u/%u/%u words", c->wmem_words, c->amem_words, c->omem_words);
    FUZZ_CHECK(c->max_payload % 4 == 0 && c->max_payload >= 64 && c->max_payload <= 1u << 20, "max_payload %u",
               c->max_payload);
    FUZZ_CHECK(c->clock_hz && c->link_bytes_per_s && c->link_kind <= 3 && c->run_setup <= 65535 &&
                   c->run_drain <= 65535 && c->num_counters == TERN_NUM_COUNTERS && c->backend <= 1,
               "clock %u, link %u at %u B/s, pipe %u/%u, counters %u, backend %u", c->clock_hz, c->link_kind,
               c->link_bytes_per_s, c->run_setup, c->run_drain, c->num_counters, c->backend);
    size_t nl = strnlen(c->name, sizeof c->name);
    FUZZ_CHECK(nl >= 1 && nl <= 8, "name of %zu characters", nl);
    for (size_t i = 0; i < nl; i++)
        FUZZ_CHECK((c->name[i] >= 'a' && c->name[i] <= 'z') || (c->name[i] >= '0' && c->name[i] <= '9') ||
                       c->name[i] == '_',
                   "name byte 0x%02x", (unsigned char)c->name[i]);
    if (f->truthful)
        FUZZ_CHECK(strcmp(c->name, f->cfg->name) == 0 && c->lanes == f->cfg->lanes && c->width == f->cfg->width &&
                       c->max_payload == f->cfg->max_payload && c->wmem_words == f->cfg->wmem_words,
                   "a truthful %s device opened as %s", f->cfg->name, c->name);
}

struct work {
    uint32_t n, k, t, memlen;
    uint8_t *codes;
    int8_t *act;
    int illegal;
};

static void make_work(struct fz *in, struct work *w)
{
    uint64_t s, x = 0;
    uint8_t plant;
    size_t bytes;

    w->n = 1 + fz_u8(in) % 24;
    w->k = 1 + fz_u16(in) % 2048;
    w->t = 1 + fz_u8(in) % 3;
    s = fz_u8(in);
    plant = fz_u8(in);
    w->memlen = fz_u16(in) % 700;
    bytes = tern_codes_bytes((uint64_t)w->n * w->k);
    w->codes = fz_xmalloc(bytes);
    w->act = fz_xmalloc((size_t)w->t * w->k);
    for (size_t i = 0; i < bytes; i++) { /* random pairs, the illegal 10 turned into 00 */
        uint8_t b = (uint8_t)(i % 8 ? x >> 8 * (i % 8) : (x = fz_mix(&s)));
        w->codes[i] = (uint8_t)(b & ~((b >> 1 & ~b & 0x55) << 1));
    }
    if ((uint64_t)w->n * w->k % 4) /* the padding codes of the last byte are zero */
        w->codes[bytes - 1] &= (uint8_t)((1u << 2 * ((uint64_t)w->n * w->k % 4)) - 1);
    for (size_t i = 0; i < (size_t)w->t * w->k; i++)
        w->act[i] = (int8_t)(i % 8 ? x >> 8 * (i % 8) : (x = fz_mix(&s)));
    w->illegal = plant >> 7;
    if (w->illegal) { /* code 10 at one element */
        uint64_t j = fz_mix(&s) % ((uint64_t)w->n * w->k);
        w->codes[j / 4] = (uint8_t)((w->codes[j / 4] & ~(3u << 2 * (j % 4))) | 2u << 2 * (j % 4));
    }
}

/* The product as plain integer arithmetic (only needed when a truthful device computed one). */
static int32_t oracle(const struct work *w, uint32_t t, uint32_t r)
{
    int32_t acc = 0;

    for (uint32_t c = 0; c < w->k; c++)
        acc += tern_code_get(w->codes, (uint64_t)r * w->k + c) * w->act[(size_t)t * w->k + c];
    return acc;
}

static void drive(struct fake *f, tern_dev *dev, const struct work *w, const uint8_t *mem_in)
{
    const struct tern_config *c = tern_dev_config(dev);
    uint8_t mem_out[700];
    uint32_t v = 0;
    struct tern_counters cnt;
    tern_mat *mat = NULL;
    int rc, wrc;

    check_config(f, c);
    check_rc(f, dev, tern_dev_ping(dev), "ping");
    if (f->endless) { /* each command against endless noise takes its whole byte budget: two show it */
        check_rc(f, dev, tern_dev_read_mem(dev, TERN_AMEM_BASE, mem_out, sizeof mem_out), "read_mem");
        return;
    }

    wrc = tern_dev_write_reg(dev, TERN_REG_SCRATCH, 0xC0FFEE00u ^ w->n);
    check_rc(f, dev, wrc, "write_reg");
    rc = tern_dev_read_reg(dev, TERN_REG_SCRATCH, &v);
    check_rc(f, dev, rc, "read_reg");
    if (f->truthful && !wrc && !rc)
        FUZZ_CHECK(v == (0xC0FFEE00u ^ w->n), "SCRATCH reads 0x%08x after writing 0x%08x", v, 0xC0FFEE00u ^ w->n);

    /* AMEM round trip (several frames when longer than max_payload) */
    uint32_t len = w->memlen < 1024 ? w->memlen : 1024;
    wrc = tern_dev_write_mem(dev, TERN_AMEM_BASE + 3, mem_in, len);
    check_rc(f, dev, wrc, "write_mem");
    memset(mem_out, 0xEE, sizeof mem_out);
    rc = tern_dev_read_mem(dev, TERN_AMEM_BASE + 3, mem_out, len);
    check_rc(f, dev, rc, "read_mem");
    if (f->truthful && !wrc && !rc && len)
        FUZZ_CHECK(memcmp(mem_in, mem_out, len) == 0, "AMEM reads back other bytes");

    struct tern_run run = {0, 4, 8, 0, 1, 0, 0};
    check_rc(f, dev, tern_dev_run(dev, &run), "run");
    rc = tern_dev_read_counters(dev, &cnt);
    check_rc(f, dev, rc, "read_counters");
    if (f->truthful && !rc)
        FUZZ_CHECK(cnt.cycles == cnt.cyc_rx + cnt.cyc_tx + cnt.cyc_ctrl + cnt.cyc_commit + cnt.cyc_compute +
                                     cnt.cyc_pipe + cnt.cyc_stall_rx + cnt.cyc_stall_tx,
                   "the counters do not add up");

    rc = tern_mat_upload(dev, w->codes, w->n, w->k, &mat);
    check_rc_also(f, dev, rc, "mat_upload", w->illegal ? TERN_E_CODE : TERN_OK);
    if (w->illegal) /* refused before anything is sent; a forged max_k may refuse the shape first */
        FUZZ_CHECK(!mat && (rc == TERN_E_CODE || (rc == TERN_E_NOFIT && w->k > c->max_k)),
                   "a matrix with code 10: %s", tern_strerror(rc));
    if (mat) {
        int32_t *out = calloc((size_t)w->t * w->n, sizeof *out);
        FUZZ_CHECK(out != NULL, "out of memory");
        FUZZ_CHECK(tern_mat_rows(mat) == w->n && tern_mat_cols(mat) == w->k, "matrix shape");
        rc = tern_matmul(dev, mat, w->act, w->t, out);
        check_rc(f, dev, rc, "matmul");
        if (f->truthful && !rc)
            for (uint32_t t = 0; t < w->t; t++)
                for (uint32_t r = 0; r < w->n; r++) {
                    int32_t want = oracle(w, t, r), got = out[(size_t)t * w->n + r];
                    FUZZ_CHECK(got == want, "product token %u row %u is %d, the oracle %d", t, r, (int)got,
                               (int)want);
                }
        rc = tern_mat_prefetch(mat);
        FUZZ_CHECK(rc <= TERN_OK && rc >= TERN_E_BUSY, "prefetch returned %d", rc);
        free(out);
    }
    check_rc(f, dev, tern_dev_reset(dev), "reset");
    tern_mat_free(mat);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz in = {data, size};
    const uint8_t mode = fz_u8(&in);
    struct fake f;
    struct work w;
    struct tern_link link;
    struct tern_link_stats st;
    tern_dev *dev = NULL;
    char err[512] = "";
    uint8_t mem_in[704];
    uint64_t s = 0x5eed;
    int rc;

    memset(&f, 0, sizeof f);
    make_work(&in, &w);
    for (size_t i = 0; i < sizeof mem_in; i += 8) {
        uint64_t x = fz_mix(&s);
        memcpy(mem_in + i, &x, 8);
    }
    f.truthful = mode & 1;
    f.endless = mode >> 2 & 1;
    f.mix = mode;
    f.cfg = tern_hwcfg_find("tiny");
    FUZZ_CHECK(f.cfg && tern_refdev_create(f.cfg, &f.dev) == TERN_OK, "cannot create the device");
    f.in = in; /* the rest is the device's script */
    link = (struct tern_link){&fake_ops, &f, 0, mode >> 1 & 1};

    rc = tern_dev_open_link(&link, &dev, err, sizeof err);
    FUZZ_CHECK(rc <= TERN_OK && rc >= TERN_E_BUSY && rc != TERN_E_NOMEM, "open returned %d: %s", rc, err);
    if (rc) {
        FUZZ_CHECK(!dev && f.closed && err[0], "a failed open (%s): handle %p, link closed %d, message \"%s\"",
                   tern_strerror(rc), (void *)dev, f.closed, err);
        if (f.truthful)
            FUZZ_CHECK(rc == TERN_E_TIMEOUT || rc == TERN_E_IO, "open: %s from a truthful device: %s",
                       tern_strerror(rc), err);
    } else {
        drive(&f, dev, &w, mem_in);
        tern_dev_link_stats(dev, &st);
        FUZZ_CHECK(st.bytes_sent == f.frame_bytes_sent, "%llu bytes sent, the link took %llu",
                   (unsigned long long)st.bytes_sent, (unsigned long long)f.frame_bytes_sent);
        FUZZ_CHECK(st.bytes_received == f.delivered_after_frames && st.bytes_skipped <= st.bytes_received,
                   "%llu bytes received (%llu skipped), the link gave %llu", (unsigned long long)st.bytes_received,
                   (unsigned long long)st.bytes_skipped, (unsigned long long)f.delivered_after_frames);
        FUZZ_CHECK(st.commands <= f.sends, "%llu commands in %llu sends", (unsigned long long)st.commands,
                   (unsigned long long)f.sends);
        /* section 8: an attempt takes at most 8 largest responses + 64 KiB (+ one receive) */
        uint64_t frame = (uint64_t)(tern_dev_config(dev)->max_payload > 256 ? tern_dev_config(dev)->max_payload : 256) +
                         TERN_RSP_OVERHEAD;
        end_phase(&f);
        FUZZ_CHECK(f.max_after_frame <= 10 * frame + 65536, "%llu bytes taken in one attempt",
                   (unsigned long long)f.max_after_frame);
        tern_dev_close(dev);
        FUZZ_CHECK(f.closed, "tern_dev_close did not close the link");
    }
    end_phase(&f);
    FUZZ_CHECK(f.max_after_filler <= (1u << 20) + 4096 + 65536, "%llu bytes taken after the filler",
               (unsigned long long)f.max_after_filler);
    free(f.pend);
    free(f.q);
    free(w.codes);
    free(w.act);
    return 0;
}
