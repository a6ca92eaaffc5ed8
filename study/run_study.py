#!/usr/bin/env python3
"""run_study.py — hardware co-design study: add-only ternary PEs against multiplier PEs.

Synthesises study/study_array.sv for each PE kind and array size with the same flow (yosys
synth_ice40, no DSP), places and routes it with nextpnr-ice40 (UP5K, or HX8K when the UP5K is too
small) to get fmax, optionally repeats the synthesis with -dsp (SB_MAC16 use) and with synth_ecp5 /
synth_xilinx (LUT counts only), and writes codesign-study.md and codesign-study.json (into --work
unless --md / --json say otherwise; the cmake targets codesign-study and codesign-study-quick write
into the build tree, and codesign-study-update-docs copies the full study into docs/).

  tern  the accelerator's own lane (rtl/tern_lane.sv + rtl/tern_pe.sv): +a / -a / 0, adder tree
  mac8  int8 x int8 multiplier PEs (study_pe_mac8.sv), same adder tree
  mac2  int8 x int2 multiplier PEs (study_pe_mac2.sv), same adder tree
  none  the harness alone (chain, registers, accumulators, output fold), subtracted for "datapath" LUTs

An operation is one product-accumulate: an LxW array does L*W operations a cycle.
The full study takes about 30 min of wall time on 2 cores (60 min of yosys + nextpnr time; the int8 x
int8 8x16 array is the slowest synthesis); --quick (one size, the iCE40 flow, one seed) a few minutes.
Results are cached in --work by source hash. Progress goes to stdout, the result table at the end.

  python3 study/run_study.py --render-json docs/codesign-study.json --md docs/codesign-study.md
re-writes the Markdown (and the JSON) of an earlier run from its JSON, without running any tool.
"""
import argparse
import concurrent.futures as cf
import hashlib
import json
import os
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RTL = os.path.join(ROOT, "rtl")
KIND_ID = {"tern": 0, "mac8": 1, "mac2": 2, "none": 3}
KIND_DESC = {
    "tern": "ternary, add-only (tern_lane + tern_pe)",
    "mac8": "int8 x int8 multiplier",
    "mac2": "int8 x int2 multiplier",
    "none": "harness only",
}
SOURCES = [os.path.join(HERE, f) for f in ("study_array.sv", "study_lane_mac.sv", "study_pe_mac8.sv",
                                           "study_pe_mac2.sv")] + \
          [os.path.join(RTL, f) for f in ("tern_lane.sv", "tern_pe.sv")]
# iCE40 parts tried in order for place and route: (nextpnr flag, package, logic cells)
DEVICES = [("up5k", "sg48", 5280), ("hx8k", "ct256", 7680)]
UP5K_DSPS = 8
FLOWS = {
    "ice40": "synth_ice40 -top study_array",
    "ice40_dsp": "synth_ice40 -dsp -top study_array",
    "ecp5": "synth_ecp5 -nodsp -top study_array",
    "xilinx": "synth_xilinx -nodsp -flatten -family xc7 -top study_array",
}

T0 = time.time()
LOCK = threading.Lock()


DESCRIPTION = ("tern co-design study: add-only ternary PEs against int8 x int8 and int8 x int2 multiplier PEs, "
               "same array and flow (study/run_study.py)")


def log(msg):
    with LOCK:
        print(f"[{time.time() - T0:6.0f} s] {msg}", flush=True)


def rel(path):
    return os.path.relpath(path, ROOT)


# the sources that each kind's netlist depends on (the cache key of its results)
KIND_SOURCES = {
    "tern": ("study_array.sv", "tern_lane.sv", "tern_pe.sv"),
    "mac8": ("study_array.sv", "study_lane_mac.sv", "study_pe_mac8.sv"),
    "mac2": ("study_array.sv", "study_lane_mac.sv", "study_pe_mac2.sv"),
    "none": ("study_array.sv",),
}


def source_hash(kind=None):
    h = hashlib.sha256()
    for f in SOURCES:
        if kind is not None and os.path.basename(f) not in KIND_SOURCES[kind]:
            continue
        with open(f, "rb") as fh:
            h.update(fh.read())
    return h.hexdigest()[:16]


def tool_versions(args):
    def first_line(cmd):
        try:
            r = subprocess.run(cmd, capture_output=True, text=True)
            return (r.stdout + r.stderr).strip().splitlines()[0]
        except (OSError, IndexError):
            return "not found"

    def dpkg(pkg):
        try:
            r = subprocess.run(["dpkg-query", "-W", "-f=${Version}", pkg], capture_output=True, text=True)
            return r.stdout.strip() or "unknown"
        except OSError:
            return "unknown"

    return {
        "yosys": first_line([args.yosys, "-V"]),
        "nextpnr-ice40": first_line([args.nextpnr, "--version"]) + f" (Debian {dpkg('nextpnr-ice40')})",
        "fpga-icestorm (chip database)": dpkg("fpga-icestorm"),
        "python": sys.version.split()[0],
    }


def source_state():
    """The git commit and, per study source, its hash and whether it differs from that commit."""
    def git(*cmd):
        try:
            r = subprocess.run(["git", "-C", ROOT] + list(cmd), capture_output=True, text=True)
            return r.stdout.strip() if r.returncode == 0 else None
        except OSError:
            return None
    files = {}
    for f in SOURCES:
        with open(f, "rb") as fh:
            digest = hashlib.sha256(fh.read()).hexdigest()[:12]
        status = git("status", "--porcelain", "--", rel(f))
        files[rel(f)] = {"sha256_12": digest,
                         "git": "unknown" if status is None else ("clean" if status == "" else status[:2].strip())}
    return {"commit": git("rev-parse", "--short=12", "HEAD"), "files": files}


def cached(path, key):
    if not os.path.exists(path):
        return None
    try:
        with open(path) as f:
            d = json.load(f)
        return d if d.get("key") == key else None
    except (OSError, ValueError):
        return None


def run(cmd, logfile, timeout=None):
    with open(logfile, "w") as lf:
        lf.write("# " + " ".join(shlex.quote(c) for c in cmd) + "\n")
        lf.flush()
        t = time.time()
        r = subprocess.run(cmd, stdout=lf, stderr=subprocess.STDOUT, timeout=timeout)
    return r.returncode, time.time() - t


def counts(flow, cells):
    """(LUTs, carry cells, FFs, DSPs) of one netlist. LUTs are LUT-equivalents: iCE40 SB_LUT4 (the
    sum LUT of an adder bit is an SB_LUT4 beside its SB_CARRY); ECP5 LUT4 + 2 per CCU2C (a CCU2C is two
    LUT4s and their carry logic, so arithmetic would otherwise be free); Xilinx LUT1..LUT6 + INV (the
    wide-function muxes MUXF7/8, PFUMX and L6MUX21 combine LUTs and are not counted)."""
    if flow.startswith("ice40"):
        return (cells.get("SB_LUT4", 0), cells.get("SB_CARRY", 0),
                sum(v for k, v in cells.items() if k.startswith("SB_DFF")), cells.get("SB_MAC16", 0))
    if flow == "ecp5":
        return (cells.get("LUT4", 0) + 2 * cells.get("CCU2C", 0), cells.get("CCU2C", 0),
                cells.get("TRELLIS_FF", 0), sum(v for k, v in cells.items() if k.startswith("MULT")))
    return (sum(v for k, v in cells.items() if re.fullmatch(r"LUT[1-6]|INV", k)), cells.get("CARRY4", 0),
            sum(v for k, v in cells.items() if re.fullmatch(r"FD[CPRSE]E?", k)),
            sum(v for k, v in cells.items() if k.startswith("DSP")))


def synth(args, kind, lanes, width, flow):
    """One yosys run; returns the cell counts of the flattened netlist."""
    name = f"{kind}_{lanes}x{width}_{flow}"
    base = os.path.join(args.work, name)
    key = f"{source_hash(kind)}:{FLOWS[flow]}:{args.acc_w}"
    res = cached(base + ".result.json", key)
    if res is not None:
        if "cells" in res:     # the counting rules may have changed since
            res["lut"], res["carry"], res["ff"], res["dsp"] = counts(flow, res["cells"])
        log(f"synth  {name:22s} cached: {res['lut']} LUTs")
        return res
    script = (f"read_verilog -sv {' '.join(SOURCES)}; "
              f"chparam -set PE_KIND {KIND_ID[kind]} -set LANES {lanes} -set WIDTH {width} "
              f"-set ACC_W {args.acc_w} study_array; "
              f"{FLOWS[flow]}" + (f" -json {base}.json" if flow.startswith("ice40") else "") + "; "
              f"tee -q -o {base}.stat.json stat -json")
    log(f"synth  {name:22s} ...")
    rc, secs = run([args.yosys, "-q", "-p", script], base + ".yosys.log")
    if rc != 0:
        log(f"synth  {name:22s} FAILED (see {base}.yosys.log)")
        return {"key": key, "error": f"yosys exit {rc}", "lut": None}
    with open(base + ".stat.json") as f:
        cells = json.load(f)["design"]["num_cells_by_type"]
    lut, carry, ff, dsp = counts(flow, cells)
    generic = {k: v for k, v in cells.items() if k.startswith("$")}
    res = {"key": key, "lut": lut, "carry": carry, "ff": ff, "dsp": dsp, "cells": cells,
           "generic_cells_left": generic, "synth_s": round(secs, 1)}
    with open(base + ".result.json", "w") as f:
        json.dump(res, f, indent=1)
    log(f"synth  {name:22s} done in {secs:5.0f} s: {lut} LUTs, {carry} carries, {ff} FFs"
        + (f", {dsp} DSPs" if dsp else ""))
    return res


def pnr_one(args, name, netlist, dev, pkg, seed, key):
    base = os.path.join(args.work, f"{name}_{dev}_s{seed}")
    res = cached(base + ".result.json", key)
    if res is not None:
        return res
    cmd = [args.nextpnr, f"--{dev}", "--package", pkg, "--json", netlist, "--report", base + ".report.json",
           "--timing-allow-fail", "--freq", str(args.target_mhz), "--seed", str(seed), "-q"]
    if os.path.exists(base + ".report.json"):
        os.remove(base + ".report.json")
    rc, secs = run(cmd, base + ".nextpnr.log", timeout=args.pnr_timeout)
    res = {"key": key, "device": dev, "package": pkg, "seed": seed, "pnr_s": round(secs, 1)}
    if rc != 0 or not os.path.exists(base + ".report.json"):
        with open(base + ".nextpnr.log") as f:
            errs = [ln.strip() for ln in f if "ERROR" in ln]
        res["error"] = errs[0] if errs else f"nextpnr exit {rc}"
    else:
        with open(base + ".report.json") as f:
            rpt = json.load(f)
        fmax = [v["achieved"] for v in rpt.get("fmax", {}).values()]
        res["fmax_mhz"] = min(fmax) if fmax else None
        util = rpt.get("utilization", {})
        res["lc_used"] = util.get("ICESTORM_LC", {}).get("used")
        res["lc_avail"] = util.get("ICESTORM_LC", {}).get("available")
        res["dsp_used"] = util.get("ICESTORM_DSP", {}).get("used", 0)
    with open(base + ".result.json", "w") as f:
        json.dump(res, f, indent=1)
    return res


def pnr(args, kind, lanes, width, flow, syn):
    """Place and route on every iCE40 of DEVICES that can take the design (the UP5K only for -dsp);
    returns {device: result}, fmax the median over the seeds."""
    name = f"{kind}_{lanes}x{width}_{flow}"
    netlist = os.path.join(args.work, name + ".json")
    out = {}
    for dev, pkg, lcs in (DEVICES[:1] if flow == "ice40_dsp" else DEVICES):
        if syn.get("lut") is None:
            out[dev] = {"fit": False, "note": "synthesis failed"}
            continue
        if flow == "ice40_dsp" and syn["dsp"] > UP5K_DSPS:
            out[dev] = {"fit": False, "note": f"{syn['dsp']} SB_MAC16 > {UP5K_DSPS}"}
            continue
        if syn["lut"] > lcs:
            out[dev] = {"fit": False, "note": f"{syn['lut']} LUTs > {lcs} LCs"}
            continue
        key = f"{source_hash(kind)}:{FLOWS[flow]}:{args.acc_w}:{dev}:{args.target_mhz}"
        log(f"pnr    {name:22s} {dev} seeds {args.seeds} ...")
        runs = []
        for seed in range(1, args.seeds + 1):
            runs.append(pnr_one(args, name, netlist, dev, pkg, seed, key))
            if not runs[-1].get("fmax_mhz"):
                break       # does not fit: no other seed will
        ok = [r for r in runs if r.get("fmax_mhz")]
        if not ok:
            err = runs[0].get("error", "failed")
            note = "placement failed: out of logic cells" if "no BELs remaining" in err else err[:120]
            out[dev] = {"fit": False, "note": note}
            log(f"pnr    {name:22s} {dev} not placed: {note}")
            continue
        fmaxes = sorted(r["fmax_mhz"] for r in ok)
        out[dev] = {"fit": True, "package": pkg, "fmax_mhz": statistics.median(fmaxes),
                    "fmax_all_mhz": [round(f, 2) for f in fmaxes], "lc_used": ok[0]["lc_used"],
                    "lc_avail": ok[0]["lc_avail"], "dsp_used": ok[0].get("dsp_used", 0),
                    "pnr_s": round(sum(r["pnr_s"] for r in runs), 1)}
        log(f"pnr    {name:22s} {dev}: fmax median {out[dev]['fmax_mhz']:.1f} MHz "
            f"({', '.join(f'{f:.1f}' for f in fmaxes)}), {out[dev]['lc_used']}/{out[dev]['lc_avail']} LCs")
    out["pnr_s"] = round(sum(v.get("pnr_s", 0) for v in out.values() if isinstance(v, dict)), 1)
    return out


def parse_sizes(text):
    sizes = []
    for s in text.split(","):
        lanes, width = (int(x) for x in s.lower().split("x"))
        if width & (width - 1) or lanes < 1 or width < 1:
            sys.exit(f"bad size {s}: LANESxWIDTH, WIDTH a power of two")
        sizes.append((lanes, width))
    return sizes


def fmt(v, nd=1, dash="—"):
    if v is None:
        return dash
    if isinstance(v, int):
        return str(v)
    return f"{v:.{nd}f}"


DEV_NAMES = [d for d, _, _ in DEVICES]


def build_rows(args, sizes, kinds, results):
    rows = []
    for lanes, width in sizes:
        ops = lanes * width
        harness = results.get(("none", lanes, width, "ice40"), {}).get("syn", {}).get("lut")
        by_kind = {}
        for kind in kinds:
            r = results[(kind, lanes, width, "ice40")]
            syn, pr = r["syn"], r.get("pnr", {})
            row = {"kind": kind, "pe": KIND_DESC[kind], "lanes": lanes, "width": width, "ops_per_cycle": ops,
                   "lut": syn.get("lut"), "ff": syn.get("ff"), "carry": syn.get("carry"),
                   "generic_cells_left": syn.get("generic_cells_left"), "pnr": pr,
                   "fmax_mhz": {}, "ops_per_s_per_lut": {}}
            if row["lut"] is not None:
                row["lut_per_op"] = row["lut"] / ops
                if harness is not None:
                    row["datapath_lut"] = row["lut"] - harness
                    row["datapath_lut_per_op"] = (row["lut"] - harness) / ops
            for dev in DEV_NAMES:
                d = pr.get(dev, {})
                if d.get("fit"):
                    row["fmax_mhz"][dev] = d["fmax_mhz"]
                    row["ops_per_s_per_lut"][dev] = ops * d["fmax_mhz"] * 1e6 / row["lut"]
                    row.setdefault("lc_used", d["lc_used"])
            for flow in ("ice40_dsp", "ecp5", "xilinx"):
                fr = results.get((kind, lanes, width, flow))
                if fr:
                    row[flow] = {k: fr["syn"].get(k) for k in ("lut", "carry", "ff", "dsp")}
                    if fr.get("pnr"):
                        row[flow]["pnr"] = fr["pnr"]
            by_kind[kind] = row
            rows.append(row)
        t = by_kind.get("tern")
        for row in by_kind.values():
            row["fmax_vs_tern"], row["ops_per_s_per_lut_vs_tern"] = {}, {}
            if not t:
                continue
            if t.get("lut_per_op") and row.get("lut_per_op"):
                row["lut_per_op_vs_tern"] = row["lut_per_op"] / t["lut_per_op"]
            if t.get("datapath_lut_per_op") and row.get("datapath_lut_per_op"):
                row["datapath_lut_per_op_vs_tern"] = row["datapath_lut_per_op"] / t["datapath_lut_per_op"]
            for dev in DEV_NAMES:      # ratios only between placements on the same device
                if dev in t["fmax_mhz"] and dev in row["fmax_mhz"]:
                    row["fmax_vs_tern"][dev] = row["fmax_mhz"][dev] / t["fmax_mhz"][dev]
                    row["ops_per_s_per_lut_vs_tern"][dev] = (row["ops_per_s_per_lut"][dev] /
                                                             t["ops_per_s_per_lut"][dev])
            for flow in ("ecp5", "xilinx"):
                if row.get(flow, {}).get("lut") and t.get(flow, {}).get("lut"):
                    row[flow]["lut_vs_tern"] = row[flow]["lut"] / t[flow]["lut"]
    return rows


def write_md(args, path, meta, rows, sizes, kinds):
    L = []
    L.append("# Co-design study: add-only ternary PEs against multiplier PEs")
    L.append("")
    L.append("Generated by `study/run_study.py`; do not edit by hand. A clean run spends about "
             f"{meta['tool_minutes']:.0f} min in yosys and nextpnr, about "
             f"{meta['tool_minutes'] / max(1, meta['jobs']):.0f} min of wall time with {meta['jobs']} parallel "
             "jobs (results are cached in the work directory by source hash). Reproduce with:")
    L.append("")
    L.append("```")
    if meta.get("quick"):
        L.append("cmake --build build --target codesign-study-quick       # -> build/study/codesign-study-quick/")
    else:
        L.append("cmake --build build --target codesign-study             # -> build/study/codesign-study/")
        L.append("cmake --build build --target codesign-study-update-docs # copies it here, into docs/")
    L.append("# or directly:")
    L.append(meta["command"])
    L.append("```")
    L.append("")
    if meta.get("quick"):
        L.append("**The quick subset** (`--quick`: one size, the iCE40 flow, one nextpnr seed): a smoke run of "
                 "the flow, not the study; `--target codesign-study` runs all of it.")
    else:
        L.append("`--target codesign-study-quick` runs one size (2x4) on the iCE40 flow with one seed, in a few "
                 "minutes (study/README.md).")
    L.append("")
    L.append("Tools: " + "; ".join(f"{k}: `{v}`" for k, v in meta["tools"].items()) + ".")
    L.append("")
    src = meta["sources"]
    L.append(f"Sources measured: commit `{src['commit']}` (paths as in that commit); " + ", ".join(
        f"`{f}` {v['sha256_12']}" + ("" if v["git"] == "clean" else f" (git status {v['git']})")
        for f, v in src["files"].items()) + " (sha256, first 12 hex digits).")
    L.append("")
    L.append("## What is compared")
    L.append("")
    L.append("One module, `study/study_array.sv`, built with the same flow for each PE kind: L lanes x "
             "W products a lane, every lane = W PEs, the adder tree of `rtl/tern_lane.sv` (one bit wider a "
             "level), a lane-sum register and a "
             f"{args.acc_w}-bit accumulator. The kinds differ only in the PE and, necessarily, in the "
             "weight width and hence the product/tree width:")
    L.append("")
    L.append("| kind | PE | weight bits | product bits |")
    L.append("| --- | --- | --- | --- |")
    L.append("| tern | `rtl/tern_pe.sv` via `rtl/tern_lane.sv` (the accelerator's own): select +a, -a or 0 "
             "(conditional negation, no multiplier) | 2 | 9 |")
    L.append("| mac8 | `study/study_pe_mac8.sv`: `$signed(a) * $signed(w)` | 8 | 16 |")
    L.append("| mac2 | `study/study_pe_mac2.sv`: `$signed(a) * $signed(w)`, w int2 sign-extended | 2 | 10 |")
    L.append("")
    L.append("Activations are int8 for all kinds. Activations and weights sit in one shift chain loaded "
             "8 bits a cycle from pins (nothing constant-folds; the same for all kinds), every control pin "
             "is registered, and every accumulator bit reaches the single output pin through a registered "
             "two-level XOR fold (nothing is optimised away), so fmax is register to register "
             "(chain → PEs → tree → lane-sum register; lane-sum register → accumulator). The *harness* "
             "row (`PE_KIND 3`: the lane sum is one activation, no PEs, no tree) measures what all kinds "
             "share (chain, registers, accumulator adders, fold); *datapath LUTs* = LUTs − harness LUTs. "
             "An *operation* is one product-accumulate: L·W a cycle. `ops/s/LUT` = L·W·fmax / LUTs.")
    L.append("")
    L.append("Main flow: `yosys synth_ice40` (no `-dsp`: multipliers become LUTs and SB_CARRY), then "
             "`nextpnr-ice40` on both the UP5K (`--up5k --package sg48`, 5280 LCs) and the HX8K (`--hx8k "
             f"--package ct256`, 7680 LCs) wherever the design fits, with `--freq {args.target_mhz:g} "
             f"--timing-allow-fail`; fmax is the median over seeds 1..{args.seeds} (every seed in the JSON). "
             "The two parts have different speeds, so fmax ratios are only taken between placements on the "
             "same part (cells give `UP5K / HX8K`; `n/f` = does not fit). LUTs, FFs and carries are the "
             "SB_LUT4, SB_DFF* and SB_CARRY cells of the synthesised netlist; LCs are the logic cells "
             "nextpnr placed (LUTs plus FFs that could not share a LUT's cell).")
    L.append("")
    L.append("## iCE40, no DSP (main comparison)")
    L.append("")
    L.append("| kind | array | ops/cycle | LUTs | FFs | carries | LUTs/op | datapath LUTs/op | LUTs/op vs tern "
             "| LCs | fmax MHz UP5K / HX8K | fmax vs tern | Mops/s per LUT | ops/s/LUT vs tern |")
    L.append("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")

    def per_dev(row, key, nd, suffix=""):
        cells = []
        for dev in DEV_NAMES:
            v = row.get(key, {}).get(dev)
            if v is not None:
                cells.append(f"{v:.{nd}f}{suffix}")
            else:
                cells.append("n/f" if not row.get("pnr", {}).get(dev, {}).get("fit") else "—")
        return " / ".join(cells)

    for (lanes, width) in sizes:
        for row in [r for r in rows if (r["lanes"], r["width"]) == (lanes, width)]:
            mops = {d: v / 1e6 for d, v in row.get("ops_per_s_per_lut", {}).items()}
            L.append(f"| {row['kind']} | {lanes}x{width} | {row['ops_per_cycle']} | {fmt(row['lut'])} | "
                     f"{fmt(row['ff'])} | {fmt(row['carry'])} | {fmt(row.get('lut_per_op'))} | "
                     f"{fmt(row.get('datapath_lut_per_op'))} | "
                     f"{fmt(row.get('lut_per_op_vs_tern'), 2)}{'x' if row.get('lut_per_op_vs_tern') else ''} | "
                     f"{fmt(row.get('lc_used'))} | {per_dev(row, 'fmax_mhz', 1)} | "
                     f"{per_dev(row, 'fmax_vs_tern', 2, 'x')} | {per_dev({**row, 'mops': mops}, 'mops', 2)} | "
                     f"{per_dev(row, 'ops_per_s_per_lut_vs_tern', 2, 'x')} |")
        h = [r for r in meta["harness"] if (r["lanes"], r["width"]) == (lanes, width)]
        if h:
            L.append(f"| *harness* | {lanes}x{width} | — | {fmt(h[0]['lut'])} | {fmt(h[0]['ff'])} | "
                     f"{fmt(h[0]['carry'])} | | | | | | | | |")
    L.append("")
    notes = []
    for r in rows:
        for dev in DEV_NAMES:
            d = r.get("pnr", {}).get(dev, {})
            if d and not d.get("fit"):
                notes.append(f"{r['kind']} {r['lanes']}x{r['width']} on the {dev.upper()}: {d.get('note', '')}")
    if notes:
        L.append("Not placed (n/f): " + "; ".join(notes) + ".")
        L.append("")
    if any("ice40_dsp" in r for r in rows) or any(r.get("ecp5") or r.get("xilinx") for r in rows):
        L.append("## Other flows (synthesis cell counts)")
        L.append("")
        L.append("`synth_ice40 -dsp` (SB_MAC16 allowed; the UP5K has 8, placed only when they fit), "
                 "`synth_ecp5 -nodsp` (LUTs = LUT4 + 2 per CCU2C, since a CCU2C carry cell holds two LUT4s) "
                 "and `synth_xilinx -nodsp -flatten -family xc7` (LUTs = LUT1..LUT6 + INV; CARRY4 apart). "
                 "No place and route for ECP5 / Xilinx (no nextpnr for them here).")
        L.append("")
        L.append("| kind | array | iCE40 -dsp LUTs | SB_MAC16 | -dsp fmax MHz UP5K | ECP5 LUTs | ECP5 CCU2C | "
                 "ECP5 LUTs vs tern | xc7 LUTs | xc7 CARRY4 | xc7 LUTs vs tern |")
        L.append("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for row in rows:
            d, e, x = row.get("ice40_dsp", {}), row.get("ecp5", {}), row.get("xilinx", {})
            dp = d.get("pnr", {}).get("up5k", {})
            dfmax = fmt(dp.get("fmax_mhz")) if dp.get("fit") else ("—" if not d else "n/f")
            L.append(f"| {row['kind']} | {row['lanes']}x{row['width']} | {fmt(d.get('lut'))} | "
                     f"{fmt(d.get('dsp'))} | {dfmax} | {fmt(e.get('lut'))} | {fmt(e.get('carry'))} | "
                     f"{fmt(e.get('lut_vs_tern'), 2)}{'x' if e.get('lut_vs_tern') else ''} | "
                     f"{fmt(x.get('lut'))} | {fmt(x.get('carry'))} | "
                     f"{fmt(x.get('lut_vs_tern'), 2)}{'x' if x.get('lut_vs_tern') else ''} |")
        L.append("")
    L.append("## What the numbers say")
    L.append("")
    L.append("\n\n".join(meta["summary"]))
    L.append("")
    L.append("Checks that keep the comparison honest (ctest label `rtl`): `study_lint_*` (Verilator -Wall), "
             "`study_nomul_tern` (no `$mul` after `proc; opt`, no SB_MAC16 even with `-dsp`), "
             "`study_mul_mac8` / `study_mul_mac2` (one `$mul` per PE after `proc; opt`), `study_sim` "
             "(`study/check_study.py`: iverilog against a Python oracle, and the three kinds give "
             "identical accumulators when the weights are restricted to {-1, 0, 1}).")
    L.append("")
    with open(path, "w") as f:
        f.write("\n".join(L))


def _span(vals, nd=2, unit="x"):
    vals = [v for v in vals if v is not None]
    if not vals:
        return None
    lo, hi = min(vals), max(vals)
    return f"{lo:.{nd}f}{unit}" if f"{lo:.{nd}f}" == f"{hi:.{nd}f}" else f"{lo:.{nd}f}{unit} to {hi:.{nd}f}{unit}"


def summary(rows, sizes, kinds):
    """A paragraph that states only what the table shows (ranges over the measured sizes)."""
    by = {}
    for r in rows:
        by.setdefault(r["kind"], []).append(r)
    out = []
    if "tern" not in by:
        return ["(no ternary rows: nothing to compare against)"]
    names = {"mac2": "int8 x int2 multiplier (mac2)", "mac8": "int8 x int8 multiplier (mac8)"}
    size_list = ", ".join(f"{l}x{w}" for l, w in sizes)
    fewest = all(min((r for r in rows if (r["lanes"], r["width"]) == sz and r.get("lut_per_op")),
                     key=lambda r: r["lut_per_op"])["kind"] == "tern" for sz in sizes)
    t_lpo = _span([r.get("lut_per_op") for r in by["tern"]], 1, "")
    t_dp = _span([r.get("datapath_lut_per_op") for r in by["tern"]], 1, "")
    s = (f"On the iCE40 flow without DSPs, at every measured size ({size_list}) the ternary array "
         f"{'uses the fewest' if fewest else 'does not always use the fewest'} LUTs per operation "
         f"({t_lpo} LUTs/op, {t_dp} without the shared harness).")
    for k in ("mac2", "mac8"):
        if k not in by:
            continue
        rs = by[k]
        s += (f" The {names[k]} array needs {_span([r.get('lut_per_op_vs_tern') for r in rs])} the ternary "
              f"LUTs per operation ({_span([r.get('datapath_lut_per_op_vs_tern') for r in rs])} counting the "
              f"datapath only)")
        per = []
        for dev in DEV_NAMES:
            fr = _span([r["fmax_vs_tern"].get(dev) for r in rs])
            if not fr:
                continue
            opr = _span([r["ops_per_s_per_lut_vs_tern"].get(dev) for r in rs])
            placed = [f"{r['lanes']}x{r['width']}" for r in rs if dev in r["fmax_vs_tern"]]
            per.append(f"on the {dev.upper()} ({', '.join(placed)}) {fr} the ternary fmax and so {opr} the "
                       "ternary operations per second per LUT")
        if per:
            s += "; it reaches " + ", and ".join(per)
        s += "."
    for dev in DEV_NAMES:
        tf = _span([r["fmax_mhz"].get(dev) for r in by["tern"]], 1, " MHz")
        if tf:
            s += f" The ternary arrays reach {tf} on the {dev.upper()} (median of seeds)."
    out.append(s)
    # DSP and other architectures
    d = []
    for k in kinds:
        dsps = [(r["lanes"] * r["width"], r.get("ice40_dsp", {}).get("dsp")) for r in by.get(k, [])
                if r.get("ice40_dsp")]
        if not dsps:
            continue
        if all(n == 0 for _, n in dsps):
            d.append(f"{k} uses no SB_MAC16")
        elif all(n == ops for ops, n in dsps):
            d.append(f"{k} uses one SB_MAC16 per product")
        else:
            d.append(f"{k} uses " + ", ".join(f"{n} SB_MAC16 for {ops} products" for ops, n in dsps))
    if d:
        s2 = "With `synth_ice40 -dsp`: " + "; ".join(d) + "."
        dfits = [r for r in by.get("mac8", [])
                 if r.get("ice40_dsp", {}).get("pnr", {}).get("up5k", {}).get("fit")]
        if dfits:
            s2 += (" Where the SB_MAC16 count fits the UP5K's 8, the DSP-mapped mac8 array reaches "
                   + ", ".join(f"{r['ice40_dsp']['pnr']['up5k']['fmax_mhz']:.1f} MHz ({r['lanes']}x{r['width']}, "
                               f"{r['ice40_dsp']['lut']} LUTs; the LUT-mapped one "
                               f"{fmt(r['fmax_mhz'].get('up5k'))} MHz)" for r in dfits) + ".")
        out.append(s2)
    for arch, label in (("ecp5", "ECP5 (synth_ecp5 -nodsp)"), ("xilinx", "Xilinx 7-series (synth_xilinx -nodsp)")):
        parts = [f"{k} {_span([r.get(arch, {}).get('lut_vs_tern') for r in by[k]])}" for k in ("mac2", "mac8")
                 if k in by and any(r.get(arch, {}).get("lut_vs_tern") for r in by[k])]
        if parts:
            out.append(f"{label} LUT counts relative to the ternary array: " + ", ".join(parts) + ".")
    out.append("Scope: LUT, carry and FF counts from yosys 0.23 and fmax from nextpnr-ice40 timing analysis "
               "of one synthesised netlist per design; no power, no hardware measurement, and no other "
               "multiplier formulation than yosys' own mapping of `*`.")
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="2x4,2x8,1x16,4x8,8x16",
                    help="comma-separated LANESxWIDTH (WIDTH a power of two); default %(default)s")
    ap.add_argument("--kinds", default="tern,mac2,mac8", help="PE kinds; default %(default)s")
    ap.add_argument("--flows", default="ice40,ice40_dsp,ecp5,xilinx",
                    help="synthesis flows (ice40 is always run); default %(default)s")
    ap.add_argument("--seeds", type=int, default=3, help="nextpnr seeds per design; default %(default)s")
    ap.add_argument("--target-mhz", type=float, default=200,
                    help="nextpnr --freq (a target above what is reached keeps placement timing-driven); "
                         "default %(default)s")
    ap.add_argument("--acc-w", type=int, default=24, help="accumulator bits; default %(default)s")
    ap.add_argument("--no-pnr", action="store_true", help="synthesis only (no fmax)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2, help="parallel tool runs; default %(default)s")
    ap.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "tern-codesign-study"),
                    help="scratch directory for netlists and logs (results are cached there by source hash); "
                         "default %(default)s")
    ap.add_argument("--quick", action="store_true",
                    help="the quick subset: --sizes 2x4 --flows ice40 --seeds 1 (a few minutes)")
    ap.add_argument("--md", help="Markdown to write; default WORK/codesign-study.md")
    ap.add_argument("--json", help="JSON to write; default WORK/codesign-study.json")
    ap.add_argument("--render-json", metavar="JSON",
                    help="run no tool: re-write --md (and --json) from the JSON of an earlier run")
    ap.add_argument("--yosys", default="yosys")
    ap.add_argument("--nextpnr", default="nextpnr-ice40")
    ap.add_argument("--pnr-timeout", type=int, default=1800, help="seconds per nextpnr run")
    args = ap.parse_args()
    if args.render_json:
        return render(args)
    if args.quick:
        args.sizes, args.flows, args.seeds = "2x4", "ice40", 1
    args.md = args.md or os.path.join(args.work, "codesign-study.md")
    args.json = args.json or os.path.join(args.work, "codesign-study.json")

    sizes = parse_sizes(args.sizes)
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    for k in kinds:
        if k not in KIND_ID or k == "none":
            sys.exit(f"unknown kind {k}")
    flows = ["ice40"] + [f for f in args.flows.split(",") if f and f != "ice40"]
    for f in flows:
        if f not in FLOWS:
            sys.exit(f"unknown flow {f}")
    os.makedirs(args.work, exist_ok=True)
    shash = source_hash()
    log(f"sources {shash}; sizes {args.sizes}; kinds {','.join(kinds)}; flows {','.join(flows)}; "
        f"work {args.work}")

    # Jobs: every (kind, size, flow) synthesis, the harness for ice40; P&R right after its synthesis.
    jobs = []
    for lanes, width in sorted(sizes, key=lambda s: s[0] * s[1]):
        for kind in kinds + ["none"]:
            for flow in flows:
                if kind == "none" and flow != "ice40":
                    continue
                jobs.append((kind, lanes, width, flow))
    # the slowest (int8 x int8, large) first so that the pool stays busy
    jobs.sort(key=lambda j: -(j[1] * j[2] * (16 if j[0] == "mac8" else 1)))

    results = {}

    def do(job):
        kind, lanes, width, flow = job
        syn = synth(args, kind, lanes, width, flow)
        out = {"syn": syn}
        if not args.no_pnr and kind != "none" and flow in ("ice40", "ice40_dsp"):
            out["pnr"] = pnr(args, kind, lanes, width, flow, syn)
        return job, out

    with cf.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as ex:
        futs = [ex.submit(do, j) for j in jobs]
        for n, fut in enumerate(cf.as_completed(futs), 1):
            job, out = fut.result()
            results[job] = out
            log(f"progress {n}/{len(jobs)}")

    rows = build_rows(args, sizes, kinds, results)
    tool_s = sum(r["syn"].get("synth_s", 0) + (r.get("pnr") or {}).get("pnr_s", 0) for r in results.values())
    harness = [{"lanes": l, "width": w, **{k: results[("none", l, w, "ice40")]["syn"].get(k)
                                          for k in ("lut", "ff", "carry")}} for l, w in sizes]
    argv = [os.path.relpath(sys.argv[0], ROOT) if os.path.exists(sys.argv[0]) else sys.argv[0]]
    cmd_args = []
    skip = False
    for a in sys.argv[1:]:      # the reproduce command: the options given, minus output locations
        if skip:
            skip = False
            continue
        if a in ("--work", "--md", "--json"):
            skip = True
            continue
        if a.startswith(("--work=", "--md=", "--json=")):
            continue
        cmd_args.append(a)
    meta = {
        "command": "python3 " + " ".join(shlex.quote(c) for c in argv + cmd_args),
        "tools": tool_versions(args),
        "run_minutes": (time.time() - T0) / 60,
        "tool_minutes": tool_s / 60,
        "jobs": args.jobs,
        "cores": os.cpu_count(),
        "harness": harness,
        "summary": summary(rows, sizes, kinds),
        "sources": source_state(),
        "quick": args.quick,
    }
    doc = {
        "description": DESCRIPTION,
        "command": meta["command"], "tools": meta["tools"], "run_seconds": round(time.time() - T0),
        "tool_seconds": round(tool_s), "jobs": args.jobs,
        "source_hash": shash,
        "sources": meta["sources"],
        "settings": {"sizes": [f"{l}x{w}" for l, w in sizes], "kinds": kinds, "flows": flows,
                     "seeds": args.seeds, "target_mhz": args.target_mhz, "acc_w": args.acc_w,
                     "devices": [f"{d} {p}" for d, p, _ in DEVICES], "flow_commands": FLOWS},
        "definitions": {
            "op": "one product-accumulate; an LxW array does L*W a cycle",
            "lut": "SB_LUT4 cells after synth_ice40 (no -dsp)",
            "datapath_lut": "lut minus the harness (PE_KIND 3) lut of the same size",
            "fmax_mhz": "per device (up5k, hx8k) where the design fits: median over seeds of the "
                        "nextpnr-ice40 achieved fmax (register to register)",
            "ops_per_s_per_lut": "per device: ops_per_cycle * fmax / lut",
            "*_vs_tern": "this kind's value divided by the ternary kind's value for the same array "
                         "(fmax and ops/s/LUT: on the same device)",
            "run_seconds": "wall time of this invocation (short when results come from the cache)",
            "tool_seconds": "yosys + nextpnr time of all results, cached or not (a clean run's tool time)",
        },
        "harness": harness,
        "rows": rows,
        "summary": meta["summary"],
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    write_md(args, args.md, meta, rows, sizes, kinds)
    for line in meta["summary"]:
        print(line)
        print()
    print_table(rows)
    log(f"done in {(time.time() - T0) / 60:.1f} min ({tool_s / 60:.1f} min of tool time, cached results "
        f"included); wrote {os.path.abspath(args.md)} and {os.path.abspath(args.json)}")
    return 0


def print_table(rows):
    """The main comparison, one line a design: LUTs, LUTs/op against tern, fmax per device."""
    print(f"{'kind':5s} {'array':6s} {'LUTs':>6s} {'LUTs/op':>8s} {'vs tern':>8s}   fmax MHz "
          + " / ".join(d.upper() for d in DEV_NAMES))
    for r in rows:
        fm = " / ".join(fmt(r["fmax_mhz"].get(d)) if d in r["fmax_mhz"] else "n/f" for d in DEV_NAMES)
        vs = r.get("lut_per_op_vs_tern")
        print(f"{r['kind']:5s} {r['lanes']}x{r['width']:<4d} {fmt(r['lut']):>6s} {fmt(r.get('lut_per_op')):>8s} "
              f"{(f'{vs:.2f}x' if vs else '—'):>8s}   {fm}")


def render(args):
    """Re-write the Markdown (and JSON) of an earlier run from its JSON: no tool runs. The reproduce
    command names this script where it is now."""
    with open(args.render_json) as f:
        doc = json.load(f)
    st = doc["settings"]
    args.acc_w, args.target_mhz, args.seeds = st["acc_w"], st["target_mhz"], st["seeds"]
    doc["description"] = DESCRIPTION
    doc["command"] = re.sub(r"\S*run_study\.py", rel(os.path.abspath(__file__)), doc["command"], count=1)
    meta = {"command": doc["command"], "tools": doc["tools"], "tool_minutes": doc["tool_seconds"] / 60,
            "jobs": doc["jobs"], "harness": doc["harness"], "summary": doc["summary"], "sources": doc["sources"]}
    if not args.md:
        sys.exit("--render-json needs --md")
    os.makedirs(os.path.dirname(os.path.abspath(args.md)), exist_ok=True)
    write_md(args, args.md, meta, doc["rows"], parse_sizes(",".join(st["sizes"])), st["kinds"])
    if args.json:
        with open(args.json, "w") as f:
            json.dump(doc, f, indent=1)
            f.write("\n")
    print(f"wrote {args.md}" + (f" and {args.json}" if args.json else "") + f" from {args.render_json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
