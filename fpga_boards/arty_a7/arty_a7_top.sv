// arty_a7_top.sv — the Digilent Arty A7-100T: the accelerator (configs/arty.cfg) behind the UART
// that the board's FT2232H channel B wires to the FPGA, on the 100 MHz oscillator. RESET button
// (ck_rst, active low) resets the accelerator; LD4..LD7 show link errors, rx and tx activity, idle.
`default_nettype none
module arty_a7_top (
    input  wire       clk100mhz_i,   // E3
    input  wire       ck_rst_ni,     // C2, the RESET button
    input  wire       uart_txd_in_i, // A9: the FT2232H sends, the FPGA receives
    output wire       uart_rxd_out_o,// D10: the FPGA sends
    output wire [3:0] led_o          // LD4..LD7
);
    wire rst_n;

    tern_reset_gen u_reset (.clk_i(clk100mhz_i), .button_ni(ck_rst_ni), .rst_no(rst_n));

    tern_board_uart u_board (
        .clk_i(clk100mhz_i), .rst_ni(rst_n),
        .uart_rx_i(uart_txd_in_i), .uart_tx_o(uart_rxd_out_o),
        .led_o(led_o)
    );
endmodule
`default_nettype wire
