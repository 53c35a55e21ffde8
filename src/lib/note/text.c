/*
 * text.c: the character rules of C2SP signed-note (https://c2sp.org/signed-note,
 * "Format"), shared by notes, keys and checkpoints.
 *
 *   "Signed notes MUST be valid UTF-8 and MUST NOT contain any ASCII control
 *    characters (those below U+0020) other than newline."
 *   "Key names MUST be non-empty and MUST NOT contain any Unicode spaces or
 *    plus (U+002B) characters."
 *
 * Valid UTF-8 is RFC 3629 §3-4: the shortest form only, no UTF-16 surrogates
 * (U+D800..U+DFFF), nothing above U+10FFFF. Note that DEL (0x7F) and the C1
 * controls are not "below U+0020" and so are allowed in note text. "Unicode
 * spaces" are the characters with the Unicode White_Space property (the set
 * Go's unicode.IsSpace reports, which the reference implementation uses).
 * A key name is held to the note rules too, so that every name we accept
 * can appear on a signature line.
 */
#include "note/note_int.h"

#include "waybill/error.h"
#include "waybill/note.h"
#include "waybill/util.h"

enum utf8_status {
    UTF8_OK = 0,
    UTF8_STRAY,     /* continuation byte where a character should start */
    UTF8_BAD_LEAD,  /* 0xF8..0xFF never start a character */
    UTF8_TRUNCATED, /* input ended inside a character */
    UTF8_BAD_CONT,  /* a byte inside a character is not 10xxxxxx */
    UTF8_OVERLONG,  /* not the shortest encoding */
    UTF8_SURROGATE, /* U+D800..U+DFFF */
    UTF8_TOO_BIG,   /* above U+10FFFF */
};

static const char *utf8_reason(enum utf8_status s)
{
    switch (s) {
    case UTF8_STRAY: return "continuation byte without a lead byte";
    case UTF8_BAD_LEAD: return "byte that never appears in UTF-8";
    case UTF8_TRUNCATED: return "truncated multi-byte sequence";
    case UTF8_BAD_CONT: return "lead byte not followed by continuation bytes";
    case UTF8_OVERLONG: return "overlong encoding";
    case UTF8_SURROGATE: return "encoded UTF-16 surrogate (U+D800..U+DFFF)";
    case UTF8_TOO_BIG: return "code point above U+10FFFF";
    default: return "valid";
    }
}

/* utf8_next reads one encoded scalar value from r into *cp; r is not empty */
static enum utf8_status utf8_next(wb_reader *r, uint32_t *cp)
{
    uint8_t b;
    size_t more;
    uint32_t v, min;

    if (!wb_reader_get_u8(r, &b))
        return UTF8_TRUNCATED;
    if (b < 0x80) {
        *cp = b;
        return UTF8_OK;
    }
    if (b < 0xC0)
        return UTF8_STRAY;
    if (b < 0xE0) {
        more = 1, v = b & 0x1Fu, min = 0x80;
    } else if (b < 0xF0) {
        more = 2, v = b & 0x0Fu, min = 0x800;
    } else if (b < 0xF8) {
        more = 3, v = b & 0x07u, min = 0x10000;
    } else {
        return UTF8_BAD_LEAD;
    }
    while (more-- > 0) {
        if (!wb_reader_get_u8(r, &b))
            return UTF8_TRUNCATED;
        if ((b & 0xC0) != 0x80)
            return UTF8_BAD_CONT;
        v = v << 6 | (b & 0x3Fu);
    }
    if (v < min)
        return UTF8_OVERLONG;
    if (v >= 0xD800 && v <= 0xDFFF)
        return UTF8_SURROGATE;
    if (v > 0x10FFFF)
        return UTF8_TOO_BIG;
    *cp = v;
    return UTF8_OK;
}

/* characters with the Unicode White_Space property */
static int is_unicode_space(uint32_t c)
{
    return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 ||
           c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 ||
           c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

int note_check_chars(const uint8_t *p, size_t n, const char *what,
                     size_t first_line)
{
    wb_reader r;
    size_t line = first_line;

    wb_reader_init(&r, p, n);
    while (wb_reader_left(&r) > 0) {
        size_t off = n - wb_reader_left(&r);
        uint32_t c = 0;
        enum utf8_status s = utf8_next(&r, &c);
        if (s != UTF8_OK)
            return wb_error_set(WB_E_INVALID,
                                "%s line %zu: invalid UTF-8 at byte %zu: %s", what,
                                line, off, utf8_reason(s));
        if (c == '\n') {
            line++;
            continue;
        }
        if (c == '\r')
            return wb_error_set(WB_E_INVALID,
                                "%s line %zu: carriage return (U+000D) at byte %zu; "
                                "lines end in a bare newline",
                                what, line, off);
        if (c < 0x20)
            return wb_error_set(WB_E_INVALID,
                                "%s line %zu: control character U+%04X at byte %zu; "
                                "only newline is allowed",
                                what, line, (unsigned)c, off);
    }
    return 0;
}

int note_check_name(const uint8_t *p, size_t n, const char *what)
{
    wb_reader r;

    if (n == 0)
        return wb_error_set(WB_E_INVALID, "%s: key name is empty", what);
    if (n > WB_NOTE_NAME_MAX)
        return wb_error_set(WB_E_LIMIT,
                            "%s: key name is %zu bytes, over the %d-byte limit",
                            what, n, WB_NOTE_NAME_MAX);
    wb_reader_init(&r, p, n);
    while (wb_reader_left(&r) > 0) {
        size_t off = n - wb_reader_left(&r);
        uint32_t c = 0;
        enum utf8_status s = utf8_next(&r, &c);
        if (s != UTF8_OK)
            return wb_error_set(WB_E_INVALID,
                                "%s: key name is not valid UTF-8 at byte %zu of the name: %s",
                                what, off, utf8_reason(s));
        if (is_unicode_space(c))
            return wb_error_set(WB_E_INVALID,
                                "%s: key name contains a space (U+%04X) at byte %zu "
                                "of the name",
                                what, (unsigned)c, off);
        if (c < 0x20)
            return wb_error_set(WB_E_INVALID,
                                "%s: key name contains control character U+%04X",
                                what, (unsigned)c);
        if (c == '+')
            return wb_error_set(WB_E_INVALID,
                                "%s: key name contains '+' (U+002B) at byte %zu of the name",
                                what, off);
    }
    return 0;
}

void note_wipe(void *p, size_t n)
{
    volatile uint8_t *v = p;
    while (n-- > 0)
        *v++ = 0;
}
