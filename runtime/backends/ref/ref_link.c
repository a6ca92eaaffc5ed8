/* ref_link.c — the `ref` backend: the protocol client's bytes go straight into the C reference model. */
#include <stdio.h>
#include <stdlib.h>

#include "tern_link.h"
#include "tern_refdev.h"

static int ref_send(void *ctx, const uint8_t *buf, size_t len, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    tern_refdev_push(ctx, buf, len);
    return TERN_OK;
}

static int ref_recv(void *ctx, uint8_t *buf, size_t cap, size_t *got, unsigned timeout_ms, char *err, size_t errlen)
{
    (void)timeout_ms; /* the model answers at once or never */
    (void)err;
    (void)errlen;
    *got = tern_refdev_pull(ctx, buf, cap);
    return TERN_OK;
}

static void ref_close(void *ctx)
{
    tern_refdev_destroy(ctx);
}

static const struct tern_link_ops ref_ops = {ref_send, ref_recv, ref_close};

int tern_ref_link_open(struct tern_uri *uri, struct tern_link *out, char *err, size_t errlen)
{
    const char *name = tern_uri_get(uri, "config");
    const struct tern_hwcfg *cfg;
    tern_refdev *dev;
    int rc;

    if (!name)
        name = "default";
    cfg = tern_hwcfg_find(name);
    if (!cfg) {
        int n = snprintf(err, errlen, "ref: no configuration '%s' (known:", name);
        for (size_t i = 0; tern_hwcfg_at(i) && n > 0 && (size_t)n < errlen; i++)
            n += snprintf(err + n, errlen - (size_t)n, " %s", tern_hwcfg_at(i)->name);
        if (n > 0 && (size_t)n < errlen)
            snprintf(err + n, errlen - (size_t)n, ")");
        return TERN_E_NOTFOUND;
    }
    rc = tern_uri_check_used(uri, err, errlen);
    if (rc)
        return rc;
    rc = tern_refdev_create(cfg, &dev);
    if (rc) {
        snprintf(err, errlen, "ref: cannot create the '%s' model: %s", name, tern_strerror(rc));
        return rc;
    }
    out->ops = &ref_ops;
    out->ctx = dev;
    out->timeout_ms = 0;
    out->resync_on_open = 0;
    return TERN_OK;
}
