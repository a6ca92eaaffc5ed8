// tern_board_model.h — internal to sim/: one board model (rtl/tern_board_<link>.sv under Verilator
// with the bridge chip's pins modelled) behind a class that does not depend on the configuration.
// tern_board_sim.cpp drives a board through `board` only; tern_board_model.cpp, compiled once per
// Verilated board (object library tern_board_sim_<cfg>), defines the UART and FT245 boards and
// exports the factory tern_board_make_<cfg>. So adding or changing one configuration's board model
// recompiles that model's objects and nothing else.
#ifndef TERN_BOARD_MODEL_H
#define TERN_BOARD_MODEL_H

#include <cstddef>
#include <cstdint>

namespace tern_board_detail {

// The caller's buffers of one tern_board_sim_run.
struct xfer {
    const uint8_t *in;
    size_t in_len, in_used;
    uint8_t *out;
    size_t out_cap, out_len;

    bool in_left() const { return in_used < in_len; }
    bool out_room() const { return out_len < out_cap; }
    bool out_filled() const { return out_cap && out_len == out_cap; } // run returns
};

// A run also ends once every byte given is taken and the accelerator has waited this many cycles
// for the next one mid-frame with nothing else in flight: the rest of a frame comes with the next
// USB transfer, and clocking an FPGA that can only count stall cycles until then buys nothing.
constexpr unsigned STARVED_CYCLES = 64;

// One board, whatever its configuration and link (its Verilated class differs).
class board {
  public:
    virtual ~board() = default;
    virtual int link() const = 0;
    virtual void set_baud(uint32_t baud) = 0;
    // Hold reset for n cycles with the chip's pins idle.
    virtual void reset(int n) = 0;
    // Clock up to max cycles; stops once x's input is taken and the board is quiet (or starved for
    // STARVED_CYCLES mid-frame), or out filled.
    virtual uint64_t run(xfer &x, uint64_t max) = 0;
    virtual bool quiet() const = 0;
    virtual uint64_t dropped() const { return 0; } // UART bytes lost to a full out
    virtual bool open_trace(const char *path) = 0;
    virtual void close_trace() = 0; // the last edge's values

    uint64_t cycles = 0;       // since reset was released
    uint64_t ticks = 0;        // half cycles since creation (trace time)
    uint64_t frame_errors = 0; // frame_err_o pulses of the FPGA's UART
    bool tracing = false;
};

// A new board of one configuration (nullptr when out of memory; may throw std::bad_alloc): seed and
// trace as in tern_vl::holder, clk_hz the FPGA clock, baud the chip's UART rate (ignored by FIFO
// boards).
typedef board *(*board_factory)(uint32_t seed, bool trace, uint32_t clk_hz, uint32_t baud);

} // namespace tern_board_detail

#endif // TERN_BOARD_MODEL_H
