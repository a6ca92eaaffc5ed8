#!/usr/bin/env bash
# bench_test.sh — the benchmarks' interface, each run with its quickest settings (one case per
# ctest test): with --json - stdout is one JSON document (python3 -m json.tool parses it) and the
# human report is on stderr; --help says what each measures; bad option values are refused naming
# the option; a --json path that cannot be written fails before the run; a failed run leaves no
# report. Nothing here depends on how fast anything runs. Needs no shared model (synthesises one).
# usage: bench_test.sh CASE TERN_BINARY BENCH_DIR      exit 77: skipped (sim backend built out)
set -uo pipefail
case_name=$1 tern=$2 bench=$3
work=$(mktemp -d /tmp/tern_bench_test.XXXXXX)
trap 'rm -rf "$work"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

benches=(bench_ref_gemv bench_generate bench_sim)
[[ -x $bench/bench_usb ]] && benches+=(bench_usb)

# A small synthetic model: $work/m.bin.
synth() {
    "$tern" model synth --dim 64 --hidden-dim 96 --layers 2 --heads 4 --kv-heads 2 --vocab 300 --seq-len 64 \
        --seed 5 --out "$work/m.bin" --tokenizer-out "$work/t.bin" > /dev/null || fail "synth failed"
}

# Run "$@" with --json -: exit 0, stdout JSON alone (kept in $work/out.json), stderr matching
# every pattern given after --.
json_run() {
    local pats=()
    while [[ $1 != -- ]]; do pats+=("$1"); shift; done
    shift
    "$@" --json - > "$work/out.json" 2> "$work/err.txt"
    local rc=$?
    [[ $rc -eq 0 ]] || { cat "$work/err.txt"; fail "exit $rc from: $* --json -"; }
    python3 -m json.tool "$work/out.json" > /dev/null \
        || { head -c 600 "$work/out.json"; fail "stdout of '$* --json -' is not JSON alone"; }
    for p in "${pats[@]}"; do
        grep -Eq -- "$p" "$work/err.txt" || { cat "$work/err.txt"; fail "no '$p' in the report on stderr from: $*"; }
    done
    echo "pure JSON on stdout, the report on stderr: ${*##*/}"
}

# Check the JSON of the last json_run with the Python in $1 (j is the document).
json_check() {
    python3 -c "import json, sys
j = json.load(open(sys.argv[1], encoding='utf-8'))
$1" "$work/out.json" || { head -c 1500 "$work/out.json"; fail "the JSON is not what the report says"; }
}

case $case_name in
help)
    # --help: exit 0, on stdout, a usage line, what it measures, every option, --json - explained
    while IFS='|' read -r b what; do
        [[ -x $bench/$b ]] || continue
        "$bench/$b" --help > "$work/out.txt" 2> "$work/err.txt" || fail "$b --help failed"
        [[ ! -s $work/err.txt ]] || fail "$b --help wrote to stderr: $(cat "$work/err.txt")"
        grep -q "^usage: $b " "$work/out.txt" || fail "$b --help has no usage line"
        tr '\n' ' ' < "$work/out.txt" | tr -s ' ' | grep -Eq -- "$what" \
            || { cat "$work/out.txt"; fail "$b --help does not say what it measures ('$what')"; }
        grep -q -- "- writes them to stdout alone" "$work/out.txt" || fail "$b --help does not explain --json -"
        for opt in $(head -n 1 "$work/out.txt" | grep -o -- '--[a-z][a-z-]*'); do
            [[ $opt == --help ]] && continue
            grep -Eq -- "^ +$opt " "$work/out.txt" || fail "$b --help does not describe $opt"
        done
        echo "$b --help: $(sed -n 2p "$work/out.txt")"
    done <<'CASES'
bench_ref_gemv|Ternary GEMV throughput \(ternary adds per second\).*beside a naive scalar loop
bench_generate|Tokens per second of greedy generation.*ref backend and on the cycle-accurate sim backend
bench_sim|PE utilisation.*simulated cycles per wall-clock second.*sim/ref wall-time ratio
bench_usb|Link throughput.*round trip.*tokens/s projected onto real links
CASES
    ;;
options)
    # every bad option value: exit 2 at once, nothing on stdout, one line naming the option
    while IFS='|' read -r args want; do
        eval "set -- $args"
        [[ -x $bench/$1 ]] || continue
        b=$1
        shift
        "$bench/$b" "$@" > "$work/out.txt" 2> "$work/err.txt"
        rc=$?
        [[ $rc -eq 2 ]] || { cat "$work/err.txt"; fail "exit $rc (want 2) from: $args"; }
        grep -Fq -- "$b: $want" "$work/err.txt" || { cat "$work/err.txt"; fail "no message '$b: $want' from: $args"; }
        [[ ! -s $work/out.txt ]] || fail "output on stdout from: $args"
        echo "refused: $args -> $(head -n 1 "$work/err.txt")"
    done <<'CASES'
bench_ref_gemv --seconds abc|--seconds 'abc' is not a number; want a time from 0.001 to 3600 seconds
bench_ref_gemv --seconds inf|--seconds 'inf' is infinite
bench_ref_gemv --seconds -inf|--seconds '-inf' is infinite
bench_ref_gemv --seconds nan|--seconds 'nan' is not a number (NaN)
bench_ref_gemv --seconds -0.5|--seconds '-0.5' is negative
bench_ref_gemv --seconds 0|--seconds '0' is too small
bench_ref_gemv --seconds 1e999|--seconds '1e999' is too large
bench_ref_gemv --seconds 0.2s|--seconds '0.2s' has characters after the number
bench_ref_gemv --seconds ' 1'|--seconds ' 1' is not a number
bench_ref_gemv --seconds ''|--seconds needs a value
bench_ref_gemv --seconds|option '--seconds' needs a value
bench_ref_gemv --json|option '--json' needs a value
bench_ref_gemv --no-such-option|unknown option '--no-such-option'
bench_ref_gemv -q|unknown option '-q'
bench_ref_gemv stray|unexpected argument 'stray'
bench_generate --steps -1|--steps '-1' is negative
bench_generate --steps 12abc|--steps '12abc' has characters after the number
bench_generate --steps 0|--steps '0' is too small; want a number of positions from 1 to 4294967295
bench_generate --steps 4294967296|--steps '4294967296' is too large
bench_generate --steps 99999999999999999999|--steps '99999999999999999999' is too large
bench_generate --steps +3|--steps '+3' is not a whole number
bench_generate --steps inf|--steps 'inf' is not a whole number
bench_generate --config no-such-config|--config 'no-such-config': ref: no configuration 'no-such-config'
bench_generate --config tiny,large|--config 'tiny,large' is not a configuration name
bench_generate --model x.bin extra|unexpected argument 'extra'
bench_sim --configs tiny,,default|--configs 'tiny,,default' has an empty name
bench_sim --configs tiny,bogus|--configs 'bogus': ref: no configuration 'bogus'
bench_sim --configs ''|--configs needs a value
bench_sim --quick=1|option '--quick' takes no value
bench_sim --bogus|unknown option '--bogus'
bench_usb --mb inf|--mb 'inf' is infinite; want megabytes from 0.001 to 1000000
bench_usb --mb -2|--mb '-2' is negative
bench_usb --mb 1x|--mb '1x' has characters after the number
bench_usb --mb 0|--mb '0' is too small
bench_usb --steps 1.5|--steps '1.5' has characters after the number
bench_usb --steps -4|--steps '-4' is negative
bench_usb --projection-only stray|unexpected argument 'stray'
CASES
    ;;
json_path)
    # a --json path that cannot be written fails at once, naming it, before the run
    synth
    mkdir "$work/dir"
    for bad in "$work/no/such/dir/r.json" "$work/dir"; do
        while IFS='|' read -r args; do
            eval "set -- $args"
            [[ -x $bench/$1 ]] || continue
            b=$1
            shift
            "$bench/$b" "$@" --json "$bad" > "$work/out.txt" 2> "$work/err.txt"
            rc=$?
            [[ $rc -eq 1 ]] || { cat "$work/err.txt"; fail "exit $rc (want 1) from: $args --json $bad"; }
            grep -Eq -- "^$b: --json $bad: (cannot write the report there: No such file or directory|is a directory)" \
                "$work/err.txt" || { cat "$work/err.txt"; fail "the path is not named: $args --json $bad"; }
            [[ ! -s $work/out.txt ]] || fail "the run started before the path was checked: $(head -c 200 "$work/out.txt")"
            [[ $(wc -l < "$work/err.txt") -eq 1 ]] \
                || { cat "$work/err.txt"; fail "more than the refusal on stderr: $args"; }
            echo "refused before the run: $(cat "$work/err.txt")"
        done <<'CASES'
bench_ref_gemv --seconds 0.2
bench_generate --model $work/m.bin --steps 2
bench_sim --quick --configs tiny
bench_usb --projection-only --model $work/m.bin --steps 2
CASES
    done
    # a run that fails leaves no report behind: neither a new one nor a stale one
    echo '{"stale": true}' > "$work/old.json"
    while IFS='|' read -r args; do
        eval "set -- $args"
        [[ -x $bench/$1 ]] || continue
        for f in new old; do
            [[ $f == old ]] && echo '{"stale": true}' > "$work/old.json"
            "$bench/$1" "${@:2}" --json "$work/$f.json" > /dev/null 2> "$work/err.txt" \
                && fail "a failing run passed: $args"
            [[ ! -e $work/$f.json ]] || fail "a failed run left $f.json: $args"
        done
        echo "no report from a failed run: $args -> $(head -n 1 "$work/err.txt")"
    done <<'CASES'
bench_ref_gemv --backend no-such-backend
bench_generate --model $work/no-such-model.bin
CASES
    # nor on stdout: a failed run with --json - prints no JSON at all
    "$bench/bench_ref_gemv" --backend no-such-backend --json - > "$work/out.txt" 2> /dev/null \
        && fail "a bad backend was accepted"
    [[ ! -s $work/out.txt ]] || fail "a failed run printed a report on stdout: $(head -c 200 "$work/out.txt")"
    # a writable path, a device and an existing report that is replaced all work
    if [[ -x $bench/bench_usb ]]; then
        u=("$bench/bench_usb" --projection-only --model "$work/m.bin" --steps 2)
        "${u[@]}" --json /dev/null > /dev/null 2>&1 || fail "--json /dev/null failed"
        [[ -c /dev/null ]] || fail "/dev/null is no longer a device"
        "${u[@]}" --json "$work/old.json" > "$work/out.txt" 2> /dev/null || fail "--json FILE failed"
        python3 -m json.tool "$work/old.json" > /dev/null || fail "the report written to a file is not JSON"
        grep -q "projected tokens/s" "$work/out.txt" || fail "no human report on stdout with --json FILE"
        ! grep -q stale "$work/old.json" || fail "the old report was not replaced"
    fi
    "$bench/bench_generate" --model "$work/m.bin" --steps 2 --json "$work/dir/g.json" > /dev/null 2>&1 \
        || fail "bench_generate --json FILE failed"
    python3 -m json.tool "$work/dir/g.json" > /dev/null || fail "the generate report is not JSON"
    echo "report paths are checked first; failed runs leave none"
    ;;
ref_gemv)
    json_run "^ternary GEMV, ref:config=large" "^model +layer +device +naive +ratio check$" \
        "^bitnet-b1.58-2b4t +ffn down 2560x6912 .*x match" "^bitllama-3m +attn k/v 128x256 .*x match" \
        -- "$bench/bench_ref_gemv" --seconds 0.2
    json_check "
r = j['results']
assert j['device'] == 'ref:config=large' and len(r) == 5, j
assert all(x['match'] is True for x in r)
assert all(x['device_adds_per_s'] > 0 and x['naive_adds_per_s'] > 0 for x in r)
assert all(abs(x['ratio'] - x['device_adds_per_s'] / x['naive_adds_per_s']) < 1e-6 * x['ratio'] for x in r)"
    ;;
sim)
    if ! "$tern" info --backend sim:config=tiny > /dev/null 2> "$work/err.txt"; then
        if grep -q "not built into this library" "$work/err.txt"; then
            echo "skipped: $(cat "$work/err.txt")"
            exit 77
        fi
        cat "$work/err.txt"
        fail "the sim backend does not open"
    fi
    json_run "^config +layer +T +cycles" "^tiny +wk/wv 128x256 +8 +[0-9]+ .* identical" -- \
        "$bench/bench_sim" --quick --configs tiny
    json_check "
r = j['results']
assert len(r) == 4 and {x['t'] for x in r} == {1, 8} and all(x['config'] == 'tiny' for x in r), r
assert all(x['identical'] is True and 0 < x['pe_utilisation_all'] <= x['pe_utilisation_run'] <= 1 for x in r)"
    ;;
generate)
    synth
    # a path with a quote, a backslash and a byte that is not UTF-8 stays JSON
    odd=$work/$'m "q" \\ \xff.bin'
    cp "$work/m.bin" "$odd"
    json_run "^greedy generation, 2 positions from BOS" "^  ref:config=tiny +[0-9.]+ tokens/s \(wall\)" -- \
        "$bench/bench_generate" --model "$odd" --steps 2 --config tiny
    json_check "
r = j['results']
assert j['model'].endswith('m \"q\" \\\\ \ufffd.bin') and j['steps'] == 2, j['model']
assert r[0]['device'] == 'ref:config=tiny' and r[0]['available'] is True and r[0]['tokens_per_s'] > 0
if r[1]['available']:
    assert r[1]['tokens_hash'] == r[0]['tokens_hash'] and j['sim_over_ref_wall_ratio'] > 0
else:
    assert r[1]['tokens_per_s'] is None and j['sim_over_ref_wall_ratio'] is None"
    # more steps than the model's context are cut to it, and said
    "$bench/bench_generate" --model "$work/m.bin" --steps 1000 --config tiny > "$work/out.txt" 2> /dev/null \
        || fail "--steps beyond seq_len failed"
    grep -q "^greedy generation, 64 positions" "$work/out.txt" \
        || fail "--steps is not cut to seq_len: $(head -n 1 "$work/out.txt")"
    ;;
usb_projection)
    synth
    json_run "^projected tokens/s of .*m.bin \(modelled: .*2 positions\)" \
        "^default +100 MHz .*\(compute bound [0-9]+\)$" -- \
        "$bench/bench_usb" --projection-only --model "$work/m.bin" --steps 2
    json_check "
p = j['projection']
assert j['link']['measured'] is False and j['link']['mb_per_s'] is None and j['synthetic_model'] is False
assert [x['config'] for x in p] == ['tiny', 'default', 'large'], p
assert all(len(x['links']) == 3 for x in p)
assert all(0 < l['projected_tps'] <= x['compute_bound_tps'] for x in p for l in x['links'])"
    ;;
usb_link)
    synth
    json_run "^link through FT2232H: echo 1.0 MB in each direction" "^projected tokens/s" -- \
        "$tern" vboard --engine loopback -- "$bench/bench_usb" --mb 1 --model "$work/m.bin" --steps 2
    json_check "
l = j['link']
assert l['measured'] is True and l['bytes'] >= 1000000 and l['mb_per_s'] > 0 and l['rtt_median_ms'] > 0, l
assert len(j['projection']) == 3"
    ;;
*)
    fail "unknown case $case_name"
    ;;
esac
