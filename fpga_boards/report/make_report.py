#!/usr/bin/env python3
"""make_report.py — fpga-report.md and .json: every FPGA board's resources, timing and what its
accelerator can do (the target fpga-report runs it after building every fpga_<board>, writing into
build/fpga_boards/report/; fpga-report-update-docs copies the result into docs/). Prints one line a
board at the end.

Per board, from its build directory (cmake/TernFpga.cmake): LUTs, FFs, BRAM, DSP and SPRAM used
against the board's capacity (nextpnr's utilisation where place and route ran, yosys cell counts
otherwise), nextpnr's fmax against the board clock, the accelerator figures of its configuration
(ternary adds a cycle, weight memory, the largest model whose ternary weights fit on chip) and the
projected tokens/s of bitllama-3m over the board's link: ARCHITECTURE.md section 8,

    tokens/s = 1 / ((COMPUTE + PIPE + CTRL + COMMIT) / clock_hz + (BYTES_IN + BYTES_OUT) / link_bytes_per_s)

with the per-token counters measured by `tern generate --backend ref:config=<cfg>` (the reference
model counts the cycles the RTL takes, bit for bit) and the board's own clock. Without
../shared/models/bitllama-3m a synthetic model of the same shape (`tern model synth`) stands in,
and the report says so.
"""
import argparse
import datetime
import json
import os
import subprocess
import sys

sys.dont_write_bytecode = True            # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_gates  # noqa: E402  (cell counting and nextpnr parsing, shared with the gate)

SYNTH_ARGS = ["--dim", "256", "--hidden-dim", "256", "--layers", "8", "--heads", "8", "--kv-heads", "4",
              "--vocab", "512", "--seq-len", "512", "--seed", "1"]
STEPS = 16
PROMPT = "Once upon a time"
KEYS = ("LUT", "FF", "BRAM", "DSP", "SPRAM")


def tool_version(cmd):
    try:
        out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=30).stdout
        return out.strip().splitlines()[0] if out.strip() else None
    except (OSError, subprocess.SubprocessError):
        return None


def board_resources(board):
    """Resources used ({key: n}), their source, fmax (MHz or None) and yosys' cells by type of one built board."""
    out, family = board["dir"], board["family"]
    used, source, fmax = {}, None, None
    synth = os.path.join(out, "synth.json")
    stat = os.path.join(out, "stat.json")
    cells = None
    if os.path.exists(synth):
        cells = check_gates.netlist_cells(synth)
    elif os.path.exists(stat):
        cells = check_gates.stat_cells(stat)
    if cells is not None:
        used = dict.fromkeys(KEYS, 0)          # a kind of cell the netlist lacks is 0 used
        used.update(check_gates.count_cells(cells, family))
        source = "yosys"
    pnr = os.path.join(out, "pnr.json")
    if board["pnr"] and os.path.exists(pnr):
        util, fm = check_gates.pnr_from_report(pnr)
        for ptype, key in check_gates.PNR_KEYS.get(family, {}).items():
            if ptype in util:
                used[key] = util[ptype][0]
        source = "nextpnr"
        if fm:
            fmax = min(a for a, _ in fm.values())
    return used, source, fmax, cells


def board_gates(board):
    """True / False: every gate of the board's last check passed (its gates.json), None: not checked."""
    try:
        with open(os.path.join(board["dir"], "gates.json")) as f:
            return bool(json.load(f)["pass"])
    except (OSError, ValueError, KeyError):
        return None


def find_model(model_dir, tern, work):
    """(model, tokenizer, description): bitllama-3m, or a synthetic model of its shape."""
    model = os.path.join(model_dir, "model.bin") if model_dir else None
    tok = os.path.join(model_dir, "tokenizer.bin") if model_dir else None
    if model and os.path.exists(model) and os.path.exists(tok):
        return model, tok, "bitllama-3m from ../shared/models/bitllama-3m"
    model, tok = os.path.join(work, "synth.bin"), os.path.join(work, "synth_tok.bin")
    cmd = [tern, "model", "synth", *SYNTH_ARGS, "--out", model, "--tokenizer-out", tok]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if proc.returncode:
        sys.exit(f"fpga-report: {' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}")
    return model, tok, ("a synthetic model of bitllama-3m's shape (`tern model synth " + " ".join(SYNTH_ARGS) +
                        "`): ../shared/models/bitllama-3m is absent")


def measure(tern, cfg, model, tok, work):
    """Per-token counters of `tern generate` on ref:config=<cfg> (weights upload excluded)."""
    path = os.path.join(work, f"generate_{cfg}.json")
    cmd = [tern, "generate", "--backend", f"ref:config={cfg}", "--model", model, "--tokenizer", tok,
           "--prompt", PROMPT, "--temperature", "0", "--steps", str(STEPS), "--json", path]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if proc.returncode:
        sys.exit(f"fpga-report: {' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}")
    with open(path) as f:
        gen = json.load(f)
    dev = gen["devices"][0]
    tokens = gen["token_positions"]
    a, b = dev["counters_start"], dev["counters_end"]

    def per_token(*names):
        return sum(b[n] - a[n] for n in names) / tokens

    return {
        # as run, less this machine's paths
        "command": " ".join(os.path.basename(c) if i == 0 or os.path.isabs(c) else
                            (f'"{c}"' if " " in c else c) for i, c in enumerate(cmd[:-2])),
        "token_positions": tokens,
        "busy_cycles_per_token": per_token("cyc_compute", "cyc_pipe", "cyc_ctrl", "cyc_commit"),
        "device_cycles_per_token": per_token("cycles"),
        "link_bytes_per_token": per_token("bytes_in", "bytes_out"),
        "tern_projected_tokens_per_s": dev["projected_tokens_per_s"]["value"],
        "config_clock_hz": dev["config"]["clock_hz"],
    }


def project(m, clock_hz, link_bps):
    compute = m["busy_cycles_per_token"] / clock_hz
    link = m["link_bytes_per_token"] / link_bps
    return {"tokens_per_s": 1 / (compute + link), "compute_bound": 1 / compute if compute else None,
            "link_bound": 1 / link if link else None}


def fmt_m(n):
    return f"{n / 1e6:.2f} M" if n >= 1e5 else f"{n / 1e6:.3f} M"


def fmt_bytes(n):
    return f"{n // 1024} KiB" if n < 1 << 20 else f"{n / (1 << 20):g} MiB"


def print_summary(rows):
    """One line a board: cells used / available, fmax against the clock, the gates, tokens/s."""
    for r in rows:
        parts = []
        for k in KEYS:
            res = r["resources"].get(k)
            if res and res["used"] is not None and res["capacity"]:
                parts.append(f"{k} {res['used']:g}/{res['capacity']}")
        if r["fmax_mhz"] is not None:
            ok = r["fmax_mhz"] * 1e6 >= r["clock_hz"]
            timing = f"fmax {r['fmax_mhz']:.1f} MHz {'>=' if ok else '<'} {r['clock_hz'] / 1e6:g} MHz"
        else:
            timing = f"clock {r['clock_hz'] / 1e6:g} MHz (no place and route)"
        gates = r.get("gates")
        verdict = "gates not run" if gates is None else ("gates pass" if gates else "GATES FAIL")
        tps = r.get("bitllama_3m", {}).get("tokens_per_s")
        print(f"fpga-report: {r['board']:10s} {r['config']:6s} {', '.join(parts) or 'not built'}; {timing}; "
              f"{verdict}" + (f"; {tps:.3g} tokens/s" if tps else ""))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--boards", required=True, help="file listing one board.json path a line")
    ap.add_argument("--tern", help="the tern executable (for the tokens/s measurement; without it: none)")
    ap.add_argument("--model-dir", help="bitllama-3m folder (model.bin, tokenizer.bin)")
    ap.add_argument("--work", required=True, help="scratch folder for the measurement")
    ap.add_argument("--md", required=True, help="Markdown report to write")
    ap.add_argument("--json", required=True, help="JSON report to write")
    args = ap.parse_args()

    with open(args.boards) as f:
        paths = [l.strip() for l in f if l.strip()]
    boards = []
    for p in paths:
        with open(p) as f:
            boards.append(json.load(f))
    boards.sort(key=lambda b: b["name"])
    os.makedirs(args.work, exist_ok=True)

    model_desc, measured = None, {}
    if args.tern:
        model, tok, model_desc = find_model(args.model_dir, args.tern, args.work)
        for cfg in sorted({b["config"] for b in boards}):
            measured[cfg] = measure(args.tern, cfg, model, tok, args.work)

    rows = []
    for b in boards:
        cv = b["config_values"]
        used, source, fmax, cells = board_resources(b)
        adds = cv["lanes"] * cv["width"]
        wbytes = cv["wmem_words"] * cv["lanes"] * cv["width"] // 4
        row = {
            "board": b["name"], "config": b["config"], "family": b["family"], "device": b["device"],
            "package": b["package"], "link": b["link"], "usb_id": b["usb_id"], "clock_hz": b["clock_hz"],
            "link_bytes_per_s": cv["link_bytes_per_s"], "gate": b["gate"], "pnr": b["pnr"],
            "resources": {k: {"used": used.get(k), "capacity": b["capacity"].get(k)}
                          for k in KEYS if k in b["capacity"] or used.get(k)},
            "yosys_cells": dict(sorted(cells.items())) if cells else None,
            "resource_source": source,
            "fmax_mhz": fmax,
            "gates": board_gates(b),
            "array": f"{cv['lanes']}x{cv['width']}",
            "ternary_adds_per_cycle": adds,
            "weight_memory_bytes": wbytes,
            "on_chip_ternary_weights": wbytes * 4,
        }
        if b["config"] in measured:
            m = measured[b["config"]]
            row["bitllama_3m"] = dict(m, **project(m, b["clock_hz"], cv["link_bytes_per_s"]))
        rows.append(row)

    report = {
        "generated": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "tools": {"yosys": tool_version(["yosys", "-V"]), "nextpnr-ice40": tool_version(["nextpnr-ice40", "--version"])},
        "model": model_desc,
        "formula": "tokens/s = 1 / ((COMPUTE + PIPE + CTRL + COMMIT) / clock_hz + (BYTES_IN + BYTES_OUT) / "
                   "link_bytes_per_s), per-token counters from tern generate on ref:config=<cfg>",
        "boards": rows,
    }
    with open(args.json, "w") as f:
        json.dump(report, f, indent=2)
        f.write("\n")

    md = ["# FPGA report", "",
          "Generated by `cmake --build build --target fpga-report` (fpga_boards/report/make_report.py, "
          "into build/fpga_boards/report/; `--target fpga-report-update-docs` copies it into docs/) "
          f"on {report['generated'][:10]}; {report['tools']['yosys'] or 'yosys'}, "
          f"{report['tools']['nextpnr-ice40'] or 'nextpnr-ice40'}. The numbers are also in "
          "[fpga-report.json](fpga-report.json).", "",
          "## Resources and timing", "",
          "Used of the device's capacity. Where place and route ran (nextpnr) its utilisation counts "
          "(on an iCE40 a LUT is a logic cell: LUT4 + flip-flop + carry); otherwise yosys's cell counts "
          "estimate it (LUT RAM and carry cells counted as the LUTs they take). FFs are yosys's. fmax is "
          "nextpnr's after routing, against the board clock.", "",
          "| board | device | configuration | LUTs | FFs | BRAM | DSP | SPRAM | fmax / clock | from | gate |",
          "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        cells = []
        for k in KEYS:
            res = r["resources"].get(k)
            if not res:
                cells.append("—")
            elif res["used"] is None:
                cells.append(f"? / {res['capacity']}")
            else:
                u, c = res["used"], res["capacity"]
                pct = f" ({100 * u / c:.0f}%)" if c else ""
                cells.append(f"{u:g} / {c}{pct}" if c is not None else f"{u:g}")
        if r["fmax_mhz"] is not None:
            ok = "met" if r["fmax_mhz"] * 1e6 >= r["clock_hz"] else "NOT met"
            timing = f"{r['fmax_mhz']:.1f} / {r['clock_hz'] / 1e6:g} MHz ({ok})"
        else:
            timing = f"— / {r['clock_hz'] / 1e6:g} MHz (no PnR)"
        gate = "fpga" if r["gate"] else "soak"
        md.append(f"| {r['board']} | {r['family']} {r['device']}, {r['package']} | {r['config']} | "
                  + " | ".join(cells) + f" | {timing} | {r['resource_source'] or 'not built'} | {gate} |")
    md += ["", "## What the accelerator does on each board", "",
           "Ternary adds a cycle = lanes x width; weight memory = wmem_words x lanes x width / 4 bytes (2-bit "
           "codes); the largest model whose ternary weights all stay on chip has 4 weights a byte of it. "
           "Tokens/s: bitllama-3m generating, projected for the board's clock and link (formula below).", "",
           "| board | configuration | array | ternary adds / cycle | weight memory | on-chip model | link | "
           "busy cycles / token | link bytes / token | tokens/s (compute alone, link alone) |",
           "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        link = f"{r['link']} {r['link_bytes_per_s'] / 1e6:g} MB/s"
        m = r.get("bitllama_3m")
        if m:
            bounds = ", ".join(f"{v:.3g}" if v else "—" for v in (m["compute_bound"], m["link_bound"]))
            perf = (f"{m['busy_cycles_per_token']:,.0f} | {m['link_bytes_per_token']:,.0f} | "
                    f"**{m['tokens_per_s']:.3g}** ({bounds})")
        else:
            perf = "— | — | — (no tern binary)"
        md.append(f"| {r['board']} | {r['config']} | {r['array']} | {r['ternary_adds_per_cycle']} | "
                  f"{fmt_bytes(r['weight_memory_bytes'])} | {fmt_m(r['on_chip_ternary_weights'])} ternary weights | "
                  f"{link} | {perf} |")
    md += ["", "## How the tokens/s are measured", "",
           "ARCHITECTURE.md section 8: the protocol is half duplex, so a token costs its busy cycles at the "
           "board clock plus its link bytes at the link rate:", "",
           "    tokens/s = 1 / ((COMPUTE + PIPE + CTRL + COMMIT) / clock_hz + (BYTES_IN + BYTES_OUT) / link_bytes_per_s)",
           ""]
    if measured:
        md += [f"The counters per token come from `tern generate --backend ref:config=<cfg> --prompt \"{PROMPT}\" "
               f"--temperature 0 --steps {STEPS}` with {model_desc} (weights upload excluded; the reference "
               "model counts exactly the cycles the RTL takes). A model whose weights do not fit in WMEM "
               "streams them over the link for every token, which is what bounds the small boards.", ""]
    else:
        md += ["No tern executable was given: no tokens/s.", ""]
    os.makedirs(os.path.dirname(os.path.abspath(args.md)), exist_ok=True)
    with open(args.md, "w") as f:
        f.write("\n".join(md))
    print_summary(rows)
    print(f"fpga-report: wrote {args.md} and {args.json} ({len(rows)} boards)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
