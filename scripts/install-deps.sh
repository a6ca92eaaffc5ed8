#!/usr/bin/env bash
# install-deps.sh — install what tern needs to build and test on Debian 12 (bookworm). Idempotent:
# when every package is already installed it says so and exits without touching the network.
#
# usage: scripts/install-deps.sh          (as root, or as a user who may sudo)
set -euo pipefail

packages=(
    cmake gcc g++ make pkg-config          # build
    verilator zlib1g-dev                   # the sim backend: Verilated RTL (FST traces need zlib)
    libcmocka-dev                          # unit tests
    valgrind                               # the soak's memcheck of text generation (ctest -L valgrind)
    ccache                                 # test.sh: the sanitizer tree reuses the first tree's Verilated objects
    libusb-1.0-0-dev libudev-dev           # the usb backend (a static link of libusb needs libudev)
    yosys nextpnr-ice40 fpga-icestorm      # synthesis, place and route, bitstreams (iCE40)
    umockdev libumockdev-dev               # the virtual board: an emulated USB bridge for tests
    iverilog gtkwave                       # a second simulator, waveform viewer
    python3                                # the FPGA gate checker and fpga-report (fpga_boards/report)
    clang libclang-rt-14-dev               # the fuzz targets: clang 14, libFuzzer and its sanitizers (scripts/fuzz.sh)
)

if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "install-deps: dpkg-query not found: this script is for Debian 12; install by hand:" >&2
    echo "  ${packages[*]}" >&2
    exit 1
fi

missing=()
for p in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    if [[ $status != installed ]]; then
        missing+=("$p")
    fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
    echo "install-deps: all ${#packages[@]} packages already installed; nothing to do."
    exit 0
fi

echo "install-deps: missing ${#missing[@]} of ${#packages[@]} packages: ${missing[*]}"

sudo=()
if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then
        sudo=(sudo)
        echo "install-deps: not root: using sudo"
    else
        echo "install-deps: not root and sudo is not installed; as root, run:" >&2
        echo "  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
        exit 1
    fi
fi

echo "install-deps: apt-get update"
"${sudo[@]}" apt-get update
echo "install-deps: apt-get install ${missing[*]}"
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends "${missing[@]}"
echo "install-deps: done."
