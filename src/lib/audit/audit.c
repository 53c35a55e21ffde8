/*
 * audit.c: the walk over a whole log (waybill/audit.h, docs/audit.md).
 *
 * For the latest checkpoint (C2SP tlog-checkpoint, signature checked with
 * the log key the auditor trusts) of size n, entries 0..n-1 are read from
 * their entry bundles (C2SP tlog-tiles), each leaf hash is computed
 * (RFC 9162 §2.1.1) and appended to a compact range; every perfect subtree
 * of height 8L the range completes must equal hash p of tile (L, index/256)
 * as served, so every hash of every tile is checked, and the final root must
 * be the checkpoint's. Statements are replayed chunk by chunk
 * (audit_replay.c) in the same transaction of the auditor's state store that
 * records the progress, so an interrupted audit resumes at the last chunk.
 *
 * History: the state keeps every leaf hash and every checkpoint the auditor
 * has verified. A leaf that differs from a kept one, a kept (or given)
 * checkpoint whose root differs from the tree's root at its size, or a log
 * smaller than a kept checkpoint is a rewrite of history; when two signed
 * checkpoints conflict, a fork proof is written (fork.c).
 */
#include "audit_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "waybill/error.h"
#include "waybill/log.h"
#include "waybill/scitt.h"
#include "waybill/util.h"

static const char *const schema =
    "CREATE TABLE IF NOT EXISTS audit_trust(name TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS audit_checkpoints(size INTEGER PRIMARY KEY,"
    " root BLOB NOT NULL, note TEXT NOT NULL, seen INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS audit_leaves(tile INTEGER PRIMARY KEY, hashes BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS audit_progress(id INTEGER PRIMARY KEY CHECK (id = 1),"
    " size INTEGER NOT NULL, next INTEGER NOT NULL, compact BLOB NOT NULL);";

const char *wb_audit_failure_name(wb_audit_failure f)
{
    static const char *const names[] = {"ok",     "checkpoint", "bundle", "leaf",
                                        "tile",   "statement",  "policy", "fleet",
                                        "fork",   "rollback",   "finding"};
    return (unsigned)f < sizeof(names) / sizeof(names[0]) ? names[f] : "unknown";
}

void wb_audit_trust_cleanup(wb_audit_trust *t)
{
    if (!t)
        return;
    wb_note_key_free(t->log_key);
    wb_key_free(t->service_key);
    for (size_t i = 0; i < t->nadmin; i++)
        wb_key_free(t->admin[i]);
    for (size_t i = 0; i < t->nissuers; i++)
        wb_key_free(t->issuers[i]);
    free(t->admin);
    free(t->issuers);
    memset(t, 0, sizeof(*t));
}

/* a checkpoint to hold the tree against */
typedef struct {
    char *note;
    size_t len;
    wb_checkpoint cp;
    int saved;     /* from the state (else given on the command line) */
} known_cp;

typedef struct {
    wb_audit_source *src;
    const wb_audit_trust *trust;
    const wb_audit_options *o;
    wb_audit_report *rep;
    wb_store *st;
    audit_replay *replay;
    /* the target */
    char *note;
    size_t note_len;
    wb_checkpoint cp;
    /* the walk */
    wb_merkle_compact cr;
    uint8_t *tiles[8];         /* current tile per level (hash tiles), malloc'd */
    uint64_t tile_idx[8];
    size_t tile_len[8];
    int tree_bad;              /* a leaf/tile failure was recorded in rep */
    /* history */
    uint8_t *saved;            /* leaf hashes the state keeps, [0, nsaved) */
    uint64_t nsaved;
    uint64_t first_diff;       /* first leaf differing from saved, UINT64_MAX */
    known_cp *known;
    size_t nknown;
    size_t next_known;         /* known[] sorted by size: the next to reach */
    int fork_found;
    size_t fork_cp;            /* the known checkpoint that conflicts */
    uint8_t fork_root[WB_HASH_LEN]; /* the tree's root at its size */
} audit;

/* ---- failures ---- */

static int fail(audit *a, wb_audit_failure f, uint64_t index, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(audit *a, wb_audit_failure f, uint64_t index, const char *fmt, ...)
{
    va_list ap;
    if (a->rep->failure != WB_AUDIT_OK && a->rep->bad_index <= index)
        return 0; /* an earlier failure stands */
    a->rep->failure = f;
    a->rep->bad_index = index;
    va_start(ap, fmt);
    vsnprintf(a->rep->reason, sizeof(a->rep->reason), fmt, ap);
    va_end(ap);
    return 0;
}

/* ---- state ---- */

static int one_row_text(void *vctx, const wb_sql_value *cols, size_t n)
{
    char **out = vctx;
    if (n >= 1 && cols[0].type == WB_SQL_TEXT && !*out)
        *out = strdup(cols[0].s);
    return 0;
}

static int pin_put(wb_store *st, const char *name, const char *value)
{
    wb_sql_value arg[2] = {WB_SQL_S(name), WB_SQL_S(value)};
    int rc = wb_store_sql(st, "INSERT OR IGNORE INTO audit_trust(name, value) VALUES ($1, $2)",
                          arg, 2, NULL, NULL);
    return rc < 0 ? rc : 0;
}

static int pin_get(wb_store *st, const char *name, char **value)
{
    wb_sql_value arg[1] = {WB_SQL_S(name)};
    int rc;
    *value = NULL;
    rc = wb_store_sql(st, "SELECT value FROM audit_trust WHERE name = $1", arg, 1,
                      one_row_text, value);
    return rc < 0 ? rc : 0;
}

static int spki_hex(char **out, const wb_key *k)
{
    uint8_t *der;
    size_t len;
    int rc = wb_key_spki_der(k, &der, &len);
    if (rc)
        return rc;
    *out = malloc(2 * len + 1);
    if (*out)
        wb_hex_encode(*out, der, len);
    free(der);
    return *out ? 0 : wb_error_set(WB_E_NOMEM, "out of memory");
}

/*
 * The keys are pinned on the first run: a later run with another log or
 * service key is refused (another log needs another state file); admin
 * keys given later are added to the pinned ones.
 */
static int pin_trust(audit *a)
{
    const wb_audit_trust *t = a->trust;
    char *pinned = NULL, *mine = NULL;
    int rc = wb_note_verifier_string(&mine, t->log_key);
    if (rc == 0)
        rc = pin_get(a->st, "log_key", &pinned);
    if (rc == 0 && pinned && strcmp(pinned, mine) != 0)
        rc = wb_error_set(WB_E_VERIFY, "the log key %s is not the one this auditor pinned "
                          "(%s); use another --state file for another log", mine, pinned);
    if (rc == 0 && !pinned)
        rc = pin_put(a->st, "log_key", mine);
    free(pinned);
    free(mine);
    pinned = mine = NULL;
    if (rc == 0 && t->service_key) {
        rc = spki_hex(&mine, t->service_key);
        if (rc == 0)
            rc = pin_get(a->st, "service_key", &pinned);
        if (rc == 0 && pinned && strcmp(pinned, mine) != 0)
            rc = wb_error_set(WB_E_VERIFY, "the service key is not the one this auditor "
                              "pinned on its first run");
        if (rc == 0 && !pinned)
            rc = pin_put(a->st, "service_key", mine);
        if (rc == 0)
            rc = pin_put(a->st, "service_name", t->service_name);
        free(pinned);
        free(mine);
    }
    for (size_t i = 0; rc == 0 && i < t->nadmin; i++) {
        char name[16 + 64];
        uint8_t kid[32];
        rc = wb_key_default_kid(kid, t->admin[i]);
        if (rc == 0)
            rc = spki_hex(&mine, t->admin[i]);
        if (rc == 0) {
            memcpy(name, "admin:", 6);
            wb_hex_encode(name + 6, kid, 32);
            rc = pin_put(a->st, name, mine);
        }
        free(mine);
        mine = NULL;
    }
    return rc;
}

typedef struct {
    wb_audit_trust *t;
    int rc;
} pinned_ctx;

static int add_key(wb_key ***list, size_t *n, wb_key *k)
{
    wb_key **grown = realloc(*list, (*n + 1) * sizeof(**list));
    if (!grown) {
        wb_key_free(k);
        return wb_error_set(WB_E_NOMEM, "out of memory");
    }
    *list = grown;
    (*list)[(*n)++] = k;
    return 0;
}

static int key_from_hex(wb_key **out, const char *hex)
{
    size_t n = strlen(hex) / 2;
    uint8_t *der = malloc(n ? n : 1);
    int rc;
    if (!der)
        return wb_error_set(WB_E_NOMEM, "out of memory");
    rc = wb_hex_decode(der, n, hex, strlen(hex));
    if (rc == 0)
        rc = wb_fleet_key_from_spki(out, der, n);
    free(der);
    return rc;
}

static int pinned_row(void *vctx, const wb_sql_value *cols, size_t n)
{
    pinned_ctx *c = vctx;
    wb_audit_trust *t = c->t;
    const char *name, *value;
    wb_key *k = NULL;
    if (n < 2 || cols[0].type != WB_SQL_TEXT || cols[1].type != WB_SQL_TEXT)
        return 0;
    name = cols[0].s;
    value = cols[1].s;
    if (strcmp(name, "log_key") == 0 && !t->log_key)
        c->rc = wb_note_verifier_parse(&t->log_key, value, strlen(value));
    else if (strcmp(name, "service_key") == 0 && !t->service_key)
        c->rc = key_from_hex(&t->service_key, value);
    else if (strcmp(name, "service_name") == 0 && !t->service_name[0])
        snprintf(t->service_name, sizeof(t->service_name), "%s", value);
    else if (strncmp(name, "admin:", 6) == 0) {
        c->rc = key_from_hex(&k, value);
        if (c->rc == 0) {
            /* skip it if the caller gave the same key */
            uint8_t mine[32];
            char hex[65];
            int dup = 0;
            for (size_t i = 0; i < t->nadmin && !dup; i++)
                if (wb_key_default_kid(mine, t->admin[i]) == 0) {
                    wb_hex_encode(hex, mine, 32);
                    dup = strcmp(hex, name + 6) == 0;
                }
            if (dup)
                wb_key_free(k);
            else
                c->rc = add_key(&t->admin, &t->nadmin, k);
        }
    }
    if (c->rc)
        c->rc = wb_error_prefix(WB_E_CORRUPT, "pinned %s in the auditor's state", name);
    return c->rc ? 1 : 0;
}

int wb_audit_trust_from_state(wb_audit_trust *t, const char *state_path)
{
    wb_store *st;
    wb_store_options so;
    pinned_ctx c = {t, 0};
    int rc;
    if (access(state_path, F_OK) != 0)
        return 0; /* nothing pinned yet */
    memset(&so, 0, sizeof(so));
    rc = wb_store_open_sqlite(&st, state_path, &so);
    if (rc)
        return wb_error_prefix(rc, "auditor state %s", state_path);
    rc = wb_store_sql_script(st, schema);
    if (rc == 0)
        rc = wb_store_sql(st, "SELECT name, value FROM audit_trust ORDER BY name", NULL, 0,
                          pinned_row, &c);
    wb_store_close(st);
    if (c.rc)
        return c.rc;
    return rc < 0 ? rc : 0;
}

typedef struct {
    audit *a;
    int rc;
} row_ctx;

static int saved_cp_row(void *vctx, const wb_sql_value *cols, size_t n)
{
    row_ctx *c = vctx;
    audit *a = c->a;
    known_cp *k;
    known_cp *grown;
    if (n < 1 || cols[0].type != WB_SQL_TEXT)
        return 0;
    grown = realloc(a->known, (a->nknown + 1) * sizeof(*a->known));
    if (!grown) {
        c->rc = wb_error_set(WB_E_NOMEM, "out of memory");
        return 1;
    }
    a->known = grown;
    k = &a->known[a->nknown];
    memset(k, 0, sizeof(*k));
    k->note = strdup(cols[0].s);
    k->len = k->note ? strlen(k->note) : 0;
    k->saved = 1;
    if (!k->note) {
        c->rc = wb_error_set(WB_E_NOMEM, "out of memory");
        return 1;
    }
    c->rc = wb_checkpoint_open(&k->cp, k->note, k->len, a->trust->log_key);
    if (c->rc) {
        free(k->note);
        c->rc = wb_error_prefix(WB_E_CORRUPT, "the auditor's state file keeps a checkpoint "
                                "that does not verify");
        return 1;
    }
    a->nknown++;
    return 0;
}

static int known_cmp(const void *x, const void *y)
{
    const known_cp *p = x, *q = y;
    return p->cp.size < q->cp.size ? -1 : p->cp.size > q->cp.size;
}

static int load_known(audit *a)
{
    row_ctx c = {a, 0};
    int rc = wb_store_sql(a->st, "SELECT note FROM audit_checkpoints ORDER BY size", NULL, 0,
                          saved_cp_row, &c);
    if (c.rc)
        return c.rc;
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < a->o->ncheckpoints; i++) {
        known_cp *k, *grown = realloc(a->known, (a->nknown + 1) * sizeof(*a->known));
        if (!grown)
            return wb_error_set(WB_E_NOMEM, "out of memory");
        a->known = grown;
        k = &a->known[a->nknown];
        memset(k, 0, sizeof(*k));
        k->len = a->o->checkpoint_lens[i];
        k->note = malloc(k->len + 1);
        if (!k->note)
            return wb_error_set(WB_E_NOMEM, "out of memory");
        memcpy(k->note, a->o->checkpoints[i], k->len);
        k->note[k->len] = '\0';
        rc = wb_checkpoint_open(&k->cp, k->note, k->len, a->trust->log_key);
        if (rc) {
            free(k->note);
            return wb_error_prefix(WB_E_VERIFY, "checkpoint %zu given to check against", i + 1);
        }
        if (strcmp(k->cp.origin, a->cp.origin) != 0) {
            wb_checkpoint_cleanup(&k->cp);
            free(k->note);
            return wb_error_set(WB_E_INVALID, "checkpoint %zu given is for log '%s', not '%s'",
                                i + 1, k->cp.origin, a->cp.origin);
        }
        a->nknown++;
    }
    if (a->nknown > 1)
        qsort(a->known, a->nknown, sizeof(*a->known), known_cmp);
    return 0;
}

static int saved_leaf_row(void *vctx, const wb_sql_value *cols, size_t n)
{
    row_ctx *c = vctx;
    audit *a = c->a;
    uint64_t tile;
    if (n < 2 || cols[0].type != WB_SQL_INT || cols[1].type != WB_SQL_BLOB ||
        cols[1].len % WB_HASH_LEN || cols[1].len > WB_TILE_WIDTH * WB_HASH_LEN) {
        c->rc = wb_error_set(WB_E_CORRUPT, "the auditor's state file has a malformed leaf row");
        return 1;
    }
    tile = (uint64_t)cols[0].i;
    if (tile * WB_TILE_WIDTH != a->nsaved) {
        c->rc = wb_error_set(WB_E_CORRUPT, "the auditor's state file misses leaves of tile "
                             "%llu", (unsigned long long)(a->nsaved / WB_TILE_WIDTH));
        return 1;
    }
    memcpy(a->saved + a->nsaved * WB_HASH_LEN, cols[1].b, cols[1].len);
    a->nsaved += cols[1].len / WB_HASH_LEN;
    return cols[1].len == WB_TILE_WIDTH * WB_HASH_LEN ? 0 : 2; /* a partial tile is last */
}

static int count_row(void *vctx, const wb_sql_value *cols, size_t n)
{
    if (n >= 1 && cols[0].type == WB_SQL_INT)
        *(int64_t *)vctx = cols[0].i;
    return 0;
}

static int load_saved_leaves(audit *a)
{
    int64_t tiles = 0;
    row_ctx c = {a, 0};
    size_t bytes;
    int rc = wb_store_sql(a->st, "SELECT count(*) FROM audit_leaves", NULL, 0, count_row,
                          &tiles);
    if (rc < 0)
        return rc;
    if (wb_size_mul(&bytes, (size_t)tiles, (size_t)WB_TILE_WIDTH * WB_HASH_LEN) != 0)
        return wb_error_set(WB_E_LIMIT, "the auditor's state keeps too many leaves");
    a->saved = malloc(bytes ? bytes : 1);
    if (!a->saved)
        return wb_error_set(WB_E_NOMEM, "out of memory for %zu saved leaf hashes",
                            bytes / WB_HASH_LEN);
    rc = wb_store_sql(a->st, "SELECT tile, hashes FROM audit_leaves ORDER BY tile", NULL, 0,
                      saved_leaf_row, &c);
    if (c.rc)
        return c.rc;
    return rc < 0 ? rc : 0;
}

/* perfect subtree hashes over the saved leaves (for roots and proofs) */
static int saved_hash(void *vctx, uint8_t out[WB_HASH_LEN], unsigned level, uint64_t index)
{
    audit *a = vctx;
    uint8_t l[WB_HASH_LEN], r[WB_HASH_LEN];
    if (level == 0) {
        if (index >= a->nsaved)
            return wb_error_set(WB_E_RANGE, "no saved leaf %llu", (unsigned long long)index);
        memcpy(out, a->saved + index * WB_HASH_LEN, WB_HASH_LEN);
        return 0;
    }
    if (saved_hash(a, l, level - 1, 2 * index) || saved_hash(a, r, level - 1, 2 * index + 1))
        return WB_E_RANGE;
    wb_merkle_node_hash(out, l, r);
    return 0;
}

/* ---- fetching ---- */

static int get_tile(audit *a, unsigned level, uint64_t index, const uint8_t **hashes,
                    size_t *count)
{
    unsigned width = wb_tile_width(level, index, a->cp.size);
    int rc;
    if (level >= 8)
        return wb_error_set(WB_E_RANGE, "tile level %u is beyond any log", level);
    if (!a->tiles[level] || a->tile_idx[level] != index) {
        uint8_t *data;
        size_t len;
        free(a->tiles[level]);
        a->tiles[level] = NULL;
        rc = a->src->tile(a->src->ctx, level, index, width, &data, &len);
        if (rc)
            return rc;
        a->tiles[level] = data;
        a->tile_idx[level] = index;
        a->tile_len[level] = len;
    }
    *hashes = a->tiles[level];
    *count = a->tile_len[level] / WB_HASH_LEN;
    if (a->tile_len[level] != (size_t)width * WB_HASH_LEN)
        return wb_error_set(WB_E_CORRUPT, "tile %u/%llu is %zu bytes, not the %u hashes of "
                            "a tree of size %llu", level, (unsigned long long)index,
                            a->tile_len[level], width, (unsigned long long)a->cp.size);
    return 0;
}

/* every perfect subtree of height 8L the compact range completes */
static int visit(void *vctx, unsigned level, uint64_t index, const uint8_t hash[WB_HASH_LEN])
{
    audit *a = vctx;
    const uint8_t *hashes = NULL;
    size_t count = 0;
    unsigned tl = level / WB_TILE_HEIGHT;
    uint64_t first = index << level, tile = index / WB_TILE_WIDTH;
    unsigned pos = (unsigned)(index % WB_TILE_WIDTH);
    char hx[65], hy[65];
    int rc;
    if (level % WB_TILE_HEIGHT != 0 || a->tree_bad)
        return 0;
    rc = get_tile(a, tl, tile, &hashes, &count);
    if (rc == WB_E_CORRUPT || rc == WB_E_NOTFOUND) {
        a->tree_bad = 1;
        return fail(a, WB_AUDIT_TILE, first, "tile %u/%llu: %s", tl,
                    (unsigned long long)tile, wb_error_message());
    }
    if (rc)
        return rc;
    if (memcmp(hashes + pos * WB_HASH_LEN, hash, WB_HASH_LEN) == 0)
        return 0;
    a->tree_bad = 1;
    wb_hex_encode(hx, hash, WB_HASH_LEN);
    wb_hex_encode(hy, hashes + pos * WB_HASH_LEN, WB_HASH_LEN);
    if (tl == 0)
        return fail(a, WB_AUDIT_LEAF, index, "entry %llu hashes to %s, but tile 0/%llu "
                    "holds %s for it (the entry bundle or the tile was changed)",
                    (unsigned long long)index, hx, (unsigned long long)tile, hy);
    return fail(a, WB_AUDIT_TILE, first, "tile %u/%llu hash %u: entries %llu..%llu hash to "
                "%s, the tile holds %s", tl, (unsigned long long)tile, pos,
                (unsigned long long)first,
                (unsigned long long)(first + (UINT64_C(1) << level) - 1), hx, hy);
}

/* parses one entry bundle into out[0..width) (pointers into data) */
static int split_bundle(audit *a, const uint8_t *data, size_t len, uint64_t first,
                        unsigned width, audit_entry *out)
{
    wb_reader r;
    wb_reader_init(&r, data, len);
    for (unsigned i = 0; i < width; i++) {
        uint16_t n;
        const uint8_t *p;
        if (!wb_reader_get_u16be(&r, &n) || !wb_reader_get_bytes(&r, &p, n))
            return fail(a, WB_AUDIT_BUNDLE, first + i, "entry bundle %llu: entry %llu is cut "
                        "short (the bundle holds %u of its %u entries)",
                        (unsigned long long)(first / WB_TILE_WIDTH),
                        (unsigned long long)(first + i), i, width),
                   1;
        out[i].data = p;
        out[i].len = n;
    }
    if (wb_reader_left(&r) != 0)
        return fail(a, WB_AUDIT_BUNDLE, first + width - 1, "entry bundle %llu: %zu bytes "
                    "after its %u entries (an entry was added or the bundle was changed)",
                    (unsigned long long)(first / WB_TILE_WIDTH), wb_reader_left(&r), width),
               1;
    return 0;
}

/* ---- history checks during the walk ---- */

static void check_known(audit *a)
{
    while (a->next_known < a->nknown && a->known[a->next_known].cp.size <= a->cr.size) {
        known_cp *k = &a->known[a->next_known];
        if (k->cp.size == a->cr.size && k->cp.size > 0) {
            uint8_t root[WB_HASH_LEN];
            wb_merkle_compact_root(&a->cr, root);
            if (memcmp(root, k->cp.root, WB_HASH_LEN) == 0) {
                a->rep->checkpoints++;
            } else if (!a->fork_found) {
                a->fork_found = 1;
                a->fork_cp = a->next_known;
                memcpy(a->fork_root, root, WB_HASH_LEN);
            }
        }
        a->next_known++;
    }
}

static void check_saved_leaf(audit *a, uint64_t index, const uint8_t leaf[WB_HASH_LEN])
{
    if (a->first_diff == UINT64_MAX && index < a->nsaved &&
        memcmp(a->saved + index * WB_HASH_LEN, leaf, WB_HASH_LEN) != 0)
        a->first_diff = index;
}

/* ---- writing progress ---- */

typedef struct {
    uint8_t *buf;
    size_t want;
    int ok;
} prefix_ctx;

static int prefix_row(void *vctx, const wb_sql_value *cols, size_t n)
{
    prefix_ctx *c = vctx;
    if (n >= 1 && cols[0].type == WB_SQL_BLOB && cols[0].len >= c->want) {
        memcpy(c->buf, cols[0].b, c->want);
        c->ok = 1;
    }
    return 0;
}

static int save_chunk(audit *a, uint64_t first, const uint8_t *leaves, size_t n)
{
    wb_sql_value arg[3];
    uint8_t tile[WB_TILE_WIDTH * WB_HASH_LEN];
    uint64_t pos = first;
    int rc = 0;
    /* leaves by tile; a chunk that starts inside a tile (the log grew
       during the audit) completes the row this run saved before */
    while (rc == 0 && pos < first + n) {
        uint64_t t = pos / WB_TILE_WIDTH, base = t * WB_TILE_WIDTH;
        size_t have = (size_t)(pos - base);
        size_t k = (size_t)(first + n - pos);
        if (k > WB_TILE_WIDTH - have)
            k = WB_TILE_WIDTH - have;
        if (have) {
            prefix_ctx c = {tile, have * WB_HASH_LEN, 0};
            arg[0] = WB_SQL_I(t);
            rc = wb_store_sql(a->st, "SELECT hashes FROM audit_leaves WHERE tile = $1", arg, 1,
                              prefix_row, &c);
            if (rc >= 0 && !c.ok)
                rc = wb_error_set(WB_E_CORRUPT, "the auditor's state misses leaves of tile "
                                  "%llu", (unsigned long long)t);
            if (rc < 0)
                break;
        }
        memcpy(tile + have * WB_HASH_LEN, leaves + (pos - first) * WB_HASH_LEN,
               k * WB_HASH_LEN);
        arg[0] = WB_SQL_I(t);
        arg[1] = WB_SQL_B(tile, (have + k) * WB_HASH_LEN);
        rc = wb_store_sql(a->st, "INSERT OR REPLACE INTO audit_leaves(tile, hashes) "
                                 "VALUES ($1, $2)", arg, 2, NULL, NULL);
        rc = rc < 0 ? rc : 0;
        pos += k;
    }
    if (rc == 0) {
        arg[0] = WB_SQL_I(a->cp.size);
        arg[1] = WB_SQL_I(a->cr.size);
        arg[2] = WB_SQL_B((const uint8_t *)&a->cr, sizeof(a->cr));
        rc = wb_store_sql(a->st, "INSERT OR REPLACE INTO audit_progress(id, size, next, "
                                 "compact) VALUES (1, $1, $2, $3)", arg, 3, NULL, NULL);
    }
    return rc < 0 ? rc : 0;
}

/* ---- the walk ---- */

static int walk_chunk(audit *a, uint64_t first, uint64_t end, uint8_t *leaves)
{
    /* bundles are whole: after the log grew, first may be inside one */
    uint64_t base = first - first % WB_TILE_WIDTH;
    size_t n = (size_t)(end - base);
    audit_entry *entries = calloc(n, sizeof(*entries));
    uint8_t *bundles[WB_AUDIT_CHUNK / WB_TILE_WIDTH + 1] = {0};
    size_t nb = 0;
    uint64_t stop = end; /* entries past a tree failure are not replayed */
    int rc = 0;
    if (!entries)
        return wb_error_set(WB_E_NOMEM, "out of memory");
    for (uint64_t b = base / WB_TILE_WIDTH; rc == 0 && b * WB_TILE_WIDTH < end; b++) {
        unsigned width = wb_bundle_width(b, a->cp.size);
        size_t len;
        uint64_t at = b * WB_TILE_WIDTH;
        rc = a->src->bundle(a->src->ctx, b, width, &bundles[nb], &len);
        if (rc == WB_E_NOTFOUND || rc == WB_E_CORRUPT) {
            rc = fail(a, WB_AUDIT_BUNDLE, at, "entry bundle %llu (entries %llu..%llu): %s",
                      (unsigned long long)b, (unsigned long long)at,
                      (unsigned long long)(at + width - 1), wb_error_message());
            stop = at > first ? at : first;
            break;
        }
        if (rc)
            break;
        if (split_bundle(a, bundles[nb], len, at, width, entries + (at - base))) {
            stop = a->rep->bad_index > first ? a->rep->bad_index : first;
            nb++;
            break;
        }
        nb++;
    }
    for (uint64_t i = first; rc == 0 && i < stop; i++) {
        uint8_t *leaf = leaves + (i - first) * WB_HASH_LEN;
        const audit_entry *e = &entries[i - base];
        wb_merkle_leaf_hash(leaf, e->data, e->len);
        check_saved_leaf(a, i, leaf);
        rc = wb_merkle_compact_append(&a->cr, leaf, visit, a);
        if (rc == 0 && a->tree_bad) {
            stop = i;
            break;
        }
        check_known(a);
    }
    /* once history differs from what this auditor verified before, the
       fork is the finding: the rest of the walk only hashes the tree */
    if (rc == 0 && a->first_diff != UINT64_MAX && stop > a->first_diff)
        stop = a->first_diff > first ? a->first_diff : first;
    if (rc == 0 && stop > first) {
        uint64_t bad = UINT64_MAX;
        wb_audit_failure f = WB_AUDIT_OK;
        rc = audit_replay_chunk(a->replay, entries + (first - base), (size_t)(stop - first),
                                first, &bad, &f);
        if (rc == WB_E_VERIFY) {
            char why[sizeof(a->rep->reason)];
            snprintf(why, sizeof(why), "%s", wb_error_message());
            rc = fail(a, f, bad, "entry %llu: %s", (unsigned long long)bad, why);
        }
    }
    for (size_t i = 0; i < nb; i++)
        free(bundles[i]);
    free(entries);
    return rc;
}

typedef struct {
    int found;
    uint64_t size, next;
    wb_merkle_compact cr;
} progress_row_t;

static int progress_row(void *vctx, const wb_sql_value *cols, size_t n)
{
    progress_row_t *p = vctx;
    if (n < 3 || cols[0].type != WB_SQL_INT || cols[1].type != WB_SQL_INT ||
        cols[2].type != WB_SQL_BLOB || cols[2].len != sizeof(p->cr))
        return 0; /* unreadable progress: start over */
    p->size = (uint64_t)cols[0].i;
    p->next = (uint64_t)cols[1].i;
    memcpy(&p->cr, cols[2].b, sizeof(p->cr));
    p->found = p->cr.size == p->next && p->next % WB_TILE_WIDTH == 0;
    return 0;
}

/*
 * where this run starts: the progress of an interrupted run (if it is a
 * prefix of what the saved leaves say), else 0 with the fleet tables
 * rebuilt empty.
 */
static int begin_state(audit *a, uint64_t *start)
{
    progress_row_t p;
    int rc;
    memset(&p, 0, sizeof(p));
    *start = 0;
    wb_merkle_compact_init(&a->cr);
    if (!a->o->no_resume) {
        rc = wb_store_sql(a->st, "SELECT size, next, compact FROM audit_progress WHERE id = 1",
                          NULL, 0, progress_row, &p);
        if (rc < 0)
            return rc;
    }
    if (p.found && p.next <= a->cp.size && p.next <= a->nsaved && p.next > 0) {
        a->cr = p.cr;
        *start = p.next;
        /* checkpoints at or below the resume point: from the saved leaves */
        while (a->next_known < a->nknown && a->known[a->next_known].cp.size <= p.next) {
            known_cp *k = &a->known[a->next_known];
            uint8_t root[WB_HASH_LEN];
            if (k->cp.size > 0) {
                rc = wb_merkle_root(root, k->cp.size, saved_hash, a);
                if (rc)
                    return rc;
                if (memcmp(root, k->cp.root, WB_HASH_LEN) == 0)
                    a->rep->checkpoints++;
                else if (!a->fork_found) {
                    a->fork_found = 1;
                    a->fork_cp = a->next_known;
                    memcpy(a->fork_root, root, WB_HASH_LEN);
                }
            }
            a->next_known++;
        }
        return 0;
    }
    /* a fresh run: the fleet tables start empty */
    return wb_fleet_reindex(a->st, 0, NULL, NULL, NULL);
}

/* the root of the saved leaves at size, into out; 0 if they reach it */
static int saved_root(audit *a, uint64_t size, uint8_t out[WB_HASH_LEN])
{
    if (size > a->nsaved)
        return WB_E_RANGE;
    return wb_merkle_root(out, size, saved_hash, a);
}

static int write_fork(audit *a, const known_cp *old_cp, const char *new_note, size_t new_len,
                      uint64_t small, uint64_t large, const uint8_t root_at_small[WB_HASH_LEN],
                      int old_is_large)
{
    uint8_t proof[WB_MERKLE_MAX_PROOF][WB_HASH_LEN];
    size_t n = 0;
    int rc = 0;
    if (!a->o->fork_out || (old_is_large && large > a->nsaved))
        return 0;
    if (small < large) {
        /* the proof comes from the larger tree: the saved leaves when the
           earlier checkpoint is the larger one, else the log (checked) */
        if (old_is_large) {
            rc = wb_merkle_consistency_proof(proof, &n, small, large, saved_hash, a);
        } else {
            rc = a->src->consistency(a->src->ctx, small, large, proof, &n);
            if (rc == 0)
                rc = wb_merkle_consistency_verify(small, large, proof, n, root_at_small,
                                                  a->cp.root);
        }
    }
    if (rc == 0)
        rc = old_is_large
                 ? wb_fork_proof_write(a->o->fork_out, a->trust->log_key, new_note, new_len,
                                       old_cp->note, old_cp->len, root_at_small, proof, n)
                 : wb_fork_proof_write(a->o->fork_out, a->trust->log_key, old_cp->note,
                                       old_cp->len, new_note, new_len, root_at_small, proof, n);
    if (rc)
        return wb_error_prefix(rc, "writing the fork proof");
    a->rep->fork_written = 1;
    return 0;
}

/* after the walk: earlier checkpoints larger than the log, and forks */
static int judge_history(audit *a)
{
    char when[32];
    if (a->fork_found) {
        known_cp *k = &a->known[a->fork_cp];
        uint64_t at = a->first_diff;
        char where[96] = "";
        int rc = write_fork(a, k, a->note, a->note_len, k->cp.size, a->cp.size, a->fork_root, 0);
        if (rc)
            return rc;
        if (at != UINT64_MAX)
            snprintf(where, sizeof(where), "; entry %llu is the first that differs from what "
                     "this auditor verified before", (unsigned long long)at);
        fail(a, WB_AUDIT_FORK, at, "the log's tree at size %llu does not have the root of "
             "the %s checkpoint of that size, signed by the same key: the log rewrote "
             "history%s%s", (unsigned long long)k->cp.size,
             k->saved ? "earlier-verified" : "given", where,
             a->rep->fork_written ? " (fork proof written)" : "");
        return 0;
    }
    for (size_t i = a->next_known; i < a->nknown; i++) {
        known_cp *k = &a->known[i];
        uint8_t root[WB_HASH_LEN];
        if (k->cp.size <= a->cp.size)
            continue;
        snprintf(when, sizeof(when), "%s", k->saved ? "verified by this auditor" : "given");
        if (saved_root(a, a->cp.size, root) == 0 && a->cp.size > 0 &&
            memcmp(root, a->cp.root, WB_HASH_LEN) != 0) {
            int rc = write_fork(a, k, a->note, a->note_len, a->cp.size, k->cp.size, root, 1);
            if (rc)
                return rc;
            fail(a, WB_AUDIT_FORK, a->first_diff, "the log now shows size %llu with a root "
                 "that is not the root of the tree of the checkpoint of size %llu %s: the "
                 "log rewrote history%s", (unsigned long long)a->cp.size,
                 (unsigned long long)k->cp.size, when,
                 a->rep->fork_written ? " (fork proof written)" : "");
        } else {
            fail(a, WB_AUDIT_ROLLBACK, a->cp.size, "the log shrank: it shows size %llu, but "
                 "a checkpoint of size %llu was %s; entries %llu..%llu are gone",
                 (unsigned long long)a->cp.size, (unsigned long long)k->cp.size, when,
                 (unsigned long long)a->cp.size, (unsigned long long)(k->cp.size - 1));
        }
        return 0;
    }
    return 0;
}

/* the first line where the server's fleet state and the rebuilt one differ */
static void fleet_diff(audit *a, const char *theirs, size_t tl, const char *mine, size_t ml)
{
    size_t i = 0, start = 0, line = 1, tstart = 0;
    const char *table = "?";
    while (i < tl && i < ml && theirs[i] == mine[i]) {
        if (theirs[i] == '\n') {
            line++;
            start = i + 1;
            if (strncmp(theirs + start, "== ", 3) == 0)
                tstart = start;
        }
        i++;
    }
    if (strncmp(theirs + tstart, "== SELECT * FROM ", 17) == 0)
        table = theirs + tstart + 17;
    fail(a, WB_AUDIT_FLEET, UINT64_MAX, "the fleet state the log's server reports differs "
         "from the one rebuilt from the entries, at line %zu (table %.*s):\n  server: %.*s\n"
         "  log:    %.*s", line, (int)strcspn(table, " \n"), table,
         (int)strcspn(theirs + start, "\n"), theirs + start, (int)strcspn(mine + start, "\n"),
         mine + start);
}

static int compare_fleet(audit *a, int *grew)
{
    uint64_t size;
    char *theirs = NULL, *mine = NULL;
    size_t tl, ml;
    int rc = a->src->fleet(a->src->ctx, &size, &theirs, &tl);
    *grew = 0;
    if (rc == WB_E_NOTFOUND)
        return 0;
    if (rc)
        return rc;
    if (size > a->cp.size) {
        *grew = 1;
        free(theirs);
        return 0;
    }
    if (size < a->cp.size) {
        free(theirs);
        return fail(a, WB_AUDIT_FLEET, UINT64_MAX, "the server reports the fleet state of "
                    "size %llu, older than its checkpoint of size %llu",
                    (unsigned long long)size, (unsigned long long)a->cp.size);
    }
    rc = wb_fleet_dump(a->st, &mine, &ml);
    if (rc == 0) {
        a->rep->fleet_compared = 1;
        if (tl != ml || memcmp(theirs, mine, tl) != 0)
            fleet_diff(a, theirs, tl, mine, ml);
    }
    free(theirs);
    free(mine);
    return rc;
}

/*
 * the latest checkpoint; with a witness policy, one cosigned by a quorum:
 * witnesses lag the log by design, so wait for them a little
 */
static int fetch_target(audit *a)
{
    unsigned waited = 0;
    for (;;) {
        int rc;
        free(a->note);
        a->note = NULL;
        wb_checkpoint_cleanup(&a->cp);
        rc = a->src->checkpoint(a->src->ctx, &a->note, &a->note_len);
        if (rc)
            return rc;
        rc = wb_checkpoint_open(&a->cp, a->note, a->note_len, a->trust->log_key);
        if (rc) {
            fail(a, WB_AUDIT_CHECKPOINT, UINT64_MAX, "the latest checkpoint does not verify "
                 "with the log key: %s", wb_error_message());
            return 0;
        }
        if (!a->o->policy)
            return 0;
        rc = wb_witness_policy_check(a->o->policy, a->note, a->note_len, a->trust->log_key,
                                     &a->rep->cosigned);
        if (rc == 0)
            return 0;
        if (rc != WB_E_VERIFY || waited >= a->o->witness_wait_ms) {
            fail(a, WB_AUDIT_CHECKPOINT, UINT64_MAX, "the latest checkpoint (size %llu) does "
                 "not meet the witness policy: %s", (unsigned long long)a->cp.size,
                 wb_error_message());
            return 0;
        }
        usleep(200 * 1000);
        waited += 200;
    }
}

static int save_success(audit *a)
{
    wb_sql_value arg[4];
    int rc = wb_store_begin(a->st);
    for (size_t i = 0; rc == 0 && i <= a->nknown; i++) {
        const char *note = i < a->nknown ? a->known[i].note : a->note;
        const wb_checkpoint *cp = i < a->nknown ? &a->known[i].cp : &a->cp;
        if (i < a->nknown && (a->known[i].saved || cp->size > a->cp.size))
            continue;
        arg[0] = WB_SQL_I(cp->size);
        arg[1] = WB_SQL_B(cp->root, WB_HASH_LEN);
        arg[2] = WB_SQL_S(note);
        arg[3] = WB_SQL_I(time(NULL));
        rc = wb_store_sql(a->st, "INSERT OR IGNORE INTO audit_checkpoints(size, root, note, "
                                 "seen) VALUES ($1, $2, $3, $4)", arg, 4, NULL, NULL);
        rc = rc < 0 ? rc : 0;
    }
    if (rc == 0)
        rc = wb_store_sql(a->st, "DELETE FROM audit_progress", NULL, 0, NULL, NULL);
    rc = rc < 0 ? rc : 0;
    if (rc == 0)
        rc = wb_store_commit(a->st);
    else
        wb_store_rollback(a->st);
    return rc;
}

static int walk(audit *a, uint64_t start)
{
    uint64_t chunk = a->o->chunk ? a->o->chunk : WB_AUDIT_CHUNK;
    uint8_t *leaves = malloc((size_t)chunk * WB_HASH_LEN);
    int rc = 0;
    if (!leaves)
        return wb_error_set(WB_E_NOMEM, "out of memory");
    for (uint64_t first = start; rc == 0 && first < a->cp.size;) {
        uint64_t end = first + chunk < a->cp.size ? first + chunk : a->cp.size;
        int tainted;
        rc = wb_store_begin(a->st);
        if (rc)
            break;
        rc = walk_chunk(a, first, end, leaves);
        /* nothing is kept once history looks rewritten or the tree is bad:
           the state must only ever hold verified history */
        tainted = a->rep->failure != WB_AUDIT_OK || a->fork_found ||
                  a->first_diff != UINT64_MAX;
        if (rc == 0 && !tainted)
            rc = save_chunk(a, first, leaves, (size_t)(end - first));
        if (rc == 0 && !tainted)
            rc = wb_store_commit(a->st);
        else
            wb_store_rollback(a->st);
        if (a->o->progress)
            a->o->progress(a->o->progress_ctx, end, a->cp.size, a->rep->first);
        if (a->rep->failure != WB_AUDIT_OK && a->rep->failure != WB_AUDIT_FORK)
            break;
        first = end;
    }
    free(leaves);
    return rc;
}

int wb_audit_run(wb_audit_report *rep, wb_audit_source *src, const wb_audit_trust *trust,
                 const wb_audit_options *o)
{
    audit a;
    wb_store_options so;
    struct timespec t0, t1;
    uint64_t start = 0;
    int rc, grew = 0;

    memset(&a, 0, sizeof(a));
    memset(rep, 0, sizeof(*rep));
    rep->bad_index = UINT64_MAX;
    a.src = src;
    a.trust = trust;
    a.o = o;
    a.rep = rep;
    a.first_diff = UINT64_MAX;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (!trust->log_key)
        return wb_error_set(WB_E_INVALID, "the audit needs the log's key");
    if (o->chunk % WB_TILE_WIDTH != 0 || o->chunk > WB_AUDIT_CHUNK)
        return wb_error_set(WB_E_INVALID, "audit chunk %u: a multiple of %d up to %d",
                            o->chunk, WB_TILE_WIDTH, WB_AUDIT_CHUNK);
    memset(&so, 0, sizeof(so));
    so.create = access(o->state_path, F_OK) != 0;
    so.sync_normal = 1; /* the state is rebuilt by a rerun if a crash loses it */
    rc = wb_store_open_sqlite(&a.st, o->state_path, &so);
    if (rc)
        return wb_error_prefix(rc, "auditor state %s", o->state_path);
    rc = wb_store_sql_script(a.st, schema);
    if (rc == 0)
        rc = wb_fleet_schema(a.st);
    if (rc == 0)
        rc = pin_trust(&a);
    if (rc == 0)
        rc = fetch_target(&a);
    if (rc == 0 && rep->failure == WB_AUDIT_OK)
        rc = load_known(&a);
    if (rc == 0 && rep->failure == WB_AUDIT_OK)
        rc = load_saved_leaves(&a);
    if (rc == 0 && rep->failure == WB_AUDIT_OK)
        rc = audit_replay_new(&a.replay, a.st, trust, o->threads, o->allow_unknown);
    if (rc == 0 && rep->failure == WB_AUDIT_OK)
        rc = begin_state(&a, &start);
    rep->first = start;
    for (int round = 0; rc == 0 && rep->failure == WB_AUDIT_OK && round < 3; round++) {
        rc = walk(&a, a.cr.size);
        if (rc || rep->failure != WB_AUDIT_OK)
            break;
        {
            uint8_t root[WB_HASH_LEN];
            wb_merkle_compact_root(&a.cr, root);
            if (memcmp(root, a.cp.root, WB_HASH_LEN) != 0) {
                fail(&a, WB_AUDIT_CHECKPOINT, UINT64_MAX, "the entries and tiles hash to a "
                     "root that is not the checkpoint's (size %llu)",
                     (unsigned long long)a.cp.size);
                break;
            }
        }
        if (a.fork_found || a.first_diff != UINT64_MAX)
            break;
        /* history before the fleet state: a log cut back is the finding */
        rc = judge_history(&a);
        if (rc || rep->failure != WB_AUDIT_OK)
            break;
        rc = compare_fleet(&a, &grew);
        if (rc || !grew)
            break;
        /* the log grew while we walked: audit up to its new checkpoint */
        {
            uint64_t was = a.cp.size;
            uint8_t was_root[WB_HASH_LEN];
            memcpy(was_root, a.cp.root, WB_HASH_LEN);
            rc = fetch_target(&a);
            if (rc == 0 && rep->failure == WB_AUDIT_OK && a.cp.size < was)
                fail(&a, WB_AUDIT_ROLLBACK, a.cp.size, "the log shrank from %llu to %llu "
                     "during the audit", (unsigned long long)was,
                     (unsigned long long)a.cp.size);
            for (int l = 0; l < 8; l++) {
                free(a.tiles[l]);
                a.tiles[l] = NULL;
            }
        }
    }
    if (rc == 0 && rep->failure == WB_AUDIT_OK && (a.fork_found || a.first_diff != UINT64_MAX))
        rc = judge_history(&a);
    /* every finding the rules raised before the newest checkpoint verified
       earlier (or given) must have been registered by now */
    if (rc == 0 && rep->failure == WB_AUDIT_OK && a.replay) {
        uint64_t before = 0, idx = 0;
        char why[sizeof(rep->reason)];
        for (size_t i = 0; i < a.nknown; i++)
            if (a.known[i].cp.size <= a.cp.size && a.known[i].cp.size > before)
                before = a.known[i].cp.size;
        if (audit_replay_missing(a.replay, before, &idx, why, sizeof(why),
                                 &rep->findings_pending))
            fail(&a, WB_AUDIT_FINDING, idx, "%s", why);
    }
    if (a.replay)
        audit_replay_findings(a.replay, &rep->findings_raised, &rep->findings_registered);
    if (rc == 0 && rep->failure == WB_AUDIT_OK && !a.fork_found)
        rc = save_success(&a);
    rep->size = a.cp.size;
    memcpy(rep->root, a.cp.root, WB_HASH_LEN);
    if (a.replay)
        audit_replay_counts(a.replay, &rep->statements, &rep->policy, &rep->unknown);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    rep->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    for (int l = 0; l < 8; l++)
        free(a.tiles[l]);
    for (size_t i = 0; i < a.nknown; i++) {
        wb_checkpoint_cleanup(&a.known[i].cp);
        free(a.known[i].note);
    }
    free(a.known);
    free(a.saved);
    free(a.note);
    wb_checkpoint_cleanup(&a.cp);
    audit_replay_free(a.replay);
    if (a.st)
        wb_store_close(a.st);
    return rc;
}
