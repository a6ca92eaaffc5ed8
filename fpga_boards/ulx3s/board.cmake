# board.cmake — Radiona ULX3S 85F: configuration ulx3s, UART over the FT231X.
# Here: a yosys synth_ecp5 resource estimate (nextpnr-ecp5 is not packaged in Debian 12; the
# README gives the OSS CAD Suite route to a bitstream).
tern_fpga_board(
  NAME        ulx3s
  CONFIG      ulx3s
  FAMILY      ecp5
  DEVICE      LFE5U-85F
  PACKAGE     CABGA381
  TOP         ulx3s_top
  SOURCES     ${CMAKE_CURRENT_LIST_DIR}/ulx3s_top.sv ${PROJECT_SOURCE_DIR}/rtl/tern_reset_gen.sv
  CONSTRAINTS ${CMAKE_CURRENT_LIST_DIR}/ulx3s.lpf
  CLOCK_HZ    25000000
  LINK        uart
  USB_ID      0403:6015
  CAPACITY    LUT=83640 FF=83640 BRAM=208 DSP=156)
