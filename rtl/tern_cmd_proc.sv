// tern_cmd_proc.sv — the command processor: receives frames, checks them, executes, answers, counts cycles.
//
// ARCHITECTURE.md sections 4, 6 and 7 are its specification. One state a cycle; the cycle
// categories of section 7 are read straight off the state (see the counter block at the end).
`default_nettype none
module tern_cmd_proc #(
    parameter int          LANES       = 4,
    parameter int          WIDTH       = 8,
    parameter int          ACC_W       = 24,
    parameter int          MAX_K       = 32768,
    parameter int          WMEM_WORDS  = 1024,
    parameter int          AMEM_WORDS  = 128,
    parameter int          OMEM_WORDS  = 64,
    parameter int          MAX_PAYLOAD = 256,
    parameter logic [31:0] CLOCK_HZ    = 32'd12000000,
    parameter logic [31:0] LINK_KIND   = 32'd0,
    parameter logic [31:0] LINK_BPS    = 32'd0,
    parameter int          RUN_SETUP   = 1,
    parameter int          RUN_DRAIN   = 4,
    parameter logic [31:0] NAME_LO     = 32'd0,
    parameter logic [31:0] NAME_HI     = 32'd0,
    localparam int LOG2L    = $clog2(LANES),
    localparam int LOG2W    = $clog2(WIDTH),
    localparam int LOG2BPW  = LOG2L + LOG2W - 2,             // WMEM word: L W / 4 bytes
    localparam int WM_BYTES = 1 << LOG2BPW,
    localparam int WM_AW    = (WMEM_WORDS > 1) ? $clog2(WMEM_WORDS) : 1,
    localparam int AM_AW    = (AMEM_WORDS > 1) ? $clog2(AMEM_WORDS) : 1,
    localparam int OM_AW    = (OMEM_WORDS > 1) ? $clog2(OMEM_WORDS) : 1,
    localparam int WM_DW    = WM_BYTES << 3,
    localparam int AM_DW    = WIDTH << 3,
    localparam int OM_DW    = LANES * ACC_W,
    localparam int OPS_W    = LOG2L + LOG2W + 1
) (
    input  wire                clk_i,
    input  wire                rst_ni,          // synchronous, active low
    // host byte streams (valid/ready: a byte moves on an edge where both are high)
    input  wire                in_valid_i,
    input  wire [7:0]          in_data_i,
    output wire                in_ready_o,
    output wire                out_valid_o,
    output wire [7:0]          out_data_o,
    input  wire                out_ready_i,
    output wire                idle_o,          // receiver in HUNT, nothing to send
    // weight memory, host side
    output wire                wm_re_o,
    output wire [WM_AW-1:0]    wm_raddr_o,
    input  wire [WM_DW-1:0]    wm_rdata_i,
    output wire [WM_BYTES-1:0] wm_we_o,
    output wire [WM_AW-1:0]    wm_waddr_o,
    output wire [WM_DW-1:0]    wm_wdata_o,
    // activation buffer, host side
    output wire                am_re_o,
    output wire [AM_AW-1:0]    am_raddr_o,
    input  wire [AM_DW-1:0]    am_rdata_i,
    output wire [WIDTH-1:0]    am_we_o,
    output wire [AM_AW-1:0]    am_waddr_o,
    output wire [AM_DW-1:0]    am_wdata_o,
    // output buffer, host reads
    output wire                om_re_o,
    output wire [OM_AW-1:0]    om_raddr_o,
    input  wire [OM_DW-1:0]    om_rdata_i,
    // run engine
    output wire                run_start_o,
    output wire [WM_AW-1:0]    run_wbase_o,
    output wire [31:0]         run_n_o,
    output wire [31:0]         run_k_o,
    output wire [AM_AW-1:0]    run_abase_o,
    output wire [31:0]         run_t_o,
    output wire [OM_AW-1:0]    run_obase_o,
    output wire                run_accum_o,
    input  wire                run_pipe_i,
    input  wire                run_compute_i,
    input  wire                run_done_i,
    input  wire                run_illegal_i,
    input  wire [OPS_W-1:0]    run_ops_i
);
    // ---- constants ---------------------------------------------------------------------------
    localparam logic [7:0] OP_PING = 8'h01, OP_READ_REG = 8'h02, OP_WRITE_REG = 8'h03,
                           OP_WRITE_MEM = 8'h04, OP_READ_MEM = 8'h05, OP_RUN = 8'h06,
                           OP_READ_COUNTERS = 8'h07, OP_RESET = 8'h08;
    localparam logic [7:0] ST_OK = 8'd0, ST_BAD_HCRC = 8'd1, ST_BAD_PCRC = 8'd2,
                           ST_BAD_VERSION = 8'd3, ST_BAD_OPCODE = 8'd4, ST_BAD_ADDR = 8'd5,
                           ST_BAD_LEN = 8'd6, ST_ILLEGAL_CODE = 8'd8;

    localparam logic [3:0] S_HUNT = 4'd0,    // discard bytes until A5
                           S_MAGIC1 = 4'd1,  // A5 seen: expect 54 (A5 keeps the match armed)
                           S_HDR = 4'd2,     // header bytes 2..17
                           S_HCHK = 4'd3,    // CTRL: header checks
                           S_PAY = 4'd4,     // payload and pcrc bytes into the staging buffer
                           S_PCHK = 4'd5,    // CTRL: pcrc, duplicate, opcode, length, address checks
                           S_EXEC = 4'd6,    // CTRL: execute a register, read or reset command
                           S_COMMIT = 4'd7,  // COMMIT: one staged byte a cycle into WMEM or AMEM
                           S_RUN = 4'd8,     // PIPE / COMPUTE: the run engine works
                           S_TX = 4'd9;      // TX / STALL_TX: the response

    localparam logic [1:0] TX_HDR = 2'd0, TX_PAY = 2'd1, TX_CRC = 2'd2;
    localparam logic [2:0] SRC_NONE = 3'd0, SRC_ID = 3'd1, SRC_REG = 3'd2, SRC_CNT = 3'd3,
                           SRC_MEM = 3'd4;

    localparam int NUM_CNT  = 15;
    localparam int ST_DEPTH = MAX_PAYLOAD + 4;               // staging buffer: payload + pcrc
    localparam int ST_AW    = $clog2(ST_DEPTH);
    localparam int RSP_MAX  = (MAX_PAYLOAD > NUM_CNT * 8) ? MAX_PAYLOAD : NUM_CNT * 8;
    localparam int TL_W     = $clog2(RSP_MAX + 1);           // response payload length
    localparam int LOG2OB   = LOG2L + 2;                     // host view of an OMEM word: 4L bytes
    localparam int CUR_L2   = (LOG2BPW > LOG2W) ? ((LOG2BPW > LOG2OB) ? LOG2BPW : LOG2OB)
                                                : ((LOG2W > LOG2OB) ? LOG2W : LOG2OB);
    localparam int CUR_W    = 8 << CUR_L2;                   // READ_MEM word buffer
    localparam int MW       = (WM_AW > AM_AW) ? ((WM_AW > OM_AW) ? WM_AW : OM_AW)
                                              : ((AM_AW > OM_AW) ? AM_AW : OM_AW);
    localparam int WM_SIZE  = WMEM_WORDS << LOG2BPW;         // region sizes in bytes
    localparam int AM_SIZE  = AMEM_WORDS << LOG2W;
    localparam int OM_SIZE  = OMEM_WORDS << LOG2OB;
    // RUN range checks: clamped operands of the three products, STEP bits a cycle (<= 8 cycles)
    localparam int B1 = $clog2(WMEM_WORDS + 2);
    localparam int B2 = $clog2(AMEM_WORDS + 2);
    localparam int B3 = $clog2(OMEM_WORDS + 2);
    localparam int STEP1 = (B1 + 7) / 8;
    localparam int STEP2 = (B2 + 7) / 8;
    localparam int STEP3 = (B3 + 7) / 8;

    localparam logic [CUR_L2-1:0] WBM1 = CUR_L2'((1 << LOG2BPW) - 1);   // last byte of a word
    localparam logic [CUR_L2-1:0] ABM1 = CUR_L2'((1 << LOG2W) - 1);
    localparam logic [CUR_L2-1:0] OBM1 = CUR_L2'((1 << LOG2OB) - 1);

    // ---- the ID block (registers 0..19), register 0 in the low bits --------------------------
    localparam int ID_W = 32 * 20;
    wire [ID_W-1:0] id_blk_w = {
        32'd0,                       // 19 RESERVED
        32'd0,                       // 18 BACKEND: 0 = RTL
        NAME_HI, NAME_LO,            // 17, 16
        32'd15,                      // 15 NUM_COUNTERS
        32'(RUN_DRAIN), 32'(RUN_SETUP),
        LINK_BPS, LINK_KIND, CLOCK_HZ,
        32'(MAX_PAYLOAD), 32'(OMEM_WORDS), 32'(AMEM_WORDS), 32'(WMEM_WORDS),
        32'(MAX_K), 32'(ACC_W), 32'(WIDTH), 32'(LANES),
        32'h0001_0001,               // 1 ID_VERSION: protocol 1, hardware revision 1
        32'h5445_524E                // 0 ID_MAGIC "TERN"
    };

    // ---- state -------------------------------------------------------------------------------
    logic [3:0]          st_q;
    logic [4:0]          hdr_idx_q;
    logic [7:0]          ver_q, op_q;
    logic [15:0]         seq_q, hcrc_q;
    logic [31:0]         addr_q, len_q;
    logic [ST_AW-1:0]    len_s_q;              // len, once it passed the header check
    logic [15:0]         crc16_q;
    logic [31:0]         crc32_q;
    logic [ST_AW-1:0]    pay_idx_q;
    logic [223:0]        prm_q;                // the first 28 payload bytes (command parameters)
    logic [31:0]         pcrc_q;
    logic                mul_start_q;
    logic                last_valid_q;         // the duplicate rule's memory
    logic [15:0]         last_seq_q;
    logic [7:0]          last_op_q, last_st_q;
    logic [7:0]          rsp_st_q;
    logic [TL_W-1:0]     rsp_len_q;
    logic [2:0]          rsp_src_q;
    logic                rsp_new_q;            // first cycle of a response: frame counters tick
    logic [1:0]          tx_ph_q;
    logic [TL_W-1:0]     tx_cnt_q;
    logic [31:0]         rsp_word_q;
    logic [31:0]         scratch_q;
    logic                err_q;                // ERR_FLAGS bit 0
    // READ_MEM reader
    logic [1:0]          rd_rgn_q;
    logic [MW-1:0]       rd_next_q;            // next word to read
    logic [CUR_L2-1:0]   rd_bi_q;              // byte of cur_q to send
    logic [1:0]          rd_pend_q;            // priming reads still to do
    logic [CUR_W-1:0]    cur_q;
    // WRITE_MEM commit
    logic [ST_AW-1:0]    cm_idx_q;
    logic                cm_amem_q;
    logic [29:0]         cm_off_q;

    // ---- the byte streams --------------------------------------------------------------------
    wire rx_open_w = (st_q == S_HUNT) | (st_q == S_MAGIC1) | (st_q == S_HDR) | (st_q == S_PAY);
    wire rx_w      = rx_open_w & in_valid_i;            // a byte is accepted
    wire in_tx_w   = (st_q == S_TX);
    wire tx_w      = in_tx_w & out_ready_i;             // a response byte moves
    logic [7:0] tx_byte_w;
    wire  [7:0] cnt_rdata_w;                             // a byte of the counters' snapshot

    assign in_ready_o  = rx_open_w;
    assign out_valid_o = in_tx_w;
    assign out_data_o  = tx_byte_w;
    assign idle_o      = (st_q == S_HUNT) | (st_q == S_MAGIC1);

    // ---- CRCs (shared by receiver and transmitter) -----------------------------------------
    wire [15:0] c16_in_w = (st_q == S_HUNT) ? 16'hFFFF : crc16_q;
    wire [7:0]  c_byte_w = in_tx_w ? tx_byte_w : in_data_i;
    wire [15:0] c16_w;
    wire [31:0] c32_w;
    tern_crc16 u_crc16 (.crc_i(c16_in_w), .data_i(c_byte_w), .crc_o(c16_w));
    tern_crc32 u_crc32 (.crc_i(crc32_q), .data_i(c_byte_w), .crc_o(c32_w));

    // ---- staging buffer ----------------------------------------------------------------------
    wire [7:0]       st_rdata_w;
    wire             st_re_w    = (st_q == S_PCHK) | (st_q == S_COMMIT);
    wire [ST_AW-1:0] st_raddr_w = (st_q == S_COMMIT) ? cm_idx_q + 1'b1 : '0;
    wire             st_we_w    = rx_w & (st_q == S_PAY);
    tern_bram #(.DEPTH(ST_DEPTH), .DATA_W(8)) u_stage (
        .clk_i  (clk_i),
        .re_i   (st_re_w),
        .raddr_i(st_raddr_w),
        .rdata_o(st_rdata_w),
        .we_i   (st_we_w),
        .waddr_i(pay_idx_q),
        .wdata_i(in_data_i)
    );

    // ---- command fields ----------------------------------------------------------------------
    wire [31:0] p_wbase_w = prm_q[31:0];
    wire [31:0] p_n_w     = prm_q[63:32];
    wire [31:0] p_k_w     = prm_q[95:64];
    wire [31:0] p_abase_w = prm_q[127:96];
    wire [31:0] p_t_w     = prm_q[159:128];
    wire [31:0] p_obase_w = prm_q[191:160];
    wire [31:0] p_flags_w = prm_q[223:192];
    wire [31:0] p_word_w  = prm_q[31:0];               // WRITE_REG value, READ_MEM count

    wire [1:0]  rgn_w = addr_q[31:30];                 // 0 WMEM, 1 AMEM, 2 OMEM
    wire [29:0] off_w = addr_q[29:0];

    // ---- RUN range checks without a multiplier: three shift-add products during reception ----
    // Narrow logic throughout: a value's high bits only matter as "any set" (checks below), so
    // the adders and comparisons are only as wide as the memory they check.

    // x clamped to b bits (all ones when larger)
    function automatic logic [31:0] clamp(input logic [31:0] x, input int b);
        clamp = ((x >> b) != 32'd0) ? ((32'd1 << b) - 32'd1) : x;
    endfunction
    // ceil(x / 2^sh) clamped to b bits
    function automatic logic [31:0] ceil_clamp(input logic [31:0] x, input int sh, input int b);
        logic [31:0] hi, v;
        hi = x >> sh;
        v  = (hi & ((32'd1 << b) - 32'd1)) + {31'd0, (x & ((32'd1 << sh) - 32'd1)) != 32'd0};
        ceil_clamp = (((hi >> b) != 32'd0) || v[b]) ? ((32'd1 << b) - 32'd1) : v;
    endfunction
    // x > limit, for limit < 2^w
    function automatic logic above(input logic [31:0] x, input int limit, input int w);
        above = ((x >> w) != 32'd0) || ((x & ((32'd1 << w) - 32'd1)) > 32'(limit));
    endfunction
    // a + b <= limit, for limit < 2^w
    function automatic logic fits(input logic [63:0] a, input logic [63:0] b, input int limit, input int w);
        logic [63:0] s;
        s    = (a & ((64'd1 << w) - 64'd1)) + (b & ((64'd1 << w) - 64'd1));
        fits = ((a >> w) == 64'd0) && ((b >> w) == 64'd0) && (s <= 64'(limit));
    endfunction

    // NB = ceil(n / L), KW = ceil(k / W) and t, each clamped to the bits of the memory it is checked
    // against: a clamped operand is more than that memory's words, so the product still proves the
    // RUN out of range (n, k, t >= 1 are checked apart).
    wire [31:0] nb1_w = ceil_clamp(p_n_w, LOG2L, B1);
    wire [31:0] kw1_w = ceil_clamp(p_k_w, LOG2W, B1);
    wire [31:0] kw2_w = ceil_clamp(p_k_w, LOG2W, B2);
    wire [31:0] t2_w  = clamp(p_t_w, B2);
    wire [31:0] nb3_w = ceil_clamp(p_n_w, LOG2L, B3);
    wire [31:0] t3_w  = clamp(p_t_w, B3);
    localparam int P1_W = B1 << 1, P2_W = B2 << 1, P3_W = B3 << 1;
    wire [P1_W-1:0] p1_w;
    wire [P2_W-1:0] p2_w;
    wire [P3_W-1:0] p3_w;
    tern_seqmul #(.A_W(B1), .B_W(B1), .STEP(STEP1)) u_mul_w (
        .clk_i(clk_i), .start_i(mul_start_q), .a_i(nb1_w[B1-1:0]), .b_i(kw1_w[B1-1:0]), .p_o(p1_w));
    tern_seqmul #(.A_W(B2), .B_W(B2), .STEP(STEP2)) u_mul_a (
        .clk_i(clk_i), .start_i(mul_start_q), .a_i(kw2_w[B2-1:0]), .b_i(t2_w[B2-1:0]), .p_o(p2_w));
    tern_seqmul #(.A_W(B3), .B_W(B3), .STEP(STEP3)) u_mul_o (
        .clk_i(clk_i), .start_i(mul_start_q), .a_i(nb3_w[B3-1:0]), .b_i(t3_w[B3-1:0]), .p_o(p3_w));

    localparam int MK_W = $clog2(MAX_K + 1);
    localparam int WW_W = $clog2(WMEM_WORDS + 1);
    localparam int AW_W = $clog2(AMEM_WORDS + 1);
    localparam int OW_W = $clog2(OMEM_WORDS + 1);
    wire run_ok_w = (p_n_w != 0) && (p_k_w != 0) && !above(p_k_w, MAX_K, MK_W) && (p_t_w != 0) &&
                    (p_flags_w[31:1] == 31'd0) &&
                    fits(64'(p_wbase_w), 64'(p1_w), WMEM_WORDS, WW_W) &&
                    fits(64'(p_abase_w), 64'(p2_w), AMEM_WORDS, AW_W) &&
                    fits(64'(p_obase_w), 64'(p3_w), OMEM_WORDS, OW_W);

    // ---- memory access checks ------------------------------------------------------------------
    // offset + length <= region size on RG_W + 1 bits (either operand above is out of every region)
    localparam int RG_MAX = (WM_SIZE > AM_SIZE) ? ((WM_SIZE > OM_SIZE) ? WM_SIZE : OM_SIZE)
                                                : ((AM_SIZE > OM_SIZE) ? AM_SIZE : OM_SIZE);
    localparam int RG_W   = $clog2(RG_MAX + 1);
    localparam int PL_W   = $clog2(MAX_PAYLOAD + 1);
    if (RG_W > 30) begin : g_bad_region
        // Elaboration fails here: a memory region must be smaller than the 2^30 bytes of an address.
        tern_config_error_memory_region_too_large u_error ();
    end
    wire [31:0]     mem_len_w = (op_q == OP_WRITE_MEM) ? len_q : p_word_w;
    wire            mem_big_w = ((off_w >> RG_W) != 30'd0) || ((mem_len_w >> RG_W) != 32'd0);
    wire [RG_W:0]   mem_end_w = {1'b0, off_w[RG_W-1:0]} + {1'b0, mem_len_w[RG_W-1:0]};
    wire            in_rgn_w  = !mem_big_w &&
                                ((rgn_w == 2'd0) ? (mem_end_w <= (RG_W + 1)'(WM_SIZE)) :
                                 (rgn_w == 2'd1) ? (mem_end_w <= (RG_W + 1)'(AM_SIZE)) :
                                 (rgn_w == 2'd2) ? (mem_end_w <= (RG_W + 1)'(OM_SIZE)) : 1'b0);
    wire        reg_rd_ok_w = (addr_q < 32'd20) || (addr_q == 32'd32) || (addr_q == 32'd33);
    wire        reg_wr_ok_w = (addr_q == 32'd32) || (addr_q == 32'd33);

    // The checks of the pcrc decision cycle, in the reference order: opcode, length, address.
    logic [7:0] chk_st_w;
    always_comb begin
        chk_st_w = ST_OK;
        case (op_q)
            OP_PING, OP_READ_COUNTERS, OP_RESET:
                if (len_q != 0)            chk_st_w = ST_BAD_LEN;
                else if (addr_q != 0)      chk_st_w = ST_BAD_ADDR;
            OP_READ_REG:
                if (len_q != 0)            chk_st_w = ST_BAD_LEN;
                else if (!reg_rd_ok_w)     chk_st_w = ST_BAD_ADDR;
            OP_WRITE_REG:
                if (len_q != 32'd4)        chk_st_w = ST_BAD_LEN;
                else if (!reg_wr_ok_w)     chk_st_w = ST_BAD_ADDR;
            OP_WRITE_MEM:
                if (len_q == 0)            chk_st_w = ST_BAD_LEN;
                else if (!in_rgn_w || rgn_w == 2'd2) chk_st_w = ST_BAD_ADDR;
            OP_READ_MEM:
                if (len_q != 32'd4)        chk_st_w = ST_BAD_LEN;
                else if (p_word_w == 0 || above(p_word_w, MAX_PAYLOAD, PL_W)) chk_st_w = ST_BAD_LEN;
                else if (!in_rgn_w || (rgn_w == 2'd2 && (addr_q[1:0] != 2'd0 || p_word_w[1:0] != 2'd0)))
                                           chk_st_w = ST_BAD_ADDR;
            OP_RUN:
                if (len_q != 32'd28)       chk_st_w = ST_BAD_LEN;
                else if (addr_q != 0)      chk_st_w = ST_BAD_ADDR;
                else if (!run_ok_w)        chk_st_w = ST_BAD_ADDR;
            default:                       chk_st_w = ST_BAD_OPCODE;
        endcase
    end

    wire side_fx_w = (op_q == OP_WRITE_REG) | (op_q == OP_WRITE_MEM) | (op_q == OP_RUN) | (op_q == OP_RESET);
    wire dup_w     = last_valid_q & (seq_q == last_seq_q) & (op_q == last_op_q) & side_fx_w;
    wire pcrc_ok_w = (~crc32_q == pcrc_q);

    // response payload of a command that passed every check
    logic [TL_W-1:0] ok_len_w;
    logic [2:0]      ok_src_w;
    always_comb begin
        ok_len_w = '0;
        ok_src_w = SRC_NONE;
        case (op_q)
            OP_PING:          begin ok_len_w = TL_W'(80);  ok_src_w = SRC_ID;  end
            OP_READ_REG:      begin ok_len_w = TL_W'(4);   ok_src_w = SRC_REG; end
            OP_READ_COUNTERS: begin ok_len_w = TL_W'(120); ok_src_w = SRC_CNT; end
            OP_READ_MEM:      begin ok_len_w = p_word_w[TL_W-1:0]; ok_src_w = SRC_MEM; end
            default:          ;
        endcase
    end

    // ---- READ_MEM reader: the first word of the access and its formatting -------------------
    wire [29:0] wm_word_w = off_w >> LOG2BPW;
    wire [29:0] am_word_w = off_w >> LOG2W;
    wire [29:0] om_word_w = off_w >> LOG2OB;
    logic [MW-1:0]     rd_first_w;
    logic [CUR_L2-1:0] rd_bi0_w;
    always_comb begin
        rd_first_w = '0;
        case (rgn_w)
            2'd0:    begin rd_first_w = MW'(wm_word_w[WM_AW-1:0]); rd_bi0_w = off_w[CUR_L2-1:0] & WBM1; end
            2'd1:    begin rd_first_w = MW'(am_word_w[AM_AW-1:0]); rd_bi0_w = off_w[CUR_L2-1:0] & ABM1; end
            default: begin rd_first_w = MW'(om_word_w[OM_AW-1:0]); rd_bi0_w = off_w[CUR_L2-1:0] & OBM1; end
        endcase
    end

    // OMEM as the host sees it: 32-bit entries, sign-extended from ACC_W bits
    localparam int OM32_W = LANES << 5;
    wire [OM32_W-1:0] om32_w;
    genvar ol;
    for (ol = 0; ol < LANES; ol = ol + 1) begin : g_om32
        localparam int A_LO = ACC_W * ol;
        localparam int E_LO = ol << 5;
        assign om32_w[E_LO +: 32] = 32'(signed'(om_rdata_i[A_LO +: ACC_W]));
    end

    logic [CUR_W-1:0] fmt_w;                  // the word just read, as the host sees it
    always_comb begin
        fmt_w = '0;
        case (rd_rgn_q)
            2'd0:    fmt_w[WM_DW-1:0]  = wm_rdata_i;
            2'd1:    fmt_w[AM_DW-1:0]  = am_rdata_i;
            default: fmt_w[OM32_W-1:0] = om32_w;
        endcase
    end

    wire [CUR_L2-1:0] rd_wbm1_w = (rd_rgn_q == 2'd0) ? WBM1 : (rd_rgn_q == 2'd1) ? ABM1 : OBM1;
    wire pay_tx_w   = tx_w & (tx_ph_q == TX_PAY);
    wire rd_adv_w   = pay_tx_w & (rsp_src_q == SRC_MEM) & (rd_bi_q == rd_wbm1_w);  // word used up
    wire rd_load_w  = in_tx_w & (rsp_src_q == SRC_MEM) & ((rd_pend_q == 2'd1) | rd_adv_w);
    wire rd_re_w    = in_tx_w & (rsp_src_q == SRC_MEM) & ((rd_pend_q != 2'd0) | rd_adv_w);

    // ---- the response byte -------------------------------------------------------------------
    wire [31:0] rsp_len32_w = 32'(rsp_len_q);
    wire [6:0]  pidx_w      = tx_cnt_q[6:0];     // index into the ID block or counters
    always_comb begin
        tx_byte_w = 8'd0;
        case (tx_ph_q)
            TX_HDR:
                case (tx_cnt_q[3:0])
                    4'd0:    tx_byte_w = 8'hA5;
                    4'd1:    tx_byte_w = 8'h52;
                    4'd2:    tx_byte_w = 8'h01;
                    4'd3:    tx_byte_w = op_q;
                    4'd4:    tx_byte_w = seq_q[7:0];
                    4'd5:    tx_byte_w = seq_q[15:8];
                    4'd6:    tx_byte_w = rsp_st_q;
                    4'd7:    tx_byte_w = 8'd0;
                    4'd8:    tx_byte_w = rsp_len32_w[7:0];
                    4'd9:    tx_byte_w = rsp_len32_w[15:8];
                    4'd10:   tx_byte_w = rsp_len32_w[23:16];
                    4'd11:   tx_byte_w = rsp_len32_w[31:24];
                    4'd12:   tx_byte_w = crc16_q[7:0];
                    default: tx_byte_w = crc16_q[15:8];
                endcase
            TX_PAY:
                case (rsp_src_q)
                    SRC_ID:  tx_byte_w = id_blk_w[{pidx_w, 3'b000} +: 8];
                    SRC_REG: tx_byte_w = rsp_word_q[{pidx_w[1:0], 3'b000} +: 8];
                    SRC_CNT: tx_byte_w = cnt_rdata_w;
                    default: tx_byte_w = cur_q[{rd_bi_q, 3'b000} +: 8];
                endcase
            default:
                tx_byte_w = ~crc32_q[{tx_cnt_q[1:0], 3'b000} +: 8];
        endcase
    end

    // ---- main sequencer ----------------------------------------------------------------------
    wire [ST_AW-1:0] pay_last_w = len_s_q + ST_AW'(3);
    wire             reset_exec_w = (st_q == S_EXEC) & (op_q == OP_RESET);
    logic            go_tx_w;                  // the next cycle starts a response
    logic [7:0]      go_st_w;
    logic            run_start_w;

    always_comb begin
        go_tx_w     = 1'b0;
        go_st_w     = ST_OK;
        run_start_w = 1'b0;
        case (st_q)
            S_HCHK: begin
                go_tx_w = 1'b1;
                if (crc16_q != hcrc_q)                go_st_w = ST_BAD_HCRC;
                else if (ver_q != 8'd1)               go_st_w = ST_BAD_VERSION;
                else if (above(len_q, MAX_PAYLOAD, PL_W)) go_st_w = ST_BAD_LEN;
                else                                  go_tx_w = 1'b0;
            end
            S_PCHK: begin
                if (!pcrc_ok_w) begin
                    go_tx_w = 1'b1;
                    go_st_w = ST_BAD_PCRC;
                end else if (dup_w) begin
                    go_tx_w = 1'b1;
                    go_st_w = last_st_q;
                end else if (chk_st_w != ST_OK) begin
                    go_tx_w = 1'b1;
                    go_st_w = chk_st_w;
                end else begin
                    run_start_w = (op_q == OP_RUN);
                end
            end
            S_EXEC:   go_tx_w = 1'b1;
            S_COMMIT: go_tx_w = (cm_idx_q == len_s_q - 1'b1);
            S_RUN: begin
                go_tx_w = run_done_i;
                go_st_w = run_illegal_i ? ST_ILLEGAL_CODE : ST_OK;
            end
            default:  ;
        endcase
    end

    always_ff @(posedge clk_i) begin
        if (!rst_ni) begin
            st_q         <= S_HUNT;
            last_valid_q <= 1'b0;
            rsp_new_q    <= 1'b0;
            mul_start_q  <= 1'b0;
            scratch_q    <= 32'd0;
            err_q        <= 1'b0;
            rd_pend_q    <= 2'd0;
        end else begin
            rsp_new_q   <= go_tx_w;
            mul_start_q <= rx_w & (st_q == S_PAY) & (pay_idx_q == ST_AW'(19));
            case (st_q)
                S_HUNT:
                    if (rx_w && in_data_i == 8'hA5)
                        st_q <= S_MAGIC1;
                S_MAGIC1:
                    if (rx_w) begin
                        if (in_data_i == 8'h54) begin
                            st_q      <= S_HDR;
                            hdr_idx_q <= 5'd2;
                        end else if (in_data_i != 8'hA5) begin
                            st_q <= S_HUNT;
                        end
                    end
                S_HDR:
                    if (rx_w) begin
                        hdr_idx_q <= hdr_idx_q + 1'b1;
                        if (hdr_idx_q == 5'd17)
                            st_q <= S_HCHK;
                    end
                S_HCHK:
                    if (!go_tx_w) begin
                        st_q      <= S_PAY;
                        pay_idx_q <= '0;
                        len_s_q   <= len_q[ST_AW-1:0];
                    end
                S_PAY:
                    if (rx_w) begin
                        pay_idx_q <= pay_idx_q + 1'b1;
                        if (pay_idx_q == pay_last_w)
                            st_q <= S_PCHK;
                    end
                S_PCHK:
                    if (pcrc_ok_w) begin
                        if (!dup_w) begin
                            last_valid_q <= 1'b1;
                            last_seq_q   <= seq_q;
                            last_op_q    <= op_q;
                            last_st_q    <= chk_st_w;
                        end
                        if (!go_tx_w) begin
                            st_q      <= (op_q == OP_WRITE_MEM) ? S_COMMIT :
                                         (op_q == OP_RUN) ? S_RUN : S_EXEC;
                            cm_idx_q  <= '0;
                            cm_amem_q <= (rgn_w == 2'd1);
                            cm_off_q  <= off_w;
                        end
                    end
                S_EXEC: begin
                    case (op_q)
                        OP_READ_REG:
                            rsp_word_q <= (addr_q < 32'd20) ? id_blk_w[{addr_q[4:0], 5'b00000} +: 32] :
                                          (addr_q == 32'd32) ? scratch_q : {31'd0, err_q};
                        OP_WRITE_REG:
                            if (addr_q == 32'd32)
                                scratch_q <= p_word_w;
                            else
                                err_q <= err_q & ~p_word_w[0];     // write 1 to clear
                        OP_RESET: begin
                            scratch_q <= 32'd0;
                            err_q     <= 1'b0;
                        end
                        OP_READ_MEM:
                            rd_pend_q <= 2'd2;               // two priming reads (reader block below)
                        default: ;
                    endcase
                end
                S_COMMIT: begin
                    cm_idx_q <= cm_idx_q + 1'b1;
                    cm_off_q <= cm_off_q + 1'b1;
                end
                S_RUN:
                    if (run_done_i) begin
                        last_st_q <= go_st_w;
                        if (run_illegal_i)
                            err_q <= 1'b1;
                    end
                S_TX: begin
                    if (rd_pend_q != 2'd0)
                        rd_pend_q <= rd_pend_q - 1'b1;
                    if (tx_w) begin
                        tx_cnt_q <= tx_cnt_q + 1'b1;
                        case (tx_ph_q)
                            TX_HDR:
                                if (tx_cnt_q[3:0] == 4'd13) begin
                                    tx_ph_q  <= (rsp_len_q != 0) ? TX_PAY : TX_CRC;
                                    tx_cnt_q <= '0;
                                end
                            TX_PAY:
                                if (tx_cnt_q == rsp_len_q - 1'b1) begin
                                    tx_ph_q  <= TX_CRC;
                                    tx_cnt_q <= '0;
                                end
                            default:
                                if (tx_cnt_q[1:0] == 2'd3)
                                    st_q <= S_HUNT;
                        endcase
                    end
                end
                default: st_q <= S_HUNT;
            endcase
            if (go_tx_w) begin
                st_q     <= S_TX;
                tx_ph_q  <= TX_HDR;
                tx_cnt_q <= '0;
                rsp_st_q <= go_st_w;
            end
            if (st_q == S_HCHK || st_q == S_PCHK) begin
                rsp_len_q <= (st_q == S_PCHK && !go_tx_w) ? ok_len_w : '0;
                rsp_src_q <= (st_q == S_PCHK && !go_tx_w) ? ok_src_w : SRC_NONE;
            end
        end
    end

    // header field capture, CRCs, parameters, pcrc (datapath registers: no reset needed)
    always_ff @(posedge clk_i) begin
        if (rx_w) begin
            case (st_q)
                S_HUNT:                                   // from the initial value: right for A5
                    crc16_q <= c16_w;
                S_MAGIC1:                                 // crc16_q holds CRC(A5); another A5 keeps it
                    if (in_data_i == 8'h54)
                        crc16_q <= c16_w;
                S_HDR: begin
                    if (hdr_idx_q <= 5'd15)
                        crc16_q <= c16_w;
                    case (hdr_idx_q)
                        5'd2:  ver_q          <= in_data_i;
                        5'd3:  op_q           <= in_data_i;
                        5'd4:  seq_q[7:0]     <= in_data_i;
                        5'd5:  seq_q[15:8]    <= in_data_i;
                        5'd8:  addr_q[7:0]    <= in_data_i;
                        5'd9:  addr_q[15:8]   <= in_data_i;
                        5'd10: addr_q[23:16]  <= in_data_i;
                        5'd11: addr_q[31:24]  <= in_data_i;
                        5'd12: len_q[7:0]     <= in_data_i;
                        5'd13: len_q[15:8]    <= in_data_i;
                        5'd14: len_q[23:16]   <= in_data_i;
                        5'd15: len_q[31:24]   <= in_data_i;
                        5'd16: hcrc_q[7:0]    <= in_data_i;
                        5'd17: hcrc_q[15:8]   <= in_data_i;
                        default: ;                        // 6, 7: reserved flags, ignored
                    endcase
                end
                S_PAY:
                    if (pay_idx_q < len_s_q) begin
                        crc32_q <= c32_w;
                        if (pay_idx_q < ST_AW'(28))
                            prm_q[{pay_idx_q[4:0], 3'b000} +: 8] <= in_data_i;
                    end else begin
                        pcrc_q <= {in_data_i, pcrc_q[31:8]};
                    end
                default: ;
            endcase
        end
        if (st_q == S_HCHK)
            crc32_q <= 32'hFFFF_FFFF;
        if (go_tx_w) begin
            crc16_q <= 16'hFFFF;
            crc32_q <= 32'hFFFF_FFFF;
        end
        if (tx_w) begin
            if (tx_ph_q == TX_HDR && tx_cnt_q[3:0] <= 4'd11)
                crc16_q <= c16_w;
            if (tx_ph_q == TX_PAY)
                crc32_q <= c32_w;
        end
    end

    // READ_MEM reader: priming reads, then one word read whenever the current one is used up
    wire rd_start_w = (st_q == S_EXEC) & (op_q == OP_READ_MEM);
    always_ff @(posedge clk_i) begin
        if (rd_start_w) begin
            rd_rgn_q  <= rgn_w;
            rd_next_q <= rd_first_w;
            rd_bi_q   <= rd_bi0_w;
        end else begin
            if (rd_re_w)
                rd_next_q <= rd_next_q + 1'b1;
            if (pay_tx_w && rsp_src_q == SRC_MEM)
                rd_bi_q <= rd_adv_w ? '0 : rd_bi_q + 1'b1;
        end
        if (rd_load_w)
            cur_q <= fmt_w;
    end

    // ---- memory ports ------------------------------------------------------------------------
    wire cm_w = (st_q == S_COMMIT);
    logic [WM_BYTES-1:0] wm_we_w;
    logic [WIDTH-1:0]    am_we_w;
    always_comb begin
        for (int b = 0; b < WM_BYTES; b = b + 1)
            wm_we_w[b] = cm_w & ~cm_amem_q & ((cm_off_q & 30'(WM_BYTES - 1)) == 30'(b));
        for (int b = 0; b < WIDTH; b = b + 1)
            am_we_w[b] = cm_w & cm_amem_q & ((cm_off_q & 30'(WIDTH - 1)) == 30'(b));
    end
    wire [29:0] cm_wword_w = cm_off_q >> LOG2BPW;
    wire [29:0] cm_aword_w = cm_off_q >> LOG2W;

    assign wm_re_o    = rd_re_w & (rd_rgn_q == 2'd0);
    assign wm_raddr_o = rd_next_q[WM_AW-1:0];
    assign wm_we_o    = wm_we_w;
    assign wm_waddr_o = cm_wword_w[WM_AW-1:0];
    assign wm_wdata_o = {WM_BYTES{st_rdata_w}};
    assign am_re_o    = rd_re_w & (rd_rgn_q == 2'd1);
    assign am_raddr_o = rd_next_q[AM_AW-1:0];
    assign am_we_o    = am_we_w;
    assign am_waddr_o = cm_aword_w[AM_AW-1:0];
    assign am_wdata_o = {WIDTH{st_rdata_w}};
    assign om_re_o    = rd_re_w & (rd_rgn_q == 2'd2);
    assign om_raddr_o = rd_next_q[OM_AW-1:0];

    assign run_start_o = run_start_w;
    assign run_wbase_o = p_wbase_w[WM_AW-1:0];
    assign run_n_o     = p_n_w;
    assign run_k_o     = p_k_w;
    assign run_abase_o = p_abase_w[AM_AW-1:0];
    assign run_t_o     = p_t_w;
    assign run_obase_o = p_obase_w[OM_AW-1:0];
    assign run_accum_o = p_flags_w[0];

    // ---- counters (section 7): one category a cycle ----------------------------------------
    wire c_rx       = rx_w;
    wire c_stall_rx = ((st_q == S_MAGIC1) | (st_q == S_HDR) | (st_q == S_PAY)) & ~in_valid_i;
    wire c_ctrl     = (st_q == S_HCHK) | (st_q == S_PCHK) | (st_q == S_EXEC);
    wire c_commit   = (st_q == S_COMMIT);
    wire c_compute  = (st_q == S_RUN) & run_compute_i;
    wire c_pipe     = (st_q == S_RUN) & run_pipe_i;
    wire c_tx       = tx_w;
    wire c_stall_tx = in_tx_w & ~out_ready_i;
    wire c_any      = c_rx | c_stall_rx | c_ctrl | c_commit | c_compute | c_pipe | c_tx | c_stall_tx;
    wire c_fr_ok    = rsp_new_q & (rsp_st_q == ST_OK);       // frame counters: first response cycle
    wire c_fr_err   = rsp_new_q & (rsp_st_q != ST_OK);
    wire c_fr_ill   = rsp_new_q & (rsp_st_q == ST_ILLEGAL_CODE);

    // The counters live in block RAM (tern_counters): 13 of them, since BYTES_IN counts exactly the
    // RX cycles and BYTES_OUT exactly the TX cycles (one byte a cycle), so each pair shares one.
    // Stored order: TERN_OPS (the wide increment) first, then CYCLES .. STALL_TX, FRAMES_OK ..
    // ILLEGAL_RUNS. READ_COUNTERS snapshots them in its execute cycle (before that cycle is counted)
    // and sends counter c from stored counter cidx(c).
    localparam int NUM_ST = NUM_CNT - 2;
    wire [NUM_ST-1:1] cnt_inc_w = {c_fr_ill, c_fr_err, c_fr_ok,
                                   c_stall_tx, c_stall_rx, c_pipe, c_compute, c_commit, c_ctrl, c_tx, c_rx,
                                   c_any};
    wire [OPS_W-1:0]  cnt_ops_w = c_compute ? run_ops_i : '0;

    function automatic logic [3:0] cidx(input logic [3:0] c);
        if (c < 4'd9)        cidx = c + 4'd1;     // CYCLES .. CYC_STALL_TX
        else if (c == 4'd9)  cidx = 4'd0;         // TERN_OPS
        else if (c == 4'd10) cidx = 4'd2;         // BYTES_IN = CYC_RX
        else if (c == 4'd11) cidx = 4'd3;         // BYTES_OUT = CYC_TX
        else                 cidx = c - 4'd2;     // FRAMES_OK .. ILLEGAL_RUNS
    endfunction

    // Snapshot bytes are read one cycle ahead: the payload's first byte in the header's last cycle,
    // then the next byte whenever one moves (none after the last).
    wire       cnt_rd_w   = in_tx_w & (rsp_src_q == SRC_CNT) &
                            ((tx_ph_q == TX_PAY) ? ~(tx_w & (pidx_w == 7'd119))
                                                 : ((tx_ph_q == TX_HDR) & (tx_cnt_q[3:0] == 4'd13)));
    wire [6:0] cnt_ridx_w = (tx_ph_q == TX_PAY) ? pidx_w + {6'd0, tx_w} : 7'd0;

    tern_counters #(.NUM(NUM_ST), .WIDE_W(OPS_W)) u_cnt (
        .clk_i    (clk_i),
        .rst_ni   (rst_ni),
        .clear_i  (reset_exec_w),                 // RESET: zero in its execute cycle
        .wide_i   (cnt_ops_w),
        .inc_i    (cnt_inc_w),
        .snap_i   ((st_q == S_EXEC) & (op_q == OP_READ_COUNTERS)),
        .rd_i     (cnt_rd_w),
        .rd_cnt_i (cidx(cnt_ridx_w[6:3])),
        .rd_byte_i(cnt_ridx_w[2:0]),
        .rd_data_o(cnt_rdata_w)
    );

    wire unused_w = &{1'b0, wm_word_w[29:WM_AW], am_word_w[29:AM_AW], om_word_w[29:OM_AW],
                      cm_wword_w[29:WM_AW], cm_aword_w[29:AM_AW], nb1_w[31:B1], kw1_w[31:B1],
                      kw2_w[31:B2], t2_w[31:B2], nb3_w[31:B3], t3_w[31:B3], p_word_w[31:TL_W]};
endmodule
`default_nettype wire
