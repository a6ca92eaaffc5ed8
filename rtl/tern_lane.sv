// tern_lane.sv — one output row per cycle: WIDTH ternary terms, column masking and a narrow adder tree.
//
// The tree adds the PEs' ones'-complement terms and takes the + 1 of each negated term in the
// carry input of one of its adders: a tree of WIDTH leaves has WIDTH - 1 adders, so the node
// whose right subtree starts at leaf m (m = 1 .. WIDTH-1) takes leaf m's + 1, and leaf 0 brings
// its whole term. No PE needs an incrementer of its own (on an iCE40 that halves the lane).
`default_nettype none
module tern_lane #(
    parameter int WIDTH = 8,                      // terms per cycle, a power of two >= 1
    localparam int LOG2W  = $clog2(WIDTH),
    localparam int SUM_W  = 9 + LOG2W,            // a sum of WIDTH terms in [-128, 128]
    localparam int ACT_W  = WIDTH << 3,
    localparam int CODE_W = WIDTH << 1
) (
    input  wire  [ACT_W-1:0]   act_i,             // WIDTH int8 activations, element e at bits 8e..
    input  wire  [CODE_W-1:0]  code_i,            // WIDTH ternary codes, element e at bits 2e..
    input  wire  [WIDTH-1:0]   col_valid_i,       // element e is a real column (< K)
    output wire  [SUM_W-1:0]   sum_o,             // two's-complement sum of the valid terms
    output wire                illegal_o          // a valid column holds the illegal code 10
);
    wire [WIDTH-1:0] bad_w;

    genvar e, lv, i;
    for (e = 0; e < WIDTH; e = e + 1) begin : g_pe
        localparam int C_LO = e << 1;
        localparam int A_LO = e << 3;
        wire [1:0] code_w = col_valid_i[e] ? code_i[C_LO +: 2] : 2'b00;   // masked columns add nothing
        wire [8:0] term, ones;
        wire       neg;
        tern_pe u_pe (
            .act_i    (act_i[A_LO +: 8]),
            .code_i   (code_w),
            .term_o   (term),
            .ones_o   (ones),
            .neg_o    (neg),
            .illegal_o(bad_w[e])
        );
        // leaf 0 brings its whole term, the others their ones' complement (+ 1 in the tree)
        wire [8:0] leaf;
        if (e == 0) begin : g_whole
            assign leaf = term;
            wire unused = &{1'b0, ones, neg};
        end else begin : g_ones
            assign leaf = ones;
            wire unused = &{1'b0, term};
        end
    end

    // Adder tree: level lv has WIDTH >> lv nodes of 9 + lv bits, each the sum of two children and
    // of the + 1 owed by leaf i 2^lv + 2^(lv-1), the first leaf of its right child.
    for (lv = 1; lv <= LOG2W; lv = lv + 1) begin : g_lvl
        localparam int SW = 9 + lv;
        for (i = 0; i < (WIDTH >> lv); i = i + 1) begin : g_node
            localparam int L_CHILD = i << 1;         // children 2i and 2i + 1 of the level below
            localparam int R_CHILD = L_CHILD + 1;
            localparam int CI_LEAF = (i << lv) + (1 << (lv - 1));
            wire signed [SW-2:0] a, b;
            wire signed [SW-1:0] s;
            if (lv == 1) begin : g_leaf
                assign a = g_pe[L_CHILD].leaf;
                assign b = g_pe[R_CHILD].leaf;
            end else begin : g_inner
                assign a = g_lvl[lv-1].g_node[L_CHILD].s;
                assign b = g_lvl[lv-1].g_node[R_CHILD].s;
            end
            assign s = a + b + $signed({{(SW-1){1'b0}}, g_pe[CI_LEAF].neg});
        end
    end

    if (LOG2W == 0) begin : g_one
        assign sum_o = g_pe[0].leaf;
    end else begin : g_root
        assign sum_o = g_lvl[LOG2W].g_node[0].s;
    end
    assign illegal_o = |bad_w;
endmodule
`default_nettype wire
