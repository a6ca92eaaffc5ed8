// test_counters.sv — tern_counters (counters in block RAM) against 64-bit counters in the testbench.
//
// Random increments (long stretches of every counter counting every cycle with counter 0 at its
// largest increment, to hit the deltas' worst case), clears, and snapshots at random phases of the
// sequencer; every snapshot is read back byte by byte no earlier than the command processor would
// (counter c's first byte 14 + 8c cycles after snap_i), with random pauses, while the counters keep
// counting, and must equal the values before the snapshot cycle's increments. The contract of
// tern_counters is kept: snapshots at least 4 NUM CHUNKS cycles apart, no clear during a snapshot
// pass. Prints PASS or FAIL (ctest rtl.counters). Run by tests/rtl/CMakeLists.txt with iverilog.
`timescale 1ns / 1ps
`default_nettype none
module test_counters #(
    parameter int NUM    = 13,                   // as tern_cmd_proc
    parameter int WIDE_W = 6,                    // tiny: OPS_W = log2(4 x 8) + 1
    parameter int SNAPS  = 300,
    parameter int SEED   = 1
);
    localparam int IDX_W  = $clog2(NUM);
    localparam int GAP    = 4 * NUM * 4 + 8;     // > 4 NUM CHUNKS cycles between snapshots
    localparam int PASS_W = NUM * 4 + 8;         // a snapshot pass and its start, in cycles

    logic              clk = 1'b0, rst_n = 1'b0;
    logic              clear = 1'b0, snap = 1'b0, rd = 1'b0;
    logic [WIDE_W-1:0] wide = '0;
    logic [NUM-1:1]    inc = '0;
    logic [IDX_W-1:0]  rd_cnt = '0;
    logic [2:0]        rd_byte = '0;
    wire  [7:0]        rd_data;

    tern_counters #(.NUM(NUM), .WIDE_W(WIDE_W)) u_dut (
        .clk_i(clk), .rst_ni(rst_n), .clear_i(clear), .wide_i(wide), .inc_i(inc), .snap_i(snap),
        .rd_i(rd), .rd_cnt_i(rd_cnt), .rd_byte_i(rd_byte), .rd_data_o(rd_data)
    );

    always #5 clk = ~clk;

    logic [63:0] model [NUM];                    // the live values
    logic [63:0] snapv [NUM];                    // the last snapshot
    int          errors, checked, cycle, last_snap, mode, seed;

    // one clock edge: apply this cycle's inputs to the model exactly as the RTL must
    task automatic step;
        @(posedge clk);
        cycle = cycle + 1;
        if (!rst_n || clear) begin
            for (int c = 0; c < NUM; c = c + 1)
                model[c] = 64'd0;
        end else begin
            if (snap)
                for (int c = 0; c < NUM; c = c + 1)
                    snapv[c] = model[c];
            model[0] = model[0] + 64'(wide);
            for (int c = 1; c < NUM; c = c + 1)
                model[c] = model[c] + 64'(inc[c]);
        end
        #1;
    endtask

    // this cycle's increments: mode 0 random, 1 everything at its largest, 2 quiet
    task automatic stimulus;
        if (($urandom % 500) == 0)
            mode = $urandom % 3;
        case (mode)
            0: begin wide = WIDE_W'($urandom); inc = (NUM - 1)'($urandom); end
            1: begin wide = '1; inc = '1; end
            default: begin wide = '0; inc = '0; end
        endcase
    endtask

    initial begin
        errors = 0; checked = 0; cycle = 0; last_snap = -GAP; mode = 0;
        seed = SEED;
        errors = $urandom(seed);                 // seeds the generator
        errors = 0;
        for (int c = 0; c < NUM; c = c + 1)
            model[c] = 64'd0;
        #2;
        repeat (3) step;
        rst_n = 1'b1;
        for (int s = 0; s < SNAPS; s = s + 1) begin
            // count for a while, with the odd clear, then snapshot at a random phase
            int wait_cycles;
            wait_cycles = GAP + ($urandom % 400);
            for (int k = 0; k < wait_cycles; k = k + 1) begin
                stimulus;
                clear = (($urandom % 997) == 0);
                step;
            end
            clear = 1'b0;
            stimulus;
            snap = 1'b1;
            step;
            snap = 1'b0;
            last_snap = cycle;
            // read every byte back, no earlier than the command processor would
            for (int c = 0; c < NUM; c = c + 1) begin
                for (int b = 0; b < 8; b = b + 1) begin
                    // wait until the cycle the read may be issued, plus a random pause
                    while (cycle - last_snap < 13 + 8 * c + b || ($urandom % 4) == 0) begin
                        stimulus;
                        clear = (cycle - last_snap > PASS_W) && (($urandom % 997) == 0);
                        step;
                    end
                    stimulus;
                    clear = (cycle - last_snap > PASS_W) && (($urandom % 997) == 0);
                    rd = 1'b1; rd_cnt = IDX_W'(c); rd_byte = 3'(b);
                    step;
                    rd = 1'b0; clear = 1'b0;
                    checked = checked + 1;
                    if (rd_data !== snapv[c][8 * b +: 8]) begin
                        errors = errors + 1;
                        if (errors <= 10)
                            $display("FAIL: snapshot %0d counter %0d byte %0d: %h, expected %h (value %h)",
                                     s, c, b, rd_data, snapv[c][8 * b +: 8], snapv[c]);
                    end
                end
            end
        end
        if (errors == 0 && checked > 0)
            $display("PASS: %0d snapshots, %0d bytes compared, %0d cycles (NUM %0d, WIDE_W %0d)",
                     SNAPS, checked, cycle, NUM, WIDE_W);
        else
            $display("FAIL: %0d of %0d bytes differ", errors, checked);
        $finish;
    end
endmodule
`default_nettype wire
