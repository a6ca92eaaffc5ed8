// tern_sim_model.cpp — one Verilated tern_top behind tern_sim_detail::model_base. Compiled once per
// configuration into the object library tern_sim_<cfg> (sim/CMakeLists.txt), with
//   TERN_SIM_MODEL_HEADER  "Vtern_top_<cfg>.h"   the Verilated model's header
//   TERN_SIM_MODEL_CLASS   Vtern_top_<cfg>       its class
//   TERN_SIM_MODEL_MAKE    tern_sim_make_<cfg>   the factory this file defines
// tern_sim.cpp's table (generated tern_sim_models.h) names the factories of the configurations built.
#include <new>

// Verilator's headers and the generated models are not -Wextra clean; our own code is.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include <verilated.h>
#if VM_TRACE_FST
#include <verilated_fst_c.h>
#endif
#include TERN_SIM_MODEL_HEADER
#pragma GCC diagnostic pop

#include "tern_sim_model.h"
#include "tern_vl.h"

namespace {

using tern_sim_detail::model_base;

template <class M> class model final : public model_base {
  public:
    model(uint32_t seed, bool trace) : h_(seed, trace, "tern_top") {}
    void drive(bool rst_n, bool in_valid, uint8_t in_data, bool out_ready) override
    {
        M *top = h_.top();
        top->clk_i = 0;
        top->rst_ni = rst_n;
        top->in_valid_i = in_valid;
        top->in_data_i = in_data;
        top->out_ready_i = out_ready;
        top->eval();
    }
    void posedge() override
    {
        h_.top()->clk_i = 1;
        h_.top()->eval();
    }
    bool in_ready() const override { return h_.top()->in_ready_o; }
    bool out_valid() const override { return h_.top()->out_valid_o; }
    uint8_t out_data() const override { return h_.top()->out_data_o; }
    bool idle() const override { return h_.top()->idle_o; }
    bool open_trace(const char *path) override { return h_.open_trace(path); }
    void dump(uint64_t t) override { h_.dump(t); }

  private:
    tern_vl::holder<M> h_;
};

} // namespace

tern_sim_detail::model_base *TERN_SIM_MODEL_MAKE(uint32_t seed, bool trace);
tern_sim_detail::model_base *TERN_SIM_MODEL_MAKE(uint32_t seed, bool trace)
{
    return new (std::nothrow) model<TERN_SIM_MODEL_CLASS>(seed, trace);
}
