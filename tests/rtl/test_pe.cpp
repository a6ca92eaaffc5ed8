// test_pe.cpp — tern_pe exhaustively: the four codes against every int8 activation (edges -128, 0, 127
// included): 01 adds, 11 subtracts, 00 and 10 add nothing, 10 raises illegal_o.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

extern "C" {
#include <cmocka.h> // this cmocka's header has no extern "C" of its own
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "Vtern_pe.h"
#include "verilated.h"
#pragma GCC diagnostic pop

namespace {

int term_of(Vtern_pe &pe)
{
    int v = pe.term_o & 0x1FF; // 9-bit two's complement
    return v >= 256 ? v - 512 : v;
}

void check(Vtern_pe &pe, int code, int act)
{
    pe.code_i = static_cast<uint8_t>(code);
    pe.act_i = static_cast<uint8_t>(act);
    pe.eval();
    const int want = code == 1 ? act : code == 3 ? -act : 0;
    if (term_of(pe) != want || pe.illegal_o != (code == 2))
        fail_msg("code %d act %d: term %d illegal %d, expected %d %d", code, act, term_of(pe), pe.illegal_o, want,
                 code == 2);
}

void test_pe_edge_activations(void **state)
{
    (void)state;
    VerilatedContext ctx;
    Vtern_pe pe(&ctx);
    const int acts[] = {-128, 127, 0, -1, 1};
    for (int code = 0; code < 4; code++)
        for (int a : acts)
            check(pe, code, a);
    pe.final();
}

void test_pe_every_activation(void **state)
{
    (void)state;
    VerilatedContext ctx;
    Vtern_pe pe(&ctx);
    for (int code = 0; code < 4; code++)
        for (int a = -128; a <= 127; a++)
            check(pe, code, a);
    pe.final();
}

} // namespace

int main()
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pe_edge_activations),
        cmocka_unit_test(test_pe_every_activation),
    };
    return cmocka_run_group_tests_name("tern_pe", tests, nullptr, nullptr);
}
