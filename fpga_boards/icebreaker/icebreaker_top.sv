// icebreaker_top.sv — the iCEBreaker bitstream: the tiny accelerator behind the FT2232H's UART.
//
// iCE40UP5K-SG48 on the board's 12 MHz oscillator (no PLL: configs/tiny.cfg is built for 12 MHz).
// The host link is the FT2232H channel B (the board's second USB serial port) at 3 Mbaud 8N1;
// tern_board_uart (rtl/) holds the UART, tern_top and the activity LED stretchers. This file adds
// what is the board's own: the reset and the LED pins and their polarity.
//
// Reset: held for 2^RST_W cycles after configuration (iCE40 flip-flops start at 0) and while the
// user button BTN_N is pressed (through a 2-flop synchroniser), then released synchronously.
//
// LEDs (the on-board red and green ones are active low, the five of the break-off PMOD active high):
//   LEDR_N  red     a received byte was dropped (framing error: baud mismatch; or overrun), held
//   LEDG_N  green   ready: out of reset, receiver waiting for a frame (tern_top idle)
//   LED1            rx: a byte from the host, held ~1/8 s
//   LED2            tx: a byte to the host, held ~1/8 s
//   LED3            busy: a frame is being received, executed or answered
//   LED4            heartbeat: 12 MHz / 2^24, ~0.7 s a phase (the design is configured and clocked)
//   LED5            reset: in reset (after configuration, or the button held)
`default_nettype none
module icebreaker_top #(
    parameter int RST_W = 8                // reset held 2^RST_W cycles
) (
    input  wire       clk_i,               // 12 MHz oscillator
    input  wire       btn_ni,              // user button, active low: reset while pressed
    input  wire       rx_i,                // UART from the FT2232H channel B (host's TXD)
    output wire       tx_o,                // UART to the FT2232H channel B (host's RXD)
    output wire       ledr_no,             // red LED, active low
    output wire       ledg_no,             // green LED, active low
    output wire [4:0] led_o                // break-off PMOD LED1..LED5, active high
);
    // ---- reset ---------------------------------------------------------------------------------
    wire rst_n;

    tern_reset_gen #(.HOLD_W(RST_W)) u_reset (.clk_i(clk_i), .button_ni(btn_ni), .rst_no(rst_n));

    // ---- the accelerator behind its UART --------------------------------------------------------
    wire [3:0] led_w;                      // {idle, tx, rx, error}, active high

    tern_board_uart u_board (
        .clk_i    (clk_i),
        .rst_ni   (rst_n),
        .uart_rx_i(rx_i),
        .uart_tx_o(tx_o),
        .led_o    (led_w)
    );

    // ---- heartbeat -----------------------------------------------------------------------------
    logic [23:0] beat_q = '0;
    always_ff @(posedge clk_i) begin
        beat_q <= beat_q + 1'b1;
    end

    assign ledr_no = ~led_w[0];
    assign ledg_no = ~(led_w[3] & rst_n);
    assign led_o   = {~rst_n, beat_q[23], ~led_w[3] & rst_n, led_w[2], led_w[1]};
endmodule
`default_nettype wire
