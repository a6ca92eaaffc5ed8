/* cmd_devices.c — `tern devices`: the boards the usb backend can see (USB bridge chips of the
 * known kinds), and for each what the accelerator behind it reports in its ID registers. */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "commands.h"
#include "report.h"
#include "tern/tern_usb.h"

#define MAX_BOARDS 32

static void help(FILE *f)
{
    fprintf(f, "usage: tern devices [--match URI] [--no-open] [--json FILE]\n"
               "  Lists the USB bridge chips of the kinds tern boards use (FTDI 0403:6001/6010/6011/6014/\n"
               "  6015), then opens each through the usb backend and prints the configuration its\n"
               "  accelerator reports (ID registers). A board that cannot be opened is listed with\n"
               "  the reason (permissions: see docs/guide-boards.md).\n"
               "  --match URI   only boards this usb URI selects, e.g. usb:serial=X or usb:vid=0403,pid=6010;\n"
               "                its link options (link=, baud=, interface=) are used to open them\n"
               "  --no-open     descriptors only: do not talk to the FPGA\n"
               "  --json FILE   also write the list as JSON ('-': stdout, which then holds only\n"
               "                the JSON; the list goes to stderr)\n"
               "Exit status: 0 when at least one board answered (or, with --no-open, was seen), 1 otherwise.\n");
}

/* The URI of one board: its bus position plus the link options of --match. */
static void board_uri(char *out, size_t cap, const struct tern_usb_info *b, const char *link_opts)
{
    snprintf(out, cap, "usb:bus=%u,addr=%u%s%s", b->bus, b->addr, link_opts[0] ? "," : "", link_opts);
}

/* Split a --match URI into the match (vid, pid, serial, bus, addr) and the remaining link options. */
static int parse_match(const char *uri, struct tern_usb_match *m, char *serial, size_t serial_cap, char *link_opts,
                       size_t link_cap)
{
    const char *p;
    size_t w = 0;

    if (strncmp(uri, "usb", 3) || (uri[3] && uri[3] != ':')) {
        fprintf(stderr, "tern devices: --match wants a usb URI (usb:serial=..., usb:vid=0403,pid=6010), not '%s'\n",
                uri);
        return -1;
    }
    link_opts[0] = 0;
    p = uri[3] ? uri + 4 : uri + 3;
    while (*p) {
        char key[32], val[128];
        const char *eq = strchr(p, '='), *end = strchr(p, ',');
        if (!end)
            end = p + strlen(p);
        if (!eq || eq > end || (size_t)(eq - p) >= sizeof key || (size_t)(end - eq - 1) >= sizeof val) {
            fprintf(stderr, "tern devices: malformed option in '%s'\n", uri);
            return -1;
        }
        memcpy(key, p, (size_t)(eq - p));
        key[eq - p] = 0;
        memcpy(val, eq + 1, (size_t)(end - eq - 1));
        val[end - eq - 1] = 0;
        if (!strcmp(key, "vid") || !strcmp(key, "pid") || !strcmp(key, "bus") || !strcmp(key, "addr")) {
            const int hex = key[0] == 'v' || key[0] == 'p';
            const uint64_t max = hex ? 0xFFFF : key[0] == 'b' ? 255 : 127;
            char opt[48];
            uint64_t v;
            snprintf(opt, sizeof opt, "--match %s", key);
            if (arg_u64("devices", opt, val, hex ? 16 : 10, hex ? 1 : 0, max,
                        hex ? "hexadecimal 1..ffff" : key[0] == 'b' ? "a bus number 0..255" : "an address 0..127",
                        &v))
                return -1;
            *(key[0] == 'v' ? &m->vid : key[0] == 'p' ? &m->pid : key[0] == 'b' ? &m->bus : &m->addr) = (int)v;
        } else if (!strcmp(key, "serial")) {
            snprintf(serial, serial_cap, "%s", val);
            m->serial = serial;
        } else {
            int n = snprintf(link_opts + w, link_cap - w, "%s%s=%s", w ? "," : "", key, val);
            if (n < 0 || (size_t)n >= link_cap - w) {
                fprintf(stderr, "tern devices: --match has too many options\n");
                return -1;
            }
            w += (size_t)n;
        }
        p = *end ? end + 1 : end;
    }
    return 0;
}

int cmd_devices(int argc, char **argv)
{
    static const struct option opts[] = {{"match", required_argument, 0, 'm'},
                                         {"no-open", no_argument, 0, 'n'},
                                         {"json", required_argument, 0, 'j'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    struct tern_usb_match m = TERN_USB_MATCH_ANY;
    struct tern_usb_info boards[MAX_BOARDS];
    char serial[128], link_opts[256] = "", err[512];
    const char *json = NULL;
    int no_open = 0, answered = 0, c, rc;
    tern_usb *ctx = NULL;
    size_t count = 0, shown;
    struct report_file rep;
    FILE *jf;
    struct json_out j;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":m:nj:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm':
            if (parse_match(optarg, &m, serial, sizeof serial, link_opts, sizeof link_opts))
                return 2;
            break;
        case 'n': no_open = 1; break;
        case 'j': json = optarg; break;
        case 'h': help(stdout); return 0;
        default: return arg_bad_option("devices", c, argv);
        }
    }
    if (optind < argc) {
        fprintf(stderr, "tern devices: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    FILE *out = report_human(json);
    if (report_open(&rep, "devices", json))
        return 1;
    jf = rep.f;
    rc = tern_usb_new(&ctx, err, sizeof err);
    if (rc) {
        fprintf(stderr, "tern devices: %s: %s\n", tern_strerror(rc), err);
        report_discard(&rep);
        return 1;
    }
    rc = tern_usb_list(ctx, &m, boards, MAX_BOARDS, &count, err, sizeof err);
    tern_usb_free(ctx); /* each board is opened through the backend, with its own context */
    if (rc) {
        fprintf(stderr, "tern devices: %s: %s\n", tern_strerror(rc), err);
        report_discard(&rep);
        return 1;
    }
    if (jf) {
        json_begin(&j, jf);
        json_array(&j, "boards");
    }
    shown = count < MAX_BOARDS ? count : MAX_BOARDS;
    if (!count)
        fprintf(out, "no board found (looked for FTDI bridges 0403:6001/6010/6011/6014/6015%s)\n",
                m.vid >= 0 || m.serial || m.bus >= 0 ? " matching --match" : "");
    for (size_t i = 0; i < shown; i++) {
        const struct tern_usb_info *b = &boards[i];
        char uri[384];
        tern_dev *dev = NULL;

        board_uri(uri, sizeof uri, b, link_opts);
        fprintf(out, "%s  %04x:%04x %s", uri, b->vid, b->pid, b->chip);
        if (b->strings_read)
            fprintf(out, "  \"%s\" \"%s\" serial %s\n", b->manufacturer, b->product,
                    b->serial[0] ? b->serial : "-");
        else
            fprintf(out, "  (%s)\n", b->note);
        if (jf) {
            json_object(&j, NULL);
            json_str(&j, "uri", uri);
            json_u64(&j, "bus", b->bus);
            json_u64(&j, "addr", b->addr);
            json_u64(&j, "vid", b->vid);
            json_u64(&j, "pid", b->pid);
            json_str(&j, "chip", b->chip);
            json_bool(&j, "strings_read", b->strings_read);
            json_str(&j, "manufacturer", b->manufacturer);
            json_str(&j, "product", b->product);
            json_str(&j, "serial", b->serial);
            if (!b->strings_read)
                json_str(&j, "note", b->note);
        }
        if (no_open) {
            answered++;
        } else {
            rc = tern_dev_open_ex(uri, &dev, err, sizeof err);
            if (rc) {
                fprintf(out, "    no accelerator answered: %s: %s\n", tern_strerror(rc), err);
                if (jf)
                    json_str(&j, "error", err);
            } else {
                const struct tern_config *cfg = tern_dev_config(dev);
                report_config_text(out, cfg);
                if (jf)
                    report_config_json(&j, "config", cfg);
                answered++;
                tern_dev_close(dev);
            }
        }
        if (jf)
            json_end_object(&j);
    }
    if (count > shown)
        fprintf(out, "... and %zu more\n", count - shown);
    if (jf) {
        json_end_array(&j);
        json_u64(&j, "count", count);
        json_finish(&j);
        if (report_close(&rep, "devices"))
            return 1;
    }
    return answered ? 0 : 1;
}
