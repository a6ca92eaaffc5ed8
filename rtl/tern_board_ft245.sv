// tern_board_ft245.sv — the accelerator behind the FT2232H / FT232H synchronous 245 FIFO: what a
// FIFO board puts between the chip's pins and tern_top. The whole design runs on the chip's
// 60 MHz CLKOUT (clk_i), whatever clock_hz the configuration names: the ID block still reports the
// configuration's clock_hz (the figure the runtime's cycle model uses), the board's real clock is
// FT_CLK_HZ (sim: tern_board_sim_clock_hz).
//
// ADBUS is split into ft_data_i (from the chip) and ft_data_o + ft_data_oe_o (to the chip): each
// board's own top (fpga_boards/) builds the FPGA's tristate buffer from them. Every pin output is
// a register of tern_ft245 (see there for the read/write sequencing and the arbitration).
// Elaboration fails (a module named tern_config_error_* does not exist) when the configuration's
// link is not fifo245.
//
// LEDs (active high; a board whose LEDs are active low inverts them in its own top):
//   led_o[0]  heartbeat: toggles every 2^(log2(FT_CLK_HZ) - 1) cycles (about 0.5 s at 60 MHz);
//             CLKOUT only runs once the chip is in synchronous FIFO mode, so a blinking LED says
//             the chip's EEPROM/mode setting is right
//   led_o[1]  rx activity: a byte from the host entered the accelerator, held ~1/8 s
//   led_o[2]  tx activity: a byte for the host left the accelerator, held ~1/8 s
//   led_o[3]  idle: the accelerator's receiver is in HUNT and no response is pending (idle_o)
`ifndef TERN_CFG_LANES
`include "tern_cfg.vh"
`endif
`default_nettype none
module tern_board_ft245 #(
    parameter int FT_CLK_HZ = 60000000,              // clk_i: the chip's CLKOUT
    parameter int LINK_KIND = `TERN_CFG_LINK_KIND,   // must be 2 (fifo245)
    parameter int BURST     = 32                     // tern_ft245: bytes a burst may move (1..255)
) (
    input  wire       clk_i,        // FT CLKOUT
    input  wire       rst_ni,       // synchronous, active low
    input  wire [7:0] ft_data_i,    // ADBUS from the chip
    output wire [7:0] ft_data_o,    // ADBUS to the chip
    output wire       ft_data_oe_o, // drive ADBUS
    input  wire       ft_rxf_ni,    // chip has data for us
    input  wire       ft_txe_ni,    // chip can take data
    output wire       ft_rd_no,
    output wire       ft_wr_no,
    output wire       ft_oe_no,
    output wire       ft_siwu_no,   // send immediate / wake up: unused, high
    output wire [3:0] led_o         // {idle, tx, rx, heartbeat}, active high
);
    localparam int STRETCH_W = $clog2(FT_CLK_HZ) - 3;   // 2^STRETCH_W cycles: 1/8 to 1/4 s
    localparam int BEAT_W    = $clog2(FT_CLK_HZ);       // the top bit toggles every 2^(BEAT_W-1)

    if (LINK_KIND != 2) begin : g_bad_link
        // Elaboration fails here: this configuration's link is not fifo245.
        tern_config_error_board_ft245_needs_link_fifo245 u_error ();
    end

    wire       in_valid, in_ready, out_valid, out_ready, idle;
    wire [7:0] in_data, out_data;

    tern_ft245 #(.BURST(BURST)) u_ft245 (
        .clk_i, .rst_ni,
        .data_i(ft_data_i), .data_o(ft_data_o), .data_oe_o(ft_data_oe_o),
        .rxf_ni(ft_rxf_ni), .txe_ni(ft_txe_ni),
        .rd_no(ft_rd_no), .wr_no(ft_wr_no), .oe_no(ft_oe_no), .siwu_no(ft_siwu_no),
        .rx_data_o(in_data), .rx_valid_o(in_valid), .rx_ready_i(in_ready),
        .tx_data_i(out_data), .tx_valid_i(out_valid), .tx_ready_o(out_ready)
    );

    tern_top u_top (
        .clk_i, .rst_ni,
        .in_valid_i(in_valid), .in_data_i(in_data), .in_ready_o(in_ready),
        .out_valid_o(out_valid), .out_data_o(out_data), .out_ready_i(out_ready),
        .idle_o(idle)
    );

    // LEDs: the heartbeat counter, and each activity holding its LED on for 2^STRETCH_W cycles.
    logic [BEAT_W-1:0] beat_q;
    always_ff @(posedge clk_i) begin
        if (!rst_ni) beat_q <= '0;
        else         beat_q <= beat_q + 1'b1;
    end

    wire [1:0] led_event = {out_valid & out_ready, in_valid & in_ready};
    wire [1:0] led_hold;
    tern_led_stretch #(.N(2), .HOLD_W(STRETCH_W)) u_led (
        .clk_i, .rst_ni, .event_i(led_event), .hold_o(led_hold)
    );

    assign led_o = {idle, led_hold, beat_q[BEAT_W-1]};
endmodule
`default_nettype wire
