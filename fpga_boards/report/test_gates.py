#!/usr/bin/env python3
"""test_gates.py — check_gates.py on made-up board outputs (no yosys or nextpnr run): the result it
prints, one line a gate, its exit status, and gates.json, for a design that passes and for each way
one fails (a multiplier cell, a LUT count over the device, fmax under the clock), with and without
--report-only. The ctest fpga.check_gates runs it (seconds)."""
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def make_board(root, cells, fmax_mhz, lc_used=1000):
    """A board directory as cmake/TernFpga.cmake and the tools leave it: board.json, synth.ys, a
    yosys netlist with `cells` ({type: count}), nextpnr's report; outputs newer than inputs."""
    out = os.path.join(root, "board")
    os.makedirs(out)
    src = os.path.join(root, "top.sv")
    pcf = os.path.join(root, "pins.pcf")
    for f in (src, pcf, os.path.join(out, "synth.ys")):
        with open(f, "w") as fh:
            fh.write("// input\n")
    board = {"name": "testboard", "config": "tiny", "family": "ice40", "device": "up5k", "package": "sg48",
             "top": "top", "sources": [src], "constraints": pcf, "clock_hz": 12000000, "link": "uart",
             "usb_id": "0403:6010", "capacity": {"LUT": 5280, "FF": 5280, "BRAM": 30, "DSP": 8},
             "pnr": True, "pnr_tools": True, "gate": True, "dir": out}
    with open(os.path.join(out, "board.json"), "w") as f:
        json.dump(board, f)
    netlist = {"modules": {"top": {"attributes": {"top": "00000000000000000000000000000001"},
                                   "cells": {f"{t}_{i}": {"type": t} for t, n in cells.items() for i in range(n)}}}}
    later = time.time() + 10
    with open(os.path.join(out, "synth.json"), "w") as f:
        json.dump(netlist, f)
    os.utime(os.path.join(out, "synth.json"), (later, later))
    with open(os.path.join(out, "pnr.json"), "w") as f:
        json.dump({"utilization": {"ICESTORM_LC": {"used": lc_used, "available": 5280},
                                   "ICESTORM_RAM": {"used": 4, "available": 30},
                                   "ICESTORM_DSP": {"used": 0, "available": 8}},
                   "fmax": {"clk": {"achieved": fmax_mhz, "constraint": 12.0}}}, f)
    os.utime(os.path.join(out, "pnr.json"), (later + 1, later + 1))
    return out


def run(out, *extra):
    proc = subprocess.run([sys.executable, os.path.join(HERE, "check_gates.py"), *extra,
                           os.path.join(out, "board.json")], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
    with open(os.path.join(out, "gates.json")) as f:
        return proc.returncode, proc.stdout, json.load(f)


def expect(cond, what, output):
    if not cond:
        print(output)
        sys.exit(f"FAIL: {what}")


def main():
    good = {"SB_LUT4": 900, "SB_DFF": 300, "SB_CARRY": 50, "SB_RAM40_4K": 4}
    cases = [
        # name, cells, fmax, LCs, failing gate (None: all pass)
        ("passes", good, 17.4, 1000, None),
        ("multiplier", dict(good, SB_MAC16=1), 17.4, 1000, "add-only"),
        ("too big", good, 17.4, 6000, "fit LUTs"),
        ("too slow", good, 9.5, 1000, "timing"),
    ]
    for name, cells, fmax, lcs, failing in cases:
        with tempfile.TemporaryDirectory() as root:
            out = make_board(root, cells, fmax, lcs)
            rc, text, res = run(out)
            lines = [l for l in text.splitlines() if l.startswith("testboard:   ")]
            expect(any("PASS  fit LUTs" in l and f"{lcs} / 5280" in l for l in lines) or failing == "fit LUTs",
                   f"{name}: no 'fit LUTs' line with {lcs} / 5280", text)
            expect(any(l.split()[2:4] == ["timing", "fmax"] and f"{fmax:.2f} MHz" in l for l in lines),
                   f"{name}: no timing line with fmax {fmax:.2f} MHz", text)
            if failing is None:
                expect(rc == 0 and res["pass"] and "testboard: all gates pass" in text,
                       f"{name}: should pass (exit {rc})", text)
                expect(all(g["status"] in ("PASS", "INFO") for g in res["gates"]), f"{name}: a gate failed", text)
            else:
                expect(rc == 1 and not res["pass"], f"{name}: should fail (exit {rc})", text)
                expect(any(l.split()[1] == "FAIL" and failing in l for l in lines),
                       f"{name}: no FAIL line for {failing}", text)
                expect("testboard: FAILED (1 gate: " in text, f"{name}: no FAILED summary naming one gate", text)
                rc2, text2, res2 = run(out, "--report-only")
                expect(rc2 == 0 and not res2["pass"] and "FAIL" in text2,
                       f"{name}: --report-only should print the failure and exit 0 (exit {rc2})", text2)
            print(f"ok   {name}: exit {rc}, {len(lines)} gate lines")
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
