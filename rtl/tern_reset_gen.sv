// tern_reset_gen.sv — the board tops' reset: held for 2^HOLD_W clock cycles after configuration
// (FPGA registers start at their init value 0 on iCE40, ECP5 and 7-series) and while the board's
// reset button is pressed; the button goes through a 2-flop synchroniser, so rst_no is synchronous
// to clk_i (active low, as rst_ni of the rest of rtl/).
`default_nettype none
module tern_reset_gen #(
    parameter int HOLD_W = 8   // 2^HOLD_W cycles of reset after configuration or a button press
) (
    input  wire clk_i,
    input  wire button_ni,     // the board's reset button, active low, asynchronous
    output wire rst_no
);
    logic              sync1_q = 1'b0, sync2_q = 1'b0;
    logic [HOLD_W:0]   count_q = '0;  // the top bit set: reset released

    always_ff @(posedge clk_i) begin
        sync1_q <= button_ni;
        sync2_q <= sync1_q;
        if (!sync2_q)
            count_q <= '0;
        else if (!count_q[HOLD_W])
            count_q <= count_q + 1'b1;
    end

    assign rst_no = count_q[HOLD_W];
endmodule
`default_nettype wire
