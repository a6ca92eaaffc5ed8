#!/usr/bin/env bash
# llm_cli_test.sh — end-to-end checks of `tern generate` and `tern eval` (one case per ctest test).
# usage: llm_cli_test.sh CASE TERN_BINARY MODEL_DIR DATA_DIR [BACKEND [STEPS]]
# Exits 77 (skipped) when a case needs the shared bitllama-3m model and it is absent (the valgrind
# case also when valgrind is: $TERN_VALGRIND, else the one in PATH).
set -uo pipefail
case_name=$1 tern=$2 mdir=$3 data=$4 backend=${5:-ref:config=default} steps=${6:-64}
model=$mdir/model.bin tok=$mdir/tokenizer.bin
work=$(mktemp -d /tmp/tern_llm_test.XXXXXX)
trap 'rm -rf "$work"' EXIT

need_model() {
    if [[ ! -f $model || ! -f $tok ]]; then
        echo "SKIP: $mdir has no bitllama-3m model"
        exit 77
    fi
}
fail() { echo "FAIL: $*" >&2; exit 1; }

# The reference text of the model's README: the fenced block after "## A reference output".
reference_text() {
    awk '/^## A reference output/{f=1} f&&/^```/{n++; next} f&&n==1{print}' "$mdir/README.md"
}

case $case_name in
reference)
    need_model
    reference_text > "$work/want.txt"
    [[ -s $work/want.txt ]] || fail "no reference text found in $mdir/README.md"
    "$tern" generate --model "$model" --tokenizer "$tok" --backend "$backend" --prompt "Once upon a time" \
        --temperature 0 --steps 256 > "$work/got.txt" 2> "$work/err.txt" || { cat "$work/err.txt"; fail "generate failed"; }
    bytes=$(wc -c < "$work/want.txt")
    # the README's block ends in a newline the generated text continues past
    head -c "$((bytes - 1))" "$work/got.txt" > "$work/got_prefix.txt"
    head -c "$((bytes - 1))" "$work/want.txt" > "$work/want_prefix.txt"
    cmp "$work/got_prefix.txt" "$work/want_prefix.txt" || { diff "$work/want_prefix.txt" "$work/got_prefix.txt"; fail "greedy text differs from the README's reference on $backend"; }
    echo "reference text reproduced on $backend ($bytes bytes)"
    ;;
prefill)
    # a prompt processed as one batch and token by token gives the same text, greedy and sampled
    need_model
    for args in "--temperature 0" "--temperature 0.9 --topp 0.9 --seed 7"; do
        # shellcheck disable=SC2086
        "$tern" generate --model "$model" --tokenizer "$tok" --backend "$backend" --steps 96 \
            --prompt "The little cat sat on the mat and" $args > "$work/batch.txt" 2>/dev/null || fail "batch run failed"
        # shellcheck disable=SC2086
        "$tern" generate --model "$model" --tokenizer "$tok" --backend "$backend" --steps 96 --token-by-token \
            --prompt "The little cat sat on the mat and" $args > "$work/token.txt" 2>/dev/null || fail "token-by-token run failed"
        cmp "$work/batch.txt" "$work/token.txt" || fail "prefill and token-by-token differ ($args)"
    done
    echo "prefill == token by token"
    ;;
compare)
    # two devices in lock step: every accumulator of $steps positions must agree
    need_model
    "$tern" generate --model "$model" --tokenizer "$tok" --compare "$backend" --steps "$steps" --temperature 0 \
        --prompt "Once upon a time" > "$work/out.txt" 2> "$work/err.txt" || { cat "$work/err.txt"; fail "--compare $backend failed"; }
    echo "accumulators identical on $backend over $steps positions"
    ;;
eval_same)
    # the same perplexity on two devices, to the last bit
    need_model
    IFS=, read -r a b <<< "$backend"
    "$tern" eval --model "$model" --tokenizer "$tok" --text "$data/story.txt" --backend "$a" --json "$work/a.json" > /dev/null 2>&1 || fail "eval on $a failed"
    "$tern" eval --model "$model" --tokenizer "$tok" --text "$data/story.txt" --backend "$b" --json "$work/b.json" > /dev/null 2>&1 || fail "eval on $b failed"
    na=$(grep '"mean_nll"' "$work/a.json") nb=$(grep '"mean_nll"' "$work/b.json")
    [[ -n $na && $na == "$nb" ]] || fail "mean NLL differs: $a $na, $b $nb"
    echo "identical: $na"
    ;;
long_prompt)
    need_model
    prompt=$(printf 'once upon a time %.0s' $(seq 1 300))
    if "$tern" generate --model "$model" --tokenizer "$tok" --backend "$backend" --prompt "$prompt" --temperature 0 \
        > "$work/out.txt" 2> "$work/err.txt"; then fail "a prompt longer than the context was accepted"; fi
    grep -q "the model's context is 512 positions" "$work/err.txt" || { cat "$work/err.txt"; fail "no clear message"; }
    [[ ! -s $work/out.txt ]] || fail "text was printed for a refused prompt"
    echo "refused: $(cat "$work/err.txt")"
    ;;
empty_prompt)
    need_model
    "$tern" generate --model "$model" --tokenizer "$tok" --backend "$backend" --prompt "" --temperature 0 --steps 40 \
        > "$work/out.txt" 2> "$work/err.txt" || { cat "$work/err.txt"; fail "empty prompt failed"; }
    [[ $(wc -c < "$work/out.txt") -gt 20 ]] || fail "nothing generated from an empty prompt"
    echo "from BOS: $(head -c 80 "$work/out.txt")"
    ;;
odd_bytes)
    # bytes with no token of their own go through byte fallback; control bytes are not printed
    need_model
    "$tern" generate --model "$model" --tokenizer "$tok" --backend "$backend" --prompt $'caf\xc3\xa9 \x01\x7f \xff!' \
        --temperature 0 --steps 40 > "$work/out.txt" 2> "$work/err.txt" || { cat "$work/err.txt"; fail "odd bytes failed"; }
    grep -q "café" "$work/out.txt" || fail "the UTF-8 prompt was not echoed"
    if grep -q $'\x01' "$work/out.txt"; then fail "a control byte was printed"; fi
    echo "ok: $(head -c 60 "$work/out.txt")"
    ;;
steps_beyond)
    need_model
    "$tern" generate --model "$model" --tokenizer "$tok" --backend "$backend" --prompt "Once" --temperature 0 \
        --steps 100000 --json "$work/s.json" > "$work/out.txt" 2> "$work/err.txt" || { cat "$work/err.txt"; fail "failed"; }
    grep -q "using 512" "$work/err.txt" || fail "no note that --steps was clamped"
    grep -q '"steps": 512' "$work/s.json" || fail "steps not clamped to 512"
    echo "clamped to the sequence length"
    ;;
valgrind)
    # memcheck over text generation on $backend (soak: ~20x slower than native): any invalid
    # access, use of uninitialised memory or definite leak fails (--error-exitcode). A sampled
    # run, so that the sampler's top-p path runs too.
    need_model
    vg=${TERN_VALGRIND:-$(command -v valgrind)}
    [[ -n $vg && -x $vg ]] || { echo "SKIP: valgrind is not installed (scripts/install-deps.sh)"; exit 77; }
    "$vg" --error-exitcode=99 --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite \
        --track-origins=yes --log-file="$work/vg.txt" \
        "$tern" generate --model "$model" --tokenizer "$tok" --backend "$backend" --prompt "Once upon a time" \
        --temperature 0.9 --topp 0.9 --seed 7 --steps "$steps" > "$work/out.txt" 2> "$work/err.txt"
    rc=$?
    grep -E "ERROR SUMMARY|definitely lost" "$work/vg.txt"
    [[ $rc != 99 ]] || { cat "$work/vg.txt"; fail "valgrind found errors or definite leaks in tern generate on $backend"; }
    [[ $rc == 0 ]] || { cat "$work/err.txt"; fail "tern generate under valgrind exited $rc"; }
    [[ $(head -c 16 "$work/out.txt") == "Once upon a time" && $(wc -c < "$work/out.txt") -gt 60 ]] ||
        fail "no text generated under valgrind: $(head -c 80 "$work/out.txt")"
    echo "valgrind clean over $steps positions on $backend: $(head -c 60 "$work/out.txt")"
    ;;
synth)
    # no shared model needed: a synthetic model of the same shape, batch == token by token
    "$tern" model synth --dim 64 --hidden-dim 96 --layers 2 --heads 4 --kv-heads 2 --vocab 300 --seq-len 64 \
        --seed 5 --out "$work/m.bin" --tokenizer-out "$work/t.bin" > /dev/null || fail "synth failed"
    "$tern" generate --model "$work/m.bin" --tokenizer "$work/t.bin" --backend "$backend" --prompt "hello world" \
        --temperature 0.8 --seed 3 --steps 48 > "$work/a.txt" 2>/dev/null || fail "generate on a synthetic model failed"
    "$tern" generate --model "$work/m.bin" --tokenizer "$work/t.bin" --backend "$backend" --prompt "hello world" \
        --temperature 0.8 --seed 3 --steps 48 --token-by-token > "$work/b.txt" 2>/dev/null || fail "token-by-token failed"
    cmp "$work/a.txt" "$work/b.txt" || fail "prefill and token-by-token differ on the synthetic model"
    echo "synthetic model: $(head -c 60 "$work/a.txt")"
    ;;
*)
    fail "unknown case $case_name"
    ;;
esac
