/* tern_hwcfg.h — an accelerator configuration as a device model sees it (generated table entries).
 * Only device models (ref, the sim wrapper) use this; the runtime reads ID registers instead. */
#ifndef TERN_HWCFG_H
#define TERN_HWCFG_H

#include <stdint.h>
#include <string.h>

struct tern_hwcfg {
    const char *name;
    uint32_t lanes;
    uint32_t width;
    uint32_t acc_width;
    uint32_t max_k;
    uint32_t wmem_words;
    uint32_t amem_words;
    uint32_t omem_words;
    uint32_t max_payload;
    uint32_t clock_hz;
    uint32_t link_kind;
    uint32_t link_bytes_per_s;
    uint32_t run_setup;
    uint32_t run_drain;
};

#endif /* TERN_HWCFG_H */
