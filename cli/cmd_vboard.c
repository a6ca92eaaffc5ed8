/* cmd_vboard.c — `tern vboard`: run a command against the virtual board, an emulated USB FTDI
 * bridge chip (through umockdev) with the board RTL, the ref model or a loopback behind it, so
 * that the very libusb code that drives real boards runs end to end without one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "commands.h"
#include "tern/tern.h"
#include "tern_vboard.h"

static void help(FILE *f)
{
    const char *faults = tern_vboard_fault_help();

    fprintf(f,
            "usage: tern vboard [options] -- COMMAND [ARGS...]\n"
            "  Runs COMMAND with a virtual board plugged in: an FTDI bridge chip on an emulated USB bus\n"
            "  (umockdev: LD_PRELOAD=libumockdev-preload.so.0, UMOCKDEV_DIR) that libusb programs open and\n"
            "  drive like the real one, with the accelerator behind it. Exits with COMMAND's status (125\n"
            "  when the virtual board itself fails, 127 when COMMAND cannot be run).\n"
            "  The chip: FT2232H 0403:6010 (bcdDevice 0x0700, 'FTDI' 'Dual RS232-HS') for a UART link, the\n"
            "  FPGA on channel B (interface 1, EP 0x83 IN / 0x04 OUT) as on iCEBreaker; FT232H 0403:6014\n"
            "  (0x0900, 'Single RS232-HS') for the synchronous 245 FIFO (interface 0, 0x81 / 0x02), which\n"
            "  carries data only after SIO_SET_BITMODE 0x40. ftdi_sio is bound to every interface at start.\n"
            "  --config C      accelerator configuration (tiny: UART, default: FIFO; default 'default')\n"
            "  --engine E      rtl (the board RTL under Verilator, default), ref (the C model) or loopback\n"
            "                  (echoes every byte; its link is --link, else the --config's, else uart)\n"
            "  --link L        uart or fifo245, for the loopback engine\n"
            "  --chip C        ft2232h or ft232h instead of the link's usual chip (a FIFO on an FT2232H\n"
            "                  is on channel A)\n"
            "  --serial S      iSerialNumber string (default TERNVB01)\n"
            "  --bus N --addr N  bus number and device address (default 1 and 2: /dev/bus/usb/001/002)\n"
            "  --trace F.fst   rtl: write an FST waveform of the board\n"
            "  --fault SPEC    inject a fault (repeatable), deterministically:\n");
    /* the fault list, indented under --fault */
    while (*faults) {
        const char *nl = strchr(faults, '\n');
        int n = nl ? (int)(nl - faults) : (int)strlen(faults);
        fprintf(f, "  %.*s\n", n, faults);
        faults += n + (nl ? 1 : 0);
    }
    fprintf(f,
            "  --park-us N     an empty REAPURBNDELAY from a client that moved no data for 2 ms waits up\n"
            "                  to N us for a URB to complete before it answers EAGAIN (libusb polls the\n"
            "                  always-ready node in a loop; default 500; 0: answer at once)\n"
            "  --verbose, -v   log set-up, requests, claims, faults and a summary; twice: every ioctl\n"
            "  COMMAND sees TERN_VBOARD_DIR, TERN_VBOARD_DEVNODE, TERN_VBOARD_CHIP, TERN_VBOARD_SERIAL,\n"
            "  TERN_VBOARD_ENGINE, TERN_VBOARD_BUS and TERN_VBOARD_ADDR, and passes them and the umockdev\n"
            "  variables on to the processes it starts.\n"
            "example: tern vboard --engine loopback -- build/bench/bench_usb\n");
}

/* --name VALUE or --name=VALUE; returns the value (advancing *i), NULL if argv[*i] is not it. */
static const char *opt_value(int argc, char **argv, int *i, const char *name, int *missing)
{
    size_t n = strlen(name);
    const char *a = argv[*i];

    if (strncmp(a, name, n))
        return NULL;
    if (a[n] == '=')
        return a + n + 1;
    if (a[n] != 0)
        return NULL;
    if (*i + 1 >= argc) {
        *missing = 1;
        return NULL;
    }
    return argv[++*i];
}

int cmd_vboard(int argc, char **argv)
{
    struct tern_vboard_opts o;
    const char **faults = calloc((size_t)argc + 1, sizeof *faults);
    char err[512] = "";
    int i, status = 0, rc, missing = 0;
    const char *v;

    if (!faults) {
        fprintf(stderr, "tern vboard: out of memory\n");
        return 125;
    }
    memset(&o, 0, sizeof o);
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--")) {
            i++;
            break;
        }
        if (a[0] != '-')
            break;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            help(stdout);
            free(faults);
            return 0;
        }
        if (!strcmp(a, "--verbose") || !strcmp(a, "-v")) {
            o.verbose++;
            continue;
        }
        if (!strcmp(a, "-vv")) {
            o.verbose += 2;
            continue;
        }
        if ((v = opt_value(argc, argv, &i, "--config", &missing)))
            o.config = v;
        else if ((v = opt_value(argc, argv, &i, "--engine", &missing)))
            o.engine = v;
        else if ((v = opt_value(argc, argv, &i, "--link", &missing)))
            o.link = v;
        else if ((v = opt_value(argc, argv, &i, "--chip", &missing)))
            o.chip = v;
        else if ((v = opt_value(argc, argv, &i, "--serial", &missing)))
            o.serial = v;
        else if ((v = opt_value(argc, argv, &i, "--trace", &missing)))
            o.trace_path = v;
        else if ((v = opt_value(argc, argv, &i, "--fault", &missing)))
            faults[o.nfaults++] = v;
        else if ((v = opt_value(argc, argv, &i, "--bus", &missing)) ||
                 (v = opt_value(argc, argv, &i, "--addr", &missing)) ||
                 (v = opt_value(argc, argv, &i, "--park-us", &missing))) {
            const int bus = !strncmp(a, "--bus", 5), addr = !strncmp(a, "--addr", 6);
            uint64_t n;
            if (arg_u64("vboard", bus ? "--bus" : addr ? "--addr" : "--park-us", v, 0, bus || addr ? 1 : 0,
                        bus ? 255 : addr ? 127 : 1000000,
                        bus ? "a bus number 1..255" : addr ? "a device address 1..127" : "microseconds 0..1000000",
                        &n)) {
                free(faults);
                return 2;
            }
            if (bus)
                o.bus = (unsigned)n;
            else if (addr)
                o.addr = (unsigned)n;
            else
                o.park_us = n ? (unsigned)n : (unsigned)-1;
        } else {
            fprintf(stderr, "tern vboard: %s '%s'\n", missing ? "missing value for" : "unknown option", a);
            help(stderr);
            free(faults);
            return 2;
        }
    }
    if (i >= argc) {
        fprintf(stderr, "tern vboard: no command given (tern vboard [options] -- COMMAND [ARGS...])\n");
        free(faults);
        return 2;
    }
    o.faults = faults;
    rc = tern_vboard_run(&o, argv + i, &status, err, sizeof err);
    free(faults);
    if (rc) {
        fprintf(stderr, "tern vboard: %s\n", err);
        return rc == TERN_E_NOTFOUND && status == 127 ? 127 : 125;
    }
    return status;
}
