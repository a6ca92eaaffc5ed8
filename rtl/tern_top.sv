// tern_top.sv — the accelerator: command processor, run engine and the four memories behind two byte streams.
//
// Parameters default to the TERN_CFG_* macros of one configuration. Either define them all
// (+define+ / -D) or put the configuration's file on the include path as "tern_cfg.vh"
// (rtl/README.md: the build makes one directory per configuration holding such a file).
`ifndef TERN_CFG_LANES
`include "tern_cfg.vh"
`endif
`default_nettype none
module tern_top #(
    parameter int          LANES       = `TERN_CFG_LANES,
    parameter int          WIDTH       = `TERN_CFG_WIDTH,
    parameter int          ACC_W       = `TERN_CFG_ACC_WIDTH,
    parameter int          MAX_K       = `TERN_CFG_MAX_K,
    parameter int          WMEM_WORDS  = `TERN_CFG_WMEM_WORDS,
    parameter int          AMEM_WORDS  = `TERN_CFG_AMEM_WORDS,
    parameter int          OMEM_WORDS  = `TERN_CFG_OMEM_WORDS,
    parameter int          MAX_PAYLOAD = `TERN_CFG_MAX_PAYLOAD,
    parameter logic [31:0] CLOCK_HZ    = `TERN_CFG_CLOCK_HZ,
    parameter logic [31:0] LINK_KIND   = `TERN_CFG_LINK_KIND,
    parameter logic [31:0] LINK_BPS    = `TERN_CFG_LINK_BYTES_PER_S,
    parameter int          RUN_SETUP   = `TERN_CFG_RUN_SETUP,
    parameter int          RUN_DRAIN   = `TERN_CFG_RUN_DRAIN,
    parameter logic [31:0] NAME_LO     = `TERN_CFG_NAME_LO,
    parameter logic [31:0] NAME_HI     = `TERN_CFG_NAME_HI
) (
    input  wire       clk_i,
    input  wire       rst_ni,        // synchronous, active low
    input  wire       in_valid_i,    // host -> device bytes
    input  wire [7:0] in_data_i,
    output wire       in_ready_o,
    output wire       out_valid_o,   // device -> host bytes
    output wire [7:0] out_data_o,
    input  wire       out_ready_i,
    output wire       idle_o         // receiver in HUNT and no response pending (for simulation hosts)
);
    localparam int LOG2L    = $clog2(LANES);
    localparam int LOG2W    = $clog2(WIDTH);
    localparam int WM_BYTES = 1 << (LOG2L + LOG2W - 2);
    localparam int WM_AW    = (WMEM_WORDS > 1) ? $clog2(WMEM_WORDS) : 1;
    localparam int AM_AW    = (AMEM_WORDS > 1) ? $clog2(AMEM_WORDS) : 1;
    localparam int OM_AW    = (OMEM_WORDS > 1) ? $clog2(OMEM_WORDS) : 1;
    localparam int WM_DW    = WM_BYTES << 3;
    localparam int AM_DW    = WIDTH << 3;
    localparam int OM_DW    = LANES * ACC_W;
    localparam int OPS_W    = LOG2L + LOG2W + 1;

    // host side (command processor)
    wire                c_wm_re, c_am_re, c_om_re;
    wire [WM_AW-1:0]    c_wm_raddr, c_wm_waddr;
    wire [AM_AW-1:0]    c_am_raddr, c_am_waddr;
    wire [OM_AW-1:0]    c_om_raddr;
    wire [WM_BYTES-1:0] c_wm_we;
    wire [WIDTH-1:0]    c_am_we;
    wire [WM_DW-1:0]    c_wm_wdata;
    wire [AM_DW-1:0]    c_am_wdata;
    // run engine side
    wire                e_wm_re, e_am_re, e_om_re, e_om_we;
    wire [WM_AW-1:0]    e_wm_raddr;
    wire [AM_AW-1:0]    e_am_raddr;
    wire [OM_AW-1:0]    e_om_raddr, e_om_waddr;
    wire [OM_DW-1:0]    e_om_wdata;
    wire                e_busy;
    // memory data
    wire [WM_DW-1:0]    wm_rdata;
    wire [AM_DW-1:0]    am_rdata;
    wire [OM_DW-1:0]    om_rdata;
    // command to engine
    wire                run_start, run_accum, run_pipe, run_compute, run_done, run_illegal;
    wire [WM_AW-1:0]    run_wbase;
    wire [AM_AW-1:0]    run_abase;
    wire [OM_AW-1:0]    run_obase;
    wire [31:0]         run_n, run_k, run_t;
    wire [OPS_W-1:0]    run_ops;

    tern_cmd_proc #(
        .LANES(LANES), .WIDTH(WIDTH), .ACC_W(ACC_W), .MAX_K(MAX_K), .WMEM_WORDS(WMEM_WORDS),
        .AMEM_WORDS(AMEM_WORDS), .OMEM_WORDS(OMEM_WORDS), .MAX_PAYLOAD(MAX_PAYLOAD),
        .CLOCK_HZ(CLOCK_HZ), .LINK_KIND(LINK_KIND), .LINK_BPS(LINK_BPS), .RUN_SETUP(RUN_SETUP),
        .RUN_DRAIN(RUN_DRAIN), .NAME_LO(NAME_LO), .NAME_HI(NAME_HI)
    ) u_cmd (
        .clk_i, .rst_ni, .in_valid_i, .in_data_i, .in_ready_o, .out_valid_o, .out_data_o,
        .out_ready_i, .idle_o,
        .wm_re_o(c_wm_re), .wm_raddr_o(c_wm_raddr), .wm_rdata_i(wm_rdata),
        .wm_we_o(c_wm_we), .wm_waddr_o(c_wm_waddr), .wm_wdata_o(c_wm_wdata),
        .am_re_o(c_am_re), .am_raddr_o(c_am_raddr), .am_rdata_i(am_rdata),
        .am_we_o(c_am_we), .am_waddr_o(c_am_waddr), .am_wdata_o(c_am_wdata),
        .om_re_o(c_om_re), .om_raddr_o(c_om_raddr), .om_rdata_i(om_rdata),
        .run_start_o(run_start), .run_wbase_o(run_wbase), .run_n_o(run_n), .run_k_o(run_k),
        .run_abase_o(run_abase), .run_t_o(run_t), .run_obase_o(run_obase), .run_accum_o(run_accum),
        .run_pipe_i(run_pipe), .run_compute_i(run_compute), .run_done_i(run_done),
        .run_illegal_i(run_illegal), .run_ops_i(run_ops)
    );

    tern_run_engine #(
        .LANES(LANES), .WIDTH(WIDTH), .ACC_W(ACC_W), .WMEM_WORDS(WMEM_WORDS),
        .AMEM_WORDS(AMEM_WORDS), .OMEM_WORDS(OMEM_WORDS), .RUN_SETUP(RUN_SETUP), .RUN_DRAIN(RUN_DRAIN)
    ) u_run (
        .clk_i, .rst_ni,
        .start_i(run_start), .wbase_i(run_wbase), .n_i(run_n), .k_i(run_k), .abase_i(run_abase),
        .t_i(run_t), .obase_i(run_obase), .accum_i(run_accum),
        .pipe_o(run_pipe), .compute_o(run_compute), .done_o(run_done), .busy_o(e_busy),
        .illegal_o(run_illegal), .ops_o(run_ops),
        .wm_re_o(e_wm_re), .wm_raddr_o(e_wm_raddr), .wm_rdata_i(wm_rdata),
        .am_re_o(e_am_re), .am_raddr_o(e_am_raddr), .am_rdata_i(am_rdata),
        .om_re_o(e_om_re), .om_raddr_o(e_om_raddr), .om_rdata_i(om_rdata),
        .om_we_o(e_om_we), .om_waddr_o(e_om_waddr), .om_wdata_o(e_om_wdata)
    );

    // The engine owns the read ports while it runs; the command processor at all other times.
    // WMEM: a tern_bram, or the SPRAMs of an iCE40 UltraPlus (tern_wmem.sv)
    tern_wmem #(.DEPTH(WMEM_WORDS), .DATA_W(WM_DW), .SEG_W(8)) u_wmem (
        .clk_i,
        .re_i(c_wm_re | e_wm_re), .raddr_i(e_busy ? e_wm_raddr : c_wm_raddr), .rdata_o(wm_rdata),
        .we_i(c_wm_we), .waddr_i(c_wm_waddr), .wdata_i(c_wm_wdata)
    );
    tern_bram #(.DEPTH(AMEM_WORDS), .DATA_W(AM_DW), .SEG_W(8)) u_amem (
        .clk_i,
        .re_i(c_am_re | e_am_re), .raddr_i(e_busy ? e_am_raddr : c_am_raddr), .rdata_o(am_rdata),
        .we_i(c_am_we), .waddr_i(c_am_waddr), .wdata_i(c_am_wdata)
    );
    tern_bram #(.DEPTH(OMEM_WORDS), .DATA_W(OM_DW)) u_omem (
        .clk_i,
        .re_i(c_om_re | e_om_re), .raddr_i(e_busy ? e_om_raddr : c_om_raddr), .rdata_o(om_rdata),
        .we_i(e_om_we), .waddr_i(e_om_waddr), .wdata_i(e_om_wdata)
    );
endmodule
`default_nettype wire
