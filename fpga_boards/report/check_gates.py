#!/usr/bin/env python3
"""check_gates.py — the gate of one FPGA board (the ctest fpga.<board>): builds the board's target,
then checks that the design fits the device, meets the board's clock and has no DSP or multiplier
cell. It prints one line a gate (PASS or FAIL, with the cells used of those available and fmax
against the clock) and writes the same into gates.json beside the board's outputs; the exit status
is 0 (all gates pass), 1 (a gate failed or the build failed) or 77 (skipped: the board's
place-and-route tools are missing). Without --target it checks what is already built (the
fpga_<board> target runs it so, with --report-only, last, to print its result).

The board's build directory holds what cmake/TernFpga.cmake (tern_fpga_board) produces:
board.json (the arguments), synth.json / stat.json / synth.log (yosys) and, for PNR boards,
pnr.json / pnr.log (nextpnr) and <board>.bin.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time

# Cells that mean a multiplier or a DSP block, in any family's netlist.
FORBIDDEN = ("SB_MAC16", "$mul", "$__MUL", "DSP48E1", "DSP48E2", "DSP48A1", "MULT18X18D", "MULT9X9D",
             "ALU54B", "$macc")

# nextpnr utilisation entries -> CAPACITY keys
PNR_KEYS = {
    "ice40": {"ICESTORM_LC": "LUT", "ICESTORM_RAM": "BRAM", "ICESTORM_DSP": "DSP", "ICESTORM_SPRAM": "SPRAM"},
}

KEY_NAMES = {"LUT": "LUTs", "FF": "FFs", "BRAM": "BRAMs", "DSP": "DSPs", "SPRAM": "SPRAMs"}


def cell_weights(family):
    """Per family: cell type (or prefix ending in *) -> {CAPACITY key: units} for a yosys netlist."""
    if family == "ice40":
        return {"SB_LUT4": {"LUT": 1}, "SB_DFF*": {"FF": 1}, "SB_RAM40_4K*": {"BRAM": 1},
                "SB_MAC16": {"DSP": 1}, "SB_SPRAM256KA": {"SPRAM": 1}}
    if family == "xilinx":
        # LUT RAM and shift registers sit in LUTs too; a RAMB18 is half a 36 kbit BRAM tile
        return {"LUT1": {"LUT": 1}, "LUT2": {"LUT": 1}, "LUT3": {"LUT": 1}, "LUT4": {"LUT": 1},
                "LUT5": {"LUT": 1}, "LUT6": {"LUT": 1}, "LUT6_2": {"LUT": 1},
                "RAM32X1D": {"LUT": 2}, "RAM64X1D": {"LUT": 2}, "RAM128X1D": {"LUT": 4},
                "RAM32M": {"LUT": 4}, "RAM64M": {"LUT": 4}, "RAM256X1S": {"LUT": 4},
                "RAM32X1S": {"LUT": 1}, "RAM64X1S": {"LUT": 1}, "RAM128X1S": {"LUT": 2},
                "SRL16E": {"LUT": 1}, "SRLC32E": {"LUT": 1},
                "FDRE": {"FF": 1}, "FDSE": {"FF": 1}, "FDCE": {"FF": 1}, "FDPE": {"FF": 1},
                "RAMB36E1": {"BRAM": 1}, "RAMB18E1": {"BRAM": 0.5},
                "DSP48E1": {"DSP": 1}}
    if family == "ecp5":
        # a CCU2C is the two LUT4s of a slice; a TRELLIS_DPR16X4 takes a slice pair's LUTs as RAM
        return {"LUT4": {"LUT": 1}, "CCU2C": {"LUT": 2}, "TRELLIS_DPR16X4": {"LUT": 4},
                "TRELLIS_FF": {"FF": 1}, "DP16KD": {"BRAM": 1}, "PDPW16KD": {"BRAM": 1},
                "MULT18X18D": {"DSP": 1}, "MULT9X9D": {"DSP": 0.5}, "ALU54B": {"DSP": 1}}
    return {}


def count_cells(cells, family):
    """{CAPACITY key: units} from {cell type: count}."""
    totals = {}
    weights = cell_weights(family)
    for ctype, n in cells.items():
        for pat, units in weights.items():
            if ctype == pat or (pat.endswith("*") and ctype.startswith(pat[:-1])):
                for key, u in units.items():
                    totals[key] = totals.get(key, 0) + u * n
                break
    return totals


def netlist_cells(path):
    """{cell type: count} of the design in a yosys JSON netlist: from the top module down, each
    submodule counted once per instance (synth_xilinx keeps the hierarchy); the cell library's
    blackboxes, which write_json includes, are leaf cells."""
    with open(path) as f:
        mods = json.load(f).get("modules", {})

    def is_design(name):
        attrs = mods[name].get("attributes", {}) if name in mods else {}
        return name in mods and not any(str(attrs.get(a, "0")).strip("0") for a in ("blackbox", "whitebox"))

    memo = {}

    def count(name):
        if name not in memo:
            total = {}
            for cell in mods[name].get("cells", {}).values():
                sub = count(cell["type"]) if is_design(cell["type"]) else {cell["type"]: 1}
                for t, n in sub.items():
                    total[t] = total.get(t, 0) + n
            memo[name] = total
        return memo[name]

    tops = [m for m in mods if is_design(m) and str(mods[m].get("attributes", {}).get("top", "0")).strip("0")]
    if not tops:                              # no top attribute: every module that is no one's cell
        used = {c["type"] for m in mods for c in mods[m].get("cells", {}).values()}
        tops = [m for m in mods if is_design(m) and m not in used]
    cells = {}
    for top in tops:
        for t, n in count(top).items():
            cells[t] = cells.get(t, 0) + n
    return cells


def netlist_types(path):
    """Every cell type anywhere in a yosys JSON netlist's design modules (for the DSP check)."""
    with open(path) as f:
        mods = json.load(f).get("modules", {})
    types = set()
    for mod in mods.values():
        attrs = mod.get("attributes", {})
        if any(str(attrs.get(a, "0")).strip("0") for a in ("blackbox", "whitebox")):
            continue
        types.update(c["type"] for c in mod.get("cells", {}).values())
    return types


def stat_cells(path):
    """{cell type: count} of the design from yosys `stat -json` output."""
    with open(path) as f:
        text = f.read()
    # `tee -o` may leave yosys' log lines before the JSON object; yosys 0.23 breaks the JSON of a
    # hierarchical design with its text hierarchy (the netlist is used whenever it exists)
    try:
        stat = json.loads(text[text.index("{"):])
    except ValueError:
        return None
    design = stat.get("design") or {}
    cells = dict(design.get("num_cells_by_type", {}))
    if not cells:
        for mod in stat.get("modules", {}).values():
            for t, n in mod.get("num_cells_by_type", {}).items():
                cells[t] = cells.get(t, 0) + n
    return cells


def pnr_from_log(path):
    """(utilisation {type: (used, available)}, fmax {clock: (achieved, target)}, error lines) from a nextpnr log."""
    util, fmax, errors = {}, {}, []
    with open(path, errors="replace") as f:
        for line in f:
            m = re.match(r"Info:\s+(\w+):\s+(\d+)/\s*(\d+)\s+\d+%", line)
            if m:
                util[m.group(1)] = (int(m.group(2)), int(m.group(3)))
            for m in re.finditer(r"Max frequency for clock '([^']+)': ([0-9.]+) MHz \((?:PASS|FAIL) at ([0-9.]+) MHz\)",
                                 line):
                fmax[m.group(1)] = (float(m.group(2)), float(m.group(3)))
            if line.startswith("ERROR:"):
                errors.append(line.strip())
    return util, fmax, errors


def pnr_from_report(path):
    """(utilisation, fmax) from nextpnr's --report JSON."""
    with open(path) as f:
        rep = json.load(f)
    util = {k: (v["used"], v["available"]) for k, v in rep.get("utilization", {}).items()}
    fmax = {k: (v["achieved"], v["constraint"]) for k, v in rep.get("fmax", {}).items()}
    return util, fmax


def mhz(hz):
    return f"{hz / 1e6:g}"


def mtime(path):
    return os.path.getmtime(path) if os.path.exists(path) else None


def newer(path, than):
    """path exists and is not older than every existing file in than (what make would rebuild)."""
    t = mtime(path)
    return t is not None and all(t >= u for u in map(mtime, than) if u is not None)


class Gates:
    """The gates of one board, in order: (gate, PASS | FAIL | INFO, detail)."""

    def __init__(self, name):
        self.name = name
        self.rows = []

    def add(self, gate, ok, detail):
        self.rows.append((gate, "PASS" if ok else "FAIL", detail))

    def info(self, gate, detail):
        self.rows.append((gate, "INFO", detail))

    def failed(self):
        return [r for r in self.rows if r[1] == "FAIL"]


def summarise(board, gates, used, fmax, out):
    """Print the result (one line a gate) and write gates.json beside the board's outputs."""
    name, cap = board["name"], board["capacity"]
    print(f"{name}: configuration {board['config']} on {board['family']} {board['device']} "
          f"({board['package']}), clock {mhz(board['clock_hz'])} MHz, results in {out}")
    for gate, status, detail in gates.rows:
        print(f"{name}:   {status:4s}  {gate:12s} {detail}")
    bad = gates.failed()
    if bad:
        print(f"{name}: FAILED ({len(bad)} gate{'s' if len(bad) > 1 else ''}: "
              f"{', '.join(g for g, _, _ in bad)})")
    else:
        print(f"{name}: all gates pass" + ("" if board["gate"] else " (not a CI gate: soak)"))
    result = {"board": name, "config": board["config"], "clock_hz": board["clock_hz"], "fmax_mhz": fmax,
              "used": used, "capacity": cap, "pass": not bad,
              "gates": [{"gate": g, "status": st, "detail": d} for g, st, d in gates.rows]}
    with open(os.path.join(out, "gates.json"), "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    return 1 if bad else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("board_json", help="the board's board.json (build/fpga_boards/<board>/board.json)")
    ap.add_argument("--build-dir", help="build tree to build the target in first")
    ap.add_argument("--target", help="target to build first (fpga_<board>); without it, check what is built")
    ap.add_argument("--cmake", default="cmake", help="cmake executable (default: cmake)")
    ap.add_argument("--config", default="", help="build configuration for multi-config generators")
    ap.add_argument("--report-only", action="store_true",
                    help="print the result and write gates.json, but exit 0 when a gate fails (the "
                         "fpga_<board> target: the test fpga.<board> is the gate)")
    args = ap.parse_args()

    with open(args.board_json) as f:
        board = json.load(f)
    name, family, out = board["name"], board["family"], board["dir"]
    cap = board["capacity"]
    target_hz = board["clock_hz"]
    gates = Gates(name)

    if board["pnr"] and not board["pnr_tools"]:
        print(f"{name}: skipped: nextpnr-ice40 or icepack not found (install nextpnr-ice40 and fpga-icestorm)")
        return 77

    # 1. build
    rc = 0
    if args.target:
        if not args.build_dir:
            ap.error("--target needs --build-dir")
        cmd = [args.cmake, "--build", args.build_dir, "--target", args.target]
        if args.config:
            cmd += ["--config", args.config]
        t0 = time.time()
        print(f"{name}: building: {' '.join(cmd)}", flush=True)
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        rc = proc.returncode
        with open(os.path.join(out, "build.log"), "w") as f:
            f.write(proc.stdout)
        print(f"{name}: build {'failed' if rc else 'done'} in {time.time() - t0:.0f} s (log: {out}/build.log)")

    synth_json = os.path.join(out, "synth.json")
    stat_json = os.path.join(out, "stat.json")
    synth_log = os.path.join(out, "synth.log")
    pnr_json = os.path.join(out, "pnr.json")
    pnr_log = os.path.join(out, "pnr.log")
    # An output counts if it is newer than its inputs, as make sees it: a failed step leaves the
    # outputs of an earlier run behind, older than what changed since.
    synth_inputs = board["sources"] + [os.path.join(out, "synth.ys")]
    pnr_inputs = [synth_json, board["constraints"]]

    # 2. synthesis
    cells, types = None, set()
    if newer(synth_json, synth_inputs):
        cells = netlist_cells(synth_json)
        types = netlist_types(synth_json)
    elif newer(stat_json, synth_inputs):
        cells = stat_cells(stat_json)
    if cells is None:
        why = "no netlist"
        if newer(synth_log, synth_inputs):
            with open(synth_log, errors="replace") as f:
                errs = [l.strip() for l in f if l.startswith("ERROR")]
            if errs:
                why = errs[-1]
        gates.add("synthesis", False, f"failed: {why} (see {synth_log})")
    else:
        bad = {t: n for t, n in cells.items() if any(t == p or t.startswith(p) for p in FORBIDDEN)}
        for t in types:                       # also in a module that is not instantiated
            if t not in bad and any(t == p or t.startswith(p) for p in FORBIDDEN):
                bad[t] = 0
        if bad:
            gates.add("add-only", False, "; ".join(f"{n or 'a'} {t} in the netlist" for t, n in sorted(bad.items()))
                      + ": the ternary datapath must be add-only")
        else:
            gates.add("add-only", True, "no DSP or multiplier cell in the netlist")

    # 3. fit and timing
    used = count_cells(cells, family) if cells else {}
    fmax_mhz = None
    timing = []
    if board["pnr"] and cells is not None:
        util, fmax, errors = {}, {}, []
        if newer(pnr_log, pnr_inputs):
            util, fmax, errors = pnr_from_log(pnr_log)
        if newer(pnr_json, pnr_inputs):
            u2, f2 = pnr_from_report(pnr_json)
            util.update(u2)
            fmax.update(f2)
        if not util and not errors:
            gates.add("pnr", False, f"place and route did not run (see {out}/build.log)")
        for ptype, key in PNR_KEYS.get(family, {}).items():
            if ptype in util:
                used[key] = util[ptype][0]
        for ptype, (u, avail) in sorted(util.items()):
            if ptype not in PNR_KEYS.get(family, {}) and u > avail:
                gates.add("fit", False, f"{ptype} {u} of {avail}: does not fit")
        for clk, (achieved, _) in sorted(fmax.items()):
            fmax_mhz = achieved if fmax_mhz is None else min(fmax_mhz, achieved)
            ok = achieved * 1e6 >= target_hz
            timing.append((ok, f"fmax {achieved:.2f} MHz {'>=' if ok else '<'} {mhz(target_hz)} MHz "
                               f"(clock {clk}, nextpnr after routing)" + ("" if ok else ": timing not met")))
        other = [e for e in errors if "Max frequency" not in e]
        if other and rc:
            gates.add("pnr", False, f"place and route failed: {other[-1]} (see {pnr_log})")
        if util and not fmax and not gates.failed():
            gates.add("timing", False, f"place and route stopped before timing analysis: timing unknown "
                                       f"(see {pnr_log})")
    elif cells is not None:
        gates.info("timing", f"not checked: no place and route here (yosys cell counts only), "
                             f"clock {mhz(target_hz)} MHz")

    for key in ("LUT", "FF", "BRAM", "DSP", "SPRAM"):
        if key not in cap and key not in used:
            continue
        u, c = used.get(key, 0), cap.get(key)
        label = KEY_NAMES[key]
        if c is None:
            gates.add(f"fit {label}", not u, f"{u:g} used but the board has none" if u else "none used")
        else:
            gates.add(f"fit {label}", u <= c, f"{u:g} / {c} ({100 * u / c if c else 0:.0f}%)"
                      + ("" if u <= c else ": does not fit"))
    for ok, detail in timing:
        gates.add("timing", ok, detail)
    if board["pnr"] and cells is not None:
        binary = os.path.join(out, f"{name}.bin")
        if newer(binary, pnr_inputs):
            gates.info("bitstream", binary)
    if rc and not gates.failed():
        gates.add("build", False, f"the build failed (see {out}/build.log)")

    status = summarise(board, gates, used, fmax_mhz, out)
    return 0 if args.report_only else status


if __name__ == "__main__":
    sys.exit(main())
