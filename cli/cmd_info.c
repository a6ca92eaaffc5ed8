/* cmd_info.c — `tern info`: what a device reports in its ID registers, and its counters. */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>

#include "args.h"
#include "commands.h"
#include "report.h"

static void help(FILE *f)
{
    fprintf(f, "usage: tern info [--backend URI] [--json FILE]\n"
               "  Opens the device, reads its configuration from its ID registers and prints it with\n"
               "  the device counters.\n"
               "  --backend URI   device to open (default: ref)\n"
               "  --json FILE     also write the report as JSON ('-': stdout, which then holds\n"
               "                  only the JSON; the report goes to stderr)\n");
}

int cmd_info(int argc, char **argv)
{
    static const struct option opts[] = {
        {"backend", required_argument, 0, 'b'}, {"json", required_argument, 0, 'j'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *uri = "ref", *json = NULL;
    char err[512];
    struct tern_counters cnt;
    tern_dev *dev;
    struct report_file rep;
    int c, rc;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":b:j:h", opts, NULL)) != -1) {
        switch (c) {
        case 'b': uri = optarg; break;
        case 'j': json = optarg; break;
        case 'h': help(stdout); return 0;
        default: return arg_bad_option("info", c, argv);
        }
    }
    if (optind < argc) {
        fprintf(stderr, "tern info: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (report_open(&rep, "info", json))
        return 1;
    rc = tern_dev_open_ex(uri, &dev, err, sizeof err);
    if (rc) {
        fprintf(stderr, "tern info: cannot open '%s': %s: %s\n", uri, tern_strerror(rc), err);
        report_discard(&rep);
        return 1;
    }
    rc = tern_dev_read_counters(dev, &cnt);
    if (rc) {
        fprintf(stderr, "tern info: %s: %s\n", tern_strerror(rc), tern_dev_last_error(dev));
        report_discard(&rep);
        tern_dev_close(dev);
        return 1;
    }
    report_config_text(report_human(json), tern_dev_config(dev));
    report_counters_text(report_human(json), &cnt, tern_dev_config(dev));
    if (rep.f) {
        struct json_out j;
        json_begin(&j, rep.f);
        json_str(&j, "device", uri);
        report_config_json(&j, "config", tern_dev_config(dev));
        report_counters_json(&j, "counters", &cnt);
        json_finish(&j);
        rc = report_close(&rep, "info");
    }
    tern_dev_close(dev);
    return rc ? 1 : 0;
}
