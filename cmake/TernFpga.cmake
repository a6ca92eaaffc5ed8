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
#   last it prints its result, one line a gate (cells used / available, fmax against the clock),
#   PASS or FAIL, and writes it to gates.json (a failed gate fails the test below, not the target;
#   a placement that misses the clock fails nextpnr, and so the target);
# and the test fpga.<board> (label fpga when GATE, else soak) that builds it and checks the gates.
# `cmake --build build --target fpga-report` writes build/fpga_boards/report/fpga-report.md and
# .json from them and prints a summary; nothing of this writes into the source tree. The committed
# snapshot docs/fpga-report.md and .json is replaced only by the explicit step
# `cmake --build build --target fpga-report-update-docs` (fpga-report, then a copy into docs/).
#
# Details: relative SOURCES and CONSTRAINTS are taken from the board's folder. yosys reads the
# board's configuration from TERN_RTL_CFG_ROOT/<cfg> and, for an iCE40 UltraPlus (up*), defines
# TERN_ICE40_SPRAM (WMEM in the SPRAMs: rtl/tern_wmem.sv); synth_ice40 runs without -dsp, the
# others with their defaults. Logs: synth.log, pnr.log, and the test's build.log. nextpnr runs with
# --freq CLOCK_HZ and without --timing-allow-fail. The test runs fpga_boards/report/check_gates.py
# (one line a failed gate, naming the board and the cause; fpga tests hold one lock, so they run
# one at a time); fpga-report runs fpga_boards/report/make_report.py over every board (the list is
# build/fpga_boards/boards.txt) and measures tokens/s with build/tern on the reference model.
include_guard(GLOBAL)

# Tools: yosys (every board), nextpnr-ice40 and icepack (PNR boards), python3 (the gate checker and
# the report). A missing yosys or python3 leaves the board out with a message; a missing nextpnr
# makes a PNR board synthesis-only, and its test reports itself skipped.
find_program(TERN_YOSYS_EXE yosys)
find_program(TERN_NEXTPNR_ICE40_EXE nextpnr-ice40)
find_program(TERN_ICEPACK_EXE icepack)
find_package(Python3 COMPONENTS Interpreter QUIET)

set(_TERN_FPGA_REPORT_DIR "${PROJECT_SOURCE_DIR}/fpga_boards/report")
set(_TERN_FPGA_FAMILIES ice40 xilinx ecp5)
set(_TERN_FPGA_CAPACITY_KEYS LUT FF BRAM DSP SPRAM)
set(_TERN_FPGA_ICE40_DEVICES lp384 lp1k lp4k lp8k hx1k hx4k hx8k up3k up5k u1k u2k u4k)

# _tern_fpga_json_str(<out-var> <string>): <string> as a JSON string literal
function(_tern_fpga_json_str out str)
  string(REPLACE "\\" "\\\\" str "${str}")
  string(REPLACE "\"" "\\\"" str "${str}")
  set(${out} "\"${str}\"" PARENT_SCOPE)
endfunction()

# _tern_fpga_json_list(<out-var> <items...>): a JSON array of strings
function(_tern_fpga_json_list out)
  set(items "")
  foreach(item IN LISTS ARGN)
    _tern_fpga_json_str(q "${item}")
    list(APPEND items "${q}")
  endforeach()
  list(JOIN items ", " joined)
  set(${out} "[${joined}]" PARENT_SCOPE)
endfunction()

# _tern_fpga_rtl_var(<name>): <name> from rtl/CMakeLists.txt's scope (TERN_RTL_* are set there; the
# top level adds fpga_boards/ after rtl/, so the directory's definitions can be read back).
macro(_tern_fpga_rtl_var var)
  if(NOT DEFINED ${var})
    get_directory_property(${var} DIRECTORY "${PROJECT_SOURCE_DIR}/rtl" DEFINITION ${var})
  endif()
endmacro()

function(tern_fpga_board)
  _tern_fpga_rtl_var(TERN_RTL_BOARD_CONFIGS)
  _tern_fpga_rtl_var(TERN_RTL_CFG_ROOT)
  foreach(c IN LISTS TERN_RTL_BOARD_CONFIGS)
    _tern_fpga_rtl_var(TERN_RTL_BOARD_SOURCES_${c})
    _tern_fpga_rtl_var(TERN_RTL_BOARD_TOP_${c})
  endforeach()
  if(NOT TERN_RTL_CFG_ROOT)
    message(FATAL_ERROR "tern_fpga_board(): rtl/ must be added before fpga_boards/ (no TERN_RTL_CFG_ROOT)")
  endif()
  set(options PNR GATE)
  set(one NAME CONFIG FAMILY DEVICE PACKAGE TOP CONSTRAINTS CLOCK_HZ LINK USB_ID)
  set(multi SOURCES CAPACITY)
  cmake_parse_arguments(PARSE_ARGV 0 A "${options}" "${one}" "${multi}")
  set(where "${CMAKE_CURRENT_LIST_FILE}")
  if(A_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "${where}: tern_fpga_board(): unknown arguments: ${A_UNPARSED_ARGUMENTS}")
  endif()
  foreach(key IN LISTS one ITEMS SOURCES CAPACITY)
    if(NOT DEFINED A_${key} OR "${A_${key}}" STREQUAL "")
      message(FATAL_ERROR "${where}: tern_fpga_board(): ${key} is required")
    endif()
  endforeach()
  set(name "${A_NAME}")
  set(cfg "${A_CONFIG}")
  if(NOT name MATCHES "^[A-Za-z0-9_]+$")
    message(FATAL_ERROR "${where}: tern_fpga_board(): NAME '${name}': letters, digits and _ only")
  endif()
  if(TARGET fpga_${name})
    message(FATAL_ERROR "${where}: tern_fpga_board(): board '${name}' is defined twice")
  endif()
  if(NOT A_FAMILY IN_LIST _TERN_FPGA_FAMILIES)
    message(FATAL_ERROR "${where}: FAMILY '${A_FAMILY}': one of ${_TERN_FPGA_FAMILIES}")
  endif()
  if(NOT cfg IN_LIST TERN_CONFIG_NAMES)
    message(FATAL_ERROR "${where}: CONFIG '${cfg}': no configs/${cfg}.cfg (have: ${TERN_CONFIG_NAMES})")
  endif()
  if(NOT cfg IN_LIST TERN_RTL_BOARD_CONFIGS)
    message(FATAL_ERROR "${where}: CONFIG '${cfg}': its link '${TERN_CFG_${cfg}_link}' has no board "
                        "top in rtl/ (boards exist for: ${TERN_RTL_BOARD_CONFIGS})")
  endif()
  if(NOT A_LINK STREQUAL TERN_CFG_${cfg}_link)
    message(FATAL_ERROR "${where}: LINK '${A_LINK}' but configs/${cfg}.cfg has link = ${TERN_CFG_${cfg}_link}")
  endif()
  if(NOT A_CLOCK_HZ MATCHES "^[1-9][0-9]*$")
    message(FATAL_ERROR "${where}: CLOCK_HZ '${A_CLOCK_HZ}': a positive integer (Hz)")
  endif()
  if(NOT A_USB_ID MATCHES "^[0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F]:[0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F]$")
    message(FATAL_ERROR "${where}: USB_ID '${A_USB_ID}': vid:pid, four hex digits each")
  endif()
  if(A_FAMILY STREQUAL "ice40" AND NOT A_DEVICE IN_LIST _TERN_FPGA_ICE40_DEVICES)
    message(FATAL_ERROR "${where}: DEVICE '${A_DEVICE}': an iCE40 nextpnr knows (${_TERN_FPGA_ICE40_DEVICES})")
  endif()
  if(A_PNR AND NOT A_FAMILY STREQUAL "ice40")
    message(FATAL_ERROR "${where}: PNR: place and route is available for FAMILY ice40 only (nextpnr-ice40 + icepack)")
  endif()

  # CAPACITY LUT=n FF=n BRAM=n DSP=n [SPRAM=n]
  set(cap_json "")
  foreach(item IN LISTS A_CAPACITY)
    if(NOT item MATCHES "^([A-Z]+)=([0-9]+)$")
      message(FATAL_ERROR "${where}: CAPACITY '${item}': KEY=count with KEY one of ${_TERN_FPGA_CAPACITY_KEYS}")
    endif()
    set(key "${CMAKE_MATCH_1}")
    if(NOT key IN_LIST _TERN_FPGA_CAPACITY_KEYS)
      message(FATAL_ERROR "${where}: CAPACITY '${item}': KEY one of ${_TERN_FPGA_CAPACITY_KEYS}")
    endif()
    if(DEFINED cap_${key})
      message(FATAL_ERROR "${where}: CAPACITY: ${key} given twice")
    endif()
    set(cap_${key} "${CMAKE_MATCH_2}")
    list(APPEND cap_json "\"${key}\": ${CMAKE_MATCH_2}")
  endforeach()
  foreach(key LUT FF BRAM DSP)
    if(NOT DEFINED cap_${key})
      message(FATAL_ERROR "${where}: CAPACITY: ${key}=n is required")
    endif()
  endforeach()
  list(JOIN cap_json ", " cap_json)

  # the board's files, relative to its folder
  set(board_srcs "")
  foreach(f IN LISTS A_SOURCES)
    get_filename_component(f "${f}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_LIST_DIR}")
    if(NOT EXISTS "${f}")
      message(FATAL_ERROR "${where}: SOURCES: ${f}: no such file")
    endif()
    list(APPEND board_srcs "${f}")
  endforeach()
  get_filename_component(constraints "${A_CONSTRAINTS}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_LIST_DIR}")
  if(NOT EXISTS "${constraints}")
    message(FATAL_ERROR "${where}: CONSTRAINTS: ${constraints}: no such file")
  endif()

  if(NOT TERN_YOSYS_EXE)
    message(STATUS "tern: yosys not found: no FPGA flow for board ${name}")
    return()
  endif()
  if(NOT Python3_Interpreter_FOUND)
    message(STATUS "tern: python3 not found: no FPGA flow for board ${name}")
    return()
  endif()
  set(pnr_tools FALSE)
  if(A_PNR)
    if(TERN_NEXTPNR_ICE40_EXE AND TERN_ICEPACK_EXE)
      set(pnr_tools TRUE)
    else()
      message(STATUS "tern: nextpnr-ice40 or icepack not found: board ${name} is synthesised only "
                     "(its test fpga.${name} is skipped)")
    endif()
  endif()

  set(out "${CMAKE_BINARY_DIR}/fpga_boards/${name}")
  file(MAKE_DIRECTORY "${out}")
  set(cfg_dir "${TERN_RTL_CFG_ROOT}/${cfg}")
  set(srcs ${TERN_RTL_BOARD_SOURCES_${cfg}} ${board_srcs})
  list(REMOVE_DUPLICATES srcs)

  # ---- synthesis: synth.json (netlist), stat.json (cell counts), synth.log --------------------
  set(defines "")
  if(A_FAMILY STREQUAL "ice40" AND A_DEVICE MATCHES "^up")
    set(defines "-DTERN_ICE40_SPRAM")        # WMEM in the UltraPlus SPRAMs (rtl/tern_wmem.sv)
  endif()
  if(A_FAMILY STREQUAL "xilinx")
    set(synth "synth_xilinx -family xc7 -top ${A_TOP}")
  else()
    # ice40: no -dsp (DSP inference stays off; the design has no multiplier anyway)
    set(synth "synth_${A_FAMILY} -top ${A_TOP}")
  endif()
  list(JOIN srcs " " srcs_joined)
  string(CONCAT ys "# ${name}: generated by cmake/TernFpga.cmake (tern_fpga_board), do not edit\n"
         "read_verilog -sv ${defines} -I${cfg_dir} ${srcs_joined}\n"
         "${synth}\n"
         "write_json synth.json\n"
         "tee -q -o stat.json stat -json\n"
         "tee -q -o stat.txt stat\n")
  file(CONFIGURE OUTPUT "${out}/synth.ys" CONTENT "${ys}" @ONLY)
  add_custom_command(
    OUTPUT "${out}/synth.json" "${out}/stat.json"
    COMMAND ${TERN_YOSYS_EXE} -q -l synth.log -s synth.ys
    DEPENDS ${srcs} "${out}/synth.ys" "${cfg_dir}/tern_cfg.vh"
    WORKING_DIRECTORY "${out}"
    COMMENT "fpga ${name}: yosys synth_${A_FAMILY} (${cfg}, top ${A_TOP})"
    VERBATIM)
  set(final "${out}/stat.json")

  # ---- place and route: pnr.json (utilisation, fmax), <board>.asc, <board>.bin ------------------
  if(pnr_tools)
    math(EXPR mhz_int "${A_CLOCK_HZ} / 1000000")
    math(EXPR mhz_frac "${A_CLOCK_HZ} % 1000000")
    if(mhz_frac EQUAL 0)
      set(mhz "${mhz_int}")
    else()
      string(LENGTH "${mhz_frac}" len)
      math(EXPR pad "6 - ${len}")
      string(REPEAT "0" ${pad} zeros)
      set(mhz "${mhz_int}.${zeros}${mhz_frac}")
    endif()
    # nextpnr fails on a timing miss (no --timing-allow-fail) but still writes its report; the
    # .asc is renamed into place only on success, so a failed run never looks up to date.
    add_custom_command(
      OUTPUT "${out}/${name}.asc" "${out}/pnr.json"
      COMMAND ${CMAKE_COMMAND} -E rm -f ${name}.asc ${name}.asc.tmp ${name}.bin pnr.json
      COMMAND ${TERN_NEXTPNR_ICE40_EXE} --${A_DEVICE} --package ${A_PACKAGE} --pcf ${constraints}
              --json synth.json --freq ${mhz} --report pnr.json --asc ${name}.asc.tmp -q -l pnr.log
      COMMAND ${CMAKE_COMMAND} -E rename ${name}.asc.tmp ${name}.asc
      DEPENDS "${out}/synth.json" "${constraints}"
      WORKING_DIRECTORY "${out}"
      COMMENT "fpga ${name}: nextpnr-ice40 --${A_DEVICE} --package ${A_PACKAGE} at ${mhz} MHz"
      VERBATIM)
    add_custom_command(
      OUTPUT "${out}/${name}.bin"
      COMMAND ${TERN_ICEPACK_EXE} ${name}.asc ${name}.bin
      DEPENDS "${out}/${name}.asc"
      WORKING_DIRECTORY "${out}"
      COMMENT "fpga ${name}: icepack -> ${out}/${name}.bin"
      VERBATIM)
    set(final "${out}/${name}.bin" "${out}/stat.json")
  endif()
  # last, the result: one line a gate (cells used / available, fmax against the clock), gates.json
  add_custom_target(fpga_${name}
    COMMAND ${Python3_EXECUTABLE} ${_TERN_FPGA_REPORT_DIR}/check_gates.py --report-only "${out}/board.json"
    DEPENDS ${final}
    COMMENT "fpga ${name}: result (fpga_boards/report/check_gates.py)"
    VERBATIM)

  # ---- board.json: everything the checker and the report need -------------------------------
  _tern_fpga_json_list(j_srcs ${srcs})
  foreach(v name cfg A_FAMILY A_DEVICE A_PACKAGE A_TOP A_LINK A_USB_ID constraints out
            TERN_CFG_${cfg}_link)
    _tern_fpga_json_str(j_${v} "${${v}}")
  endforeach()
  foreach(b A_PNR pnr_tools A_GATE)
    if(${b})
      set(j_${b} true)
    else()
      set(j_${b} false)
    endif()
  endforeach()
  set(cv "")
  foreach(key lanes width acc_width wmem_words amem_words omem_words max_payload clock_hz link_bytes_per_s)
    list(APPEND cv "\"${key}\": ${TERN_CFG_${cfg}_${key}}")
  endforeach()
  list(JOIN cv ", " cv)
  string(CONCAT json "{\n"
    "  \"name\": ${j_name},\n"
    "  \"config\": ${j_cfg},\n"
    "  \"family\": ${j_A_FAMILY},\n"
    "  \"device\": ${j_A_DEVICE},\n"
    "  \"package\": ${j_A_PACKAGE},\n"
    "  \"top\": ${j_A_TOP},\n"
    "  \"sources\": ${j_srcs},\n"
    "  \"constraints\": ${j_constraints},\n"
    "  \"clock_hz\": ${A_CLOCK_HZ},\n"
    "  \"link\": ${j_A_LINK},\n"
    "  \"usb_id\": ${j_A_USB_ID},\n"
    "  \"capacity\": {${cap_json}},\n"
    "  \"pnr\": ${j_A_PNR},\n"
    "  \"pnr_tools\": ${j_pnr_tools},\n"
    "  \"gate\": ${j_A_GATE},\n"
    "  \"dir\": ${j_out},\n"
    "  \"config_values\": {${cv}, \"link\": ${j_TERN_CFG_${cfg}_link}}\n"
    "}\n")
  file(CONFIGURE OUTPUT "${out}/board.json" CONTENT "${json}" @ONLY)

  # ---- the gate test --------------------------------------------------------------------------
  if(A_GATE)
    set(label fpga)
  else()
    set(label soak)
  endif()
  add_test(NAME fpga.${name}
           COMMAND ${Python3_EXECUTABLE} ${_TERN_FPGA_REPORT_DIR}/check_gates.py
                   --build-dir ${CMAKE_BINARY_DIR} --target fpga_${name} --cmake ${CMAKE_COMMAND}
                   --config "$<CONFIG>" "${out}/board.json")
  # one FPGA build at a time (yosys wants the whole machine; one build tree)
  set_tests_properties(fpga.${name} PROPERTIES LABELS ${label} TIMEOUT 7200 SKIP_RETURN_CODE 77
                       RESOURCE_LOCK tern_fpga_build)

  # ---- the report over every board --------------------------------------------------------------
  set_property(GLOBAL APPEND PROPERTY TERN_FPGA_BOARD_JSONS "${out}/board.json")
  get_property(all GLOBAL PROPERTY TERN_FPGA_BOARD_JSONS)
  list(JOIN all "\n" all)
  file(CONFIGURE OUTPUT "${CMAKE_BINARY_DIR}/fpga_boards/boards.txt" CONTENT "${all}\n" @ONLY)
  if(NOT TARGET fpga-report)
    set(tern_arg "")
    if(TARGET tern_cli)
      set(tern_arg --tern $<TARGET_FILE:tern_cli>)
    endif()
    set(rdir "${CMAKE_BINARY_DIR}/fpga_boards/report")
    add_custom_target(fpga-report
      COMMAND ${Python3_EXECUTABLE} ${_TERN_FPGA_REPORT_DIR}/make_report.py
              --boards ${CMAKE_BINARY_DIR}/fpga_boards/boards.txt ${tern_arg}
              --model-dir ${PROJECT_SOURCE_DIR}/../shared/models/bitllama-3m
              --work ${rdir} --md ${rdir}/fpga-report.md --json ${rdir}/fpga-report.json
      WORKING_DIRECTORY ${CMAKE_BINARY_DIR}
      COMMENT "fpga-report: ${rdir}/fpga-report.md and .json"
      VERBATIM)
    if(TARGET tern_cli)
      add_dependencies(fpga-report tern_cli)
    endif()
    # docs/fpga-report.md and .json are a committed snapshot: replacing it is this explicit step
    add_custom_target(fpga-report-update-docs
      COMMAND ${CMAKE_COMMAND} -E copy ${rdir}/fpga-report.md ${rdir}/fpga-report.json ${PROJECT_SOURCE_DIR}/docs/
      COMMAND ${CMAKE_COMMAND} -E echo "fpga-report: copied into ${PROJECT_SOURCE_DIR}/docs/ (review and commit)"
      COMMENT "fpga-report-update-docs: the build tree's report -> docs/fpga-report.md and .json"
      VERBATIM)
    add_dependencies(fpga-report-update-docs fpga-report)
    # the gate checker on made-up board outputs: its result lines, exit status and gates.json
    add_test(NAME fpga.check_gates COMMAND ${Python3_EXECUTABLE} ${_TERN_FPGA_REPORT_DIR}/test_gates.py)
    set_tests_properties(fpga.check_gates PROPERTIES LABELS fpga TIMEOUT 120)
  endif()
  add_dependencies(fpga-report fpga_${name})
endfunction()
