# TernSanitize.cmake — the TERN_SANITIZE option: build every project C/C++ target with the
# compiler's sanitizers (AddressSanitizer, UndefinedBehaviorSanitizer, LeakSanitizer), with gcc or
# clang, and give ctest the runtime options that make any report fail the test run.
#
#   cmake -S . -B build-asan -DTERN_SANITIZE=address,undefined     (a comma list; empty: off)
#
# Included by the top-level CMakeLists.txt before the first add_subdirectory(): tern_sanitize_setup()
# adds the flags as directory options (so every target below inherits them), and
# tern_sanitize_finish(), called after the last add_subdirectory(), reaches the targets that replace
# their COMPILE_OPTIONS (the Verilated libraries and module tests do, because Verilator's C++ is not
# -Wall -Werror clean).
#
# What is instrumented: every C and C++ source of the project (the source tree and what the build
# generates from it outside Verilator). What is not: the Verilated C++ and Verilator's own runtime.
# Instrumenting them would double the build time of the simulator models (~100 MB of generated C++
# over the configurations) and slow the RTL several times, to check code that Verilator writes, not
# us; left alone, they compile with the same flags as in a normal tree, so ccache serves them from
# that tree. They still link and run in the sanitized programs.
#
# Executables carry the sanitizer runtimes statically (clang's default; -static-libasan and friends
# with gcc): the runtime is then part of the main program, first in the initial library list even
# when the virtual board puts umockdev's preload library in LD_PRELOAD, and uninstrumented helpers
# (bash, the tools a test script runs) do not load it at all.
#
# ctest in a sanitized tree (tern_sanitize_finish() makes CTestTestfile.cmake include sanitize_env.cmake):
#   ASAN_OPTIONS   detect_leaks=1 (LSan at exit), halt on the first error (ASan's default)
#   UBSAN_OPTIONS  print_stacktrace=1, halt_on_error=1 (with -fno-sanitize-recover=all every finding stops)
#   LSAN_OPTIONS   suppressions=tests/sanitize/lsan.supp (third-party libraries only)
# Options the user sets in the environment are appended, so they win. A report goes to the program's
# stderr and the program exits non-zero; scripts/test.sh also fails when a report appears in any
# test's output (a command whose failure the test expected). Not log_path: the runtime then creates
# the log folder with mkdir() while it starts, before the program's libraries are initialised, and
# under the virtual board that mkdir() is umockdev's wrapper, which calls back into interceptors
# that are not set up yet: the program dies of a jump to address 0 before main.

include_guard(GLOBAL)

set(TERN_SANITIZE "" CACHE STRING
    "sanitizers for every project C/C++ target: a comma list of address, undefined, leak (empty: none)")
# the folders whose tests CI runs in the sanitizer tree (labels unit, model, usb, fuzz: the protocol
# tests are unit tests, and the fuzz targets replay their corpora): target sanitize-tests builds
# their executables
set(TERN_SANITIZE_TEST_DIRS tests/unit tests/model tests/driver tests/usb fuzz)

# Checks TERN_SANITIZE and adds the flags to the calling directory (and so to every directory and
# target created after it). Sets TERN_SANITIZE_FLAGS (compile) and TERN_SANITIZE_LINK_FLAGS in the
# caller's scope; both empty when TERN_SANITIZE is.
macro(tern_sanitize_setup)
  _tern_sanitize_flags(TERN_SANITIZE_FLAGS TERN_SANITIZE_LINK_FLAGS)
  if(TERN_SANITIZE_FLAGS)
    add_compile_options(${TERN_SANITIZE_FLAGS})
    add_link_options(${TERN_SANITIZE_LINK_FLAGS})
    message(STATUS "tern: sanitizers ${TERN_SANITIZE}: ${TERN_SANITIZE_FLAGS} (link: ${TERN_SANITIZE_LINK_FLAGS})")
  endif()
endmacro()

function(_tern_sanitize_flags out_compile out_link)
  set(${out_compile} "" PARENT_SCOPE)
  set(${out_link} "" PARENT_SCOPE)
  string(STRIP "${TERN_SANITIZE}" spec)
  if(spec STREQUAL "")
    return()
  endif()
  string(REPLACE "," ";" list "${spec}")
  set(kinds "")
  foreach(k IN LISTS list)
    string(STRIP "${k}" k)
    if(NOT k MATCHES "^(address|undefined|leak)$")
      message(FATAL_ERROR "TERN_SANITIZE=${TERN_SANITIZE}: unknown sanitizer '${k}' "
                          "(a comma list of address, undefined, leak)")
    endif()
    list(APPEND kinds ${k})
  endforeach()
  list(REMOVE_DUPLICATES kinds)
  # ASan holds LSan already; -fsanitize=address,leak is refused by neither compiler but says nothing more
  if("address" IN_LIST kinds)
    list(REMOVE_ITEM kinds leak)
  endif()
  foreach(lang C CXX)
    if(NOT CMAKE_${lang}_COMPILER_ID MATCHES "^(GNU|Clang)$")
      message(FATAL_ERROR "TERN_SANITIZE needs gcc or clang; the ${lang} compiler is ${CMAKE_${lang}_COMPILER_ID}")
    endif()
  endforeach()
  list(JOIN kinds "," joined)
  set(compile -fsanitize=${joined} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  # the runtimes in the executable (see the top of this file); shared libraries get none
  set(link -fsanitize=${joined})
  if(CMAKE_C_COMPILER_ID STREQUAL "GNU")
    foreach(k IN LISTS kinds)
      string(REPLACE "address" "asan" k "${k}")
      string(REPLACE "undefined" "ubsan" k "${k}")
      string(REPLACE "leak" "lsan" k "${k}")
      list(APPEND link -static-lib${k})
    endforeach()
  endif()

  # a clear message when the runtime is not installed, rather than a link error in the first target
  include(CheckCSourceCompiles)
  set(CMAKE_REQUIRED_FLAGS "${compile}")
  list(JOIN CMAKE_REQUIRED_FLAGS " " CMAKE_REQUIRED_FLAGS)
  set(CMAKE_REQUIRED_LINK_OPTIONS ${link})
  set(CMAKE_REQUIRED_QUIET ON)
  string(MAKE_C_IDENTIFIER "TERN_SANITIZE_LINKS_${joined}_${CMAKE_C_COMPILER_ID}" var)
  check_c_source_compiles("int main(void) { return 0; }" ${var})
  if(NOT ${var})
    message(FATAL_ERROR "TERN_SANITIZE=${TERN_SANITIZE}: ${CMAKE_C_COMPILER} cannot build and link a program "
                        "with ${compile} ${link}; install the sanitizer runtimes (Debian: libasan8 libubsan1 "
                        "liblsan0 come with gcc-12; clang-14 needs libclang-rt-14-dev)")
  endif()
  set(${out_compile} "${compile}" PARENT_SCOPE)
  set(${out_link} "${link}" PARENT_SCOPE)
endfunction()

# The targets of <dir> and of every directory below it, into <out>.
function(_tern_sanitize_targets dir out)
  get_property(targets DIRECTORY "${dir}" PROPERTY BUILDSYSTEM_TARGETS)
  get_property(subdirs DIRECTORY "${dir}" PROPERTY SUBDIRECTORIES)
  foreach(sub IN LISTS subdirs)
    _tern_sanitize_targets("${sub}" more)
    list(APPEND targets ${more})
  endforeach()
  set(${out} "${targets}" PARENT_SCOPE)
endfunction()

# After the last add_subdirectory(): a target that set its own COMPILE_OPTIONS lost the directory's
# sanitizer flags; its project sources (those in the source tree) get them back, source by source,
# so that the Verilated C++ (in the build tree) and Verilator's runtime stay uninstrumented. Then
# ctest's environment (see the top of this file).
function(tern_sanitize_finish)
  if(NOT TERN_SANITIZE_FLAGS)
    return()
  endif()
  _tern_sanitize_targets("${PROJECT_SOURCE_DIR}" targets)
  foreach(t IN LISTS targets)
    get_target_property(type ${t} TYPE)
    if(type STREQUAL "INTERFACE_LIBRARY" OR type STREQUAL "UTILITY")
      continue()
    endif()
    get_target_property(opts ${t} COMPILE_OPTIONS)
    if(opts AND "-fno-sanitize-recover=all" IN_LIST opts)
      continue()
    endif()
    get_target_property(srcs ${t} SOURCES)
    get_target_property(tdir ${t} SOURCE_DIR)
    foreach(s IN LISTS srcs)
      if(s MATCHES "^\\$<" OR NOT s MATCHES "\\.(c|cc|cpp|cxx)$")
        continue()
      endif()
      get_filename_component(abs "${s}" ABSOLUTE BASE_DIR "${tdir}")
      cmake_path(IS_PREFIX PROJECT_SOURCE_DIR "${abs}" NORMALIZE in_tree)
      cmake_path(IS_PREFIX PROJECT_BINARY_DIR "${abs}" NORMALIZE in_build)
      if(in_tree AND NOT in_build)
        set_property(SOURCE "${abs}" TARGET_DIRECTORY ${t} APPEND PROPERTY COMPILE_OPTIONS ${TERN_SANITIZE_FLAGS})
        list(APPEND done "${t}:${s}")
      endif()
    endforeach()
  endforeach()
  if(done)
    message(STATUS "tern: sanitizers added source by source (their targets replace COMPILE_OPTIONS): ${done}")
  endif()

  # sanitize-tests: what CI's sanitizer stage (scripts/test.sh: ctest -L 'unit|model|usb|fuzz') needs and
  # nothing else: the executables of TERN_SANITIZE_TEST_DIRS and the tern command their tests run
  add_custom_target(sanitize-tests)
  if(TARGET tern_cli)
    add_dependencies(sanitize-tests tern_cli)
  endif()
  foreach(t IN LISTS targets)
    get_target_property(type ${t} TYPE)
    get_target_property(tdir ${t} SOURCE_DIR)
    cmake_path(RELATIVE_PATH tdir BASE_DIRECTORY "${PROJECT_SOURCE_DIR}")
    if(type STREQUAL "EXECUTABLE" AND tdir IN_LIST TERN_SANITIZE_TEST_DIRS)
      add_dependencies(sanitize-tests ${t})
    endif()
  endforeach()

  # ctest's environment: CTestTestfile.cmake includes this file, so `ctest --test-dir <build>` sets it
  set(supp "${PROJECT_SOURCE_DIR}/tests/sanitize/lsan.supp")
  file(CONFIGURE OUTPUT "${PROJECT_BINARY_DIR}/sanitize_env.cmake" CONTENT [[
# sanitize_env.cmake - generated by cmake/TernSanitize.cmake: the sanitizer runtimes' options for
# every test of this tree (TERN_SANITIZE=@TERN_SANITIZE@). Options already in the environment come
# last, so they win.
set(ENV{ASAN_OPTIONS} "detect_leaks=1:$ENV{ASAN_OPTIONS}")
set(ENV{UBSAN_OPTIONS} "print_stacktrace=1:halt_on_error=1:$ENV{UBSAN_OPTIONS}")
set(ENV{LSAN_OPTIONS} "suppressions=@supp@:print_suppressions=0:$ENV{LSAN_OPTIONS}")
]] @ONLY)
  set_property(DIRECTORY "${PROJECT_SOURCE_DIR}" APPEND PROPERTY TEST_INCLUDE_FILES
               "${PROJECT_BINARY_DIR}/sanitize_env.cmake")
endfunction()
