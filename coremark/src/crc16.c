/*
 * CRC-16 used to fold every kernel result into one checksum.
 * Bit-serial, least significant bit first, reflected polynomial 0xA001
 * (x^16 + x^15 + x^2 + 1). Wider values are fed low byte first.
 */
#include "cm.h"

u16 crc_byte(u8 value, u16 crc) {
    for (int bit = 0; bit < 8; bit++) {
        unsigned feedback = (value ^ crc) & 1u;
        value >>= 1;
        crc >>= 1;
        if (feedback)
            crc ^= 0xA001u;
    }
    return crc;
}

u16 crc_u16(u16 value, u16 crc) {
    crc = crc_byte((u8)(value & 0xffu), crc);
    return crc_byte((u8)(value >> 8), crc);
}

u16 crc_i16(i16 value, u16 crc) {
    return crc_u16((u16)value, crc);
}

u16 crc_u32(u32 value, u16 crc) {
    crc = crc_u16((u16)(value & 0xffffu), crc);
    return crc_u16((u16)(value >> 16), crc);
}
