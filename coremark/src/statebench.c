/*
 * State-machine kernel: a comma-separated text of number-like tokens is
 * classified token by token by a small Moore machine (integer, decimal,
 * scientific notation, or invalid), counting the state transitions. The
 * text is then corrupted with the first seed at a fixed stride, scanned
 * again, and restored with the second seed. All counts feed the CRC.
 */
#include "cm.h"

enum {
    ST_START = 0,
    ST_INVALID,
    ST_SIGN,        /* leading + or - seen */
    ST_EXP_MARK,    /* 'e' or 'E' seen after a decimal */
    ST_INTEGER,
    ST_DECIMAL,
    ST_EXP_SIGN,    /* sign seen after the exponent mark */
    ST_SCIENTIFIC,
    ST_COUNT
};

/* The four token families, four variants each, every one 4 or 8 chars. */
static const char *const integers[4] = {"5012", "1234", "-874", "+122"};
static const char *const decimals[4] = {"35.54400", ".1234500", "-110.700", "+0.64400"};
static const char *const scientific[4] = {"5.500e+3", "-.123e-2", "-87e+832", "+0.6e-12"};
static const char *const broken[4] = {"T0.3e-1F", "-T.T++Tq", "1T3.4e4z", "34.0e-T^"};

/* Writes tokens chosen by a counter that starts at the seed, each followed
 * by a comma, while the next one still fits, then zero-fills the rest. */
void state_setup(u32 bytes, i16 seed, u8 *text) {
    u32 used = 0;
    u32 pending_len = 0;
    const char *pending = 0;
    u32 limit = bytes - 1;

    while (used + pending_len + 1 < limit) {
        if (pending_len > 0) {
            for (u32 k = 0; k < pending_len; k++)
                text[used + k] = (u8)pending[k];
            text[used + pending_len] = ',';
            used += pending_len + 1;
        }
        seed++;
        unsigned variant = ((unsigned)seed >> 3) & 3u;
        switch (seed & 7) {
        case 0: case 1: case 2:
            pending = integers[variant];
            pending_len = 4;
            break;
        case 3: case 4:
            pending = decimals[variant];
            pending_len = 8;
            break;
        case 5: case 6:
            pending = scientific[variant];
            pending_len = 8;
            break;
        default:
            pending = broken[variant];
            pending_len = 8;
            break;
        }
    }
    while (used < bytes)
        text[used++] = 0;
}

static int is_digit(u8 ch) {
    return ch >= '0' && ch <= '9';
}

/* Classifies one token starting at *cursor. Stops after a comma (consumed),
 * at the terminating zero, or right after the character that made the token
 * invalid. Returns the final state and advances *cursor. */
static int classify(u8 **cursor, u32 *moves) {
    u8 *p = *cursor;
    int st = ST_START;

    while (*p != 0 && st != ST_INVALID) {
        u8 ch = *p;
        if (ch == ',') {
            p++;
            break;
        }
        switch (st) {
        case ST_START:
            if (is_digit(ch))
                st = ST_INTEGER;
            else if (ch == '+' || ch == '-')
                st = ST_SIGN;
            else if (ch == '.')
                st = ST_DECIMAL;
            else {
                st = ST_INVALID;
                moves[ST_INVALID]++;
            }
            moves[ST_START]++;
            break;
        case ST_SIGN:
            if (is_digit(ch))
                st = ST_INTEGER;
            else if (ch == '.')
                st = ST_DECIMAL;
            else
                st = ST_INVALID;
            moves[ST_SIGN]++;
            break;
        case ST_INTEGER:
            if (ch == '.') {
                st = ST_DECIMAL;
                moves[ST_INTEGER]++;
            } else if (!is_digit(ch)) {
                st = ST_INVALID;
                moves[ST_INTEGER]++;
            }
            break;
        case ST_DECIMAL:
            if (ch == 'e' || ch == 'E') {
                st = ST_EXP_MARK;
                moves[ST_DECIMAL]++;
            } else if (!is_digit(ch)) {
                st = ST_INVALID;
                moves[ST_DECIMAL]++;
            }
            break;
        case ST_EXP_MARK:
            st = (ch == '+' || ch == '-') ? ST_EXP_SIGN : ST_INVALID;
            moves[ST_EXP_MARK]++;
            break;
        case ST_EXP_SIGN:
            st = is_digit(ch) ? ST_SCIENTIFIC : ST_INVALID;
            moves[ST_EXP_SIGN]++;
            break;
        case ST_SCIENTIFIC:
            /* leaving scientific notation is counted as a move to invalid */
            if (!is_digit(ch)) {
                st = ST_INVALID;
                moves[ST_INVALID]++;
            }
            break;
        default:
            break;
        }
        p++;
    }
    *cursor = p;
    return st;
}

static void scan(u8 *text, u32 *finals, u32 *moves) {
    u8 *p = text;
    while (*p != 0)
        finals[classify(&p, moves)]++;
}

/* XOR every non-comma byte at the given stride (starting at offset 0). */
static void perturb(u8 *text, u32 bytes, i16 stride, u8 mask) {
    for (u32 off = 0; off < bytes; off += (u32)stride)
        if (text[off] != ',')
            text[off] ^= mask;
}

u16 state_run(u32 bytes, u8 *text, i16 xor_in, i16 xor_out, i16 stride, u16 crc) {
    u32 finals[ST_COUNT] = {0};
    u32 moves[ST_COUNT] = {0};

    scan(text, finals, moves);
    perturb(text, bytes, stride, (u8)xor_in);
    scan(text, finals, moves);
    perturb(text, bytes, stride, (u8)xor_out);

    for (int s = 0; s < ST_COUNT; s++) {
        crc = crc_u32(finals[s], crc);
        crc = crc_u32(moves[s], crc);
    }
    return crc;
}
