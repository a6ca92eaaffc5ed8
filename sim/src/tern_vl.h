// tern_vl.h — internal to sim/: what every Verilated model of the tern_sim library shares: its own
// VerilatedContext with the initial-state policy of a seed, the model, and the optional FST trace.
// Used by tern_sim.cpp (tern_top) and tern_board_sim.cpp (the board tops). Include after
// <verilated.h> (and <verilated_fst_c.h> when VM_TRACE_FST).
#ifndef TERN_SIM_VL_H
#define TERN_SIM_VL_H

#include <cstdint>

namespace tern_vl {

// One Verilated top module M in a context of its own (handles are independent: no global state).
template <class M> class holder {
  public:
    // seed 0: every register and memory starts at zero; else a random initial state from the seed
    // (+verilator+rand+reset+2, reproducible). trace: the model may open an FST file later.
    // `name` is the top scope's name in the trace. May throw std::bad_alloc.
    holder(uint32_t seed, bool trace, const char *name) : ctx_(new VerilatedContext)
    {
        if (seed) {
            const int v = static_cast<int>(seed & 0x7fffffff);
            ctx_->randReset(2);
            ctx_->randSeed(v ? v : 1); // 0 would mean "pick one": keep it reproducible
        } else {
            ctx_->randReset(0);
        }
        if (trace)
            ctx_->traceEverOn(true);
        try {
            top_ = new M(ctx_, name);
        } catch (...) {
            delete ctx_;
            throw;
        }
    }
    ~holder()
    {
        top_->final();
#if VM_TRACE_FST
        if (tfp_) {
            tfp_->close();
            delete tfp_;
        }
#endif
        delete top_;
        delete ctx_;
    }
    holder(const holder &) = delete;
    holder &operator=(const holder &) = delete;

    M *top() const { return top_; }

    // Start the FST file; false when tracing is not compiled in or the file cannot be opened.
    bool open_trace(const char *path)
    {
#if VM_TRACE_FST
        tfp_ = new VerilatedFstC;
        top_->trace(tfp_, 99);
        tfp_->open(path);
        return tfp_->isOpen();
#else
        (void)path;
        return false;
#endif
    }
    // Dump the signals at time t (half clock cycles) if a trace is open.
    void dump(uint64_t t)
    {
#if VM_TRACE_FST
        if (tfp_)
            tfp_->dump(t);
#else
        (void)t;
#endif
    }

  private:
    VerilatedContext *ctx_;
    M *top_ = nullptr;
#if VM_TRACE_FST
    VerilatedFstC *tfp_ = nullptr;
#endif
};

} // namespace tern_vl

#endif // TERN_SIM_VL_H
