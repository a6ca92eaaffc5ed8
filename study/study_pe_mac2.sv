// study_pe_mac2.sv — co-design study: one int8 x int2 product built from a multiplier, the way a MAC
// datapath with a 2-bit weight port computes it (both operands sign-extended to the product width).
// Not part of the accelerator (study/ compares it against tern_pe.sv; docs/codesign-study.md).
`default_nettype none
module study_pe_mac2 (
    input  wire         [7:0]  act_i,      // int8 activation
    input  wire         [1:0]  wgt_i,      // int2 weight in {-2, -1, 0, 1}; 01/11/00 match tern_pe's codes
    output wire signed  [9:0]  prod_o      // act x wgt, 10-bit two's complement in [-254, 256]
);
    assign prod_o = $signed(act_i) * $signed(wgt_i);
endmodule
`default_nettype wire
