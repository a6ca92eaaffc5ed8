/* vboard_faults.c — fault injection for the virtual board: parses the --fault specs (see
 * vboard_faults.h for the list and their exact semantics), decides deterministically when each
 * fires (URB counts, stream byte offsets, response frame counts) and filters the two byte
 * streams. Counters record what was injected for the summary line. */
#define _GNU_SOURCE
#include "vboard_faults.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tern/tern.h"

/* A frame longer than this is taken as noise: the tracker hunts for the next magic. */
#define VBOARD_FRAME_MAX (64u << 20)

int vboard_bytes_append(struct vboard_bytes *b, const uint8_t *p, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n)
            cap *= 2;
        uint8_t *q = realloc(b->p, cap);
        if (!q)
            return -1;
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
    return 0;
}

void vboard_bytes_consume(struct vboard_bytes *b, size_t n)
{
    if (n >= b->len) {
        b->len = 0;
        return;
    }
    memmove(b->p, b->p + n, b->len - n);
    b->len -= n;
}

void vboard_bytes_free(struct vboard_bytes *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

const char *vboard_faults_help(void)
{
    return "  stall:ep=in|out,at=N        the N-th bulk URB of that direction fails with EPIPE; the endpoint\n"
           "                              stays halted until USBDEVFS_CLEAR_HALT\n"
           "  timeout:at=B,ms=T           after B host->FPGA bytes the chip moves no data for T ms (IN URBs\n"
           "                              get status-only packets, OUT URBs hang), then resumes\n"
           "  short:at=N                  the N-th IN URB that carries data completes after its first packet\n"
           "  drop:dir=in|out,at=B,len=L  L bytes of that stream from offset B vanish\n"
           "  corrupt:dir=in|out,at=B     bit 0 of the byte at stream offset B flips\n"
           "  dup:frame=N                 the N-th response frame the FPGA sends is delivered twice\n"
           "  unplug:at=B                 after B host->FPGA bytes the device disappears (ENODEV)\n"
           "  busy                        the FPGA's interface is claimed by another process (EBUSY)\n"
           "  noperm                      the device node has mode 0000 (EACCES; a root client must drop\n"
           "                              CAP_DAC_OVERRIDE: setpriv --bounding-set=-dac_override,-dac_read_search)\n"
           "  slow:bps=R[,at=B]           once B host->FPGA bytes were taken (default 0), the FPGA takes them\n"
           "                              at R bytes/s at most (a loaded host: the simulated board runs far\n"
           "                              slower than its link, but it runs)\n"
           "  (stream offsets count from 0: out = bytes the chip took from bulk OUT URBs, in = bytes the\n"
           "   FPGA sent; N counts from 1)\n";
}

static const char *kind_name(enum vboard_fault_kind k)
{
    static const char *const names[VBOARD_FAULT_KINDS] = {"stall", "timeout", "short",  "drop", "corrupt",
                                                          "dup",   "unplug",  "busy",   "noperm", "slow"};
    return (unsigned)k < VBOARD_FAULT_KINDS ? names[k] : "?";
}

/* key=value parsing of "k1=v1,k2=v2" */
static int parse_u64(const char *s, size_t n, uint64_t *out)
{
    char buf[32], *end;

    if (!n || n >= sizeof buf)
        return -1;
    memcpy(buf, s, n);
    buf[n] = 0;
    if (buf[0] == '-')
        return -1;
    errno = 0;
    unsigned long long v = strtoull(buf, &end, 0);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

int vboard_faults_add(struct vboard_faults *fs, const char *spec, char *err, size_t errlen)
{
    struct vboard_fault f;
    const char *colon = strchr(spec, ':'), *p;
    size_t klen = colon ? (size_t)(colon - spec) : strlen(spec);
    int have_at = 0, have_dir = 0, have_len = 0, have_ms = 0;
    struct vboard_fault *nv;

    memset(&f, 0, sizeof f);
    f.kind = VBOARD_FAULT_KINDS;
    for (int k = 0; k < VBOARD_FAULT_KINDS; k++)
        if (strlen(kind_name(k)) == klen && !strncmp(spec, kind_name(k), klen))
            f.kind = k;
    if (f.kind == VBOARD_FAULT_KINDS) {
        snprintf(err, errlen,
                 "--fault '%s': unknown fault (stall, timeout, short, drop, corrupt, dup, unplug, busy, noperm, slow)",
                 spec);
        return TERN_E_INVAL;
    }
    p = colon ? colon + 1 : NULL;
    while (p && *p) {
        const char *end = strchr(p, ','), *eq;
        size_t n = end ? (size_t)(end - p) : strlen(p);
        eq = memchr(p, '=', n);
        if (!eq) {
            snprintf(err, errlen, "--fault '%s': expected key=value, got '%.*s'", spec, (int)n, p);
            return TERN_E_INVAL;
        }
        size_t kl = (size_t)(eq - p), vl = n - kl - 1;
        const char *v = eq + 1;
        uint64_t u;
        if (kl == 2 && !strncmp(p, "at", 2) && f.kind != VBOARD_FAULT_DUP) {
            if (parse_u64(v, vl, &f.at))
                goto bad_value;
            have_at = 1;
        } else if ((kl == 2 && !strncmp(p, "ep", 2) && f.kind == VBOARD_FAULT_STALL) ||
                   (kl == 3 && !strncmp(p, "dir", 3) &&
                    (f.kind == VBOARD_FAULT_DROP || f.kind == VBOARD_FAULT_CORRUPT))) {
            if (vl == 2 && !strncmp(v, "in", 2))
                f.in = 1;
            else if (vl == 3 && !strncmp(v, "out", 3))
                f.in = 0;
            else
                goto bad_value;
            have_dir = 1;
        } else if (kl == 3 && !strncmp(p, "len", 3) && f.kind == VBOARD_FAULT_DROP) {
            if (parse_u64(v, vl, &f.len))
                goto bad_value;
            have_len = 1;
        } else if (kl == 2 && !strncmp(p, "ms", 2) && f.kind == VBOARD_FAULT_TIMEOUT) {
            if (parse_u64(v, vl, &u) || u > 3600000)
                goto bad_value;
            f.ms = (uint32_t)u;
            have_ms = 1;
        } else if (kl == 3 && !strncmp(p, "bps", 3) && f.kind == VBOARD_FAULT_SLOW) {
            if (parse_u64(v, vl, &f.bps) || f.bps > 1000000000)
                goto bad_value;
        } else if (kl == 5 && !strncmp(p, "frame", 5) && f.kind == VBOARD_FAULT_DUP) {
            if (parse_u64(v, vl, &f.at))
                goto bad_value;
            have_at = 1;
        } else {
            snprintf(err, errlen, "--fault '%s': '%.*s' is not a parameter of %s", spec, (int)kl, p, kind_name(f.kind));
            return TERN_E_INVAL;
        }
        p = end ? end + 1 : NULL;
        continue;
    bad_value:
        snprintf(err, errlen, "--fault '%s': bad value '%.*s' for %.*s", spec, (int)vl, v, (int)kl, p);
        return TERN_E_INVAL;
    }
    switch (f.kind) {
    case VBOARD_FAULT_STALL:
        if (!have_dir || !have_at || f.at == 0)
            goto missing;
        break;
    case VBOARD_FAULT_TIMEOUT:
        if (!have_at || !have_ms)
            goto missing;
        break;
    case VBOARD_FAULT_SHORT:
    case VBOARD_FAULT_DUP:
        if (!have_at || f.at == 0)
            goto missing;
        break;
    case VBOARD_FAULT_DROP:
        if (!have_dir || !have_at || !have_len)
            goto missing;
        break;
    case VBOARD_FAULT_CORRUPT:
        if (!have_dir || !have_at)
            goto missing;
        break;
    case VBOARD_FAULT_UNPLUG:
        if (!have_at)
            goto missing;
        break;
    case VBOARD_FAULT_SLOW:
        if (f.bps == 0)
            goto missing;
        break;
    case VBOARD_FAULT_BUSY:
    case VBOARD_FAULT_NOPERM:
        if (colon) {
            snprintf(err, errlen, "--fault '%s': %s takes no parameters", spec, kind_name(f.kind));
            return TERN_E_INVAL;
        }
        break;
    default:
        break;
    }
    nv = realloc(fs->v, (fs->n + 1) * sizeof *nv);
    if (!nv) {
        snprintf(err, errlen, "--fault: out of memory");
        return TERN_E_NOMEM;
    }
    fs->v = nv;
    fs->v[fs->n++] = f;
    if (f.kind == VBOARD_FAULT_BUSY)
        fs->busy = 1;
    if (f.kind == VBOARD_FAULT_NOPERM)
        fs->noperm = 1;
    if (f.kind == VBOARD_FAULT_SLOW && (!fs->slow_bps || f.bps < fs->slow_bps)) {
        fs->slow_bps = f.bps;
        fs->slow_at = f.at;
    }
    if ((f.kind == VBOARD_FAULT_DROP || f.kind == VBOARD_FAULT_CORRUPT) && !f.in)
        fs->any_out = 1;
    if (((f.kind == VBOARD_FAULT_DROP || f.kind == VBOARD_FAULT_CORRUPT) && f.in) || f.kind == VBOARD_FAULT_DUP)
        fs->any_in = 1;
    return TERN_OK;

missing:
    snprintf(err, errlen, "--fault '%s': missing or zero parameter (see tern vboard --help)", spec);
    return TERN_E_INVAL;
}

void vboard_faults_free(struct vboard_faults *fs)
{
    free(fs->v);
    fs->v = NULL;
    fs->n = 0;
    vboard_bytes_free(&fs->fr_copy);
}

int vboard_faults_submit(struct vboard_faults *fs, int in)
{
    uint64_t nth = ++fs->urbs[in ? 1 : 0];

    for (size_t i = 0; i < fs->n; i++) {
        struct vboard_fault *f = &fs->v[i];
        if (f->kind == VBOARD_FAULT_STALL && !f->fired && f->in == in && f->at == nth) {
            f->fired = 1;
            fs->n_stalls++;
            return 1;
        }
    }
    return 0;
}

int vboard_faults_short(struct vboard_faults *fs)
{
    uint64_t nth = ++fs->data_urbs_in;

    for (size_t i = 0; i < fs->n; i++) {
        struct vboard_fault *f = &fs->v[i];
        if (f->kind == VBOARD_FAULT_SHORT && !f->fired && f->at == nth) {
            f->fired = 1;
            fs->n_shorts++;
            return 1;
        }
    }
    return 0;
}

uint64_t vboard_faults_out_limit(const struct vboard_faults *fs)
{
    uint64_t lim = UINT64_MAX;

    for (size_t i = 0; i < fs->n; i++) {
        const struct vboard_fault *f = &fs->v[i];
        if ((f->kind == VBOARD_FAULT_TIMEOUT || f->kind == VBOARD_FAULT_UNPLUG) && !f->fired) {
            uint64_t d = f->at > fs->out_off ? f->at - fs->out_off : 0;
            if (d < lim)
                lim = d;
        }
    }
    return lim;
}

unsigned vboard_faults_out_trigger(struct vboard_faults *fs, uint32_t *ms)
{
    unsigned trig = 0;

    for (size_t i = 0; i < fs->n; i++) {
        struct vboard_fault *f = &fs->v[i];
        if (f->fired || f->at > fs->out_off)
            continue;
        if (f->kind == VBOARD_FAULT_TIMEOUT) {
            f->fired = 1;
            fs->n_timeouts++;
            if (!(trig & VBOARD_TRIG_TIMEOUT) || f->ms > *ms)
                *ms = f->ms;
            trig |= VBOARD_TRIG_TIMEOUT;
        } else if (f->kind == VBOARD_FAULT_UNPLUG) {
            f->fired = 1;
            fs->n_unplugs++;
            trig |= VBOARD_TRIG_UNPLUG;
        }
    }
    return trig;
}

/* The slow fault's bucket holds at most 10 ms of bytes (one at least): a board that was idle
 * does not then take a burst at full speed. */
size_t vboard_faults_slow_allow(struct vboard_faults *fs, size_t want, int64_t now_us, int64_t *wait_us)
{
    uint64_t cap = fs->slow_bps / 100 > 1 ? fs->slow_bps / 100 : 1, have;

    *wait_us = 0;
    if (!fs->slow_bps || !want || fs->out_off < fs->slow_at)
        return want;
    if (fs->slow_last_us && now_us > fs->slow_last_us) {
        uint64_t dt = (uint64_t)(now_us - fs->slow_last_us);
        fs->slow_credit += (dt < 1000000u ? dt : 1000000u) * fs->slow_bps;
    }
    if (!fs->slow_last_us)
        fs->slow_credit = cap * 1000000u;
    fs->slow_last_us = now_us;
    if (fs->slow_credit > cap * 1000000u)
        fs->slow_credit = cap * 1000000u;
    have = fs->slow_credit / 1000000u;
    if (have == 0) {
        /* the next byte, but not sooner than 1 ms: the engine steps with a few bytes at a time */
        uint64_t us = (1000000u - fs->slow_credit) / fs->slow_bps + 1;
        *wait_us = us < 1000 ? 1000 : (int64_t)us;
        fs->n_slow_holds++;
        return 0;
    }
    return have < want ? (size_t)have : want;
}

void vboard_faults_slow_took(struct vboard_faults *fs, size_t n)
{
    uint64_t used = (uint64_t)n * 1000000u;

    if (fs->slow_bps)
        fs->slow_credit = used < fs->slow_credit ? fs->slow_credit - used : 0;
}

/* What happens to the stream byte at offset off: 0 keep, 1 drop, 2 flip bit 0. */
static int byte_fate(struct vboard_faults *fs, int in, uint64_t off)
{
    int fate = 0;

    for (size_t i = 0; i < fs->n; i++) {
        struct vboard_fault *f = &fs->v[i];
        if (f->in != in)
            continue;
        if (f->kind == VBOARD_FAULT_DROP && off >= f->at && off - f->at < f->len) {
            fs->n_dropped[in]++;
            f->fired = 1;
            return 1;
        }
        if (f->kind == VBOARD_FAULT_CORRUPT && off == f->at) {
            f->fired = 1;
            fate = 2;
        }
    }
    if (fate == 2)
        fs->n_corrupted[in]++;
    return fate;
}

/* The next offset at or after off where any fault of stream `in` acts (UINT64_MAX: none). */
static uint64_t next_event(const struct vboard_faults *fs, int in, uint64_t off)
{
    uint64_t best = UINT64_MAX;

    for (size_t i = 0; i < fs->n; i++) {
        const struct vboard_fault *f = &fs->v[i];
        if (f->in != in || (f->kind != VBOARD_FAULT_DROP && f->kind != VBOARD_FAULT_CORRUPT))
            continue;
        uint64_t end = f->kind == VBOARD_FAULT_DROP ? f->at + f->len : f->at + 1;
        if (end <= off)
            continue;
        uint64_t start = f->at > off ? f->at : off;
        if (start < best)
            best = start;
    }
    return best;
}

size_t vboard_faults_filter_out(struct vboard_faults *fs, const uint8_t *src, size_t n, uint8_t *dst)
{
    size_t kept = 0, i = 0;

    if (!fs->any_out) {
        memcpy(dst, src, n);
        fs->out_off += n;
        return n;
    }
    while (i < n) {
        uint64_t ev = next_event(fs, 0, fs->out_off);
        size_t run = ev == UINT64_MAX || ev - fs->out_off >= n - i ? n - i : (size_t)(ev - fs->out_off);
        memcpy(dst + kept, src + i, run);
        kept += run;
        i += run;
        fs->out_off += run;
        if (i < n) {
            int fate = byte_fate(fs, 0, fs->out_off);
            if (fate != 1)
                dst[kept++] = fate == 2 ? (uint8_t)(src[i] ^ 1u) : src[i];
            i++;
            fs->out_off++;
        }
    }
    return kept;
}

/* The response frame tracker sees one delivered byte (b) of original byte orig; 1 when a frame
 * to duplicate just ended. */
static int track_frame(struct vboard_faults *fs, uint8_t orig, int delivered, uint8_t b)
{
    switch (fs->fr_state) {
    case 0:
        if (orig == 0xA5) {
            fs->fr_state = 1;
            fs->fr_hdr[0] = orig;
            fs->fr_have = 1;
            fs->fr_capture = 0;
            fs->fr_copy.len = 0;
            for (size_t i = 0; i < fs->n; i++)
                if (fs->v[i].kind == VBOARD_FAULT_DUP && !fs->v[i].fired && fs->v[i].at == fs->frames + 1)
                    fs->fr_capture = 1;
        }
        break;
    case 1:
        if (orig == 0x52) {
            fs->fr_state = 2;
            fs->fr_hdr[fs->fr_have++] = orig;
        } else if (orig != 0xA5) {
            fs->fr_state = 0;
        }
        /* A5 A5: stay, the second A5 may start the frame */
        if (orig == 0xA5)
            fs->fr_copy.len = 0;
        break;
    case 2:
        fs->fr_hdr[fs->fr_have++] = orig;
        if (fs->fr_have == 14) {
            uint32_t len = (uint32_t)fs->fr_hdr[8] | (uint32_t)fs->fr_hdr[9] << 8 | (uint32_t)fs->fr_hdr[10] << 16 |
                           (uint32_t)fs->fr_hdr[11] << 24;
            if (len > VBOARD_FRAME_MAX) {
                fs->fr_state = 0;
                return 0;
            }
            fs->fr_left = (uint64_t)len + 4;
            fs->fr_state = 3;
        }
        break;
    case 3:
        if (--fs->fr_left == 0)
            fs->fr_state = 4; /* ends below */
        break;
    }
    if (fs->fr_state != 0 && fs->fr_capture && delivered)
        if (vboard_bytes_append(&fs->fr_copy, &b, 1))
            fs->fr_capture = 0;
    if (fs->fr_state == 4) {
        fs->fr_state = 0;
        fs->frames++;
        if (fs->fr_capture) {
            for (size_t i = 0; i < fs->n; i++)
                if (fs->v[i].kind == VBOARD_FAULT_DUP && !fs->v[i].fired && fs->v[i].at == fs->frames)
                    fs->v[i].fired = 1;
            fs->fr_capture = 0;
            return 1;
        }
    }
    return 0;
}

int vboard_faults_filter_in(struct vboard_faults *fs, const uint8_t *src, size_t n, struct vboard_bytes *dst)
{
    int dup = 0;

    for (size_t i = 0; i < fs->n && !dup; i++)
        dup = fs->v[i].kind == VBOARD_FAULT_DUP && !fs->v[i].fired;
    if (!fs->any_in || (!dup && next_event(fs, 1, fs->in_off) == UINT64_MAX)) {
        fs->in_off += n;
        return vboard_bytes_append(dst, src, n);
    }
    for (size_t i = 0; i < n; i++) {
        int fate = byte_fate(fs, 1, fs->in_off++);
        uint8_t b = fate == 2 ? (uint8_t)(src[i] ^ 1u) : src[i];
        if (fate != 1 && vboard_bytes_append(dst, &b, 1))
            return -1;
        if (dup && track_frame(fs, src[i], fate != 1, b)) {
            if (vboard_bytes_append(dst, fs->fr_copy.p, fs->fr_copy.len))
                return -1;
            fs->n_dups++;
            fs->fr_copy.len = 0;
        }
    }
    return 0;
}

void vboard_faults_summary(const struct vboard_faults *fs, char *buf, size_t len)
{
    int dup = 0;

    for (size_t i = 0; i < fs->n; i++)
        dup |= fs->v[i].kind == VBOARD_FAULT_DUP;
    snprintf(buf, len,
             "faults injected: %" PRIu64 " stall (%" PRIu64 " URBs failed EPIPE), %" PRIu64 " timeout, %" PRIu64
             " short, dropped %" PRIu64 " out + %" PRIu64 " in bytes, corrupted %" PRIu64 " out + %" PRIu64
             " in bytes, %" PRIu64 " dup frames, %" PRIu64 " unplug%s%s, %" PRIu64 " slow holds (%" PRIu64
             " bytes/s); streams: %" PRIu64 " bytes out, %" PRIu64 " bytes in, %" PRIu64 " response frames%s",
             fs->n_stalls, fs->n_stalled_urbs, fs->n_timeouts, fs->n_shorts, fs->n_dropped[0], fs->n_dropped[1],
             fs->n_corrupted[0], fs->n_corrupted[1], fs->n_dups, fs->n_unplugs, fs->busy ? ", busy" : "",
             fs->noperm ? ", noperm" : "", fs->n_slow_holds, fs->slow_bps, fs->out_off, fs->in_off, fs->frames,
             dup ? "" : " (not tracked)");
}
