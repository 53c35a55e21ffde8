/*
 * tile.c: C2SP tlog-tiles geometry and paths.
 *
 *   tile/<L>/<N>[.p/<W>]      L: 0..63, no leading zeros
 *   tile/entries/<N>[.p/<W>]  W: 1..255, no leading zeros
 *   <N> in zero-padded 3-digit groups, all but the last prefixed with 'x':
 *       1234067 -> x001/x234/067,  5 -> 005,  1000 -> x001/000
 *
 * The partial tile at level l for a tree of size s has floor(s/256^l) mod 256
 * hashes; full tiles have 256 and are written without ".p/<W>". The parser
 * accepts exactly what the formatter writes, so every tile has one path.
 * Entry bundles are big-endian uint16 length-prefixed entries.
 */
#include "waybill/log.h"
#include "waybill/error.h"
#include "waybill/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

unsigned wb_tile_width(unsigned level, uint64_t index, uint64_t size)
{
    uint64_t hashes, start;
    if (level * WB_TILE_HEIGHT >= 64)
        return 0;
    hashes = size >> (level * WB_TILE_HEIGHT); /* hashes at level 8·L */
    if (index > (UINT64_MAX / WB_TILE_WIDTH))
        return 0;
    start = index * WB_TILE_WIDTH;
    if (hashes <= start)
        return 0;
    return hashes - start >= WB_TILE_WIDTH ? WB_TILE_WIDTH
                                           : (unsigned)(hashes - start);
}

unsigned wb_bundle_width(uint64_t index, uint64_t size)
{
    return wb_tile_width(0, index, size);
}

static int add_index(wb_buf *b, uint64_t n)
{
    unsigned groups[7];
    int g = 0;
    do {
        groups[g++] = (unsigned)(n % 1000);
        n /= 1000;
    } while (n > 0);
    while (g-- > 1)
        wb_buf_printf(b, "x%03u/", groups[g]);
    return wb_buf_printf(b, "%03u", groups[0]);
}

int wb_tile_path(char *out, size_t cap, const wb_tile_ref *ref)
{
    wb_buf b;
    uint8_t *s;
    size_t len;
    int rc;

    if (!ref->entries && ref->level > 63)
        return wb_error_set(WB_E_INVALID, "tile level %u is over 63", ref->level);
    if (ref->width < 1 || ref->width > WB_TILE_WIDTH)
        return wb_error_set(WB_E_INVALID, "tile width %u is not 1..256", ref->width);
    wb_buf_init(&b, cap > 0 ? cap - 1 : 0);
    if (ref->entries)
        wb_buf_add_str(&b, "tile/entries/");
    else
        wb_buf_printf(&b, "tile/%u/", ref->level);
    add_index(&b, ref->index);
    if (ref->width < WB_TILE_WIDTH)
        wb_buf_printf(&b, ".p/%u", ref->width);
    rc = wb_buf_finish(&b, &s, &len);
    if (rc)
        return rc;
    memcpy(out, s, len + 1);
    free(s);
    return 0;
}

/* a decimal of at most maxdigits digits, no leading zeros */
static int get_small_decimal(wb_reader *r, unsigned *out, size_t maxdigits)
{
    size_t n = 0;
    unsigned v = 0;
    while (n < wb_reader_left(r) && r->ptr[n] >= '0' && r->ptr[n] <= '9') {
        if (n == maxdigits)
            return 0;
        v = v * 10 + (unsigned)(r->ptr[n] - '0');
        n++;
    }
    if (n == 0 || (n > 1 && r->ptr[0] == '0'))
        return 0;
    wb_reader_skip(r, n);
    *out = v;
    return 1;
}

static int get_group(wb_reader *r, unsigned *out)
{
    const uint8_t *p;
    if (!wb_reader_get_bytes(r, &p, 3))
        return 0;
    for (int i = 0; i < 3; i++)
        if (p[i] < '0' || p[i] > '9')
            return 0;
    *out = (unsigned)((p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0'));
    return 1;
}

int wb_tile_path_parse(wb_tile_ref *ref, const char *path, size_t len)
{
    wb_reader r;
    const uint8_t *p;
    uint64_t index = 0;
    unsigned group, ngroups = 0;

    memset(ref, 0, sizeof(*ref));
    wb_reader_init(&r, path, len);
    if (!wb_reader_get_bytes(&r, &p, 5) || memcmp(p, "tile/", 5) != 0)
        goto bad;
    if (wb_reader_left(&r) >= 8 && memcmp(r.ptr, "entries/", 8) == 0) {
        ref->entries = 1;
        wb_reader_skip(&r, 8);
    } else {
        uint8_t slash;
        if (!get_small_decimal(&r, &ref->level, 2) || ref->level > 63 ||
            !wb_reader_get_u8(&r, &slash) || slash != '/')
            goto bad;
    }
    /* index groups: x### / ... / ### */
    for (;;) {
        uint8_t c;
        int x = wb_reader_left(&r) > 0 && r.ptr[0] == 'x';
        if (x)
            wb_reader_skip(&r, 1);
        if (!get_group(&r, &group))
            goto bad;
        if (++ngroups > 7 || index > (UINT64_MAX - group) / 1000)
            goto bad;
        index = index * 1000 + group;
        if (!x)
            break;
        if (!wb_reader_get_u8(&r, &c) || c != '/')
            goto bad;
    }
    ref->index = index;
    ref->width = WB_TILE_WIDTH;
    if (wb_reader_left(&r) > 0) {
        if (!wb_reader_get_bytes(&r, &p, 3) || memcmp(p, ".p/", 3) != 0 ||
            !get_small_decimal(&r, &ref->width, 3) || ref->width < 1 ||
            ref->width > 255)
            goto bad;
    }
    if (wb_reader_left(&r) != 0)
        goto bad;
    {
        /* exactly one spelling: re-format and compare */
        char again[WB_TILE_PATH_MAX];
        if (wb_tile_path(again, sizeof(again), ref) != 0 || strlen(again) != len ||
            memcmp(again, path, len) != 0)
            goto bad;
    }
    return 0;
bad:
    return wb_error_set(WB_E_INVALID, "'%.*s' is not a tlog-tiles path "
                        "(tile/<L>/<N>[.p/<W>] or tile/entries/<N>[.p/<W>])",
                        (int)(len > 80 ? 80 : len), path);
}

int wb_bundle_count(const uint8_t *bundle, size_t len, unsigned *count)
{
    wb_reader r, entry;
    unsigned n = 0;
    wb_reader_init(&r, bundle, len);
    while (wb_reader_left(&r) > 0) {
        if (!wb_reader_get_u16_prefixed(&r, &entry))
            return wb_error_set(WB_E_CORRUPT,
                                "entry bundle: entry %u is truncated", n);
        if (wb_reader_left(&entry) == 0)
            return wb_error_set(WB_E_CORRUPT, "entry bundle: entry %u is empty", n);
        if (++n > WB_TILE_WIDTH)
            return wb_error_set(WB_E_CORRUPT,
                                "entry bundle holds more than 256 entries");
    }
    *count = n;
    return 0;
}
