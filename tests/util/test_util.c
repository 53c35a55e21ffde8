/*
 * test_util.c: the bounded reader, the capped builder, base64 (RFC 4648 §10
 * vectors), hex, decimal parsing, size math and the error message.
 */
#include "wbtest.h"

#include <string.h>

#include "waybill/error.h"
#include "waybill/util.h"

static void test_reader_bounds(void **state)
{
    (void)state;
    const uint8_t data[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09};
    wb_reader r, sub;
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    uint64_t u64;

    wb_reader_init(&r, data, sizeof(data));
    assert_int_equal(wb_reader_get_u8(&r, &u8), 1);
    assert_int_equal(u8, 1);
    assert_int_equal(wb_reader_get_u16be(&r, &u16), 1);
    assert_int_equal(u16, 0x0203);
    assert_int_equal(wb_reader_get_u32be(&r, &u32), 1);
    assert_int_equal(u32, 0x04050607);
    assert_int_equal(wb_reader_left(&r), 2);
    /* too short: fails and leaves the reader unchanged */
    assert_int_equal(wb_reader_get_u64be(&r, &u64), 0);
    assert_int_equal(wb_reader_get_u32be(&r, &u32), 0);
    assert_int_equal(wb_reader_left(&r), 2);
    assert_int_equal(wb_reader_get_sub(&r, &sub, 3), 0);
    assert_int_equal(wb_reader_get_sub(&r, &sub, 2), 1);
    assert_int_equal(wb_reader_left(&sub), 2);
    assert_int_equal(wb_reader_left(&r), 0);
    assert_int_equal(wb_reader_get_u8(&r, &u8), 0);

    /* 64-bit */
    wb_reader_init(&r, data, 8);
    assert_int_equal(wb_reader_get_u64be(&r, &u64), 1);
    assert_true(u64 == 0x0102030405060708ULL);
}

static void test_reader_prefixed(void **state)
{
    (void)state;
    const uint8_t ok[] = {0x00, 0x02, 'h', 'i', 0x00, 0x00};
    const uint8_t bad[] = {0x00, 0x05, 'h', 'i'};
    wb_reader r, sub;

    wb_reader_init(&r, ok, sizeof(ok));
    assert_int_equal(wb_reader_get_u16_prefixed(&r, &sub), 1);
    assert_int_equal(wb_reader_left(&sub), 2);
    assert_memory_equal(sub.ptr, "hi", 2);
    assert_int_equal(wb_reader_get_u16_prefixed(&r, &sub), 1);
    assert_int_equal(wb_reader_left(&sub), 0);
    assert_int_equal(wb_reader_left(&r), 0);

    wb_reader_init(&r, bad, sizeof(bad));
    assert_int_equal(wb_reader_get_u16_prefixed(&r, &sub), 0);
    assert_int_equal(wb_reader_left(&r), sizeof(bad)); /* unchanged */
}

static void test_reader_until(void **state)
{
    (void)state;
    const char *s = "one\ntwo\nrest";
    wb_reader r, line;
    wb_reader_init(&r, s, strlen(s));
    assert_int_equal(wb_reader_get_until(&r, &line, '\n'), 1);
    assert_int_equal(wb_reader_left(&line), 3);
    assert_memory_equal(line.ptr, "one", 3);
    assert_int_equal(wb_reader_get_until(&r, &line, '\n'), 1);
    assert_memory_equal(line.ptr, "two", 3);
    assert_int_equal(wb_reader_get_until(&r, &line, '\n'), 0);
    assert_int_equal(wb_reader_left(&r), 4);
}

static void test_buf_cap_and_sticky(void **state)
{
    (void)state;
    wb_buf b;
    uint8_t *out;
    size_t len;

    wb_buf_init(&b, 8);
    assert_int_equal(wb_buf_add_u32be(&b, 0x01020304), 0);
    assert_int_equal(wb_buf_add_u16be(&b, 0x0506), 0);
    assert_int_equal(wb_buf_add(&b, "xyz", 3), WB_E_LIMIT);
    assert_non_null(strstr(wb_error_message(), "limit"));
    /* sticky: even a fitting append fails now */
    assert_int_equal(wb_buf_add_u8(&b, 7), WB_E_LIMIT);
    assert_int_equal(wb_buf_error(&b), WB_E_LIMIT);
    assert_int_equal(wb_buf_finish(&b, &out, &len), WB_E_LIMIT);
    assert_null(b.data);

    wb_buf_init(&b, 64);
    assert_int_equal(wb_buf_add_u64be(&b, 0x1122334455667788ULL), 0);
    assert_int_equal(wb_buf_printf(&b, "n=%d", 42), 0);
    assert_int_equal(wb_buf_add_hex(&b, "\xab\x01", 2), 0);
    assert_int_equal(wb_buf_add_base64(&b, "foo", 3), 0);
    assert_int_equal(wb_buf_finish(&b, &out, &len), 0);
    assert_int_equal(len, 8 + 4 + 4 + 4);
    assert_memory_equal(out, "\x11\x22\x33\x44\x55\x66\x77\x88n=42ab01Zm9v", len);
    assert_int_equal(out[len], 0);
    free(out);

    /* empty buffer finishes to an empty string */
    wb_buf_init(&b, 4);
    assert_int_equal(wb_buf_finish(&b, &out, &len), 0);
    assert_int_equal(len, 0);
    assert_int_equal(out[0], 0);
    free(out);
}

static void test_buf_growth(void **state)
{
    (void)state;
    wb_buf b;
    uint8_t *out;
    size_t len;
    wb_buf_init(&b, 1 << 20);
    for (int i = 0; i < 100000; i++)
        wb_buf_add_u8(&b, (uint8_t)i);
    assert_int_equal(wb_buf_finish(&b, &out, &len), 0);
    assert_int_equal(len, 100000);
    for (size_t i = 0; i < len; i++)
        assert_int_equal(out[i], (uint8_t)i);
    free(out);
}

/* RFC 4648 §10 */
static const char *b64_vectors[][2] = {
    {"", ""},         {"f", "Zg=="},        {"fo", "Zm8="},
    {"foo", "Zm9v"},  {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
};

static void test_base64_rfc4648(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(b64_vectors) / sizeof(b64_vectors[0]); i++) {
        char enc[32];
        uint8_t dec[32];
        size_t n;
        const char *plain = b64_vectors[i][0], *coded = b64_vectors[i][1];
        wb_base64_encode(enc, plain, strlen(plain));
        assert_string_equal(enc, coded);
        assert_int_equal(wb_base64_encoded_len(strlen(plain)), strlen(coded));
        assert_int_equal(wb_base64_decode(dec, sizeof(dec), &n, coded, strlen(coded)), 0);
        assert_int_equal(n, strlen(plain));
        assert_memory_equal(dec, plain, n);
    }
}

static void test_base64_rejects(void **state)
{
    (void)state;
    const char *bad[] = {
        "Zg",       /* missing padding */
        "Zg=",      /* short padding */
        "Zh==",     /* non-zero pad bits */
        "Zm9=",     /* non-zero pad bits */
        "Z===",     /* too much padding */
        "Zg==Zg==", /* padding in the middle */
        "Zm9v\n",   /* newline */
        "Zm-v",     /* URL alphabet */
        "Zm_v",
        "=Zm9",
        "Zm 9",
    };
    uint8_t out[16];
    size_t n;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        wb_error_clear();
        assert_int_equal(wb_base64_decode(out, sizeof(out), &n, bad[i], strlen(bad[i])),
                         WB_E_INVALID);
        assert_true(strlen(wb_error_message()) > 0);
    }
    /* output capacity is respected */
    assert_int_equal(wb_base64_decode(out, 5, &n, "Zm9vYmFy", 8), WB_E_INVALID);
    assert_int_equal(wb_base64_decode(out, 6, &n, "Zm9vYmFy", 8), 0);
    assert_int_equal(n, 6);
}

static void test_base64_roundtrip_random(void **state)
{
    (void)state;
    uint64_t seed = wbt_seed("base64");
    for (int iter = 0; iter < 2000; iter++) {
        uint8_t in[64], dec[64];
        char enc[128];
        size_t len = wbt_rand(&seed) % sizeof(in), n;
        for (size_t i = 0; i < len; i++)
            in[i] = (uint8_t)wbt_rand(&seed);
        wb_base64_encode(enc, in, len);
        assert_int_equal(wb_base64_decode(dec, sizeof(dec), &n, enc, strlen(enc)), 0);
        assert_int_equal(n, len);
        assert_memory_equal(dec, in, len);
    }
}

static void test_hex(void **state)
{
    (void)state;
    char enc[9];
    uint8_t dec[4];
    wb_hex_encode(enc, "\x00\x9f\xab\xff", 4);
    assert_string_equal(enc, "009fabff");
    assert_int_equal(wb_hex_decode(dec, 4, "009fabff", 8), 0);
    assert_memory_equal(dec, "\x00\x9f\xab\xff", 4);
    assert_int_equal(wb_hex_decode(dec, 4, "009FABFF", 8), WB_E_INVALID);
    assert_int_equal(wb_hex_decode(dec, 4, "009fab", 6), WB_E_INVALID);
    assert_int_equal(wb_hex_decode(dec, 4, "009fabfg", 8), WB_E_INVALID);
    assert_int_equal(wb_hex_decode(dec, 3, "009fabf", 7), WB_E_INVALID);
}

static void test_parse_u64(void **state)
{
    (void)state;
    uint64_t v;
    assert_int_equal(wb_parse_u64(&v, "0", 1), 0);
    assert_true(v == 0);
    assert_int_equal(wb_parse_u64(&v, "18446744073709551615", 20), 0);
    assert_true(v == UINT64_MAX);
    assert_int_equal(wb_parse_u64(&v, "18446744073709551616", 20), WB_E_INVALID);
    assert_int_equal(wb_parse_u64(&v, "01", 2), WB_E_INVALID);
    assert_int_equal(wb_parse_u64(&v, "", 0), WB_E_INVALID);
    assert_int_equal(wb_parse_u64(&v, "-1", 2), WB_E_INVALID);
    assert_int_equal(wb_parse_u64(&v, "+1", 2), WB_E_INVALID);
    assert_int_equal(wb_parse_u64(&v, "1 ", 2), WB_E_INVALID);
    assert_int_equal(wb_parse_u64(&v, "12x", 3), WB_E_INVALID);
    assert_int_equal(wb_parse_u64(&v, "123", 2), 0); /* exactly len chars */
    assert_true(v == 12);
}

static void test_size_math(void **state)
{
    (void)state;
    size_t out;
    assert_int_equal(wb_size_add(&out, SIZE_MAX - 1, 1), 0);
    assert_true(out == SIZE_MAX);
    assert_int_equal(wb_size_add(&out, SIZE_MAX, 1), WB_E_LIMIT);
    assert_int_equal(wb_size_mul(&out, SIZE_MAX / 2, 2), 0);
    assert_int_equal(wb_size_mul(&out, SIZE_MAX / 2 + 1, 2), WB_E_LIMIT);
    assert_int_equal(wb_size_mul(&out, 0, SIZE_MAX), 0);
    assert_true(out == 0);
}

static void test_error_message(void **state)
{
    (void)state;
    wb_error_clear();
    assert_string_equal(wb_error_message(), "");
    assert_int_equal(wb_error_set(WB_E_RANGE, "index %d past size %d", 9, 3), WB_E_RANGE);
    assert_int_equal(wb_error_prefix(WB_E_RANGE, "entry %d", 2), WB_E_RANGE);
    assert_string_equal(wb_error_message(), "entry 2: index 9 past size 3");
    assert_string_equal(wb_error_name(WB_E_RANGE), "WB_E_RANGE");
    assert_true(wb_ct_equal("abc", "abc", 3));
    assert_false(wb_ct_equal("abc", "abd", 3));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reader_bounds),
        cmocka_unit_test(test_reader_prefixed),
        cmocka_unit_test(test_reader_until),
        cmocka_unit_test(test_buf_cap_and_sticky),
        cmocka_unit_test(test_buf_growth),
        cmocka_unit_test(test_base64_rfc4648),
        cmocka_unit_test(test_base64_rejects),
        cmocka_unit_test(test_base64_roundtrip_random),
        cmocka_unit_test(test_hex),
        cmocka_unit_test(test_parse_u64),
        cmocka_unit_test(test_size_math),
        cmocka_unit_test(test_error_message),
    };
    return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
