/* crc.c — the protocol's two checksums: CRC-16/CCITT-FALSE for headers, CRC-32 (IEEE) for payloads. */
#include "tern/tern_proto.h"

uint16_t tern_crc16_update(uint16_t crc, const void *data, size_t len)
{
    const uint8_t *p = data;

    while (len--) {
        crc ^= (uint16_t)(*p++ << 8);
        for (int i = 0; i < 8; i++)
            crc = (uint16_t)((crc & 0x8000u) ? ((unsigned)crc << 1) ^ 0x1021u : (unsigned)crc << 1);
    }
    return crc;
}

uint16_t tern_crc16(const void *data, size_t len)
{
    return tern_crc16_update(TERN_CRC16_INIT, data, len);
}

/* Four bits at a time: a 16-entry table of constants, no state. */
static const uint32_t crc32_nibble[16] = {
    0x00000000u, 0x1DB71064u, 0x3B6E20C8u, 0x26D930ACu, 0x76DC4190u, 0x6B6B51F4u, 0x4DB26158u, 0x5005713Cu,
    0xEDB88320u, 0xF00F9344u, 0xD6D6A3E8u, 0xCB61B38Cu, 0x9B64C2B0u, 0x86D3D2D4u, 0xA00AE278u, 0xBDBDF21Cu,
};

uint32_t tern_crc32_update(uint32_t crc, const void *data, size_t len)
{
    const uint8_t *p = data;

    crc = ~crc;
    while (len--) {
        crc ^= *p++;
        crc = (crc >> 4) ^ crc32_nibble[crc & 15];
        crc = (crc >> 4) ^ crc32_nibble[crc & 15];
    }
    return ~crc;
}

uint32_t tern_crc32(const void *data, size_t len)
{
    return tern_crc32_update(0, data, len);
}
