/* tern_vboard.h — the virtual board: an emulated USB FTDI bridge chip (FT2232H or FT232H) that
 * unmodified libusb-1.0 programs see through umockdev (LD_PRELOAD=libumockdev-preload.so.0), with
 * the board RTL under Verilator, the ref model or a loopback behind it. `tern vboard` runs a
 * command against it. Errors are TERN_E_* codes (tern/tern.h) with a message in err. */
#ifndef TERN_VBOARD_H
#define TERN_VBOARD_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

struct tern_vboard_opts {
    const char *config;       /* configuration (tiny, default, ...); NULL: "default" for rtl and ref;
                                 the loopback takes only its link from it */
    const char *engine;       /* "rtl" (NULL), "ref" or "loopback" */
    const char *trace_path;   /* rtl: FST waveform of the board, or NULL */
    const char *serial;       /* iSerialNumber; NULL: "TERNVB01" */
    const char *const *faults; /* fault specs (see tern_vboard_fault_help()) */
    size_t nfaults;
    int verbose;              /* 0 quiet, 1 set-up, requests, faults and the summary, 2 every ioctl */
    unsigned bus, addr;       /* USB bus number and device address; 0: 1 and 2 */
    const char *link;         /* "uart" or "fifo245": the loopback's link; NULL: the config's link
                                 when config is given, else uart */
    const char *chip;         /* "ft2232h" or "ft232h"; NULL: FT2232H for a UART link (FPGA on
                                 channel B), FT232H for the FIFO */
    unsigned park_us;         /* how long an empty REAPURBNDELAY of a client that moved no data
                                 for 2 ms may wait for a URB to complete before it answers EAGAIN
                                 (spares the CPU libusb's poll loop on the always-ready node would
                                 burn); 0: 500, (unsigned)-1: never wait */
};

/* Build a testbed with one board, run argv (argv[0] looked up in PATH) with LD_PRELOAD (the
 * umockdev preload library in front of any existing LD_PRELOAD) and UMOCKDEV_DIR set, serve the
 * device until the command exits, tear everything down. *child_status: the command's exit
 * status (128 + signal when it was killed by one). The command's environment also carries
 * TERN_VBOARD_DIR, TERN_VBOARD_DEVNODE, TERN_VBOARD_CHIP, TERN_VBOARD_SERIAL and
 * TERN_VBOARD_ENGINE, and passes them and the umockdev variables on to processes it starts.
 * SIGINT / SIGTERM / SIGHUP to the caller are forwarded to the command. The command runs with a
 * 1 ns timer slack (prctl PR_SET_TIMERSLACK, inherited by what it starts): the preload library
 * sleeps usleep(0) after every ioctl, which is the 50 us default slack otherwise.
 * TERN_OK, or an error before or after the command ran. */
int tern_vboard_run(const struct tern_vboard_opts *o, char *const argv[], int *child_status, char *err,
                    size_t errlen);

/* The fault specs, one per line, for --help. */
const char *tern_vboard_fault_help(void);

#ifdef __cplusplus
}
#endif

#endif /* TERN_VBOARD_H */
