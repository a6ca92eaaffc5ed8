// test_uart.cpp — tern_uart (CLKS_PER_BIT 4 and 13) against a bit-level model of a host UART:
// random bytes both directions with random gaps, back-to-back bytes with no gap, a start-bit glitch
// that must not give a byte, a framing error that drops the byte and pulses frame_err_o, and an
// overrun when rx_ready_i stays low.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

extern "C" {
#include <cmocka.h> // this cmocka's header has no extern "C" of its own
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "Vtern_uart_c13.h"
#include "Vtern_uart_c4.h"
#include "verilated.h"
#pragma GCC diagnostic pop

#include <deque>
#include <vector>

namespace {

uint64_t rng_state = 0x5EED1234;
uint64_t rng()
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

// The host side and the device's stream side around one tern_uart.
template <class M> struct bench {
    VerilatedContext ctx;
    M m{&ctx};
    int cpb;
    std::deque<uint8_t> line;         // host -> device pin levels still to drive, one a cycle
    std::deque<uint8_t> dev_tx;       // bytes the device stream side still has to send
    std::vector<uint8_t> dev_rx;      // bytes the device stream side took
    std::vector<uint8_t> host_rx;     // bytes the host UART decoded from uart_tx_o
    int host_rx_bad = 0;              // bytes the host saw with a bad start or stop bit
    int frame_errs = 0, overruns = 0;
    int ready_pct = 100;              // chance of rx_ready_i each cycle
    // host receiver
    int hstate = 0, hcnt = 0, hbit = 0;
    uint8_t hsh = 0;
    uint64_t cycles = 0;
    uint64_t last_tx_busy = 0;

    explicit bench(int c) : cpb(c)
    {
        m.uart_rx_i = 1;
        m.rst_ni = 0;
        m.clk_i = 0;
        m.eval();
        for (int i = 0; i < 3; i++)
            tick();
        m.rst_ni = 1;
    }
    ~bench() { m.final(); }

    void send_levels(int level, int n)
    {
        for (int i = 0; i < n; i++)
            line.push_back(static_cast<uint8_t>(level));
    }
    void host_send(uint8_t b, int stop = 1)
    {
        send_levels(0, cpb);
        for (int i = 0; i < 8; i++)
            send_levels((b >> i) & 1, cpb);
        send_levels(stop, cpb);
    }

    void host_rx_step(int tx)
    {
        switch (hstate) {
        case 0:
            if (!tx) {
                hstate = 1;
                hcnt = 0;
            }
            break;
        case 1: // to the middle of the start bit
            if (++hcnt == cpb / 2) {
                if (tx)
                    host_rx_bad++;
                hstate = tx ? 0 : 2;
                hcnt = 0;
                hbit = 0;
            }
            break;
        case 2:
            if (++hcnt == cpb) {
                hcnt = 0;
                hsh = static_cast<uint8_t>((hsh >> 1) | (tx << 7));
                if (++hbit == 8)
                    hstate = 3;
            }
            break;
        default:
            if (++hcnt == cpb) {
                if (tx)
                    host_rx.push_back(hsh);
                else
                    host_rx_bad++;
                hstate = 0;
            }
            break;
        }
    }

    void tick()
    {
        m.uart_rx_i = line.empty() ? 1 : line.front();
        if (!line.empty())
            line.pop_front();
        m.rx_ready_i = static_cast<int>(rng() % 100) < ready_pct;
        m.tx_valid_i = !dev_tx.empty();
        m.tx_data_i = dev_tx.empty() ? 0 : dev_tx.front();
        m.clk_i = 0;
        m.eval();
        if (m.rst_ni) {
            if (m.rx_valid_o && m.rx_ready_i)
                dev_rx.push_back(m.rx_data_o);
            if (m.tx_valid_i && m.tx_ready_o)
                dev_tx.pop_front();
            if (!m.tx_ready_o)
                last_tx_busy = cycles;
            frame_errs += m.frame_err_o;
            overruns += m.overrun_o;
            host_rx_step(m.uart_tx_o);
        }
        m.clk_i = 1;
        m.eval();
        cycles++;
    }
    void run(int n)
    {
        for (int i = 0; i < n; i++)
            tick();
    }
    void drain()
    {
        while (!line.empty() || !dev_tx.empty())
            tick();
        run(12 * cpb + 8);
    }
};

template <class M> void random_both(int cpb, int n, bool gaps)
{
    bench<M> b(cpb);
    b.ready_pct = 50;
    std::vector<uint8_t> h2d, d2h;
    for (int i = 0; i < n; i++) {
        h2d.push_back(static_cast<uint8_t>(rng()));
        d2h.push_back(static_cast<uint8_t>(rng()));
    }
    for (uint8_t x : h2d) {
        b.host_send(x);
        if (gaps)
            b.send_levels(1, static_cast<int>(rng() % (3 * cpb)));
    }
    for (uint8_t x : d2h)
        b.dev_tx.push_back(x);
    const uint64_t start = b.cycles;
    b.drain();
    if (b.dev_rx != h2d)
        fail_msg("cpb %d: device received %zu bytes, expected %zu (or different values)", cpb, b.dev_rx.size(),
                 h2d.size());
    if (b.host_rx != d2h)
        fail_msg("cpb %d: host received %zu bytes, expected %zu (or different values)", cpb, b.host_rx.size(),
                 d2h.size());
    assert_int_equal(b.frame_errs, 0);
    assert_int_equal(b.overruns, 0);
    assert_int_equal(b.host_rx_bad, 0);
    if (!gaps) // back to back: the transmitter leaves no idle time between bytes
        assert_true(b.last_tx_busy - start <= static_cast<uint64_t>(n * 10 * cpb + 4));
}

void test_random_c4(void **state)
{
    (void)state;
    random_both<Vtern_uart_c4>(4, 600, true);
}
void test_random_c13(void **state)
{
    (void)state;
    random_both<Vtern_uart_c13>(13, 300, true);
}
void test_back_to_back_c4(void **state)
{
    (void)state;
    random_both<Vtern_uart_c4>(4, 400, false);
}
void test_back_to_back_c13(void **state)
{
    (void)state;
    random_both<Vtern_uart_c13>(13, 200, false);
}

template <class M> void glitch(int cpb)
{
    bench<M> b(cpb);
    for (int len = 1; len <= cpb / 2; len++) { // shorter than (or exactly) half a bit: no start
        b.send_levels(0, len);
        b.send_levels(1, 3 * cpb);
    }
    b.drain();
    assert_int_equal(b.dev_rx.size(), 0);
    assert_int_equal(b.frame_errs, 0);
    b.host_send(0xA5); // and the receiver still works
    b.drain();
    assert_int_equal(b.dev_rx.size(), 1);
    assert_int_equal(b.dev_rx[0], 0xA5);
}
void test_glitch_c4(void **state)
{
    (void)state;
    glitch<Vtern_uart_c4>(4);
}
void test_glitch_c13(void **state)
{
    (void)state;
    glitch<Vtern_uart_c13>(13);
}

template <class M> void framing(int cpb)
{
    bench<M> b(cpb);
    b.host_send(0x3C);
    b.host_send(0x5A, 0); // stop bit 0: dropped and flagged
    b.send_levels(1, cpb);
    b.host_send(0xC3);
    b.host_send(0x00, 0); // a break-like frame
    b.send_levels(1, 2 * cpb);
    b.host_send(0x7E);
    b.drain();
    const std::vector<uint8_t> want = {0x3C, 0xC3, 0x7E};
    assert_true(b.dev_rx == want);
    assert_int_equal(b.frame_errs, 2);
    assert_int_equal(b.overruns, 0);
}
void test_framing_c4(void **state)
{
    (void)state;
    framing<Vtern_uart_c4>(4);
}
void test_framing_c13(void **state)
{
    (void)state;
    framing<Vtern_uart_c13>(13);
}

template <class M> void overrun(int cpb)
{
    bench<M> b(cpb);
    b.ready_pct = 0;
    b.host_send(0x11);
    b.host_send(0x22); // completes while 0x11 waits: dropped
    b.host_send(0x33); // dropped too
    b.drain();
    assert_int_equal(b.overruns, 2);
    assert_int_equal(b.dev_rx.size(), 0);
    assert_int_equal(b.m.rx_valid_o, 1);
    assert_int_equal(b.m.rx_data_o, 0x11);
    b.ready_pct = 100;
    b.run(2);
    b.host_send(0x44);
    b.drain();
    const std::vector<uint8_t> want = {0x11, 0x44};
    assert_true(b.dev_rx == want);
    assert_int_equal(b.overruns, 2);
    assert_int_equal(b.frame_errs, 0);
}
void test_overrun_c4(void **state)
{
    (void)state;
    overrun<Vtern_uart_c4>(4);
}
void test_overrun_c13(void **state)
{
    (void)state;
    overrun<Vtern_uart_c13>(13);
}

} // namespace

int main()
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_c4),       cmocka_unit_test(test_random_c13),
        cmocka_unit_test(test_back_to_back_c4), cmocka_unit_test(test_back_to_back_c13),
        cmocka_unit_test(test_glitch_c4),       cmocka_unit_test(test_glitch_c13),
        cmocka_unit_test(test_framing_c4),      cmocka_unit_test(test_framing_c13),
        cmocka_unit_test(test_overrun_c4),      cmocka_unit_test(test_overrun_c13),
    };
    return cmocka_run_group_tests_name("tern_uart", tests, nullptr, nullptr);
}
