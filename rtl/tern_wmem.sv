// tern_wmem.sv — the weight memory: a tern_bram, or on the iCE40 UltraPlus its single-port SPRAMs.
//
// Same ports and behaviour as tern_bram (one synchronous read port with enable, data holding
// otherwise; one write port with SEG_W-bit segment enables). The portable branch is a tern_bram.
// With `TERN_ICE40_SPRAM defined (the iCE40 FPGA flow passes it to yosys; Verilator and the other
// FPGA flows never do) the words go into SB_SPRAM256KA blocks (16K x 16 bits each, nibble write
// masks) side by side, which yosys does not infer: an UltraPlus keeps its 30 EBRs for the rest.
//
// An SPRAM has one address: this memory must never be read and written in the same cycle (the
// write wins). tern_top never does: WMEM is written only in COMMIT, read only in RUN and TX.
// An SPRAM's output is undefined after a write cycle, so the last read word is kept in a register
// for as long as the output is not valid: rdata_o holds across writes exactly like tern_bram's.
`default_nettype none
module tern_wmem #(
    parameter int DEPTH  = 1024,                 // words
    parameter int DATA_W = 64,                   // bits a word
    parameter int SEG_W  = 8,                    // write-enable granularity, dividing DATA_W
    localparam int ADDR_W = (DEPTH > 1) ? $clog2(DEPTH) : 1,
    localparam int SEGS   = DATA_W / SEG_W
) (
    input  wire              clk_i,
    input  wire              re_i,               // read enable: rdata_o holds its value otherwise
    input  wire [ADDR_W-1:0] raddr_i,
    output wire [DATA_W-1:0] rdata_o,            // mem[raddr_i], one cycle after re_i
    input  wire [SEGS-1:0]   we_i,               // one enable per SEG_W-bit segment
    input  wire [ADDR_W-1:0] waddr_i,
    input  wire [DATA_W-1:0] wdata_i
);
`ifndef TERN_ICE40_SPRAM
    tern_bram #(.DEPTH(DEPTH), .DATA_W(DATA_W), .SEG_W(SEG_W)) u_bram (
        .clk_i, .re_i, .raddr_i, .rdata_o, .we_i, .waddr_i, .wdata_i
    );
`else
    localparam int BLOCKS = DATA_W / 16;         // SPRAMs side by side
    localparam int NIBS   = SEG_W / 4;           // nibble enables per segment

    if (DEPTH > 16384 || DATA_W % 16 != 0 || SEG_W % 4 != 0 || 16 % SEG_W != 0) begin : g_bad_shape
        // Elaboration fails here: the SPRAM branch takes up to 16K words of whole 16-bit blocks
        // written in segments of 4, 8 or 16 bits.
        tern_config_error_wmem_shape_not_spram u_error ();
    end

    // nibble write enables, one per 4 data bits
    logic [DATA_W/4-1:0] nib_we_w;
    always_comb begin
        for (int n = 0; n < DATA_W / 4; n = n + 1)
            nib_we_w[n] = we_i[n / NIBS];
    end

    wire             wr_w   = |we_i;
    wire [13:0]      addr_w = 14'(wr_w ? waddr_i : raddr_i);
    wire [DATA_W-1:0] dout_w;

    genvar b;
    for (b = 0; b < BLOCKS; b = b + 1) begin : g_spram
        SB_SPRAM256KA u_spram (
            .ADDRESS   (addr_w),
            .DATAIN    (wdata_i[(b << 4) +: 16]),
            .MASKWREN  (nib_we_w[(b << 2) +: 4]),
            .WREN      (wr_w),
            .CHIPSELECT(re_i | wr_w),
            .CLOCK     (clk_i),
            .STANDBY   (1'b0),
            .SLEEP     (1'b0),
            .POWEROFF  (1'b1),
            .DATAOUT   (dout_w[(b << 4) +: 16])
        );
    end

    // dout_w is the last read word until a write cycle spoils it; hold_q keeps it from then on.
    logic             valid_q = 1'b0;
    logic [DATA_W-1:0] hold_q;
    always_ff @(posedge clk_i) begin
        if (re_i && !wr_w)
            valid_q <= 1'b1;
        else if (wr_w) begin
            valid_q <= 1'b0;
            if (valid_q)
                hold_q <= dout_w;
        end
    end
    assign rdata_o = valid_q ? dout_w : hold_q;
`endif
endmodule
`default_nettype wire
