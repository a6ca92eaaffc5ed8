#!/usr/bin/env bash
# make_seeds.sh — (re)write the generated seed inputs fuzz/corpus/<target>/seed-*: checkpoints and
# tokenizers of tiny shapes made by `tern model synth`, and hand-written structured inputs for the
# tokenizer, the protocol client and the reference device (each target's header comment describes
# its input). The regression inputs (regress-*) are never touched. Deterministic: running it again
# gives the same bytes.
#
# usage: fuzz/make_seeds.sh [BUILD_DIR]   (default: build; needs its tern command: cmake --build build --target tern_cli)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$root/build}
tern=$build/tern
[[ -x $tern ]] || { echo "make_seeds.sh: no $tern (cmake --build $build --target tern_cli)" >&2; exit 1; }
corpus=$root/fuzz/corpus
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$corpus"/{checkpoint,tokenizer_file,tokenizer,client,refdev}
rm -f "$corpus"/*/seed-*

# bytes from hex pairs (spaces allowed): seed FILE HEX...
seed() {
    local f=$1
    shift
    printf '%s' "$*" | tr -d ' \n' | sed 's/../\\x&/g' | xargs -0 printf '%b' >"$f"
}

# ---- checkpoint: whole files --------------------------------------------------------------------
synth() { # name dim hidden layers heads kv vocab seq seed
    "$tern" model synth --dim "$2" --hidden-dim "$3" --layers "$4" --heads "$5" --kv-heads "$6" --vocab "$7" \
        --seq-len "$8" --seed "$9" --out "$corpus/checkpoint/seed-$1" >/dev/null
}
synth d4-l1 4 4 1 2 1 4 8 1
synth d8-l2-gqa 8 12 2 2 1 16 16 2
synth d8-l3 8 8 3 4 4 8 8 3
synth d16-h24 16 24 1 4 2 24 32 4

# ---- tokenizer_file: u16 (vocab - 259), then the file -------------------------------------------
for v in 259 270 300; do
    "$tern" model synth --dim 4 --hidden-dim 4 --layers 1 --heads 2 --kv-heads 1 --vocab "$v" --seq-len 8 \
        --seed "$v" --out "$tmp/m.bin" --tokenizer-out "$tmp/t.tok" >/dev/null
    d=$((v - 259))
    { printf "\\x$(printf %02x $((d & 255)))\\x$(printf %02x $((d >> 8)))"; cat "$tmp/t.tok"; } \
        >"$corpus/tokenizer_file/seed-v$v"
done

# ---- tokenizer: mode byte (tokenizer 0-3, bit 2 BOS, bit 3 EOS), then NUL-separated texts ------
printf '\x0dOnce upon a time, there was a little girl.\n' >"$corpus/tokenizer/seed-512-story"
printf '\x0eThe quick brown fox\0jumps over\0\0the lazy dog' >"$corpus/tokenizer/seed-4096-texts"
printf '\x04caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xff\xfe bytes' >"$corpus/tokenizer/seed-259-utf8"
printf '\x0f<0x41> \n<s>\n <unk> aab\0\n</s>\n' >"$corpus/tokenizer/seed-hostile"

# ---- client: mode, matrix (rows, cols u16, tokens, seed, plant), memory length u16, script ------
# truthful (bit 0), every answer released at once: the whole drive succeeds, 24 x 2048 x 3 product
{ seed /dev/stdout 01 17 ff 07 02 07 00 20 01; head -c 200 /dev/zero; } >"$corpus/client/seed-truthful-clean"
# truthful, with answers cut, lost, delayed, damaged, doubled, noise and link failures
seed "$corpus/client/seed-truthful-faults" 01 05 40 00 01 2a 00 10 00 \
    00 01 05 00 03 00 02 00 04 07 00 03 05 00 06 05 11 22 33 44 55 00 07 01 00 00 07 03 00 \
    00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
# truthful, resynchronising on open (bit 1), small matrix with a code 10 planted
seed "$corpus/client/seed-truthful-resync-code10" 03 03 07 00 00 09 80 04 00 \
    00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
# free: a forged ID block (registers 9 MAX_PAYLOAD and 6 WMEM_WORDS rewritten), then answers
seed "$corpus/client/seed-free-forged-id" 00 02 08 00 00 01 00 00 00 \
    09 02 89 00 10 00 00 06 40 00 00 00 00 00 00 00 00 00 00 00
# free: forged responses (echoed seq, statuses, odd lengths) and raw bytes with the magic
seed "$corpus/client/seed-free-forged" 00 02 08 00 00 01 00 00 00 \
    00 08 07 02 00 08 0d 05 00 00 0a 08 a5 52 01 01 00 00 00 00 08 01 00 00
# endless (bit 2): after the script the device talks noise for ever
seed "$corpus/client/seed-endless" 05 02 08 00 00 01 00 10 00 00 00 00 00 00

# ---- refdev: mode (bit 0 own configuration + 9 bytes, bit 1 records, bits 2-7 chunking) ---------
# frame record: kind, sel (op - 1), damage, seq, where (0 WMEM 1 AMEM 2 OMEM 3 any), addr u16
# (u32 for 3), a register index for READ_REG/WRITE_REG, then the opcode's fields
seed "$corpus/refdev/seed-commands" 06 \
    00 00 00 01 00 00 00 \
    00 01 00 02 00 00 00 00 \
    00 02 00 03 00 00 00 20 ef be ad de \
    00 01 00 04 00 00 00 20 \
    00 03 00 05 01 00 00 10 41 42 43 44 45 46 47 48 49 4a 4b 4c 4d 4e 4f 50 \
    00 04 00 06 01 00 00 10 00 \
    00 03 00 07 00 00 00 20 55 55 55 55 ff ff ff ff 11 11 11 11 33 33 33 33 55 55 55 55 ff ff ff ff 11 11 11 11 33 33 33 33 \
    00 05 00 08 00 00 00 00 00 04 08 00 00 01 00 00 \
    00 04 00 09 02 00 00 20 00 \
    00 06 00 0a 00 00 00 \
    00 07 00 0b 00 00 00
seed "$corpus/refdev/seed-damaged" 0a \
    00 00 21 01 00 00 00 05 \
    00 00 02 02 00 00 00 00 00 \
    00 00 03 03 00 00 00 \
    00 03 04 04 01 00 00 08 41 42 43 44 45 46 47 48 05 00 \
    00 00 05 05 00 00 00 10 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 10 \
    07 08 40 01 06 10 05 04 a5 54 a5 00
seed "$corpus/refdev/seed-retries" 12 \
    00 02 00 07 00 00 00 20 01 00 00 00 07 07 \
    00 05 00 08 00 00 00 00 00 01 01 00 00 01 00 01 07 \
    00 07 00 09 00 00 00 07
seed "$corpus/refdev/seed-own-config" 07 03 02 05 00 10 10 08 20 1c \
    00 00 00 01 00 00 00 \
    00 03 00 02 00 00 00 20 ff 55 0f f0 ff 55 0f f0 ff 55 0f f0 ff 55 0f f0 ff 55 0f f0 ff 55 0f f0 ff 55 0f f0 ff 55 0f f0 \
    00 03 00 03 01 00 00 20 80 7f 01 fe 80 7f 01 fe 80 7f 01 fe 80 7f 01 fe 80 7f 01 fe 80 7f 01 fe 80 7f 01 fe 80 7f 01 fe \
    00 05 00 04 00 00 00 00 00 10 10 00 00 01 00 00 \
    00 04 00 05 02 00 00 40 00
seed "$corpus/refdev/seed-raw" 00 a5 54 01 01 00 00 a5 a5 54 00 ff 13 37 00 00 00 00 00 00 00 00 00 00 00 00
echo "seeds written under $corpus"
