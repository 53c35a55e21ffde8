/*
 * test_note.c: C2SP signed-note (https://c2sp.org/signed-note): keys and
 * their string forms, signing, opening, and one test per rule of the spec
 * for malformed notes. The published Go sumdb/note example (PeterNeumann)
 * and the spec's own example are used verbatim from tests/vectors/note.
 */
#include "wbtest.h"

#include <string.h>

#include "waybill/error.h"
#include "waybill/note.h"
#include "waybill/util.h"

#define EM "\xe2\x80\x94" /* U+2014 EM DASH */
#define GO_TEXT                                                                \
    "If you think cryptography is the answer to your problem,\n"               \
    "then you don't know what your problem is.\n"
/* the signature's base64 is GO_B64_HEAD "otpRZb6KE6RyyBwJnAM=" */
#define GO_B64_HEAD                                                            \
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdng"
#define GO_B64 GO_B64_HEAD "otpRZb6KE6RyyBwJnAM="
/* the same with its last signature byte changed: a bad signature */
#define GO_B64_BAD GO_B64_HEAD "otpRZb6KE6RyyBwJnAA="
#define GO_SIG EM " PeterNeumann " GO_B64 "\n"
#define GO_NOTE GO_TEXT "\n" GO_SIG
#define GO_VKEY "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
#define GO_SKEY                                                                \
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"

static wb_note_key *go_signer, *go_verifier;

/*
 * assert_err: the call fails with code want and leaves a message that
 * mentions needle. The message is cleared first, so a stale one cannot pass.
 */
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

/* reads a vector file; key files lose their trailing newline */
static char *vec(const char *name, size_t *len, int strip)
{
    size_t n;
    char *s = wbt_read_file(wbt_vector_path(name), &n);
    if (strip && n > 0 && s[n - 1] == '\n')
        s[--n] = '\0';
    if (len)
        *len = n;
    return s;
}

static int open1(wb_note *n, const char *msg, size_t len, wb_note_key *v)
{
    wb_note_key *vs[1] = {v};
    return wb_note_open(n, msg, len, vs, v ? 1 : 0);
}

/* opens msg (NUL-terminated) with the PeterNeumann verifier */
static int open_go(const char *msg)
{
    wb_note n;
    int rc = open1(&n, msg, strlen(msg), go_verifier);
    wb_note_cleanup(&n);
    return rc;
}

/* a malloc'd copy of s with n bytes at off replaced by rep[0..m) */
static char *splice(const char *s, size_t off, size_t n, const char *rep, size_t m,
                    size_t *out_len)
{
    size_t len = strlen(s);
    char *out = malloc(len - n + m + 1);
    assert_non_null(out);
    assert_true(off + n <= len);
    memcpy(out, s, off);
    memcpy(out + off, rep, m);
    memcpy(out + off + m, s + off + n, len - off - n);
    out[len - n + m] = '\0';
    if (out_len)
        *out_len = len - n + m;
    return out;
}

static int setup(void **state)
{
    (void)state;
    if (wb_note_signer_parse(&go_signer, GO_SKEY, strlen(GO_SKEY)) != 0 ||
        wb_note_verifier_parse(&go_verifier, GO_VKEY, strlen(GO_VKEY)) != 0) {
        fprintf(stderr, "setup: %s\n", wb_error_message());
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    wb_note_key_free(go_signer);
    wb_note_key_free(go_verifier);
    return 0;
}

/* ---- the published Go example ---- */

static void test_go_vector_files(void **state)
{
    (void)state;
    /* the vector files are the strings used below, byte for byte */
    char *skey = vec("note/go_peterneumann.skey", NULL, 1);
    char *vkey = vec("note/go_peterneumann.vkey", NULL, 1);
    char *text = vec("note/go_peterneumann.txt", NULL, 0);
    char *note = vec("note/go_peterneumann.note", NULL, 0);
    assert_string_equal(skey, GO_SKEY);
    assert_string_equal(vkey, GO_VKEY);
    assert_string_equal(text, GO_TEXT);
    assert_string_equal(note, GO_NOTE);
    free(skey);
    free(vkey);
    free(text);
    free(note);
}

static void test_go_sign(void **state)
{
    (void)state;
    char *text, *want, *out = NULL;
    size_t text_len, want_len, out_len = 0;

    text = vec("note/go_peterneumann.txt", &text_len, 0);
    want = vec("note/go_peterneumann.note", &want_len, 0);
    assert_string_equal(wb_note_key_name(go_signer), "PeterNeumann");
    assert_int_equal(wb_note_key_id(go_signer), 0xc74f20a3);
    /* Ed25519 is deterministic: the published signed note, exactly */
    assert_ok(wb_note_sign(&out, &out_len, text, text_len, &go_signer, 1));
    assert_int_equal(out_len, want_len);
    assert_memory_equal(out, want, want_len);
    assert_int_equal(out[out_len], '\0');
    free(out);
    free(text);
    free(want);
}

static void test_go_open(void **state)
{
    (void)state;
    wb_note n;
    size_t len;
    char *msg = vec("note/go_peterneumann.note", &len, 0);

    assert_ok(open1(&n, msg, len, go_verifier));
    assert_ptr_equal(n.text, msg);
    assert_int_equal(n.text_len, strlen(GO_TEXT));
    assert_memory_equal(n.text, GO_TEXT, n.text_len);
    assert_int_equal(n.nsigs, 1);
    assert_string_equal(n.sigs[0].name, "PeterNeumann");
    assert_int_equal(n.sigs[0].key_id, 0xc74f20a3);
    assert_int_equal(n.sigs[0].sig_len, 64);
    assert_int_equal(n.sigs[0].verified, 1);
    wb_note_cleanup(&n);
    assert_null(n.sigs);
    wb_note_cleanup(&n); /* twice is harmless */
    free(msg);
}

static void test_go_open_one_byte_changed(void **state)
{
    (void)state;
    size_t text_len = strlen(GO_TEXT);

    /* every single-byte change of the text fails; a changed letter fails
     * verification, naming the key */
    for (size_t i = 0; i < text_len; i++) {
        char rep = GO_NOTE[i] == 'X' ? 'Y' : 'X';
        char *m = splice(GO_NOTE, i, 1, &rep, 1, NULL);
        if (GO_NOTE[i] == '\n')
            assert_int_not_equal(open_go(m), 0);
        else
            assert_err(open_go(m), WB_E_VERIFY, "PeterNeumann+c74f20a3");
        free(m);
    }
    /* and a changed signature byte (keeping the key ID bytes) */
    {
        const char *p = strstr(GO_NOTE, GO_B64);
        size_t off = (size_t)(p - GO_NOTE) + 20;
        char rep = GO_NOTE[off] == 'A' ? 'B' : 'A';
        char *m = splice(GO_NOTE, off, 1, &rep, 1, NULL);
        assert_err(open_go(m), WB_E_VERIFY,
                   "signature by PeterNeumann+c74f20a3 does not verify");
        free(m);
    }
}

static void test_go_two_signatures(void **state)
{
    (void)state;
    wb_note n;
    size_t len;
    char *msg = vec("note/go_peterneumann_enochroot.note", &len, 0);

    assert_ok(open1(&n, msg, len, go_verifier));
    assert_int_equal(n.text_len, strlen(GO_TEXT));
    assert_int_equal(n.nsigs, 2);
    assert_string_equal(n.sigs[0].name, "PeterNeumann");
    assert_int_equal(n.sigs[0].verified, 1);
    /* EnochRoot's key is not known: kept, not verified */
    assert_string_equal(n.sigs[1].name, "EnochRoot");
    assert_int_equal(n.sigs[1].key_id, 0xaf0cfe78);
    assert_int_equal(n.sigs[1].sig_len, 64);
    assert_int_equal(n.sigs[1].verified, 0);
    wb_note_cleanup(&n);
    free(msg);
}

/* ---- keys ---- */

static void test_go_key_strings(void **state)
{
    (void)state;
    char *s = NULL;

    assert_ok(wb_note_signer_string(&s, go_signer));
    assert_string_equal(s, GO_SKEY);
    free(s);
    assert_ok(wb_note_verifier_string(&s, go_signer));
    assert_string_equal(s, GO_VKEY);
    free(s);
    assert_ok(wb_note_verifier_string(&s, go_verifier));
    assert_string_equal(s, GO_VKEY);
    free(s);
    assert_string_equal(wb_note_key_name(go_verifier), "PeterNeumann");
    assert_int_equal(wb_note_key_id(go_verifier), 0xc74f20a3);
    assert_non_null(wb_note_key_key(go_verifier));
    /* a verifier has no private part */
    assert_err(wb_note_signer_string(&s, go_verifier), WB_E_INVALID, "no private part");
    assert_null(s);
}

static void test_generated_key_round_trip(void **state)
{
    (void)state;
    const char *names[] = {"example.com/log", "a", "\xc3\xa9t\xc3\xa9.example/\xe2\x9c\x93",
                           "PRIVATE"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        wb_note_key *k = NULL, *s2 = NULL, *v2 = NULL;
        char *ss = NULL, *vs = NULL, *ss2 = NULL, *vs2 = NULL;

        assert_ok(wb_note_key_generate(&k, names[i]));
        assert_string_equal(wb_note_key_name(k), names[i]);
        assert_ok(wb_note_signer_string(&ss, k));
        assert_ok(wb_note_verifier_string(&vs, k));
        assert_ok(wb_note_signer_parse(&s2, ss, strlen(ss)));
        assert_ok(wb_note_verifier_parse(&v2, vs, strlen(vs)));
        assert_int_equal(wb_note_key_id(s2), wb_note_key_id(k));
        assert_int_equal(wb_note_key_id(v2), wb_note_key_id(k));
        assert_string_equal(wb_note_key_name(v2), names[i]);
        assert_ok(wb_note_signer_string(&ss2, s2));
        assert_ok(wb_note_verifier_string(&vs2, v2));
        assert_string_equal(ss2, ss);
        assert_string_equal(vs2, vs);
        /* the key ID is 8 lowercase hex digits after the name */
        {
            char idhex[9];
            snprintf(idhex, sizeof(idhex), "%08x", (unsigned)wb_note_key_id(k));
            assert_memory_equal(vs + strlen(names[i]) + 1, idhex, 8);
        }
        free(ss);
        free(vs);
        free(ss2);
        free(vs2);
        wb_note_key_free(k);
        wb_note_key_free(s2);
        wb_note_key_free(v2);
    }
    wb_note_key_free(NULL);
}

static void test_key_id_mismatch(void **state)
{
    (void)state;
    wb_note_key *k = (wb_note_key *)1;
    const char *bad_v = "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    const char *bad_s =
        "PRIVATE+KEY+PeterNeumann+c74f20a4+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
    const char *renamed = "PeterNeumanm+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    /* a signer string whose key data is the public key, not the seed */
    const char *pub_as_seed =
        "PRIVATE+KEY+PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";

    assert_err(wb_note_verifier_parse(&k, bad_v, strlen(bad_v)), WB_E_INVALID,
               "key ID c74f20a4 does not match");
    assert_null(k);
    assert_err(wb_note_signer_parse(&k, bad_s, strlen(bad_s)), WB_E_INVALID,
               "key ID c74f20a4 does not match");
    assert_null(k);
    assert_err(wb_note_verifier_parse(&k, renamed, strlen(renamed)), WB_E_INVALID,
               "does not match");
    assert_err(wb_note_signer_parse(&k, pub_as_seed, strlen(pub_as_seed)), WB_E_INVALID,
               "does not match");
}

static void test_key_malformed(void **state)
{
    (void)state;
    static const struct {
        int signer;
        const char *s;
        int code;
        const char *needle;
    } cases[] = {
        {0, "", WB_E_INVALID, "no '+'"},
        {0, "PeterNeumann", WB_E_INVALID, "no '+'"},
        {0, "PeterNeumann+c74f20a3", WB_E_INVALID, "no '+' after the key ID"},
        {0, "PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
         WB_E_INVALID, "key ID: hex"},
        {0, "PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
         WB_E_INVALID, "not 8 hex digits"},
        {0, "PeterNeumann+0c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
         WB_E_INVALID, "not 8 hex digits"},
        {0, "PeterNeumann+c74f20a3+", WB_E_INVALID, "key data is empty"},
        {0, "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T",
         WB_E_INVALID, "base64"},
        {0, "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq_LDE4izWy10TW",
         WB_E_INVALID, "base64"},
        /* 0x02 || 32 bytes: a type we do not support */
        {0, "PeterNeumann+c74f20a3+Ahpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
         WB_E_INVALID, "signature type 0x02"},
        /* 0x01 || 31 bytes */
        {0, "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy1w==",
         WB_E_INVALID, "not 33"},
        {0, "+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", WB_E_INVALID,
         "key name is empty"},
        {0, "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
         WB_E_INVALID, "space (U+0020)"},
        {0, "Peter\xc2\xa0Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
         WB_E_INVALID, "space (U+00A0)"},
        {0, "Peter\xe3\x80\x80Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
         WB_E_INVALID, "space (U+3000)"},
        {0, "Peter\xc0\xaeNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
         WB_E_INVALID, "overlong"},
        {0, "Peter\x01+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
         WB_E_INVALID, "control character"},
        {0, GO_SKEY, WB_E_INVALID, "signer (private) key"},
        {1, GO_VKEY, WB_E_INVALID, "PRIVATE+KEY+"},
        {1, "PRIVATE+KEY+", WB_E_INVALID, "no '+'"},
        {1, "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDF",
         WB_E_INVALID, "base64"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        wb_note_key *k = NULL;
        if (cases[i].signer)
            assert_err(wb_note_signer_parse(&k, cases[i].s, strlen(cases[i].s)),
                       cases[i].code, cases[i].needle);
        else
            assert_err(wb_note_verifier_parse(&k, cases[i].s, strlen(cases[i].s)),
                       cases[i].code, cases[i].needle);
        assert_null(k);
    }
}

static void test_key_limits(void **state)
{
    (void)state;
    wb_note_key *k = NULL;
    char name[WB_NOTE_NAME_MAX + 2];
    char s[1024];

    /* a 256-byte name */
    memset(name, 'a', WB_NOTE_NAME_MAX + 1);
    name[WB_NOTE_NAME_MAX + 1] = '\0';
    snprintf(s, sizeof(s), "%s+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", name);
    assert_err(wb_note_verifier_parse(&k, s, strlen(s)), WB_E_LIMIT, "255-byte limit");
    assert_err(wb_note_key_generate(&k, name), WB_E_LIMIT, "255-byte limit");
    /* 255 bytes is fine */
    name[WB_NOTE_NAME_MAX] = '\0';
    assert_ok(wb_note_key_generate(&k, name));
    wb_note_key_free(k);
    k = NULL;
    /* an over-long key string is refused before parsing */
    memset(s, 'a', 600);
    assert_err(wb_note_verifier_parse(&k, s, 600), WB_E_LIMIT, "limit");
    assert_err(wb_note_signer_parse(&k, s, 600), WB_E_LIMIT, "limit");
}

static void test_generate_bad_names(void **state)
{
    (void)state;
    wb_note_key *k = NULL;
    assert_err(wb_note_key_generate(&k, ""), WB_E_INVALID, "key name is empty");
    assert_err(wb_note_key_generate(&k, NULL), WB_E_INVALID, "no name");
    assert_err(wb_note_key_generate(&k, "a b"), WB_E_INVALID, "space");
    assert_err(wb_note_key_generate(&k, "a\tb"), WB_E_INVALID, "space");
    assert_err(wb_note_key_generate(&k, "a\xe2\x80\xa8"), WB_E_INVALID, "space (U+2028)");
    assert_err(wb_note_key_generate(&k, "a+b"), WB_E_INVALID, "'+'");
    assert_err(wb_note_key_generate(&k, "a\x1b"), WB_E_INVALID, "control character");
    assert_err(wb_note_key_generate(&k, "a\xed\xa0\x80"), WB_E_INVALID, "surrogate");
    assert_null(k);
}

/* ---- signing and opening ---- */

static void test_sign_open_round_trip(void **state)
{
    (void)state;
    /* UTF-8, blank lines inside, DEL and a C1 control (not "below U+0020") */
    static const char text[] = "example.com/log\n\nline with \xc3\xa9 and \x7f and "
                               "\xc2\x85\n\n\nend \xf0\x9f\x93\xa6\n";
    const char *names[3] = {"example.com/log", "witness.example/w1", "w2"};
    wb_note_key *keys[3], *pubs[3];

    for (size_t i = 0; i < 3; i++) {
        char *vs = NULL;
        assert_ok(wb_note_key_generate(&keys[i], names[i]));
        assert_ok(wb_note_verifier_string(&vs, keys[i]));
        assert_ok(wb_note_verifier_parse(&pubs[i], vs, strlen(vs)));
        free(vs);
    }
    for (size_t nsig = 1; nsig <= 3; nsig++) {
        char *msg = NULL;
        size_t len = 0;
        wb_note n;

        assert_ok(wb_note_sign(&msg, &len, text, sizeof(text) - 1, keys, nsig));
        assert_int_equal(strlen(msg), len);
        /* all verifiers known */
        assert_ok(wb_note_open(&n, msg, len, pubs, 3));
        assert_int_equal(n.text_len, sizeof(text) - 1);
        assert_memory_equal(n.text, text, n.text_len);
        assert_int_equal(n.nsigs, nsig);
        for (size_t i = 0; i < nsig; i++) {
            assert_string_equal(n.sigs[i].name, names[i]);
            assert_int_equal(n.sigs[i].key_id, wb_note_key_id(keys[i]));
            assert_int_equal(n.sigs[i].verified, 1);
        }
        wb_note_cleanup(&n);
        /* only the last signer known: the others are kept unverified */
        assert_ok(wb_note_open(&n, msg, len, &pubs[nsig - 1], 1));
        assert_int_equal(n.nsigs, nsig);
        for (size_t i = 0; i < nsig; i++)
            assert_int_equal(n.sigs[i].verified, i == nsig - 1);
        wb_note_cleanup(&n);
        /* signer keys verify too */
        assert_ok(wb_note_open(&n, msg, len, keys, nsig));
        wb_note_cleanup(&n);
        free(msg);
    }
    for (size_t i = 0; i < 3; i++) {
        wb_note_key_free(keys[i]);
        wb_note_key_free(pubs[i]);
    }
}

static void test_sign_rejects(void **state)
{
    (void)state;
    char *out = (char *)1;
    size_t len = 7;
    wb_note_key *two[2] = {go_signer, go_signer};
    wb_note_key *none[1] = {NULL};

    assert_err(wb_note_sign(&out, &len, "", 0, &go_signer, 1), WB_E_INVALID, "empty");
    assert_null(out);
    assert_int_equal(len, 0);
    assert_err(wb_note_sign(&out, &len, "a", 1, &go_signer, 1), WB_E_INVALID,
               "does not end in a newline");
    assert_err(wb_note_sign(&out, &len, "a\x01\n", 3, &go_signer, 1), WB_E_INVALID,
               "control character U+0001");
    assert_err(wb_note_sign(&out, &len, "a\r\n", 3, &go_signer, 1), WB_E_INVALID,
               "carriage return");
    assert_err(wb_note_sign(&out, &len, "a\0\n", 3, &go_signer, 1), WB_E_INVALID,
               "control character U+0000");
    assert_err(wb_note_sign(&out, &len, "a\xc0\x80\n", 4, &go_signer, 1), WB_E_INVALID,
               "overlong");
    assert_err(wb_note_sign(&out, &len, "a\n", 2, &go_signer, 0), WB_E_INVALID,
               "no signers");
    assert_err(wb_note_sign(&out, &len, "a\n", 2, none, 1), WB_E_INVALID, "NULL");
    assert_err(wb_note_sign(&out, &len, "a\n", 2, &go_verifier, 1), WB_E_INVALID,
               "no private key");
    assert_err(wb_note_sign(&out, &len, "a\n", 2, two, 2), WB_E_INVALID, "given twice");
    {
        wb_note_key *many[WB_NOTE_MAX_SIGS + 1];
        for (size_t i = 0; i <= WB_NOTE_MAX_SIGS; i++)
            many[i] = go_signer;
        assert_err(wb_note_sign(&out, &len, "a\n", 2, many, WB_NOTE_MAX_SIGS + 1),
                   WB_E_LIMIT, "signers");
    }
    {
        /* a text over the note limit, and one whose signed note would be */
        char *big = malloc(WB_NOTE_MAX + 2);
        assert_non_null(big);
        memset(big, 'a', WB_NOTE_MAX + 1);
        big[WB_NOTE_MAX] = '\n';
        assert_err(wb_note_sign(&out, &len, big, WB_NOTE_MAX + 1, &go_signer, 1),
                   WB_E_LIMIT, "limit");
        big[WB_NOTE_MAX - 1] = '\n';
        assert_err(wb_note_sign(&out, &len, big, WB_NOTE_MAX, &go_signer, 1),
                   WB_E_LIMIT, "limit");
        free(big);
    }
    assert_null(out);
}

/* ---- malformed notes: one test per rule of the spec ---- */

/* "Signed notes MUST be valid UTF-8" (RFC 3629) */
static void test_open_invalid_utf8(void **state)
{
    (void)state;
    static const struct {
        const char *bytes;
        const char *needle;
    } cases[] = {
        {"\xc0\xaf", "overlong"},         /* '/' in two bytes */
        {"\xe0\x80\xaf", "overlong"},     /* '/' in three bytes */
        {"\xf0\x80\x80\xaf", "overlong"}, /* '/' in four bytes */
        {"\xed\xa0\x80", "surrogate"},    /* U+D800 */
        {"\xed\xbf\xbf", "surrogate"},    /* U+DFFF */
        {"\xf4\x90\x80\x80", "above U+10FFFF"},
        {"\xf5\x80\x80\x80", "above U+10FFFF"},
        {"\xf8\x88\x80\x80\x80", "never appears"},
        {"\xff", "never appears"},
        {"\x80", "continuation byte without a lead byte"},
        {"\xe2\x82", "not followed by continuation"}, /* then the '\n' */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        /* into the second text line, before its newline */
        size_t off = strlen("If you think cryptography is the answer to your problem,\nthen");
        char *m = splice(GO_NOTE, off, 0, cases[i].bytes, strlen(cases[i].bytes), NULL);
        assert_err(open_go(m), WB_E_INVALID, "note line 2: invalid UTF-8");
        assert_err(open_go(m), WB_E_INVALID, cases[i].needle);
        free(m);
    }
    /* in a signature line too */
    {
        char *m = splice(GO_NOTE, strlen(GO_NOTE) - 2, 0, "\xc0\xaf", 2, NULL);
        assert_err(open_go(m), WB_E_INVALID, "note line 4: invalid UTF-8");
        free(m);
    }
    /* a sequence cut off by the end of the input */
    {
        wb_note n;
        static const char m[] = GO_NOTE "\xe2\x82";
        assert_err(open1(&n, m, sizeof(m) - 1, go_verifier), WB_E_INVALID, "truncated");
    }
    /* valid 2-, 3- and 4-byte forms at the edges pass the character check */
    {
        static const char ok[] = "\xc2\x80 \xdf\xbf \xe0\xa0\x80 \xed\x9f\xbf \xee\x80\x80 "
                                 "\xef\xbf\xbf \xf0\x90\x80\x80 \xf4\x8f\xbf\xbf\n";
        char *msg = NULL;
        size_t len;
        wb_note n;
        assert_ok(wb_note_sign(&msg, &len, ok, sizeof(ok) - 1, &go_signer, 1));
        assert_ok(open1(&n, msg, len, go_verifier));
        wb_note_cleanup(&n);
        free(msg);
    }
}

/* "MUST NOT contain any ASCII control characters (those below U+0020)
 * other than newline" */
static void test_open_control_characters(void **state)
{
    (void)state;
    size_t off = strlen("If you think");
    for (unsigned c = 0; c < 0x20; c++) {
        char b = (char)c, needle[40];
        size_t len;
        wb_note n;
        char *m;
        if (c == '\n')
            continue;
        m = splice(GO_NOTE, off, 0, &b, 1, &len);
        if (c == '\r')
            snprintf(needle, sizeof(needle), "carriage return");
        else
            snprintf(needle, sizeof(needle), "control character U+%04X", c);
        assert_err(open1(&n, m, len, go_verifier), WB_E_INVALID, needle);
        assert_err(open1(&n, m, len, go_verifier), WB_E_INVALID, "note line 1");
        free(m);
    }
    /* CRLF line ends, as a mail client would make them */
    {
        static const char crlf[] = "hello\r\n\r\n" EM " PeterNeumann " GO_B64 "\r\n";
        assert_err(open_go(crlf), WB_E_INVALID, "carriage return");
    }
    /* DEL (0x7F) and C1 controls are not below U+0020: allowed */
    {
        static const char text[] = "del \x7f nel \xc2\x85\n";
        char *msg = NULL;
        size_t len;
        wb_note n;
        assert_ok(wb_note_sign(&msg, &len, text, sizeof(text) - 1, &go_signer, 1));
        assert_ok(open1(&n, msg, len, go_verifier));
        wb_note_cleanup(&n);
        free(msg);
    }
}

static void test_open_empty_and_too_big(void **state)
{
    (void)state;
    wb_note n;
    char *big;

    assert_err(open1(&n, "", 0, go_verifier), WB_E_INVALID, "empty");
    assert_null(n.sigs);
    big = malloc(WB_NOTE_MAX + 1);
    assert_non_null(big);
    memset(big, 'a', WB_NOTE_MAX + 1);
    assert_err(open1(&n, big, WB_NOTE_MAX + 1, go_verifier), WB_E_LIMIT, "65536-byte limit");
    free(big);
}

/* "a text ending in newline (U+000A), followed by a blank line" */
static void test_open_no_blank_line(void **state)
{
    (void)state;
    assert_err(open_go(GO_TEXT GO_SIG), WB_E_INVALID, "no blank line");
    assert_err(open_go(GO_SIG), WB_E_INVALID, "no blank line");
}

/* the text is non-empty: it is "a text ending in newline" */
static void test_open_empty_text(void **state)
{
    (void)state;
    assert_err(open_go("\n" GO_SIG), WB_E_INVALID, "text before the blank line is empty");
}

/* every line, the last signature line included, ends in a newline */
static void test_open_no_final_newline(void **state)
{
    (void)state;
    wb_note n;
    assert_err(open1(&n, GO_NOTE, strlen(GO_NOTE) - 1, go_verifier), WB_E_INVALID,
               "note line 4: does not end in a newline");
    assert_err(open_go(GO_TEXT), WB_E_INVALID, "no blank line");
}

/* "followed by one or more signature lines" */
static void test_open_no_signature_lines(void **state)
{
    (void)state;
    assert_err(open_go(GO_TEXT "\n"), WB_E_INVALID, "no signature lines");
    assert_err(open_go(GO_NOTE "\n"), WB_E_INVALID, "no signature lines");
}

/* "em dash (U+2014), space (U+0020), key name, space, base64 signature" */
static void test_open_bad_signature_prefix(void **state)
{
    (void)state;
    assert_err(open_go(GO_TEXT "\n- PeterNeumann " GO_B64 "\n"), WB_E_INVALID,
               "note line 4: signature line does not start with U+2014");
    /* U+2013 EN DASH */
    assert_err(open_go(GO_TEXT "\n\xe2\x80\x93 PeterNeumann " GO_B64 "\n"), WB_E_INVALID,
               "U+2014");
    /* em dash without the space */
    assert_err(open_go(GO_TEXT "\n" EM "PeterNeumann " GO_B64 "\n"), WB_E_INVALID,
               "U+2014");
    /* two spaces: then the name is empty */
    assert_err(open_go(GO_TEXT "\n" EM "  PeterNeumann " GO_B64 "\n"), WB_E_INVALID,
               "key name is empty");
    /* a line after the signatures that is not one */
    assert_err(open_go(GO_NOTE "trailer\n"), WB_E_INVALID, "note line 5: signature line");
    assert_err(open_go(GO_NOTE EM "\n"), WB_E_INVALID, "note line 5: signature line");
}

static void test_open_no_space_after_name(void **state)
{
    (void)state;
    assert_err(open_go(GO_TEXT "\n" EM " PeterNeumann\n"), WB_E_INVALID,
               "no space between the key name and the signature");
    assert_err(open_go(GO_TEXT "\n" EM " PeterNeumann" GO_B64 "\n"), WB_E_INVALID, "no space");
}

/* "Key names MUST be non-empty and MUST NOT contain any Unicode spaces or
 * plus (U+002B) characters" */
static void test_open_bad_key_names(void **state)
{
    (void)state;
    assert_err(open_go(GO_TEXT "\n" EM "  " GO_B64 "\n"), WB_E_INVALID, "key name is empty");
    assert_err(open_go(GO_TEXT "\n" EM " Peter+Neumann " GO_B64 "\n"), WB_E_INVALID,
               "'+'");
    assert_err(open_go(GO_TEXT "\n" EM " Peter\xc2\xa0Neumann " GO_B64 "\n"), WB_E_INVALID,
               "space (U+00A0)");
    assert_err(open_go(GO_TEXT "\n" EM " Peter\xe2\x80\x83Neumann " GO_B64 "\n"),
               WB_E_INVALID, "space (U+2003)");
    assert_err(open_go(GO_TEXT "\n" EM " Peter\xc2\x85Neumann " GO_B64 "\n"), WB_E_INVALID,
               "space (U+0085)");
    /* our limit on name length */
    {
        char name[WB_NOTE_NAME_MAX + 2];
        char *m;
        memset(name, 'n', WB_NOTE_NAME_MAX + 1);
        name[WB_NOTE_NAME_MAX + 1] = '\0';
        m = splice(GO_NOTE, strlen(GO_TEXT) + 1 + 4, strlen("PeterNeumann"), name,
                   strlen(name), NULL);
        assert_err(open_go(m), WB_E_LIMIT, "255-byte limit");
        free(m);
    }
}

/* "Signatures are the base64 encoding of 4+n bytes" (RFC 4648 §4, padded) */
static void test_open_bad_base64(void **state)
{
    (void)state;
    /* padding stripped */
    assert_err(open_go(GO_TEXT "\n" EM " PeterNeumann " GO_B64_HEAD "otpRZb6KE6RyyBwJnAM\n"),
               WB_E_INVALID, "not padded");
    /* URL-safe alphabet */
    assert_err(open_go(GO_TEXT "\n" EM " PeterNeumann "
                       "x08go_ZJkuBS9UG_SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2"
                       "pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"),
               WB_E_INVALID, "invalid character");
    /* non-zero bits under the padding ('N' for 'M') */
    assert_err(open_go(GO_TEXT "\n" EM " PeterNeumann " GO_B64_HEAD "otpRZb6KE6RyyBwJnAN=\n"),
               WB_E_INVALID, "padding bits");
    /* something after the signature */
    assert_err(open_go(GO_TEXT "\n" EM " PeterNeumann " GO_B64 " x\n"), WB_E_INVALID,
               "note line 4: signature: base64");
    assert_err(open_go(GO_TEXT "\n" EM " PeterNeumann " GO_B64 "=\n"), WB_E_INVALID,
               "base64");
    /* no signature at all */
    assert_err(open_go(GO_TEXT "\n" EM " PeterNeumann \n"), WB_E_INVALID,
               "signature is empty");
}

/* 4 bytes of key ID, then a signature of at least one byte */
static void test_open_short_signature(void **state)
{
    (void)state;
    assert_err(open_go(GO_TEXT "\n" EM " PeterNeumann x08gow==\n"), WB_E_INVALID,
               "4-byte key ID");
    assert_err(open_go(GO_TEXT "\n" EM " PeterNeumann x08g\n"), WB_E_INVALID, "4-byte key ID");
}

/* our limit, WB_NOTE_MAX_SIGS; the spec says accept at least 16 */
static void test_open_signature_count(void **state)
{
    (void)state;
    wb_buf b;
    uint8_t *msg;
    size_t len;
    wb_note n;

    /* PeterNeumann's signature and then 99 unknown ones: exactly the limit */
    wb_buf_init(&b, WB_NOTE_MAX);
    wb_buf_add_str(&b, GO_NOTE);
    for (int i = 1; i < WB_NOTE_MAX_SIGS; i++)
        wb_buf_printf(&b, EM " witness%d.example AAAAAAAA\n", i);
    assert_ok(wb_buf_finish(&b, &msg, &len));
    assert_ok(open1(&n, (char *)msg, len, go_verifier));
    assert_int_equal(n.nsigs, WB_NOTE_MAX_SIGS);
    assert_int_equal(n.sigs[0].verified, 1);
    assert_string_equal(n.sigs[99].name, "witness99.example");
    assert_int_equal(n.sigs[99].key_id, 0);
    assert_int_equal(n.sigs[99].sig_len, 2);
    assert_int_equal(n.sigs[99].verified, 0);
    wb_note_cleanup(&n);
    free(msg);

    /* one more is refused, before any signature is parsed */
    wb_buf_init(&b, WB_NOTE_MAX);
    wb_buf_add_str(&b, GO_NOTE);
    for (int i = 1; i <= WB_NOTE_MAX_SIGS; i++)
        wb_buf_printf(&b, EM " witness%d.example AAAAAAAA\n", i);
    assert_ok(wb_buf_finish(&b, &msg, &len));
    assert_err(open1(&n, (char *)msg, len, go_verifier), WB_E_LIMIT,
               "101 signature lines, over the limit of 100");
    free(msg);
}

static void test_sixteen_signers(void **state)
{
    (void)state;
    /* "MUST accept at least up to 16 signatures" */
    wb_note_key *keys[16];
    char *msg = NULL;
    size_t len;
    wb_note n;

    for (int i = 0; i < 16; i++) {
        char name[32];
        snprintf(name, sizeof(name), "signer%d.example", i);
        assert_ok(wb_note_key_generate(&keys[i], name));
    }
    assert_ok(wb_note_sign(&msg, &len, GO_TEXT, strlen(GO_TEXT), keys, 16));
    assert_ok(wb_note_open(&n, msg, len, keys, 16));
    assert_int_equal(n.nsigs, 16);
    for (int i = 0; i < 16; i++)
        assert_int_equal(n.sigs[i].verified, 1);
    wb_note_cleanup(&n);
    free(msg);
    for (int i = 0; i < 16; i++)
        wb_note_key_free(keys[i]);
}

/* large signatures from unknown keys (post-quantum cosignatures) are kept */
static void test_open_long_unknown_signature(void **state)
{
    (void)state;
    uint8_t raw[4 + 2428];
    char *b64 = malloc(wb_base64_encoded_len(sizeof(raw)) + 1);
    wb_buf b;
    uint8_t *msg;
    size_t len;
    wb_note n;

    assert_non_null(b64);
    for (size_t i = 0; i < sizeof(raw); i++)
        raw[i] = (uint8_t)i;
    wb_base64_encode(b64, raw, sizeof(raw));
    wb_buf_init(&b, WB_NOTE_MAX);
    wb_buf_add_str(&b, GO_NOTE);
    wb_buf_printf(&b, EM " pq.example/witness %s\n", b64);
    assert_ok(wb_buf_finish(&b, &msg, &len));
    assert_ok(open1(&n, (char *)msg, len, go_verifier));
    assert_int_equal(n.nsigs, 2);
    assert_int_equal(n.sigs[1].key_id, 0x00010203);
    assert_int_equal(n.sigs[1].sig_len, sizeof(raw) - 4);
    assert_memory_equal(n.sigs[1].sig, raw + 4, sizeof(raw) - 4);
    wb_note_cleanup(&n);
    free(msg);
    free(b64);
}

/* "the text is separated from the signatures by the last empty line" */
static void test_split_at_last_blank_line(void **state)
{
    (void)state;
    static const char *texts[] = {"a\n\nb\n\n\nc\n", "a\n\n", "\n", "\n\n\n"};
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        char *msg = NULL;
        size_t len;
        wb_note n;
        assert_ok(wb_note_sign(&msg, &len, texts[i], strlen(texts[i]), &go_signer, 1));
        assert_ok(open1(&n, msg, len, go_verifier));
        assert_int_equal(n.text_len, strlen(texts[i]));
        assert_memory_equal(n.text, texts[i], n.text_len);
        wb_note_cleanup(&n);
        free(msg);
    }
    /* a blank line between signature lines moves the first into the text */
    {
        wb_note_key *other = NULL, *both[2];
        char *msg = NULL, *sig2, *m;
        size_t len;
        wb_note n;

        assert_ok(wb_note_key_generate(&other, "other.example"));
        both[0] = go_signer;
        both[1] = other;
        assert_ok(wb_note_sign(&msg, &len, GO_TEXT, strlen(GO_TEXT), both, 2));
        sig2 = strstr(msg, EM " other.example");
        assert_non_null(sig2);
        m = splice(msg, (size_t)(sig2 - msg), 0, "\n", 1, &len);
        /* PeterNeumann's line is now text: no known signature */
        assert_err(open1(&n, m, len, go_verifier), WB_E_VERIFY,
                   "no signature from a known key; signed by other.example+");
        /* and the other signature is over a different text now */
        assert_err(open1(&n, m, len, other), WB_E_VERIFY, "does not verify");
        free(m);
        free(msg);
        wb_note_key_free(other);
    }
}

/* ---- verification semantics ("Signatures") ---- */

/* the Go signature line with its key ID replaced */
static char *go_sig_with_id(uint32_t id, const char *name)
{
    uint8_t raw[68];
    size_t n = 0;
    char b64[96];
    char *out = malloc(512);
    assert_non_null(out);
    assert_ok(wb_base64_decode(raw, sizeof(raw), &n, GO_B64, strlen(GO_B64)));
    assert_int_equal(n, 68);
    raw[0] = (uint8_t)(id >> 24);
    raw[1] = (uint8_t)(id >> 16);
    raw[2] = (uint8_t)(id >> 8);
    raw[3] = (uint8_t)id;
    wb_base64_encode(b64, raw, n);
    snprintf(out, 512, EM " %s %s\n", name, b64);
    return out;
}

static void test_wrong_key_id_is_unknown(void **state)
{
    (void)state;
    char *line = go_sig_with_id(0xc74f20a4, "PeterNeumann");
    char msg[1024];
    wb_note n;

    /* same name, other key ID: an unknown key, never verified */
    snprintf(msg, sizeof(msg), "%s\n%s", GO_TEXT, line);
    assert_err(open_go(msg), WB_E_VERIFY, "signed by PeterNeumann+c74f20a4");
    /* beside the genuine signature it is kept, unverified */
    snprintf(msg, sizeof(msg), "%s%s", GO_NOTE, line);
    assert_ok(open1(&n, msg, strlen(msg), go_verifier));
    assert_int_equal(n.nsigs, 2);
    assert_int_equal(n.sigs[0].verified, 1);
    assert_int_equal(n.sigs[1].key_id, 0xc74f20a4);
    assert_int_equal(n.sigs[1].verified, 0);
    wb_note_cleanup(&n);
    free(line);

    /* same key ID, other name: unknown too */
    line = go_sig_with_id(0xc74f20a3, "PeterNeumann2");
    snprintf(msg, sizeof(msg), "%s\n%s", GO_TEXT, line);
    assert_err(open_go(msg), WB_E_VERIFY, "signed by PeterNeumann2+c74f20a3");
    free(line);
}

static void test_no_known_signature(void **state)
{
    (void)state;
    wb_note n;
    /* no verifiers at all */
    assert_err(wb_note_open(&n, GO_NOTE, strlen(GO_NOTE), NULL, 0), WB_E_VERIFY,
               "signed by PeterNeumann+c74f20a3");
    assert_null(n.sigs);
    /* a verifier that did not sign */
    {
        wb_note_key *other = NULL;
        assert_ok(wb_note_key_generate(&other, "other.example"));
        assert_err(open1(&n, GO_NOTE, strlen(GO_NOTE), other), WB_E_VERIFY,
                   "no signature from a known key");
        wb_note_key_free(other);
    }
}

static void test_bad_known_signature_rejects_note(void **state)
{
    (void)state;
    /* another known key signed correctly, but PeterNeumann's is bad */
    wb_note_key *other = NULL, *vs[2];
    char *msg = NULL, *m;
    size_t len, off;
    wb_note n;

    assert_ok(wb_note_key_generate(&other, "other.example"));
    assert_ok(wb_note_sign(&msg, &len, GO_TEXT, strlen(GO_TEXT), &other, 1));
    off = strlen(GO_TEXT) + 1;
    /* prepend a corrupted PeterNeumann line to the signature block */
    m = splice(msg, off, 0, EM " PeterNeumann " GO_B64_BAD "\n",
               strlen(EM " PeterNeumann " GO_B64 "\n"), &len);
    vs[0] = go_verifier;
    vs[1] = other;
    assert_err(wb_note_open(&n, m, len, vs, 2), WB_E_VERIFY,
               "note line 4: signature by PeterNeumann+c74f20a3 does not verify");
    /* without PeterNeumann known, the bad line is just unknown */
    assert_ok(wb_note_open(&n, m, len, &other, 1));
    assert_int_equal(n.nsigs, 2);
    assert_int_equal(n.sigs[0].verified, 0);
    assert_int_equal(n.sigs[1].verified, 1);
    wb_note_cleanup(&n);
    free(m);
    free(msg);
    wb_note_key_free(other);
}

/* the spec is silent; we verify every line of a known key and keep one */
static void test_duplicate_signatures(void **state)
{
    (void)state;
    wb_note n;
    char msg[2048];

    snprintf(msg, sizeof(msg), "%s%s", GO_NOTE, GO_SIG);
    assert_ok(open1(&n, msg, strlen(msg), go_verifier));
    assert_int_equal(n.nsigs, 1);
    assert_int_equal(n.sigs[0].verified, 1);
    wb_note_cleanup(&n);

    /* a second, bad signature from the known key is not skipped */
    snprintf(msg, sizeof(msg), "%s%s", GO_NOTE,
             EM " PeterNeumann " GO_B64_BAD "\n");
    assert_err(open1(&n, msg, strlen(msg), go_verifier), WB_E_VERIFY,
               "note line 5: signature by PeterNeumann+c74f20a3 does not verify");

    /* identical unknown lines are kept once; different ones all kept */
    snprintf(msg, sizeof(msg), "%s%s%s%s", GO_NOTE, EM " w.example AAAAAAAA\n",
             EM " w.example AAAAAAAA\n", EM " w.example AAAAAAAB\n");
    assert_ok(open1(&n, msg, strlen(msg), go_verifier));
    assert_int_equal(n.nsigs, 3);
    assert_string_equal(n.sigs[1].name, "w.example");
    assert_string_equal(n.sigs[2].name, "w.example");
    assert_int_not_equal(n.sigs[1].sig[1], n.sigs[2].sig[1]);
    wb_note_cleanup(&n);
}

/* ---- the spec's own examples (their keys are not published) ---- */

static void test_c2sp_examples(void **state)
{
    (void)state;
    size_t len;
    wb_note n;
    char *msg = vec("note/c2sp_signed_note.note", &len, 0);

    /* well-formed (the text has a blank line of its own); the signature is
     * parsed and reported, but its key is unknown */
    assert_err(open1(&n, msg, len, go_verifier), WB_E_VERIFY,
               "signed by quasimodo.example/salvatore+367ba04b");
    free(msg);
    msg = vec("note/c2sp_checkpoint.note", &len, 0);
    assert_err(open1(&n, msg, len, go_verifier), WB_E_VERIFY,
               "signed by example.com/behind-the-sofa+033de0ae");
    free(msg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_go_vector_files),
        cmocka_unit_test(test_go_sign),
        cmocka_unit_test(test_go_open),
        cmocka_unit_test(test_go_open_one_byte_changed),
        cmocka_unit_test(test_go_two_signatures),
        cmocka_unit_test(test_go_key_strings),
        cmocka_unit_test(test_generated_key_round_trip),
        cmocka_unit_test(test_key_id_mismatch),
        cmocka_unit_test(test_key_malformed),
        cmocka_unit_test(test_key_limits),
        cmocka_unit_test(test_generate_bad_names),
        cmocka_unit_test(test_sign_open_round_trip),
        cmocka_unit_test(test_sign_rejects),
        cmocka_unit_test(test_open_invalid_utf8),
        cmocka_unit_test(test_open_control_characters),
        cmocka_unit_test(test_open_empty_and_too_big),
        cmocka_unit_test(test_open_no_blank_line),
        cmocka_unit_test(test_open_empty_text),
        cmocka_unit_test(test_open_no_final_newline),
        cmocka_unit_test(test_open_no_signature_lines),
        cmocka_unit_test(test_open_bad_signature_prefix),
        cmocka_unit_test(test_open_no_space_after_name),
        cmocka_unit_test(test_open_bad_key_names),
        cmocka_unit_test(test_open_bad_base64),
        cmocka_unit_test(test_open_short_signature),
        cmocka_unit_test(test_open_signature_count),
        cmocka_unit_test(test_sixteen_signers),
        cmocka_unit_test(test_open_long_unknown_signature),
        cmocka_unit_test(test_split_at_last_blank_line),
        cmocka_unit_test(test_wrong_key_id_is_unknown),
        cmocka_unit_test(test_no_known_signature),
        cmocka_unit_test(test_bad_known_signature_rejects_note),
        cmocka_unit_test(test_duplicate_signatures),
        cmocka_unit_test(test_c2sp_examples),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
