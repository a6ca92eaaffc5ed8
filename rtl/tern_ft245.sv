// tern_ft245.sv — FT2232H / FT232H synchronous 245 FIFO bridge between the chip's pins and the
// 8-bit valid/ready byte streams of the command processor. Runs on the chip's 60 MHz CLKOUT
// (single clock: the whole design is assumed to be on that clock).
//
// The bidirectional ADBUS is split into data_i (from the chip) and data_o + data_oe_o (to the
// chip); the top level builds the tristate. Every pin output is a register.
//   read:  oe_no goes low one cycle before rd_no; a byte is taken at each clock edge where
//          rd_no and rxf_ni are both low (the chip presents it while rd_no is low).
//   write: data_o is driven (data_oe_o) and wr_no is low; a byte is taken at each edge where
//          wr_no and txe_ni are both low.
// The bus turns around through one idle cycle (oe_no high, data_oe_o low) between directions.
// Arbitration: when both directions can move, the one not served last goes first, and a burst
// ends after BURST bytes, or as soon as it stalls (no room for a received byte, txe_n high, no
// byte to send), if the other direction is waiting: neither direction starves, and a stalled
// direction hands the bus to the other instead of holding it.
// Received bytes enter a 2-entry skid FIFO; rd_no is only low for the next edge when that FIFO
// will have room whatever the stream side does, so no byte is lost under back-pressure. Bytes to
// send wait in a 2-entry FIFO whose head is data_o.
`default_nettype none
module tern_ft245 #(
    parameter int BURST = 32        // bytes a burst may move while the other direction waits (1..255)
) (
    input  wire       clk_i,        // FT CLKOUT
    input  wire       rst_ni,       // synchronous, active low
    input  wire [7:0] data_i,       // ADBUS from the chip
    output wire [7:0] data_o,       // ADBUS to the chip
    output wire       data_oe_o,    // drive ADBUS
    input  wire       rxf_ni,       // chip has data for us
    input  wire       txe_ni,       // chip can take data
    output wire       rd_no,
    output wire       wr_no,
    output wire       oe_no,
    output wire       siwu_no,      // send immediate / wake up: unused, high
    output wire [7:0] rx_data_o,    // host -> device bytes
    output wire       rx_valid_o,
    input  wire       rx_ready_i,
    input  wire [7:0] tx_data_i,    // device -> host bytes
    input  wire       tx_valid_i,
    output wire       tx_ready_o
);
    localparam logic [1:0] S_IDLE = 2'd0, S_RD_OE = 2'd1, S_RD = 2'd2, S_WR = 2'd3;
    localparam logic [7:0] BLAST  = 8'(BURST);

    logic [1:0] state_q, state_d;
    logic       oe_n_q, rd_n_q, wr_n_q, doe_q;
    logic       oe_n_d, rd_n_d, wr_n_d, doe_d;
    logic       last_rd_q, last_rd_d;   // the last burst served was a read
    logic [7:0] bcnt_q, bcnt_d;         // bytes moved in this burst (saturating)

    // ---------------------------------------------------------------- receive skid FIFO
    logic [7:0] rxm_q [2];
    logic       rx_wp_q, rx_rp_q;
    logic [1:0] rx_cnt_q, rx_cnt_n;
    wire        cap    = ~rd_n_q & ~rxf_ni;
    wire        rx_pop = (rx_cnt_q != 2'd0) & rx_ready_i;

    always_comb begin
        rx_cnt_n = rx_cnt_q;
        if (cap && !rx_pop) rx_cnt_n = rx_cnt_q + 2'd1;
        if (!cap && rx_pop) rx_cnt_n = rx_cnt_q - 2'd1;
    end

    always_ff @(posedge clk_i) begin
        if (!rst_ni) begin
            rxm_q[0] <= 8'd0;
            rxm_q[1] <= 8'd0;
            rx_wp_q  <= 1'b0;
            rx_rp_q  <= 1'b0;
            rx_cnt_q <= 2'd0;
        end else begin
            if (cap) begin
                rxm_q[rx_wp_q] <= data_i;
                rx_wp_q        <= ~rx_wp_q;
            end
            if (rx_pop) rx_rp_q <= ~rx_rp_q;
            rx_cnt_q <= rx_cnt_n;
        end
    end

    assign rx_data_o  = rxm_q[rx_rp_q];
    assign rx_valid_o = rx_cnt_q != 2'd0;

    // ---------------------------------------------------------------- transmit FIFO
    logic [7:0] txm_q [2];
    logic       tx_wp_q, tx_rp_q;
    logic [1:0] tx_cnt_q, tx_cnt_n;
    wire        push = tx_valid_i & (tx_cnt_q != 2'd2);
    wire        wrt  = ~wr_n_q & ~txe_ni;

    always_comb begin
        tx_cnt_n = tx_cnt_q;
        if (push && !wrt) tx_cnt_n = tx_cnt_q + 2'd1;
        if (!push && wrt) tx_cnt_n = tx_cnt_q - 2'd1;
    end

    always_ff @(posedge clk_i) begin
        if (!rst_ni) begin
            txm_q[0] <= 8'd0;
            txm_q[1] <= 8'd0;
            tx_wp_q  <= 1'b0;
            tx_rp_q  <= 1'b0;
            tx_cnt_q <= 2'd0;
        end else begin
            if (push) begin
                txm_q[tx_wp_q] <= tx_data_i;
                tx_wp_q        <= ~tx_wp_q;
            end
            if (wrt) tx_rp_q <= ~tx_rp_q;
            tx_cnt_q <= tx_cnt_n;
        end
    end

    assign tx_ready_o = tx_cnt_q != 2'd2;
    assign data_o     = txm_q[tx_rp_q];

    // ---------------------------------------------------------------- pin sequencer
    wire rd_room  = rx_cnt_n != 2'd2;                  // room for one more byte at the next edge
    wire want_rd  = ~rxf_ni & rd_room;
    wire want_wr  = ~txe_ni & (tx_cnt_n != 2'd0);      // a byte will be on data_o at the next edge
    wire [7:0] bcnt_inc   = (bcnt_q == 8'hFF) ? bcnt_q : bcnt_q + 8'd1;
    wire [7:0] bcnt_n     = (cap | wrt) ? bcnt_inc : bcnt_q;
    wire       burst_done = bcnt_n >= BLAST;

    always_comb begin
        state_d   = state_q;
        last_rd_d = last_rd_q;
        bcnt_d    = bcnt_n;
        case (state_q)
            S_IDLE: begin
                bcnt_d = 8'd0;
                if (want_rd && (!want_wr || !last_rd_q)) state_d = S_RD_OE;
                else if (want_wr)                        state_d = S_WR;
            end
            S_RD_OE, S_RD: begin
                // stay while the chip has data, unless a write waits and this burst is over or stalled
                if (rxf_ni || (want_wr && (burst_done || !rd_room))) begin
                    state_d   = S_IDLE;
                    last_rd_d = 1'b1;
                end else begin
                    state_d = S_RD;
                end
            end
            default: begin                               // S_WR
                // stay while a byte can go, unless a read waits and this burst is over
                if (!want_wr || (want_rd && burst_done)) begin
                    state_d   = S_IDLE;
                    last_rd_d = 1'b0;
                end
            end
        endcase
        oe_n_d = ~((state_d == S_RD_OE) | (state_d == S_RD));
        rd_n_d = ~((state_d == S_RD) & want_rd);
        doe_d  = state_d == S_WR;
        wr_n_d = ~((state_d == S_WR) & want_wr);
    end

    always_ff @(posedge clk_i) begin
        if (!rst_ni) begin
            state_q   <= S_IDLE;
            oe_n_q    <= 1'b1;
            rd_n_q    <= 1'b1;
            wr_n_q    <= 1'b1;
            doe_q     <= 1'b0;
            last_rd_q <= 1'b0;
            bcnt_q    <= 8'd0;
        end else begin
            state_q   <= state_d;
            oe_n_q    <= oe_n_d;
            rd_n_q    <= rd_n_d;
            wr_n_q    <= wr_n_d;
            doe_q     <= doe_d;
            last_rd_q <= last_rd_d;
            bcnt_q    <= bcnt_d;
        end
    end

    assign oe_no     = oe_n_q;
    assign rd_no     = rd_n_q;
    assign wr_no     = wr_n_q;
    assign data_oe_o = doe_q;
    assign siwu_no   = 1'b1;
endmodule
`default_nettype wire
