// study_pe_mac8.sv — co-design study: one int8 x int8 product, the multiply of a conventional MAC PE.
// Not part of the accelerator (study/ compares it against tern_pe.sv; docs/codesign-study.md).
`default_nettype none
module study_pe_mac8 (
    input  wire         [7:0]  act_i,      // int8 activation
    input  wire         [7:0]  wgt_i,      // int8 weight
    output wire signed  [15:0] prod_o      // act x wgt, 16-bit two's complement in [-16256, 16384]
);
    assign prod_o = $signed(act_i) * $signed(wgt_i);
endmodule
`default_nettype wire
