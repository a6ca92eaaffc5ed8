#!/usr/bin/env python3
"""run_study.py — hardware co-design study: add-only ternary PEs against multiplier PEs.

Synthesises rtl/study/study_array.sv for each PE kind and array size with the same flow (yosys
synth_ice40, no DSP), places and routes it with nextpnr-ice40 (UP5K, or HX8K when the UP5K is too
small) to get fmax, optionally repeats the synthesis with -dsp (SB_MAC16 use) and with synth_ecp5 /
synth_xilinx (LUT counts only), and writes docs/codesign-study.md and docs/codesign-study.json.

  tern  the accelerator's own lane (rtl/tern_lane.sv + rtl/tern_pe.sv): +a / -a / 0, adder tree
  mac8  int8 x int8 multiplier PEs (study_pe_mac8.sv), same adder tree
  mac2  int8 x int2 multiplier PEs (study_pe_mac2.sv), same adder tree
  none  the harness alone (chain, registers, accumulators, output fold), subtracted for "datapath" LUTs

An operation is one product-accumulate: an LxW array does L*W operations a cycle.
Takes minutes (the int8 x int8 8x16 array is the slowest synthesis); progress goes to stdout.
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
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
RTL = os.path.dirname(HERE)
ROOT = os.path.dirname(RTL)
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
    "xilinx": "synth_xilinx -nodsp -family xc7 -top study_array",
}

T0 = time.time()
LOCK = threading.Lock()


def log(msg):
    with LOCK:
        print(f"[{time.time() - T0:6.0f} s] {msg}", flush=True)


def rel(path):
    return os.path.relpath(path, ROOT)


def source_hash():
    h = hashlib.sha256()
    for f in SOURCES:
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


def synth(args, kind, lanes, width, flow, shash):
    """One yosys run; returns the cell counts of the flattened netlist."""
    name = f"{kind}_{lanes}x{width}_{flow}"
    base = os.path.join(args.work, name)
    key = f"{shash}:{FLOWS[flow]}:{args.acc_w}"
    res = cached(base + ".result.json", key)
    if res is not None:
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
    if flow.startswith("ice40"):
        lut = cells.get("SB_LUT4", 0)
        carry = cells.get("SB_CARRY", 0)
        ff = sum(v for k, v in cells.items() if k.startswith("SB_DFF"))
        dsp = cells.get("SB_MAC16", 0)
    elif flow == "ecp5":
        lut = cells.get("LUT4", 0)
        carry = cells.get("CCU2C", 0)
        ff = cells.get("TRELLIS_FF", 0)
        dsp = sum(v for k, v in cells.items() if k.startswith("MULT"))
    else:
        lut = sum(v for k, v in cells.items() if re.fullmatch(r"LUT[1-6]", k))
        carry = cells.get("CARRY4", 0)
        ff = sum(v for k, v in cells.items() if re.fullmatch(r"FD[CPRSE]E?", k))
        dsp = sum(v for k, v in cells.items() if k.startswith("DSP"))
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


def pnr(args, kind, lanes, width, flow, syn, shash):
    """Place and route on the first iCE40 that takes the design; median fmax over the seeds."""
    name = f"{kind}_{lanes}x{width}_{flow}"
    netlist = os.path.join(args.work, name + ".json")
    if syn.get("lut") is None:
        return {"fit": False, "note": "synthesis failed"}
    devices = DEVICES[:1] if flow == "ice40_dsp" else DEVICES
    if flow == "ice40_dsp" and syn["dsp"] > UP5K_DSPS:
        return {"fit": False, "note": f"{syn['dsp']} SB_MAC16 > {UP5K_DSPS} on the UP5K"}
    notes = []
    for dev, pkg, lcs in devices:
        if syn["lut"] > lcs:
            notes.append(f"{syn['lut']} LUTs > {lcs} LCs of the {dev.upper()}")
            continue
        key = f"{shash}:{FLOWS[flow]}:{args.acc_w}:{dev}:{args.target_mhz}"
        log(f"pnr    {name:22s} {dev} seeds {args.seeds} ...")
        runs = [pnr_one(args, name, netlist, dev, pkg, s, key) for s in range(1, args.seeds + 1)]
        ok = [r for r in runs if r.get("fmax_mhz")]
        if not ok:
            notes.append(f"{dev}: {runs[0].get('error', 'failed')}")
            log(f"pnr    {name:22s} {dev} does not fit / failed: {runs[0].get('error')}")
            continue
        fmaxes = sorted(r["fmax_mhz"] for r in ok)
        out = {"fit": True, "device": dev, "package": pkg, "fmax_mhz": statistics.median(fmaxes),
               "fmax_all_mhz": [round(f, 2) for f in fmaxes], "lc_used": ok[0]["lc_used"],
               "lc_avail": ok[0]["lc_avail"], "dsp_used": ok[0].get("dsp_used", 0),
               "pnr_s": round(sum(r["pnr_s"] for r in runs), 1)}
        log(f"pnr    {name:22s} {dev}: fmax median {out['fmax_mhz']:.1f} MHz "
            f"({', '.join(f'{f:.1f}' for f in fmaxes)}), {out['lc_used']}/{out['lc_avail']} LCs")
        return out
    log(f"pnr    {name:22s} not placed: {'; '.join(notes)}")
    return {"fit": False, "note": "; ".join(notes)}


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
                   "generic_cells_left": syn.get("generic_cells_left")}
            if row["lut"] is not None:
                row["lut_per_op"] = row["lut"] / ops
                if harness is not None:
                    row["datapath_lut"] = row["lut"] - harness
                    row["datapath_lut_per_op"] = (row["lut"] - harness) / ops
            row["pnr"] = pr
            if pr.get("fit"):
                row["fmax_mhz"] = pr["fmax_mhz"]
                row["ops_per_s_per_lut"] = ops * pr["fmax_mhz"] * 1e6 / row["lut"]
                row["lc_used"] = pr["lc_used"]
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
            if t and t.get("lut_per_op") and row.get("lut_per_op"):
                row["lut_per_op_vs_tern"] = row["lut_per_op"] / t["lut_per_op"]
            if t and t.get("datapath_lut_per_op") and row.get("datapath_lut_per_op"):
                row["datapath_lut_per_op_vs_tern"] = row["datapath_lut_per_op"] / t["datapath_lut_per_op"]
            if t and t.get("ops_per_s_per_lut") and row.get("ops_per_s_per_lut"):
                row["ops_per_s_per_lut_vs_tern"] = row["ops_per_s_per_lut"] / t["ops_per_s_per_lut"]
            if t and t.get("fmax_mhz") and row.get("fmax_mhz"):
                row["fmax_vs_tern"] = row["fmax_mhz"] / t["fmax_mhz"]
            for flow in ("ecp5", "xilinx"):
                if t and row.get(flow, {}).get("lut") and t.get(flow, {}).get("lut"):
                    row[flow]["lut_vs_tern"] = row[flow]["lut"] / t[flow]["lut"]
    return rows


def write_md(args, path, meta, rows, sizes, kinds):
    L = []
    L.append("# Co-design study: add-only ternary PEs against multiplier PEs")
    L.append("")
    L.append("Generated by `rtl/study/run_study.py`; do not edit by hand. Reproduce (about "
             f"{meta['run_minutes']:.0f} min on {meta['cores']} cores here):")
    L.append("")
    L.append("```")
    L.append("cmake -S . -B build-study && cmake --build build-study --target codesign-study")
    L.append("# or directly:")
    L.append(meta["command"])
    L.append("```")
    L.append("")
    L.append("Tools: " + "; ".join(f"{k} {v}" for k, v in meta["tools"].items()) + ".")
    L.append("")
    L.append("## What is compared")
    L.append("")
    L.append("One module, `rtl/study/study_array.sv`, built with the same flow for each PE kind: L lanes x "
             "W products a lane, every lane = W PEs, the adder tree of `rtl/tern_lane.sv` (one bit wider a "
             "level), a lane-sum register and an "
             f"{args.acc_w}-bit accumulator. The kinds differ only in the PE and, necessarily, in the "
             "weight width and hence the product/tree width:")
    L.append("")
    L.append("| kind | PE | weight bits | product bits |")
    L.append("| --- | --- | --- | --- |")
    L.append("| tern | `rtl/tern_pe.sv` via `rtl/tern_lane.sv` (the accelerator's own): select +a, -a or 0 "
             "(conditional negation, no multiplier) | 2 | 9 |")
    L.append("| mac8 | `rtl/study/study_pe_mac8.sv`: `$signed(a) * $signed(w)` | 8 | 16 |")
    L.append("| mac2 | `rtl/study/study_pe_mac2.sv`: `$signed(a) * $signed(w)`, w int2 sign-extended | 2 | 10 |")
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
             f"`nextpnr-ice40 --up5k --package sg48` (`--hx8k --package ct256` when the UP5K is too small) "
             f"with `--freq {args.target_mhz} --timing-allow-fail`; fmax is the median over seeds "
             f"1..{args.seeds} (all seeds in the JSON). LUTs, FFs and carries are the SB_LUT4, SB_DFF* and "
             "SB_CARRY cells of the synthesised netlist; LCs are the logic cells nextpnr placed (LUTs plus "
             "FFs that could not share a LUT's cell).")
    L.append("")
    L.append("## iCE40, no DSP (main comparison)")
    L.append("")
    L.append("| kind | array | ops/cycle | LUTs | FFs | carries | LUTs/op | datapath LUTs/op | LUTs/op vs tern "
             "| device | LCs | fmax MHz | fmax vs tern | Mops/s per LUT | ops/s/LUT vs tern |")
    L.append("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |")
    for (lanes, width) in sizes:
        for row in [r for r in rows if (r["lanes"], r["width"]) == (lanes, width)]:
            pr = row.get("pnr", {})
            dev = pr.get("device", "").upper() if pr.get("fit") else "does not fit"
            ratio = lambda k: (f"{row[k]:.2f}x" if row.get(k) is not None else "—")
            L.append(f"| {row['kind']} | {lanes}x{width} | {row['ops_per_cycle']} | {fmt(row['lut'])} | "
                     f"{fmt(row['ff'])} | {fmt(row['carry'])} | {fmt(row.get('lut_per_op'))} | "
                     f"{fmt(row.get('datapath_lut_per_op'))} | {ratio('lut_per_op_vs_tern')} | {dev} | "
                     f"{fmt(row.get('lc_used'))} | {fmt(row.get('fmax_mhz'))} | {ratio('fmax_vs_tern')} | "
                     f"{fmt(row['ops_per_s_per_lut'] / 1e6 if row.get('ops_per_s_per_lut') else None, 2)} | "
                     f"{ratio('ops_per_s_per_lut_vs_tern')} |")
        h = [r for r in meta["harness"] if (r["lanes"], r["width"]) == (lanes, width)]
        if h:
            L.append(f"| *harness* | {lanes}x{width} | — | {fmt(h[0]['lut'])} | {fmt(h[0]['ff'])} | "
                     f"{fmt(h[0]['carry'])} | | | | | | | | | |")
    L.append("")
    notfit = [r for r in rows if not r.get("pnr", {}).get("fit")]
    if notfit:
        L.append("Not placed (no fmax, so no ops/s/LUT): " + "; ".join(
            f"{r['kind']} {r['lanes']}x{r['width']} ({r['pnr'].get('note', '')})" for r in notfit) + ".")
        L.append("")
    if any("ice40_dsp" in r for r in rows) or any(r.get("ecp5") or r.get("xilinx") for r in rows):
        L.append("## Other flows (synthesis cell counts)")
        L.append("")
        L.append("`synth_ice40 -dsp` (SB_MAC16 allowed; the UP5K has 8, placed only when they fit), "
                 "`synth_ecp5 -nodsp` (LUT4, CCU2C carries) and `synth_xilinx -nodsp -family xc7` "
                 "(LUT1..LUT6, CARRY4). No place and route for ECP5 / Xilinx (no nextpnr for them here).")
        L.append("")
        L.append("| kind | array | iCE40 -dsp LUTs | SB_MAC16 | -dsp fmax MHz | ECP5 LUT4 | ECP5 CCU2C | "
                 "ECP5 LUTs vs tern | xc7 LUTs | xc7 CARRY4 | xc7 LUTs vs tern |")
        L.append("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for row in rows:
            d, e, x = row.get("ice40_dsp", {}), row.get("ecp5", {}), row.get("xilinx", {})
            dp = d.get("pnr", {})
            dfmax = fmt(dp.get("fmax_mhz")) if dp.get("fit") else ("—" if not d else "not placed")
            L.append(f"| {row['kind']} | {row['lanes']}x{row['width']} | {fmt(d.get('lut'))} | "
                     f"{fmt(d.get('dsp'))} | {dfmax} | {fmt(e.get('lut'))} | {fmt(e.get('carry'))} | "
                     f"{fmt(e.get('lut_vs_tern'), 2)}{'x' if e.get('lut_vs_tern') else ''} | "
                     f"{fmt(x.get('lut'))} | {fmt(x.get('carry'))} | "
                     f"{fmt(x.get('lut_vs_tern'), 2)}{'x' if x.get('lut_vs_tern') else ''} |")
        L.append("")
    L.append("## What the numbers say")
    L.append("")
    L.extend(meta["summary"])
    L.append("")
    L.append("Checks that keep the comparison honest (ctest label `rtl`): `study_lint_*` (Verilator -Wall), "
             "`study_nomul_tern` (no `$mul` after `proc; opt`, no SB_MAC16 even with `-dsp`), "
             "`study_mul_mac8` / `study_mul_mac2` (one `$mul` per PE after `proc; opt`), `study_sim` "
             "(`rtl/study/check_study.py`: iverilog against a Python oracle, and the three kinds give "
             "identical accumulators when the weights are restricted to {-1, 0, 1}).")
    L.append("")
    with open(path, "w") as f:
        f.write("\n".join(L))


def summary(rows, sizes, kinds):
    """Sentences stating only what the table shows."""
    out = []
    for lanes, width in sizes:
        rs = {r["kind"]: r for r in rows if (r["lanes"], r["width"]) == (lanes, width)}
        t = rs.get("tern")
        if not t or t.get("lut") is None:
            continue
        parts = []
        for k in ("mac2", "mac8"):
            r = rs.get(k)
            if not r or r.get("lut") is None:
                continue
            s = f"{k} {r['lut_per_op']:.1f} LUTs/op ({r['lut_per_op_vs_tern']:.2f}x"
            if r.get("datapath_lut_per_op_vs_tern"):
                s += f"; datapath only {r['datapath_lut_per_op_vs_tern']:.2f}x"
            s += ")"
            if r.get("ops_per_s_per_lut_vs_tern"):
                s += (f", fmax {r['fmax_mhz']:.1f} MHz, {r['ops_per_s_per_lut_vs_tern']:.2f}x the ternary "
                      "ops/s/LUT")
            parts.append(s)
        line = f"- {lanes}x{width}: tern {t['lut_per_op']:.1f} LUTs/op"
        if t.get("fmax_mhz"):
            line += f", fmax {t['fmax_mhz']:.1f} MHz ({t['pnr']['device'].upper()})"
        line += "; " + "; ".join(parts) + "." if parts else "."
        out.append(line)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="2x8,4x8,1x16,8x16",
                    help="comma-separated LANESxWIDTH (WIDTH a power of two); default %(default)s")
    ap.add_argument("--kinds", default="tern,mac2,mac8", help="PE kinds; default %(default)s")
    ap.add_argument("--flows", default="ice40,ice40_dsp,ecp5,xilinx",
                    help="synthesis flows (ice40 is always run); default %(default)s")
    ap.add_argument("--seeds", type=int, default=3, help="nextpnr seeds per design; default %(default)s")
    ap.add_argument("--target-mhz", type=float, default=100,
                    help="nextpnr --freq (a target above what is reached keeps placement timing-driven); "
                         "default %(default)s")
    ap.add_argument("--acc-w", type=int, default=24, help="accumulator bits; default %(default)s")
    ap.add_argument("--no-pnr", action="store_true", help="synthesis only (no fmax)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2, help="parallel tool runs; default %(default)s")
    ap.add_argument("--work", default=os.path.join(ROOT, "build-study", "codesign-study"),
                    help="scratch directory for netlists and logs (results are cached there by source hash); "
                         "default %(default)s")
    ap.add_argument("--md", default=os.path.join(ROOT, "docs", "codesign-study.md"), help="default %(default)s")
    ap.add_argument("--json", default=os.path.join(ROOT, "docs", "codesign-study.json"), help="default %(default)s")
    ap.add_argument("--yosys", default="yosys")
    ap.add_argument("--nextpnr", default="nextpnr-ice40")
    ap.add_argument("--pnr-timeout", type=int, default=1800, help="seconds per nextpnr run")
    args = ap.parse_args()

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
                if kind == "tern" and flow == "ice40_dsp" and False:
                    continue
                jobs.append((kind, lanes, width, flow))
    # the slowest (int8 x int8, large) first so that the pool stays busy
    jobs.sort(key=lambda j: -(j[1] * j[2] * (16 if j[0] == "mac8" else 1)))

    results = {}

    def do(job):
        kind, lanes, width, flow = job
        syn = synth(args, kind, lanes, width, flow, shash)
        out = {"syn": syn}
        if not args.no_pnr and kind != "none" and flow in ("ice40", "ice40_dsp"):
            out["pnr"] = pnr(args, kind, lanes, width, flow, syn, shash)
        return job, out

    with cf.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as ex:
        futs = [ex.submit(do, j) for j in jobs]
        for n, fut in enumerate(cf.as_completed(futs), 1):
            job, out = fut.result()
            results[job] = out
            log(f"progress {n}/{len(jobs)}")

    rows = build_rows(args, sizes, kinds, results)
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
        "cores": os.cpu_count(),
        "harness": harness,
        "summary": summary(rows, sizes, kinds),
    }
    doc = {
        "description": "tern co-design study: add-only ternary PEs against int8 x int8 and int8 x int2 "
                       "multiplier PEs, same array and flow (rtl/study/run_study.py)",
        "command": meta["command"], "tools": meta["tools"], "run_seconds": round(time.time() - T0),
        "source_hash": shash,
        "settings": {"sizes": [f"{l}x{w}" for l, w in sizes], "kinds": kinds, "flows": flows,
                     "seeds": args.seeds, "target_mhz": args.target_mhz, "acc_w": args.acc_w,
                     "devices": [f"{d} {p}" for d, p, _ in DEVICES], "flow_commands": FLOWS},
        "definitions": {
            "op": "one product-accumulate; an LxW array does L*W a cycle",
            "lut": "SB_LUT4 cells after synth_ice40 (no -dsp)",
            "datapath_lut": "lut minus the harness (PE_KIND 3) lut of the same size",
            "fmax_mhz": "median over seeds of nextpnr-ice40 achieved fmax (register to register)",
            "ops_per_s_per_lut": "ops_per_cycle * fmax / lut",
            "*_vs_tern": "this kind's value divided by the ternary kind's value for the same array",
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
    log(f"wrote {rel(os.path.abspath(args.md))} and {rel(os.path.abspath(args.json))}")
    for line in meta["summary"]:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
