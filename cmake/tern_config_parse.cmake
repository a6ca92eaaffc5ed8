# tern_config_parse.cmake — read and check accelerator configurations (docs/ARCHITECTURE.md section 1).
#
# Included by TernConfigs.cmake (configure time) and by tern_check_config.cmake (script mode), so it
# uses nothing that needs a project: no targets, no CMAKE_BINARY_DIR.
#
#   tern_config_load(<file> <prefix>)
#       Parses and validates one configs/<name>.cfg. Sets in the caller's scope <prefix>_<key> for
#       every key of TERN_CONFIG_KEYS, plus the derived
#         <prefix>_link_kind  0 stream, 1 uart, 2 fifo245, 3 ft601
#         <prefix>_name_lo    name bytes 0..3 as a little-endian u32, 8 lower-case hex digits
#         <prefix>_name_hi    name bytes 4..7, likewise (NUL padded)
#   tern_timing_load(<file> <prefix>)
#       Parses and validates configs/timing.cfg: sets <prefix>_run_setup and <prefix>_run_drain.
#
# File format: `key = value` lines; `#` starts a comment; blank lines are ignored.
# Every failure is  message(FATAL_ERROR "<file>: <key>: <what is wrong>")  (for a line that is not
# `key = value` at all, <key> is "line <n>"). The message starts with a space so that CMake prints
# it on one line instead of re-wrapping it; tests match it with a regular expression.

cmake_policy(VERSION 3.25)
include_guard(GLOBAL)

set(TERN_CONFIG_KEYS
    name lanes width acc_width max_k wmem_words amem_words omem_words
    max_payload clock_hz link link_bytes_per_s)
set(TERN_TIMING_KEYS run_setup run_drain)
# Index in this list = LINK_KIND register value.
set(TERN_LINK_KINDS stream uart fifo245 ft601)

function(_tern_cfg_fail file key what)
  message(FATAL_ERROR " ${file}: ${key}: ${what}")
endfunction()

# _tern_cfg_parse(<file> <prefix> <known-key>...)
# Sets <prefix>_<key> for each key found and <prefix>_line_<key> to its line number.
# Refuses malformed lines, unknown keys, duplicate keys, empty values and missing keys.
function(_tern_cfg_parse file prefix)
  set(known ${ARGN})
  if(NOT EXISTS "${file}" OR IS_DIRECTORY "${file}")
    _tern_cfg_fail("${file}" "file" "cannot read it (no such file)")
  endif()
  file(READ "${file}" text)
  string(REPLACE "\r" "" text "${text}")
  # Walk the lines with string(FIND) rather than turning the text into a CMake list, so that
  # ';', '[' or ']' in a comment cannot split or merge lines.
  set(lineno 0)
  set(seen "")
  while(NOT text STREQUAL "")
    math(EXPR lineno "${lineno} + 1")
    string(FIND "${text}" "\n" nl)
    if(nl EQUAL -1)
      set(line "${text}")
      set(text "")
    else()
      string(SUBSTRING "${text}" 0 ${nl} line)
      math(EXPR rest "${nl} + 1")
      string(SUBSTRING "${text}" ${rest} -1 text)
    endif()
    string(FIND "${line}" "#" hash)
    if(NOT hash EQUAL -1)
      string(SUBSTRING "${line}" 0 ${hash} line)
    endif()
    string(STRIP "${line}" line)
    if(line STREQUAL "")
      continue()
    endif()
    string(FIND "${line}" "=" eq)
    if(eq EQUAL -1)
      _tern_cfg_fail("${file}" "line ${lineno}" "expected 'key = value', got '${line}'")
    endif()
    string(SUBSTRING "${line}" 0 ${eq} key)
    math(EXPR vpos "${eq} + 1")
    string(SUBSTRING "${line}" ${vpos} -1 value)
    string(STRIP "${key}" key)
    string(STRIP "${value}" value)
    if(key STREQUAL "")
      _tern_cfg_fail("${file}" "line ${lineno}" "no key before '='")
    endif()
    list(FIND known "${key}" idx)
    if(idx EQUAL -1)
      list(JOIN known ", " known_text)
      _tern_cfg_fail("${file}" "${key}" "unknown key (line ${lineno}; known keys: ${known_text})")
    endif()
    list(FIND seen "${key}" idx)
    if(NOT idx EQUAL -1)
      _tern_cfg_fail("${file}" "${key}" "duplicate key (line ${lineno}; first set on line ${line_${key}})")
    endif()
    if(value STREQUAL "")
      _tern_cfg_fail("${file}" "${key}" "empty value (line ${lineno})")
    endif()
    list(APPEND seen "${key}")
    set(line_${key} ${lineno})
    set(${prefix}_${key} "${value}" PARENT_SCOPE)
    set(${prefix}_line_${key} ${lineno} PARENT_SCOPE)
  endwhile()
  foreach(key IN LISTS known)
    list(FIND seen "${key}" idx)
    if(idx EQUAL -1)
      list(JOIN known ", " known_text)
      _tern_cfg_fail("${file}" "${key}" "missing (every file of this kind needs: ${known_text})")
    endif()
  endforeach()
endfunction()

# _tern_cfg_uint(<file> <key> <value>): a plain decimal integer that fits in a u32.
# Checked on the text first, so nothing reaches math(EXPR) (64-bit) that could overflow it.
function(_tern_cfg_uint file key value)
  if(NOT value MATCHES "^(0|[1-9][0-9]*)$")
    _tern_cfg_fail("${file}" "${key}"
      "'${value}' is not a plain decimal integer >= 0 (digits only: no sign, leading zero, hex, exponent or unit)")
  endif()
  string(LENGTH "${value}" len)
  if(len GREATER 10 OR (len EQUAL 10 AND value STRGREATER "4294967295"))
    _tern_cfg_fail("${file}" "${key}" "${value} does not fit in an unsigned 32-bit integer (max 4294967295)")
  endif()
endfunction()

# _tern_cfg_pow2(<file> <key> <value> <min> <max>)
function(_tern_cfg_pow2 file key value min max)
  math(EXPR low_bits "${value} & (${value} - 1)")
  if(value LESS min OR value GREATER max OR NOT low_bits EQUAL 0)
    _tern_cfg_fail("${file}" "${key}" "must be a power of two in ${min}..${max}, got ${value}")
  endif()
endfunction()

function(_tern_cfg_min file key value min)
  if(value LESS min)
    _tern_cfg_fail("${file}" "${key}" "must be >= ${min}, got ${value}")
  endif()
endfunction()

function(tern_config_load file prefix)
  _tern_cfg_parse("${file}" cfg ${TERN_CONFIG_KEYS})

  # Every numeric key: plain decimal u32, before any arithmetic on it.
  foreach(key IN LISTS TERN_CONFIG_KEYS)
    if(NOT key STREQUAL "name" AND NOT key STREQUAL "link")
      _tern_cfg_uint("${file}" ${key} "${cfg_${key}}")
    endif()
  endforeach()

  # name: [a-z0-9_]{1,8} and the file's basename (CMake regexes have no {m,n}: check the length).
  get_filename_component(base "${file}" NAME_WLE)
  string(LENGTH "${cfg_name}" len)
  if(NOT cfg_name MATCHES "^[a-z0-9_]+$" OR len GREATER 8)
    _tern_cfg_fail("${file}" name "'${cfg_name}' must match [a-z0-9_]{1,8}")
  endif()
  if(NOT cfg_name STREQUAL base)
    _tern_cfg_fail("${file}" name "'${cfg_name}' must equal the file's basename '${base}'")
  endif()

  _tern_cfg_pow2("${file}" lanes ${cfg_lanes} 1 256)
  _tern_cfg_pow2("${file}" width ${cfg_width} 4 256)
  if(cfg_max_k LESS cfg_width)
    _tern_cfg_fail("${file}" max_k "must be >= width (${cfg_width}), got ${cfg_max_k}")
  endif()

  # acc_width A: A <= 32 and 128 * max_k <= 2^(A-1) - 1 (ARCHITECTURE.md section 1).
  if(cfg_acc_width LESS 1 OR cfg_acc_width GREATER 32)
    _tern_cfg_fail("${file}" acc_width "must be in 1..32, got ${cfg_acc_width}")
  endif()
  math(EXPR need "128 * ${cfg_max_k}")          # <= 128 * (2^32 - 1) < 2^39: no overflow
  set(need_a 1)
  math(EXPR cap "(1 << (${need_a} - 1)) - 1")
  while(cap LESS need)
    math(EXPR need_a "${need_a} + 1")
    math(EXPR cap "(1 << (${need_a} - 1)) - 1")
  endwhile()
  if(cfg_acc_width LESS need_a)
    math(EXPR have "(1 << (${cfg_acc_width} - 1)) - 1")
    set(what "${cfg_acc_width} bits cannot hold 128 * max_k = ${need} (2^(A-1) - 1 = ${have}); needs acc_width >= ${need_a}")
    if(need_a GREATER 32)
      set(what "${what}, more than the maximum 32: lower max_k to at most 16777215")
    endif()
    _tern_cfg_fail("${file}" acc_width "${what}")
  endif()

  _tern_cfg_min("${file}" wmem_words ${cfg_wmem_words} 1)
  _tern_cfg_min("${file}" amem_words ${cfg_amem_words} 1)
  _tern_cfg_min("${file}" omem_words ${cfg_omem_words} 1)

  # each memory fits its 1 GiB address window: the runtime refuses a device beyond that
  # (ARCHITECTURE.md section 4, TERN_LIMIT_REGION_BYTES in tern_proto.h)
  math(EXPR wbytes "${cfg_wmem_words} * ${cfg_lanes} * ${cfg_width} / 4")
  math(EXPR abytes "${cfg_amem_words} * ${cfg_width}")
  math(EXPR obytes "${cfg_omem_words} * ${cfg_lanes} * 4")
  foreach(m wmem:${wbytes} amem:${abytes} omem:${obytes})
    string(REPLACE ":" ";" m "${m}")
    list(GET m 0 mem)
    list(GET m 1 bytes)
    if(bytes GREATER 1073741824)
      _tern_cfg_fail("${file}" ${mem}_words "makes ${bytes} bytes, more than the 1 GiB address window")
    endif()
  endforeach()

  math(EXPR rem "${cfg_max_payload} % 4")
  if(NOT rem EQUAL 0 OR cfg_max_payload LESS 64 OR cfg_max_payload GREATER 1048576)
    _tern_cfg_fail("${file}" max_payload "must be a multiple of 4 in 64..1048576, got ${cfg_max_payload}")
  endif()

  _tern_cfg_min("${file}" clock_hz ${cfg_clock_hz} 1)

  list(FIND TERN_LINK_KINDS "${cfg_link}" link_kind)
  if(link_kind EQUAL -1)
    list(JOIN TERN_LINK_KINDS " | " kinds)
    _tern_cfg_fail("${file}" link "'${cfg_link}' is not one of ${kinds}")
  endif()

  _tern_cfg_min("${file}" link_bytes_per_s ${cfg_link_bytes_per_s} 1)

  # The name as two little-endian u32s, NUL padded: byte 0 is the low byte of name_lo.
  string(HEX "${cfg_name}" hex)
  string(LENGTH "${hex}" hexlen)
  while(hexlen LESS 16)
    string(APPEND hex "00")
    math(EXPR hexlen "${hexlen} + 2")
  endwhile()
  foreach(half lo hi)
    if(half STREQUAL "lo")
      set(first 0)
    else()
      set(first 8)
    endif()
    set(word "")
    foreach(byte RANGE 3)
      math(EXPR pos "${first} + 2 * ${byte}")
      string(SUBSTRING "${hex}" ${pos} 2 b)
      string(PREPEND word "${b}")
    endforeach()
    set(${prefix}_name_${half} "${word}" PARENT_SCOPE)
  endforeach()

  foreach(key IN LISTS TERN_CONFIG_KEYS)
    set(${prefix}_${key} "${cfg_${key}}" PARENT_SCOPE)
  endforeach()
  set(${prefix}_link_kind ${link_kind} PARENT_SCOPE)
endfunction()

function(tern_timing_load file prefix)
  _tern_cfg_parse("${file}" t ${TERN_TIMING_KEYS})
  foreach(key IN LISTS TERN_TIMING_KEYS)
    _tern_cfg_uint("${file}" ${key} "${t_${key}}")   # >= 0 by construction
    set(${prefix}_${key} "${t_${key}}" PARENT_SCOPE)
  endforeach()
endfunction()
