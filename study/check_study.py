#!/usr/bin/env python3
"""check_study.py — functional check of the co-design study arrays (study/study_array.sv).

For each array size, simulates the three PE kinds with iverilog (study_tb.sv plays a per-cycle
stimulus) and compares every accumulator and the fold output with a Python oracle:

  random       each kind on its own weight domain (ternary codes incl. the illegal 10, which adds 0;
               int8 weights; int2 weights incl. -2), random and extreme vectors, clears, and a run long
               enough to wrap the 24-bit accumulators;
  equivalence  one ternary weight set in {-1, 0, +1} given to all three kinds (2-bit code for ternary
               and int8 x int2, sign-extended int8 for int8 x int8): the three dumps must be identical
               (and equal to the oracle), i.e. the kinds compute the same dot products.

Exit status 0 when everything matches. Used by ctest (study_sim, label rtl).
"""
import argparse
import os
import random
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
KINDS = {0: "tern", 1: "mac8", 2: "mac2"}
ACC_W = 24
DIN_W = 8


def sources(rtl_dir):
    return [os.path.join(HERE, f) for f in ("study_tb.sv", "study_array.sv", "study_lane_mac.sv",
                                               "study_pe_mac8.sv", "study_pe_mac2.sv")] + \
           [os.path.join(rtl_dir, f) for f in ("tern_lane.sv", "tern_pe.sv")]


def wgt_bits(kind):
    return 8 if kind == 1 else 2


def wgt_value(kind, raw):
    """The integer a raw weight field means to a PE of this kind."""
    if kind == 0:       # tern_pe: 01 -> +1, 11 -> -1, 00 and 10 -> 0
        return {0b01: 1, 0b11: -1}.get(raw, 0)
    bits = wgt_bits(kind)
    return raw - (1 << bits) if raw >> (bits - 1) else raw


def s8(raw):
    return raw - 256 if raw & 0x80 else raw


class Program:
    """Builds the per-cycle stimulus and, alongside, the oracle's expected dumps."""

    def __init__(self, kind, lanes, width):
        self.kind, self.lanes, self.width = kind, lanes, width
        self.wb = wgt_bits(kind)
        data_w = 8 * width + lanes * width * self.wb
        self.ch_w = -(-data_w // DIN_W) * DIN_W
        self.words = []
        self.acc = [0] * lanes
        self.sums = [0] * lanes
        self.expect = []

    def _cycle(self, din=0, shift=0, en=0, clr=0, dump=0, end=0, rst=0):
        self.words.append(din | shift << DIN_W | en << (DIN_W + 1) | clr << (DIN_W + 2) |
                          dump << (DIN_W + 3) | end << (DIN_W + 4) | rst << (DIN_W + 5))

    def reset(self):
        for _ in range(3):
            self._cycle(rst=1)
        self.acc = [0] * self.lanes

    def load(self, acts, wraw):
        """acts[e] int8 raw bytes, wraw[l][e] raw weight fields."""
        chain = 0
        for e, a in enumerate(acts):
            chain |= (a & 0xFF) << (8 * e)
        base = 8 * self.width
        for l in range(self.lanes):
            for e in range(self.width):
                chain |= (wraw[l][e] & ((1 << self.wb) - 1)) << (base + (l * self.width + e) * self.wb)
        n = self.ch_w // DIN_W
        for i in range(n):          # most significant chunk first: it travels furthest
            self._cycle(din=(chain >> (self.ch_w - DIN_W * (i + 1))) & 0xFF, shift=1)
        self.sums = [sum(s8(acts[e]) * wgt_value(self.kind, wraw[l][e]) for e in range(self.width))
                     for l in range(self.lanes)]

    def accumulate(self, times=1):
        for _ in range(times):
            self._cycle(en=1)
            self.acc = [(a + s) % (1 << ACC_W) for a, s in zip(self.acc, self.sums)]

    def clear(self):
        self._cycle(clr=1)
        self.acc = [0] * self.lanes

    def dump(self):
        for _ in range(6):          # control pipeline (2) + accumulator + fold (2) settle
            self._cycle()
        self._cycle(dump=1)
        flat = 0
        for l, a in enumerate(self.acc):
            flat |= a << (l * ACC_W)
        fold = bin(flat).count("1") & 1
        self.expect.append((flat, fold))

    def finish(self):
        self._cycle(end=1)


def compile_tb(args, kind, lanes, width):
    out = os.path.join(args.work, f"tb_{KINDS[kind]}_{lanes}x{width}.vvp")
    cmd = [args.iverilog, "-g2012", "-s", "study_tb", "-o", out,
           f"-Pstudy_tb.PE_KIND={kind}", f"-Pstudy_tb.LANES={lanes}", f"-Pstudy_tb.WIDTH={width}"] + \
        sources(args.rtl_dir)
    subprocess.run(cmd, check=True)
    return out


def simulate(args, vvp_file, prog, tag):
    stim = os.path.join(args.work, f"stim_{tag}.hex")
    with open(stim, "w") as f:
        f.write("\n".join(f"{w:x}" for w in prog.words) + "\n")
    if len(prog.words) > 65536:
        sys.exit(f"{tag}: stimulus too long")
    res = subprocess.run([args.vvp, "-n", vvp_file, f"+stim={stim}"], check=True,
                         capture_output=True, text=True)
    dumps = []
    for line in res.stdout.splitlines():
        if line.startswith("FATAL"):
            sys.exit(f"{tag}: {line}")
        if line.startswith("ACC "):
            parts = line.split()
            if "x" in parts[1].lower() or "z" in parts[1].lower():
                dumps.append((None, parts[3]))
            else:
                dumps.append((int(parts[1], 16), int(parts[3], 2)))
    return dumps


def compare(tag, got, expect):
    bad = 0
    if len(got) != len(expect):
        print(f"FAIL {tag}: {len(got)} dumps, expected {len(expect)}")
        return 1
    for i, (g, e) in enumerate(zip(got, expect)):
        if g != e:
            bad += 1
            if bad <= 5:
                print(f"FAIL {tag} dump {i}: got acc={g[0] if g[0] is None else hex(g[0])} fold={g[1]}, "
                      f"expected acc={e[0]:#x} fold={e[1]}")
    return bad


def random_program(kind, lanes, width, rng):
    p = Program(kind, lanes, width)
    p.reset()
    p.dump()                                    # all zero after reset

    def rand_w():
        if kind == 0:
            return rng.choice([0b00, 0b01, 0b11, 0b10])
        return rng.randrange(1 << wgt_bits(kind))

    for rnd in range(24):
        acts = [rng.randrange(256) for _ in range(width)]
        wraw = [[rand_w() for _ in range(width)] for _ in range(lanes)]
        p.load(acts, wraw)
        p.accumulate(rng.choice([1, 1, 2, 3]))
        if rnd % 3 == 2:
            p.dump()
        if rnd % 7 == 6:
            p.clear()
    p.dump()
    # extremes: -128 activations against the most negative weight, and +127 against the most positive
    most_neg = {0: 0b11, 1: 0x80, 2: 0b10}[kind]
    most_pos = {0: 0b01, 1: 0x7F, 2: 0b01}[kind]
    p.clear()
    p.load([0x80] * width, [[most_neg] * width for _ in range(lanes)])
    p.accumulate()
    p.dump()
    p.load([0x7F] * width, [[most_pos if (l + e) % 2 else most_neg for e in range(width)]
                            for l in range(lanes)])
    p.accumulate(2)
    p.dump()
    # wrap the accumulators: many back-to-back accumulates of the extreme product
    p.clear()
    p.load([0x80] * width, [[most_neg] * width for _ in range(lanes)])
    n = max(1, (1 << ACC_W) // max(1, 128 * abs(wgt_value(kind, most_neg)) * width) + 3)
    p.accumulate(min(n, 3000))
    p.dump()
    p.finish()
    return p


def equivalence_programs(lanes, width, rng):
    """One ternary workload encoded for all three kinds."""
    progs = {k: Program(k, lanes, width) for k in KINDS}
    for p in progs.values():
        p.reset()
    enc = {0: lambda t: {1: 0b01, -1: 0b11, 0: 0b00}[t],
           1: lambda t: t & 0xFF,
           2: lambda t: t & 0b11}
    for rnd in range(20):
        acts = [rng.randrange(256) for _ in range(width)]
        tern = [[rng.choice([-1, 0, 1]) for _ in range(width)] for _ in range(lanes)]
        times = rng.choice([1, 2])
        for k, p in progs.items():
            p.load(acts, [[enc[k](t) for t in row] for row in tern])
            p.accumulate(times)
            p.dump()
    for p in progs.values():
        p.finish()
    return progs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rtl-dir", default=os.path.join(os.path.dirname(HERE), "rtl"),
                    help="the rtl/ directory, for tern_lane.sv and tern_pe.sv (default: %(default)s)")
    ap.add_argument("--work", default="build-study-check", help="scratch directory (default: %(default)s)")
    ap.add_argument("--sizes", default="1x1,2x4,4x8", help="LANESxWIDTH list (default: %(default)s)")
    ap.add_argument("--seed", type=int, default=1, help="random seed (default: %(default)s)")
    ap.add_argument("--iverilog", default="iverilog")
    ap.add_argument("--vvp", default="vvp")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    rng = random.Random(args.seed)
    fails = 0
    for size in args.sizes.split(","):
        lanes, width = (int(x) for x in size.lower().split("x"))
        vvps = {k: compile_tb(args, k, lanes, width) for k in KINDS}
        for k in KINDS:
            tag = f"{KINDS[k]}_{size}_random"
            p = random_program(k, lanes, width, rng)
            got = simulate(args, vvps[k], p, tag)
            bad = compare(tag, got, p.expect)
            fails += bad
            print(f"{'ok  ' if not bad else 'FAIL'} {tag}: {len(got)} dumps, {len(p.words)} cycles")
        progs = equivalence_programs(lanes, width, rng)
        dumps = {}
        for k, p in progs.items():
            tag = f"{KINDS[k]}_{size}_equiv"
            dumps[k] = simulate(args, vvps[k], p, tag)
            fails += compare(tag, dumps[k], p.expect)
        same = dumps[0] == dumps[1] == dumps[2] and len(dumps[0]) > 0
        nonzero = sum(1 for d in dumps[0] if d[0])
        if not same:
            fails += 1
        print(f"{'ok  ' if same else 'FAIL'} {size} equivalence: tern, mac8, mac2 give identical "
              f"accumulators on {len(dumps[0])} dumps ({nonzero} non-zero) with weights in {{-1,0,1}}")
    print("PASS" if not fails else f"FAILED ({fails} mismatches)")
    return 0 if not fails else 1


if __name__ == "__main__":
    sys.exit(main())
