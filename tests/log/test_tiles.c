/*
 * test_tiles.c: tlog-tiles paths, widths and entry bundles (tile.c) and
 * the proof text format (proof_text.c).
 */
#include "wbtest.h"

#include <string.h>

#include "waybill/error.h"
#include "waybill/log.h"

static void expect_path(int entries, unsigned level, uint64_t index, unsigned width,
                        const char *want)
{
    wb_tile_ref ref = {entries, level, index, width}, back;
    char path[WB_TILE_PATH_MAX];
    assert_int_equal(wb_tile_path(path, sizeof(path), &ref), 0);
    assert_string_equal(path, want);
    assert_int_equal(wb_tile_path_parse(&back, path, strlen(path)), 0);
    assert_int_equal(back.entries, entries);
    assert_int_equal(back.level, entries ? 0 : level);
    assert_true(back.index == index);
    assert_int_equal(back.width, width);
}

static void test_paths_spec_examples(void **state)
{
    (void)state;
    /* the tlog-tiles example: index 1234067 is x001/x234/067 */
    expect_path(0, 0, 1234067, 256, "tile/0/x001/x234/067");
    expect_path(0, 0, 0, 256, "tile/0/000");
    expect_path(0, 1, 5, 256, "tile/1/005");
    expect_path(0, 2, 999, 17, "tile/2/999.p/17");
    expect_path(0, 63, 1000, 1, "tile/63/x001/000.p/1");
    expect_path(1, 0, 0, 112, "tile/entries/000.p/112");
    expect_path(1, 0, 273, 256, "tile/entries/273");
    expect_path(0, 0, UINT64_C(18446744073709551615), 255,
                "tile/0/x018/x446/x744/x073/x709/x551/615.p/255");
}

static void test_paths_rejected(void **state)
{
    (void)state;
    const char *bad[] = {
        "",
        "tile",
        "tile/",
        "/tile/0/000",
        "tile/0/000/",
        "tile/00/000",      /* leading zero in level */
        "tile/64/000",      /* level over 63 */
        "tile/-1/000",
        "tile/0/0",         /* index not 3 digits */
        "tile/0/0000",
        "tile/0/x000/005",  /* non-canonical: leading 000 group */
        "tile/0/x1/000",
        "tile/0/001/002",   /* inner group without x */
        "tile/0/x001",      /* last group with x */
        "tile/0/000.p/0",   /* width 0 */
        "tile/0/000.p/256", /* a full tile has no .p */
        "tile/0/000.p/010", /* leading zero in width */
        "tile/0/000.p/",
        "tile/0/000.p",
        "tile/0/000.x/5",
        "tile/entries/",
        "tile/entries/00",
        "tile/entries/000.p/1000",
        "tile/0/x019/x000/x000/x000/x000/x000/000", /* over 2^64 */
        "tile/0/x001/x000/x000/x000/x000/x000/x000/000",
        "tile/0/00a",
        "tile/0/000\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        wb_tile_ref ref;
        if (wb_tile_path_parse(&ref, bad[i], strlen(bad[i])) != WB_E_INVALID)
            fail_msg("accepted bad tile path '%s'", bad[i]);
        assert_non_null(strstr(wb_error_message(), "not a tlog-tiles path"));
    }
}

static void test_paths_random_roundtrip(void **state)
{
    (void)state;
    uint64_t seed = wbt_seed("tile paths");
    for (int i = 0; i < 20000; i++) {
        wb_tile_ref ref, back;
        char path[WB_TILE_PATH_MAX];
        memset(&ref, 0, sizeof(ref));
        ref.entries = (int)(wbt_rand(&seed) % 2);
        ref.level = ref.entries ? 0 : (unsigned)(wbt_rand(&seed) % 64);
        ref.index = wbt_rand(&seed) >> (wbt_rand(&seed) % 64);
        ref.width = (unsigned)(wbt_rand(&seed) % 256) + 1;
        assert_int_equal(wb_tile_path(path, sizeof(path), &ref), 0);
        assert_int_equal(wb_tile_path_parse(&back, path, strlen(path)), 0);
        assert_int_equal(back.entries, ref.entries);
        assert_int_equal(back.level, ref.level);
        assert_true(back.index == ref.index);
        assert_int_equal(back.width, ref.width);
    }
}

static void test_widths_spec_example(void **state)
{
    (void)state;
    /* tlog-tiles: a tree of 70,000 has 273 full level-0 tiles, one of width
     * 112, one full level-1 tile, one of width 17, one level-2 of width 1 */
    assert_int_equal(wb_tile_width(0, 272, 70000), 256);
    assert_int_equal(wb_tile_width(0, 273, 70000), 112);
    assert_int_equal(wb_tile_width(0, 274, 70000), 0);
    assert_int_equal(wb_tile_width(1, 0, 70000), 256);
    assert_int_equal(wb_tile_width(1, 1, 70000), 17);
    assert_int_equal(wb_tile_width(2, 0, 70000), 1);
    assert_int_equal(wb_tile_width(3, 0, 70000), 0);
    /* a tree of 256: one full level-0 tile and a level-1 tile of width 1 */
    assert_int_equal(wb_tile_width(0, 0, 256), 256);
    assert_int_equal(wb_tile_width(1, 0, 256), 1);
    assert_int_equal(wb_bundle_width(0, 255), 255);
    assert_int_equal(wb_bundle_width(1, 255), 0);
    assert_int_equal(wb_tile_width(8, 0, UINT64_MAX), 0);
    assert_int_equal(wb_tile_width(7, 0, UINT64_MAX), 255);
}

static void test_bundle_count(void **state)
{
    (void)state;
    unsigned n;
    const uint8_t ok[] = {0, 1, 'a', 0, 2, 'b', 'c'};
    const uint8_t trunc[] = {0, 1, 'a', 0, 3, 'b', 'c'};
    const uint8_t empty_entry[] = {0, 1, 'a', 0, 0};
    assert_int_equal(wb_bundle_count(ok, sizeof(ok), &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(wb_bundle_count(ok, 0, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(wb_bundle_count(trunc, sizeof(trunc), &n), WB_E_CORRUPT);
    assert_non_null(strstr(wb_error_message(), "entry 1"));
    assert_int_equal(wb_bundle_count(empty_entry, sizeof(empty_entry), &n), WB_E_CORRUPT);
    assert_int_equal(wb_bundle_count(ok, 1, &n), WB_E_CORRUPT);
}

static const char *CP = "example.com/log\n5\n"
                        "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n\n"
                        "\xe2\x80\x94 example.com/log AAAAAAAA\n";

static void test_proof_text_roundtrip(void **state)
{
    (void)state;
    wb_proof_text p, q;
    char *text;
    size_t len;
    memset(&p, 0, sizeof(p));
    p.index = 3;
    p.nhashes = 3;
    for (int i = 0; i < 3; i++)
        memset(p.hashes[i], 0x11 * (i + 1), 32);
    p.checkpoint = CP;
    p.checkpoint_len = strlen(CP);
    assert_int_equal(wb_proof_text_format(&text, &len, &p), 0);
    assert_true(strncmp(text, "c2sp.org/tlog-proof@v1\nindex 3\n", 31) == 0);
    assert_int_equal(wb_proof_text_parse(&q, text, len), 0);
    assert_int_equal(q.consistency, 0);
    assert_true(q.index == 3);
    assert_int_equal(q.nhashes, 3);
    assert_memory_equal(q.hashes, p.hashes, 3 * 32);
    assert_int_equal(q.checkpoint_len, strlen(CP));
    assert_memory_equal(q.checkpoint, CP, strlen(CP));
    wb_proof_text_cleanup(&q);
    free(text);

    /* with extra data, and a consistency proof with no hashes */
    uint8_t extra[] = {1, 2, 3};
    p.extra = extra;
    p.extra_len = 3;
    assert_int_equal(wb_proof_text_format(&text, &len, &p), 0);
    assert_non_null(strstr(text, "\nextra AQID\nindex 3\n"));
    assert_int_equal(wb_proof_text_parse(&q, text, len), 0);
    assert_int_equal(q.extra_len, 3);
    assert_memory_equal(q.extra, extra, 3);
    wb_proof_text_cleanup(&q);
    free(text);

    memset(&p, 0, sizeof(p));
    p.consistency = 1;
    p.old_size = 7;
    p.checkpoint = CP;
    p.checkpoint_len = strlen(CP);
    assert_int_equal(wb_proof_text_format(&text, &len, &p), 0);
    assert_true(strncmp(text, "waybill.dev/consistency-proof@v1\nold 7\n\n", 40) == 0);
    assert_int_equal(wb_proof_text_parse(&q, text, len), 0);
    assert_int_equal(q.consistency, 1);
    assert_true(q.old_size == 7);
    assert_int_equal(q.nhashes, 0);
    free(text);
}

static void test_proof_text_rejected(void **state)
{
    (void)state;
    static const char H[] = "ERERERERERERERERERERERERERERERERERERERERERE=\n";
    char buf[8192];
    const char *bad[][2] = {
        {"", "no header"},
        {"c2sp.org/tlog-proof@v2\nindex 1\n\n", "header"},
        {"c2sp.org/tlog-proof@v1\n", "truncated"},
        {"c2sp.org/tlog-proof@v1\nindex 01\n\nx\n", "leading zero"},
        {"c2sp.org/tlog-proof@v1\nindex -1\n\nx\n", "line 2"},
        {"c2sp.org/tlog-proof@v1\nindex\n\nx\n", "index"},
        {"c2sp.org/tlog-proof@v1\nindex  1\n\nx\n", "line 2"},
        {"c2sp.org/tlog-proof@v1\nold 1\n\nx\n", "index"},
        {"c2sp.org/tlog-proof@v1\nextra \nindex 1\n\nx\n", "extra"},
        {"c2sp.org/tlog-proof@v1\nextra !!\nindex 1\n\nx\n", "extra"},
        {"c2sp.org/tlog-proof@v1\nindex 1\nAAAA\n\nx\n", "not 32"},
        {"c2sp.org/tlog-proof@v1\nindex 1\nnot base64\n\nx\n", "line 3"},
        {"c2sp.org/tlog-proof@v1\nindex 1\n", "truncated"},
        {"c2sp.org/tlog-proof@v1\nindex 1\n\n", "no checkpoint"},
        {"waybill.dev/consistency-proof@v1\nindex 1\n\nx\n", "old"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        wb_proof_text p;
        int rc = wb_proof_text_parse(&p, bad[i][0], strlen(bad[i][0]));
        if (rc == 0)
            fail_msg("accepted bad proof %zu: %s", i, bad[i][0]);
        if (!strstr(wb_error_message(), bad[i][1]))
            fail_msg("proof %zu: message '%s' does not mention '%s'", i,
                     wb_error_message(), bad[i][1]);
    }
    /* 65 hashes: over the limit */
    strcpy(buf, "c2sp.org/tlog-proof@v1\nindex 1\n");
    for (int i = 0; i < 65; i++)
        strcat(buf, H);
    strcat(buf, "\nx\n");
    {
        wb_proof_text p;
        assert_int_equal(wb_proof_text_parse(&p, buf, strlen(buf)), WB_E_LIMIT);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paths_spec_examples),
        cmocka_unit_test(test_paths_rejected),
        cmocka_unit_test(test_paths_random_roundtrip),
        cmocka_unit_test(test_widths_spec_example),
        cmocka_unit_test(test_bundle_count),
        cmocka_unit_test(test_proof_text_roundtrip),
        cmocka_unit_test(test_proof_text_rejected),
    };
    return cmocka_run_group_tests_name("log/tiles", tests, NULL, NULL);
}
