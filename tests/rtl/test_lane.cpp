// test_lane.cpp — tern_lane (WIDTH 8 and 32) against a scalar C oracle: random activations and codes,
// random column masks (masked columns add nothing and their illegal codes are not reported).
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

extern "C" {
#include <cmocka.h> // this cmocka's header has no extern "C" of its own
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "Vtern_lane_w32.h"
#include "Vtern_lane_w8.h"
#include "verilated.h"
#pragma GCC diagnostic pop

#include <vector>

namespace {

struct vec {
    std::vector<int8_t> act;
    std::vector<uint8_t> code;
    std::vector<bool> valid;
};

uint64_t rng_state = 0x1234567;
uint64_t rng()
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void oracle(const vec &v, int &sum, bool &illegal)
{
    sum = 0;
    illegal = false;
    for (size_t e = 0; e < v.act.size(); e++) {
        if (!v.valid[e])
            continue;
        sum += v.code[e] == 1 ? v.act[e] : v.code[e] == 3 ? -v.act[e] : 0;
        illegal |= v.code[e] == 2;
    }
}

int sext(uint32_t x, int bits)
{
    uint32_t m = 1u << (bits - 1);
    x &= (1u << bits) - 1;
    return static_cast<int>(x ^ m) - static_cast<int>(m);
}

// W = 8: act_i is 64 bits, code_i 16, col_valid_i 8, sum_o 12.
int eval8(Vtern_lane_w8 &l, const vec &v, bool &ill)
{
    uint64_t a = 0;
    uint32_t c = 0, m = 0;
    for (int e = 0; e < 8; e++) {
        a |= static_cast<uint64_t>(static_cast<uint8_t>(v.act[e])) << (8 * e);
        c |= static_cast<uint32_t>(v.code[e]) << (2 * e);
        m |= static_cast<uint32_t>(v.valid[e]) << e;
    }
    l.act_i = a;
    l.code_i = c;
    l.col_valid_i = m;
    l.eval();
    ill = l.illegal_o;
    return sext(l.sum_o, 12);
}

// W = 32: act_i is 256 bits (8 words), code_i 64, col_valid_i 32, sum_o 14.
int eval32(Vtern_lane_w32 &l, const vec &v, bool &ill)
{
    uint64_t c = 0;
    uint32_t m = 0;
    for (int w = 0; w < 8; w++)
        l.act_i[w] = 0;
    for (int e = 0; e < 32; e++) {
        l.act_i[e / 4] |= static_cast<uint32_t>(static_cast<uint8_t>(v.act[e])) << (8 * (e % 4));
        c |= static_cast<uint64_t>(v.code[e]) << (2 * e);
        m |= static_cast<uint32_t>(v.valid[e]) << e;
    }
    l.code_i = c;
    l.col_valid_i = m;
    l.eval();
    ill = l.illegal_o;
    return sext(l.sum_o, 14);
}

vec random_vec(int w, int round)
{
    vec v;
    v.act.resize(w);
    v.code.resize(w);
    v.valid.resize(w);
    const int kind = round % 4;
    const int nvalid = static_cast<int>(rng() % (w + 1)); // a K mask: columns < nvalid
    for (int e = 0; e < w; e++) {
        v.act[e] = kind == 0 ? static_cast<int8_t>(-128) : kind == 1 ? 127 : static_cast<int8_t>(rng());
        v.code[e] = static_cast<uint8_t>(rng() & 3);
        if (kind < 2) // extreme sums: all +1 or all -1
            v.code[e] = (round / 4) % 2 ? 3 : 1;
        v.valid[e] = (round % 3 == 0) ? true : (round % 3 == 1) ? e < nvalid : (rng() & 1) != 0;
    }
    return v;
}

template <class L, class F> void run_lane(int w, F eval)
{
    VerilatedContext ctx;
    L lane(&ctx);
    for (int round = 0; round < 20000; round++) {
        vec v = random_vec(w, round);
        int want;
        bool want_ill, got_ill;
        oracle(v, want, want_ill);
        int got = eval(lane, v, got_ill);
        if (got != want || got_ill != want_ill)
            fail_msg("W=%d round %d: sum %d illegal %d, expected %d %d", w, round, got, got_ill, want, want_ill);
    }
    lane.final();
}

void test_lane_w8_random(void **state)
{
    (void)state;
    run_lane<Vtern_lane_w8>(8, eval8);
}

void test_lane_w32_random(void **state)
{
    (void)state;
    run_lane<Vtern_lane_w32>(32, eval32);
}

} // namespace

int main()
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lane_w8_random),
        cmocka_unit_test(test_lane_w32_random),
    };
    return cmocka_run_group_tests_name("tern_lane", tests, nullptr, nullptr);
}
