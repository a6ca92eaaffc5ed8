# TernConfigs.cmake — configs/*.cfg -> generated C table and Verilog includes (ARCHITECTURE.md section 1).
#
#   include(TernConfigs)
#   tern_generate_configs()
#
# At configure time reads every configs/*.cfg except configs/timing.cfg (the run_setup/run_drain
# shared by all configurations), validates them (tern_config_parse.cmake) and writes
#
#   ${CMAKE_BINARY_DIR}/generated/include/tern_hwconfigs.h   static const struct tern_hwcfg tern_hwcfgs[]
#                                                             (sorted by name) + TERN_HWCFG_COUNT;
#                                                             needs runtime/backends on the include path
#   ${CMAKE_BINARY_DIR}/generated/rtl/tern_cfg_<name>.vh      `define TERN_CFG_LANES ... for one config
#
# A file is only rewritten when its content changes. Sets in the caller's scope:
#
#   TERN_CONFIG_NAMES            list of configuration names, sorted
#   TERN_GENERATED_INCLUDE_DIR   ${CMAKE_BINARY_DIR}/generated/include
#   TERN_GENERATED_RTL_DIR       ${CMAKE_BINARY_DIR}/generated/rtl
#   TERN_CONFIG_DIR              the configs/ directory that was read
#   TERN_CFG_<name>_<key>        every value of every configuration (e.g. TERN_CFG_tiny_lanes,
#                                TERN_CFG_tiny_link_kind, TERN_CFG_tiny_run_setup)
#
# TERN_CONFIG_DIR may be set before the call to read another directory (default: configs/ next to
# this file's cmake/ directory). Every .cfg is a configure dependency: editing, adding or removing
# one re-runs CMake.

include_guard(GLOBAL)
include("${CMAKE_CURRENT_LIST_DIR}/tern_config_parse.cmake")
set(_TERN_CONFIGS_MODULE_DIR "${CMAKE_CURRENT_LIST_DIR}")

# _tern_write_if_changed(<path> <content>)
function(_tern_write_if_changed path content)
  if(EXISTS "${path}")
    file(READ "${path}" old)
    if(old STREQUAL content)
      return()
    endif()
  endif()
  file(WRITE "${path}" "${content}")
endfunction()

function(tern_generate_configs)
  if(ARGN)
    message(FATAL_ERROR "tern_generate_configs() takes no arguments (got: ${ARGN})")
  endif()
  if(DEFINED TERN_CONFIG_DIR AND NOT TERN_CONFIG_DIR STREQUAL "")
    get_filename_component(cfg_dir "${TERN_CONFIG_DIR}" ABSOLUTE)
  else()
    get_filename_component(cfg_dir "${_TERN_CONFIGS_MODULE_DIR}/../configs" ABSOLUTE)
  endif()
  get_filename_component(src_root "${cfg_dir}/.." ABSOLUTE)
  set(gen_dir "${CMAKE_BINARY_DIR}/generated")
  set(inc_dir "${gen_dir}/include")
  set(rtl_dir "${gen_dir}/rtl")

  # CONFIGURE_DEPENDS: a config added or removed re-runs CMake at the next build.
  file(GLOB cfg_files CONFIGURE_DEPENDS "${cfg_dir}/*.cfg")
  set(timing_file "${cfg_dir}/timing.cfg")
  list(REMOVE_ITEM cfg_files "${timing_file}")
  if(NOT EXISTS "${timing_file}")
    message(FATAL_ERROR " ${timing_file}: file: missing (run_setup/run_drain shared by every configuration)")
  endif()
  if(NOT cfg_files)
    message(FATAL_ERROR " ${cfg_dir}: no configuration files (*.cfg other than timing.cfg)")
  endif()
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${cfg_files} "${timing_file}")

  tern_timing_load("${timing_file}" timing)

  # Sorted by name; name == basename is enforced, so sorting the basenames is sorting the names.
  set(names "")
  foreach(f IN LISTS cfg_files)
    tern_config_load("${f}" cfg)
    list(APPEND names "${cfg_name}")
    foreach(key IN LISTS TERN_CONFIG_KEYS ITEMS link_kind name_lo name_hi)
      set(v_${cfg_name}_${key} "${cfg_${key}}")
    endforeach()
    set(file_${cfg_name} "${f}")
  endforeach()
  list(SORT names)
  list(LENGTH names count)

  # --- C table --------------------------------------------------------------------------------
  set(rel_list "")
  foreach(n IN LISTS names)
    file(RELATIVE_PATH rel "${src_root}" "${file_${n}}")
    list(APPEND rel_list "${rel}")
  endforeach()
  file(RELATIVE_PATH timing_rel "${src_root}" "${timing_file}")
  list(JOIN rel_list ", " rel_text)

  set(h "/* tern_hwconfigs.h - generated from ${rel_text} and ${timing_rel}\n")
  string(APPEND h " * by cmake/TernConfigs.cmake; do not edit. Edit the .cfg files and re-run CMake.\n")
  string(APPEND h " * Only device models (ref, the sim wrapper) include this; see ARCHITECTURE.md section 1. */\n")
  string(APPEND h "#ifndef TERN_HWCONFIGS_H\n#define TERN_HWCONFIGS_H\n\n")
  string(APPEND h "#include \"tern_hwcfg.h\"\n\n")
  string(APPEND h "#define TERN_HWCFG_COUNT ${count}\n\n")
  string(APPEND h "/* name, lanes, width, acc_width, max_k, wmem_words, amem_words, omem_words, max_payload,\n")
  string(APPEND h " * clock_hz, link_kind (0 stream, 1 uart, 2 fifo245, 3 ft601), link_bytes_per_s,\n")
  string(APPEND h " * run_setup, run_drain; sorted by name. */\n")
  string(APPEND h "static const struct tern_hwcfg tern_hwcfgs[TERN_HWCFG_COUNT] = {\n")
  foreach(n IN LISTS names)
    set(row "\"${n}\"")
    foreach(key lanes width acc_width max_k wmem_words amem_words omem_words max_payload
                clock_hz link_kind link_bytes_per_s)
      string(APPEND row ", ${v_${n}_${key}}")
    endforeach()
    string(APPEND row ", ${timing_run_setup}, ${timing_run_drain}")
    string(APPEND h "    {${row}},\n")
  endforeach()
  string(APPEND h "};\n\n#endif /* TERN_HWCONFIGS_H */\n")
  file(MAKE_DIRECTORY "${inc_dir}" "${rtl_dir}")
  _tern_write_if_changed("${inc_dir}/tern_hwconfigs.h" "${h}")

  # --- Verilog includes -------------------------------------------------------------------------
  set(keep "")
  foreach(n IN LISTS names)
    file(RELATIVE_PATH rel "${src_root}" "${file_${n}}")
    set(vh "// tern_cfg_${n}.vh - generated from ${rel} and ${timing_rel} by cmake/TernConfigs.cmake;\n")
    string(APPEND vh "// do not edit. Edit the .cfg files and re-run CMake. See ARCHITECTURE.md sections 1 and 4.\n")
    string(APPEND vh "`ifndef TERN_CFG_VH\n`define TERN_CFG_VH\n")
    foreach(key lanes width acc_width max_k wmem_words amem_words omem_words max_payload
                clock_hz link_kind link_bytes_per_s)
      string(TOUPPER "${key}" up)
      string(APPEND vh "`define TERN_CFG_${up} ${v_${n}_${key}}\n")
    endforeach()
    string(APPEND vh "`define TERN_CFG_RUN_SETUP ${timing_run_setup}\n")
    string(APPEND vh "`define TERN_CFG_RUN_DRAIN ${timing_run_drain}\n")
    string(APPEND vh "`define TERN_CFG_NAME_LO 32'h${v_${n}_name_lo}\n")
    string(APPEND vh "`define TERN_CFG_NAME_HI 32'h${v_${n}_name_hi}\n")
    string(APPEND vh "`endif // TERN_CFG_VH\n")
    _tern_write_if_changed("${rtl_dir}/tern_cfg_${n}.vh" "${vh}")
    list(APPEND keep "${rtl_dir}/tern_cfg_${n}.vh")
  endforeach()
  # A configuration that was removed leaves no stale include behind.
  file(GLOB old_vh "${rtl_dir}/tern_cfg_*.vh")
  foreach(f IN LISTS old_vh)
    if(NOT f IN_LIST keep)
      file(REMOVE "${f}")
    endif()
  endforeach()

  list(JOIN names ", " names_text)
  message(STATUS "tern: ${count} accelerator configurations: ${names_text}")

  set(TERN_CONFIG_NAMES "${names}" PARENT_SCOPE)
  set(TERN_GENERATED_INCLUDE_DIR "${inc_dir}" PARENT_SCOPE)
  set(TERN_GENERATED_RTL_DIR "${rtl_dir}" PARENT_SCOPE)
  set(TERN_CONFIG_DIR "${cfg_dir}" PARENT_SCOPE)
  foreach(n IN LISTS names)
    foreach(key IN LISTS TERN_CONFIG_KEYS ITEMS link_kind)
      set(TERN_CFG_${n}_${key} "${v_${n}_${key}}" PARENT_SCOPE)
    endforeach()
    set(TERN_CFG_${n}_run_setup "${timing_run_setup}" PARENT_SCOPE)
    set(TERN_CFG_${n}_run_drain "${timing_run_drain}" PARENT_SCOPE)
  endforeach()
endfunction()

# tern_sim_missing(<out-var> [CONFIGS <cfg>...] [BOARDS <cfg>...] [TRACE])
#
# What a test needs of the Verilated simulator (sim/, target tern_sim) and this build lacks: sets
# <out-var> to "" when tern_sim exists with every configuration of CONFIGS Verilated, a board model
# of every configuration of BOARDS and, with TRACE, FST waveform support; otherwise to the reason,
# naming the CMake option that would add it. For the tests that are then left out, with a message
# at configure time (call it after rtl/ was added: the top level does).
function(tern_sim_missing out)
  cmake_parse_arguments(PARSE_ARGV 1 A "TRACE" "" "CONFIGS;BOARDS")
  if(NOT TARGET tern_sim)
    set(${out} "no Verilated simulator (Verilator not found, or -DCMAKE_DISABLE_FIND_PACKAGE_verilator=ON)"
        PARENT_SCOPE)
    return()
  endif()
  get_target_property(cfgs tern_sim TERN_SIM_CONFIGS)
  get_target_property(boards tern_sim TERN_BOARD_SIM_CONFIGS)
  get_target_property(trace tern_sim TERN_SIM_TRACE)
  set(why "")
  set(missing "")
  foreach(c IN LISTS A_CONFIGS)
    if(NOT c IN_LIST cfgs)
      list(APPEND missing ${c})
    endif()
  endforeach()
  set(no_board "")
  foreach(c IN LISTS A_BOARDS)
    if(c IN_LIST cfgs AND NOT c IN_LIST boards)
      list(APPEND no_board ${c})                  # Verilated, but its link has no bridge RTL
    elseif(NOT c IN_LIST boards AND NOT c IN_LIST missing)
      list(APPEND missing ${c})
    endif()
  endforeach()
  if(missing)
    list(JOIN missing " " m)
    list(JOIN cfgs " " b)
    list(APPEND why "configuration ${m} not Verilated (-DTERN_SIM_CONFIGS=${TERN_SIM_CONFIGS}: ${b})")
  endif()
  if(no_board)
    list(JOIN no_board " " m)
    list(APPEND why "configuration ${m} has no board model (no bridge RTL for its link)")
  endif()
  if(A_TRACE AND NOT trace)
    list(APPEND why "no FST tracing (-DTERN_SIM_TRACE=OFF)")
  endif()
  list(JOIN why "; " why)
  set(${out} "${why}" PARENT_SCOPE)
endfunction()
