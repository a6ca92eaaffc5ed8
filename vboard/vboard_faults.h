/* vboard_faults.h — the faults the virtual board injects (tern vboard --fault SPEC): parsing, the
 * deterministic triggers (URB counts and byte offsets of each stream), the stream filters and
 * the counters of what was injected. Internal to vboard/.
 *
 * SPEC                          effect
 * stall:ep=in|out,at=N          the N-th bulk URB of that direction (1-based, every endpoint
 *                               counted) fails with -EPIPE; the endpoint stays halted (every
 *                               URB on it fails with -EPIPE) until USBDEVFS_CLEAR_HALT (or a
 *                               CLEAR_FEATURE(ENDPOINT_HALT) control request)
 * timeout:at=B,ms=T             once B host->FPGA bytes were taken, the chip moves no data
 *                               for T ms: IN URBs get status-only packets, OUT URBs hang
 * short:at=N                    the N-th IN URB that carries data completes after its first
 *                               packet, even if more data is ready
 * drop:dir=in|out,at=B,len=L    L bytes of that stream from offset B vanish
 * corrupt:dir=in|out,at=B       bit 0 of the byte at stream offset B flips
 * dup:frame=N                   the N-th response frame (A5 52 ..., 18 + payload bytes) the FPGA
 *                               sends is delivered twice
 * unplug:at=B                   once B host->FPGA bytes were taken the device disappears
 * busy                          the vboard itself holds the FPGA's interface, claimed "by
 *                               another process", for the whole run
 * noperm                        the device node has mode 0000
 * slow:bps=R[,at=B]             once B host->FPGA bytes were taken (default 0), the FPGA side
 *                               takes them at R bytes a second at most (a host so loaded that the
 *                               simulated board runs far slower than its link): the chip's buffer
 *                               fills and OUT URBs complete slowly, but they keep completing
 *
 * Stream offsets count from 0 over the whole run: out = bytes the chip took from bulk OUT URBs
 * (on any channel, before drop/corrupt), in = bytes the engine sent (before any fault changes
 * them). The chip takes bytes up to a timeout/unplug offset B exactly, then fires it (B = 0:
 * at the first bulk activity). dup sends again what was delivered of that frame (after drop and
 * corrupt), right after it; the copy is not part of the in stream's offsets, and frames are
 * found by their A5 52 magic and the header's length (a garbled stream resynchronises on the
 * next magic). N of stall counts URBs as submitted; a stalled URB waits behind the URBs ahead
 * of it on its endpoint. The busy claim behaves as a real other process's: USBDEVFS_DISCONNECT
 * of that interface would take it away, as the kernel allows (libusb never does; a reset
 * leaves it). Several specs of one kind may be given. */
#ifndef TERN_VBOARD_FAULTS_H
#define TERN_VBOARD_FAULTS_H

#include <stddef.h>
#include <stdint.h>

enum vboard_fault_kind {
    VBOARD_FAULT_STALL,
    VBOARD_FAULT_TIMEOUT,
    VBOARD_FAULT_SHORT,
    VBOARD_FAULT_DROP,
    VBOARD_FAULT_CORRUPT,
    VBOARD_FAULT_DUP,
    VBOARD_FAULT_UNPLUG,
    VBOARD_FAULT_BUSY,
    VBOARD_FAULT_NOPERM,
    VBOARD_FAULT_SLOW,
    VBOARD_FAULT_KINDS
};

struct vboard_fault {
    enum vboard_fault_kind kind;
    int in;          /* direction: 1 = IN (FPGA -> host), 0 = OUT */
    uint64_t at;     /* N (stall, short, dup) or stream offset B */
    uint64_t len;    /* drop: bytes */
    uint32_t ms;     /* timeout: duration */
    uint64_t bps;    /* slow: bytes a second */
    int fired;
};

/* A growable byte buffer (the in filter's output). */
struct vboard_bytes {
    uint8_t *p;
    size_t len, cap;
};
int vboard_bytes_append(struct vboard_bytes *b, const uint8_t *p, size_t n);
void vboard_bytes_consume(struct vboard_bytes *b, size_t n);
void vboard_bytes_free(struct vboard_bytes *b);

struct vboard_faults {
    struct vboard_fault *v;
    size_t n;
    int any_out, any_in; /* fast paths */
    /* triggers */
    uint64_t out_off, in_off;         /* stream offsets */
    uint64_t urbs[2];                 /* bulk URBs submitted: [0] OUT, [1] IN */
    uint64_t data_urbs_in;            /* IN URBs that carried data */
    /* response frame tracker of the in stream (dup) */
    int fr_state;                     /* 0 hunt, 1 saw A5, 2 header, 3 payload + CRC */
    uint8_t fr_hdr[14];
    size_t fr_have;
    uint64_t fr_left;
    uint64_t frames;                  /* complete response frames seen */
    int fr_capture;                   /* the current frame is one to duplicate */
    struct vboard_bytes fr_copy;
    /* counters of what was injected */
    uint64_t n_stalls, n_stalled_urbs, n_timeouts, n_shorts, n_dropped[2], n_corrupted[2], n_dups, n_unplugs;
    int busy, noperm;
    /* slow: a token bucket of host->FPGA bytes (engine thread) */
    uint64_t slow_bps;                /* 0: no slow fault */
    uint64_t slow_at;                 /* from this out stream offset on */
    uint64_t slow_credit;             /* bytes the board may take, times 1e6 */
    int64_t slow_last_us;
    uint64_t n_slow_holds;            /* times the board was held back */
};

/* Parse one SPEC and add it. 0, or TERN_E_INVAL with the reason in err. */
int vboard_faults_add(struct vboard_faults *fs, const char *spec, char *err, size_t errlen);
void vboard_faults_free(struct vboard_faults *fs);
/* The --help text: one line per SPEC. */
const char *vboard_faults_help(void);

/* A bulk URB of direction in was submitted: 1 when the stall fault picks it. */
int vboard_faults_submit(struct vboard_faults *fs, int in);
/* An IN URB got its first packet that carries data: 1 when the short fault picks it. */
int vboard_faults_short(struct vboard_faults *fs);

/* Out stream: how many bytes may be taken before the next trigger (timeout, unplug) is reached
 * (UINT64_MAX: none ahead). After taking them, vboard_faults_out_trigger() says which fired:
 * VBOARD_TRIG_TIMEOUT (*ms set) and/or VBOARD_TRIG_UNPLUG. */
#define VBOARD_TRIG_TIMEOUT 1u
#define VBOARD_TRIG_UNPLUG 2u
uint64_t vboard_faults_out_limit(const struct vboard_faults *fs);
unsigned vboard_faults_out_trigger(struct vboard_faults *fs, uint32_t *ms);
/* Out stream filter: n bytes the chip took, into dst (at most n: drop, corrupt); returns how
 * many are left. Advances the out offset. */
size_t vboard_faults_filter_out(struct vboard_faults *fs, const uint8_t *src, size_t n, uint8_t *dst);
/* In stream filter: n bytes the engine sent, appended to dst after drop, corrupt and dup.
 * 0, or -1 when out of memory. */
int vboard_faults_filter_in(struct vboard_faults *fs, const uint8_t *src, size_t n, struct vboard_bytes *dst);

/* slow: how many of want host->FPGA bytes the board may take at now_us (want itself without a
 * slow fault); when none, *wait_us says how long until some may. vboard_faults_slow_took()
 * counts the bytes the board took. */
size_t vboard_faults_slow_allow(struct vboard_faults *fs, size_t want, int64_t now_us, int64_t *wait_us);
void vboard_faults_slow_took(struct vboard_faults *fs, size_t n);

/* One line: what was injected. */
void vboard_faults_summary(const struct vboard_faults *fs, char *buf, size_t len);

#endif /* TERN_VBOARD_FAULTS_H */
