/* codes.c — 2-bit ternary codes in llama2.c BitNet layout: four a byte, least significant pair first. */
#include "tern/tern.h"

size_t tern_codes_bytes(uint64_t elements)
{
    return (size_t)((elements + 3) / 4);
}

int tern_code_get(const uint8_t *codes, uint64_t j)
{
    int c = (codes[j / 4] >> (2 * (j % 4))) & 3;

    return c == 0 ? 0 : c == 1 ? 1 : c == 3 ? -1 : TERN_E_CODE;
}

void tern_code_set(uint8_t *codes, uint64_t j, int value)
{
    unsigned c = value > 0 ? 1u : value < 0 ? 3u : 0u;
    unsigned sh = 2 * (unsigned)(j % 4);

    codes[j / 4] = (uint8_t)((codes[j / 4] & ~(3u << sh)) | (c << sh));
}

int tern_codes_check(const uint8_t *codes, uint64_t elements, uint64_t *bad_index)
{
    if (!codes)
        return TERN_E_INVAL;
    for (uint64_t i = 0; i < elements / 4; i++) {
        uint8_t b = codes[i];
        /* a pair is 10 when its high bit is set and its low bit is not */
        if ((b & 0xAA) & ~((b & 0x55) << 1)) {
            for (uint64_t j = 4 * i; j < 4 * i + 4; j++)
                if (tern_code_get(codes, j) == TERN_E_CODE) {
                    if (bad_index)
                        *bad_index = j;
                    return TERN_E_CODE;
                }
        }
    }
    for (uint64_t j = elements & ~(uint64_t)3; j < elements; j++)
        if (tern_code_get(codes, j) == TERN_E_CODE) {
            if (bad_index)
                *bad_index = j;
            return TERN_E_CODE;
        }
    return TERN_OK;
}
