/* tern_board_sim.h — the board-level RTL (rtl/tern_board_<link>.sv: the accelerator behind its
 * UART or FT245 FIFO bridge, exactly what goes into a bitstream) cycle-accurate under Verilator,
 * seen from the bridge chip's side of the pins. The caller is the USB side of the chip (the
 * virtual board): it hands over bytes the host sent and takes bytes the FPGA sent; this library
 * models the chip's FPGA-facing pins (UART bit timing at the chip's baud rate, or the FT245
 * synchronous FIFO handshake) and clocks the design. Error codes are TERN_E_* of tern/tern.h. */
#ifndef TERN_BOARD_SIM_H
#define TERN_BOARD_SIM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tern_board_sim tern_board_sim;

struct tern_board_sim_opts {
    const char *trace_path; /* FST waveform of the whole board, or NULL */
    uint32_t seed;          /* 0: all-zero initial state; else random initial state */
    uint32_t baud;          /* UART: the chip's rate in bit/s; 0: the configuration's
                               (link_bytes_per_s * 10, 8N1) */
};

/* The configurations whose board model is built in (those of -DTERN_SIM_CONFIGS whose link has a
 * bridge), and the link each uses (TERN_LINK_UART or TERN_LINK_FIFO245 of tern/tern_proto.h):
 * fills up to cap, returns how many exist. */
int tern_board_sim_configs(const char **names, int *links, size_t cap);

/* TERN_E_NOTFOUND (message in err) for a configuration without a board model: unknown, a link
 * without bridge RTL, or not Verilated into this build (the message names -DTERN_SIM_CONFIGS);
 * TERN_E_UNSUPPORTED for a trace without waveform support (-DTERN_SIM_TRACE=OFF). */
int tern_board_sim_create(const char *config, const struct tern_board_sim_opts *opts,
                          tern_board_sim **out, char *err, size_t errlen);
void tern_board_sim_destroy(tern_board_sim *s); /* NULL is fine */

int tern_board_sim_link(const tern_board_sim *s);          /* TERN_LINK_UART or _FIFO245 */
uint32_t tern_board_sim_clock_hz(const tern_board_sim *s); /* the FPGA clock the design runs at */
/* UART: change the chip's rate (as SIO_SET_BAUD_RATE does); a rate that does not match the
 * FPGA's garbles the link, as on a real board. Ignored for the FIFO. */
void tern_board_sim_set_baud(tern_board_sim *s, uint32_t baud);

/* Clock the board for at most max_cycles FPGA cycles as the bridge chip.
 * Host -> FPGA: bytes of in[0..in_len) go out in order; *in_used says how many the chip took
 *   (it takes one when it starts serialising it, or when the FIFO read takes it: the chip's own
 *   buffer is the caller's).
 * FPGA -> host: bytes the FPGA sends are stored at out[0..), *out_len of them. The FIFO holds
 *   the FPGA off (txe_n high) while out is full; a UART byte that completes while out is full is
 *   lost, as when a real chip's buffer overflows, and counted by tern_board_sim_dropped().
 * Returns early, TERN_OK, once every byte of in is taken and the board is quiet (see below), or
 * has waited 64 cycles mid-frame for more input with nothing in flight (the rest of the frame
 * comes with a later call), or once out is full. *ran receives the cycles clocked. */
int tern_board_sim_run(tern_board_sim *s, const uint8_t *in, size_t in_len, size_t *in_used,
                       uint8_t *out, size_t out_cap, size_t *out_len, uint64_t max_cycles,
                       uint64_t *ran);
/* 1 when the accelerator is idle in HUNT with no response pending and no byte is on the wires
 * either way (nothing more will come out without more input). */
int tern_board_sim_quiet(const tern_board_sim *s);
uint64_t tern_board_sim_cycles(const tern_board_sim *s);  /* since reset was released */
uint64_t tern_board_sim_dropped(const tern_board_sim *s); /* UART bytes lost to a full buffer */
/* UART framing errors the FPGA saw (stop bit 0; a baud mismatch shows here). */
uint64_t tern_board_sim_frame_errors(const tern_board_sim *s);

#ifdef __cplusplus
}
#endif
#endif /* TERN_BOARD_SIM_H */
