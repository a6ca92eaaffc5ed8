/* tern_link.h — the byte link under the protocol client: what every backend provides (internal).
 * ref and sim deliver bytes to a device model; usb to a board through the driver. */
#ifndef TERN_LINK_H
#define TERN_LINK_H

#include <stddef.h>
#include <stdint.h>

#include "tern/tern.h"
#include "tern_uri.h"

struct tern_link_ops {
    /* Send len bytes; 0 or a negative TERN_E_* code (detail in err). */
    int (*send)(void *ctx, const uint8_t *buf, size_t len, char *err, size_t errlen);
    /* Receive up to cap bytes, waiting at most timeout_ms for the first one; *got = 0 means
     * nothing arrived in time (for device models: the device is quiet). */
    int (*recv)(void *ctx, uint8_t *buf, size_t cap, size_t *got, unsigned timeout_ms, char *err, size_t errlen);
    void (*close)(void *ctx);
};

struct tern_link {
    const struct tern_link_ops *ops;
    void *ctx;
    unsigned timeout_ms; /* per response */
    int resync_on_open;  /* send the resynchronisation filler before the first command */
};

/* Open a device over a link already made (takes ownership of it, closing it on failure too).
 * Used by the backends and by tests that put a fault-injecting shim in between. */
int tern_dev_open_link(const struct tern_link *link, tern_dev **out, char *err, size_t errlen);

/* Backends. */
int tern_ref_link_open(struct tern_uri *uri, struct tern_link *out, char *err, size_t errlen);
int tern_sim_link_open(struct tern_uri *uri, struct tern_link *out, char *err, size_t errlen);
int tern_usb_link_open(struct tern_uri *uri, struct tern_link *out, char *err, size_t errlen);

#endif /* TERN_LINK_H */
