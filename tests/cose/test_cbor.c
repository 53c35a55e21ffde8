/*
 * test_cbor.c: the strict CBOR decoder under the COSE module
 * (src/lib/cose/cbor_strict.c, cbor_write.c): one test per rule, each
 * asserting the code and the words of the message, plus the libcbor 0.8
 * tag workaround and the deterministic encoder.
 */
#include "wbtest.h"

#include <string.h>

#include "cose/cose_int.h"
#include "waybill/error.h"

/* hex with optional spaces into a malloc'd buffer */
static uint8_t *unhex(const char *hex, size_t *len)
{
    size_t n = 0, cap = strlen(hex) / 2 + 1;
    uint8_t *out = malloc(cap);
    int hi = -1;

    assert_non_null(out);
    for (const char *p = hex; *p; p++) {
        int v = 0;
        if (*p == ' ')
            continue;
        if (*p >= '0' && *p <= '9')
            v = *p - '0';
        else if (*p >= 'a' && *p <= 'f')
            v = *p - 'a' + 10;
        else if (*p >= 'A' && *p <= 'F')
            v = *p - 'A' + 10;
        else
            fail_msg("bad hex character '%c'", *p);
        if (hi < 0) {
            hi = v;
        } else {
            out[n++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    assert_true(hi < 0);
    *len = n;
    return out;
}

/* loads hex, expecting rc and (if rc) a message containing want */
static void load_expect(const char *hex, int rc_want, const char *want)
{
    size_t len;
    uint8_t *data = unhex(hex, &len);
    cbor_item_t *it = NULL;
    int rc = wb_cbor_load(&it, data, len, 4096, "test");

    if (rc != rc_want)
        fail_msg("%s: got %s (%s), want %s", hex, wb_error_name(rc), wb_error_message(),
                 wb_error_name(rc_want));
    if (rc == 0) {
        assert_non_null(it);
        cbor_decref(&it);
    } else {
        assert_null(it);
        if (want && !strstr(wb_error_message(), want))
            fail_msg("%s: message '%s' lacks '%s'", hex, wb_error_message(), want);
        assert_true(strncmp(wb_error_message(), "test: ", 6) == 0);
    }
    free(data);
}

static void test_accepts_plain_items(void **state)
{
    (void)state;
    load_expect("00", 0, NULL);
    load_expect("1bffffffffffffffff", 0, NULL);
    load_expect("3bffffffffffffffff", 0, NULL);
    load_expect("40", 0, NULL);
    load_expect("6449455446", 0, NULL);
    load_expect("83010203", 0, NULL);
    load_expect("a201020304", 0, NULL);
    load_expect("f4", 0, NULL);
    load_expect("f6", 0, NULL);
    load_expect("f7", 0, NULL);
    load_expect("f93c00", 0, NULL);             /* half float 1.0 */
    load_expect("fb3ff199999999999a", 0, NULL); /* 1.1 */
    load_expect("c11a514b67b0", 0, NULL);       /* tag 1 */
    load_expect("1801", 0, NULL);               /* non-shortest int: still well-formed */
    load_expect("62c3bc", 0, NULL);             /* "ü" */
}

/* libcbor 0.8 refuses the one-byte heads of tags 6..20; the loader does not */
static void test_tags_6_to_20(void **state)
{
    (void)state;
    for (unsigned t = 0; t < 24; t++) {
        char hex[16];
        size_t len;
        uint8_t *data;
        cbor_item_t *it = NULL;
        snprintf(hex, sizeof(hex), "%02x 83 01 02 03", 0xc0 + t);
        data = unhex(hex, &len);
        if (wb_cbor_load(&it, data, len, 64, "test") != 0)
            fail_msg("tag %u: %s", t, wb_error_message());
        assert_true(cbor_isa_tag(it));
        assert_int_equal(cbor_tag_value(it), t);
        assert_int_equal(cbor_array_size(wb_cbor_tag_inner(it)), 3);
        cbor_decref(&it);
        free(data);
    }
    /* nested, and inside a map and a byte string's neighbour */
    load_expect("d2 d2 d3 80", 0, NULL);
    load_expect("a2 01 d4 41 00 02 d0 80", 0, NULL);
}

static void test_size_limit_before_parsing(void **state)
{
    uint8_t big[100];
    cbor_item_t *it;

    (void)state;
    memset(big, 0xff, sizeof(big)); /* garbage: the limit is checked first */
    assert_int_equal(wb_cbor_load(&it, big, sizeof(big), 99, "test"), WB_E_LIMIT);
    assert_string_equal(wb_error_message(), "test: 100 bytes, over the 99-byte limit");
    assert_int_equal(wb_cbor_load(&it, big, 0, 99, "test"), WB_E_INVALID);
    assert_string_equal(wb_error_message(), "test: empty input");
}

static void test_trailing_bytes(void **state)
{
    (void)state;
    load_expect("0000", WB_E_INVALID, "1 trailing bytes after the CBOR item");
    load_expect("83010203 ff ff", WB_E_INVALID, "2 trailing bytes");
}

static void test_indefinite_lengths(void **state)
{
    (void)state;
    load_expect("5f 41 00 ff", WB_E_INVALID, "indefinite-length byte string at byte 0");
    load_expect("7f 61 61 ff", WB_E_INVALID, "indefinite-length text string at byte 0");
    load_expect("9f ff", WB_E_INVALID, "indefinite-length array at byte 0");
    load_expect("bf ff", WB_E_INVALID, "indefinite-length map at byte 0");
    /* deep inside */
    load_expect("82 01 a1 01 9f 01 ff", WB_E_INVALID, "indefinite-length array at byte 4");
}

static void test_malformed(void **state)
{
    (void)state;
    load_expect("ff", WB_E_INVALID, "break (0xff) outside");
    load_expect("1c", WB_E_INVALID, "reserved additional information 28");
    load_expect("5d", WB_E_INVALID, "reserved additional information 29");
    load_expect("fe", WB_E_INVALID, "reserved additional information 30");
    load_expect("1f", WB_E_INVALID, "malformed unsigned integer head 0x1f");
    load_expect("df 00", WB_E_INVALID, "malformed tag head");
    load_expect("f8 10", WB_E_INVALID, "simple value 16 in two-byte form");
    load_expect("f0", WB_E_INVALID, "unassigned simple value 16 at byte 0");
    load_expect("81 f8 20", WB_E_INVALID, "unassigned simple value 32 at byte 1");
    load_expect("19 01", WB_E_INVALID, "truncated unsigned integer head");
    load_expect("43 01 02", WB_E_INVALID, "byte string of 3 bytes at byte 0 runs past");
    load_expect("5b 7fffffffffffffff 00", WB_E_INVALID, "runs past the end");
    load_expect("83 01 02", WB_E_INVALID, "truncated: an item is missing at byte 3");
    load_expect("9b ffffffffffffffff 00", WB_E_INVALID, "truncated");
    load_expect("a1 01", WB_E_INVALID, "truncated");
    load_expect("c1", WB_E_INVALID, "truncated");
}

static void test_text_must_be_utf8(void **state)
{
    (void)state;
    load_expect("61 ff", WB_E_INVALID, "text string at byte 0 is not valid UTF-8");
    load_expect("62 c0 80", WB_E_INVALID, "not valid UTF-8");     /* overlong NUL */
    load_expect("63 ed a0 80", WB_E_INVALID, "not valid UTF-8");  /* surrogate */
    load_expect("64 f4 90 80 80", WB_E_INVALID, "not valid UTF-8"); /* > U+10FFFF */
    load_expect("81 61 80", WB_E_INVALID, "text string at byte 1");
    load_expect("64 f0 9f 98 80", 0, NULL); /* U+1F600 */
    assert_true(wb_utf8_valid((const uint8_t *)"", 0));
    assert_false(wb_utf8_valid((const uint8_t *)"\xe2\x82", 2)); /* cut short */
}

static void test_nesting_limit(void **state)
{
    char hex[128];
    size_t o = 0;

    (void)state;
    /* 16 nested arrays are fine, 17 are not; tags count as levels */
    for (int i = 0; i < 15; i++)
        o += (size_t)snprintf(hex + o, sizeof(hex) - o, "81");
    snprintf(hex + o, sizeof(hex) - o, "80");
    load_expect(hex, 0, NULL);
    o = 0;
    for (int i = 0; i < 16; i++)
        o += (size_t)snprintf(hex + o, sizeof(hex) - o, "81");
    snprintf(hex + o, sizeof(hex) - o, "80");
    load_expect(hex, WB_E_LIMIT, "array at byte 16 is nested deeper than 16 levels");
    o = 0;
    for (int i = 0; i < 16; i++)
        o += (size_t)snprintf(hex + o, sizeof(hex) - o, "c1");
    snprintf(hex + o, sizeof(hex) - o, "a0");
    load_expect(hex, WB_E_LIMIT, "map at byte 16 is nested deeper");
}

static void test_deep_input_does_not_recurse_in_libcbor(void **state)
{
    /* a megabyte of 0x81: refused by the scan before libcbor builds it */
    size_t n = 1 << 20;
    uint8_t *data = malloc(n);
    cbor_item_t *it;

    (void)state;
    assert_non_null(data);
    memset(data, 0x81, n - 1);
    data[n - 1] = 0x00;
    assert_int_equal(wb_cbor_load(&it, data, n, n, "test"), WB_E_LIMIT);
    assert_non_null(strstr(wb_error_message(), "nested deeper than 16"));
    free(data);
}

static void test_item_limit(void **state)
{
    size_t n = 3 + WB_CBOR_ITEMS_MAX;
    uint8_t *data = malloc(n);
    cbor_item_t *it;

    (void)state;
    assert_non_null(data);
    /* an array of 4095 zeros is 4096 items; one more zero is too many */
    data[0] = 0x99;
    data[1] = (uint8_t)((WB_CBOR_ITEMS_MAX - 1) >> 8);
    data[2] = (uint8_t)(WB_CBOR_ITEMS_MAX - 1);
    memset(data + 3, 0, WB_CBOR_ITEMS_MAX - 1);
    assert_int_equal(wb_cbor_load(&it, data, n - 1, n, "test"), 0);
    cbor_decref(&it);
    data[2] = (uint8_t)WB_CBOR_ITEMS_MAX;
    data[1] = (uint8_t)(WB_CBOR_ITEMS_MAX >> 8);
    data[n - 1] = 0;
    assert_int_equal(wb_cbor_load(&it, data, n, n, "test"), WB_E_LIMIT);
    assert_non_null(strstr(wb_error_message(), "more than 4096 CBOR items"));
    free(data);
}

static void test_duplicate_keys(void **state)
{
    (void)state;
    load_expect("a2 01 00 01 01", WB_E_INVALID, "test: map key 1 appears twice");
    load_expect("a2 20 00 20 01", WB_E_INVALID, "map key -1 appears twice");
    load_expect("a2 6161 00 6161 01", WB_E_INVALID, "map key \"a\" appears twice");
    /* equal value, different encodings */
    load_expect("a2 04 00 1804 01", WB_E_INVALID, "map key 4 appears twice");
    load_expect("a2 190100 00 1a00000100 01", WB_E_INVALID, "map key 256 appears twice");
    load_expect("a2 f93c00 00 fa3f800000 01", WB_E_INVALID, "appears twice"); /* 1.0 */
    load_expect("a2 4101 00 4101 00", WB_E_INVALID, "map key (a byte string) appears");
    load_expect("a2 820102 00 820102 00", WB_E_INVALID, "map key (an array) appears");
    load_expect("a2 a2 01 02 03 04 00 a2 03 04 01 02 00", WB_E_INVALID, "map key (a map) appears");
    load_expect("a2 c101 00 d80101 00", WB_E_INVALID, "map key (a tagged item)");
    load_expect("a2 f5 00 f5 00", WB_E_INVALID, "map key (true) appears twice");
    /* where: in a nested map, with the path */
    load_expect("82 00 a1 0f a2 01 00 01 00", WB_E_INVALID,
                "map key 1 appears twice in [1][15]");
    /* not duplicates: type and value differ */
    load_expect("a4 01 00 20 00 6131 00 4131 00", 0, NULL);
    load_expect("a2 f93c00 00 01 00", 0, NULL); /* 1.0 is not 1 */
    load_expect("a2 f90000 00 f98000 00", 0, NULL); /* 0.0 and -0.0 */
    load_expect("a2 c101 00 c201 00", 0, NULL);
}

static void test_scan_and_head(void **state)
{
    size_t len, used;
    uint8_t *data = unhex("a10126 00", &len);
    wb_reader r;
    unsigned major;
    uint64_t arg;

    (void)state;
    assert_int_equal(wb_cbor_scan(&used, data, len, "test"), 0);
    assert_int_equal(used, 3);
    wb_reader_init(&r, data, len);
    assert_true(wb_cbor_head(&r, &major, &arg));
    assert_int_equal(major, WB_CBOR_MAP);
    assert_int_equal(arg, 1);
    free(data);
}

static void test_accessors(void **state)
{
    size_t len;
    uint8_t *data = unhex("a4 01 26 20 3bffffffffffffffff 6373766e 1b8000000000000000 04 41 00",
                          &len);
    cbor_item_t *it;
    int64_t v;
    char key[48];

    (void)state;
    assert_int_equal(wb_cbor_load(&it, data, len, 64, "test"), 0);
    assert_true(wb_cbor_int64(wb_cbor_map_get_int(it, 1), &v));
    assert_int_equal(v, -7);
    assert_false(wb_cbor_int64(wb_cbor_map_get_int(it, -1), &v)); /* -2^64 */
    assert_null(wb_cbor_map_get_int(it, 2));
    assert_false(wb_cbor_int64(cbor_map_handle(it)[2].value, &v)); /* 2^63 */
    wb_cbor_key_text(key, sizeof(key), cbor_map_handle(it)[2].key);
    assert_string_equal(key, "\"svn\"");
    assert_string_equal(wb_cbor_type_name(wb_cbor_map_get_int(it, 4)), "a byte string");
    cbor_decref(&it);
    free(data);
}

/* ---- the encoder: shortest heads ---- */

static void test_encoder_is_deterministic(void **state)
{
    static const struct {
        int64_t v;
        const char *hex;
    } ints[] = {
        {0, "00"},           {23, "17"},
        {24, "1818"},        {255, "18ff"},
        {256, "190100"},     {65535, "19ffff"},
        {65536, "1a00010000"}, {4294967295LL, "1affffffff"},
        {4294967296LL, "1b0000000100000000"},
        {INT64_MAX, "1b7fffffffffffffff"},
        {-1, "20"},          {-24, "37"},
        {-25, "3818"},       {-256, "38ff"},
        {-257, "390100"},    {INT64_MIN, "3b7fffffffffffffff"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
        wb_buf b;
        size_t len;
        uint8_t *want = unhex(ints[i].hex, &len);
        wb_buf_init(&b, 64);
        wb_cbor_put_int(&b, ints[i].v);
        assert_int_equal(b.len, len);
        assert_memory_equal(b.data, want, len);
        wb_buf_cleanup(&b);
        free(want);
    }
    {
        wb_buf b;
        wb_buf_init(&b, 64);
        wb_cbor_put_uint(&b, UINT64_MAX);
        wb_cbor_put_text(&b, "a", 1);
        wb_cbor_put_bytes(&b, NULL, 0);
        wb_cbor_put_bool(&b, 1);
        wb_cbor_put_bool(&b, 0);
        wb_cbor_put_nil(&b);
        assert_int_equal(b.len, 9 + 2 + 1 + 3);
        assert_memory_equal(b.data, "\x1b\xff\xff\xff\xff\xff\xff\xff\xff\x61\x61\x40\xf5\xf4\xf6",
                            15);
        wb_buf_cleanup(&b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepts_plain_items),
        cmocka_unit_test(test_tags_6_to_20),
        cmocka_unit_test(test_size_limit_before_parsing),
        cmocka_unit_test(test_trailing_bytes),
        cmocka_unit_test(test_indefinite_lengths),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_text_must_be_utf8),
        cmocka_unit_test(test_nesting_limit),
        cmocka_unit_test(test_deep_input_does_not_recurse_in_libcbor),
        cmocka_unit_test(test_item_limit),
        cmocka_unit_test(test_duplicate_keys),
        cmocka_unit_test(test_scan_and_head),
        cmocka_unit_test(test_accessors),
        cmocka_unit_test(test_encoder_is_deterministic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
