// tern_led_stretch.sv — makes one-cycle events visible on LEDs: each event input holds its
// output high for 2^HOLD_W clock cycles after its last pulse (used by the board tops).
`default_nettype none
module tern_led_stretch #(
    parameter int N      = 1,   // events
    parameter int HOLD_W = 20   // hold time: 2^HOLD_W cycles
) (
    input  wire         clk_i,
    input  wire         rst_ni,   // synchronous, active low
    input  wire [N-1:0] event_i,
    output wire [N-1:0] hold_o
);
    for (genvar i = 0; i < N; i++) begin : g_led
        logic [HOLD_W-1:0] hold_q;
        always_ff @(posedge clk_i) begin
            if (!rst_ni) begin
                hold_q <= '0;
            end else if (event_i[i]) begin
                hold_q <= '1;
            end else if (hold_q != '0) begin
                hold_q <= hold_q - 1'b1;
            end
        end
        assign hold_o[i] = hold_q != '0;
    end
endmodule
`default_nettype wire
