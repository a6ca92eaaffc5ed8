# board.cmake — 1BitSquared iCEBreaker (iCE40UP5K-SG48): configuration tiny, UART over the FT2232H
# (channel B, 3 Mbaud) on the 12 MHz oscillator. Full open flow: yosys, nextpnr-ice40, icepack.
# The CI gate (ctest -L fpga): the design fits the UP5K, meets 12 MHz and has no DSP.
tern_fpga_board(
  NAME        icebreaker
  CONFIG      tiny
  FAMILY      ice40
  DEVICE      up5k
  PACKAGE     sg48
  TOP         icebreaker_top
  SOURCES     icebreaker_top.sv ${PROJECT_SOURCE_DIR}/rtl/tern_reset_gen.sv
  CONSTRAINTS icebreaker.pcf
  CLOCK_HZ    12000000
  LINK        uart
  USB_ID      0403:6010
  CAPACITY    LUT=5280 FF=5280 BRAM=30 DSP=8 SPRAM=4
  PNR
  GATE)
