/* sim_link.c — the `sim` backend: the protocol client's bytes go into the cycle-accurate Verilated RTL
 * (sim/), clocked as an ideal host until the device has answered and is idle again. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tern/tern_sim.h"
#include "tern_link.h"

/* No single command can keep a correct device busy this long: a RUN is at most
 * omem_words * amem_words issue cycles, a frame at most a few max_payloads of bytes. */
#define SIM_MAX_CYCLES_PER_COMMAND (1ull << 31)

static int sim_send(void *ctx, const uint8_t *buf, size_t len, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    tern_sim_push(ctx, buf, len);
    return TERN_OK;
}

static int sim_recv(void *ctx, uint8_t *buf, size_t cap, size_t *got, unsigned timeout_ms, char *err, size_t errlen)
{
    (void)timeout_ms; /* simulated time, not wall time, bounds the wait */
    *got = tern_sim_pull(ctx, buf, cap);
    if (*got)
        return TERN_OK;
    if (tern_sim_run_until_quiet(ctx, SIM_MAX_CYCLES_PER_COMMAND) != TERN_OK) {
        snprintf(err, errlen, "sim: the device did not go idle within %llu cycles",
                 (unsigned long long)SIM_MAX_CYCLES_PER_COMMAND);
        return TERN_E_TIMEOUT;
    }
    *got = tern_sim_pull(ctx, buf, cap);
    return TERN_OK;
}

static void sim_close(void *ctx)
{
    tern_sim_destroy(ctx);
}

static const struct tern_link_ops sim_ops = {sim_send, sim_recv, sim_close};

int tern_sim_link_open(struct tern_uri *uri, struct tern_link *out, char *err, size_t errlen)
{
    const char *name = tern_uri_get(uri, "config");
    const char *trace = tern_uri_get(uri, "trace");
    const char *seed_s = tern_uri_get(uri, "seed");
    struct tern_sim_opts opts = {trace, 0};
    tern_sim *sim;
    char why[512];
    int rc;

    if (!name)
        name = "default";
    if (seed_s) {
        char *end;
        unsigned long v = strtoul(seed_s, &end, 0);
        if (!*seed_s || *end || v > 0xFFFFFFFFul) {
            snprintf(err, errlen, "sim: seed '%s' is not a 32-bit number", seed_s);
            return TERN_E_INVAL;
        }
        opts.seed = (uint32_t)v;
    }
    rc = tern_uri_check_used(uri, err, errlen);
    if (rc)
        return rc;
    rc = tern_sim_check_config(name, why, sizeof why); /* unknown, or not Verilated in this build */
    if (rc) {
        snprintf(err, errlen, "sim: %s", why);
        return rc;
    }
    if (trace && !tern_sim_has_trace()) {
        snprintf(err, errlen, "sim: trace=%s: this build has no waveform support (configured with "
                 "-DTERN_SIM_TRACE=OFF; reconfigure with -DTERN_SIM_TRACE=ON)", trace);
        return TERN_E_UNSUPPORTED;
    }
    rc = tern_sim_create(name, &opts, &sim);
    if (rc) {
        snprintf(err, errlen, "sim: cannot create the '%s' simulator%s%s: %s", name, trace ? " with trace " : "",
                 trace ? trace : "", tern_strerror(rc));
        return rc;
    }
    out->ops = &sim_ops;
    out->ctx = sim;
    out->timeout_ms = 0;
    out->resync_on_open = 0;
    return TERN_OK;
}
