// study_array.sv — co-design study harness: LANES x WIDTH dot-product array with one PE kind, built the
// same way for every kind so that an FPGA flow compares the datapath only (docs/codesign-study.md).
//   PE_KIND 0: the accelerator's own add-only ternary lane (rtl/tern_lane.sv + rtl/tern_pe.sv), 2-bit codes
//   PE_KIND 1: int8 x int8 multiplier lane (study_lane_mac, study_pe_mac8), 8-bit weights
//   PE_KIND 2: int8 x int2 multiplier lane (study_lane_mac, study_pe_mac2), 2-bit weights
//   PE_KIND 3: no PEs (the harness alone, for subtracting its cost; the lane sum is one activation)
// Every kind: activations and weights sit in one shift chain loaded DIN_W bits a cycle from pins (so
// nothing constant-folds), each lane's sum goes into an ACC_W-bit accumulator register, and every
// accumulator bit reaches the single output pin through a registered XOR fold (so nothing is removed).
// Timing is register to register: chain -> PEs -> adder tree -> lane sum register -> accumulator.
// Chain layout (bit 0 = newest): activation e at bits 8e.., then lane l weight e at
// ACT_W + (l WIDTH + e) WGT_W.., then zero or more pad bits up to a multiple of DIN_W.
`default_nettype none
module study_array #(
    parameter int PE_KIND = 0,                          // 0 ternary, 1 int8 x int8, 2 int8 x int2, 3 none
    parameter int LANES   = 4,                          // dot-product lanes
    parameter int WIDTH   = 8,                          // products per lane per cycle, a power of two
    parameter int ACC_W   = 24,                         // accumulator bits (as tern_run_engine)
    parameter int DIN_W   = 8,                          // chain input pins
    localparam int LOG2W  = $clog2(WIDTH),
    localparam int WGT_W  = (PE_KIND == 1) ? 8 : 2,
    localparam int SUM_W  = ((PE_KIND == 0) ? 9 : (8 + WGT_W)) + LOG2W,
    localparam int ACT_W  = WIDTH << 3,
    localparam int LWGT_W = WIDTH * WGT_W,              // one lane's weights
    localparam int DATA_W = ACT_W + LANES * LWGT_W,
    localparam int CH_W   = ((DATA_W + DIN_W - 1) / DIN_W) * DIN_W,
    localparam int ALL_W  = LANES * ACC_W
) (
    input  wire               clk_i,
    input  wire               rst_ni,                   // synchronous, active low
    input  wire [DIN_W-1:0]   din_i,                    // chain input
    input  wire               shift_en_i,               // shift din_i into the chain
    input  wire               acc_en_i,                 // add every lane's sum to its accumulator
    input  wire               acc_clr_i,                // clear the accumulators (wins over acc_en_i)
    output wire               fold_o                    // XOR of all accumulator bits, two cycles late
);
    // Input registers: the control pins and the chain.
    logic [DIN_W-1:0] din_q;
    logic             shift_q, en_q, clr_q;
    logic             en_d1_q, clr_d1_q;               // aligned with the lane sum register
    logic [CH_W-1:0]  chain_q;

    always_ff @(posedge clk_i) begin
        if (!rst_ni) begin
            din_q    <= {DIN_W{1'b0}};
            shift_q  <= 1'b0;
            en_q     <= 1'b0;
            en_d1_q  <= 1'b0;
            clr_q    <= 1'b1;
            clr_d1_q <= 1'b1;
        end else begin
            din_q    <= din_i;
            shift_q  <= shift_en_i;
            en_q     <= acc_en_i;
            en_d1_q  <= en_q;
            clr_q    <= acc_clr_i;
            clr_d1_q <= clr_q;
        end
    end

    if (CH_W > DIN_W) begin : g_chain
        always_ff @(posedge clk_i) begin
            if (shift_q) chain_q <= {chain_q[CH_W-DIN_W-1:0], din_q};
        end
    end else begin : g_chain1
        always_ff @(posedge clk_i) begin
            if (shift_q) chain_q <= din_q;
        end
    end

    wire [ACT_W-1:0] act_w = chain_q[ACT_W-1:0];
    if (CH_W > DATA_W) begin : g_pad
        wire [CH_W-DATA_W-1:0] unused_pad = chain_q[CH_W-1:DATA_W];   // shifted out only
    end

    // Lanes and accumulators.
    wire [ALL_W-1:0] acc_all_w;     // every accumulator, lane l at bits l ACC_W.. (the testbench reads it)
    wire [LANES-1:0] lane_fold_w;

    genvar l;
    for (l = 0; l < LANES; l = l + 1) begin : g_lane
        localparam int W_LO = ACT_W + l * LWGT_W;
        wire [LWGT_W-1:0] wgt_w = chain_q[W_LO +: LWGT_W];
        wire [SUM_W-1:0]  sum_w;
        if (PE_KIND == 0) begin : g_tern
            wire unused_ill;
            tern_lane #(.WIDTH(WIDTH)) u_lane (
                .act_i      (act_w),
                .code_i     (wgt_w),
                .col_valid_i({WIDTH{1'b1}}),
                .sum_o      (sum_w),
                .illegal_o  (unused_ill)
            );
        end else if (PE_KIND == 3) begin : g_none
            // harness only: the lane "sum" is one activation, so that what remains is the chain, the
            // sum and accumulator registers, the accumulator adder and the fold (run_study.py subtracts it)
            localparam int E_LO = (l % WIDTH) << 3;
            wire unused_wgt = ^wgt_w;
            assign sum_w = {{(SUM_W-8){act_w[E_LO+7]}}, act_w[E_LO +: 8]};
        end else begin : g_mac
            study_lane_mac #(.WIDTH(WIDTH), .WGT_W(WGT_W)) u_lane (
                .act_i(act_w),
                .wgt_i(wgt_w),
                .sum_o(sum_w)
            );
        end

        // The lane sum is registered before the accumulator (as in tern_run_engine: stage 2 sum,
        // stage 3 accumulate), so the datapath path chain -> PEs -> tree -> sum_q is timed on its own.
        logic [SUM_W-1:0] sum_q;
        logic [ACC_W-1:0] acc_q;
        wire  [ACC_W-1:0] sum_x = {{(ACC_W-SUM_W){sum_q[SUM_W-1]}}, sum_q};
        always_ff @(posedge clk_i) begin
            sum_q <= sum_w;
            if (clr_d1_q)     acc_q <= {ACC_W{1'b0}};
            else if (en_d1_q) acc_q <= acc_q + sum_x;
        end
        assign acc_all_w[l * ACC_W +: ACC_W] = acc_q;
    end

    // Output: a two-stage registered XOR fold, so that every accumulator bit is observable.
    for (l = 0; l < LANES; l = l + 1) begin : g_fold
        assign lane_fold_w[l] = ^acc_all_w[l * ACC_W +: ACC_W];
    end
    logic [LANES-1:0] lane_fold_q;
    logic             fold_q;
    always_ff @(posedge clk_i) begin
        if (!rst_ni) begin
            lane_fold_q <= {LANES{1'b0}};
            fold_q      <= 1'b0;
        end else begin
            lane_fold_q <= lane_fold_w;
            fold_q      <= ^lane_fold_q;
        end
    end
    assign fold_o = fold_q;
endmodule
`default_nettype wire
