#!/usr/bin/env bash
# usb_cli_test.sh — the usb backend on the virtual board, one case per ctest test.
# usage: usb_cli_test.sh TERN TEST_USB_LINK MODEL_DIR LLM_TEST_DIR CASE CONFIG ENGINE [ARGS...]
#   devices  CONFIG ENGINE                 tern devices lists the board with the right ID registers
#   selftest CONFIG ENGINE                 tern selftest --backend usb: matches the oracle and ref
#   link     CONFIG ENGINE EXPECT [FAULT]  test_usb_link --expect EXPECT under --fault FAULT; the
#                                          fault must have fired
#   llm      CONFIG ENGINE LLMCASE [STEPS] a tests/llm case (reference text, lock step) on usb:
# Exits 77 (skipped) when an llm case needs the shared model and it is absent.
set -uo pipefail
tern=$1 link_test=$2 mdir=$3 llm_dir=$4 case_name=$5 config=$6 engine=$7
shift 7
work=$(mktemp -d /tmp/tern_usb_test.XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
vboard() { "$tern" vboard --config "$config" --engine "$engine" "$@"; }

case $case_name in
devices)
    vboard -- "$tern" devices --json "$work/d.json" > "$work/out.txt" 2>&1 || { cat "$work/out.txt"; fail "tern devices failed"; }
    cat "$work/out.txt"
    want_backend=rtl; [[ $engine == ref ]] && want_backend=ref
    grep -q "\"name\": \"$config\"" "$work/d.json" || fail "devices JSON lacks configuration $config"
    grep -q "\"backend\": \"$want_backend\"" "$work/d.json" || fail "devices JSON does not say backend $want_backend"
    grep -q '"vid": 1027' "$work/d.json" || fail "devices JSON lacks the FTDI vendor id"
    ;;
selftest)
    vboard -- "$tern" selftest --backend usb: --json "$work/s.json" > "$work/out.txt" 2>&1 || { cat "$work/out.txt"; fail "selftest on usb failed"; }
    tail -3 "$work/out.txt"
    grep -q '"compare": "ref:config='"$config"'"' "$work/s.json" || fail "selftest did not compare with ref"
    grep -q '"failed": 0' "$work/s.json" || fail "selftest reports failures"
    ;;
link)
    expect=$1
    shift
    faults=()
    for f in "$@"; do faults+=(--fault "$f"); done
    extra=()
    uri=usb:
    # a fault that makes the board mute longer than every retry: short per-response timeouts
    [[ $expect == timeout ]] && uri=usb:timeout_ms=300
    [[ ${1:-} == timeout:* && $expect == ok ]] && uri=usb:timeout_ms=400
    if [[ ${1:-} == noperm && $(id -u) == 0 ]]; then
        # root passes file permissions; without CAP_DAC_OVERRIDE the kernel refuses as for a user
        command -v setpriv > /dev/null || { echo "SKIP: setpriv missing"; exit 77; }
        extra=(setpriv --bounding-set=-dac_override,-dac_read_search --)
    fi
    vboard -v "${faults[@]}" -- "${extra[@]}" "$link_test" --uri "$uri" --expect "$expect" --limit-s 60 \
        > "$work/out.txt" 2> "$work/err.txt"
    rc=$?
    grep -v "^tern vboard: \(ioctl\|request\)" "$work/err.txt" | tail -5
    cat "$work/out.txt"
    [[ $rc == 0 ]] || fail "test_usb_link exited $rc"
    summary=$(grep "faults injected:" "$work/err.txt")
    for f in "$@"; do
        case ${f%%:*} in
        stall) re='[1-9][0-9]* stall' ;;
        timeout) re='[1-9][0-9]* timeout' ;;
        short) re='[1-9][0-9]* short' ;;
        drop) re='dropped ([1-9][0-9]* out|[0-9]+ out \+ [1-9])' ;;
        corrupt) re='corrupted ([1-9][0-9]* out|[0-9]+ out \+ [1-9])' ;;
        dup) re='[1-9][0-9]* dup frames' ;;
        unplug) re='[1-9][0-9]* unplug' ;;
        slow) re='[1-9][0-9]* slow holds' ;;
        *) re='' ;; # busy, noperm: the expected error is the proof
        esac
        [[ -z $re ]] || grep -Eq "$re" <<< "$summary" || fail "fault $f did not fire (virtual board: $summary)"
    done
    ;;
llm)
    llm_case=$1
    shift
    backend=usb:
    [[ $llm_case == compare ]] && backend=usb:,ref:config=$config
    vboard -- bash "$llm_dir/llm_cli_test.sh" "$llm_case" "$tern" "$mdir" "$llm_dir/data" "$backend" "$@"
    exit $?
    ;;
*)
    fail "unknown case $case_name"
    ;;
esac
echo "PASS: $case_name $config $engine $*"
