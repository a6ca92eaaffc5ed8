// test_wmem_spram.sv — tern_wmem's iCE40 SPRAM branch against the portable tern_bram, cycle by cycle.
//
// Compiled with -DTERN_ICE40_SPRAM and yosys' own simulation model of SB_SPRAM256KA
// (share/ice40/cells_sim.v), the branch the iCE40 flow synthesises and Verilator never sees. Both
// memories get the same random stream of reads, byte-lane writes and idle cycles (never a read
// and a write in one cycle, as tern_wmem requires), and rdata_o must be identical in every cycle
// after the first read: same word one cycle after a read, held across idle and write cycles.
// Prints PASS or FAIL (ctest rtl.wmem_spram matches them). Run by tests/rtl/CMakeLists.txt with
// iverilog -g2012; parameters DEPTH, DATA_W, SEG_W and CYCLES can be overridden with -P.
`timescale 1ns / 1ps
`default_nettype none
module test_wmem_spram #(
    parameter int DEPTH  = 1024,                 // the tiny configuration's WMEM
    parameter int DATA_W = 64,
    parameter int SEG_W  = 8,
    parameter int CYCLES = 200000,
    parameter int SEED   = 1
);
    localparam int ADDR_W = $clog2(DEPTH);
    localparam int SEGS   = DATA_W / SEG_W;

    logic              clk = 1'b0;
    logic              re;
    logic [ADDR_W-1:0] raddr, waddr;
    logic [SEGS-1:0]   we;
    logic [DATA_W-1:0] wdata;
    wire  [DATA_W-1:0] rdata_ref, rdata_dut;

    tern_bram #(.DEPTH(DEPTH), .DATA_W(DATA_W), .SEG_W(SEG_W)) u_ref (
        .clk_i(clk), .re_i(re), .raddr_i(raddr), .rdata_o(rdata_ref),
        .we_i(we), .waddr_i(waddr), .wdata_i(wdata)
    );
    tern_wmem #(.DEPTH(DEPTH), .DATA_W(DATA_W), .SEG_W(SEG_W)) u_dut (
        .clk_i(clk), .re_i(re), .raddr_i(raddr), .rdata_o(rdata_dut),
        .we_i(we), .waddr_i(waddr), .wdata_i(wdata)
    );

    always #5 clk = ~clk;

    function automatic logic [DATA_W-1:0] rand_word();
        logic [DATA_W-1:0] w;
        for (int i = 0; i < DATA_W; i = i + 32)
            w[i +: 32] = $urandom;
        return w;
    endfunction

    int seed, errors, reads, writes, checked;
    logic armed;                                 // a read has happened: rdata_o is defined

    initial begin
        seed = SEED;
        reads = $urandom(seed);          // seeds the generator
        errors = 0; reads = 0; writes = 0; checked = 0; armed = 1'b0;
        re = 1'b0; we = '0; raddr = '0; waddr = '0; wdata = '0;
        // every word written whole first: no undefined data afterwards
        for (int a = 0; a < DEPTH; a = a + 1) begin
            @(negedge clk);
            we = '1; waddr = ADDR_W'(a); wdata = rand_word();
        end
        for (int c = 0; c < CYCLES; c = c + 1) begin
            @(negedge clk);
            re = 1'b0; we = '0;
            case ($urandom % 8)
                0, 1, 2: begin                   // read
                    re = 1'b1; raddr = ADDR_W'($urandom % DEPTH); reads = reads + 1;
                end
                3, 4: begin                      // write some byte lanes
                    we = SEGS'($urandom);
                    if (we == '0) we[$urandom % SEGS] = 1'b1;
                    waddr = ($urandom % 4 == 0) ? raddr : ADDR_W'($urandom % DEPTH);
                    wdata = rand_word(); writes = writes + 1;
                end
                5: begin                         // a burst of whole-word writes (COMMIT-like)
                    we = '1; waddr = ADDR_W'($urandom % DEPTH); wdata = rand_word(); writes = writes + 1;
                end
                default: ;                       // idle: the data holds
            endcase
        end
        @(negedge clk);
        re = 1'b0; we = '0;
        repeat (3) @(negedge clk);
        if (errors == 0 && checked > 0)
            $display("PASS: %0d cycles, %0d reads, %0d writes, %0d cycles compared %s",
                     CYCLES, reads, writes, checked,
                     $sformatf("(DEPTH %0d, DATA_W %0d, SEG_W %0d)", DEPTH, DATA_W, SEG_W));
        else
            $display("FAIL: %0d mismatches in %0d compared cycles", errors, checked);
        $finish;
    end

    // compare in the middle of each cycle, after the edge's updates
    always @(negedge clk) begin
        if (armed) begin
            checked = checked + 1;
            if (rdata_dut !== rdata_ref) begin
                errors = errors + 1;
                if (errors <= 10)
                    $display("FAIL at %0t: spram %h, bram %h", $time, rdata_dut, rdata_ref);
            end
        end
    end
    always @(posedge clk) begin
        if (re)
            armed <= 1'b1;
    end
endmodule
`default_nettype wire
