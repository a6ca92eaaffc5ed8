// test_ft245.cpp — tern_ft245 against a cycle model of the FT2232H synchronous 245 FIFO: a
// host-to-device queue behind rxf_n (bytes trickle in from USB), a device-to-host queue behind
// txe_n (which goes high at random to throttle), random stream-side back-pressure both ways.
// Every byte must arrive once and in order, and the pin protocol is checked every cycle: oe_n low
// a cycle before rd_n, never both sides driving the bus, data driven while wr_n is low.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

extern "C" {
#include <cmocka.h> // this cmocka's header has no extern "C" of its own
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "Vtern_ft245.h"
#include "verilated.h"
#pragma GCC diagnostic pop

#include <deque>
#include <vector>

namespace {

uint64_t rng_state = 0xF7245;
uint64_t rng()
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
bool chance(int pct) { return static_cast<int>(rng() % 100) < pct; }

struct knobs {
    int usb_in_pct;     // chance a cycle that a host byte reaches the chip's RX FIFO
    int txe_busy_pct;   // chance a cycle that txe_n goes (or stays) high
    int rx_ready_pct;   // stream side takes bytes
    int tx_valid_pct;   // stream side offers bytes
};

// fair_div: when one direction has moved half its bytes, the other must have moved at least
// 1/fair_div of its own (bursts interleave rather than one direction waiting for the other); 0: off.
void exchange(int n, knobs k, uint64_t seed, size_t fair_div = 0)
{
    rng_state = seed;
    VerilatedContext ctx;
    Vtern_ft245 m(&ctx);
    std::vector<uint8_t> h2d, d2h;
    for (int i = 0; i < n; i++) {
        h2d.push_back(static_cast<uint8_t>(rng()));
        d2h.push_back(static_cast<uint8_t>(rng()));
    }
    size_t usb_next = 0, dev_next = 0;       // next host byte to reach the chip / next device byte to offer
    std::deque<uint8_t> chip_rx;             // the chip's RX FIFO (host -> device)
    const size_t chip_rx_cap = 64;
    std::vector<uint8_t> got_dev, got_host;  // what the device stream and the host received
    bool txe_busy = false;
    int oe_low_cycles = 0;
    int reads = 0, writes = 0;

    m.rst_ni = 0;
    m.clk_i = 0;
    m.rxf_ni = 1;
    m.txe_ni = 1;
    m.eval();
    for (int i = 0; i < 3; i++) {
        m.clk_i = 1;
        m.eval();
        m.clk_i = 0;
        m.eval();
    }
    m.rst_ni = 1;

    uint64_t cyc = 0;
    const uint64_t limit = static_cast<uint64_t>(n) * 400 + 10000;
    while ((got_dev.size() < h2d.size() || got_host.size() < d2h.size()) && cyc < limit) {
        // chip pins as they stand before this edge
        m.rxf_ni = chip_rx.empty();
        m.txe_ni = txe_busy;
        m.data_i = (!m.oe_no && oe_low_cycles >= 1 && !chip_rx.empty()) ? chip_rx.front()
                                                                           : static_cast<uint8_t>(rng());
        m.rx_ready_i = chance(k.rx_ready_pct);
        const bool offer = dev_next < d2h.size() && chance(k.tx_valid_pct);
        m.tx_valid_i = offer;
        m.tx_data_i = offer ? d2h[dev_next] : static_cast<uint8_t>(rng());
        m.eval();

        // protocol
        if (!m.oe_no && m.data_oe_o)
            fail_msg("cycle %llu: both drive the bus", static_cast<unsigned long long>(cyc));
        if (!m.rd_no && (m.oe_no || oe_low_cycles < 1))
            fail_msg("cycle %llu: rd_n low without oe_n low the cycle before", static_cast<unsigned long long>(cyc));
        if (!m.wr_no && !m.data_oe_o)
            fail_msg("cycle %llu: wr_n low with the bus not driven", static_cast<unsigned long long>(cyc));
        if (!m.rd_no && !m.wr_no)
            fail_msg("cycle %llu: rd_n and wr_n both low", static_cast<unsigned long long>(cyc));
        assert_int_equal(m.siwu_no, 1);

        // transfers at this edge
        if (!m.rd_no && !m.rxf_ni) {
            chip_rx.pop_front();
            reads++;
        }
        if (!m.wr_no && !m.txe_ni) {
            got_host.push_back(m.data_o);
            writes++;
        }
        if (m.rx_valid_o && m.rx_ready_i)
            got_dev.push_back(m.rx_data_o);
        if (fair_div && (got_dev.size() == h2d.size() / 2 || got_host.size() == d2h.size() / 2) &&
            (got_dev.size() < h2d.size() / fair_div || got_host.size() < d2h.size() / fair_div))
            fail_msg("cycle %llu: unfair: %zu bytes in, %zu bytes out", static_cast<unsigned long long>(cyc),
                     got_dev.size(), got_host.size());
        if (m.tx_valid_i && m.tx_ready_o)
            dev_next++;
        oe_low_cycles = m.oe_no ? 0 : oe_low_cycles + 1;

        m.clk_i = 1;
        m.eval();
        m.clk_i = 0;
        m.eval();
        cyc++;

        // the chip's side after the edge
        if (usb_next < h2d.size() && chip_rx.size() < chip_rx_cap && chance(k.usb_in_pct))
            chip_rx.push_back(h2d[usb_next++]);
        txe_busy = chance(k.txe_busy_pct);
    }
    if (got_dev != h2d) {
        size_t i = 0;
        while (i < got_dev.size() && i < h2d.size() && got_dev[i] == h2d[i])
            i++;
        fail_msg("host->device: %zu of %zu bytes, first difference at %zu", got_dev.size(), h2d.size(), i);
    }
    if (got_host != d2h) {
        size_t i = 0;
        while (i < got_host.size() && i < d2h.size() && got_host[i] == d2h[i])
            i++;
        fail_msg("device->host: %zu of %zu bytes, first difference at %zu", got_host.size(), d2h.size(), i);
    }
    // nothing extra after the streams went quiet
    for (int i = 0; i < 50; i++) {
        m.rxf_ni = 1;
        m.txe_ni = 0;
        m.rx_ready_i = 1;
        m.tx_valid_i = 0;
        m.eval();
        assert_int_equal(m.rx_valid_o, 0);
        assert_int_equal(m.wr_no, 1);
        m.clk_i = 1;
        m.eval();
        m.clk_i = 0;
        m.eval();
    }
    m.final();
    assert_int_equal(reads, n);
    assert_int_equal(writes, n);
    if (getenv("TERN_FT245_VERBOSE"))
        print_message("%d bytes each way in %llu cycles\n", n, static_cast<unsigned long long>(cyc));
}

void test_full_speed(void **state)
{
    (void)state;
    exchange(4000, knobs{100, 0, 100, 100}, 1);
}
void test_throttled(void **state)
{
    (void)state;
    exchange(4000, knobs{70, 30, 60, 70}, 2);
}
void test_heavy_backpressure(void **state)
{
    (void)state;
    exchange(3000, knobs{90, 60, 15, 20}, 3);
}
void test_random_mixes(void **state)
{
    (void)state;
    for (uint64_t s = 10; s < 30; s++) {
        rng_state = s * 7919;
        knobs k{static_cast<int>(5 + rng() % 96), static_cast<int>(rng() % 90), static_cast<int>(5 + rng() % 96),
                static_cast<int>(5 + rng() % 96)};
        exchange(1500, k, s);
    }
}
// Both directions busy: bursts alternate. Saturated streams share the bus about evenly. A burst
// that stalls (txe_n high, no byte to send, no room) hands the bus over at once, so a throttled
// direction gets a smaller share, but never none: at least 1/6 of its bytes by the time the other
// has moved half of its own.
void test_no_starvation(void **state)
{
    (void)state;
    exchange(3000, knobs{100, 0, 100, 100}, 4, 3);
    exchange(3000, knobs{100, 5, 100, 100}, 5, 6);
    exchange(3000, knobs{100, 20, 50, 50}, 6, 6);
}

} // namespace

int main()
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_speed),   cmocka_unit_test(test_throttled),    cmocka_unit_test(test_heavy_backpressure),
        cmocka_unit_test(test_random_mixes), cmocka_unit_test(test_no_starvation),
    };
    return cmocka_run_group_tests_name("tern_ft245", tests, nullptr, nullptr);
}
