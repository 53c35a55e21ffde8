/*
 * note.c: signing and opening C2SP signed notes (https://c2sp.org/signed-note,
 * "Format" and "Signatures").
 *
 * A signed note is a text ending in a newline, a blank line, then one or more
 * signature lines "— <key name> <base64(key ID || signature)>\n" (U+2014 EM
 * DASH, a space, the name, a space, standard padded base64). The whole note
 * is valid UTF-8 without control characters but newline. The text keeps its
 * final newline but not the blank line; the text may itself contain blank
 * lines, because the split is at the *last* blank line of the note.
 *
 * Opening follows the "Signatures" section: a signature whose name and key ID
 * both match a given verifier MUST verify, or the note is rejected; any other
 * signature (unknown key, or a name or ID shared with a known key but not
 * both) is kept unverified; if no known key signed, the note is rejected.
 * The spec does not say what to do with two signature lines from one known
 * key: we verify every such line (the spec says a known key's signature MUST
 * be verified) and keep the first. Repeated identical lines from unknown keys
 * are kept once, as the reference implementation does.
 *
 * Witness keys (signature type 0x04, C2SP tlog-cosignature) may be given as
 * verifiers: their lines are checked as cosignatures (cosig.c), never as
 * plain Ed25519 signatures over the text, and they cannot sign here
 * (wb_cosig_sign does, with a timestamp). Their key IDs differ from a note
 * key's over the same public key, so the two never match each other's lines.
 *
 * Limits, checked before any other work: WB_NOTE_MAX bytes per note,
 * WB_NOTE_MAX_SIGS signature lines (the spec asks verifiers to accept at
 * least 16), WB_NOTE_NAME_MAX bytes per key name. A signature line must
 * decode to at least 5 bytes: a key ID and a non-empty signature.
 */
#include "waybill/note.h"

#include "note/note_int.h"
#include "waybill/error.h"
#include "waybill/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "— ": U+2014 EM DASH in UTF-8, then a space */
static const uint8_t sig_prefix[4] = {0xE2, 0x80, 0x94, 0x20};

/* check_text applies the note-text rules to text the caller wants signed */
static int check_text(const uint8_t *p, size_t n)
{
    wb_reader r;
    uint8_t last = 0;

    if (n == 0)
        return wb_error_set(WB_E_INVALID, "note: text is empty");
    if (n > WB_NOTE_MAX)
        return wb_error_set(WB_E_LIMIT,
                            "note: text is %zu bytes, over the %d-byte note limit", n,
                            WB_NOTE_MAX);
    wb_reader_init(&r, p, n);
    if (!wb_reader_skip(&r, n - 1) || !wb_reader_get_u8(&r, &last) || last != '\n')
        return wb_error_set(WB_E_INVALID, "note: text does not end in a newline");
    return note_check_chars(p, n, "note text", 1);
}

static int same_key(const wb_note_key *a, const wb_note_key *b)
{
    return wb_note_key_id(a) == wb_note_key_id(b) &&
           strcmp(wb_note_key_name(a), wb_note_key_name(b)) == 0;
}

int wb_note_sign(char **out, size_t *out_len, const char *text, size_t text_len,
                 wb_note_key *const *signers, size_t nsigners)
{
    wb_buf b;
    uint8_t *p = NULL;
    size_t len = 0;
    int rc;

    *out = NULL;
    if (out_len)
        *out_len = 0;
    if (nsigners == 0 || !signers)
        return wb_error_set(WB_E_INVALID, "note: no signers given");
    if (nsigners > WB_NOTE_MAX_SIGS)
        return wb_error_set(WB_E_LIMIT, "note: %zu signers, over the limit of %d",
                            nsigners, WB_NOTE_MAX_SIGS);
    rc = check_text((const uint8_t *)text, text_len);
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < nsigners; i++) {
        if (!signers[i])
            return wb_error_set(WB_E_INVALID, "note: signer %zu is NULL", i);
        if (!wb_key_is_private(wb_note_key_key(signers[i])))
            return wb_error_set(WB_E_INVALID,
                                "note: signer %s+%08x has no private key",
                                wb_note_key_name(signers[i]),
                                (unsigned)wb_note_key_id(signers[i]));
        if (note_key_type(signers[i]) != WB_NOTE_SIGTYPE_ED25519)
            return wb_error_set(WB_E_INVALID,
                                "note: %s+%08x is a witness key; it cosigns "
                                "checkpoints (wb_cosig_sign), it does not sign notes",
                                wb_note_key_name(signers[i]),
                                (unsigned)wb_note_key_id(signers[i]));
        for (size_t j = 0; j < i; j++)
            if (same_key(signers[i], signers[j]))
                return wb_error_set(WB_E_INVALID,
                                    "note: signer %s+%08x is given twice",
                                    wb_note_key_name(signers[i]),
                                    (unsigned)wb_note_key_id(signers[i]));
    }

    wb_buf_init(&b, WB_NOTE_MAX);
    wb_buf_add(&b, text, text_len);
    wb_buf_add_u8(&b, '\n');
    for (size_t i = 0; i < nsigners && wb_buf_error(&b) == 0; i++) {
        uint8_t data[4 + WB_SIG_MAX];
        size_t sig_len = 0;
        const wb_note_key *k = signers[i];

        rc = wb_key_sign(wb_note_key_key(k), data + 4, &sig_len, text, text_len);
        if (rc != 0) {
            wb_buf_cleanup(&b);
            return wb_error_prefix(rc, "note: signing with %s+%08x",
                                   wb_note_key_name(k), (unsigned)wb_note_key_id(k));
        }
        data[0] = (uint8_t)(wb_note_key_id(k) >> 24);
        data[1] = (uint8_t)(wb_note_key_id(k) >> 16);
        data[2] = (uint8_t)(wb_note_key_id(k) >> 8);
        data[3] = (uint8_t)wb_note_key_id(k);
        wb_buf_add(&b, sig_prefix, sizeof(sig_prefix));
        wb_buf_add_str(&b, wb_note_key_name(k));
        wb_buf_add_u8(&b, ' ');
        wb_buf_add_base64(&b, data, 4 + sig_len);
        wb_buf_add_u8(&b, '\n');
    }
    rc = wb_buf_finish(&b, &p, &len);
    if (rc != 0)
        return wb_error_prefix(rc, "note: signed note");
    *out = (char *)p;
    if (out_len)
        *out_len = len;
    return 0;
}

/*
 * parse_sig_line parses one signature line (without its newline) into s;
 * s->sig is malloc'd on success.
 */
static int parse_sig_line(wb_note_sig *s, wb_reader *line, size_t lineno)
{
    char what[48];
    wb_reader name, dec;
    const uint8_t *prefix, *b64;
    uint8_t *buf;
    size_t b64_len, n = 0;
    int rc;

    snprintf(what, sizeof(what), "note line %zu", lineno);
    if (!wb_reader_get_bytes(line, &prefix, sizeof(sig_prefix)) ||
        memcmp(prefix, sig_prefix, sizeof(sig_prefix)) != 0)
        return wb_error_set(WB_E_INVALID,
                            "%s: signature line does not start with U+2014 (em "
                            "dash) and a space",
                            what);
    if (!wb_reader_get_until(line, &name, ' '))
        return wb_error_set(WB_E_INVALID,
                            "%s: signature line has no space between the key name "
                            "and the signature",
                            what);
    rc = note_check_name(name.ptr, wb_reader_left(&name), what);
    if (rc != 0)
        return rc;
    b64_len = wb_reader_left(line);
    if (b64_len == 0 || !wb_reader_get_bytes(line, &b64, b64_len))
        return wb_error_set(WB_E_INVALID, "%s: signature is empty", what);
    if (b64_len % 4 != 0)
        return wb_error_set(WB_E_INVALID,
                            "%s: signature: base64 of %zu characters is not padded "
                            "to a multiple of 4",
                            what, b64_len);
    buf = malloc(b64_len / 4 * 3);
    if (!buf)
        return wb_error_set(WB_E_NOMEM, "%s: out of memory", what);
    rc = wb_base64_decode(buf, b64_len / 4 * 3, &n, (const char *)b64, b64_len);
    if (rc != 0) {
        free(buf);
        return wb_error_prefix(rc, "%s: signature", what);
    }
    if (n < 5) {
        free(buf);
        return wb_error_set(WB_E_INVALID,
                            "%s: signature is %zu bytes; it needs a 4-byte key ID and "
                            "at least one byte of signature",
                            what, n);
    }
    wb_reader_init(&dec, buf, n);
    if (!wb_reader_get_u32be(&dec, &s->key_id)) {
        free(buf);
        return wb_error_set(WB_E_INTERNAL, "%s: short signature", what);
    }
    memmove(buf, buf + 4, n - 4);
    s->sig = buf;
    s->sig_len = n - 4;
    memcpy(s->name, name.ptr, wb_reader_left(&name));
    s->name[wb_reader_left(&name)] = '\0';
    s->verified = 0;
    return 0;
}

/* find_verifier returns the verifier with s's name and key ID, or NULL */
static const wb_note_key *find_verifier(const wb_note_sig *s,
                                        wb_note_key *const *verifiers, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (wb_note_key_id(verifiers[i]) == s->key_id &&
            strcmp(wb_note_key_name(verifiers[i]), s->name) == 0)
            return verifiers[i];
    return NULL;
}

/* check_verifiers rejects NULL entries and two different keys with one name and ID */
static int check_verifiers(wb_note_key *const *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!v[i])
            return wb_error_set(WB_E_INVALID, "note: verifier %zu is NULL", i);
        for (size_t j = 0; j < i; j++) {
            uint8_t a[WB_PUBKEY_RAW_MAX], b[WB_PUBKEY_RAW_MAX];
            size_t alen = sizeof(a), blen = sizeof(b);
            if (!same_key(v[i], v[j]))
                continue;
            if (wb_key_public_raw(wb_note_key_key(v[i]), a, &alen) != 0 ||
                wb_key_public_raw(wb_note_key_key(v[j]), b, &blen) != 0 ||
                alen != blen || memcmp(a, b, alen) != 0)
                return wb_error_set(WB_E_INVALID,
                                    "note: two different verifier keys are named "
                                    "%s+%08x",
                                    wb_note_key_name(v[i]),
                                    (unsigned)wb_note_key_id(v[i]));
        }
    }
    return 0;
}

/* no_known_signer sets the WB_E_VERIFY message naming who did sign */
static int no_known_signer(const wb_note_sig *sigs, size_t n)
{
    char list[320];
    size_t used = 0;

    list[0] = '\0';
    for (size_t i = 0; i < n && used < sizeof(list); i++) {
        int w = snprintf(list + used, sizeof(list) - used, "%s%.64s+%08x",
                         i ? ", " : "", sigs[i].name, (unsigned)sigs[i].key_id);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    if (used >= sizeof(list) && sizeof(list) > 4)
        memcpy(list + sizeof(list) - 4, "...", 4);
    return wb_error_set(WB_E_VERIFY,
                        "note: no signature from a known key; signed by %s", list);
}

int wb_note_open(wb_note *note, const char *msg, size_t len,
                 wb_note_key *const *verifiers, size_t nverifiers)
{
    const uint8_t *m = (const uint8_t *)msg;
    wb_reader r, line;
    size_t lineno = 0, blank_line = 0, blank_off = 0, nlines, nsig, kept = 0,
           nverified = 0;
    wb_note_sig *sigs;
    int rc;

    memset(note, 0, sizeof(*note));
    if (len > WB_NOTE_MAX)
        return wb_error_set(WB_E_LIMIT, "note: %zu bytes, over the %d-byte limit", len,
                            WB_NOTE_MAX);
    if (len == 0)
        return wb_error_set(WB_E_INVALID, "note: empty");
    if (nverifiers > 0 && !verifiers)
        return wb_error_set(WB_E_INVALID, "note: no verifier array");
    rc = check_verifiers(verifiers, nverifiers);
    if (rc != 0)
        return rc;
    rc = note_check_chars(m, len, "note", 1);
    if (rc != 0)
        return rc;

    /* find the last blank line; every line must end in a newline */
    wb_reader_init(&r, m, len);
    while (wb_reader_left(&r) > 0) {
        size_t off = len - wb_reader_left(&r);
        lineno++;
        if (!wb_reader_get_until(&r, &line, '\n'))
            return wb_error_set(WB_E_INVALID,
                                "note line %zu: does not end in a newline", lineno);
        if (wb_reader_left(&line) == 0) {
            blank_line = lineno;
            blank_off = off;
        }
    }
    nlines = lineno;
    if (blank_line == 0)
        return wb_error_set(WB_E_INVALID,
                            "note: no blank line separates the text from the "
                            "signatures");
    if (blank_off == 0)
        return wb_error_set(WB_E_INVALID,
                            "note line 1: the text before the blank line is empty");
    nsig = nlines - blank_line;
    if (nsig == 0)
        return wb_error_set(WB_E_INVALID,
                            "note: no signature lines after the blank line (line %zu)",
                            blank_line);
    if (nsig > WB_NOTE_MAX_SIGS)
        return wb_error_set(WB_E_LIMIT,
                            "note: %zu signature lines, over the limit of %d", nsig,
                            WB_NOTE_MAX_SIGS);

    sigs = calloc(nsig, sizeof(*sigs));
    if (!sigs)
        return wb_error_set(WB_E_NOMEM, "note: out of memory for %zu signatures", nsig);

    /* parse every signature line before any cryptography */
    wb_reader_init(&r, m, len);
    (void)wb_reader_skip(&r, blank_off + 1); /* the text and the blank line */
    for (size_t i = 0; i < nsig; i++) {
        if (!wb_reader_get_until(&r, &line, '\n')) {
            rc = wb_error_set(WB_E_INTERNAL, "note: signature line vanished");
            goto fail;
        }
        rc = parse_sig_line(&sigs[i], &line, blank_line + 1 + i);
        if (rc != 0)
            goto fail;
    }

    /* verify known keys' signatures, keep each key's first, drop repeats */
    for (size_t i = 0; i < nsig; i++) {
        wb_note_sig *s = &sigs[i];
        const wb_note_key *v = find_verifier(s, verifiers, nverifiers);
        int dup = 0;

        if (v) {
            if (note_key_type(v) == WB_NOTE_SIGTYPE_ED25519) {
                rc = wb_key_verify(wb_note_key_key(v), s->sig, s->sig_len, m, blank_off);
            } else {
                uint64_t t;
                rc = note_cosig_check(v, s->sig, s->sig_len, msg, blank_off, &t);
            }
            if (rc == WB_E_VERIFY) {
                rc = wb_error_set(WB_E_VERIFY,
                                  "note line %zu: signature by %s+%08x does not "
                                  "verify",
                                  blank_line + 1 + i, s->name, (unsigned)s->key_id);
                goto fail;
            }
            if (rc != 0) {
                rc = wb_error_prefix(rc, "note line %zu: verifying %s+%08x",
                                     blank_line + 1 + i, s->name,
                                     (unsigned)s->key_id);
                goto fail;
            }
            s->verified = 1;
        }
        for (size_t j = 0; j < kept && !dup; j++) {
            const wb_note_sig *t = &sigs[j];
            if (t->key_id != s->key_id || strcmp(t->name, s->name) != 0)
                continue;
            dup = v != NULL || (t->sig_len == s->sig_len &&
                                memcmp(t->sig, s->sig, s->sig_len) == 0);
        }
        if (dup) {
            free(s->sig);
            s->sig = NULL;
            continue;
        }
        if (v)
            nverified++;
        if (kept != i) {
            sigs[kept] = *s;
            memset(s, 0, sizeof(*s));
        }
        kept++;
    }
    if (nverified == 0) {
        rc = no_known_signer(sigs, kept);
        goto fail;
    }
    note->text = msg;
    note->text_len = blank_off;
    note->sigs = sigs;
    note->nsigs = kept;
    return 0;

fail:
    /* free every parsed signature, kept or not yet compacted */
    for (size_t i = 0; i < nsig; i++)
        free(sigs[i].sig);
    free(sigs);
    memset(note, 0, sizeof(*note));
    return rc;
}

void wb_note_cleanup(wb_note *note)
{
    if (!note)
        return;
    for (size_t i = 0; i < note->nsigs; i++)
        free(note->sigs[i].sig);
    free(note->sigs);
    memset(note, 0, sizeof(*note));
}
