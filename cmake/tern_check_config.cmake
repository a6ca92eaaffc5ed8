# tern_check_config.cmake — validate one configuration file, in script mode:
#
#   cmake -DTERN_CFG=configs/tiny.cfg [-DTERN_TIMING=configs/timing.cfg] -P cmake/tern_check_config.cmake
#
# TERN_CFG is checked as an accelerator configuration, unless its basename is "timing", in which
# case it is checked as the shared timing file. TERN_TIMING, if given, is checked as a timing file
# too. Exits 0 and prints a one-line summary if everything is valid; otherwise exits nonzero with
# "<file>: <key>: <what is wrong>" (see tern_config_parse.cmake).
cmake_minimum_required(VERSION 3.25)
include("${CMAKE_CURRENT_LIST_DIR}/tern_config_parse.cmake")

if(NOT DEFINED TERN_CFG OR TERN_CFG STREQUAL "")
  message(FATAL_ERROR " usage: cmake -DTERN_CFG=<file.cfg> [-DTERN_TIMING=<timing.cfg>] -P ${CMAKE_CURRENT_LIST_FILE}")
endif()

if(DEFINED TERN_TIMING AND NOT TERN_TIMING STREQUAL "")
  tern_timing_load("${TERN_TIMING}" t)
  message(STATUS "${TERN_TIMING}: ok (run_setup ${t_run_setup}, run_drain ${t_run_drain})")
endif()

get_filename_component(_base "${TERN_CFG}" NAME_WLE)
if(_base STREQUAL "timing")
  tern_timing_load("${TERN_CFG}" t)
  message(STATUS "${TERN_CFG}: ok (run_setup ${t_run_setup}, run_drain ${t_run_drain})")
else()
  tern_config_load("${TERN_CFG}" c)
  message(STATUS "${TERN_CFG}: ok (${c_name}: ${c_lanes}x${c_width} lanes x width, "
                 "acc_width ${c_acc_width}, max_k ${c_max_k}, link ${c_link})")
endif()
