/* tern_refdev.h — the reference accelerator: a pure-C, bit-exact and cycle-counted model of the
 * device that consumes command frames and produces response frames (ARCHITECTURE.md). */
#ifndef TERN_REFDEV_H
#define TERN_REFDEV_H

#include <stddef.h>
#include <stdint.h>

#include "tern_hwcfg.h"

typedef struct tern_refdev tern_refdev;

/* The generated configuration table (tern_hwconfigs.h), looked up by name; NULL if unknown. */
const struct tern_hwcfg *tern_hwcfg_find(const char *name);
/* The i-th known configuration, NULL past the end. */
const struct tern_hwcfg *tern_hwcfg_at(size_t i);

int tern_refdev_create(const struct tern_hwcfg *cfg, tern_refdev **out);
void tern_refdev_destroy(tern_refdev *dev); /* NULL is fine */

/* Offer bytes as an ideal host: every byte is taken and every frame it completes is executed
 * at once; responses queue until pulled (the host is taken to accept them at once). */
void tern_refdev_push(tern_refdev *dev, const uint8_t *data, size_t len);
/* Take up to cap queued response bytes; returns how many. */
size_t tern_refdev_pull(tern_refdev *dev, uint8_t *buf, size_t cap);
size_t tern_refdev_pending(const tern_refdev *dev);
/* The host offers nothing for this many cycles (STALL_RX inside a frame, idle in HUNT). */
void tern_refdev_idle(tern_refdev *dev, uint64_t cycles);

/* Inspection for tests (not part of the protocol). */
const struct tern_hwcfg *tern_refdev_hwcfg(const tern_refdev *dev);
void tern_refdev_counters(const tern_refdev *dev, uint64_t *out); /* TERN_NUM_COUNTERS values */
const uint8_t *tern_refdev_wmem(const tern_refdev *dev, size_t *bytes);
const uint8_t *tern_refdev_amem(const tern_refdev *dev, size_t *bytes);
/* Output entry i, sign-extended from acc_width bits. */
int32_t tern_refdev_omem_entry(const tern_refdev *dev, size_t i);
size_t tern_refdev_omem_entries(const tern_refdev *dev);
int tern_refdev_in_frame(const tern_refdev *dev); /* 1 if the receiver is inside a frame */

#endif /* TERN_REFDEV_H */
