// study_lane_mac.sv — co-design study: a multiplier lane, WIDTH int8 x int(WGT_W) products summed by the
// same adder tree as tern_lane.sv (one bit wider per level). WGT_W = 8 uses study_pe_mac8, 2 study_pe_mac2.
// Not part of the accelerator (study/, docs/codesign-study.md).
`default_nettype none
module study_lane_mac #(
    parameter int WIDTH = 8,                      // products per cycle, a power of two >= 1
    parameter int WGT_W = 8,                      // weight bits: 8 or 2
    localparam int LOG2W  = $clog2(WIDTH),
    localparam int PROD_W = 8 + WGT_W,            // signed product width
    localparam int SUM_W  = PROD_W + LOG2W,
    localparam int ACT_W  = WIDTH << 3,
    localparam int WGTS_W = WIDTH * WGT_W
) (
    input  wire  [ACT_W-1:0]   act_i,             // WIDTH int8 activations, element e at bits 8e..
    input  wire  [WGTS_W-1:0]  wgt_i,             // WIDTH weights, element e at bits WGT_W e..
    output wire  [SUM_W-1:0]   sum_o              // two's-complement sum of the WIDTH products
);
    genvar e, lv, i;
    for (e = 0; e < WIDTH; e = e + 1) begin : g_pe
        localparam int W_LO = e * WGT_W;
        localparam int A_LO = e << 3;
        wire signed [PROD_W-1:0] prod;
        if (WGT_W == 8) begin : g_mac8
            study_pe_mac8 u_pe (
                .act_i (act_i[A_LO +: 8]),
                .wgt_i (wgt_i[W_LO +: 8]),
                .prod_o(prod)
            );
        end else begin : g_mac2
            study_pe_mac2 u_pe (
                .act_i (act_i[A_LO +: 8]),
                .wgt_i (wgt_i[W_LO +: 2]),
                .prod_o(prod)
            );
        end
    end

    // Adder tree, as in tern_lane.sv: level lv has WIDTH >> lv nodes of PROD_W + lv bits.
    for (lv = 1; lv <= LOG2W; lv = lv + 1) begin : g_lvl
        localparam int SW = PROD_W + lv;
        for (i = 0; i < (WIDTH >> lv); i = i + 1) begin : g_node
            localparam int L_CHILD = i << 1;
            localparam int R_CHILD = L_CHILD + 1;
            wire signed [SW-2:0] a, b;
            wire signed [SW-1:0] s;
            if (lv == 1) begin : g_leaf
                assign a = g_pe[L_CHILD].prod;
                assign b = g_pe[R_CHILD].prod;
            end else begin : g_inner
                assign a = g_lvl[lv-1].g_node[L_CHILD].s;
                assign b = g_lvl[lv-1].g_node[R_CHILD].s;
            end
            assign s = a + b;
        end
    end

    if (LOG2W == 0) begin : g_one
        assign sum_o = g_pe[0].prod;
    end else begin : g_root
        assign sum_o = g_lvl[LOG2W].g_node[0].s;
    end
endmodule
`default_nettype wire
