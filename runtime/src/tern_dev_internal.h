/* tern_dev_internal.h — the device handle shared by the protocol client and the tiler (internal). */
#ifndef TERN_DEV_INTERNAL_H
#define TERN_DEV_INTERNAL_H

#include <stdarg.h>

#include "tern/tern.h"
#include "tern_link.h"

struct tern_tile;

struct tern_dev {
    struct tern_link link;
    struct tern_config cfg;
    uint16_t seq;
    char err[512];

    uint8_t *tx;        /* one command frame */
    size_t tx_cap;
    uint8_t *rx;        /* received bytes not yet consumed */
    size_t rx_len, rx_cap;
    uint32_t scan_max;  /* largest response payload accepted while scanning */

    struct tern_link_stats link_stats;
    struct tern_tile_stats tile_stats;

    /* residency of weight tiles in WMEM, sorted by wbase */
    struct tern_tile **resident;
    size_t n_resident, cap_resident;
    uint64_t use_clock;
    tern_mat *mats;   /* every matrix of this device, detached when it closes */
    uint8_t *act_buf; /* staging of activations for one RUN group */
    size_t act_cap;
};

/* Record a failure's detail (printf style) and return err. */
int tern_dev_fail(tern_dev *dev, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Evict every tile of a matrix (used when it is freed). */
void tern_residency_drop_mat(tern_dev *dev, const tern_mat *mat);
/* The device is closing: its matrices stay valid for tern_mat_free only. */
void tern_residency_detach_all(tern_dev *dev);

#endif /* TERN_DEV_INTERNAL_H */
