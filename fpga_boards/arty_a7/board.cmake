# board.cmake — Digilent Arty A7-100T: configuration arty, UART over the FT2232H (channel B).
# Here: a yosys synth_xilinx resource estimate (no open place-and-route for 7-series in Debian);
# the bitstream is built with Vivado (vivado/build.tcl).
tern_fpga_board(
  NAME        arty_a7
  CONFIG      arty
  FAMILY      xilinx
  DEVICE      xc7a100tcsg324-1
  PACKAGE     csg324
  TOP         arty_a7_top
  SOURCES     ${CMAKE_CURRENT_LIST_DIR}/arty_a7_top.sv ${PROJECT_SOURCE_DIR}/rtl/tern_reset_gen.sv
  CONSTRAINTS ${CMAKE_CURRENT_LIST_DIR}/arty_a7.xdc
  CLOCK_HZ    100000000
  LINK        uart
  USB_ID      0403:6010
  CAPACITY    LUT=63400 FF=126800 BRAM=135 DSP=240)
