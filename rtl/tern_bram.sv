// tern_bram.sv — a block RAM as synthesis tools infer it: one synchronous read port, one write port.
//
// A word of DATA_W bits is SEGS segments of SEG_W bits, each its own RAM bank with its own
// write enable (byte lanes for WMEM and AMEM; one bank for whole-word memories).
`default_nettype none
module tern_bram #(
    parameter int DEPTH  = 256,                  // words
    parameter int DATA_W = 8,                    // bits a word
    parameter int SEG_W  = DATA_W,               // write-enable granularity, dividing DATA_W
    localparam int ADDR_W = (DEPTH > 1) ? $clog2(DEPTH) : 1,
    localparam int SEGS   = DATA_W / SEG_W
) (
    input  wire              clk_i,
    input  wire              re_i,                // read enable: rdata_o holds its value otherwise
    input  wire [ADDR_W-1:0] raddr_i,
    output wire [DATA_W-1:0] rdata_o,             // mem[raddr_i], one cycle after re_i
    input  wire [SEGS-1:0]   we_i,                // one enable per SEG_W-bit segment
    input  wire [ADDR_W-1:0] waddr_i,
    input  wire [DATA_W-1:0] wdata_i
);
    // One read register for the whole word (each bank fills its slice): simulators copy a wide
    // word once instead of concatenating hundreds of bank outputs.
    logic [DATA_W-1:0] rdata_q;

    genvar s;
    for (s = 0; s < SEGS; s = s + 1) begin : g_seg
        localparam int LO = s * SEG_W;
        // This design never reads and writes one address in the same cycle: no bypass logic.
        (* no_rw_check *)
        logic [SEG_W-1:0] mem_q [DEPTH];

        always_ff @(posedge clk_i) begin
            if (re_i)
                rdata_q[LO +: SEG_W] <= mem_q[raddr_i];
            if (we_i[s])
                mem_q[waddr_i] <= wdata_i[LO +: SEG_W];
        end
    end

    assign rdata_o = rdata_q;
endmodule
`default_nettype wire
