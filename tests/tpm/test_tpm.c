/*
 * test_tpm.c: TPM 2.0 devices (waybill/tpm.h) against a real software TPM.
 *
 * Each test manufactures fresh swtpm instances in a temporary directory:
 * swtpm_setup makes the TPM state, its EK and its EK certificate, issued
 * through swtpm_localca by a CA this test generates (it plays the TPM
 * vendor's CA registered in the ledger), with the sha256 and sha384 PCR
 * banks active; then `swtpm socket` serves it on loopback ports and is
 * killed afterwards (and by the kernel if this process dies first). The
 * device side talks to it through tpm2-tss ("swtpm:host=127.0.0.1,port=P"),
 * the verifier side is plain software.
 *
 * swtpm and swtpm_setup come from the Debian packages swtpm and swtpm-tools
 * (scripts/install-deps.sh). Without them the tests fail, saying so: a TPM
 * test that skips would let `make test` pass without ever testing a TPM.
 */
#include "wbtest.h"
#include "wbtest_swtpm.h"

#include "waybill/crypto.h"
#include "waybill/error.h"
#include "waybill/identity.h"
#include "waybill/tpm.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- the TPM vendor's CA, one per test program ---- */

static char *g_dir;            /* the program's temporary directory */
static uint8_t *g_ca_der;      /* the vendor CA certificate */
static size_t g_ca_len;

/* released firmware, as the ledger's firmware statements name it (SHA-384) */
static uint8_t g_fw[3][WB_SHA384_LEN];
static const char *const g_fw_names[3] = {"bios 2.4.1", "microcode 0x2b000590",
                                          "nic option rom 22.31"};


static int group_setup(void **state)
{
    wb_key *ca = NULL;
    char *pem = NULL, path[4200];
    size_t len;

    (void)state;
    g_dir = wbt_tmpdir("tpm");
    assert_int_equal(wb_key_generate(&ca, WB_ALG_ES256), 0);
    assert_int_equal(wb_x509_issue(&g_ca_der, &g_ca_len, ca, "Test TPM Vendor EK CA",
                                   "waybill test TPM vendor", ca, NULL, 0, 1, 1, 3650),
                     0);
    assert_int_equal(wb_key_to_pem(&pem, &len, ca, 1), 0);
    snprintf(path, sizeof(path), "%s/ca-key.pem", g_dir);
    wbt_write_file(path, pem, len);
    free(pem);
    assert_int_equal(wb_x509_der_to_pem(&pem, g_ca_der, g_ca_len), 0);
    snprintf(path, sizeof(path), "%s/ca-cert.pem", g_dir);
    wbt_write_file(path, pem, strlen(pem));
    free(pem);
    wb_key_free(ca);
    for (int i = 0; i < 3; i++)
        assert_int_equal(wb_sha384(g_fw[i], g_fw_names[i], strlen(g_fw_names[i])), 0);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    wbt_rmtree(g_dir);
    free(g_dir);
    free(g_ca_der);
    return 0;
}

/* ---- swtpm instances (tests/support/wbtest_swtpm.c) ---- */

typedef wbt_swtpm swtpm;

static void tpm_start(swtpm *t, const char *tag)
{
    char key[4300], cert[4300];
    snprintf(key, sizeof(key), "%s/ca-key.pem", g_dir);
    snprintf(cert, sizeof(cert), "%s/ca-cert.pem", g_dir);
    wbt_swtpm_start(t, g_dir, tag, key, cert);
}

static void tpm_stop(swtpm *t)
{
    wbt_swtpm_stop(t);
}

/* ---- the two sides ---- */

/* a device: its TPM, its EK certificate and its AK */
typedef struct {
    wb_tpm *tpm;
    uint8_t *ek;
    size_t ek_len;
    uint8_t *ak;
    size_t ak_len;
} device;

static void device_open(device *d, const swtpm *t)
{
    memset(d, 0, sizeof(*d));
    if (wb_tpm_open(&d->tpm, t->tcti) != 0)
        fail_msg("wb_tpm_open: %s", wb_error_message());
    if (wb_tpm_ek_cert(d->tpm, &d->ek, &d->ek_len) != 0)
        fail_msg("wb_tpm_ek_cert: %s", wb_error_message());
    if (wb_tpm_ak(d->tpm, &d->ak, &d->ak_len) != 0)
        fail_msg("wb_tpm_ak: %s", wb_error_message());
}

static void device_close(device *d)
{
    wb_tpm_free(d->tpm);
    free(d->ek);
    free(d->ak);
    memset(d, 0, sizeof(*d));
}

/* measured boot: the released firmware, each into its PCR of the sha384 bank */
static void device_boot(device *d)
{
    assert_int_equal(wb_tpm_pcr_extend(d->tpm, 0, WB_TPM_SHA384, g_fw[0]), 0);
    assert_int_equal(wb_tpm_pcr_extend(d->tpm, 0, WB_TPM_SHA384, g_fw[1]), 0);
    assert_int_equal(wb_tpm_pcr_extend(d->tpm, 2, WB_TPM_SHA384, g_fw[2]), 0);
}

/* what the verifier expects of PCRs 0..7 (sha384) from the released firmware */
static void expected_pcrs(wb_tpm_pcrs *e)
{
    uint8_t pcr0_events[2 * WB_SHA384_LEN];

    memset(e, 0, sizeof(*e));
    e->bank = WB_TPM_SHA384;
    e->mask = 0xff;
    memcpy(pcr0_events, g_fw[0], WB_SHA384_LEN);
    memcpy(pcr0_events + WB_SHA384_LEN, g_fw[1], WB_SHA384_LEN);
    assert_int_equal(wb_tpm_pcr_replay(e->value[0], WB_TPM_SHA384, pcr0_events, 2), 0);
    assert_int_equal(wb_tpm_pcr_replay(e->value[2], WB_TPM_SHA384, g_fw[2], 1), 0);
    for (unsigned i = 0; i < 8; i++)
        if (i != 0 && i != 2)
            assert_int_equal(wb_tpm_pcr_replay(e->value[i], WB_TPM_SHA384, NULL, 0), 0);
}

/* the verifier's identity check: the EK certificate chains to the vendor CA */
static void verify_identity(char id[WB_IDENTITY_ID_HEX + 1], const device *d)
{
    const uint8_t *chain[1] = {d->ek};
    const uint8_t *cas[1] = {g_ca_der};
    char want[WB_IDENTITY_ID_HEX + 1];

    if (wb_identity_verify(id, chain, &d->ek_len, 1, cas, &g_ca_len, 1) != 0)
        fail_msg("EK certificate does not chain to the vendor CA: %s", wb_error_message());
    assert_int_equal(wb_identity_device_id(want, d->ek, d->ek_len), 0);
    assert_string_equal(id, want);
}

/*
 * bind_ak: the verifier makes a credential for the claimed EK certificate and
 * the presented AK; the device activates it; returns the activation's
 * result and, when the device answered, the check's.
 */
static int bind_ak(device *d, const uint8_t *ek, size_t ek_len, const uint8_t *ak, size_t ak_len)
{
    uint8_t *cred = NULL, secret[WB_TPM_SECRET_LEN], answer[WB_TPM_SECRET_LEN];
    size_t cred_len = 0, answer_len = 0;
    int rc;

    if (wb_tpm_make_credential(&cred, &cred_len, secret, ek, ek_len, ak, ak_len) != 0)
        fail_msg("wb_tpm_make_credential: %s", wb_error_message());
    rc = wb_tpm_activate(d->tpm, answer, &answer_len, cred, cred_len);
    free(cred);
    if (rc != 0)
        return rc;
    return wb_tpm_activation_check(secret, answer, answer_len);
}

static void challenge(uint8_t nonce[32])
{
    assert_int_equal(wb_random_bytes(nonce, 32), 0);
}

static void assert_msg(const char *needle)
{
    const char *m = wb_error_message();
    if (!strstr(m, needle))
        fail_msg("expected a message with \"%s\", got \"%s\"", needle, m);
    fprintf(stderr, "  refused as expected: %s\n", m);
}

/* ---- tests ---- */

/* the whole flow on a fresh TPM: identity, binding, quote, and a later round */
static void test_full_flow(void **state)
{
    swtpm t;
    device d;
    char id[WB_IDENTITY_ID_HEX + 1];
    uint8_t nonce[32];
    wb_tpm_evidence ev;
    wb_tpm_pcrs want;
    (void)state;

    tpm_start(&t, "full");
    device_open(&d, &t);
    device_boot(&d);

    verify_identity(id, &d);
    if (bind_ak(&d, d.ek, d.ek_len, d.ak, d.ak_len) != 0)
        fail_msg("binding the AK to the EK: %s", wb_error_message());

    expected_pcrs(&want);
    for (int round = 0; round < 2; round++) {
        challenge(nonce);
        if (wb_tpm_quote(d.tpm, &ev, nonce, sizeof(nonce), WB_TPM_SHA384, 0xff) != 0)
            fail_msg("wb_tpm_quote: %s", wb_error_message());
        if (wb_tpm_quote_verify(&ev, d.ak, d.ak_len, nonce, sizeof(nonce), &want) != 0)
            fail_msg("round %d: %s", round, wb_error_message());
        wb_tpm_evidence_cleanup(&ev);
    }

    /* a sha256 bank works the same, with expected values given directly */
    {
        uint8_t m[WB_SHA256_LEN];
        wb_tpm_pcrs w256 = {.bank = WB_TPM_SHA256, .mask = (1u << 16) | (1u << 23)};
        assert_int_equal(wb_sha256(m, "loader", 6), 0);
        assert_int_equal(wb_tpm_pcr_extend(d.tpm, 16, WB_TPM_SHA256, m), 0);
        assert_int_equal(wb_tpm_pcr_replay(w256.value[16], WB_TPM_SHA256, m, 1), 0);
        assert_int_equal(wb_tpm_pcr_extend(d.tpm, 23, WB_TPM_SHA256, m), 0);
        assert_int_equal(wb_tpm_pcr_replay(w256.value[23], WB_TPM_SHA256, m, 1), 0);
        challenge(nonce);
        assert_int_equal(wb_tpm_quote(d.tpm, &ev, nonce, sizeof(nonce), WB_TPM_SHA256,
                                      w256.mask),
                         0);
        if (wb_tpm_quote_verify(&ev, d.ak, d.ak_len, nonce, sizeof(nonce), &w256) != 0)
            fail_msg("sha256 bank: %s", wb_error_message());
        wb_tpm_evidence_cleanup(&ev);
    }

    /* reopening the TPM re-derives the same EK and AK, so a binding holds
     * across rounds (one wb_tpm at a time: swtpm has no resource manager
     * and room for three loaded objects) */
    {
        device d2;
        uint8_t *ak = d.ak, *ek = d.ek;
        size_t ak_len = d.ak_len, ek_len = d.ek_len;
        d.ak = d.ek = NULL;
        device_close(&d);
        device_open(&d2, &t);
        assert_int_equal(d2.ak_len, ak_len);
        assert_memory_equal(d2.ak, ak, ak_len);
        assert_int_equal(d2.ek_len, ek_len);
        assert_memory_equal(d2.ek, ek, ek_len);
        challenge(nonce);
        assert_int_equal(wb_tpm_quote(d2.tpm, &ev, nonce, sizeof(nonce), WB_TPM_SHA384, 0xff),
                         0);
        if (wb_tpm_quote_verify(&ev, ak, ak_len, nonce, sizeof(nonce), &want) != 0)
            fail_msg("after reopening: %s", wb_error_message());
        wb_tpm_evidence_cleanup(&ev);
        device_close(&d2);
        free(ak);
        free(ek);
    }
    tpm_stop(&t);
}

/* firmware other than the released one (PCR extended after the reference) */
static void test_pcrs_changed(void **state)
{
    swtpm t;
    device d;
    uint8_t nonce[32], rogue[WB_SHA384_LEN];
    wb_tpm_evidence ev;
    wb_tpm_pcrs want;
    (void)state;

    tpm_start(&t, "changed");
    device_open(&d, &t);
    device_boot(&d);
    assert_int_equal(bind_ak(&d, d.ek, d.ek_len, d.ak, d.ak_len), 0);
    expected_pcrs(&want);

    /* a reference round passes */
    challenge(nonce);
    assert_int_equal(wb_tpm_quote(d.tpm, &ev, nonce, sizeof(nonce), WB_TPM_SHA384, 0xff), 0);
    assert_int_equal(wb_tpm_quote_verify(&ev, d.ak, d.ak_len, nonce, sizeof(nonce), &want), 0);
    wb_tpm_evidence_cleanup(&ev);

    /* then an unreleased option ROM is measured into PCR 2 */
    assert_int_equal(wb_sha384(rogue, "rogue option rom", 16), 0);
    assert_int_equal(wb_tpm_pcr_extend(d.tpm, 2, WB_TPM_SHA384, rogue), 0);
    challenge(nonce);
    assert_int_equal(wb_tpm_quote(d.tpm, &ev, nonce, sizeof(nonce), WB_TPM_SHA384, 0xff), 0);
    assert_int_equal(wb_tpm_quote_verify(&ev, d.ak, d.ak_len, nonce, sizeof(nonce), &want),
                     WB_E_VERIFY);
    assert_msg("PCR 2 (sha384)");
    assert_msg("1 PCR differ");

    /* the device cannot hide it by sending the expected values instead */
    for (unsigned i = 0; i < 8; i++)
        memcpy(ev.pcrs.value[i], want.value[i], WB_SHA384_LEN);
    assert_int_equal(wb_tpm_quote_verify(&ev, d.ak, d.ak_len, nonce, sizeof(nonce), &want),
                     WB_E_VERIFY);
    assert_msg("do not hash to the quoted pcrDigest");
    wb_tpm_evidence_cleanup(&ev);

    /* nor by quoting other PCRs than those asked for */
    challenge(nonce);
    assert_int_equal(wb_tpm_quote(d.tpm, &ev, nonce, sizeof(nonce), WB_TPM_SHA384, 0xfb), 0);
    assert_int_equal(wb_tpm_quote_verify(&ev, d.ak, d.ak_len, nonce, sizeof(nonce), &want),
                     WB_E_VERIFY);
    assert_msg("PCR selection sha384 {0,1,3,4,5,6,7}, expected sha384 {0,1,2,3,4,5,6,7}");
    wb_tpm_evidence_cleanup(&ev);

    device_close(&d);
    tpm_stop(&t);
}

/* a different TPM cannot pass for the first: binding and quotes both fail */
static void test_other_tpm(void **state)
{
    swtpm ta, tb;
    device a, b;
    uint8_t nonce[32], guess[WB_TPM_SECRET_LEN] = {0};
    char id_a[WB_IDENTITY_ID_HEX + 1], id_b[WB_IDENTITY_ID_HEX + 1];
    wb_tpm_evidence ev;
    wb_tpm_pcrs want;
    (void)state;

    tpm_start(&ta, "a");
    tpm_start(&tb, "b");
    device_open(&a, &ta);
    device_open(&b, &tb);
    device_boot(&a);
    device_boot(&b);

    /* both are genuine TPMs of the vendor, with different identities */
    verify_identity(id_a, &a);
    verify_identity(id_b, &b);
    assert_string_not_equal(id_a, id_b);
    assert_int_equal(bind_ak(&b, b.ek, b.ek_len, b.ak, b.ak_len), 0);

    /* B presents A's EK certificate (public, easily copied) with its own AK:
     * its TPM cannot activate a credential made for A's EK */
    assert_int_equal(bind_ak(&b, a.ek, a.ek_len, b.ak, b.ak_len), WB_E_VERIFY);
    assert_msg("TPM2_ActivateCredential refused the credential");
    /* and an answer it makes up is not the secret */
    {
        uint8_t *cred = NULL, secret[WB_TPM_SECRET_LEN];
        size_t cred_len = 0;
        assert_int_equal(wb_tpm_make_credential(&cred, &cred_len, secret, a.ek, a.ek_len,
                                                b.ak, b.ak_len),
                         0);
        free(cred);
        assert_int_equal(wb_tpm_activation_check(secret, guess, sizeof(guess)), WB_E_VERIFY);
        assert_msg("AK is not bound to this EK");
        assert_int_equal(wb_tpm_activation_check(secret, secret, sizeof(secret) - 1),
                         WB_E_VERIFY);
        assert_int_equal(wb_tpm_activation_check(secret, secret, sizeof(secret)), 0);
    }

    /* B presents A's EK certificate and A's AK public: B does not hold that AK */
    assert_int_equal(bind_ak(&b, a.ek, a.ek_len, a.ak, a.ak_len), WB_E_VERIFY);
    assert_msg("TPM2_ActivateCredential refused the credential");

    /* B with its own EK but A's AK public (an AK that lives in another TPM):
     * the name in the credential's HMAC is not that of B's AK */
    assert_int_equal(bind_ak(&b, b.ek, b.ek_len, a.ak, a.ak_len), WB_E_VERIFY);
    assert_msg("TPM2_ActivateCredential refused the credential");

    /* the refusals left B's TPM working: its own binding still passes */
    assert_int_equal(bind_ak(&b, b.ek, b.ek_len, b.ak, b.ak_len), 0);

    /* a credential for A's EK and A's AK activates only on A */
    assert_int_equal(bind_ak(&a, a.ek, a.ek_len, a.ak, a.ak_len), 0);

    /* with A's AK bound, a quote from B presented as A's fails */
    expected_pcrs(&want);
    challenge(nonce);
    assert_int_equal(wb_tpm_quote(b.tpm, &ev, nonce, sizeof(nonce), WB_TPM_SHA384, 0xff), 0);
    assert_int_equal(wb_tpm_quote_verify(&ev, b.ak, b.ak_len, nonce, sizeof(nonce), &want),
                     0); /* a good quote of B, for B */
    assert_int_equal(wb_tpm_quote_verify(&ev, a.ak, a.ak_len, nonce, sizeof(nonce), &want),
                     WB_E_VERIFY);
    assert_msg("does not verify with the AK bound to this EK");
    wb_tpm_evidence_cleanup(&ev);

    device_close(&a);
    device_close(&b);
    tpm_stop(&ta);
    tpm_stop(&tb);
}

/* replayed and modified quotes */
static void test_replay_and_tamper(void **state)
{
    swtpm t;
    device d;
    uint8_t nonce[32], old_nonce[32], name[WB_TPM_NAME_LEN];
    wb_tpm_evidence ev;
    wb_tpm_pcrs want;
    (void)state;

    tpm_start(&t, "replay");
    device_open(&d, &t);
    device_boot(&d);
    assert_int_equal(bind_ak(&d, d.ek, d.ek_len, d.ak, d.ak_len), 0);
    expected_pcrs(&want);

    challenge(old_nonce);
    assert_int_equal(wb_tpm_quote(d.tpm, &ev, old_nonce, sizeof(old_nonce), WB_TPM_SHA384,
                                  0xff),
                     0);
    assert_int_equal(
        wb_tpm_quote_verify(&ev, d.ak, d.ak_len, old_nonce, sizeof(old_nonce), &want), 0);

    /* the next round's challenge answered with the old quote */
    challenge(nonce);
    assert_int_equal(wb_tpm_quote_verify(&ev, d.ak, d.ak_len, nonce, sizeof(nonce), &want),
                     WB_E_VERIFY);
    assert_msg("not this challenge's nonce");

    /* a modified signature: s's last byte flipped */
    ev.sig[ev.sig_len - 1] ^= 0x01;
    assert_int_equal(
        wb_tpm_quote_verify(&ev, d.ak, d.ak_len, old_nonce, sizeof(old_nonce), &want),
        WB_E_VERIFY);
    assert_msg("quote signature does not verify");
    ev.sig[ev.sig_len - 1] ^= 0x01;

    /* modified signed bytes: the clock, in the middle of the TPMS_ATTEST */
    ev.attest[ev.attest_len / 2] ^= 0x80;
    assert_int_equal(
        wb_tpm_quote_verify(&ev, d.ak, d.ak_len, old_nonce, sizeof(old_nonce), &want),
        WB_E_VERIFY);
    assert_msg("quote signature does not verify");
    ev.attest[ev.attest_len / 2] ^= 0x80;

    /* a signature of another algorithm */
    ev.sig[1] = 0x14; /* TPM_ALG_RSASSA */
    assert_int_equal(
        wb_tpm_quote_verify(&ev, d.ak, d.ak_len, old_nonce, sizeof(old_nonce), &want),
        WB_E_VERIFY);
    assert_msg("the AK signs ECDSA");
    ev.sig[1] = 0x18;
    assert_int_equal(
        wb_tpm_quote_verify(&ev, d.ak, d.ak_len, old_nonce, sizeof(old_nonce), &want), 0);
    wb_tpm_evidence_cleanup(&ev);

    /* AK publics the verifier refuses: a decryption key, trailing bytes */
    assert_int_equal(wb_tpm_ak_name(name, d.ak, d.ak_len), 0);
    assert_int_equal(name[0], 0x00);
    assert_int_equal(name[1], 0x0b);
    {
        uint8_t *bad = malloc(d.ak_len + 1);
        assert_non_null(bad);
        memcpy(bad, d.ak, d.ak_len);
        bad[5] |= 0x02; /* objectAttributes bit 17: decrypt */
        assert_int_equal(wb_tpm_ak_name(name, bad, d.ak_len), WB_E_INVALID);
        assert_msg("not a restricted signing key");
        memcpy(bad, d.ak, d.ak_len);
        bad[7] &= (uint8_t)~0x02; /* bit 1: fixedTPM */
        assert_int_equal(wb_tpm_ak_name(name, bad, d.ak_len), WB_E_INVALID);
        memcpy(bad, d.ak, d.ak_len);
        bad[d.ak_len] = 0;
        assert_int_equal(wb_tpm_ak_name(name, bad, d.ak_len + 1), WB_E_INVALID);
        assert_msg("after the TPMT_PUBLIC");
        free(bad);
    }

    /* a TPM 1.2-style or ECC EK certificate is refused by name, not mis-used */
    {
        uint8_t *cred = NULL, secret[WB_TPM_SECRET_LEN];
        size_t cred_len = 0;
        assert_int_equal(wb_tpm_make_credential(&cred, &cred_len, secret, g_ca_der, g_ca_len,
                                                d.ak, d.ak_len),
                         WB_E_INVALID);
        assert_msg("RSA 2048 EKs");
        assert_null(cred);
    }

    device_close(&d);
    tpm_stop(&t);
}

/* the software PCR replay matches the TPM's own extend, for both banks */
static void test_replay_matches_tpm(void **state)
{
    swtpm t;
    device d;
    wb_tpm_pcrs got;
    uint8_t v[WB_TPM_PCR_MAX], ev256[2 * WB_SHA256_LEN];
    (void)state;

    tpm_start(&t, "replay-sw");
    device_open(&d, &t);
    device_boot(&d);
    assert_int_equal(wb_tpm_pcr_read(d.tpm, &got, WB_TPM_SHA384, 0x05), 0);
    assert_int_equal(wb_tpm_pcr_replay(v, WB_TPM_SHA384, g_fw[0], 2), 0);
    assert_memory_equal(got.value[0], v, WB_SHA384_LEN);
    assert_int_equal(wb_tpm_pcr_replay(v, WB_TPM_SHA384, g_fw[2], 1), 0);
    assert_memory_equal(got.value[2], v, WB_SHA384_LEN);

    /* more than 8 PCRs at once (a TPM returns 8 per read) */
    for (unsigned i = 0; i < 2; i++)
        assert_int_equal(wb_sha256(ev256 + i * WB_SHA256_LEN, g_fw_names[i],
                                   strlen(g_fw_names[i])),
                         0);
    assert_int_equal(wb_tpm_pcr_extend(d.tpm, 12, WB_TPM_SHA256, ev256), 0);
    assert_int_equal(wb_tpm_pcr_extend(d.tpm, 12, WB_TPM_SHA256, ev256 + WB_SHA256_LEN), 0);
    assert_int_equal(wb_tpm_pcr_read(d.tpm, &got, WB_TPM_SHA256, 0xffff), 0);
    assert_int_equal(wb_tpm_pcr_replay(v, WB_TPM_SHA256, ev256, 2), 0);
    assert_memory_equal(got.value[12], v, WB_SHA256_LEN);
    assert_int_equal(wb_tpm_pcr_replay(v, WB_TPM_SHA256, NULL, 0), 0);
    assert_memory_equal(got.value[15], v, WB_SHA256_LEN);

    device_close(&d);
    tpm_stop(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_flow),
        cmocka_unit_test(test_pcrs_changed),
        cmocka_unit_test(test_other_tpm),
        cmocka_unit_test(test_replay_and_tamper),
        cmocka_unit_test(test_replay_matches_tpm),
    };
    /* tpm2-tss logs the TPM's refusals that these tests provoke; the
     * library's messages say the same. TSS2_LOG=all+error shows them. */
    setenv("TSS2_LOG", "all+NONE", 0);
    return cmocka_run_group_tests_name("tpm", tests, group_setup, group_teardown);
}
