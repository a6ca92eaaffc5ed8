// tern_uart.sv — 8N1 UART bridge: a receiver and a transmitter between two pins and the 8-bit
// valid/ready byte streams of the command processor.
//
// CLKS_PER_BIT (>= 4) clocks a bit. uart_rx_i goes through a 2-flop synchroniser. A start is a low
// level that holds for half a bit (CLKS_PER_BIT/2 + 1 synchronised samples): shorter glitches are
// ignored. Data bits are sampled in the middle of each bit, LSB first. A stop bit that reads 0 drops
// the byte, pulses frame_err_o for one cycle, and the receiver waits for the line to go high again.
// A received byte waits in rx_data_o/rx_valid_o until rx_ready_i; if the next byte completes while
// it is still waiting, the new byte is dropped and overrun_o pulses for one cycle.
// The transmitter takes a byte (tx_valid_i & tx_ready_o) when idle, or in the last cycle of a stop
// bit so back-to-back bytes have no gap, and sends start, 8 data bits LSB first and one stop bit
// from a register.
`default_nettype none
module tern_uart #(
    parameter int CLKS_PER_BIT = 4
) (
    input  wire       clk_i,
    input  wire       rst_ni,       // synchronous, active low
    input  wire       uart_rx_i,    // line from the host (asynchronous)
    output wire       uart_tx_o,    // line to the host
    output wire [7:0] rx_data_o,    // host -> device bytes
    output wire       rx_valid_o,
    input  wire       rx_ready_i,
    input  wire [7:0] tx_data_i,    // device -> host bytes
    input  wire       tx_valid_i,
    output wire       tx_ready_o,
    output wire       frame_err_o,  // one-cycle pulse: a byte was dropped, its stop bit was 0
    output wire       overrun_o     // one-cycle pulse: a byte was dropped, the previous one was not taken
);
    localparam int          CW   = $clog2(CLKS_PER_BIT);
    localparam logic [CW-1:0] LAST = CW'(CLKS_PER_BIT - 1);
    localparam logic [CW-1:0] HALF = CW'(CLKS_PER_BIT / 2 - 1);

    // ---------------------------------------------------------------- receiver
    localparam logic [2:0] R_IDLE = 3'd0, R_START = 3'd1, R_DATA = 3'd2, R_STOP = 3'd3, R_WAIT = 3'd4;

    logic          sync1_q, sync2_q;
    logic [2:0]    rst_q;           // receiver state
    logic [CW-1:0] rcnt_q;
    logic [2:0]    rbit_q;
    logic [7:0]    rsh_q;
    logic [7:0]    rdata_q;
    logic          rvalid_q, ferr_q, ovr_q;

    always_ff @(posedge clk_i) begin
        if (!rst_ni) begin
            sync1_q  <= 1'b1;
            sync2_q  <= 1'b1;
            rst_q    <= R_IDLE;
            rcnt_q   <= '0;
            rbit_q   <= 3'd0;
            rsh_q    <= 8'd0;
            rdata_q  <= 8'd0;
            rvalid_q <= 1'b0;
            ferr_q   <= 1'b0;
            ovr_q    <= 1'b0;
        end else begin
            sync1_q <= uart_rx_i;
            sync2_q <= sync1_q;
            ferr_q  <= 1'b0;
            ovr_q   <= 1'b0;
            if (rvalid_q && rx_ready_i) rvalid_q <= 1'b0;
            case (rst_q)
                R_IDLE: begin
                    rcnt_q <= '0;
                    if (!sync2_q) rst_q <= R_START;
                end
                R_START: begin
                    if (sync2_q) begin
                        rst_q <= R_IDLE;                 // glitch: not a start bit
                    end else if (rcnt_q == HALF) begin
                        rst_q  <= R_DATA;                // middle of the start bit
                        rcnt_q <= '0;
                        rbit_q <= 3'd0;
                    end else begin
                        rcnt_q <= rcnt_q + 1'b1;
                    end
                end
                R_DATA: begin
                    if (rcnt_q == LAST) begin
                        rcnt_q <= '0;
                        rsh_q  <= {sync2_q, rsh_q[7:1]};
                        rbit_q <= rbit_q + 3'd1;
                        if (rbit_q == 3'd7) rst_q <= R_STOP;
                    end else begin
                        rcnt_q <= rcnt_q + 1'b1;
                    end
                end
                R_STOP: begin
                    if (rcnt_q == LAST) begin
                        rcnt_q <= '0;
                        if (!sync2_q) begin
                            ferr_q <= 1'b1;
                            rst_q  <= R_WAIT;
                        end else begin
                            rst_q <= R_IDLE;
                            if (rvalid_q && !rx_ready_i) begin
                                ovr_q <= 1'b1;
                            end else begin
                                rdata_q  <= rsh_q;
                                rvalid_q <= 1'b1;
                            end
                        end
                    end else begin
                        rcnt_q <= rcnt_q + 1'b1;
                    end
                end
                default: begin                           // R_WAIT: line back high after a bad frame
                    if (sync2_q) rst_q <= R_IDLE;
                end
            endcase
        end
    end

    assign rx_data_o   = rdata_q;
    assign rx_valid_o  = rvalid_q;
    assign frame_err_o = ferr_q;
    assign overrun_o   = ovr_q;

    // ---------------------------------------------------------------- transmitter
    logic          tbusy_q, line_q;
    logic [CW-1:0] tcnt_q;
    logic [3:0]    tbit_q;          // bit on the line: 0 start, 1..8 data, 9 stop
    logic [8:0]    tsh_q;           // bits still to send, stop bit last

    wire tx_end  = tbusy_q & (tbit_q == 4'd9) & (tcnt_q == LAST);
    wire tx_take = tx_valid_i & (~tbusy_q | tx_end);

    always_ff @(posedge clk_i) begin
        if (!rst_ni) begin
            tbusy_q <= 1'b0;
            line_q  <= 1'b1;
            tcnt_q  <= '0;
            tbit_q  <= 4'd0;
            tsh_q   <= 9'h1FF;
        end else if (tx_take) begin              // idle, or the last cycle of a stop bit: no gap
            tbusy_q <= 1'b1;
            line_q  <= 1'b0;
            tcnt_q  <= '0;
            tbit_q  <= 4'd0;
            tsh_q   <= {1'b1, tx_data_i};
        end else if (tbusy_q) begin
            if (tcnt_q == LAST) begin
                tcnt_q <= '0;
                if (tbit_q == 4'd9) begin
                    tbusy_q <= 1'b0;
                end else begin
                    line_q <= tsh_q[0];
                    tsh_q  <= {1'b1, tsh_q[8:1]};
                    tbit_q <= tbit_q + 4'd1;
                end
            end else begin
                tcnt_q <= tcnt_q + 1'b1;
            end
        end
    end

    assign uart_tx_o  = line_q;
    assign tx_ready_o = ~tbusy_q | tx_end;
endmodule
`default_nettype wire
