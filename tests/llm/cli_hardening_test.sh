#!/usr/bin/env bash
# cli_hardening_test.sh — the `tern` command on bad input: numbers that overflow, option values
# that are wrong, texts that are not text, --json - and --json paths, progress and --compare
# reports. Needs no shared model: every case synthesises its own (one case per ctest test).
# usage: cli_hardening_test.sh CASE TERN_BINARY DATA_DIR
set -uo pipefail
case_name=$1 tern=$2 data=$3
work=$(mktemp -d /tmp/tern_cli_test.XXXXXX)
trap 'rm -rf "$work"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

# A small synthetic model and its tokenizer: $work/m.bin, $work/t.bin.
synth() {
    "$tern" model synth --dim 64 --hidden-dim 96 --layers 2 --heads 4 --kv-heads 2 --vocab 300 --seq-len 64 \
        --seed 5 --out "$work/m.bin" --tokenizer-out "$work/t.bin" > /dev/null || fail "synth failed"
}
M() { echo --model "$work/m.bin" --tokenizer "$work/t.bin"; }

# Run the command in "$@", which must fail (exit 1 or 2, not a crash) with stderr matching $want.
must_fail() {
    local want=$1
    shift
    "$@" > "$work/out.txt" 2> "$work/err.txt"
    local rc=$?
    [[ $rc -eq 1 || $rc -eq 2 ]] || { cat "$work/err.txt"; fail "exit $rc (want 1 or 2) from: $*"; }
    grep -Eq -- "$want" "$work/err.txt" || { cat "$work/err.txt"; fail "no message matching '$want' from: $*"; }
    echo "refused ($rc): $(tail -n 1 "$work/err.txt")"
}

case $case_name in
nonfinite)
    # a checkpoint that passes validation but whose final-norm weights (3e38) overflow float
    synth
    python3 - "$work/m.bin" "$work/big.bin" <<'EOF' || fail "cannot patch the checkpoint"
import struct, sys
b = bytearray(open(sys.argv[1], 'rb').read())
dim = struct.unpack_from('<i', b, 8)[0]       # header: magic, version, dim, ...
b[256:256 + 4 * dim] = struct.pack('<%df' % dim, *([3e38] * dim))   # final_norm follows the header
open(sys.argv[2], 'wb').write(b)
EOF
    "$tern" model info "$work/big.bin" > /dev/null || fail "the patched checkpoint does not pass validation"
    for t in 0 0.8 1e-39; do
        must_fail "position [0-9]+: the final RMSNorm gives a value that is not finite.*largest final-norm weight is 3e\+38" \
            "$tern" generate --model "$work/big.bin" --tokenizer "$work/t.bin" --prompt "hello" --temperature $t --steps 16
        [[ ! -s $work/out.txt ]] || fail "text was printed from non-finite logits (temperature $t): $(cat "$work/out.txt")"
    done
    must_fail "position 0: the final RMSNorm gives a value that is not finite" \
        "$tern" eval --model "$work/big.bin" --tokenizer "$work/t.bin" --text "$data/story.txt"
    ;;
tiny_temperature)
    # temperatures whose logit/temperature overflows float are the greedy limit, not garbage
    synth
    # shellcheck disable=SC2046
    "$tern" generate $(M) --prompt "hello world" --temperature 0 --steps 48 > "$work/greedy.txt" 2> /dev/null \
        || fail "greedy generation failed"
    for t in 1e-39 1e-45 1e-30; do
        # shellcheck disable=SC2046
        "$tern" generate $(M) --prompt "hello world" --temperature $t --seed 9 --steps 48 > "$work/tiny.txt" \
            2> "$work/err.txt" || { cat "$work/err.txt"; fail "--temperature $t failed"; }
        cmp "$work/greedy.txt" "$work/tiny.txt" || fail "--temperature $t differs from greedy: $(cat "$work/tiny.txt")"
    done
    echo "tiny temperatures give the greedy text: $(head -c 60 "$work/greedy.txt")"
    ;;
options)
    # every bad option value: exit 2, nothing on stdout, one line naming the option and what it wants
    synth
    g="generate --model $work/m.bin --tokenizer $work/t.bin --prompt hi --steps 4"
    while IFS='|' read -r args want; do
        eval "set -- $args"
        "$tern" "$@" > "$work/out.txt" 2> "$work/err.txt"
        rc=$?
        [[ $rc -eq 2 ]] || { cat "$work/err.txt"; fail "exit $rc (want 2) from: $args"; }
        grep -Eq -- "$want" "$work/err.txt" || { cat "$work/err.txt"; fail "no message matching '$want' from: $args"; }
        [[ ! -s $work/out.txt ]] || fail "output on stdout from: $args"
        echo "ok: $args -> $(head -n 1 "$work/err.txt")"
    done <<'CASES'
$g --temperature inf|--temperature 'inf' is infinite; want a finite number >= 0
$g --temperature -inf|--temperature '-inf' is infinite
$g --temperature nan|--temperature 'nan' is not a number \(NaN\)
$g --temperature -0.5|--temperature '-0.5' is negative
$g --temperature 1e39|--temperature '1e39' is too large
$g --temperature 0.5x|--temperature '0.5x' has characters after the number
$g --temperature ''|--temperature needs a value
$g --topp 1.5|--topp '1.5' is too large; want a number from 0 to 1
$g --topp nan|--topp 'nan' is not a number
$g --steps -1|--steps '-1' is negative
$g --steps 12abc|--steps '12abc' has characters after the number
$g --steps 99999999999|--steps '99999999999' is too large
$g --seed -1|--seed '-1' is negative
$g --seed 18446744073709551616|--seed '18446744073709551616' is too large
$g --seed 0x|--seed '0x' is not a whole number
$g --no-such-option|unknown option '--no-such-option'
$g --steps|option '--steps' needs a value
$g stray|unexpected argument 'stray'
eval --model $work/m.bin --tokenizer $work/t.bin --text x --bogus|tern eval: unknown option '--bogus'
selftest --seed 12q|tern selftest: --seed '12q' has characters after the number
selftest --seed -3|tern selftest: --seed '-3' is negative
info --backend ref stray|tern info: unexpected argument 'stray'
model synth --seed ' -5' --like $work/m.bin --out $work/x.bin|--seed ' -5' is not a whole number
model info --json|tern model info: option '--json' needs a value
CASES
    if "$tern" --help | grep -q '^  devices'; then
        for a in "vid=zz|--match vid 'zz' is not a whole number" "pid=10000|--match pid '10000' is too large" \
                 "bus=-1|--match bus '-1' is negative" "addr=128|--match addr '128' is too large"; do
            must_fail "${a#*|}" "$tern" devices --match "usb:${a%%|*}" --no-open
        done
    fi
    if "$tern" --help | grep -q '^  vboard'; then
        must_fail "--bus '0' is too small; want a bus number 1..255" "$tern" vboard --bus 0 -- true
        must_fail "--addr 'x' is not a whole number" "$tern" vboard --addr x -- true
        must_fail "--park-us '-1' is negative" "$tern" vboard --park-us -1 -- true
    fi
    ;;
nul_text)
    # a NUL is not text: refused naming the file and the byte offset, never scored up to the NUL
    synth
    printf 'Once upon a time\0there was a cat' > "$work/mid.txt"
    printf '\0Once upon a time' > "$work/first.txt"
    printf 'Once upon a time\n\0' > "$work/last.txt"
    for f in mid:16 first:0 last:17; do
        # shellcheck disable=SC2046
        must_fail "tern eval: $work/${f%%:*}.txt: byte ${f#*:} \(counting from 0\) is NUL" \
            "$tern" eval $(M) --text "$work/${f%%:*}.txt"
        [[ ! -s $work/out.txt ]] || fail "a text with a NUL was scored: $(cat "$work/out.txt")"
    done
    # the same text without the NUL is fine, and so is a text read from a pipe
    printf 'Once upon a time there was a cat\n' > "$work/ok.txt"
    # shellcheck disable=SC2046
    "$tern" eval $(M) --text "$work/ok.txt" > "$work/a.txt" 2> /dev/null || fail "a plain text was refused"
    # shellcheck disable=SC2046
    "$tern" eval $(M) --text /dev/stdin < "$work/ok.txt" > "$work/b.txt" 2> /dev/null || fail "a piped text was refused"
    cmp "$work/a.txt" "$work/b.txt" || fail "a piped text scores differently"
    ;;
json_stdout)
    # with --json -, stdout is one JSON document (python3 -m json.tool parses it) for every
    # command that has --json; the human report goes to stderr
    synth
    printf 'Once upon a time there was a cat\n' > "$work/text.txt"
    # shellcheck disable=SC2016
    while IFS='|' read -r args human; do
        eval "set -- $args"
        "$tern" "$@" --json - > "$work/out.json" 2> "$work/err.txt"
        rc=$?
        [[ $rc -eq 0 || $args == devices* ]] || { cat "$work/err.txt"; fail "exit $rc from: $args --json -"; }
        python3 -m json.tool "$work/out.json" > /dev/null \
            || { head -c 600 "$work/out.json"; fail "stdout of '$args --json -' is not JSON alone"; }
        grep -Eq -- "$human" "$work/err.txt" || { cat "$work/err.txt"; fail "no human report on stderr from: $args"; }
        echo "pure JSON: $args"
    done <<'CASES'
info --backend ref:config=tiny|configuration tiny
selftest --backend ref:config=tiny|cases: 9 match
model info $work/m.bin|dim 64, hidden_dim 96
generate --model $work/m.bin --tokenizer $work/t.bin --prompt $'caf\xc3\xa9 \xff\x01 "q" \\' --steps 24 --seed 3|hardware summary
generate --model $work/m.bin --tokenizer $work/t.bin --compare ref,ref:config=tiny --steps 12 --temperature 0|hardware summary
eval --model $work/m.bin --tokenizer $work/t.bin --text $work/text.txt|perplexity
eval --model $work/m.bin --tokenizer $work/t.bin --text $work/text.txt --compare ref,ref:config=tiny|perplexity
CASES
    # the text generate printed (to stderr) is in the JSON; bytes that are not UTF-8 become U+FFFD
    "$tern" generate --model "$work/m.bin" --tokenizer "$work/t.bin" --prompt $'caf\xc3\xa9 \xff' --steps 24 \
        --seed 3 --json - > "$work/out.json" 2> "$work/err.txt" || fail "generate --json - failed"
    python3 - "$work/out.json" "$work/err.txt" <<'EOF' || fail "the JSON text is not what was printed"
import json, sys
j = json.load(open(sys.argv[1], encoding='utf-8'))
err = open(sys.argv[2], 'rb').read().decode('utf-8', 'replace')
assert j['prompt'] == 'caf\u00e9 \ufffd', repr(j['prompt'])
assert j['text'].startswith('caf') and j['generated_tokens'] > 0, repr(j['text'][:20])
assert j['text'] in err, 'text not on stderr'
EOF
    if "$tern" --help | grep -q '^  devices'; then
        "$tern" devices --no-open --json - > "$work/out.json" 2> "$work/err.txt"
        python3 -m json.tool "$work/out.json" > /dev/null || fail "devices --no-open --json - is not JSON alone"
        echo "pure JSON: devices --no-open"
    fi
    if "$tern" --help | grep -q '^  vboard'; then
        "$tern" vboard --engine ref -- "$tern" devices --json - > "$work/out.json" 2> "$work/err.txt" \
            || { cat "$work/err.txt"; fail "devices on a virtual board failed"; }
        python3 -m json.tool "$work/out.json" > /dev/null || fail "devices --json - on a virtual board is not JSON alone"
        grep -q "configuration default" "$work/err.txt" || fail "no human report on stderr from devices"
        echo "pure JSON: devices on a virtual board"
    fi
    ;;
json_path)
    # a --json path that cannot be written fails at once, naming it, before any work
    synth
    printf 'Once upon a time there was a cat\n' > "$work/text.txt"
    mkdir "$work/dir"
    for bad in "$work/no/such/dir/r.json" "$work/dir"; do
        while IFS= read -r args; do
            eval "set -- $args"
            must_fail "tern [a-z ]+: --json $bad: (cannot write the report there: No such file or directory|is a directory)" \
                "$tern" "$@" --json "$bad"
            [[ ! -s $work/out.txt ]] || fail "work was done before the report path was checked: $(head -c 200 "$work/out.txt")"
            if grep -q "prompt tokens\|hardware summary\|tokens scored" "$work/err.txt"; then
                fail "work was done before the report path was checked ($args)"
            fi
        done <<'CASES'
generate --model $work/m.bin --tokenizer $work/t.bin --prompt hello --steps 24
eval --model $work/m.bin --tokenizer $work/t.bin --text $work/text.txt
info
selftest
model info $work/m.bin
CASES
    done
    if "$tern" --help | grep -q '^  devices'; then
        must_fail "tern devices: --json $work/dir: is a directory" "$tern" devices --no-open --json "$work/dir"
    fi
    # a run that fails leaves no report behind (neither a new one nor a stale one)
    echo '{"stale": true}' > "$work/old.json"
    for f in new old; do
        "$tern" info --backend no-such-backend --json "$work/$f.json" > /dev/null 2>&1 && fail "a bad backend was accepted"
        [[ ! -e $work/$f.json ]] || fail "a failed run left $f.json"
    done
    "$tern" eval $(M) --text "$work/no-such-text" --json "$work/e.json" > /dev/null 2>&1 && fail "a missing text was accepted"
    [[ ! -e $work/e.json ]] || fail "a failed eval left its report"
    # a writable path, and a device file, still work
    "$tern" info --json /dev/null > /dev/null || fail "--json /dev/null failed"
    # shellcheck disable=SC2046
    "$tern" generate $(M) --prompt hi --steps 8 --json "$work/dir/g.json" > /dev/null 2>&1 || fail "generate --json failed"
    python3 -m json.tool "$work/dir/g.json" > /dev/null || fail "the generate report is not JSON"
    echo "report paths are checked first"
    ;;
progress)
    # eval reports progress per ternary product (within a window, not once per window) when asked
    # or on a terminal, on stderr only; ref runs the same code path as sim
    synth
    # shellcheck disable=SC2046
    "$tern" eval $(M) --text "$data/story.txt" --progress --json - > "$work/out.json" 2> "$work/err.txt" \
        || { cat "$work/err.txt"; fail "eval --progress failed"; }
    python3 -m json.tool "$work/out.json" > /dev/null || fail "progress got into the JSON on stdout"
    grep -E '^tern eval: +[0-9]+%  ~[0-9]+ / [0-9]+ token positions  \(layer [0-9]+ of 2 on ref\)$' "$work/err.txt" \
        > "$work/p.txt" || { cat "$work/err.txt"; fail "no progress lines"; }
    python3 - "$work/p.txt" <<'EOF' || fail "progress is not per product"
import re, sys
rows = [tuple(map(int, re.search(r'(\d+)%  ~(\d+) / (\d+)', l).groups())) for l in open(sys.argv[1])]
pct = [r[0] for r in rows]; done = [r[1] for r in rows]; total = rows[0][2]
assert pct == sorted(set(pct)), 'percentages not increasing'
assert pct[-1] == 100 and done[-1] == total, 'does not end at 100%'
first_window = [d for d in done if d < 64]          # the synthetic model's windows are 64 positions
assert len(first_window) >= 10, 'only %d updates inside the first window' % len(first_window)
print('%d progress lines, %d inside the first window of %d positions' % (len(rows), len(first_window), total))
EOF
    # no progress when stderr is not a terminal and none was asked for, or with --no-progress
    for opt in "" --no-progress; do
        # shellcheck disable=SC2046
        "$tern" eval $(M) --text "$data/story.txt" $opt > /dev/null 2> "$work/err.txt" || fail "eval $opt failed"
        if grep -Eq '^tern eval: +[0-9]+%|[0-9]+ / [0-9]+ tokens' "$work/err.txt"; then
            fail "progress without a terminal ($opt)"
        fi
    done
    echo "progress per product on request, none otherwise"
    ;;
compare_report)
    # --compare says what it compared and that it matched, in the report and in the JSON
    synth
    for cmd in "generate --prompt hello --steps 20 --temperature 0" "eval --text $data/story.txt"; do
        for pair in ref,ref:config=tiny ref:config=tiny,ref:config=tiny; do
            # shellcheck disable=SC2046,SC2086
            "$tern" $cmd $(M) --compare $pair --json "$work/c.json" > /dev/null 2> "$work/err.txt" \
                || { cat "$work/err.txt"; fail "$cmd --compare $pair failed"; }
            grep -q -- "--- --compare ${pair/,/ with }: everything compared is identical ---" "$work/err.txt" \
                || { cat "$work/err.txt"; fail "no compare verdict ($cmd, $pair)"; }
            grep -Eq "all [1-9][0-9]* int32 accumulators identical" "$work/err.txt" || fail "no accumulator count"
            grep -Eq "products +[1-9][0-9]* ternary products over [1-9][0-9]* token positions" "$work/err.txt" \
                || fail "no product count"
            grep -Eq "tern_ops [1-9][0-9]* on both, as the host issued" "$work/err.txt" || fail "no counter check"
            python3 - "$work/c.json" "$pair" <<'EOF' || fail "the JSON does not say what was compared ($cmd, $pair)"
import json, sys
c = json.load(open(sys.argv[1]))['compare']
same = sys.argv[2].split(',')[0] == sys.argv[2].split(',')[1]
assert c['devices'] == sys.argv[2].split(',') and c['identical'] is True
assert c['products'] > 0 and c['accumulators'] >= c['products'] and c['logit_rows'] > 0 and c['token_positions'] > 0
assert c['counters']['tern_ops'] > 0 and c['cycles_compared'] == same
assert ('cyc_compute' in c['counters']) == same
EOF
        done
        echo "compare report: $cmd"
    done
    ;;
*)
    fail "unknown case $case_name"
    ;;
esac
