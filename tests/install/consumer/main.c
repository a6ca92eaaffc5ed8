/* main.c — the smallest program that uses an installed libtern: open the reference model, ping it. */
#include <stdio.h>
#include <string.h>

#include <tern/tern.h>

int main(void) {
    const char *msg = tern_strerror(TERN_E_INVAL);
    if (msg == NULL || msg[0] == '\0') {
        fprintf(stderr, "tern_strerror(-1) returned an empty string\n");
        return 1;
    }
    tern_dev *d = NULL;
    int rc = tern_dev_open("ref:config=tiny", &d);
    if (rc != TERN_OK) {
        fprintf(stderr, "tern_dev_open(ref:config=tiny): %s\n", tern_strerror(rc));
        return 1;
    }
    rc = tern_dev_ping(d);
    if (rc != TERN_OK) {
        fprintf(stderr, "tern_dev_ping: %s (%s)\n", tern_strerror(rc), tern_dev_last_error(d));
        tern_dev_close(d);
        return 1;
    }
    const struct tern_config *cfg = tern_dev_config(d);
    if (cfg == NULL || strcmp(cfg->name, "tiny") != 0) {
        fprintf(stderr, "tern_dev_config: expected configuration \"tiny\"\n");
        tern_dev_close(d);
        return 1;
    }
    unsigned lanes = cfg->lanes, width = cfg->width;
    tern_dev_close(d);
    printf("OK (tern_strerror(-1) = \"%s\"; ref:config=tiny answers PING, %u lanes x %u)\n", msg, lanes,
           width);
    return 0;
}
