// tern_run_engine.sv — executes one RUN (ARCHITECTURE.md section 5): issue order b, t, j; accumulate; write OMEM.
`default_nettype none
module tern_run_engine #(
    parameter int LANES      = 4,
    parameter int WIDTH      = 8,
    parameter int ACC_W      = 24,
    parameter int WMEM_WORDS = 1024,
    parameter int AMEM_WORDS = 128,
    parameter int OMEM_WORDS = 64,
    parameter int RUN_SETUP  = 1,         // PIPE cycles before the first issue
    parameter int RUN_DRAIN  = 4,         // PIPE cycles after the last issue (>= PIPE_DEPTH)
    localparam int LOG2L = $clog2(LANES),
    localparam int LOG2W = $clog2(WIDTH),
    localparam int WM_AW = (WMEM_WORDS > 1) ? $clog2(WMEM_WORDS) : 1,
    localparam int AM_AW = (AMEM_WORDS > 1) ? $clog2(AMEM_WORDS) : 1,
    localparam int OM_AW = (OMEM_WORDS > 1) ? $clog2(OMEM_WORDS) : 1,
    localparam int WM_DW = 2 * LANES * WIDTH,
    localparam int AM_DW = 8 * WIDTH,
    localparam int OM_DW = LANES * ACC_W,
    localparam int OPS_W = LOG2L + LOG2W + 1
) (
    input  wire              clk_i,
    input  wire              rst_ni,
    // command (held stable by the command processor from start_i until done_o)
    input  wire              start_i,      // a checked RUN: begin with the next cycle
    input  wire [WM_AW-1:0]  wbase_i,      // WMEM word of row block 0, column word 0
    input  wire [31:0]       n_i,          // rows, >= 1
    input  wire [31:0]       k_i,          // columns, 1..max_k
    input  wire [AM_AW-1:0]  abase_i,      // AMEM word of token 0, column word 0
    input  wire [31:0]       t_i,          // tokens, >= 1
    input  wire [OM_AW-1:0]  obase_i,      // OMEM word of token 0, row block 0
    input  wire              accum_i,      // add to OMEM instead of overwriting it
    // status, one cycle category each busy cycle
    output wire              pipe_o,       // a setup or drain cycle (PIPE)
    output wire              compute_o,    // an issue cycle (COMPUTE)
    output wire              done_o,       // the last cycle of the RUN (the last PIPE cycle)
    output wire              busy_o,       // the engine owns the memory read ports
    output wire              illegal_o,    // an illegal code was met (valid with done_o)
    output wire [OPS_W-1:0]  ops_o,        // useful terms of this issue (valid with compute_o)
    // memories
    output wire              wm_re_o,
    output wire [WM_AW-1:0]  wm_raddr_o,
    input  wire [WM_DW-1:0]  wm_rdata_i,
    output wire              am_re_o,
    output wire [AM_AW-1:0]  am_raddr_o,
    input  wire [AM_DW-1:0]  am_rdata_i,
    output wire              om_re_o,
    output wire [OM_AW-1:0]  om_raddr_o,
    input  wire [OM_DW-1:0]  om_rdata_i,
    output wire              om_we_o,
    output wire [OM_AW-1:0]  om_waddr_o,
    output wire [OM_DW-1:0]  om_wdata_o
);
    // Pipeline after an issue cycle X: X+1 memory data -> array -> sums registered;
    // X+2 accumulate (and OMEM read for the group's last issue); X+3 write data registered;
    // X+4 OMEM written. So the drain needs PIPE_DEPTH cycles.
    localparam int PIPE_DEPTH = 4;
    localparam int SUM_W = 9 + LOG2W;
    localparam int CNT_W = (WM_AW > AM_AW) ? ((WM_AW > OM_AW) ? WM_AW : OM_AW)
                                           : ((AM_AW > OM_AW) ? AM_AW : OM_AW);
    localparam int PH_W = 8;              // setup/drain cycle counter
    localparam logic [OPS_W-1:0] OPS_FULL = {1'b1, {(OPS_W-1){1'b0}}};   // LANES WIDTH

    if (RUN_DRAIN < PIPE_DEPTH || RUN_DRAIN > 255 || RUN_SETUP > 255) begin : g_bad_timing
        // Elaboration fails here: configs/timing.cfg run_drain must be >= 4 (and both <= 255).
        tern_config_error_run_drain_below_pipeline_depth u_error ();
    end

    localparam logic [1:0] E_IDLE = 2'd0, E_SETUP = 2'd1, E_COMP = 2'd2, E_DRAIN = 2'd3;
    localparam logic [PH_W-1:0] SETUP_LAST = PH_W'(RUN_SETUP - 1);
    localparam logic [PH_W-1:0] DRAIN_LAST = PH_W'(RUN_DRAIN - 1);

    logic [1:0]       st_q;
    logic [PH_W-1:0]  ph_q;

    // RUN shape, fixed at start
    logic [CNT_W-1:0] nb_m1_q, kw_m1_q, t_m1_q;
    logic [OM_AW-1:0] nb_q;                 // NB, the OMEM stride from one token to the next
    logic [LANES-1:0] lane_last_q;          // valid lanes of the last row block
    logic [WIDTH-1:0] col_last_q;           // valid columns of the last column word
    logic [OPS_W-1:0] ops_bl_q, ops_bj_q, ops_lj_q;   // terms of a last-block / last-word issue
    logic             accum_q;

    // issue counters and addresses
    logic [CNT_W-1:0] b_q, t_q, j_q;
    logic [WM_AW-1:0] wrow_q, waddr_q;
    logic [AM_AW-1:0] aaddr_q, abase_q;
    logic [OM_AW-1:0] obrow_q, ogrp_q;

    // ---- shape from the command ------------------------------------------------------------
    wire [31:0] n_m1_w = n_i - 32'd1;
    wire [31:0] k_m1_w = k_i - 32'd1;
    wire [31:0] nb_m1_w = n_m1_w >> LOG2L;           // NB - 1 (the checks bound NB, KW and t)
    wire [31:0] kw_m1_w = k_m1_w >> LOG2W;           // KW - 1
    wire [31:0] t_m1_w = t_i - 32'd1;
    wire [31:0] n_last32_w = (n_m1_w & (LANES - 1)) + 32'd1;   // rows in the last block, 1..L
    wire [31:0] k_last32_w = (k_m1_w & (WIDTH - 1)) + 32'd1;   // columns in the last word, 1..W
    wire [OPS_W-1:0] n_last_w = n_last32_w[OPS_W-1:0];
    wire [OPS_W-1:0] k_last_w = k_last32_w[OPS_W-1:0];
    wire unused_shape_w = &{1'b0, nb_m1_w[31:CNT_W], kw_m1_w[31:CNT_W], t_m1_w[31:CNT_W],
                            n_last32_w[31:OPS_W], k_last32_w[31:OPS_W]};
    logic [LANES-1:0] lane_last_w;
    logic [WIDTH-1:0] col_last_w;
    logic [OPS_W-1:0] ops_lj_w;

    always_comb begin
        for (int l = 0; l < LANES; l = l + 1)
            lane_last_w[l] = (l < n_last_w);
        for (int e = 0; e < WIDTH; e = e + 1)
            col_last_w[e] = (e < k_last_w);
        // n_last * k_last by shifts and adds (both are small)
        ops_lj_w = '0;
        for (int s = 0; s <= LOG2L; s = s + 1)
            if (n_last_w[s])
                ops_lj_w = ops_lj_w + (k_last_w << s);
    end

    // ---- sequencer -------------------------------------------------------------------------
    wire in_comp_w   = (st_q == E_COMP);
    wire last_j_w    = (j_q == kw_m1_q);
    wire last_t_w    = (t_q == t_m1_q);
    wire last_b_w    = (b_q == nb_m1_q);
    wire last_iss_w  = in_comp_w & last_j_w & last_t_w & last_b_w;

    always_ff @(posedge clk_i) begin
        if (!rst_ni) begin
            st_q <= E_IDLE;
            ph_q <= '0;
        end else begin
            case (st_q)
                E_IDLE:  if (start_i) begin
                             st_q <= (RUN_SETUP > 0) ? E_SETUP : E_COMP;
                             ph_q <= '0;
                         end
                E_SETUP: begin
                             ph_q <= ph_q + 1'b1;
                             if (ph_q == SETUP_LAST)
                                 st_q <= E_COMP;
                         end
                E_COMP:  if (last_iss_w) begin
                             st_q <= E_DRAIN;
                             ph_q <= '0;
                         end
                default: begin
                             ph_q <= ph_q + 1'b1;
                             if (ph_q == DRAIN_LAST)
                                 st_q <= E_IDLE;
                         end
            endcase
        end
    end

    always_ff @(posedge clk_i) begin
        if (st_q == E_IDLE && start_i) begin
            nb_m1_q     <= nb_m1_w[CNT_W-1:0];
            kw_m1_q     <= kw_m1_w[CNT_W-1:0];
            t_m1_q      <= t_m1_w[CNT_W-1:0];
            nb_q        <= nb_m1_w[OM_AW-1:0] + 1'b1;
            lane_last_q <= lane_last_w;
            col_last_q  <= col_last_w;
            ops_bl_q    <= n_last_w << LOG2W;     // last block, full word: n_last W
            ops_bj_q    <= k_last_w << LOG2L;     // full block, last word: L k_last
            ops_lj_q    <= ops_lj_w;
            accum_q     <= accum_i;
            b_q         <= '0;
            t_q         <= '0;
            j_q         <= '0;
            wrow_q      <= wbase_i;
            waddr_q     <= wbase_i;
            abase_q     <= abase_i;
            aaddr_q     <= abase_i;
            obrow_q     <= obase_i;
            ogrp_q      <= obase_i;
        end else if (in_comp_w) begin
            // j inner, t middle, b outer; addresses advance by adds only
            if (!last_j_w) begin
                j_q     <= j_q + 1'b1;
                waddr_q <= waddr_q + 1'b1;
                aaddr_q <= aaddr_q + 1'b1;
            end else begin
                j_q <= '0;
                if (!last_t_w) begin
                    t_q     <= t_q + 1'b1;
                    waddr_q <= wrow_q;                       // same row block, next token
                    aaddr_q <= aaddr_q + 1'b1;               // tokens are consecutive in AMEM
                    ogrp_q  <= ogrp_q + nb_q;                // obase + t NB + b
                end else begin
                    t_q     <= '0;
                    b_q     <= b_q + 1'b1;
                    wrow_q  <= waddr_q + 1'b1;               // wbase + (b + 1) KW
                    waddr_q <= waddr_q + 1'b1;
                    aaddr_q <= abase_q;
                    obrow_q <= obrow_q + 1'b1;
                    ogrp_q  <= obrow_q + 1'b1;
                end
            end
        end
    end

    // ---- pipeline --------------------------------------------------------------------------
    // stage 1: memory data of the issue one cycle ago
    logic             s1_valid_q, s1_first_q, s1_last_q, s1_lastb_q, s1_lastj_q;
    logic [OM_AW-1:0] s1_ogrp_q;
    // stage 2: lane sums
    logic                   s2_valid_q, s2_first_q, s2_last_q, s2_lastb_q;
    logic [OM_AW-1:0]       s2_ogrp_q;
    // stage 3: accumulators hold a finished group
    logic                   s3_valid_q, s3_lastb_q;
    logic [OM_AW-1:0]       s3_ogrp_q;
    // stage 4: OMEM write
    logic                   wr_en_q;
    logic [OM_AW-1:0]       wr_addr_q;
    logic                   ill_q;

    localparam int SUMS_W = LANES * SUM_W;
    wire [SUMS_W-1:0] sum_w;
    wire                   ill_w;

    tern_array #(.LANES(LANES), .WIDTH(WIDTH)) u_array (
        .act_i       (am_rdata_i),
        .code_i      (wm_rdata_i),
        .lane_valid_i(s1_lastb_q ? lane_last_q : {LANES{1'b1}}),
        .col_valid_i (s1_lastj_q ? col_last_q : {WIDTH{1'b1}}),
        .sum_o       (sum_w),
        .illegal_o   (ill_w)
    );

    always_ff @(posedge clk_i) begin
        if (!rst_ni) begin
            s1_valid_q <= 1'b0;
            s2_valid_q <= 1'b0;
            s3_valid_q <= 1'b0;
            wr_en_q    <= 1'b0;
            ill_q      <= 1'b0;
        end else begin
            s1_valid_q <= in_comp_w;
            s2_valid_q <= s1_valid_q;
            s3_valid_q <= s2_valid_q & s2_last_q;
            wr_en_q    <= s3_valid_q;
            if (st_q == E_IDLE && start_i)
                ill_q <= 1'b0;
            else if (s1_valid_q && ill_w)
                ill_q <= 1'b1;
        end
    end

    always_ff @(posedge clk_i) begin
        s1_first_q <= (j_q == '0);
        s1_last_q  <= last_j_w;
        s1_lastj_q <= last_j_w;
        s1_lastb_q <= last_b_w;
        s1_ogrp_q  <= ogrp_q;
        s2_first_q <= s1_first_q;
        s2_last_q  <= s1_last_q;
        s2_lastb_q <= s1_lastb_q;
        s2_ogrp_q  <= s1_ogrp_q;
        s3_lastb_q <= s2_lastb_q;
        s3_ogrp_q  <= s2_ogrp_q;
        wr_addr_q  <= s3_ogrp_q;
    end

    // Per lane: stage 2 sum, stage 3 accumulator (A bits, wrapping), stage 4 write data.
    genvar l;
    for (l = 0; l < LANES; l = l + 1) begin : g_acc
        localparam int S_LO = SUM_W * l;
        localparam int A_LO = ACC_W * l;
        logic [SUM_W-1:0] sum_q;
        logic [ACC_W-1:0] acc_q, wr_q;
        wire  [ACC_W-1:0] sum_x = {{(ACC_W-SUM_W){sum_q[SUM_W-1]}}, sum_q};
        wire  [ACC_W-1:0] old_w = accum_q ? om_rdata_i[A_LO +: ACC_W] : {ACC_W{1'b0}};
        wire              lv_w  = ~s3_lastb_q | lane_last_q[l];
        always_ff @(posedge clk_i) begin
            sum_q <= sum_w[S_LO +: SUM_W];
            if (s2_valid_q)
                acc_q <= (s2_first_q ? {ACC_W{1'b0}} : acc_q) + sum_x;
            // padding lanes are written 0 in both modes
            wr_q <= lv_w ? (old_w + acc_q) : {ACC_W{1'b0}};
        end
        assign om_wdata_o[A_LO +: ACC_W] = wr_q;
    end

    // ---- outputs ---------------------------------------------------------------------------
    assign pipe_o     = (st_q == E_SETUP) | (st_q == E_DRAIN);
    assign compute_o  = in_comp_w;
    assign done_o     = (st_q == E_DRAIN) & (ph_q == DRAIN_LAST);
    assign busy_o     = (st_q != E_IDLE);
    assign illegal_o  = ill_q;
    assign ops_o      = last_b_w ? (last_j_w ? ops_lj_q : ops_bl_q) : (last_j_w ? ops_bj_q : OPS_FULL);

    assign wm_re_o    = in_comp_w;
    assign wm_raddr_o = waddr_q;
    assign am_re_o    = in_comp_w;
    assign am_raddr_o = aaddr_q;
    assign om_re_o    = s2_valid_q & s2_last_q & accum_q;
    assign om_raddr_o = s2_ogrp_q;
    assign om_we_o    = wr_en_q;
    assign om_waddr_o = wr_addr_q;
endmodule
`default_nettype wire
