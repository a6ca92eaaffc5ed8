#!/usr/bin/env bash
# run_install_test.sh — install a tern build tree into a temporary prefix, then build and run a
# consumer against it twice: through find_package(tern) (CMake) and through pkg-config.
#
# usage: run_install_test.sh <build-dir> <consumer-source-dir> [<config>]
# environment: CMAKE (cmake), CC (cc), PKG_CONFIG (pkg-config), TERN_KEEP_TMP=1 keeps the temp dir.
set -euo pipefail

if [[ $# -lt 2 ]]; then
    echo "usage: $0 <build-dir> <consumer-source-dir> [<config>]" >&2
    exit 2
fi
build=$(cd "$1" && pwd)
consumer=$(cd "$2" && pwd)
config=${3:-}
cmake_bin=${CMAKE:-cmake}
cc=${CC:-cc}
pkg_config=${PKG_CONFIG:-pkg-config}
[[ -n $pkg_config ]] || pkg_config=pkg-config

tmp=$(mktemp -d "${TMPDIR:-/tmp}/tern-install.XXXXXX")
cleanup() {
    local status=$?
    if [[ ${TERN_KEEP_TMP:-0} == 1 ]]; then
        echo "kept $tmp"
    else
        rm -rf "$tmp"
    fi
    exit "$status"
}
trap cleanup EXIT

prefix=$tmp/prefix
step() { printf '\n== %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }

step "install $build into $prefix"
install_args=(--install "$build" --prefix "$prefix")
[[ -n $config ]] && install_args+=(--config "$config")
"$cmake_bin" "${install_args[@]}"

[[ -f $prefix/include/tern/tern.h ]] || fail "include/tern/tern.h was not installed"
so=$(find "$prefix" -name 'libtern.so' -print -quit)
[[ -n $so ]] || fail "libtern.so was not installed"
libdir=$(dirname "$so")
pc=$(find "$prefix" -name 'tern.pc' -print -quit)
[[ -n $pc ]] || fail "tern.pc was not installed"
[[ -n $(find "$prefix" -name 'ternConfig.cmake' -print -quit) ]] || fail "ternConfig.cmake was not installed"
export LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

# The installed CLI, if any, must find libtern.so by itself (RPATH).
if [[ -x $prefix/bin/tern ]]; then
    step "installed CLI resolves libtern without LD_LIBRARY_PATH"
    if env -u LD_LIBRARY_PATH ldd "$prefix/bin/tern" | grep 'not found'; then
        fail "bin/tern has unresolved libraries"
    fi
fi

step "consumer through find_package(tern)"
"$cmake_bin" -S "$consumer" -B "$tmp/cmake-build" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_COMPILER="$cc" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
found=$(sed -n 's/^tern_DIR:PATH=//p' "$tmp/cmake-build/CMakeCache.txt")
[[ $found == "$prefix"/* ]] || fail "find_package(tern) found $found, not the temporary prefix"
"$cmake_bin" --build "$tmp/cmake-build"
"$tmp/cmake-build/consumer" | tee "$tmp/out.txt"
grep -q '^OK' "$tmp/out.txt" || fail "consumer (tern::tern) did not print OK"
if [[ -x $tmp/cmake-build/consumer_static ]]; then
    "$tmp/cmake-build/consumer_static" | tee "$tmp/out.txt"
    grep -q '^OK' "$tmp/out.txt" || fail "consumer_static (tern::tern_static) did not print OK"
    if ldd "$tmp/cmake-build/consumer_static" | grep -q 'libtern\.so'; then
        fail "consumer_static links libtern.so, not libtern.a"
    fi
fi

step "consumer through pkg-config"
pcdir=$(dirname "$pc")
export PKG_CONFIG_PATH="$pcdir${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
pc_prefix=$("$pkg_config" --variable=prefix tern)
[[ $pc_prefix == "$prefix" ]] || fail "tern.pc has prefix=$pc_prefix, expected $prefix"
read -r -a flags <<<"$("$pkg_config" --cflags --libs tern)"
echo "pkg-config --cflags --libs tern: ${flags[*]}"
"$cc" -std=c11 -Wall -Wextra -Werror -o "$tmp/consumer_pc" "$consumer/main.c" "${flags[@]}"
"$tmp/consumer_pc" | tee "$tmp/out.txt"
grep -q '^OK' "$tmp/out.txt" || fail "consumer (pkg-config) did not print OK"

if [[ -f $libdir/libtern.a ]]; then
    step "static consumer through pkg-config --static (libtern.a + Libs.private)"
    read -r -a flags <<<"$("$pkg_config" --static --cflags --libs tern)"
    for i in "${!flags[@]}"; do
        [[ ${flags[$i]} == -ltern ]] && flags[i]=-l:libtern.a
    done
    echo "flags: ${flags[*]}"
    "$cc" -std=c11 -Wall -Wextra -Werror -o "$tmp/consumer_pc_static" "$consumer/main.c" "${flags[@]}"
    if ldd "$tmp/consumer_pc_static" | grep -q 'libtern\.so'; then
        fail "consumer_pc_static links libtern.so, not libtern.a"
    fi
    env -u LD_LIBRARY_PATH "$tmp/consumer_pc_static" | tee "$tmp/out.txt"
    grep -q '^OK' "$tmp/out.txt" || fail "consumer (pkg-config --static) did not print OK"
fi

step "install_consumer: OK"
