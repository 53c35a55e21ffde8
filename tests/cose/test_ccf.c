/*
 * test_ccf.c: the CCF_LEDGER_SHA256 inclusion proof (src/lib/cose/ccf.c)
 * on hand-made proofs, next to a computation of the CCF leaf and path done
 * here from the definition:
 *   leaf = SHA-256(write_set_digest ‖ SHA-256(commit_evidence) ‖ claims_digest)
 *   step [true, h]:  SHA-256(h ‖ cur);  step [false, h]: SHA-256(cur ‖ h)
 * (no 0x00 / 0x01 prefixes), then every malformed proof with its message.
 * The real Azure receipt is in test_realdata.c.
 */
#include "wbtest.h"

#include <string.h>

#include "cose/cose_int.h"
#include "waybill/crypto.h"
#include "waybill/error.h"

static const uint8_t statement[] = {0x84, 0x40, 0xa0, 0x40, 0x40};
static const char ce[] = "ce:2.17:0123456789abcdef";

/* builds the proof map; flags and hashes give the path */
static void build(wb_buf *b, const uint8_t wsd[32], const uint8_t cd[32], size_t nsteps,
                  const int *left, const uint8_t (*h)[32])
{
    wb_buf_init(b, 8192);
    wb_cbor_put_head(b, WB_CBOR_MAP, 2);
    wb_cbor_put_uint(b, 1);
    wb_cbor_put_head(b, WB_CBOR_ARRAY, 3);
    wb_cbor_put_bytes(b, wsd, 32);
    wb_cbor_put_text(b, ce, strlen(ce));
    wb_cbor_put_bytes(b, cd, 32);
    wb_cbor_put_uint(b, 2);
    wb_cbor_put_head(b, WB_CBOR_ARRAY, nsteps);
    for (size_t i = 0; i < nsteps; i++) {
        wb_cbor_put_head(b, WB_CBOR_ARRAY, 2);
        wb_cbor_put_bool(b, left[i]);
        wb_cbor_put_bytes(b, h[i], 32);
    }
    assert_int_equal(wb_buf_error(b), 0);
}

static void test_leaf_and_path(void **state)
{
    uint8_t wsd[32], cd[32], h[3][32], want[32], got[32], buf[96];
    const int left[3] = {1, 0, 1};
    wb_buf b;

    (void)state;
    memset(wsd, 0x11, 32);
    assert_int_equal(wb_sha256(cd, statement, sizeof(statement)), 0);
    for (int i = 0; i < 3; i++)
        memset(h[i], 0xa0 + i, 32);
    /* by the definition */
    memcpy(buf, wsd, 32);
    assert_int_equal(wb_sha256(buf + 32, ce, strlen(ce)), 0);
    memcpy(buf + 64, cd, 32);
    assert_int_equal(wb_sha256(want, buf, 96), 0);
    for (int i = 0; i < 3; i++) {
        if (left[i]) {
            memcpy(buf, h[i], 32);
            memcpy(buf + 32, want, 32);
        } else {
            memcpy(buf, want, 32);
            memcpy(buf + 32, h[i], 32);
        }
        assert_int_equal(wb_sha256(want, buf, 64), 0);
    }
    build(&b, wsd, cd, 3, left, (const uint8_t (*)[32])h);
    assert_int_equal(wb_ccf_root(got, b.data, b.len, statement, sizeof(statement)), 0);
    assert_memory_equal(got, want, 32);
    wb_buf_cleanup(&b);

    /* an empty path: the root is the leaf */
    build(&b, wsd, cd, 0, left, (const uint8_t (*)[32])h);
    assert_int_equal(wb_ccf_root(got, b.data, b.len, statement, sizeof(statement)), 0);
    wb_buf_cleanup(&b);

    /* the claims digest must be the statement's */
    cd[0] ^= 1;
    build(&b, wsd, cd, 3, left, (const uint8_t (*)[32])h);
    assert_int_equal(wb_ccf_root(got, b.data, b.len, statement, sizeof(statement)),
                     WB_E_VERIFY);
    assert_string_equal(wb_error_message(), "receipt: the CCF claims digest is not SHA-256 of "
                                            "the registered statement");
    wb_buf_cleanup(&b);
}

static void ccf_expect(const char *hex_proof, int rc_want, const char *want)
{
    uint8_t proof[4096], root[32];
    size_t n = 0;
    int rc;

    for (const char *p = hex_proof; *p;) {
        unsigned v;
        if (*p == ' ') {
            p++;
            continue;
        }
        assert_int_equal(sscanf(p, "%2x", &v), 1);
        proof[n++] = (uint8_t)v;
        p += 2;
    }
    rc = wb_ccf_root(root, proof, n, statement, sizeof(statement));
    if (rc != rc_want)
        fail_msg("%s: got %s (%s)", hex_proof, wb_error_name(rc), wb_error_message());
    if (!strstr(wb_error_message(), want))
        fail_msg("'%s' lacks '%s'", wb_error_message(), want);
}

#define H32 "5820 1111111111111111111111111111111111111111111111111111111111111111"
/* SHA-256 of 84 40 a0 40 40 */
#define CD "5820 014f57debbd6e185bd59c0b463ad9e68d5ab35f371055ba0f7eb36d48e08497e"

static void test_malformed_proofs(void **state)
{
    uint8_t cd[32];
    char hex[65];

    (void)state;
    assert_int_equal(wb_sha256(cd, statement, sizeof(statement)), 0);
    wb_hex_encode(hex, cd, 32);
    if (strcmp(hex, "014f57debbd6e185bd59c0b463ad9e68d5ab35f371055ba0f7eb36d48e08497e") != 0) {
        /* the CD macro below must be this digest */
        fail_msg("SHA-256(84 40 a0 40 40) is %s", hex);
    }
    ccf_expect("a2 01 83 " H32 " 6161 " CD " 02 80", 0, "");
    ccf_expect("80", WB_E_INVALID, "CCF inclusion proof is an array, want a map");
    ccf_expect("a1 02 80", WB_E_INVALID, "CCF proof lacks its leaf (1)");
    ccf_expect("a1 01 83 " H32 " 6161 " CD, WB_E_INVALID, "CCF proof lacks its path (2)");
    ccf_expect("a3 01 83 " H32 " 6161 " CD " 02 80 03 00", WB_E_INVALID,
               "CCF proof has an unknown key 3");
    ccf_expect("a2 01 82 " H32 " 6161 02 80", WB_E_INVALID, "CCF proof leaf (1) is an array");
    ccf_expect("a2 01 83 4100 6161 " CD " 02 80", WB_E_INVALID,
               "CCF proof write-set digest is a byte string of 1 bytes, want 32 bytes");
    ccf_expect("a2 01 83 " H32 " 4161 " CD " 02 80", WB_E_INVALID,
               "CCF proof commit evidence is a byte string, want text");
    ccf_expect("a2 01 83 " H32 " 6161 6161 02 80", WB_E_INVALID,
               "CCF proof claims digest is a text string of 0 bytes");
    ccf_expect("a2 01 83 " H32 " 6161 " CD " 02 a0", WB_E_INVALID,
               "CCF proof path (2) is a map, want an array");
    ccf_expect("a2 01 83 " H32 " 6161 " CD " 02 81 82 f93c00 " H32, WB_E_INVALID,
               "CCF proof path step 0 is an array, want [left: bool, hash: bstr]");
    ccf_expect("a2 01 83 " H32 " 6161 " CD " 02 81 82 f6 " H32, WB_E_INVALID,
               "path step 0 is an array");
    ccf_expect("a2 01 83 " H32 " 6161 " CD " 02 81 83 f5 " H32 " 00", WB_E_INVALID,
               "path step 0 is an array");
    ccf_expect("a2 01 83 " H32 " 6161 " CD " 02 81 82 f5 4100", WB_E_INVALID,
               "CCF proof path step 0 hash is not 32 bytes");
    ccf_expect("a2 01 83 " H32 " 6161 " CD " 02 81 f5", WB_E_INVALID,
               "path step 0 is true");
    ccf_expect("a3 01 83 " H32 " 6161 " CD " 02 80 02 80", WB_E_INVALID,
               "map key 2 appears twice");
}

static void test_path_length_limit(void **state)
{
    uint8_t wsd[32] = {0}, cd[32], h[65][32], root[32];
    int left[65];
    wb_buf b;

    (void)state;
    memset(h, 0x22, sizeof(h));
    memset(left, 0, sizeof(left));
    assert_int_equal(wb_sha256(cd, statement, sizeof(statement)), 0);
    build(&b, wsd, cd, 64, left, (const uint8_t (*)[32])h);
    assert_int_equal(wb_ccf_root(root, b.data, b.len, statement, sizeof(statement)), 0);
    wb_buf_cleanup(&b);
    build(&b, wsd, cd, 65, left, (const uint8_t (*)[32])h);
    assert_int_equal(wb_ccf_root(root, b.data, b.len, statement, sizeof(statement)),
                     WB_E_INVALID);
    assert_string_equal(wb_error_message(),
                        "receipt: CCF proof path has 65 steps, over the limit of 64");
    wb_buf_cleanup(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_leaf_and_path),
        cmocka_unit_test(test_malformed_proofs),
        cmocka_unit_test(test_path_length_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
