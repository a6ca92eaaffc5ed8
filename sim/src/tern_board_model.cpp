// tern_board_model.cpp — one Verilated board top (rtl/tern_board_uart.sv or rtl/tern_board_ft245.sv)
// with the bridge chip's FPGA-facing pins modelled here, cycle by cycle of the FPGA clock:
//
//   UART (8N1): the chip runs at its own baud rate, measured in FPGA cycles by exact phase
//     accumulators (a bit lasts clock_hz / baud cycles, fractions carried from bit to bit), so a
//     rate that does not match the FPGA's really shifts the bit edges. Its transmitter drives
//     uart_rx_i (idle high, start, 8 data LSB first, stop; back-to-back while it has bytes); its
//     receiver waits for a low level, checks the start bit half a bit later and samples each
//     following bit a whole bit further on. A byte whose stop bit reads 0 is still delivered
//     (an FTDI chip stores it too and flags the error in its modem status, which this model does
//     not report) and the receiver waits for the line to go high again.
//   FT245 synchronous FIFO (FT2232H datasheet, as tests/rtl/test_ft245.cpp models it): rxf_n is
//     low while the caller's input has bytes; the chip drives ADBUS from the cycle after oe_n went
//     low; a byte moves at each edge where rd_n and rxf_n are low. txe_n is low while out has
//     room; a byte moves at each edge where wr_n and txe_n are low.
//
// Compiled once per board configuration into the object library tern_board_sim_<cfg>
// (sim/CMakeLists.txt), with
//   TERN_BOARD_MODEL_HEADER, TERN_BOARD_MODEL_ROOT_HEADER  "V<top>_<cfg>.h", "V<top>_<cfg>___024root.h"
//   TERN_BOARD_MODEL_CLASS   V<top>_<cfg>            the Verilated class (<top>: tern_board_uart|ft245)
//   TERN_BOARD_MODEL_LINK    uart | ft245            which board class wraps it
//   TERN_BOARD_MODEL_MAKE    tern_board_make_<cfg>   the factory this file defines
// tern_board_sim.vlt makes the bridges' state readable (quiet, frame errors).
#include <new>

// Verilator's headers and the generated models are not -Wextra clean; our own code is.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include <verilated.h>
#if VM_TRACE_FST
#include <verilated_fst_c.h>
#endif
#include TERN_BOARD_MODEL_HEADER
#include TERN_BOARD_MODEL_ROOT_HEADER
#pragma GCC diagnostic pop

#include "tern/tern_proto.h"
#include "tern_board_model.h"
#include "tern_vl.h"

namespace {

using tern_board_detail::board;
using tern_board_detail::STARVED_CYCLES;
using tern_board_detail::xfer;

// The chip's UART, stepped once per FPGA cycle. Rates are exact rationals: a bit lasts clk/baud
// cycles, counted in units of 1/(clk x baud) s (a cycle is baud units, a bit clk units).
// Cycle m of the FPGA runs from its clock edge m to edge m+1; the FPGA registers at edge m+1 what
// its pin shows just before that edge. So the chip drives in cycle m its line level at the end of
// the cycle (a bit boundary anywhere inside the cycle is seen at edge m+1, as an asynchronous edge
// would be), and samples the FPGA's line (which changes at the edges) in the cycle that holds the
// sampling instant.
struct uart_chip {
    uint64_t clk = 1, baud = 1;
    // transmitter: chip -> FPGA
    bool tx_on = false;
    unsigned tx_bit = 0;   // 0 start, 1..8 data, 9 stop
    uint16_t tx_frame = 0; // bit i of the frame at tx_bit i
    uint64_t tx_acc = 0;   // time from the current bit's start to the end of this cycle
    // receiver: FPGA -> chip
    enum { RX_IDLE, RX_BYTE, RX_WAIT_HIGH } rx_st = RX_IDLE;
    unsigned rx_bit = 0; // next sample: 0 start, 1..8 data, 9 stop
    uint8_t rx_sh = 0;
    uint64_t rx_acc = 0;  // in half units (2 x baud a cycle): time from the start edge to this cycle
    uint64_t rx_next = 0; // the next sampling instant, same units
    uint64_t dropped = 0; // bytes that completed with no room in out

    // The level to drive on uart_rx_i in this cycle; the chip takes an input byte when it starts
    // serialising it: at the start of a cycle when idle, or right where the previous stop bit
    // ends (back to back at the chip's own rate, no gap).
    int tx_level(xfer &x)
    {
        if (tx_on) {
            tx_acc += baud;
        } else {
            if (!x.in_left())
                return 1;
            take(x);
            tx_acc = baud;
        }
        while (tx_acc > clk) { // the current bit ended inside this cycle
            tx_acc -= clk;
            if (++tx_bit == 10) {
                if (!x.in_left()) {
                    tx_on = false;
                    return 1;
                }
                take(x);
            }
        }
        return (tx_frame >> tx_bit) & 1;
    }
    void take(xfer &x)
    {
        tx_frame = static_cast<uint16_t>(0x200u | static_cast<unsigned>(x.in[x.in_used++]) << 1);
        tx_on = true;
        tx_bit = 0;
    }
    // The receiver sees `line` (uart_tx_o) during this cycle.
    void rx_cycle(int line, xfer &x)
    {
        if (rx_st == RX_WAIT_HIGH) {
            if (line)
                rx_st = RX_IDLE;
            return;
        }
        if (rx_st == RX_IDLE) {
            if (line)
                return;
            rx_st = RX_BYTE; // the start bit's edge is this cycle's clock edge
            rx_bit = 0;
            rx_acc = 0;
            rx_next = clk; // half a bit on: the middle of the start bit
        }
        while (rx_st == RX_BYTE && rx_next < rx_acc + 2 * baud) { // an instant inside this cycle
            rx_next += 2 * clk;
            sample(line, x);
        }
        rx_acc += 2 * baud;
    }
    void sample(int line, xfer &x)
    {
        if (rx_bit == 0) {
            if (line)
                rx_st = RX_IDLE; // a glitch, not a start bit
            else
                rx_bit = 1;
        } else if (rx_bit <= 8) {
            rx_sh = static_cast<uint8_t>(rx_sh >> 1 | (line ? 0x80 : 0));
            rx_bit++;
        } else {
            if (x.out_room())
                x.out[x.out_len++] = rx_sh;
            else
                dropped++;
            rx_st = line ? RX_IDLE : RX_WAIT_HIGH;
        }
    }
    bool idle() const { return !tx_on && rx_st == RX_IDLE; }
};

// What every board model shares: the Verilated top M, its trace, the rising edge.
template <class M> class board_vl : public board {
  public:
    bool open_trace(const char *path) override { return h_.open_trace(path); }
    void close_trace() override { h_.dump(ticks); }

  protected:
    board_vl(uint32_t seed, bool trace) : h_(seed, trace, "tern_board") {}
    // The rising edge after this cycle's inputs were driven and settled (clk_i low).
    void edge()
    {
        if (tracing)
            h_.dump(ticks);
        ticks++;
        h_.top()->clk_i = 1;
        h_.top()->eval();
        if (tracing)
            h_.dump(ticks);
        ticks++;
    }

    tern_vl::holder<M> h_;
};

// rtl/tern_board_uart.sv behind the chip's UART.
template <class M> class uart_board final : public board_vl<M> {
  public:
    uart_board(uint32_t seed, bool trace, uint32_t clk_hz, uint32_t baud)
        : board_vl<M>(seed, trace), default_baud_(baud)
    {
        chip_.clk = clk_hz;
        chip_.baud = baud;
    }
    int link() const override { return TERN_LINK_UART; }
    void set_baud(uint32_t baud) override { chip_.baud = baud ? baud : default_baud_; }
    void reset(int n) override
    {
        M *t = h_.top();
        for (int i = 0; i < n; i++) {
            t->clk_i = 0;
            t->rst_ni = 0;
            t->uart_rx_i = 1;
            t->eval();
            edge();
        }
    }
    uint64_t run(xfer &x, uint64_t max) override
    {
        M *t = h_.top();
        uint64_t n = 0;
        unsigned starved = 0;
        while (n < max && !(!x.in_left() && quiet()) && starved < STARVED_CYCLES) {
            t->clk_i = 0;
            t->rst_ni = 1;
            t->uart_rx_i = chip_.tx_level(x);
            t->eval();
            const int line = t->uart_tx_o;
            edge();
            n++;
            this->cycles++;
            chip_.rx_cycle(line, x);
            this->frame_errors += t->rootp->tern_board_uart__DOT__u_uart__DOT__ferr_q;
            if (x.out_filled())
                break;
            const auto *r = t->rootp;
            starved = !x.in_left() && bridge_idle() && r->tern_board_uart__DOT__in_ready &&
                              !r->tern_board_uart__DOT__out_valid
                          ? starved + 1
                          : 0;
        }
        return n;
    }
    bool quiet() const override { return bridge_idle() && (h_.top()->led_o & 8) != 0; } // led_o[3]: idle_o
    // Nothing on the wires either way: the chip and the FPGA's UART are idle.
    bool bridge_idle() const
    {
        const auto *r = h_.top()->rootp;
        return chip_.idle() && r->tern_board_uart__DOT__u_uart__DOT__rst_q == 0 && // receiver idle
               !r->tern_board_uart__DOT__u_uart__DOT__rvalid_q &&                 // no byte waiting
               !r->tern_board_uart__DOT__u_uart__DOT__tbusy_q;                    // transmitter idle
    }
    uint64_t dropped() const override { return chip_.dropped; }

  private:
    using board_vl<M>::h_;
    using board_vl<M>::edge;
    uart_chip chip_;
    uint32_t default_baud_;
};

// rtl/tern_board_ft245.sv behind the chip's synchronous 245 FIFO.
template <class M> class ft245_board final : public board_vl<M> {
  public:
    ft245_board(uint32_t seed, bool trace) : board_vl<M>(seed, trace), bus_rng_(seed) {}
    int link() const override { return TERN_LINK_FIFO245; }
    void set_baud(uint32_t) override {}
    void reset(int n) override
    {
        M *t = h_.top();
        for (int i = 0; i < n; i++) {
            t->clk_i = 0;
            t->rst_ni = 0;
            t->ft_rxf_ni = 1;
            t->ft_txe_ni = 1;
            t->ft_data_i = floating();
            t->eval();
            edge();
        }
        oe_was_low_ = false;
    }
    uint64_t run(xfer &x, uint64_t max) override
    {
        M *t = h_.top();
        uint64_t n = 0;
        unsigned starved = 0;
        while (n < max && !(!x.in_left() && quiet()) && starved < STARVED_CYCLES) {
            const bool rxf = x.in_left(), txe = x.out_room();
            const bool oe_low = !t->ft_oe_no; // pin outputs are registers: this cycle's values
            t->clk_i = 0;
            t->rst_ni = 1;
            t->ft_rxf_ni = !rxf;
            t->ft_txe_ni = !txe;
            // the chip drives ADBUS from the cycle after oe_n went low
            t->ft_data_i = (oe_low && oe_was_low_ && rxf) ? x.in[x.in_used] : floating();
            t->eval();
            const bool rd = rxf && !t->ft_rd_no;
            const bool wr = txe && !t->ft_wr_no;
            const uint8_t d = t->ft_data_o;
            edge();
            n++;
            this->cycles++;
            oe_was_low_ = oe_low;
            if (rd)
                x.in_used++;
            if (wr) {
                x.out[x.out_len++] = d;
                if (x.out_filled())
                    break;
            }
            const auto *r = t->rootp;
            starved = !x.in_left() && bridge_idle() && r->tern_board_ft245__DOT__in_ready &&
                              !r->tern_board_ft245__DOT__out_valid
                          ? starved + 1
                          : 0;
        }
        return n;
    }
    bool quiet() const override { return bridge_idle() && (h_.top()->led_o & 8) != 0; } // led_o[3]: idle_o
    // Nothing held in the bridge's FIFOs either way.
    bool bridge_idle() const
    {
        const auto *r = h_.top()->rootp;
        return r->tern_board_ft245__DOT__u_ft245__DOT__rx_cnt_q == 0 &&
               r->tern_board_ft245__DOT__u_ft245__DOT__tx_cnt_q == 0;
    }
  private:
    // ADBUS when the chip does not drive it: whatever it floats to (a splitmix64 sequence).
    uint8_t floating()
    {
        uint64_t z = (bus_rng_ += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return static_cast<uint8_t>(z ^ (z >> 31));
    }

    using board_vl<M>::h_;
    using board_vl<M>::edge;
    uint64_t bus_rng_;
    bool oe_was_low_ = false;
};

template <class M> board *make_uart(uint32_t seed, bool trace, uint32_t clk, uint32_t baud)
{
    return new (std::nothrow) uart_board<M>(seed, trace, clk, baud);
}
template <class M> board *make_ft245(uint32_t seed, bool trace, uint32_t, uint32_t)
{
    return new (std::nothrow) ft245_board<M>(seed, trace);
}

} // namespace

#define TERN_BOARD_CAT(a, b) a##b
#define TERN_BOARD_MAKER(link) TERN_BOARD_CAT(make_, link)

board *TERN_BOARD_MODEL_MAKE(uint32_t seed, bool trace, uint32_t clk_hz, uint32_t baud);
board *TERN_BOARD_MODEL_MAKE(uint32_t seed, bool trace, uint32_t clk_hz, uint32_t baud)
{
    return TERN_BOARD_MAKER(TERN_BOARD_MODEL_LINK)<TERN_BOARD_MODEL_CLASS>(seed, trace, clk_hz, baud);
}
