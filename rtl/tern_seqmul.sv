// tern_seqmul.sv — a small shift-and-add product for address-range checks: STEP bits of b_i a cycle.
`default_nettype none
module tern_seqmul #(
    parameter int A_W  = 8,              // bits of a_i
    parameter int B_W  = 8,              // bits of b_i
    parameter int STEP = 1,              // bits of b consumed a cycle: ceil(B_W / STEP) cycles in all
    localparam int P_W = A_W + B_W
) (
    input  wire           clk_i,
    input  wire           start_i,       // load a_i and b_i, clear the product
    input  wire [A_W-1:0] a_i,
    input  wire [B_W-1:0] b_i,
    output wire [P_W-1:0] p_o            // a_i * b_i, ceil(B_W / STEP) cycles after start_i
);
    logic [P_W-1:0] acc_q, a_q;
    logic [B_W-1:0] b_q;
    logic [P_W-1:0] part_w;

    // The partial product of this step: a sum of shifted copies of a, no multiplier.
    always_comb begin
        part_w = '0;
        for (int s = 0; s < STEP; s = s + 1)
            if (s < B_W && b_q[s])
                part_w = part_w + (a_q << s);
    end

    always_ff @(posedge clk_i) begin
        if (start_i) begin
            acc_q <= '0;
            a_q   <= {{B_W{1'b0}}, a_i};
            b_q   <= b_i;
        end else begin
            acc_q <= acc_q + part_w;
            a_q   <= a_q << STEP;
            b_q   <= b_q >> STEP;
        end
    end

    assign p_o = acc_q;
endmodule
`default_nettype wire
