/*
 * policy.c: the k-of-n witness policy (docs/audit.md, "Witnesses"): which
 * witnesses' cosignatures (C2SP tlog-cosignature) a checkpoint must carry
 * before a log server publishes it or a client trusts it.
 *
 * The policy file is text, one directive per line; '#' starts a comment
 * that runs to the end of the line; fields are separated by spaces or tabs:
 *     log <vkey>                   the log's checkpoint key (optional, once)
 *     witness <name> <vkey> [URL]  a witness: a local label (1..63 bytes,
 *                                  unique), its type-0x04 vkey (unique), and
 *                                  where the log submits (http:// or https://)
 *     quorum <k>                   1 <= k <= witnesses (once; default: all)
 * Anything else is an error naming the line. The file is at most
 * WB_WITNESS_POLICY_MAX bytes, and names at most WB_WITNESS_MAX witnesses.
 *
 * Checking counts distinct policy witnesses, not signature lines: two
 * cosignatures by one witness (say, at two times) count once.
 */
#include "waybill/witness.h"

#include "note/note_int.h"
#include "waybill/error.h"
#include "waybill/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WB_WITNESS_POLICY_MAX 65536 /* largest policy file */
#define POLICY_FIELDS 5             /* most fields we split a line into */
#define URL_MAX 1024

typedef struct {
    const char *p;
    size_t n;
} field;

/* split_fields splits line into fields at spaces and tabs; returns how many
 * (up to POLICY_FIELDS + 1, meaning "too many") */
static size_t split_fields(field *f, const char *line, size_t len)
{
    size_t n = 0, i = 0;

    while (i < len) {
        size_t start;
        while (i < len && (line[i] == ' ' || line[i] == '\t'))
            i++;
        if (i >= len)
            break;
        start = i;
        while (i < len && line[i] != ' ' && line[i] != '\t')
            i++;
        if (n == POLICY_FIELDS)
            return POLICY_FIELDS + 1;
        f[n].p = line + start;
        f[n].n = i - start;
        n++;
    }
    return n;
}

static int is(const field *f, const char *word)
{
    return f->n == strlen(word) && memcmp(f->p, word, f->n) == 0;
}

static int same_key(const wb_note_key *a, const wb_note_key *b)
{
    return wb_note_key_id(a) == wb_note_key_id(b) &&
           strcmp(wb_note_key_name(a), wb_note_key_name(b)) == 0;
}

/* one directive (fields f[0..n), n >= 1) of line lineno */
static int directive(wb_witness_policy *p, const field *f, size_t n, size_t lineno,
                     int *have_quorum)
{
    int rc;

    if (is(&f[0], "log")) {
        wb_note_key *k = NULL;
        if (n != 2)
            return wb_error_set(WB_E_INVALID, "policy line %zu: want 'log <vkey>'", lineno);
        if (p->log_vkey)
            return wb_error_set(WB_E_INVALID, "policy line %zu: a second 'log' line",
                                lineno);
        rc = wb_note_verifier_parse(&k, f[1].p, f[1].n);
        if (rc != 0)
            return wb_error_prefix(rc, "policy line %zu: log key", lineno);
        wb_note_key_free(k);
        p->log_vkey = strndup(f[1].p, f[1].n);
        if (!p->log_vkey)
            return wb_error_set(WB_E_NOMEM, "policy: out of memory");
        return 0;
    }
    if (is(&f[0], "witness")) {
        size_t i = p->nwitness;
        wb_note_key *k = NULL;
        if (n != 3 && n != 4)
            return wb_error_set(WB_E_INVALID,
                                "policy line %zu: want 'witness <name> <vkey> [URL]'",
                                lineno);
        if (i == WB_WITNESS_MAX)
            return wb_error_set(WB_E_LIMIT, "policy line %zu: over %d witnesses", lineno,
                                WB_WITNESS_MAX);
        if (f[1].n >= sizeof(p->witness[0].name))
            return wb_error_set(WB_E_LIMIT,
                                "policy line %zu: witness name of %zu bytes (at most %zu)",
                                lineno, f[1].n, sizeof(p->witness[0].name) - 1);
        rc = note_check_name((const uint8_t *)f[1].p, f[1].n, "policy witness name");
        if (rc != 0)
            return wb_error_prefix(rc, "policy line %zu", lineno);
        for (size_t j = 0; j < i; j++)
            if (strlen(p->witness[j].name) == f[1].n &&
                memcmp(p->witness[j].name, f[1].p, f[1].n) == 0)
                return wb_error_set(WB_E_INVALID,
                                    "policy line %zu: witness '%.*s' is named twice",
                                    lineno, (int)f[1].n, f[1].p);
        rc = wb_cosig_verifier_parse(&k, f[2].p, f[2].n);
        if (rc != 0)
            return wb_error_prefix(rc, "policy line %zu: witness '%.*s'", lineno,
                                   (int)f[1].n, f[1].p);
        for (size_t j = 0; j < i; j++)
            if (same_key(p->witness[j].key, k)) {
                wb_note_key_free(k);
                return wb_error_set(WB_E_INVALID,
                                    "policy line %zu: witness '%.*s' has the key of "
                                    "witness '%s'",
                                    lineno, (int)f[1].n, f[1].p, p->witness[j].name);
            }
        if (n == 4) {
            if (f[3].n > URL_MAX ||
                !((f[3].n > 7 && memcmp(f[3].p, "http://", 7) == 0) ||
                  (f[3].n > 8 && memcmp(f[3].p, "https://", 8) == 0))) {
                wb_note_key_free(k);
                return wb_error_set(WB_E_INVALID,
                                    "policy line %zu: witness '%.*s': URL must be "
                                    "http:// or https:// (at most %d bytes)",
                                    lineno, (int)f[1].n, f[1].p, URL_MAX);
            }
            p->witness[i].url = strndup(f[3].p, f[3].n);
            if (!p->witness[i].url) {
                wb_note_key_free(k);
                return wb_error_set(WB_E_NOMEM, "policy: out of memory");
            }
        }
        memcpy(p->witness[i].name, f[1].p, f[1].n);
        p->witness[i].name[f[1].n] = '\0';
        p->witness[i].key = k;
        p->nwitness++;
        return 0;
    }
    if (is(&f[0], "quorum")) {
        uint64_t k;
        if (n != 2)
            return wb_error_set(WB_E_INVALID, "policy line %zu: want 'quorum <k>'", lineno);
        if (*have_quorum)
            return wb_error_set(WB_E_INVALID, "policy line %zu: a second 'quorum' line",
                                lineno);
        rc = wb_parse_u64(&k, f[1].p, f[1].n);
        if (rc != 0)
            return wb_error_prefix(rc, "policy line %zu: quorum", lineno);
        if (k == 0 || k > WB_WITNESS_MAX)
            return wb_error_set(WB_E_INVALID,
                                "policy line %zu: quorum %llu is not between 1 and %d",
                                lineno, (unsigned long long)k, WB_WITNESS_MAX);
        p->quorum = (size_t)k;
        *have_quorum = 1;
        return 0;
    }
    return wb_error_set(WB_E_INVALID,
                        "policy line %zu: unknown directive '%.*s' (want log, witness or "
                        "quorum)",
                        lineno, (int)(f[0].n > 32 ? 32 : f[0].n), f[0].p);
}

int wb_witness_policy_parse(wb_witness_policy *p, const char *text, size_t len)
{
    wb_reader r, line;
    size_t lineno = 0;
    int have_quorum = 0, rc;

    memset(p, 0, sizeof(*p));
    if (len > WB_WITNESS_POLICY_MAX)
        return wb_error_set(WB_E_LIMIT, "policy: %zu bytes, over the %d-byte limit", len,
                            WB_WITNESS_POLICY_MAX);
    rc = 0;
    if (memchr(text, '\r', len))
        rc = wb_error_set(WB_E_INVALID, "policy: carriage return (use '\\n' line ends)");
    wb_reader_init(&r, text, len);
    while (rc == 0 && wb_reader_left(&r) > 0) {
        field f[POLICY_FIELDS];
        const char *hash;
        size_t n, llen;

        lineno++;
        if (!wb_reader_get_until(&r, &line, '\n')) {
            /* the last line may lack its newline */
            line = r;
            (void)wb_reader_skip(&r, wb_reader_left(&r));
        }
        llen = wb_reader_left(&line);
        hash = memchr(line.ptr, '#', llen);
        if (hash)
            llen = (size_t)(hash - (const char *)line.ptr);
        n = split_fields(f, (const char *)line.ptr, llen);
        if (n == 0)
            continue;
        if (n > POLICY_FIELDS) {
            rc = wb_error_set(WB_E_INVALID, "policy line %zu: too many fields", lineno);
            break;
        }
        /* fields are UTF-8 without control characters (comments are free) */
        for (size_t i = 0; i < n && rc == 0; i++)
            rc = note_check_chars((const uint8_t *)f[i].p, f[i].n, "policy", lineno);
        if (rc == 0)
            rc = directive(p, f, n, lineno, &have_quorum);
    }
    if (rc == 0 && p->nwitness == 0)
        rc = wb_error_set(WB_E_INVALID, "policy: names no witness");
    if (rc == 0 && !have_quorum)
        p->quorum = p->nwitness;
    if (rc == 0 && p->quorum > p->nwitness)
        rc = wb_error_set(WB_E_INVALID, "policy: quorum %zu, but only %zu witnesses",
                          p->quorum, p->nwitness);
    if (rc != 0)
        wb_witness_policy_cleanup(p);
    return rc;
}

int wb_witness_policy_load(wb_witness_policy *p, const char *path)
{
    uint8_t *data = NULL;
    size_t len = 0;
    int rc;

    memset(p, 0, sizeof(*p));
    rc = wb_file_read(path, WB_WITNESS_POLICY_MAX, &data, &len);
    if (rc != 0)
        return wb_error_prefix(rc, "witness policy %s", path);
    rc = wb_witness_policy_parse(p, (const char *)data, len);
    free(data);
    if (rc != 0)
        return wb_error_prefix(rc, "%s", path);
    return 0;
}

void wb_witness_policy_cleanup(wb_witness_policy *p)
{
    if (!p)
        return;
    free(p->log_vkey);
    for (size_t i = 0; i < p->nwitness && i < WB_WITNESS_MAX; i++) {
        wb_note_key_free(p->witness[i].key);
        free(p->witness[i].url);
    }
    memset(p, 0, sizeof(*p));
}

int wb_witness_policy_check(const wb_witness_policy *p, const char *signed_cp, size_t len,
                            const wb_note_key *log_key, size_t *ncosigned)
{
    wb_note_key *own = NULL, *v[1];
    wb_note note;
    wb_checkpoint cp;
    char missing[384];
    size_t used = 0, ok = 0;
    int rc;

    if (ncosigned)
        *ncosigned = 0;
    missing[0] = '\0';
    if (!log_key) {
        if (!p->log_vkey)
            return wb_error_set(WB_E_INVALID,
                                "witness policy: no log key given and none in the policy");
        rc = wb_note_verifier_parse(&own, p->log_vkey, strlen(p->log_vkey));
        if (rc != 0)
            return wb_error_prefix(rc, "witness policy: log key");
        log_key = own;
    }
    v[0] = (wb_note_key *)log_key;
    rc = wb_note_open(&note, signed_cp, len, v, 1);
    wb_note_key_free(own);
    if (rc != 0)
        return wb_error_prefix(rc, "checkpoint");
    rc = wb_checkpoint_parse(&cp, note.text, note.text_len);
    if (rc != 0) {
        wb_note_cleanup(&note);
        return wb_error_prefix(rc, "checkpoint");
    }
    wb_checkpoint_cleanup(&cp);

    for (size_t i = 0; i < p->nwitness; i++) {
        uint64_t t;
        int w;
        const char *why;

        rc = wb_cosig_verify(&note, p->witness[i].key, &t);
        if (rc == 0) {
            ok++;
            continue;
        }
        if (rc != WB_E_NOTFOUND && rc != WB_E_VERIFY) {
            wb_note_cleanup(&note);
            return rc;
        }
        why = rc == WB_E_NOTFOUND ? "missing" : "bad";
        if (used < sizeof(missing)) {
            w = snprintf(missing + used, sizeof(missing) - used, "%s%s (%s)",
                         used ? ", " : "", p->witness[i].name, why);
            if (w > 0)
                used += (size_t)w;
        }
    }
    wb_note_cleanup(&note);
    if (ncosigned)
        *ncosigned = ok;
    if (used >= sizeof(missing))
        memcpy(missing + sizeof(missing) - 4, "...", 4);
    if (ok < p->quorum)
        return wb_error_set(WB_E_VERIFY,
                            "checkpoint has %zu of the %zu witness cosignatures the "
                            "policy needs; %s",
                            ok, p->quorum, missing);
    return 0;
}
