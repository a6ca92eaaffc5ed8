/* test_usb_link.c — one workload through the usb backend, checked bit for bit against ref, with
 * the outcome a fault scenario expects. Run under `tern vboard [--fault ...] --`:
 *   test_usb_link --uri usb: --expect ok|nodev|timeout|busy|access [--rounds N] [--limit-s S]
 * ok: every memory read-back, accumulator, compute-cycle count and ternary-add count equals the
 * ref model's (a command executed twice would show in the counters), on the first try or after
 * the link recovered. An error expectation: the first failure carries that code and a message,
 * and it comes within --limit-s seconds (no hang). Exit 0 when the outcome is as expected. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tern/tern.h"

static uint64_t rng(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

struct outcome {
    int rc;           /* first failure on the usb device, or TERN_OK */
    char msg[1536];
    int mismatches;   /* results that differ from ref */
};

static void fail(struct outcome *o, int rc, tern_dev *dev, const char *what)
{
    o->rc = rc;
    snprintf(o->msg, sizeof o->msg, "%s: %s: %s", what, tern_strerror(rc), dev ? tern_dev_last_error(dev) : "");
}

/* One round: a memory block written and read back, then a product on both devices. */
static int round_trip(tern_dev *usb, tern_dev *ref, uint64_t *seed, struct outcome *o)
{
    const struct tern_config *c = tern_dev_config(usb);
    uint32_t n = 2 * c->lanes + 3, k = 3 * c->width + 5, t = 3;
    size_t blk = c->max_payload * 2 + 17 < 4096 ? c->max_payload * 2 + 17 : 4096;
    uint8_t *mem = malloc(blk), *back = malloc(blk), *codes = calloc(tern_codes_bytes((uint64_t)n * k), 1);
    int8_t *act = malloc((size_t)t * k);
    int32_t *got = malloc((size_t)t * n * 4), *want = malloc((size_t)t * n * 4);
    tern_mat *mu = NULL, *mr = NULL;
    int rc = TERN_E_NOMEM;

    if (!mem || !back || !codes || !act || !got || !want)
        goto out;
    for (size_t i = 0; i < blk; i++)
        mem[i] = (uint8_t)rng(seed);
    for (uint64_t j = 0; j < (uint64_t)n * k; j++)
        tern_code_set(codes, j, (int)(rng(seed) % 3) - 1);
    for (size_t i = 0; i < (size_t)t * k; i++)
        act[i] = (int8_t)rng(seed);
    /* the top of the activation buffer: the tiler's own use starts at its bottom */
    uint32_t amem_bytes = c->amem_words * c->width, addr = 0x40000000u + (amem_bytes > blk ? amem_bytes - (uint32_t)blk : 0);
    if (blk > amem_bytes)
        blk = amem_bytes;
    if ((rc = tern_dev_write_mem(usb, addr, mem, blk))) {
        fail(o, rc, usb, "WRITE_MEM");
        goto out;
    }
    if ((rc = tern_dev_read_mem(usb, addr, back, blk))) {
        fail(o, rc, usb, "READ_MEM");
        goto out;
    }
    if (memcmp(mem, back, blk)) {
        fprintf(stderr, "memory read back differs from what was written (%zu bytes at 0x%08x)\n", blk, addr);
        o->mismatches++;
    }
    if ((rc = tern_mat_upload(usb, codes, n, k, &mu)) || (rc = tern_matmul(usb, mu, act, t, got))) {
        fail(o, rc, usb, "matmul");
        goto out;
    }
    rc = tern_mat_upload(ref, codes, n, k, &mr);
    if (!rc)
        rc = tern_matmul(ref, mr, act, t, want);
    if (rc) {
        fprintf(stderr, "the ref device failed: %s: %s\n", tern_strerror(rc), tern_dev_last_error(ref));
        o->mismatches++;
        goto out;
    }
    if (memcmp(got, want, (size_t)t * n * 4)) {
        fprintf(stderr, "accumulators differ from ref (%u x %u x %u)\n", n, k, t);
        o->mismatches++;
    }
out:
    tern_mat_free(mr);
    tern_mat_free(mu);
    free(want);
    free(got);
    free(act);
    free(codes);
    free(back);
    free(mem);
    return rc;
}

static int expect_code(const char *s)
{
    if (!strcmp(s, "ok")) return TERN_OK;
    if (!strcmp(s, "nodev")) return TERN_E_NODEV;
    if (!strcmp(s, "timeout")) return TERN_E_TIMEOUT;
    if (!strcmp(s, "busy")) return TERN_E_BUSY;
    if (!strcmp(s, "access")) return TERN_E_ACCESS;
    if (!strcmp(s, "io")) return TERN_E_IO;
    return 1;
}

int main(int argc, char **argv)
{
    const char *uri = "usb:", *expect_s = "ok";
    int rounds = 4;
    double limit_s = 60, t0 = now_s();
    struct outcome o = {TERN_OK, "", 0};
    struct tern_counters cu, cr;
    struct tern_link_stats ls;
    char err[768], ref_uri[64];
    tern_dev *usb = NULL, *ref = NULL;
    uint64_t seed = 0x7E57;
    int want, rc;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--uri") && i + 1 < argc) uri = argv[++i];
        else if (!strcmp(argv[i], "--expect") && i + 1 < argc) expect_s = argv[++i];
        else if (!strcmp(argv[i], "--rounds") && i + 1 < argc) rounds = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--limit-s") && i + 1 < argc) limit_s = atof(argv[++i]);
        else if (!strcmp(argv[i], "--help")) {
            printf("usage: test_usb_link [--uri URI] [--expect ok|nodev|timeout|busy|access|io] [--rounds N] "
                   "[--limit-s S]\n");
            return 0;
        } else {
            fprintf(stderr, "test_usb_link: unknown argument '%s'\n", argv[i]);
            return 2;
        }
    }
    want = expect_code(expect_s);
    if (want == 1) {
        fprintf(stderr, "test_usb_link: unknown expectation '%s'\n", expect_s);
        return 2;
    }
    rc = tern_dev_open_ex(uri, &usb, err, sizeof err);
    if (rc) {
        o.rc = rc;
        snprintf(o.msg, sizeof o.msg, "open %s: %s: %s", uri, tern_strerror(rc), err);
        goto verdict;
    }
    snprintf(ref_uri, sizeof ref_uri, "ref:config=%s", tern_dev_config(usb)->name);
    rc = tern_dev_open_ex(ref_uri, &ref, err, sizeof err);
    if (rc) {
        fprintf(stderr, "cannot open %s: %s\n", ref_uri, err);
        tern_dev_close(usb);
        return 1;
    }
    /* counters from zero on both: a board keeps its state across host sessions */
    if ((rc = tern_dev_reset(usb))) {
        fail(&o, rc, usb, "RESET");
        goto verdict;
    }
    for (int r = 0; r < rounds && o.rc == TERN_OK; r++)
        round_trip(usb, ref, &seed, &o);
    if (o.rc == TERN_OK) {
        rc = tern_dev_read_counters(usb, &cu);
        if (rc)
            fail(&o, rc, usb, "READ_COUNTERS");
        else if (tern_dev_read_counters(ref, &cr) == TERN_OK &&
                 (cu.tern_ops != cr.tern_ops || cu.cyc_compute != cr.cyc_compute)) {
            fprintf(stderr, "counters differ from ref: ternary adds %llu vs %llu, compute cycles %llu vs %llu "
                            "(a command executed twice?)\n",
                    (unsigned long long)cu.tern_ops, (unsigned long long)cr.tern_ops,
                    (unsigned long long)cu.cyc_compute, (unsigned long long)cr.cyc_compute);
            o.mismatches++;
        }
    }
verdict:
    if (usb) {
        tern_dev_link_stats(usb, &ls);
        printf("link: %llu commands, %llu retries, %llu bytes sent, %llu received, %llu skipped\n",
               (unsigned long long)ls.commands, (unsigned long long)ls.retries, (unsigned long long)ls.bytes_sent,
               (unsigned long long)ls.bytes_received, (unsigned long long)ls.bytes_skipped);
    }
    tern_dev_close(ref);
    tern_dev_close(usb);
    double dt = now_s() - t0;
    printf("outcome: %s%s%s (%.2f s)\n", o.rc ? tern_strerror(o.rc) : "ok", o.rc ? " — " : "", o.msg, dt);
    if (o.mismatches) {
        fprintf(stderr, "FAIL: %d result(s) differ from ref\n", o.mismatches);
        return 1;
    }
    if (o.rc != want) {
        fprintf(stderr, "FAIL: expected %s, got %s\n", want ? tern_strerror(want) : "success",
                o.rc ? tern_strerror(o.rc) : "success");
        return 1;
    }
    if (o.rc && !o.msg[0]) {
        fprintf(stderr, "FAIL: the error carries no message\n");
        return 1;
    }
    if (dt > limit_s) {
        fprintf(stderr, "FAIL: took %.1f s, more than the %.0f s bound\n", dt, limit_s);
        return 1;
    }
    printf("PASS\n");
    return 0;
}
