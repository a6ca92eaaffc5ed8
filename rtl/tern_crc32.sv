// tern_crc32.sv — CRC-32 (IEEE 802.3, reflected poly 0xEDB88320) advanced by one byte, combinational.
`default_nettype none
module tern_crc32 (
    input  wire  [31:0] crc_i,    // running register (start with 32'hFFFFFFFF)
    input  wire  [7:0]  data_i,   // the next byte
    output logic [31:0] crc_o     // register after data_i; the CRC is its complement
);
    always_comb begin
        crc_o = crc_i ^ {24'd0, data_i};
        for (int b = 0; b < 8; b = b + 1)
            crc_o = crc_o[0] ? ({1'b0, crc_o[31:1]} ^ 32'hEDB88320) : {1'b0, crc_o[31:1]};
    end
endmodule
`default_nettype wire
