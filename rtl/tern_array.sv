// tern_array.sv — LANES lanes side by side: one issue of LANES x WIDTH ternary terms, with lane masking.
`default_nettype none
module tern_array #(
    parameter int LANES = 4,                        // output rows in parallel, a power of two
    parameter int WIDTH = 8,                        // terms per lane, a power of two
    localparam int SUM_W  = 9 + $clog2(WIDTH),
    localparam int ACT_W  = WIDTH << 3,
    localparam int CODE_W = LANES * WIDTH * 2,
    localparam int OUT_W  = LANES * SUM_W
) (
    input  wire [ACT_W-1:0]         act_i,          // one AMEM word: WIDTH int8 activations
    input  wire [CODE_W-1:0]        code_i,         // one WMEM word: lane l, element e at bits 2(lW+e)..
    input  wire [LANES-1:0]         lane_valid_i,   // lane l is a real row (< N)
    input  wire [WIDTH-1:0]         col_valid_i,    // element e is a real column (< K)
    output wire [OUT_W-1:0]         sum_o,          // lane l's sum at bits l SUM_W..; 0 for masked lanes
    output wire                     illegal_o       // an illegal code among the real elements
);
    wire [LANES-1:0] bad_w;

    genvar l;
    for (l = 0; l < LANES; l = l + 1) begin : g_lane
        localparam int C_LO = 2 * WIDTH * l;
        localparam int S_LO = SUM_W * l;
        wire [SUM_W-1:0] sum_w;
        wire             ill_w;
        tern_lane #(.WIDTH(WIDTH)) u_lane (
            .act_i      (act_i),
            .code_i     (code_i[C_LO +: (WIDTH << 1)]),
            .col_valid_i(col_valid_i),
            .sum_o      (sum_w),
            .illegal_o  (ill_w)
        );
        assign sum_o[S_LO +: SUM_W] = lane_valid_i[l] ? sum_w : {SUM_W{1'b0}};
        assign bad_w[l] = lane_valid_i[l] & ill_w;
    end

    assign illegal_o = |bad_w;
endmodule
`default_nettype wire
