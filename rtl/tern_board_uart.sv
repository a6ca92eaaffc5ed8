// tern_board_uart.sv — the accelerator behind its UART: what a UART board (e.g. the iCEBreaker,
// FT2232H channel B at 3 Mbaud) puts between its two serial pins and tern_top.
//
// The rate comes from the configuration (one source of truth): the bit rate is
// TERN_CFG_LINK_BYTES_PER_S x 10 (8N1: start, 8 data, stop) and the clock TERN_CFG_CLOCK_HZ, so
// CLKS_PER_BIT = CLOCK_HZ / BAUD rounded to the nearest integer. Elaboration fails (a module named
// tern_config_error_* does not exist) when the configuration's link is not uart, when
// CLKS_PER_BIT < 4 (tern_uart needs 4 samples a bit) or when the rounded rate is more than 2 % off
// the configuration's (the host's 8N1 receiver would then drift out of the stop bit).
//
// LEDs (active high; a board whose LEDs are active low inverts them in its own top):
//   led_o[0]  error: a received byte was dropped (stop bit 0: framing error, usually a baud
//             mismatch; or overrun: the host sent while the accelerator was busy), held ~1/8 s
//   led_o[1]  rx activity: a byte from the host entered the accelerator, held ~1/8 s
//   led_o[2]  tx activity: a byte for the host left the accelerator, held ~1/8 s
//   led_o[3]  idle: the accelerator's receiver is in HUNT and no response is pending (idle_o)
// Simulation (sim/src/tern_board_sim.cpp) counts the framing errors on u_uart's own pulse.
`ifndef TERN_CFG_LANES
`include "tern_cfg.vh"
`endif
`default_nettype none
module tern_board_uart #(
    parameter int CLOCK_HZ  = `TERN_CFG_CLOCK_HZ,         // clk_i
    parameter int LINK_KIND = `TERN_CFG_LINK_KIND,        // must be 1 (uart)
    parameter int LINK_BPS  = `TERN_CFG_LINK_BYTES_PER_S  // bytes/s: 8N1 at LINK_BPS x 10 bit/s
) (
    input  wire       clk_i,
    input  wire       rst_ni,      // synchronous, active low
    input  wire       uart_rx_i,   // from the host's TXD (asynchronous; idle high)
    output wire       uart_tx_o,   // to the host's RXD (idle high)
    output wire [3:0] led_o        // {idle, tx, rx, error}, active high
);
    localparam int BAUD      = LINK_BPS * 10;
    localparam int CPB       = (CLOCK_HZ + BAUD / 2) / BAUD;
    localparam int RATE_ERR  = (CPB * BAUD > CLOCK_HZ) ? CPB * BAUD - CLOCK_HZ : CLOCK_HZ - CPB * BAUD;
    localparam int UART_CPB  = (CPB < 4) ? 4 : CPB;       // keeps tern_uart legal: g_bad_cpb reports
    localparam int STRETCH_W = $clog2(CLOCK_HZ) - 3;     // 2^STRETCH_W cycles: 1/8 to 1/4 s

    if (LINK_KIND != 1) begin : g_bad_link
        // Elaboration fails here: this configuration's link is not uart.
        tern_config_error_board_uart_needs_link_uart u_error ();
    end
    if (CPB < 4) begin : g_bad_cpb
        // Elaboration fails here: clock_hz / (link_bytes_per_s x 10) must be at least 4.
        tern_config_error_uart_clks_per_bit_below_4 u_error ();
    end
    if (RATE_ERR > CLOCK_HZ / 50) begin : g_bad_rate
        // Elaboration fails here: clock_hz / (link_bytes_per_s x 10) is more than 2 % off an integer.
        tern_config_error_uart_rate_off_by_more_than_2_percent u_error ();
    end

    wire       in_valid, in_ready, out_valid, out_ready, idle;
    wire [7:0] in_data, out_data;
    wire       frame_err, overrun;

    tern_uart #(.CLKS_PER_BIT(UART_CPB)) u_uart (
        .clk_i, .rst_ni, .uart_rx_i, .uart_tx_o,
        .rx_data_o(in_data), .rx_valid_o(in_valid), .rx_ready_i(in_ready),
        .tx_data_i(out_data), .tx_valid_i(out_valid), .tx_ready_o(out_ready),
        .frame_err_o(frame_err), .overrun_o(overrun)
    );

    tern_top u_top (
        .clk_i, .rst_ni,
        .in_valid_i(in_valid), .in_data_i(in_data), .in_ready_o(in_ready),
        .out_valid_o(out_valid), .out_data_o(out_data), .out_ready_i(out_ready),
        .idle_o(idle)
    );

    // LEDs: each event holds its LED on for 2^STRETCH_W cycles.
    wire [2:0] led_event = {out_valid & out_ready, in_valid & in_ready, frame_err | overrun};
    wire [2:0] led_hold;
    tern_led_stretch #(.N(3), .HOLD_W(STRETCH_W)) u_led (
        .clk_i, .rst_ni, .event_i(led_event), .hold_o(led_hold)
    );

    assign led_o = {idle, led_hold};
endmodule
`default_nettype wire
