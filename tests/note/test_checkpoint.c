/*
 * test_checkpoint.c: C2SP tlog-checkpoint note text
 * (https://c2sp.org/tlog-checkpoint): the spec's example, a round trip over
 * random checkpoints, signing and opening one, and one test per rule for
 * malformed texts.
 */
#include "wbtest.h"

#include <string.h>

#include "waybill/error.h"
#include "waybill/note.h"
#include "waybill/util.h"

#define EXAMPLE_BODY                                                           \
    "example.com/behind-the-sofa\n"                                            \
    "20852163\n"                                                               \
    "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
#define ROOT_B64 "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="

#define assert_err(call, want, needle)                                           \
    do {                                                                         \
        wb_error_clear();                                                        \
        int rc_ = (call);                                                        \
        if (rc_ != (want))                                                       \
            fail_msg("%s: got %s (%s), want %s", #call, wb_error_name(rc_),      \
                     wb_error_message(), wb_error_name(want));                   \
        if (wb_error_message()[0] == '\0')                                       \
            fail_msg("%s: no error message", #call);                             \
        if (!strstr(wb_error_message(), (needle)))                               \
            fail_msg("%s: message '%s' does not mention '%s'", #call,            \
                     wb_error_message(), (needle));                              \
    } while (0)

#define assert_ok(call)                                                          \
    do {                                                                         \
        int rc_ = (call);                                                        \
        if (rc_ != 0)                                                            \
            fail_msg("%s: %s: %s", #call, wb_error_name(rc_), wb_error_message()); \
    } while (0)

/* parses NUL-terminated text, expecting failure; cp must come back empty */
static int parse_bad(const char *text)
{
    wb_checkpoint cp;
    int rc = wb_checkpoint_parse(&cp, text, strlen(text));
    if (rc != 0) {
        assert_int_equal(cp.next, 0);
        assert_int_equal(cp.size, 0);
    }
    wb_checkpoint_cleanup(&cp);
    return rc;
}

static void test_c2sp_example(void **state)
{
    (void)state;
    static const uint8_t root[32] = {
        0x0a, 0xc5, 0x18, 0x6a, 0x91, 0x86, 0x3e, 0x8e, 0x1d, 0x90, 0xc8,
        0x08, 0x01, 0x4a, 0xa8, 0x9b, 0xf5, 0xda, 0x8e, 0x3e, 0xe1, 0xd9,
        0xf0, 0x76, 0x30, 0xf0, 0x37, 0x8f, 0x68, 0xf1, 0xab, 0x62};
    wb_checkpoint cp;
    char *file, *out = NULL;
    size_t len, out_len = 0;

    /* the vector file is this body, a blank line and a signature */
    file = wbt_read_file(wbt_vector_path("note/c2sp_checkpoint.note"), &len);
    assert_true(len > strlen(EXAMPLE_BODY));
    assert_memory_equal(file, EXAMPLE_BODY "\n", strlen(EXAMPLE_BODY) + 1);
    free(file);

    assert_ok(wb_checkpoint_parse(&cp, EXAMPLE_BODY, strlen(EXAMPLE_BODY)));
    assert_string_equal(cp.origin, "example.com/behind-the-sofa");
    assert_true(cp.size == 20852163);
    assert_memory_equal(cp.root, root, 32);
    assert_int_equal(cp.next, 0);
    assert_ok(wb_checkpoint_format(&out, &out_len, &cp));
    assert_int_equal(out_len, strlen(EXAMPLE_BODY));
    assert_string_equal(out, EXAMPLE_BODY);
    free(out);
    wb_checkpoint_cleanup(&cp);
    wb_checkpoint_cleanup(&cp); /* twice is harmless */
}

static void test_extensions_and_odd_origins(void **state)
{
    (void)state;
    /* clients MUST NOT assume the origin is a URL: spaces and '+' are fine */
    static const char text[] = "my log + friends \xe2\x9c\x93\n0\n" ROOT_B64 "\n"
                               "ext one\n\xe2\x80\x94 looks like a signature\n";
    wb_checkpoint cp;
    char *out = NULL;
    size_t len;

    assert_ok(wb_checkpoint_parse(&cp, text, sizeof(text) - 1));
    assert_string_equal(cp.origin, "my log + friends \xe2\x9c\x93");
    assert_true(cp.size == 0);
    assert_int_equal(cp.next, 2);
    assert_string_equal(cp.ext[0], "ext one");
    assert_string_equal(cp.ext[1], "\xe2\x80\x94 looks like a signature");
    assert_ok(wb_checkpoint_format(&out, &len, &cp));
    assert_string_equal(out, text);
    free(out);
    wb_checkpoint_cleanup(&cp);
    assert_int_equal(cp.next, 0);
}

/* random printable UTF-8 of exactly n bytes, never a newline */
static void random_line(char *out, size_t n, uint64_t *rs)
{
    static const char *pieces[] = {"a", "Z", "0", "/", ".", " ", "+", "-", "=",
                                   "\x7f", "\xc3\xa9", "\xe2\x80\x94",
                                   "\xf0\x9f\x93\xa6"};
    size_t i = 0;
    while (i < n) {
        const char *p = pieces[wbt_rand(rs) % (sizeof(pieces) / sizeof(pieces[0]))];
        size_t m = strlen(p);
        if (m > n - i)
            p = "x", m = 1;
        memcpy(out + i, p, m);
        i += m;
    }
    out[n] = '\0';
}

static void test_round_trip_random(void **state)
{
    (void)state;
    uint64_t rs = wbt_seed("checkpoint round trip");

    for (int iter = 0; iter < 300; iter++) {
        wb_checkpoint cp, back;
        char *out = NULL, *again = NULL;
        size_t len = 0, len2 = 0;
        uint64_t r = wbt_rand(&rs);

        memset(&cp, 0, sizeof(cp));
        random_line(cp.origin, 1 + wbt_rand(&rs) % WB_NOTE_NAME_MAX, &rs);
        cp.size = r % 4 == 0 ? 0 : r % 4 == 1 ? UINT64_MAX : wbt_rand(&rs) >> (r % 64);
        for (int i = 0; i < 32; i++)
            cp.root[i] = (uint8_t)wbt_rand(&rs);
        cp.next = (size_t)(wbt_rand(&rs) % (WB_CHECKPOINT_MAX_EXT + 1));
        for (size_t i = 0; i < cp.next; i++) {
            size_t n = 1 + wbt_rand(&rs) % 80;
            cp.ext[i] = malloc(n + 1);
            assert_non_null(cp.ext[i]);
            random_line(cp.ext[i], n, &rs);
        }
        assert_ok(wb_checkpoint_format(&out, &len, &cp));
        assert_int_equal(strlen(out), len);
        assert_ok(wb_checkpoint_parse(&back, out, len));
        assert_string_equal(back.origin, cp.origin);
        assert_true(back.size == cp.size);
        assert_memory_equal(back.root, cp.root, 32);
        assert_int_equal(back.next, cp.next);
        for (size_t i = 0; i < cp.next; i++)
            assert_string_equal(back.ext[i], cp.ext[i]);
        assert_ok(wb_checkpoint_format(&again, &len2, &back));
        assert_int_equal(len2, len);
        assert_memory_equal(again, out, len);
        free(out);
        free(again);
        wb_checkpoint_cleanup(&cp);
        wb_checkpoint_cleanup(&back);
    }
}

static void test_sign_open_parse(void **state)
{
    (void)state;
    wb_note_key *k = NULL;
    wb_checkpoint cp, back;
    char *body = NULL, *msg = NULL;
    size_t body_len, msg_len;
    wb_note n;

    memset(&cp, 0, sizeof(cp));
    strcpy(cp.origin, "waybill.example/log");
    cp.size = 1042;
    memset(cp.root, 0xab, sizeof(cp.root));
    assert_ok(wb_note_key_generate(&k, cp.origin));
    assert_ok(wb_checkpoint_format(&body, &body_len, &cp));
    assert_ok(wb_note_sign(&msg, &msg_len, body, body_len, &k, 1));
    assert_ok(wb_note_open(&n, msg, msg_len, &k, 1));
    assert_ok(wb_checkpoint_parse(&back, n.text, n.text_len));
    assert_string_equal(back.origin, cp.origin);
    assert_true(back.size == 1042);
    assert_memory_equal(back.root, cp.root, 32);
    wb_checkpoint_cleanup(&back);
    wb_note_cleanup(&n);
    free(body);
    free(msg);
    wb_note_key_free(k);
}

/* ---- malformed texts, one test per rule ---- */

static void test_parse_empty_and_too_big(void **state)
{
    (void)state;
    wb_checkpoint cp;
    char *big = malloc(WB_NOTE_MAX + 1);
    assert_non_null(big);
    memset(big, 'a', WB_NOTE_MAX + 1);
    assert_err(wb_checkpoint_parse(&cp, "", 0), WB_E_INVALID, "empty");
    assert_err(wb_checkpoint_parse(&cp, big, WB_NOTE_MAX + 1), WB_E_LIMIT, "limit");
    free(big);
}

/* a note text ends in a newline */
static void test_parse_no_final_newline(void **state)
{
    (void)state;
    assert_err(parse_bad("example.com/log\n1\n" ROOT_B64), WB_E_INVALID,
               "checkpoint line 3: does not end in a newline");
    assert_err(parse_bad(EXAMPLE_BODY "ext"), WB_E_INVALID,
               "checkpoint line 4: does not end in a newline");
}

/* "a sequence of at least three non-empty lines" */
static void test_parse_too_few_lines(void **state)
{
    (void)state;
    assert_err(parse_bad("example.com/log\n1\n"), WB_E_INVALID,
               "needs origin, tree size and root hash");
    assert_err(parse_bad("example.com/log\n"), WB_E_INVALID, "1 line;");
}

/* "The origin MUST be non-empty" */
static void test_parse_empty_origin(void **state)
{
    (void)state;
    assert_err(parse_bad("\n1\n" ROOT_B64 "\n"), WB_E_INVALID,
               "checkpoint line 1: origin line is empty");
}

/* our limit on origin length (it is held in a 256-byte field) */
static void test_parse_long_origin(void **state)
{
    (void)state;
    char text[600];
    memset(text, 'o', WB_NOTE_NAME_MAX + 1);
    snprintf(text + WB_NOTE_NAME_MAX + 1, sizeof(text) - WB_NOTE_NAME_MAX - 1,
             "\n1\n%s\n", ROOT_B64);
    assert_err(parse_bad(text), WB_E_LIMIT, "origin is 256 bytes");
    /* 255 is fine */
    memset(text, 'o', WB_NOTE_NAME_MAX);
    snprintf(text + WB_NOTE_NAME_MAX, sizeof(text) - WB_NOTE_NAME_MAX, "\n1\n%s\n",
             ROOT_B64);
    assert_int_equal(parse_bad(text), 0);
}

/* "the ASCII decimal representation ... with no leading zeroes" */
static void test_parse_bad_tree_size(void **state)
{
    (void)state;
    static const struct {
        const char *size;
        const char *needle;
    } cases[] = {
        {"01", "leading zero"},
        {"00", "leading zero"},
        {"-1", "not a decimal digit"},
        {"+1", "not a decimal digit"},
        {" 1", "not a decimal digit"},
        {"1 ", "not a decimal digit"},
        {"0x10", "leading zero"},
        {"16x", "not a decimal digit"},
        {"1e3", "not a decimal digit"},
        {"\xd9\xa1", "not a decimal digit"}, /* ARABIC-INDIC DIGIT ONE */
        {"18446744073709551616", "does not fit in 64 bits"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char text[256];
        snprintf(text, sizeof(text), "example.com/log\n%s\n%s\n", cases[i].size, ROOT_B64);
        assert_err(parse_bad(text), WB_E_INVALID, "checkpoint line 2: tree size");
        assert_err(parse_bad(text), WB_E_INVALID, cases[i].needle);
    }
    assert_err(parse_bad("example.com/log\n\n" ROOT_B64 "\n"), WB_E_INVALID,
               "tree size line is empty");
    /* the edges that are fine */
    assert_int_equal(parse_bad("example.com/log\n0\n" ROOT_B64 "\n"), 0);
    assert_int_equal(parse_bad("example.com/log\n18446744073709551615\n" ROOT_B64 "\n"), 0);
}

/* "the base64 encoding of the root" (RFC 4648 §4; SHA-256: 32 bytes) */
static void test_parse_bad_root_hash(void **state)
{
    (void)state;
    static const struct {
        const char *root;
        const char *needle;
    } cases[] = {
        {"CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I", "multiple of 4"},
        {"CsUYapGGPo4dkMgIAUqom_Xajj7h2fB2MPA3j2jxq2I=", "invalid character"},
        {"CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2J=", "padding bits"},
        {"CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jx", "30 bytes, not 32"},
        {"CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2Jz", "33 bytes, not 32"},
        {"CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2Jzq2Jz", "36 bytes, not 32"},
        {ROOT_B64 ROOT_B64,
         "88 characters"},
        {"0ac5186a91863e8e1d90c808014aa89bf5da8e3ee1d9f07630f0378f68f1ab62",
         "48 bytes"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char text[256];
        snprintf(text, sizeof(text), "example.com/log\n5\n%s\n", cases[i].root);
        assert_err(parse_bad(text), WB_E_INVALID, "checkpoint line 3: root hash");
        assert_err(parse_bad(text), WB_E_INVALID, cases[i].needle);
    }
    assert_err(parse_bad("example.com/log\n5\n\n"), WB_E_INVALID, "root hash line is empty");
}

/* "Extension lines, if any, MUST be non-empty" */
static void test_parse_empty_extension_line(void **state)
{
    (void)state;
    assert_err(parse_bad(EXAMPLE_BODY "\n"), WB_E_INVALID,
               "checkpoint line 4: extension line is empty");
    assert_err(parse_bad(EXAMPLE_BODY "a\n\nb\n"), WB_E_INVALID,
               "checkpoint line 5: extension line is empty");
}

/* our limit on extension lines */
static void test_parse_extension_limit(void **state)
{
    (void)state;
    wb_buf b;
    uint8_t *text;
    size_t len;
    wb_checkpoint cp;

    wb_buf_init(&b, WB_NOTE_MAX);
    wb_buf_add_str(&b, EXAMPLE_BODY);
    for (int i = 0; i < WB_CHECKPOINT_MAX_EXT; i++)
        wb_buf_printf(&b, "ext %d\n", i);
    assert_ok(wb_buf_finish(&b, &text, &len));
    assert_ok(wb_checkpoint_parse(&cp, (char *)text, len));
    assert_int_equal(cp.next, WB_CHECKPOINT_MAX_EXT);
    assert_string_equal(cp.ext[WB_CHECKPOINT_MAX_EXT - 1], "ext 31");
    wb_checkpoint_cleanup(&cp);
    free(text);

    wb_buf_init(&b, WB_NOTE_MAX);
    wb_buf_add_str(&b, EXAMPLE_BODY);
    for (int i = 0; i <= WB_CHECKPOINT_MAX_EXT; i++)
        wb_buf_printf(&b, "ext %d\n", i);
    assert_ok(wb_buf_finish(&b, &text, &len));
    assert_err(wb_checkpoint_parse(&cp, (char *)text, len), WB_E_LIMIT,
               "33 extension lines, over the limit of 32");
    assert_int_equal(cp.next, 0);
    free(text);
}

/* the text is a note text: UTF-8, no control characters but newline */
static void test_parse_bad_characters(void **state)
{
    (void)state;
    assert_err(parse_bad("example.com/log\n5\r\n" ROOT_B64 "\n"), WB_E_INVALID,
               "checkpoint line 2: carriage return");
    assert_err(parse_bad("example.com/\tlog\n5\n" ROOT_B64 "\n"), WB_E_INVALID,
               "checkpoint line 1: control character U+0009");
    assert_err(parse_bad("example.com/\xc0\xaflog\n5\n" ROOT_B64 "\n"), WB_E_INVALID,
               "checkpoint line 1: invalid UTF-8");
    assert_err(parse_bad(EXAMPLE_BODY "ext \xed\xa0\x80\n"), WB_E_INVALID,
               "checkpoint line 4: invalid UTF-8");
}

/* ---- the formatter refuses what the parser would ---- */

static void test_format_rejects(void **state)
{
    (void)state;
    wb_checkpoint cp;
    char *out = (char *)1;
    size_t len = 9;
    char good[] = "ext", empty[] = "", nl[] = "a\nb", ctl[] = "a\x01";

    memset(&cp, 0, sizeof(cp));
    assert_err(wb_checkpoint_format(&out, &len, &cp), WB_E_INVALID, "origin is empty");
    assert_null(out);
    assert_int_equal(len, 0);
    strcpy(cp.origin, "a\nb");
    assert_err(wb_checkpoint_format(&out, &len, &cp), WB_E_INVALID,
               "origin contains a newline");
    strcpy(cp.origin, "a\rb");
    assert_err(wb_checkpoint_format(&out, &len, &cp), WB_E_INVALID, "carriage return");
    memset(cp.origin, 'o', sizeof(cp.origin)); /* no terminator */
    assert_err(wb_checkpoint_format(&out, &len, &cp), WB_E_LIMIT, "origin is over");
    strcpy(cp.origin, "example.com/log");
    cp.next = 1;
    cp.ext[0] = NULL;
    assert_err(wb_checkpoint_format(&out, &len, &cp), WB_E_INVALID, "extension 1 is NULL");
    cp.ext[0] = good;
    cp.next = 2;
    cp.ext[1] = empty;
    assert_err(wb_checkpoint_format(&out, &len, &cp), WB_E_INVALID, "extension 2 is empty");
    cp.ext[1] = nl;
    assert_err(wb_checkpoint_format(&out, &len, &cp), WB_E_INVALID,
               "extension 2 contains a newline");
    cp.ext[1] = ctl;
    assert_err(wb_checkpoint_format(&out, &len, &cp), WB_E_INVALID, "control character");
    cp.next = WB_CHECKPOINT_MAX_EXT + 1;
    assert_err(wb_checkpoint_format(&out, &len, &cp), WB_E_LIMIT, "over the limit of 32");
    cp.next = 1;
    assert_ok(wb_checkpoint_format(&out, &len, &cp));
    assert_string_equal(out, "example.com/log\n0\n"
                             "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\next\n");
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_c2sp_example),
        cmocka_unit_test(test_extensions_and_odd_origins),
        cmocka_unit_test(test_round_trip_random),
        cmocka_unit_test(test_sign_open_parse),
        cmocka_unit_test(test_parse_empty_and_too_big),
        cmocka_unit_test(test_parse_no_final_newline),
        cmocka_unit_test(test_parse_too_few_lines),
        cmocka_unit_test(test_parse_empty_origin),
        cmocka_unit_test(test_parse_long_origin),
        cmocka_unit_test(test_parse_bad_tree_size),
        cmocka_unit_test(test_parse_bad_root_hash),
        cmocka_unit_test(test_parse_empty_extension_line),
        cmocka_unit_test(test_parse_extension_limit),
        cmocka_unit_test(test_parse_bad_characters),
        cmocka_unit_test(test_format_rejects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
