// tern_counters.sv — the 64-bit cycle counters of ARCHITECTURE.md section 7 in block RAM, with a snapshot.
//
// NUM counters of 64 bits, wrapping. Counter 0 adds wide_i (0 .. 2^WIDE_W - 1) a cycle, the others
// add 0 or 1 (inc_i). Instead of NUM x 64 flip-flops and adders (and as many again for the
// READ_COUNTERS snapshot), the values live in a RAM of CH_W-bit chunks and each counter has a
// small delta register that takes this cycle's increment:
//
//   - A sequencer walks the RAM without pause, one chunk a cycle (counter 0 chunk 0, chunk 1, ...
//     counter NUM-1 last chunk, then again). Chunk 0 of counter c adds its delta and, in the carry
//     input, this cycle's increment of a narrow counter (the delta restarts from 0); the next
//     chunks add the carry of the chunk before: the value of c is RAM + delta, carries included.
//     A delta thus waits at most 3 rounds of NUM x CHUNKS cycles (a round, a snapshot pass, a
//     round; elaboration checks that this fits in its 8 extra bits).
//   - snap_i (the READ_COUNTERS execute cycle) copies every delta into a shift register; once the
//     counter being added (if any) is done, a pass over all counters writes RAM + copied delta into
//     a second RAM, the snapshot, that rd_* reads. The live RAM is not written during the pass;
//     the deltas keep counting; a counter whose chunk 0 comes between snap_i and the pass keeps
//     its delta for the next round. Snapshot counter c chunk k can be read from cycle
//     snap_i + 2 + CHUNKS (c + 1) + k on (the command processor reads stored counter c + 1's first
//     byte no earlier than 14 + 8 c cycles after snap_i, after the 14 header bytes).
//   - clear_i (RESET's execute cycle) and rst_ni zero the deltas and flag every counter zero: the
//     next time the sequencer adds one, it takes its RAM chunks as 0 (the RAMs are never cleared
//     and start with any content).
//
// Contract with the command processor: snap_i at most once every 4 x NUM x CHUNKS cycles and never
// while clear_i could come (a READ_COUNTERS response is at least 138 cycles long, a RESET frame 22).
`default_nettype none
module tern_counters #(
    parameter int NUM    = 13,                   // counters (2 .. 16)
    parameter int WIDE_W = 6,                    // bits of counter 0's increment
    localparam int IDX_W = $clog2(NUM)
) (
    input  wire              clk_i,
    input  wire              rst_ni,             // synchronous, active low: every counter becomes 0
    input  wire              clear_i,            // every counter becomes 0, this cycle's increments dropped
    input  wire [WIDE_W-1:0] wide_i,             // counter 0's increment this cycle
    input  wire [NUM-1:1]    inc_i,              // counter c (c >= 1) adds 1 this cycle
    input  wire              snap_i,             // snapshot the values before this cycle's increments
    input  wire              rd_i,               // read one byte of the snapshot
    input  wire [IDX_W-1:0]  rd_cnt_i,           // counter
    input  wire [2:0]        rd_byte_i,          // byte, 0 the least significant
    output wire [7:0]        rd_data_o           // one cycle after rd_i; holds otherwise
);
    localparam int NDW_L2 = 3;
    localparam int NDW    = 1 << NDW_L2;                     // delta bits of counters 1 ..
    localparam int WDW    = WIDE_W + 8;                      // delta bits of counter 0
    localparam int CH_W   = (WDW <= 16) ? 16 : 32;           // chunk: RAM word, added in a cycle
    localparam int CHUNKS = 64 / CH_W;
    localparam int K_W    = $clog2(CHUNKS);
    localparam int BS_W   = $clog2(CH_W / 8);                // byte within a chunk
    localparam int A_W    = IDX_W + K_W;
    localparam int DEPTH  = NUM << K_W;
    localparam int WAIT3  = 3 * NUM * CHUNKS;                // longest wait of a delta: 3 rounds

    if (NUM < 2 || NUM > 16 || WAIT3 + 4 > 255 || WDW > 32) begin : g_bad_num
        // Elaboration fails here: a delta could overflow its 8 extra bits.
        tern_config_error_counters_out_of_range u_error ();
    end

    // ---- deltas, zero flags, the snapshot's copy of the deltas -------------------------------
    localparam int NN_W = (NUM - 1) * NDW;       // counters 1 .. NUM-1: counter c at (c - 1) NDW
    logic [WDW-1:0]  d0_q, f0_q;
    logic [NN_W-1:0] dn_q, fn_q;
    logic [NUM-1:0]  z_q;                        // counter reads 0 from the RAM at its next add

    // ---- sequencer: the chunk read this cycle (issue) and the chunk whose data arrived (add) --
    logic [IDX_W-1:0] ic_q, ac_q;
    logic [K_W-1:0]   ik_q, ak_q;
    logic             ipass_q, apass_q;          // the snapshot pass is issuing / adding
    logic             av_q;                      // the add stage holds a chunk (not after reset)
    logic             req_q;                     // a snapshot waits for the counter being added
    logic             carry_q, zq_q;             // carry and zero flag into the next chunk

    wire ilast_k_w = (ik_q == K_W'(CHUNKS - 1));
    wire ilast_c_w = (ic_q == IDX_W'(NUM - 1));
    wire pass_go_w = ilast_k_w & (req_q | snap_i);

    always_ff @(posedge clk_i) begin
        if (!rst_ni) begin
            ic_q    <= '0;
            ik_q    <= '0;
            ipass_q <= 1'b0;
            req_q   <= 1'b0;
        end else begin
            ik_q <= ik_q + 1'b1;
            if (pass_go_w) begin
                ic_q    <= '0;
                ipass_q <= 1'b1;
                req_q   <= 1'b0;
            end else begin
                if (snap_i)
                    req_q <= 1'b1;
                if (ilast_k_w) begin
                    ic_q <= ilast_c_w ? '0 : ic_q + 1'b1;
                    if (ilast_c_w)
                        ipass_q <= 1'b0;
                end
            end
        end
    end

    always_ff @(posedge clk_i) begin
        ac_q    <= ic_q;
        ak_q    <= ik_q;
        apass_q <= ipass_q;
        av_q    <= rst_ni;
    end

    // ---- the add stage ----------------------------------------------------------------------
    wire [CH_W-1:0] live_w;                      // live RAM chunk (ac_q, ak_q)
    wire            first_w   = (ak_q == '0);
    wire            zero_w    = first_w ? z_q[ac_q] : zq_q;
    // Counter ac_q's delta goes into the RAM: not in the pass, and not while a snapshot waits for
    // its pass (the deltas were copied: a counter whose chunk 0 comes after snap_i keeps its delta).
    wire            consume_w = av_q & first_w & ~apass_q & ~req_q;

    logic [WDW-1:0] dsel_w;                      // the delta or copy of counter ac_q
    always_comb begin
        dsel_w = '0;
        if (apass_q)
            dsel_w = f0_q;                       // the copies shift: counter ac_q's is at 0
        else if (ac_q == '0)
            dsel_w = d0_q;
        else
            for (int c = 1; c < NUM; c = c + 1)
                if (ac_q == IDX_W'(c))
                    dsel_w = WDW'(dn_q[((c - 1) << NDW_L2) +: NDW]);
    end

    // A narrow counter's increment of this cycle goes straight into the RAM with its delta (the
    // carry input), except in a snapshot cycle: the snapshot must not see it, the delta keeps it.
    logic inc_sel_w;
    always_comb begin
        inc_sel_w = 1'b0;
        for (int c = 1; c < NUM; c = c + 1)
            if (ac_q == IDX_W'(c))
                inc_sel_w = inc_i[c];
    end

    wire [CH_W-1:0] add_w   = (first_w & (apass_q | consume_w)) ? CH_W'(dsel_w) : '0;
    wire            cin_w   = first_w ? (consume_w & ~snap_i & inc_sel_w) : carry_q;
    wire [CH_W:0]   sum_w   = {1'b0, zero_w ? {CH_W{1'b0}} : live_w} + {1'b0, add_w} + {{CH_W{1'b0}}, cin_w};
    wire [A_W-1:0]  aaddr_w = {ac_q, ak_q};

    always_ff @(posedge clk_i) begin
        carry_q <= sum_w[CH_W];
        zq_q    <= zero_w;
    end

    // ---- deltas ---------------------------------------------------------------------------
    wire reset_w = ~rst_ni | clear_i;
    wire shift_w = av_q & apass_q & first_w;     // counter ac_q's copy used: the next moves to 0
    wire mine0_w = consume_w & (ac_q == '0);

    always_ff @(posedge clk_i) begin
        if (reset_w) begin
            d0_q <= '0;
            z_q  <= '1;
        end else begin
            d0_q <= (mine0_w ? WDW'(0) : d0_q) + WDW'(wide_i);
            if (consume_w)
                z_q[ac_q] <= 1'b0;
        end
        if (snap_i)
            f0_q <= mine0_w ? WDW'(0) : d0_q;
        else if (shift_w)
            f0_q <= WDW'(fn_q[NDW-1:0]);
    end

    genvar c;
    for (c = 1; c < NUM; c = c + 1) begin : g_delta
        localparam int LO = (c - 1) * NDW;
        wire             mine_w = consume_w & (ac_q == IDX_W'(c));
        wire [NDW-1:0]   next_w;                 // counter c + 1's copy (0 after the last)
        if (c == NUM - 1) begin : g_last
            assign next_w = '0;
        end else begin : g_mid
            assign next_w = fn_q[LO + NDW +: NDW];
        end
        always_ff @(posedge clk_i) begin
            if (reset_w)
                dn_q[LO +: NDW] <= '0;
            else if (mine_w)                     // this cycle's increment went into the RAM
                dn_q[LO +: NDW] <= {{(NDW-1){1'b0}}, snap_i & inc_i[c]};
            else
                dn_q[LO +: NDW] <= dn_q[LO +: NDW] + NDW'(inc_i[c]);
            if (snap_i)
                fn_q[LO +: NDW] <= mine_w ? NDW'(0) : dn_q[LO +: NDW];
            else if (shift_w)
                fn_q[LO +: NDW] <= next_w;
        end
    end

    // ---- the two RAMs ---------------------------------------------------------------------
    tern_bram #(.DEPTH(DEPTH), .DATA_W(CH_W)) u_live (
        .clk_i,
        .re_i   (1'b1),
        .raddr_i({ic_q, ik_q}),
        .rdata_o(live_w),
        .we_i   (av_q & ~apass_q),
        .waddr_i(aaddr_w),
        .wdata_i(sum_w[CH_W-1:0])
    );

    wire [CH_W-1:0] snap_w;
    logic [BS_W-1:0] rd_sel_q;
    tern_bram #(.DEPTH(DEPTH), .DATA_W(CH_W)) u_snap (
        .clk_i,
        .re_i   (rd_i),
        .raddr_i({rd_cnt_i, rd_byte_i[2:BS_W]}),
        .rdata_o(snap_w),
        .we_i   (av_q & apass_q),
        .waddr_i(aaddr_w),
        .wdata_i(sum_w[CH_W-1:0])
    );

    always_ff @(posedge clk_i) begin
        if (rd_i)
            rd_sel_q <= rd_byte_i[BS_W-1:0];
    end

    assign rd_data_o = snap_w[{rd_sel_q, 3'b000} +: 8];
endmodule
`default_nettype wire
