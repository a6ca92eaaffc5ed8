/* tern_sim.h — the Verilated RTL as a C library: one cycle-accurate device per handle, an ideal host.
 * The configurations of configs/ chosen at configure time (-DTERN_SIM_CONFIGS, default: all) are
 * built in, one Verilated model each; handles are independent, so several simulators may live in
 * one process. Error codes are the TERN_E_* of tern/tern.h. */
#ifndef TERN_SIM_H
#define TERN_SIM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tern_sim tern_sim; /* one simulated accelerator */

struct tern_sim_opts {
    const char *trace_path; /* FST waveform file to write, or NULL */
    uint32_t seed;          /* 0: all-zero initial state; else random initial state from this seed */
};

/* Build a device of configuration `config` ("tiny", ...) and hold it in reset for a few cycles.
 * opts may be NULL (no trace, seed 0). Returns TERN_OK, TERN_E_NOTFOUND for a configuration not
 * built in (tern_sim_check_config says why), TERN_E_INVAL for NULL arguments, TERN_E_UNSUPPORTED
 * for a trace when the library has no waveform support (tern_sim_has_trace), TERN_E_IO when the
 * trace cannot be opened or TERN_E_NOMEM. */
int tern_sim_create(const char *config, const struct tern_sim_opts *opts, tern_sim **out);
void tern_sim_destroy(tern_sim *s); /* NULL is fine; closes the trace */

/* Queue bytes for the device; the ideal host offers the next queued byte every cycle. */
void tern_sim_push(tern_sim *s, const uint8_t *data, size_t len);
/* Take up to cap bytes the device has sent (the ideal host accepts a byte every cycle). */
size_t tern_sim_pull(tern_sim *s, uint8_t *buf, size_t cap);
/* Bytes queued for the device and not yet taken by it. */
size_t tern_sim_pending_in(const tern_sim *s);
/* Step until every queued byte is taken and the device is idle in HUNT with no response
 * pending. Returns TERN_OK, or TERN_E_TIMEOUT once max_cycles cycles passed without that. */
int tern_sim_run_until_quiet(tern_sim *s, uint64_t max_cycles);
/* Step this many cycles with no byte offered (output is still accepted). */
void tern_sim_idle(tern_sim *s, uint64_t cycles);
/* Step exactly this many cycles as the ideal host (offering queued bytes). */
void tern_sim_step(tern_sim *s, uint64_t cycles);
/* Make the host less than ideal, to exercise stalls: on each cycle it offers the next queued byte
 * with probability in_pct/100 and accepts an offered response byte with probability out_pct/100
 * (a pseudo-random sequence from seed). 100, 100 is the ideal host (the default). */
void tern_sim_set_host(tern_sim *s, unsigned in_pct, unsigned out_pct, uint32_t seed);
/* Clock cycles since reset was released. */
uint64_t tern_sim_cycles(const tern_sim *s);
/* 1 when the device's receiver is in HUNT and no response is pending (the idle_o port). */
int tern_sim_device_idle(const tern_sim *s);
/* The configuration this handle simulates. */
const char *tern_sim_config(const tern_sim *s);

/* The configurations built into this library: fills up to cap names, returns how many exist. */
int tern_sim_config_names(const char **names, size_t cap);
/* TERN_OK when `config` is built into this library. Otherwise TERN_E_NOTFOUND (TERN_E_INVAL for
 * NULL) and a message in err: either no configuration of that name exists in configs/ (they are
 * listed), or it exists but was not Verilated into this build (the ones that were are listed, with
 * the CMake option -DTERN_SIM_CONFIGS that chooses them). */
int tern_sim_check_config(const char *config, char *err, size_t errlen);
/* 1 when FST waveforms can be written (built with -DTERN_SIM_TRACE=ON, the default), else 0. */
int tern_sim_has_trace(void);

#ifdef __cplusplus
}
#endif
#endif /* TERN_SIM_H */
