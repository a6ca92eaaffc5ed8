#!/usr/bin/env bash
# demo.sh — the main job: a ternary model tells a story on the accelerator, then the hardware summary.
# Uses ../shared/models/bitllama-3m when present, else a synthetic model of the same shape.
#
# usage: scripts/demo.sh [BACKEND]   (default: sim:config=default when the sim backend is built, else ref)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tern=${TERN_BIN:-$root/build/tern}
shared=$root/../shared/models/bitllama-3m
[[ -x $tern ]] || { echo "demo: build first (bash scripts/setup.sh)" >&2; exit 1; }

backend=${1:-}
if [[ -z $backend ]]; then
    if "$tern" info --backend sim:config=default > /dev/null 2>&1; then
        backend=sim:config=default
    else
        backend=ref:config=default
    fi
fi

if [[ -f $shared/model.bin && -f $shared/tokenizer.bin ]]; then
    model=$shared/model.bin tok=$shared/tokenizer.bin sampling=(--temperature 0)
    echo "== bitllama-3m (trained, TinyStories) on $backend"
else
    mkdir -p "$root/build/demo"
    model=$root/build/demo/synth.bin tok=$root/build/demo/synth_tok.bin
    "$tern" model synth --dim 256 --hidden-dim 256 --layers 8 --heads 8 --kv-heads 4 --vocab 512 --seq-len 512 \
        --seed 1 --out "$model" --tokenizer-out "$tok" > /dev/null
    sampling=(--temperature 0.9 --seed 1)
    echo "== ../shared is absent: a synthetic model of bitllama-3m's shape (its text is noise) on $backend"
fi
"$tern" generate --model "$model" --tokenizer "$tok" --backend "$backend" --prompt "Once upon a time" \
    "${sampling[@]}" --steps 256 --json "$root/build/demo.json"
echo "== summary also in build/demo.json"
