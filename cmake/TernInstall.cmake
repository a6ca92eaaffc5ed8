# TernInstall.cmake — install rules and package files. Included at the end of the top CMakeLists.
#
# Installs (when the targets exist; they are created in runtime/ and cli/):
#   tern        shared library  -> ${CMAKE_INSTALL_LIBDIR}/libtern.so   exported as tern::tern
#   tern_static static library  -> ${CMAKE_INSTALL_LIBDIR}/libtern.a    exported as tern::tern_static
#   tern_cli    the `tern` CLI  -> ${CMAKE_INSTALL_BINDIR}/tern
#   runtime/include/tern/*.h    -> ${CMAKE_INSTALL_INCLUDEDIR}/tern/
#   ternTargets.cmake, ternConfig.cmake, ternConfigVersion.cmake -> ${CMAKE_INSTALL_LIBDIR}/cmake/tern/
#   tern.pc                     -> ${CMAKE_INSTALL_LIBDIR}/pkgconfig/ (written at install time, so
#                                  `cmake --install build --prefix /x` gets /x in it)
#
# Inputs:
#   TERN_PC_REQUIRES_PRIVATE  pkg-config modules the library itself links (e.g. "libusb-1.0" when the
#                             usb backend is built); default empty. Becomes tern.pc's Requires.private
#                             and makes ternConfig.cmake recreate PkgConfig::LIBUSB. Must be visible
#                             in the top-level scope (cache, -D, or set(... PARENT_SCOPE) in runtime/).
#   TERN_PC_LIBS_PRIVATE      tern.pc's Libs.private (what a static link of libtern.a also needs);
#                             default "-lm" (the runtime links libm).
#
# The targets' public include directory must be given as
#   $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>   (install(EXPORT) refuses a raw source path;
# the install-tree include directory is added here with INCLUDES DESTINATION).

include_guard(GLOBAL)
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(_TERN_INSTALL_MODULE_DIR "${CMAKE_CURRENT_LIST_DIR}")

function(_tern_install)
  if(NOT TARGET tern)
    message(STATUS "tern: no 'tern' library target yet: nothing to install")
    return()
  endif()
  if(NOT DEFINED TERN_PC_REQUIRES_PRIVATE)
    set(TERN_PC_REQUIRES_PRIVATE "")
  endif()
  if(NOT DEFINED TERN_PC_LIBS_PRIVATE)
    set(TERN_PC_LIBS_PRIVATE "-lm")
  endif()
  get_filename_component(src_root "${_TERN_INSTALL_MODULE_DIR}/.." ABSOLUTE)
  set(cmake_dir "${CMAKE_INSTALL_LIBDIR}/cmake/tern")
  set(version "${PROJECT_VERSION}")
  if(version STREQUAL "")
    set(version "0.0.0")
  endif()

  # In-tree users can spell the targets as installed users do.
  set(libs tern)
  if(NOT TARGET tern::tern)
    add_library(tern::tern ALIAS tern)
  endif()
  if(TARGET tern_static)
    list(APPEND libs tern_static)
    if(NOT TARGET tern::tern_static)
      add_library(tern::tern_static ALIAS tern_static)
    endif()
  endif()

  # The Verilated RTL that the sim backend runs is an archive of its own (libtern_sim.a); a static
  # link of libtern.a needs it and the C++ runtime (see runtime/CMakeLists.txt), libtern.so has it inside.
  if(TARGET tern_sim)
    install(FILES "$<TARGET_FILE:tern_sim>" DESTINATION "${CMAKE_INSTALL_LIBDIR}")
  endif()
  install(TARGETS ${libs} EXPORT ternTargets
    LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}"
    ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}"
    RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}"
    INCLUDES DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
  install(DIRECTORY "${src_root}/runtime/include/tern/"
    DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/tern"
    FILES_MATCHING PATTERN "*.h")
  install(EXPORT ternTargets NAMESPACE tern:: FILE ternTargets.cmake DESTINATION "${cmake_dir}")

  configure_package_config_file("${_TERN_INSTALL_MODULE_DIR}/ternConfig.cmake.in"
    "${CMAKE_BINARY_DIR}/ternConfig.cmake"
    INSTALL_DESTINATION "${cmake_dir}"
    PATH_VARS CMAKE_INSTALL_INCLUDEDIR)
  # 0.x: a minor version may break the API.
  write_basic_package_version_file("${CMAKE_BINARY_DIR}/ternConfigVersion.cmake"
    VERSION "${version}" COMPATIBILITY SameMinorVersion)
  install(FILES "${CMAKE_BINARY_DIR}/ternConfig.cmake" "${CMAKE_BINARY_DIR}/ternConfigVersion.cmake"
    DESTINATION "${cmake_dir}")

  # The CLI (OUTPUT_NAME tern). Finds the installed libtern.so through its RPATH.
  if(TARGET tern_cli)
    get_target_property(rpath tern_cli INSTALL_RPATH)
    if(NOT rpath)
      file(RELATIVE_PATH rel "/p/${CMAKE_INSTALL_BINDIR}" "/p/${CMAKE_INSTALL_LIBDIR}")
      if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
        set(rpath "${CMAKE_INSTALL_LIBDIR}")
      else()
        set(rpath "$ORIGIN/${rel}")
      endif()
      set_target_properties(tern_cli PROPERTIES INSTALL_RPATH "${rpath}")
    endif()
    install(TARGETS tern_cli RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}")
  endif()

  # tern.pc: written at install time so that its prefix is the one actually installed to
  # (cmake --install --prefix overrides CMAKE_INSTALL_PREFIX then; DESTDIR is honoured by file(INSTALL)).
  if(TERN_PC_REQUIRES_PRIVATE STREQUAL "")
    set(req_line "")
  else()
    set(req_line "Requires.private: ${TERN_PC_REQUIRES_PRIVATE}")
  endif()
  set(TERN_PC_LIBDIR_REL "${CMAKE_INSTALL_LIBDIR}")
  set(TERN_PC_INCLUDEDIR_REL "${CMAKE_INSTALL_INCLUDEDIR}")
  set(TERN_PC_TEMPLATE "${_TERN_INSTALL_MODULE_DIR}/tern.pc.in")
  set(TERN_PC_OUT "${CMAKE_BINARY_DIR}/tern.pc")
  set(TERN_PC_DESCRIPTION "${PROJECT_DESCRIPTION}")
  if(TERN_PC_DESCRIPTION STREQUAL "")
    set(TERN_PC_DESCRIPTION "ternary LLM accelerator runtime")
  endif()
  set(TERN_PC_VERSION "${version}")
  set(TERN_PC_REQUIRES_PRIVATE_LINE "${req_line}")
  file(CONFIGURE OUTPUT "${CMAKE_BINARY_DIR}/tern_install_pc.cmake" @ONLY CONTENT [==[
# Generated by cmake/TernInstall.cmake: writes and installs tern.pc for the install-time prefix.
set(TERN_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
foreach(_d LIBDIR INCLUDEDIR)
  set(_rel "@TERN_PC_LIBDIR_REL@")
  if(_d STREQUAL "INCLUDEDIR")
    set(_rel "@TERN_PC_INCLUDEDIR_REL@")
  endif()
  if(IS_ABSOLUTE "${_rel}")
    set(TERN_PC_${_d} "${_rel}")
  else()
    set(TERN_PC_${_d} "\${prefix}/${_rel}")
  endif()
endforeach()
set(TERN_PC_DESCRIPTION "@TERN_PC_DESCRIPTION@")
set(TERN_PC_VERSION "@TERN_PC_VERSION@")
set(TERN_PC_REQUIRES_PRIVATE_LINE "@TERN_PC_REQUIRES_PRIVATE_LINE@")
set(TERN_PC_LIBS_PRIVATE "@TERN_PC_LIBS_PRIVATE@")
configure_file("@TERN_PC_TEMPLATE@" "@TERN_PC_OUT@" @ONLY)
if(IS_ABSOLUTE "@TERN_PC_LIBDIR_REL@")
  set(_pcdir "@TERN_PC_LIBDIR_REL@/pkgconfig")
else()
  set(_pcdir "${CMAKE_INSTALL_PREFIX}/@TERN_PC_LIBDIR_REL@/pkgconfig")
endif()
file(INSTALL "@TERN_PC_OUT@" DESTINATION "${_pcdir}")
]==])
  install(SCRIPT "${CMAKE_BINARY_DIR}/tern_install_pc.cmake")
endfunction()

_tern_install()
