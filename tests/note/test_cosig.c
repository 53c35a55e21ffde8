/*
 * test_cosig.c: C2SP tlog-cosignature/v1 (witness keys of signature type
 * 0x04, timestamped Ed25519 cosignatures over "cosignature/v1\ntime T\n" and
 * the checkpoint body) and the k-of-n witness policy: one test per rule,
 * the separation of witness keys from note keys over the same key material,
 * policy parsing errors, and quorum counting.
 */
#include "wbtest.h"

#include <inttypes.h>
#include <string.h>

#include "waybill/crypto.h"
#include "waybill/error.h"
#include "waybill/util.h"
#include "waybill/witness.h"

#define EM "\xe2\x80\x94" /* U+2014 EM DASH */
#define T0 1679315147u     /* the spec's example time */

#define assert_err(call, want, needle)                                           \
    do {                                                                         \
        wb_error_clear();                                                        \
        int rc_ = (call);                                                        \
        if (rc_ != (want))                                                       \
            fail_msg("%s: got %s (%s), want %s", #call, wb_error_name(rc_),      \
                     wb_error_message(), wb_error_name(want));                   \
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

/* a checkpoint body for origin at size with a root derived from seed */
static char *body_of(const char *origin, uint64_t size, uint8_t seed, size_t *len)
{
    wb_checkpoint cp;
    char *out = NULL;
    memset(&cp, 0, sizeof(cp));
    snprintf(cp.origin, sizeof(cp.origin), "%s", origin);
    cp.size = size;
    memset(cp.root, seed, sizeof(cp.root));
    assert_ok(wb_checkpoint_format(&out, len, &cp));
    return out;
}

/* text + "\n" + log signature + extra lines (malloc'd) */
static char *signed_cp(wb_note_key *log, const char *body, size_t blen, const char *extra,
                       size_t *len)
{
    char *n = NULL, *out;
    size_t nl = 0, el = extra ? strlen(extra) : 0;
    assert_ok(wb_note_sign(&n, &nl, body, blen, &log, 1));
    out = malloc(nl + el + 1);
    assert_non_null(out);
    memcpy(out, n, nl);
    if (el)
        memcpy(out + nl, extra, el);
    out[nl + el] = '\0';
    *len = nl + el;
    free(n);
    return out;
}

/* decodes the bytes of a signature line "— name b64\n" */
static size_t line_bytes(const char *line, uint8_t *out, size_t cap)
{
    const char *sp = strrchr(line, ' ');
    size_t n = 0, l;
    assert_non_null(sp);
    l = strlen(sp + 1);
    if (l > 0 && sp[l] == '\n')
        l--;
    assert_ok(wb_base64_decode(out, cap, &n, sp + 1, l));
    return n;
}

/* the same key material as a type-0x01 note key (same name) */
static wb_note_key *as_note_key(const wb_note_key *w)
{
    char *s = NULL, str[512], b64[64];
    const char *last;
    uint8_t data[64], msg[512], h[32];
    size_t n = 0, nl = strlen(wb_note_key_name(w));
    wb_note_key *k = NULL;
    uint32_t id;

    assert_ok(wb_note_signer_string(&s, w));
    last = s + strlen("PRIVATE+KEY+") + nl + 9; /* base64 may hold '+' */
    assert_ok(wb_base64_decode(data, sizeof(data), &n, last + 1, strlen(last + 1)));
    assert_int_equal(n, 33);
    assert_int_equal(data[0], 0x04);
    data[0] = 0x01;
    /* the public key: from the verifier string */
    free(s);
    assert_ok(wb_note_verifier_string(&s, w));
    {
        uint8_t pub[64];
        size_t pn = 0;
        last = s + nl + 9;
        assert_ok(wb_base64_decode(pub, sizeof(pub), &pn, last + 1, strlen(last + 1)));
        memcpy(msg, wb_note_key_name(w), nl);
        msg[nl] = '\n';
        msg[nl + 1] = 0x01;
        memcpy(msg + nl + 2, pub + 1, 32);
    }
    assert_ok(wb_sha256(h, msg, nl + 34));
    id = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
    wb_base64_encode(b64, data, 33);
    snprintf(str, sizeof(str), "PRIVATE+KEY+%s+%08x+%s", wb_note_key_name(w), (unsigned)id,
             b64);
    assert_ok(wb_note_signer_parse(&k, str, strlen(str)));
    free(s);
    return k;
}

static void test_key_id(void **state)
{
    wb_note_key *w = NULL, *v = NULL;
    char *vs = NULL;
    uint8_t pub[64], msg[300], h[32];
    size_t n = 0;
    const char *last, *name = "witness.example/w1";
    uint32_t id;
    (void)state;

    assert_ok(wb_cosig_key_generate(&w, name));
    assert_ok(wb_note_verifier_string(&vs, w));
    /* <name>+<id>+base64(0x04 || key) */
    assert_int_equal(strncmp(vs, "witness.example/w1+", 19), 0);
    last = vs + strlen(name) + 9; /* past "<name>+<8 hex>"; base64 may hold '+' */
    assert_ok(wb_base64_decode(pub, sizeof(pub), &n, last + 1, strlen(last + 1)));
    assert_int_equal(n, 33);
    assert_int_equal(pub[0], WB_NOTE_SIGTYPE_COSIG);
    memcpy(msg, name, strlen(name));
    msg[strlen(name)] = 0x0A;
    msg[strlen(name) + 1] = 0x04;
    memcpy(msg + strlen(name) + 2, pub + 1, 32);
    assert_ok(wb_sha256(h, msg, strlen(name) + 34));
    id = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
    assert_int_equal(wb_note_key_id(w), id);
    /* round trip, and a wrong ID is refused */
    assert_ok(wb_cosig_verifier_parse(&v, vs, strlen(vs)));
    assert_int_equal(wb_note_key_id(v), id);
    wb_note_key_free(v);
    v = NULL;
    vs[strlen(name) + 1] = vs[strlen(name) + 1] == '0' ? '1' : '0';
    assert_err(wb_cosig_verifier_parse(&v, vs, strlen(vs)), WB_E_INVALID, "does not match");
    assert_null(v);
    free(vs);
    wb_note_key_free(w);
}

static void test_type_separation(void **state)
{
    wb_note_key *w = NULL, *k = NULL, *v = NULL;
    char *ws = NULL, *ks = NULL, *body, *note, *line = NULL, *forged, fl[512], b64[200];
    size_t blen, nlen, llen = 0;
    uint8_t bytes[128];
    wb_note opened;
    (void)state;

    assert_ok(wb_cosig_key_generate(&w, "example.com/log"));
    k = as_note_key(w); /* same name, same Ed25519 key, type 0x01 */
    assert_int_not_equal(wb_note_key_id(w), wb_note_key_id(k));

    /* each parser refuses the other type, and says what it is */
    assert_ok(wb_note_verifier_string(&ws, w));
    assert_ok(wb_note_verifier_string(&ks, k));
    assert_err(wb_note_verifier_parse(&v, ws, strlen(ws)), WB_E_INVALID, "witness");
    assert_err(wb_cosig_verifier_parse(&v, ks, strlen(ks)), WB_E_INVALID, "note signing key");
    free(ws);
    free(ks);
    assert_ok(wb_note_signer_string(&ws, w));
    assert_err(wb_note_signer_parse(&v, ws, strlen(ws)), WB_E_INVALID, "witness");
    free(ws);
    assert_ok(wb_note_signer_string(&ks, k));
    assert_err(wb_cosig_signer_parse(&v, ks, strlen(ks)), WB_E_INVALID, "note signing key");
    free(ks);

    body = body_of("example.com/log", 5, 0xAA, &blen);
    /* a witness key does not sign notes; a note key does not cosign */
    assert_err(wb_note_sign(&note, &nlen, body, blen, &w, 1), WB_E_INVALID, "witness key");
    assert_err(wb_cosig_sign(&line, &llen, k, body, blen, T0), WB_E_INVALID, "not a witness");

    /* a note signature by the twin key is no cosignature */
    note = signed_cp(k, body, blen, NULL, &nlen);
    assert_ok(wb_note_open(&opened, note, nlen, &k, 1));
    assert_err(wb_cosig_verify(&opened, w, NULL), WB_E_NOTFOUND, "no cosignature");
    wb_note_cleanup(&opened);

    /* the Ed25519 signature inside a cosignature, relabelled as the twin's
     * note signature, does not verify: the message differs */
    assert_ok(wb_cosig_sign(&line, &llen, w, body, blen, T0));
    assert_int_equal(line_bytes(line, bytes, sizeof(bytes)), 76);
    {
        uint8_t sig[68];
        uint32_t id = wb_note_key_id(k);
        sig[0] = (uint8_t)(id >> 24);
        sig[1] = (uint8_t)(id >> 16);
        sig[2] = (uint8_t)(id >> 8);
        sig[3] = (uint8_t)id;
        memcpy(sig + 4, bytes + 12, 64);
        wb_base64_encode(b64, sig, sizeof(sig));
    }
    snprintf(fl, sizeof(fl), "%s\n" EM " example.com/log %s\n", body, b64);
    assert_err(wb_note_open(&opened, fl, strlen(fl), &k, 1), WB_E_VERIFY, "does not verify");

    /* the witness as a verifier of wb_note_open: its line is checked as a
     * cosignature and found good */
    forged = signed_cp(k, body, blen, line, &nlen);
    assert_ok(wb_note_open(&opened, forged, nlen, &w, 1));
    assert_int_equal(opened.nsigs, 2);
    wb_note_cleanup(&opened);
    free(forged);
    free(note);
    free(line);
    free(body);
    wb_note_key_free(w);
    wb_note_key_free(k);
}

static void test_timestamp(void **state)
{
    wb_note_key *w = NULL, *log = NULL;
    char *body, *line = NULL, *note, b64[200], mod[512];
    size_t blen, llen = 0, nlen;
    uint8_t bytes[128];
    uint64_t t = 0, ts = 0;
    wb_note opened;
    (void)state;

    assert_ok(wb_cosig_key_generate(&w, "witness.example/w1"));
    assert_ok(wb_note_key_generate(&log, "example.com/log"));
    body = body_of("example.com/log", 20852163, 0x11, &blen);

    /* the line frames key ID || big-endian time || 64-byte signature */
    assert_ok(wb_cosig_sign(&line, &llen, w, body, blen, T0));
    assert_int_equal(strncmp(line, EM " witness.example/w1 ", 4 + 19), 0);
    assert_int_equal(line[llen - 1], '\n');
    assert_int_equal(line_bytes(line, bytes, sizeof(bytes)), 4 + 8 + 64);
    assert_int_equal((uint32_t)bytes[0] << 24 | (uint32_t)bytes[1] << 16 |
                         (uint32_t)bytes[2] << 8 | bytes[3],
                     wb_note_key_id(w));
    for (int i = 0; i < 8; i++)
        ts = ts << 8 | bytes[4 + i];
    assert_int_equal(ts, T0);
    note = signed_cp(log, body, blen, line, &nlen);
    assert_ok(wb_note_open(&opened, note, nlen, &log, 1));
    assert_ok(wb_cosig_verify(&opened, w, &t));
    assert_int_equal(t, T0);
    wb_note_cleanup(&opened);
    free(note);

    /* the time is signed: change it and the signature fails */
    bytes[11] ^= 1;
    wb_base64_encode(b64, bytes, 76);
    snprintf(mod, sizeof(mod), EM " witness.example/w1 %s\n", b64);
    note = signed_cp(log, body, blen, mod, &nlen);
    assert_ok(wb_note_open(&opened, note, nlen, &log, 1));
    assert_err(wb_cosig_verify(&opened, w, &t), WB_E_VERIFY, "does not verify");
    wb_note_cleanup(&opened);
    free(note);

    /* at most 2^63 - 1: signing refuses more, verifying rejects more */
    free(line);
    line = NULL;
    assert_err(wb_cosig_sign(&line, &llen, w, body, blen, (uint64_t)INT64_MAX + 1),
               WB_E_INVALID, "2^63");
    assert_ok(wb_cosig_sign(&line, &llen, w, body, blen, (uint64_t)INT64_MAX));
    line_bytes(line, bytes, sizeof(bytes));
    bytes[4] |= 0x80;
    wb_base64_encode(b64, bytes, 76);
    snprintf(mod, sizeof(mod), EM " witness.example/w1 %s\n", b64);
    note = signed_cp(log, body, blen, mod, &nlen);
    assert_ok(wb_note_open(&opened, note, nlen, &log, 1));
    assert_err(wb_cosig_verify(&opened, w, &t), WB_E_VERIFY, "2^63");
    wb_note_cleanup(&opened);
    free(note);

    /* a truncated cosignature (no time) is refused by length */
    wb_base64_encode(b64, bytes, 4 + 64);
    {
        uint8_t shortb[68];
        memcpy(shortb, bytes, 4);
        memcpy(shortb + 4, bytes + 12, 64);
        wb_base64_encode(b64, shortb, sizeof(shortb));
    }
    snprintf(mod, sizeof(mod), EM " witness.example/w1 %s\n", b64);
    note = signed_cp(log, body, blen, mod, &nlen);
    assert_ok(wb_note_open(&opened, note, nlen, &log, 1));
    assert_err(wb_cosig_verify(&opened, w, &t), WB_E_VERIFY, "not 72");
    wb_note_cleanup(&opened);
    free(note);

    free(line);
    free(body);
    wb_note_key_free(w);
    wb_note_key_free(log);
}

static void test_tampered_and_wrong_key(void **state)
{
    wb_note_key *w = NULL, *w2 = NULL, *w3 = NULL, *log = NULL;
    char *body, *body2, *line = NULL, *note;
    size_t blen, blen2, llen = 0, nlen;
    wb_note opened;
    uint64_t t;
    (void)state;

    assert_ok(wb_cosig_key_generate(&w, "witness.example/w1"));
    assert_ok(wb_cosig_key_generate(&w2, "witness.example/w1")); /* same name */
    assert_ok(wb_cosig_key_generate(&w3, "witness.example/w3"));
    assert_ok(wb_note_key_generate(&log, "example.com/log"));
    body = body_of("example.com/log", 10, 0x22, &blen);
    body2 = body_of("example.com/log", 10, 0x23, &blen2); /* another root */

    /* a cosignature over one body does not verify over another */
    assert_ok(wb_cosig_sign(&line, &llen, w, body, blen, T0));
    note = signed_cp(log, body2, blen2, line, &nlen);
    assert_ok(wb_note_open(&opened, note, nlen, &log, 1));
    assert_err(wb_cosig_verify(&opened, w, &t), WB_E_VERIFY, "does not verify");
    /* other keys find no cosignature of theirs */
    assert_err(wb_cosig_verify(&opened, w2, &t), WB_E_NOTFOUND, "no cosignature");
    assert_err(wb_cosig_verify(&opened, w3, &t), WB_E_NOTFOUND, "no cosignature");
    /* a log key is not a witness */
    assert_err(wb_cosig_verify(&opened, log, &t), WB_E_INVALID, "not a witness");
    wb_note_cleanup(&opened);
    free(note);

    /* a body that is not a note text is refused */
    assert_err(wb_cosig_sign(&note, &nlen, w, "no newline", 10, T0), WB_E_INVALID,
               "newline");
    assert_err(wb_cosig_sign(&note, &nlen, w, "a\tb\n", 4, T0), WB_E_INVALID, "control");

    free(line);
    free(body);
    free(body2);
    wb_note_key_free(w);
    wb_note_key_free(w2);
    wb_note_key_free(w3);
    wb_note_key_free(log);
}

/* ---- policy ---- */

static char *vkey(const wb_note_key *k)
{
    char *s = NULL;
    assert_ok(wb_note_verifier_string(&s, k));
    return s;
}

static void policy_bad(const char *text, int want, const char *needle)
{
    wb_witness_policy p;
    assert_err(wb_witness_policy_parse(&p, text, strlen(text)), want, needle);
    assert_int_equal(p.nwitness, 0);
    assert_null(p.log_vkey);
}

static void test_policy_parse(void **state)
{
    wb_note_key *w1 = NULL, *w2 = NULL, *log = NULL;
    char *v1, *v2, *vl, text[4096];
    wb_witness_policy p;
    (void)state;

    assert_ok(wb_cosig_key_generate(&w1, "witness.example/w1"));
    assert_ok(wb_cosig_key_generate(&w2, "witness.example/w2"));
    assert_ok(wb_note_key_generate(&log, "example.com/log"));
    v1 = vkey(w1);
    v2 = vkey(w2);
    vl = vkey(log);

    snprintf(text, sizeof(text),
             "# witnesses of example.com/log\n"
             "log %s\n"
             "\n"
             "witness one %s http://127.0.0.1:9/  # the first\n"
             "\twitness  two   %s\n"
             "quorum 1",
             vl, v1, v2);
    assert_ok(wb_witness_policy_parse(&p, text, strlen(text)));
    assert_string_equal(p.log_vkey, vl);
    assert_int_equal(p.nwitness, 2);
    assert_int_equal(p.quorum, 1);
    assert_string_equal(p.witness[0].name, "one");
    assert_string_equal(p.witness[0].url, "http://127.0.0.1:9/");
    assert_null(p.witness[1].url);
    assert_int_equal(wb_note_key_id(p.witness[1].key), wb_note_key_id(w2));
    wb_witness_policy_cleanup(&p);

    /* quorum defaults to all */
    snprintf(text, sizeof(text), "witness one %s\nwitness two %s\n", v1, v2);
    assert_ok(wb_witness_policy_parse(&p, text, strlen(text)));
    assert_int_equal(p.quorum, 2);
    assert_null(p.log_vkey);
    wb_witness_policy_cleanup(&p);

    policy_bad("", WB_E_INVALID, "no witness");
    policy_bad("# nothing\n", WB_E_INVALID, "no witness");
    policy_bad("witnesses one x\n", WB_E_INVALID, "unknown directive");
    policy_bad("witness one\n", WB_E_INVALID, "line 1");
    snprintf(text, sizeof(text), "witness one %s\n", vl); /* a note key */
    policy_bad(text, WB_E_INVALID, "note signing key");
    snprintf(text, sizeof(text), "log %s\n", v1); /* a witness key as the log */
    policy_bad(text, WB_E_INVALID, "witness");
    snprintf(text, sizeof(text), "witness one %s\nwitness one %s\n", v1, v2);
    policy_bad(text, WB_E_INVALID, "named twice");
    snprintf(text, sizeof(text), "witness one %s\nwitness two %s\n", v1, v1);
    policy_bad(text, WB_E_INVALID, "has the key of");
    snprintf(text, sizeof(text), "witness one %s ftp://x/\n", v1);
    policy_bad(text, WB_E_INVALID, "URL");
    snprintf(text, sizeof(text), "witness one %s http://x/ extra\n", v1);
    policy_bad(text, WB_E_INVALID, "line 1");
    snprintf(text, sizeof(text), "witness one %s\nquorum 0\n", v1);
    policy_bad(text, WB_E_INVALID, "quorum 0");
    snprintf(text, sizeof(text), "witness one %s\nquorum 2\n", v1);
    policy_bad(text, WB_E_INVALID, "only 1 witnesses");
    snprintf(text, sizeof(text), "witness one %s\nquorum 1\nquorum 1\n", v1);
    policy_bad(text, WB_E_INVALID, "second 'quorum'");
    snprintf(text, sizeof(text), "witness one %s\nquorum 01\n", v1);
    policy_bad(text, WB_E_INVALID, "leading zero");
    snprintf(text, sizeof(text), "log %s\nlog %s\nwitness one %s\n", vl, vl, v1);
    policy_bad(text, WB_E_INVALID, "second 'log'");
    snprintf(text, sizeof(text), "witness one %s\r\n", v1);
    policy_bad(text, WB_E_INVALID, "carriage return");
    snprintf(text, sizeof(text), "witness o+ne %s\n", v1);
    policy_bad(text, WB_E_INVALID, "line 1");
    {
        /* over WB_WITNESS_MAX witnesses */
        size_t used = 0;
        char *big = malloc(64 * 1024);
        assert_non_null(big);
        for (int i = 0; i <= WB_WITNESS_MAX; i++) {
            wb_note_key *k = NULL;
            char *vk;
            char name[32];
            snprintf(name, sizeof(name), "w%d.example", i);
            assert_ok(wb_cosig_key_generate(&k, name));
            vk = vkey(k);
            used += (size_t)snprintf(big + used, 64 * 1024 - used, "witness w%d %s\n", i, vk);
            free(vk);
            wb_note_key_free(k);
        }
        policy_bad(big, WB_E_LIMIT, "over 32 witnesses");
        free(big);
    }
    free(v1);
    free(v2);
    free(vl);
    wb_note_key_free(w1);
    wb_note_key_free(w2);
    wb_note_key_free(log);
}

static void test_policy_quorum(void **state)
{
    wb_note_key *w[3] = {NULL, NULL, NULL}, *log = NULL, *other = NULL;
    char *vk[3], *vl, text[2048], *body, *l1 = NULL, *l1b = NULL, *l2 = NULL, *l3 = NULL,
                                       *note, extra[2048];
    size_t blen, n, nlen, ncos = 99;
    wb_witness_policy p;
    (void)state;

    for (int i = 0; i < 3; i++) {
        char name[32];
        snprintf(name, sizeof(name), "witness.example/w%d", i + 1);
        assert_ok(wb_cosig_key_generate(&w[i], name));
        vk[i] = vkey(w[i]);
    }
    assert_ok(wb_note_key_generate(&log, "example.com/log"));
    assert_ok(wb_note_key_generate(&other, "example.com/log"));
    vl = vkey(log);
    snprintf(text, sizeof(text), "log %s\nwitness a %s\nwitness b %s\nwitness c %s\nquorum 2\n",
             vl, vk[0], vk[1], vk[2]);
    assert_ok(wb_witness_policy_parse(&p, text, strlen(text)));

    body = body_of("example.com/log", 42, 0x42, &blen);
    assert_ok(wb_cosig_sign(&l1, &n, w[0], body, blen, T0));
    assert_ok(wb_cosig_sign(&l1b, &n, w[0], body, blen, T0 + 60));
    assert_ok(wb_cosig_sign(&l2, &n, w[1], body, blen, T0));
    assert_ok(wb_cosig_sign(&l3, &n, w[2], body, blen + 0, T0));

    /* one witness twice (two times) counts once */
    snprintf(extra, sizeof(extra), "%s%s", l1, l1b);
    note = signed_cp(log, body, blen, extra, &nlen);
    assert_err(wb_witness_policy_check(&p, note, nlen, NULL, &ncos), WB_E_VERIFY,
               "1 of the 2");
    assert_int_equal(ncos, 1);
    assert_non_null(strstr(wb_error_message(), "b (missing)"));
    free(note);

    /* two distinct witnesses: enough; with a bad third, still enough */
    l3[strlen(l3) - 3] = l3[strlen(l3) - 3] == 'A' ? 'B' : 'A';
    snprintf(extra, sizeof(extra), "%s%s%s%s", l1, l1b, l2, l3);
    note = signed_cp(log, body, blen, extra, &nlen);
    assert_ok(wb_witness_policy_check(&p, note, nlen, NULL, &ncos));
    assert_int_equal(ncos, 2);
    /* an explicit log key that did not sign: refused */
    assert_err(wb_witness_policy_check(&p, note, nlen, other, &ncos), WB_E_VERIFY, "checkpoint");
    free(note);

    /* quorum 3: the bad one is named */
    p.quorum = 3;
    snprintf(extra, sizeof(extra), "%s%s%s", l1, l2, l3);
    note = signed_cp(log, body, blen, extra, &nlen);
    assert_err(wb_witness_policy_check(&p, note, nlen, log, &ncos), WB_E_VERIFY, "c (bad)");
    free(note);

    /* cosignatures without the log's signature do not count */
    snprintf(extra, sizeof(extra), "%s\n%s%s", body, l1, l2);
    assert_err(wb_witness_policy_check(&p, extra, strlen(extra), log, &ncos), WB_E_VERIFY,
               "no signature from a known key");

    wb_witness_policy_cleanup(&p);
    free(l1);
    free(l1b);
    free(l2);
    free(l3);
    free(body);
    free(vl);
    for (int i = 0; i < 3; i++) {
        free(vk[i]);
        wb_note_key_free(w[i]);
    }
    wb_note_key_free(log);
    wb_note_key_free(other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_id),
        cmocka_unit_test(test_type_separation),
        cmocka_unit_test(test_timestamp),
        cmocka_unit_test(test_tampered_and_wrong_key),
        cmocka_unit_test(test_policy_parse),
        cmocka_unit_test(test_policy_quorum),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
