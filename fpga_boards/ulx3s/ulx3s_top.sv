// ulx3s_top.sv — the Radiona ULX3S 85F: the accelerator (configs/ulx3s.cfg) behind the UART the
// board's FT231X wires to the FPGA, on the 25 MHz oscillator. BTN0 (PWR, active low) resets the
// accelerator; LED0..3 show link errors, rx and tx activity, idle; LED4..7 stay off.
`default_nettype none
module ulx3s_top (
    input  wire       clk_25mhz_i,  // G2
    input  wire       btn0_ni,      // D6, PWR button, active low
    input  wire       ftdi_txd_i,   // M1: the FT231X sends, the FPGA receives
    output wire       ftdi_rxd_o,   // L4: the FPGA sends
    output wire [7:0] led_o,        // B2 C2 C1 D2 D1 E2 E1 H3
    output wire       wifi_gpio0_o  // L2: held high so the ESP32 does not reset the board
);
    wire       rst_n;
    wire [3:0] board_led;

    tern_reset_gen u_reset (.clk_i(clk_25mhz_i), .button_ni(btn0_ni), .rst_no(rst_n));

    tern_board_uart u_board (
        .clk_i(clk_25mhz_i), .rst_ni(rst_n),
        .uart_rx_i(ftdi_txd_i), .uart_tx_o(ftdi_rxd_o),
        .led_o(board_led)
    );

    assign led_o        = {4'b0000, board_led};
    assign wifi_gpio0_o = 1'b1;
endmodule
`default_nettype wire
