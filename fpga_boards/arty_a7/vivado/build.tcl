# build.tcl — the Arty A7-100T bitstream with Vivado (non-project batch flow), for users who have
# Vivado; the kit's own flow only runs yosys synth_xilinx for the resource estimate.
#
#   cmake -S . -B build                       # generates build/rtl/cfg/arty/tern_cfg.vh
#   vivado -mode batch -source fpga_boards/arty_a7/vivado/build.tcl -tclargs <repo> <build dir>
#
# writes <build dir>/fpga_boards/arty_a7/vivado/: arty_a7.bit, utilization.rpt, timing.rpt
if {[llength $argv] != 2} {
    puts "usage: vivado -mode batch -source build.tcl -tclargs <repo> <build dir>"
    exit 2
}
set repo  [file normalize [lindex $argv 0]]
set build [file normalize [lindex $argv 1]]
set inc   $build/rtl/cfg/arty
set out   $build/fpga_boards/arty_a7/vivado
if {![file exists $inc/tern_cfg.vh]} {
    puts "error: $inc/tern_cfg.vh is missing: configure the build first (cmake -S $repo -B $build)"
    exit 1
}
file mkdir $out

# the core and the UART board top, in rtl/CMakeLists.txt's order, then the board
foreach m {tern_pe tern_lane tern_array tern_crc16 tern_crc32 tern_seqmul tern_bram tern_run_engine
           tern_cmd_proc tern_top tern_uart tern_led_stretch tern_board_uart tern_reset_gen} {
    read_verilog -sv $repo/rtl/$m.sv
}
read_verilog -sv $repo/fpga_boards/arty_a7/arty_a7_top.sv
read_xdc $repo/fpga_boards/arty_a7/arty_a7.xdc

synth_design -top arty_a7_top -part xc7a100tcsg324-1 -include_dirs $inc
opt_design
place_design
route_design
report_utilization -file $out/utilization.rpt
report_timing_summary -file $out/timing.rpt
if {[get_property SLACK [get_timing_paths -max_paths 1 -nworst 1 -setup]] < 0} {
    puts "error: timing not met at 100 MHz (see $out/timing.rpt)"
    exit 1
}
write_bitstream -force $out/arty_a7.bit
puts "wrote $out/arty_a7.bit"
