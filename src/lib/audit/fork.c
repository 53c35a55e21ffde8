/*
 * fork.c: self-contained proof that a log signed two histories
 * (waybill/audit.h, docs/audit.md "Fork proofs").
 *
 * JSON: { "format": "waybill.dev/fork-proof@v1",
 *         "log_key": "<name>+<id>+<base64>"       (C2SP signed-note vkey),
 *         "checkpoint_a": "<signed note>"           size m,
 *         "checkpoint_b": "<signed note>"           size n >= m,
 *         "root_b_at_a": "<base64>"                 root of B's tree at size m,
 *         "consistency_proof": ["<base64>", ...] }  RFC 9162 §2.1.4, m -> n
 * It proves a fork when both checkpoints verify with the key, the proof
 * verifies from (m, root_b_at_a) to (n, B's root) and root_b_at_a is not
 * A's root: by the collision resistance of SHA-256 no single append-only
 * log has both. (m == n: the proof is empty and the roots simply differ.)
 */
#include "waybill/audit.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "waybill/error.h"
#include "waybill/log.h"
#include "waybill/util.h"

static json_t *b64_string(const uint8_t *p, size_t n)
{
    char buf[64];
    wb_base64_encode(buf, p, n);
    return json_string(buf);
}

int wb_fork_proof_write(const char *path, const wb_note_key *log_key, const char *cp_a,
                        size_t len_a, const char *cp_b, size_t len_b,
                        const uint8_t root_b_at_a[WB_HASH_LEN],
                        const uint8_t (*proof)[WB_HASH_LEN], size_t nproof)
{
    json_t *o = json_object(), *arr = json_array();
    char *vkey = NULL, *text = NULL;
    FILE *f;
    int rc = wb_note_verifier_string(&vkey, log_key);
    if (rc == 0 && (!o || !arr))
        rc = wb_error_set(WB_E_NOMEM, "out of memory");
    for (size_t i = 0; rc == 0 && i < nproof; i++)
        json_array_append_new(arr, b64_string(proof[i], WB_HASH_LEN));
    if (rc == 0) {
        json_object_set_new(o, "format", json_string(WB_FORK_PROOF_FORMAT));
        json_object_set_new(o, "log_key", json_string(vkey));
        json_object_set_new(o, "checkpoint_a", json_stringn(cp_a, len_a));
        json_object_set_new(o, "checkpoint_b", json_stringn(cp_b, len_b));
        json_object_set_new(o, "root_b_at_a", b64_string(root_b_at_a, WB_HASH_LEN));
        json_object_set(o, "consistency_proof", arr);
        text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (!text)
            rc = wb_error_set(WB_E_NOMEM, "out of memory");
    }
    if (rc == 0) {
        f = fopen(path, "w");
        if (!f)
            rc = wb_error_set(WB_E_IO, "cannot write %s", path);
        else {
            if (fprintf(f, "%s\n", text) < 0 || fflush(f) != 0 || fsync(fileno(f)) != 0)
                rc = wb_error_set(WB_E_IO, "cannot write %s", path);
            if (fclose(f) != 0 && rc == 0)
                rc = wb_error_set(WB_E_IO, "cannot write %s", path);
        }
    }
    free(text);
    free(vkey);
    json_decref(arr);
    json_decref(o);
    return rc;
}

static int get_hash(uint8_t out[WB_HASH_LEN], json_t *v, const char *what)
{
    const char *s = json_string_value(v);
    size_t n;
    uint8_t buf[48];
    if (!s || strlen(s) > 44 || wb_base64_decode(buf, sizeof(buf), &n, s, strlen(s)) != 0 ||
        n != WB_HASH_LEN)
        return wb_error_set(WB_E_INVALID, "fork proof: %s is not a base64 SHA-256 hash", what);
    memcpy(out, buf, WB_HASH_LEN);
    return 0;
}

static const char *get_text(json_t *o, const char *name)
{
    return json_string_value(json_object_get(o, name));
}

int wb_fork_proof_verify(const char *text, size_t len, const wb_note_key *log_key,
                         char **key_out, uint64_t *size_a, uint64_t *size_b)
{
    json_error_t jerr;
    json_t *o, *arr;
    wb_note_key *own = NULL;
    const wb_note_key *key = log_key;
    wb_checkpoint a, b;
    uint8_t root_b_at_a[WB_HASH_LEN];
    uint8_t proof[WB_MERKLE_MAX_PROOF][WB_HASH_LEN];
    size_t n = 0;
    const char *s;
    int rc = 0;

    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    if (key_out)
        *key_out = NULL;
    if (len > WB_FORK_PROOF_MAX)
        return wb_error_set(WB_E_LIMIT, "fork proof is %zu bytes, over %d", len,
                            WB_FORK_PROOF_MAX);
    o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!o || !json_is_object(o)) {
        json_decref(o);
        return wb_error_set(WB_E_INVALID, "fork proof: not a JSON object (%s, line %d)",
                            jerr.text, jerr.line);
    }
    s = get_text(o, "format");
    if (!s || strcmp(s, WB_FORK_PROOF_FORMAT) != 0)
        rc = wb_error_set(WB_E_INVALID, "fork proof: format is not %s", WB_FORK_PROOF_FORMAT);
    if (rc == 0 && !log_key) {
        s = get_text(o, "log_key");
        if (!s)
            rc = wb_error_set(WB_E_INVALID, "fork proof: no log_key");
        else
            rc = wb_note_verifier_parse(&own, s, strlen(s));
        key = own;
        if (rc == 0 && key_out)
            rc = wb_note_verifier_string(key_out, own);
    }
    if (rc == 0) {
        s = get_text(o, "checkpoint_a");
        rc = s ? wb_checkpoint_open(&a, s, strlen(s), key)
               : wb_error_set(WB_E_INVALID, "fork proof: no checkpoint_a");
        if (rc && s)
            rc = wb_error_prefix(WB_E_VERIFY, "fork proof: checkpoint_a");
    }
    if (rc == 0) {
        s = get_text(o, "checkpoint_b");
        rc = s ? wb_checkpoint_open(&b, s, strlen(s), key)
               : wb_error_set(WB_E_INVALID, "fork proof: no checkpoint_b");
        if (rc && s)
            rc = wb_error_prefix(WB_E_VERIFY, "fork proof: checkpoint_b");
    }
    if (rc == 0 && strcmp(a.origin, b.origin) != 0)
        rc = wb_error_set(WB_E_VERIFY, "fork proof: the checkpoints are of two logs ('%s', "
                          "'%s')", a.origin, b.origin);
    if (rc == 0 && (a.size == 0 || a.size > b.size))
        rc = wb_error_set(WB_E_VERIFY, "fork proof: checkpoint_a (size %llu) must be "
                          "non-empty and not larger than checkpoint_b (size %llu)",
                          (unsigned long long)a.size, (unsigned long long)b.size);
    if (rc == 0)
        rc = get_hash(root_b_at_a, json_object_get(o, "root_b_at_a"), "root_b_at_a");
    arr = json_object_get(o, "consistency_proof");
    if (rc == 0 && (!json_is_array(arr) || json_array_size(arr) > WB_MERKLE_MAX_PROOF))
        rc = wb_error_set(WB_E_INVALID, "fork proof: consistency_proof is not an array of at "
                          "most %d hashes", WB_MERKLE_MAX_PROOF);
    for (size_t i = 0; rc == 0 && i < json_array_size(arr); i++, n++)
        rc = get_hash(proof[i], json_array_get(arr, i), "a consistency proof hash");
    if (rc == 0)
        rc = wb_merkle_consistency_verify(a.size, b.size, (const uint8_t(*)[WB_HASH_LEN])proof,
                                          n, root_b_at_a, b.root);
    if (rc == 0 && memcmp(root_b_at_a, a.root, WB_HASH_LEN) == 0)
        rc = wb_error_set(WB_E_VERIFY, "fork proof: the checkpoints are consistent (the "
                          "tree of size %llu extends the one of size %llu): no fork",
                          (unsigned long long)b.size, (unsigned long long)a.size);
    else if (rc == WB_E_VERIFY)
        rc = wb_error_prefix(WB_E_VERIFY, "fork proof: the consistency proof");
    if (rc == 0) {
        if (size_a)
            *size_a = a.size;
        if (size_b)
            *size_b = b.size;
    }
    if (rc && key_out) {
        free(*key_out);
        *key_out = NULL;
    }
    wb_checkpoint_cleanup(&a);
    wb_checkpoint_cleanup(&b);
    wb_note_key_free(own);
    json_decref(o);
    return rc;
}
