# TernFpga.cmake — the FPGA flows of fpga_boards/: one call per board folder.
#
# tern_fpga_board(
#   NAME        <board>              folder name under fpga_boards/ (icebreaker, arty_a7, ulx3s)
#   CONFIG      <cfg>                configs/<cfg>.cfg: the accelerator it carries (its link must be the
#                                    board's link; the board top tern_board_<link> checks it)
#   FAMILY      ice40|xilinx|ecp5
#   DEVICE      <part>               up5k | xc7a100tcsg324-1 | LFE5U-85F ...
#   PACKAGE     <pkg>                sg48 | csg324 | CABGA381
#   TOP         <module>             the board's top module (in SOURCES)
#   SOURCES     <files...>           the board's own Verilog (top, clock/reset); the core, bridge
#                                    and board top of rtl/ are added
#   CONSTRAINTS <file>               .pcf | .xdc | .lpf
#   CLOCK_HZ    <Hz>                 the clock the design runs at on this board (timing target)
#   LINK        uart|fifo245         and USB_ID <vid:pid> of its bridge (for the report)
#   CAPACITY    LUT=n FF=n BRAM=n DSP=n [SPRAM=n]    the device's resources, for the report
#   PNR                              place and route (nextpnr-ice40 + icepack) is available here
#   GATE                             CI gate: the test fpga.<board> fails unless the design fits,
#                                    meets CLOCK_HZ and has no DSP or multiplier cell
# )
#
# Creates the target fpga_<board> (not in ALL) that writes into ${CMAKE_BINARY_DIR}/fpga_boards/<board>/:
#   synth.json (yosys netlist), stat.json (yosys `stat -json`), board.json (the arguments above,
#   written at configure time), and with PNR: pnr.json (nextpnr --report), <board>.asc, <board>.bin;
# and the test fpga.<board> (label fpga when GATE, else soak) that builds it and checks the gates.
# `cmake --build build --target fpga-report` regenerates docs/fpga-report.md and .json from them.
include_guard(GLOBAL)
