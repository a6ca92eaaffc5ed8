#!/usr/bin/env bash
# sim_independence_test.sh — each Verilated model of sim/ builds on its own: adding a configuration
# to -DTERN_SIM_CONFIGS compiles that configuration's models (and the C API's two small tables), and
# changing one configuration recompiles that configuration's models only; no other model's objects,
# and not Verilator's runtime, are rebuilt.
#
# usage: sim_independence_test.sh SOURCE_DIR WORK_DIR CMAKE [-D... for the configure: compilers, launcher]
#
# In WORK_DIR (emptied first): a copy of configs/ plus tiny2.cfg (tiny under another name); a build
# tree of the project (Unix Makefiles, no tests or benchmarks) with -DTERN_SIM_CONFIGS=tiny, whose
# tern_sim is built for real (a few minutes the first time; ccache makes it seconds after that).
#   1. reconfigure with tiny;tiny2: `make -n tern_sim` (what a build would run) may compile only
#      objects of tern_sim_tiny2, tern_board_sim_tiny2 and tern_sim's own two sources, and must
#      compile some of tiny2's. Then `make -t` marks the tree built without compiling tiny2.
#   2. change tiny2.cfg (omem_words: only its Verilog include changes) and reconfigure: `make -n`
#      may compile only tiny2's model objects, and must compile some.
# Each failure names the object that would be rebuilt.
set -uo pipefail
src=$1 work=$2 cmake=$3
shift 3
fail() { echo "FAIL: $*" >&2; exit 1; }

rm -rf "$work"
mkdir -p "$work/configs" || fail "cannot create $work"
cp "$src"/configs/*.cfg "$work/configs/" || fail "cannot copy $src/configs"
sed 's/^name\( *\)= tiny\b/name\1= tiny2/' "$src/configs/tiny.cfg" > "$work/configs/tiny2.cfg"
grep -q '^name *= tiny2' "$work/configs/tiny2.cfg" || fail "could not name the copy of tiny.cfg tiny2"

build=$work/build
args=(-S "$src" -B "$build" -G "Unix Makefiles" -DCMAKE_BUILD_TYPE=RelWithDebInfo
      -DTERN_CONFIG_DIR="$work/configs" -DTERN_BUILD_TESTS=OFF -DTERN_BUILD_BENCH=OFF "$@")

configure() { # configure <TERN_SIM_CONFIGS>
    "$cmake" "${args[@]}" -DTERN_SIM_CONFIGS="$1" > "$work/configure.log" 2>&1 ||
        { cat "$work/configure.log"; fail "configure with TERN_SIM_CONFIGS=$1 failed"; }
}

# The objects `make` would compile for tern_sim, one "<target>.dir/<object>" a line, into
# $work/objs.txt. The dry run cannot archive libtern_sim.a (the object libraries' objects it lists
# were not made), so it keeps going (-k) past that one error, and no other error is accepted.
would_compile() {
    "$cmake" --build "$build" --target tern_sim -- -n -k > "$work/dry.log" 2>&1
    local errs
    errs=$(grep -E '^g?make(\[[0-9]+\])?: \*\*\*' "$work/dry.log" |
           grep -Ev "No rule to make target '[^']*\.o', needed by '[^']*libtern_sim\.a'|\] Error [0-9]+$")
    [[ -z $errs ]] || { tail -20 "$work/dry.log"; fail "make -n failed: $errs"; }
    grep -o -- '-o CMakeFiles/[^ ]*\.o ' "$work/dry.log" | sed 's/^-o CMakeFiles\///; s/ $//' | sort -u > "$work/objs.txt"
}

# check <step> <regex of the objects allowed> <regex one of them must match>
check() {
    local step=$1 allowed=$2 needed=$3 bad
    would_compile
    bad=$(grep -Ev "$allowed" "$work/objs.txt")
    [[ -z $bad ]] || fail "$step: would also compile: $(tr '\n' ' ' <<< "$bad")"
    grep -Eq "$needed" "$work/objs.txt" || fail "$step: compiles none of $needed (the check would be vacuous)"
    echo "$step: $(grep -c . "$work/objs.txt") objects to compile, all of them allowed ($allowed)"
}

echo "building tern_sim with TERN_SIM_CONFIGS=tiny in $build"
configure tiny
"$cmake" --build "$build" --target tern_sim -j2 > "$work/build.log" 2>&1 ||
    { tail -30 "$work/build.log"; fail "building tern_sim (tiny) failed"; }

configure "tiny;tiny2"
check "adding tiny2" '^(tern_sim_tiny2\.dir/|tern_board_sim_tiny2\.dir/|tern_sim\.dir/src/tern_(board_)?sim\.cpp\.o$)' \
      '^tern_(board_)?sim_tiny2\.dir/'
"$cmake" --build "$build" --target tern_sim -- -t > "$work/touch.log" 2>&1 || fail "make -t failed"
would_compile
[[ ! -s $work/objs.txt ]] || fail "make -t left objects to compile: $(tr '\n' ' ' < "$work/objs.txt")"

sed -i 's/^omem_words\( *\)= [0-9]*/omem_words\1= 32/' "$work/configs/tiny2.cfg"
configure "tiny;tiny2"
check "changing tiny2.cfg" '^tern_(board_)?sim_tiny2\.dir/' '^tern_(board_)?sim_tiny2\.dir/'
echo "ok: each Verilated model builds on its own"
