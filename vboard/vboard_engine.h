/* vboard_engine.h — what sits behind the virtual board's emulated bridge chip: the board RTL
 * under Verilator, the ref model, or a loopback (for measuring the USB path alone). Internal. */
#ifndef TERN_VBOARD_ENGINE_H
#define TERN_VBOARD_ENGINE_H

#include <stddef.h>
#include <stdint.h>

struct vboard_engine_ops {
    /* Move bytes and advance the engine by a bounded amount of work (a few ms of wall time at
     * most): take host -> FPGA bytes from in[0..in_len) (*in_used of them), append FPGA -> host
     * bytes to out[0..out_cap) (*out_len of them). *quiet = 1 when the engine has nothing left
     * to do until more input comes. 0 or a negative TERN_E_* code (message in err). */
    int (*step)(void *ctx, const uint8_t *in, size_t in_len, size_t *in_used, uint8_t *out,
                size_t out_cap, size_t *out_len, int *quiet, char *err, size_t errlen);
    /* UART: the host changed the chip's baud rate (may be NULL). */
    void (*set_baud)(void *ctx, uint32_t baud);
    /* Power cycle: back to reset, as when a board is unplugged and plugged in (may be NULL). */
    void (*reset)(void *ctx);
    void (*destroy)(void *ctx);
};

struct vboard_engine {
    const struct vboard_engine_ops *ops;
    void *ctx;
    const char *name; /* "rtl", "ref" or "loopback" */
    int link;         /* TERN_LINK_UART or TERN_LINK_FIFO245: which bridge chip mode it expects */
    uint32_t baud;    /* UART: the FPGA's rate in bit/s */
};

/* Engines. config: a configuration name (tiny, default, large). */
int vboard_engine_loopback(int link, uint32_t baud, struct vboard_engine *out, char *err, size_t errlen);
int vboard_engine_ref(const char *config, struct vboard_engine *out, char *err, size_t errlen);
int vboard_engine_rtl(const char *config, const char *trace_path, struct vboard_engine *out,
                      char *err, size_t errlen);

#endif /* TERN_VBOARD_ENGINE_H */
