// tern_crc16.sv — CRC-16/CCITT-FALSE (poly 0x1021, MSB first) advanced by one byte, combinational.
`default_nettype none
module tern_crc16 (
    input  wire  [15:0] crc_i,    // running CRC (start with 16'hFFFF)
    input  wire  [7:0]  data_i,   // the next byte
    output logic [15:0] crc_o     // CRC after data_i; no final xor
);
    always_comb begin
        crc_o = crc_i ^ {data_i, 8'h00};
        for (int b = 0; b < 8; b = b + 1)
            crc_o = crc_o[15] ? ({crc_o[14:0], 1'b0} ^ 16'h1021) : {crc_o[14:0], 1'b0};
    end
endmodule
`default_nettype wire
