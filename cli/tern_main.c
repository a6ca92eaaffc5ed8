/* tern_main.c — the `tern` command: dispatches to its subcommands. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "tern/tern.h"

struct command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv);
};

static const struct command commands[] = {
    {"info", "open a device and print the configuration it reports, and its counters", cmd_info},
    {"selftest", "run known ternary products on a device and compare them with a scalar oracle", cmd_selftest},
    {"generate", "generate text with a ternary model, every ternary product on the device", cmd_generate},
    {"eval", "score a text with a ternary model: perplexity, NLL, top-1 agreement", cmd_eval},
    {"model", "inspect a ternary checkpoint, or write a synthetic one (and a tokenizer)", cmd_model},
#ifdef TERN_HAVE_USB
    {"devices", "list the boards on USB and what each accelerator reports", cmd_devices},
#endif
#ifdef TERN_HAVE_VBOARD
    {"vboard", "run a command against a virtual board: an emulated USB FTDI bridge with the RTL behind it", cmd_vboard},
#endif
};

static void usage(FILE *f)
{
    fprintf(f, "usage: tern <command> [options]   (tern <command> --help for its options)\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\ndevices are named by URI: ref, ref:config=tiny, sim:config=default, usb:serial=X\n(see docs/ARCHITECTURE.md and docs/guide-boards.md)\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("tern 0.1.0\n");
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "tern: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
