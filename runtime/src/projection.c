/* projection.c — tokens per second of the hardware, projected from device counters and a link
 * rate (the formula of ARCHITECTURE.md section 8; the CLI summaries and the benchmarks use it). */
#include <string.h>

#include "tern/tern.h"

void tern_project(const struct tern_config *c, const struct tern_counters *a, const struct tern_counters *b,
                  uint64_t tokens, uint32_t link_bytes_per_s, struct tern_projection *out)
{
    double tok = tokens ? (double)tokens : 1.0;
    double link = link_bytes_per_s ? (double)link_bytes_per_s : (double)c->link_bytes_per_s;
    double cycles = (double)(b->cycles - a->cycles);
    double busy = (double)((b->cyc_compute - a->cyc_compute) + (b->cyc_pipe - a->cyc_pipe) +
                           (b->cyc_ctrl - a->cyc_ctrl) + (b->cyc_commit - a->cyc_commit));
    double bytes = (double)((b->bytes_in - a->bytes_in) + (b->bytes_out - a->bytes_out));
    double ops = (double)(b->tern_ops - a->tern_ops);
    double per_token_s = busy / tok / c->clock_hz + (link > 0 ? bytes / tok / link : 0);

    memset(out, 0, sizeof *out);
    out->cycles_per_token = cycles / tok;
    out->busy_cycles_per_token = busy / tok;
    out->link_bytes_per_token = bytes / tok;
    out->utilisation = cycles > 0 ? ops / (cycles * c->lanes * c->width) : 0;
    out->compute_bound_tps = busy > 0 ? c->clock_hz / (busy / tok) : 0;
    out->link_bound_tps = bytes > 0 && link > 0 ? link / (bytes / tok) : 0;
    out->projected_tps = per_token_s > 0 ? 1.0 / per_token_s : 0;
}
