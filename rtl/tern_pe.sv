// tern_pe.sv — one add-only ternary term: code 01 gives +act, 11 gives -act, 00 and 10 give 0 (10 is flagged).
//
// The negation is split for the adder tree of tern_lane: ones_o is the term with -act as its ones'
// complement ~act, and neg_o the + 1 still owed, which the lane feeds into a carry input of its
// tree for free. term_o = ones_o + neg_o is the whole term.
`default_nettype none
module tern_pe (
    input  wire  [7:0] act_i,      // int8 activation
    input  wire  [1:0] code_i,     // bit 0: non-zero, bit 1: negative; 10 is illegal
    output wire  [8:0] term_o,     // the term, 9-bit two's complement in [-128, 128]
    output wire  [8:0] ones_o,     // the term with -act as ~act (= -act - 1)
    output wire        neg_o,      // code 11: term_o = ones_o + 1
    output wire        illegal_o   // code_i is the illegal code 10
);
    // Conditional negation without a multiplier: (a ^ s) + s with s = all ones negates a.
    wire       neg_w = code_i[1] & code_i[0];
    wire [8:0] act_w = code_i[0] ? {act_i[7], act_i} : 9'd0;
    assign ones_o    = act_w ^ {9{neg_w}};
    assign neg_o     = neg_w;
    assign term_o    = ones_o + {8'd0, neg_w};
    assign illegal_o = code_i[1] & ~code_i[0];
endmodule
`default_nettype wire
