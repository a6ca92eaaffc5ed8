#!/usr/bin/env bash
# trace_test.sh — a run on the sim backend with trace=FILE writes an FST waveform that GTKWave's own
# tools read, holding the stream ports and the command processor's state over the whole run.
# usage: trace_test.sh TERN_BINARY   (skipped, 77, when fst2vcd from gtkwave is not installed)
set -uo pipefail
tern=$1
command -v fst2vcd > /dev/null || { echo "SKIP: fst2vcd (gtkwave) not installed"; exit 77; }
work=$(mktemp -d /tmp/tern_trace_test.XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$tern" info --backend "sim:config=tiny,trace=$work/run.fst" > "$work/info.txt" || fail "tern info on sim with a trace failed"
[[ -s $work/run.fst ]] || fail "no waveform written"
fst2vcd "$work/run.fst" > "$work/run.vcd" 2> /dev/null || fail "fst2vcd cannot read the waveform"
for sig in clk_i in_valid_i in_data_i out_valid_o out_data_o idle_o st_q; do
    grep -q "\$var .* $sig " "$work/run.vcd" || fail "signal $sig is not in the trace"
done
grep -q '$scope module u_cmd' "$work/run.vcd" || fail "the command processor is not in the trace"
# the run took as many cycles as the device counted (a PING and a READ_COUNTERS, 147 cycles here):
# the trace has a rising clock edge for at least that many
edges=$(grep -c '^1!$' "$work/run.vcd")
[[ $edges -ge 147 ]] || fail "only $edges clock edges traced"
echo "waveform ok: $(stat -c %s "$work/run.fst") bytes, $edges rising clock edges"
