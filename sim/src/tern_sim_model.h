// tern_sim_model.h — internal to sim/: one clock cycle of a Verilated tern_top behind a class that
// does not depend on the configuration. tern_sim.cpp drives a model through model_base only;
// tern_sim_model.cpp, compiled once per Verilated configuration (object library tern_sim_<cfg>),
// instantiates model<Vtern_top_<cfg>> and exports its factory tern_sim_make_<cfg>. So adding or
// changing one configuration's model recompiles that model's objects and nothing else.
#ifndef TERN_SIM_MODEL_H
#define TERN_SIM_MODEL_H

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace tern_sim_detail {

// One clock cycle of a Verilated tern_top, whatever its configuration (its class differs).
class model_base {
  public:
    virtual ~model_base() = default;
    // Drive the inputs for this cycle with the clock low, and settle.
    virtual void drive(bool rst_n, bool in_valid, uint8_t in_data, bool out_ready) = 0;
    virtual void posedge() = 0;
    virtual bool in_ready() const = 0;
    virtual bool out_valid() const = 0;
    virtual uint8_t out_data() const = 0;
    virtual bool idle() const = 0;
    virtual bool open_trace(const char *path) = 0;
    virtual void dump(uint64_t t) = 0;
};

// A new model (nullptr when out of memory; may throw std::bad_alloc). seed and trace as in
// tern_vl::holder.
typedef model_base *(*model_factory)(uint32_t seed, bool trace);

// name is one of the space-separated words of list (the generated lists of configurations).
inline bool in_words(const char *list, const char *name)
{
    const size_t n = std::strlen(name);
    for (const char *p = list; *p;) {
        while (*p == ' ')
            p++;
        const char *e = p;
        while (*e && *e != ' ')
            e++;
        if (e > p && static_cast<size_t>(e - p) == n && std::strncmp(p, name, n) == 0)
            return true;
        p = e;
    }
    return false;
}

} // namespace tern_sim_detail

#endif // TERN_SIM_MODEL_H
