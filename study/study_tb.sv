// study_tb.sv — co-design study: stimulus player for study_array (simulation only; iverilog -g2012).
// check_study.py writes one hex word per cycle: bits DIN_W-1..0 din_i, then shift_en_i, acc_en_i,
// acc_clr_i, dump, end, reset. On a dump cycle the testbench prints every accumulator (the flat
// study_array.acc_all_w) and fold_o; check_study.py compares them with its oracle.
`default_nettype none
module study_tb #(
    parameter int PE_KIND = 0,
    parameter int LANES   = 2,
    parameter int WIDTH   = 4,
    parameter int ACC_W   = 24,
    parameter int DIN_W   = 8,
    parameter int MAX_CYC = 65536,
    localparam int STIM_W = DIN_W + 6
);
    logic             clk_q = 1'b0;
    logic             rst_nq = 1'b0;
    logic [DIN_W-1:0] din_q = {DIN_W{1'b0}};
    logic             shift_q = 1'b0, en_q = 1'b0, clr_q = 1'b0;
    wire              fold_w;

    study_array #(.PE_KIND(PE_KIND), .LANES(LANES), .WIDTH(WIDTH), .ACC_W(ACC_W), .DIN_W(DIN_W)) dut (
        .clk_i     (clk_q),
        .rst_ni    (rst_nq),
        .din_i     (din_q),
        .shift_en_i(shift_q),
        .acc_en_i  (en_q),
        .acc_clr_i (clr_q),
        .fold_o    (fold_w)
    );

    initial forever #5 clk_q = ~clk_q;

    logic [STIM_W-1:0] stim_q [0:MAX_CYC-1];
    reg   [8*256-1:0]  path_q;
    integer            cyc_q;
    initial begin
        if (!$value$plusargs("stim=%s", path_q)) begin
            $display("FATAL no +stim=<file>");
            $finish;
        end
        $readmemh(path_q, stim_q);
        for (cyc_q = 0; cyc_q < MAX_CYC; cyc_q = cyc_q + 1) begin
            // inputs change away from the clock edge
            @(negedge clk_q);
            if (stim_q[cyc_q][DIN_W+4]) begin
                $display("END %0d", cyc_q);
                $finish;
            end
            din_q   = stim_q[cyc_q][DIN_W-1:0];
            shift_q = stim_q[cyc_q][DIN_W];
            en_q    = stim_q[cyc_q][DIN_W+1];
            clr_q   = stim_q[cyc_q][DIN_W+2];
            rst_nq  = ~stim_q[cyc_q][DIN_W+5];
            if (stim_q[cyc_q][DIN_W+3]) $display("ACC %h FOLD %b", dut.acc_all_w, fold_w);
        end
        $display("FATAL no end word");
        $finish;
    end
endmodule
`default_nettype wire
