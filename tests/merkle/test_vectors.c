/*
 * test_vectors.c: the RFC 9162 proof vectors of transparency-dev/merkle
 * (tests/vectors/rfc9162, see tests/vectors/README.md) against the Merkle
 * verifiers, and the vectors' valid proofs against the proof generator.
 *
 * Every JSON file is run through the _spans verifier. A file passes when the
 * verifier accepts it iff "wantErr" is false. A byte string that is not
 * valid base64 counts as a rejection (none in the set today). The test
 * counts the files it read and fails if a single one is missing, so that it
 * cannot pass by finding nothing.
 *
 * One vector has leafIdx 18446744073709551615, more than jansson's signed
 * 64-bit integers hold, so numbers are turned into strings before parsing
 * and read back with wb_parse_u64.
 *
 * WB_VERBOSE=1 prints every file's verdict and the verifier's message.
 */
#include "wbtest.h"

#include <dirent.h>
#include <jansson.h>
#include <string.h>
#include <sys/stat.h>

#include "waybill/error.h"
#include "waybill/merkle.h"
#include "waybill/util.h"

#define EXPECT_INCLUSION 98
#define EXPECT_INCLUSION_ACCEPT 6
#define EXPECT_CONSISTENCY 98
#define EXPECT_CONSISTENCY_ACCEPT 6

#define ITEM_MAX 128 /* decoded bytes per item; the vectors have <= 32 */
#define ITEMS_MAX 80

typedef struct {
    int files, accepted, rejected;
} tally;

/* a base64 field, decoded; ok = 0 if it was not valid base64 */
typedef struct {
    uint8_t bytes[ITEM_MAX];
    size_t len;
    int ok;
} field;

/* copies json text with every bare number written as a string */
static char *quote_numbers(const char *in)
{
    size_t n = strlen(in);
    char *out = malloc(3 * n + 1); /* worst case: every byte a 1-digit number */
    size_t o = 0;
    int in_string = 0;

    assert_non_null(out);
    for (size_t i = 0; i < n; i++) {
        char c = in[i];
        if (in_string) {
            out[o++] = c;
            if (c == '\\' && i + 1 < n)
                out[o++] = in[++i];
            else if (c == '"')
                in_string = 0;
        } else if (c == '"') {
            in_string = 1;
            out[o++] = c;
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            out[o++] = '"';
            while (i < n && strchr("0123456789+-.eE", in[i]))
                out[o++] = in[i++];
            out[o++] = '"';
            i--;
        } else {
            out[o++] = c;
        }
    }
    out[o] = '\0';
    return out;
}

static uint64_t get_u64(json_t *root, const char *key, const char *path)
{
    json_t *v = json_object_get(root, key);
    uint64_t x;
    const char *s;

    if (!json_is_string(v))
        fail_msg("%s: %s is missing or not a number", path, key);
    s = json_string_value(v);
    if (wb_parse_u64(&x, s, strlen(s)) != 0)
        fail_msg("%s: %s = %s is not an unsigned 64-bit integer", path, key, s);
    return x;
}

static void decode(field *f, json_t *v, const char *what, const char *path)
{
    const char *s;

    if (!json_is_string(v))
        fail_msg("%s: %s is not a string", path, what);
    s = json_string_value(v);
    f->ok = wb_base64_decode(f->bytes, sizeof(f->bytes), &f->len, s,
                             strlen(s)) == 0;
}

static void get_field(field *f, json_t *root, const char *key, const char *path)
{
    decode(f, json_object_get(root, key), key, path);
}

/* proof items: null means none */
static size_t get_proof(field *items, json_t *root, const char *path, int *ok)
{
    json_t *a = json_object_get(root, "proof");
    size_t n;

    *ok = 1;
    if (json_is_null(a))
        return 0;
    if (!json_is_array(a))
        fail_msg("%s: proof is neither null nor a list", path);
    n = json_array_size(a);
    if (n > ITEMS_MAX)
        fail_msg("%s: %zu proof items, the test holds %d", path, n, ITEMS_MAX);
    for (size_t i = 0; i < n; i++) {
        decode(&items[i], json_array_get(a, i), "proof item", path);
        *ok &= items[i].ok;
    }
    return n;
}

static wb_span span(const field *f)
{
    wb_span s = {f->bytes, f->len};
    return s;
}

static void judge(tally *t, const char *path, json_t *root, int rc)
{
    json_t *want = json_object_get(root, "wantErr");
    const char *desc = json_string_value(json_object_get(root, "desc"));
    int accepted = rc == 0;

    if (!json_is_boolean(want))
        fail_msg("%s: wantErr is not a boolean", path);
    if (accepted == json_is_true(want))
        fail_msg("%s (%s): wantErr %s but the verifier %s%s%s", path,
                 desc ? desc : "?", json_is_true(want) ? "true" : "false",
                 accepted ? "accepted it" : "rejected it: ",
                 accepted ? "" : wb_error_name(rc),
                 accepted ? "" : wb_error_message());
    if (!accepted && rc != WB_E_VERIFY && rc != WB_E_INVALID)
        fail_msg("%s: rejected with %s, expected WB_E_VERIFY", path,
                 wb_error_name(rc));
    if (!accepted && rc == WB_E_VERIFY && wb_error_message()[0] == '\0')
        fail_msg("%s: rejected without a message", path);
    if (getenv("WB_VERBOSE"))
        printf("  %s: %s%s\n", path, accepted ? "accepted" : "rejected: ",
               accepted ? "" : wb_error_message());
    t->files++;
    if (accepted)
        t->accepted++;
    else
        t->rejected++;
}

/* the fixed-size verifier must agree when every byte string is 32 bytes */
static int all_hashes(const field *f, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!f[i].ok || f[i].len != WB_HASH_LEN)
            return 0;
    return 1;
}

static void run_inclusion(tally *t, const char *path, json_t *root)
{
    field leaf, rt, items[ITEMS_MAX];
    wb_span spans[ITEMS_MAX];
    uint64_t index = get_u64(root, "leafIdx", path);
    uint64_t size = get_u64(root, "treeSize", path);
    int ok, rc;
    size_t n;

    get_field(&leaf, root, "leafHash", path);
    get_field(&rt, root, "root", path);
    n = get_proof(items, root, path, &ok);
    for (size_t i = 0; i < n; i++)
        spans[i] = span(&items[i]);
    wb_error_clear();
    if (!ok || !leaf.ok || !rt.ok)
        rc = WB_E_INVALID; /* undecodable input: rejected */
    else
        rc = wb_merkle_inclusion_verify_spans(span(&leaf), index, size, spans,
                                              n, span(&rt));
    judge(t, path, root, rc);
    if (ok && all_hashes(items, n) && all_hashes(&leaf, 1) && all_hashes(&rt, 1)) {
        uint8_t fixed[ITEMS_MAX][WB_HASH_LEN];
        for (size_t i = 0; i < n; i++)
            memcpy(fixed[i], items[i].bytes, WB_HASH_LEN);
        assert_int_equal(wb_merkle_inclusion_verify(
                             leaf.bytes, index, size,
                             (const uint8_t(*)[WB_HASH_LEN])fixed, n, rt.bytes),
                         rc);
    }
}

static void run_consistency(tally *t, const char *path, json_t *root)
{
    field r1, r2, items[ITEMS_MAX];
    wb_span spans[ITEMS_MAX];
    uint64_t size1 = get_u64(root, "size1", path);
    uint64_t size2 = get_u64(root, "size2", path);
    int ok, rc;
    size_t n;

    get_field(&r1, root, "root1", path);
    get_field(&r2, root, "root2", path);
    n = get_proof(items, root, path, &ok);
    for (size_t i = 0; i < n; i++)
        spans[i] = span(&items[i]);
    wb_error_clear();
    if (!ok || !r1.ok || !r2.ok)
        rc = WB_E_INVALID;
    else
        rc = wb_merkle_consistency_verify_spans(size1, size2, spans, n,
                                                span(&r1), span(&r2));
    judge(t, path, root, rc);
    if (ok && all_hashes(items, n) && all_hashes(&r1, 1) && all_hashes(&r2, 1)) {
        uint8_t fixed[ITEMS_MAX][WB_HASH_LEN];
        for (size_t i = 0; i < n; i++)
            memcpy(fixed[i], items[i].bytes, WB_HASH_LEN);
        assert_int_equal(wb_merkle_consistency_verify(
                             size1, size2, (const uint8_t(*)[WB_HASH_LEN])fixed,
                             n, r1.bytes, r2.bytes),
                         rc);
    }
}

typedef void (*run_fn)(tally *t, const char *path, json_t *root);

static json_t *load(const char *path)
{
    char *text = wbt_read_file(path, NULL);
    char *quoted = quote_numbers(text);
    json_error_t err;
    json_t *root = json_loads(quoted, JSON_REJECT_DUPLICATES, &err);

    if (!root)
        fail_msg("%s:%d: %s", path, err.line, err.text);
    if (!json_is_object(root))
        fail_msg("%s: not a JSON object", path);
    free(quoted);
    free(text);
    return root;
}

static void walk(const char *dir, run_fn run, tally *t)
{
    DIR *d = opendir(dir);
    struct dirent *e;

    if (!d)
        fail_msg("cannot open the vector directory %s", dir);
    while ((e = readdir(d)) != NULL) {
        char path[4096];
        struct stat st;
        size_t len = strlen(e->d_name);

        if (e->d_name[0] == '.')
            continue;
        if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= (int)sizeof(path))
            fail_msg("path too long under %s", dir);
        if (stat(path, &st) != 0)
            fail_msg("cannot stat %s", path);
        if (S_ISDIR(st.st_mode)) {
            walk(path, run, t);
        } else if (len > 5 && strcmp(e->d_name + len - 5, ".json") == 0) {
            json_t *root = load(path);
            run(t, path, root);
            json_decref(root);
        }
    }
    closedir(d);
}

static void test_inclusion_vectors(void **state)
{
    tally t = {0, 0, 0};
    char dir[4096];

    (void)state;
    snprintf(dir, sizeof(dir), "%s", wbt_vector_path("rfc9162/inclusion"));
    walk(dir, run_inclusion, &t);
    printf("rfc9162 inclusion vectors: %d files, %d accepted, %d rejected\n",
           t.files, t.accepted, t.rejected);
    assert_int_equal(t.files, EXPECT_INCLUSION);
    assert_int_equal(t.accepted, EXPECT_INCLUSION_ACCEPT);
}

static void test_consistency_vectors(void **state)
{
    tally t = {0, 0, 0};
    char dir[4096];

    (void)state;
    snprintf(dir, sizeof(dir), "%s", wbt_vector_path("rfc9162/consistency"));
    walk(dir, run_consistency, &t);
    printf("rfc9162 consistency vectors: %d files, %d accepted, %d rejected\n",
           t.files, t.accepted, t.rejected);
    assert_int_equal(t.files, EXPECT_CONSISTENCY);
    assert_int_equal(t.accepted, EXPECT_CONSISTENCY_ACCEPT);
}

/*
 * The vectors' valid proofs come from the 8-leaf tree of the Certificate
 * Transparency reference tests (its root for size 8 is the vectors'
 * "XcnaeacG..."). Building that tree, the generator must reproduce every
 * happy-path proof byte for byte, and the roots must match.
 */
static const char *const ct_leaves[8] = {
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
};

typedef struct {
    uint8_t leaf[8][WB_HASH_LEN];
} ct_tree;

static int ct_fn(void *ctx, uint8_t out[WB_HASH_LEN], unsigned level,
                 uint64_t index)
{
    ct_tree *t = ctx;
    uint8_t l[WB_HASH_LEN], r[WB_HASH_LEN];

    if (level == 0) {
        assert_true(index < 8);
        memcpy(out, t->leaf[index], WB_HASH_LEN);
        return 0;
    }
    ct_fn(ctx, l, level - 1, 2 * index);
    ct_fn(ctx, r, level - 1, 2 * index + 1);
    wb_merkle_node_hash(out, l, r);
    return 0;
}

static void ct_build(ct_tree *t)
{
    for (int i = 0; i < 8; i++) {
        uint8_t raw[16];
        size_t len = strlen(ct_leaves[i]) / 2;
        assert_int_equal(wb_hex_decode(raw, len, ct_leaves[i], 2 * len), 0);
        wb_merkle_leaf_hash(t->leaf[i], raw, len);
    }
}

static void expect_proof(const char *path, json_t *root,
                         uint8_t (*proof)[WB_HASH_LEN], size_t n)
{
    field items[ITEMS_MAX];
    int ok;
    size_t m = get_proof(items, root, path, &ok);

    assert_true(ok);
    if (m != n)
        fail_msg("%s: generated %zu hashes, the vector has %zu", path, n, m);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(items[i].len, WB_HASH_LEN);
        if (memcmp(items[i].bytes, proof[i], WB_HASH_LEN) != 0)
            fail_msg("%s: generated hash %zu differs from the vector", path, i);
    }
}

static void expect_root(const char *path, json_t *root, const char *key,
                        ct_tree *t, uint64_t size)
{
    field f;
    uint8_t want[WB_HASH_LEN];

    get_field(&f, root, key, path);
    assert_true(f.ok);
    assert_int_equal(f.len, WB_HASH_LEN);
    assert_int_equal(wb_merkle_root(want, size, ct_fn, t), 0);
    if (memcmp(f.bytes, want, WB_HASH_LEN) != 0)
        fail_msg("%s: %s differs from the root of %llu CT test leaves", path,
                 key, (unsigned long long)size);
}

static void test_generation_matches_vectors(void **state)
{
    ct_tree t;
    int checked = 0;

    (void)state;
    ct_build(&t);
    for (int set = 0; set <= 4; set++) {
        char rel[64], path[4096];
        uint8_t proof[WB_MERKLE_MAX_PROOF][WB_HASH_LEN];
        size_t n;
        json_t *root;

        snprintf(rel, sizeof(rel), "rfc9162/inclusion/%d/happy-path.json", set);
        snprintf(path, sizeof(path), "%s", wbt_vector_path(rel));
        root = load(path);
        {
            uint64_t index = get_u64(root, "leafIdx", path);
            uint64_t size = get_u64(root, "treeSize", path);
            field leaf;
            get_field(&leaf, root, "leafHash", path);
            assert_true(leaf.ok && leaf.len == WB_HASH_LEN);
            assert_memory_equal(leaf.bytes, t.leaf[index], WB_HASH_LEN);
            assert_int_equal(
                wb_merkle_inclusion_proof(proof, &n, index, size, ct_fn, &t), 0);
            expect_proof(path, root, proof, n);
            expect_root(path, root, "root", &t, size);
        }
        json_decref(root);
        checked++;

        snprintf(rel, sizeof(rel), "rfc9162/consistency/%d/happy-path.json", set);
        snprintf(path, sizeof(path), "%s", wbt_vector_path(rel));
        root = load(path);
        {
            uint64_t size1 = get_u64(root, "size1", path);
            uint64_t size2 = get_u64(root, "size2", path);
            assert_int_equal(
                wb_merkle_consistency_proof(proof, &n, size1, size2, ct_fn, &t), 0);
            expect_proof(path, root, proof, n);
            expect_root(path, root, "root1", &t, size1);
            expect_root(path, root, "root2", &t, size2);
        }
        json_decref(root);
        checked++;
    }
    printf("generator reproduces %d happy-path vectors\n", checked);
    assert_int_equal(checked, 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_inclusion_vectors),
        cmocka_unit_test(test_consistency_vectors),
        cmocka_unit_test(test_generation_matches_vectors),
    };
    return cmocka_run_group_tests_name("merkle_vectors", tests, NULL, NULL);
}
