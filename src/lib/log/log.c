/*
 * log.c: the verifiable log over the store: batch integration into
 * C2SP tlog-tiles and entry bundles, signed C2SP checkpoints, and RFC 9162
 * proofs read from tiles (see waybill/log.h).
 *
 * Integration of a batch (one store transaction):
 *   1. read the state (tree size n) under the writer lock,
 *   2. load the right edge of the tree (a compact range) from the tiles,
 *   3. for each entry: leaf hash, append to its entry bundle, append to the
 *      compact range; every perfect subtree the append completes at a tree
 *      level 8·L is hash number i of level-L tiles and goes into that tile,
 *   4. write the touched tiles and bundles, sign the checkpoint of the new
 *      size, compare-and-swap the state from n, commit (durable).
 * Any failure rolls the whole transaction back: nothing of the batch is
 * visible, and the message names the entry that was refused.
 *
 * Proofs ask the Merkle layer for perfect-subtree hashes (level l, index i);
 * that hash is folded from 2^(l mod 8) hashes of one level-(l/8) tile. A
 * small cache of tiles per tile level makes a proof cost O(log n) tile reads at
 * most, and usually one read per tile level.
 */
#include "waybill/log.h"
#include "waybill/error.h"
#include "waybill/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TILE_LEVELS 8 /* 8 tile levels × 8 tree levels = 64 tree levels */
#define KEY_FILE "log.key"
#define PUB_FILE "log.pub"
#define DB_FILE "waybill.db"
#define KEY_FILE_MAX 4096

typedef struct {
    int valid;
    uint64_t index;
    unsigned width;
    uint8_t hashes[WB_TILE_WIDTH][WB_HASH_LEN];
} tile_buf;

/*
 * A cached tile with the interior nodes of its 8-level subtree, computed
 * when first asked for and kept: node (h, p) is the root of hashes
 * [p·2^h, (p+1)·2^h) of the tile, 1 <= h <= 7. Proofs for neighbouring
 * entries (a batch's receipts) then share every node below the tile.
 */
#define NODE_OFFSET(h) (256u - (256u >> ((h) - 1u)))
typedef struct {
    tile_buf t;
    uint8_t nodes[WB_TILE_WIDTH - 2][WB_HASH_LEN]; /* heights 1..7 */
    uint64_t done[WB_TILE_HEIGHT][WB_TILE_WIDTH / 64]; /* computed bits */
    uint64_t used; /* clock of the last use, for eviction */
} tile_cache;

/* tiles cached per level: a proof near the right edge touches the tile of
 * its leaf and the partial tile at the edge, so one would thrash */
#define CACHE_WAYS 4

struct wb_log {
    char *dir;
    wb_store *store;
    char origin[WB_ORIGIN_MAX + 1];
    wb_note_key *signer;   /* NULL when log.key is absent (read-only use) */
    wb_note_key *verifier;
    tile_cache cache[TILE_LEVELS][CACHE_WAYS];
    uint64_t clock;
};

/* ---- small helpers ---- */

static int join_path(char *out, size_t cap, const char *dir, const char *name)
{
    int n = snprintf(out, cap, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= cap)
        return wb_error_set(WB_E_LIMIT, "path %s/%s is too long", dir, name);
    return 0;
}

static int check_origin(const char *origin)
{
    size_t n = strlen(origin);
    if (n == 0 || n > WB_ORIGIN_MAX)
        return wb_error_set(WB_E_INVALID, "origin must be 1..%d bytes, got %zu",
                            WB_ORIGIN_MAX, n);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)origin[i];
        if (c <= 0x20 || c >= 0x7f || c == '+')
            return wb_error_set(WB_E_INVALID,
                                "origin '%s': byte %zu is not allowed (printable "
                                "ASCII without spaces or '+')",
                                origin, i);
    }
    return 0;
}

static void cache_clear(wb_log *log)
{
    for (int i = 0; i < TILE_LEVELS; i++)
        for (int w = 0; w < CACHE_WAYS; w++)
            log->cache[i][w].t.valid = 0;
}

/* the cache slot for tile (L, N): the one holding it, else the least used */
static tile_cache *cache_slot(wb_log *log, unsigned L, uint64_t N)
{
    tile_cache *victim = &log->cache[L][0];
    for (int w = 0; w < CACHE_WAYS; w++) {
        tile_cache *c = &log->cache[L][w];
        if (c->t.valid && c->t.index == N)
            return c;
        if (!c->t.valid || c->used < victim->used)
            victim = c;
    }
    return victim;
}

/*
 * tile_get returns level-L tile N holding at least need hashes, through
 * the cache. Stored tiles only ever grow, so a cached prefix stays right.
 */
static int tile_get_cached(wb_log *log, tile_cache **out, unsigned L, uint64_t N,
                           unsigned need)
{
    tile_cache *c = cache_slot(log, L, N);
    tile_buf *t = &c->t;
    wb_blob_key key = {WB_BLOB_TILE, (uint8_t)L, N};
    uint8_t *data;
    size_t len;
    int rc;

    c->used = ++log->clock;
    if (t->valid && t->index == N && t->width >= need) {
        *out = c;
        return 0;
    }
    t->valid = 0;
    rc = wb_store_get_blob(log->store, key, &data, &len);
    if (rc == WB_E_NOTFOUND)
        return wb_error_set(WB_E_CORRUPT, "tile %u/%llu is missing from the store",
                            L, (unsigned long long)N);
    if (rc)
        return rc;
    if (len % WB_HASH_LEN != 0 || len > sizeof(t->hashes)) {
        free(data);
        return wb_error_set(WB_E_CORRUPT, "tile %u/%llu has %zu bytes, not a multiple "
                            "of 32 up to 8192", L, (unsigned long long)N, len);
    }
    memcpy(t->hashes, data, len);
    free(data);
    memset(c->done, 0, sizeof(c->done));
    t->valid = 1;
    t->index = N;
    t->width = (unsigned)(len / WB_HASH_LEN);
    if (t->width < need) {
        t->valid = 0;
        return wb_error_set(WB_E_CORRUPT, "tile %u/%llu has %u hashes, the tree needs %u",
                            L, (unsigned long long)N, t->width, need);
    }
    *out = c;
    return 0;
}

static int tile_get(wb_log *log, const tile_buf **out, unsigned L, uint64_t N,
                    unsigned need)
{
    tile_cache *c;
    int rc = tile_get_cached(log, &c, L, N, need);
    if (rc == 0)
        *out = &c->t;
    return rc;
}

typedef struct {
    wb_log *log;
    uint64_t size;
} hash_ctx;

/* node (h, p) of a cached tile whose width covers it; memoised */
static const uint8_t *tile_node(tile_cache *c, unsigned h, unsigned p)
{
    uint8_t *node;
    if (h == 0)
        return c->t.hashes[p];
    node = c->nodes[NODE_OFFSET(h) + p];
    if (!(c->done[h][p / 64] & (UINT64_C(1) << (p % 64)))) {
        wb_merkle_node_hash(node, tile_node(c, h - 1, 2 * p), tile_node(c, h - 1, 2 * p + 1));
        c->done[h][p / 64] |= UINT64_C(1) << (p % 64);
    }
    return node;
}

/* wb_merkle_hash_fn over the tiles of a tree of ctx->size leaves */
static int tile_hash_fn(void *vctx, uint8_t out[WB_HASH_LEN], unsigned level,
                        uint64_t index)
{
    hash_ctx *ctx = vctx;
    unsigned L = level / WB_TILE_HEIGHT, h = level % WB_TILE_HEIGHT;
    unsigned per_tile = WB_TILE_WIDTH >> h; /* nodes of height h in one tile */
    uint64_t N;
    unsigned p;
    tile_cache *c;
    int rc;

    if (level >= 64 || index >= (ctx->size >> level))
        return wb_error_set(WB_E_INTERNAL, "subtree %u/%llu is not in a tree of %llu",
                            level, (unsigned long long)index,
                            (unsigned long long)ctx->size);
    N = index / per_tile;
    p = (unsigned)(index % per_tile);
    rc = tile_get_cached(ctx->log, &c, L, N, (p + 1) << h);
    if (rc)
        return rc;
    memcpy(out, tile_node(c, h, p), WB_HASH_LEN);
    return 0;
}

/* ---- init / open ---- */

static int read_key_file(wb_note_key **out, const char *dir, const char *name,
                         int signer)
{
    char path[4096];
    uint8_t *data;
    size_t len;
    int rc = join_path(path, sizeof(path), dir, name);
    if (rc)
        return rc;
    rc = wb_file_read(path, KEY_FILE_MAX, &data, &len);
    if (rc)
        return rc;
    while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r'))
        len--;
    rc = signer ? wb_note_signer_parse(out, (const char *)data, len)
                : wb_note_verifier_parse(out, (const char *)data, len);
    explicit_bzero(data, len);
    free(data);
    if (rc)
        return wb_error_prefix(rc, "%s", path);
    return 0;
}

static int sign_checkpoint(wb_log *log, uint64_t size, const uint8_t root[32],
                           char **note, size_t *note_len)
{
    wb_checkpoint cp;
    char *text = NULL;
    size_t text_len;
    wb_note_key *signers[1];
    int rc;

    if (!log->signer)
        return wb_error_set(WB_E_NOTFOUND, "%s/" KEY_FILE " is missing: this log "
                            "cannot sign checkpoints", log->dir);
    memset(&cp, 0, sizeof(cp));
    memcpy(cp.origin, log->origin, strlen(log->origin) + 1);
    cp.size = size;
    memcpy(cp.root, root, 32);
    rc = wb_checkpoint_format(&text, &text_len, &cp);
    if (rc)
        return rc;
    signers[0] = log->signer;
    rc = wb_note_sign(note, note_len, text, text_len, signers, 1);
    free(text);
    return rc;
}

/* every signed checkpoint is kept, keyed by its tree size */
static int put_checkpoint(wb_log *log, const wb_store_state *st)
{
    wb_blob_key key = {WB_BLOB_CHECKPOINT, 0, st->size};
    return wb_store_put_blob(log->store, key, (const uint8_t *)st->checkpoint,
                             st->checkpoint_len);
}

/* creates the missing parent directories of dir (like mkdir -p) */
static int make_parents(const char *dir)
{
    char path[4096];
    size_t n = strlen(dir);
    if (n >= sizeof(path))
        return wb_error_set(WB_E_LIMIT, "path %s is too long", dir);
    memcpy(path, dir, n + 1);
    for (size_t i = 1; i < n; i++) {
        if (path[i] != '/')
            continue;
        path[i] = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST)
            return wb_error_set(WB_E_IO, "mkdir %s: %s", path, strerror(errno));
        path[i] = '/';
    }
    return 0;
}

/* removes the files a (failed or moved) build directory may hold */
static void remove_build(const char *tmp)
{
    static const char *names[] = {DB_FILE, DB_FILE "-wal", DB_FILE "-shm", KEY_FILE,
                                  PUB_FILE};
    char p[4300];
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        snprintf(p, sizeof(p), "%s/%s", tmp, names[i]);
        unlink(p);
    }
    rmdir(tmp);
}

/*
 * writes the first state of a new log into store (which must hold none):
 * metadata, the signed checkpoint of the empty tree and the state row, in
 * one transaction. The store is borrowed.
 */
static int init_store_state(wb_store *store, wb_note_key *key, const char *verifier_s,
                            const char *origin, const char *dir)
{
    wb_log *log = calloc(1, sizeof(*log));
    wb_store_state st = {0};
    int rc;

    if (!log)
        return wb_error_set(WB_E_NOMEM, "out of memory");
    log->store = store;
    log->dir = (char *)dir;
    log->signer = key;
    memcpy(log->origin, origin, strlen(origin) + 1);
    rc = wb_store_begin(store);
    if (rc == 0) {
        wb_merkle_empty_root(st.root);
        st.size = 0;
        rc = sign_checkpoint(log, 0, st.root, &st.checkpoint, &st.checkpoint_len);
        if (rc == 0)
            rc = wb_store_put_meta(store, "origin", origin);
        if (rc == 0)
            rc = wb_store_put_meta(store, "verifier", verifier_s);
        if (rc == 0)
            rc = put_checkpoint(log, &st);
        if (rc == 0) {
            rc = wb_store_cas_state(store, WB_STORE_NO_STATE, &st);
            if (rc == WB_E_CONFLICT)
                rc = wb_error_set(WB_E_EXISTS, "the store already holds a log; refusing "
                                  "to overwrite");
        }
        if (rc == 0)
            rc = wb_store_commit(store);
        else
            wb_store_rollback(store);
    }
    wb_store_state_cleanup(&st);
    free(log); /* borrowed: store, dir, key */
    return rc;
}

/* builds a complete new log in the empty directory tmp */
static int build_log(const char *tmp, const char *origin)
{
    char keypath[4096], pubpath[4096], dbpath[4096];
    char *signer_s = NULL, *verifier_s = NULL;
    wb_note_key *key = NULL;
    wb_store_options sopt = {.create = 1};
    wb_store *s = NULL;
    int rc;

    if ((rc = join_path(keypath, sizeof(keypath), tmp, KEY_FILE)) ||
        (rc = join_path(pubpath, sizeof(pubpath), tmp, PUB_FILE)) ||
        (rc = join_path(dbpath, sizeof(dbpath), tmp, DB_FILE)))
        return rc;
    rc = wb_note_key_generate(&key, origin);
    if (rc == 0)
        rc = wb_note_signer_string(&signer_s, key);
    if (rc == 0)
        rc = wb_note_verifier_string(&verifier_s, key);
    if (rc == 0) {
        size_t n = strlen(signer_s);
        signer_s[n] = '\n'; /* write with a final newline */
        rc = wb_file_write_new(keypath, signer_s, n + 1, 0600);
        signer_s[n] = '\0';
    }
    if (rc == 0) {
        size_t n = strlen(verifier_s);
        verifier_s[n] = '\n';
        rc = wb_file_write_new(pubpath, verifier_s, n + 1, 0644);
        verifier_s[n] = '\0';
    }
    if (rc == 0)
        rc = wb_store_open_sqlite(&s, dbpath, &sopt);
    if (rc == 0)
        rc = init_store_state(s, key, verifier_s, origin, tmp);
    wb_store_close(s); /* the last close folds the WAL into waybill.db */
    wb_note_key_free(key);
    if (signer_s)
        explicit_bzero(signer_s, strlen(signer_s));
    free(signer_s);
    free(verifier_s);
    return rc;
}

/*
 * The keys of a log in a store other than DIR/waybill.db: both files are
 * used when present (a node joining a log another node made), made when
 * neither is; one without the other is refused, as in wb_log_init.
 */
static int store_keys(wb_note_key **key, char **verifier_s, int *made, const char *dir,
                      const char *origin)
{
    char keypath[4096], pubpath[4096];
    char *signer_s = NULL;
    struct stat sb;
    int have_key, have_pub, rc;

    *made = 0;
    if ((rc = join_path(keypath, sizeof(keypath), dir, KEY_FILE)) ||
        (rc = join_path(pubpath, sizeof(pubpath), dir, PUB_FILE)))
        return rc;
    have_key = stat(keypath, &sb) == 0;
    have_pub = stat(pubpath, &sb) == 0;
    if (have_key != have_pub)
        return wb_error_set(WB_E_EXISTS, "%s holds only one of log.key and log.pub; "
                            "refusing to overwrite keys", dir);
    if (have_key) {
        wb_note_key *vk = NULL;
        rc = read_key_file(key, dir, KEY_FILE, 1);
        if (rc == 0)
            rc = read_key_file(&vk, dir, PUB_FILE, 0);
        if (rc == 0 && wb_note_key_id(*key) != wb_note_key_id(vk))
            rc = wb_error_set(WB_E_CORRUPT, "%s/" KEY_FILE " does not match %s/" PUB_FILE,
                              dir, dir);
        if (rc == 0 && strcmp(wb_note_key_name(*key), origin) != 0)
            rc = wb_error_set(WB_E_INVALID, "%s/" KEY_FILE " is the key of '%s', not of "
                              "'%s'", dir, wb_note_key_name(*key), origin);
        if (rc == 0)
            rc = wb_note_verifier_string(verifier_s, vk);
        wb_note_key_free(vk);
        return rc;
    }
    rc = make_parents(dir);
    if (rc == 0 && mkdir(dir, 0755) != 0 && errno != EEXIST)
        rc = wb_error_set(WB_E_IO, "mkdir %s: %s", dir, strerror(errno));
    if (rc == 0)
        rc = wb_note_key_generate(key, origin);
    if (rc == 0)
        rc = wb_note_signer_string(&signer_s, *key);
    if (rc == 0)
        rc = wb_note_verifier_string(verifier_s, *key);
    if (rc == 0) {
        size_t n = strlen(*verifier_s);
        (*verifier_s)[n] = '\n';
        rc = wb_file_write_new(pubpath, *verifier_s, n + 1, 0644);
        (*verifier_s)[n] = '\0';
    }
    if (rc == 0) {
        size_t n = strlen(signer_s);
        signer_s[n] = '\n';
        rc = wb_file_write_new(keypath, signer_s, n + 1, 0600);
        signer_s[n] = '\0';
        if (rc)
            unlink(pubpath);
    }
    if (rc == 0)
        *made = 1;
    if (signer_s)
        explicit_bzero(signer_s, strlen(signer_s));
    free(signer_s);
    return rc;
}

int wb_log_init_store(const char *key_dir, wb_store *store, const char *origin)
{
    wb_note_key *key = NULL;
    char *verifier_s = NULL;
    wb_store_state st;
    int rc, made = 0;

    rc = check_origin(origin);
    if (rc)
        return rc;
    rc = wb_store_get_state(store, &st);
    if (rc == 0) {
        wb_store_state_cleanup(&st);
        return wb_error_set(WB_E_EXISTS, "the store already holds a log; refusing to "
                            "overwrite");
    }
    if (rc != WB_E_NOTFOUND)
        return rc;
    rc = store_keys(&key, &verifier_s, &made, key_dir, origin);
    if (rc == 0)
        rc = init_store_state(store, key, verifier_s, origin, key_dir);
    if (rc && made) { /* leave no key of a log that does not exist */
        char path[4200], msg[WB_ERROR_MAX];
        snprintf(msg, sizeof(msg), "%s", wb_error_message());
        snprintf(path, sizeof(path), "%s/" KEY_FILE, key_dir);
        unlink(path);
        snprintf(path, sizeof(path), "%s/" PUB_FILE, key_dir);
        unlink(path);
        wb_error_set(rc, "%s", msg);
    }
    wb_note_key_free(key);
    free(verifier_s);
    return rc;
}

/*
 * A new log is built complete in a sibling directory DIR.init-XXXXXX and
 * then renamed into place, so an interrupted init leaves no half-made log
 * in DIR (only a DIR.init-* directory that may be deleted). If DIR already
 * exists and holds other files, the three files are moved in one at a time,
 * the store last: a log exists exactly when DIR/waybill.db does.
 */
int wb_log_init(const char *dir, const char *origin)
{
    static const char *files[] = {PUB_FILE, KEY_FILE, DB_FILE};
    char tmp[4200], path[4300], from[4300];
    struct stat sb;
    int rc, have_db, have_other = 0;

    rc = check_origin(origin);
    if (rc)
        return rc;
    snprintf(path, sizeof(path), "%s/" DB_FILE, dir);
    have_db = stat(path, &sb) == 0;
    for (size_t i = 0; i < 2; i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
        have_other |= stat(path, &sb) == 0;
    }
    if (have_db)
        return wb_error_set(WB_E_EXISTS, "%s already holds a log; refusing to overwrite",
                            dir);
    if (have_other)
        return wb_error_set(WB_E_EXISTS, "%s holds log.key or log.pub but no waybill.db "
                            "(an interrupted init?); refusing to overwrite keys: remove "
                            "them to start again", dir);
    if (stat(dir, &sb) == 0 && !S_ISDIR(sb.st_mode))
        return wb_error_set(WB_E_EXISTS, "%s exists and is not a directory", dir);
    rc = make_parents(dir);
    if (rc)
        return rc;
    if (snprintf(tmp, sizeof(tmp), "%s.init-XXXXXX", dir) >= (int)sizeof(tmp))
        return wb_error_set(WB_E_LIMIT, "path %s is too long", dir);
    {
        /* mkdtemp wants the template to end in XXXXXX: strip trailing '/' */
        size_t n = strlen(dir);
        while (n > 1 && dir[n - 1] == '/')
            n--;
        snprintf(tmp, sizeof(tmp), "%.*s.init-XXXXXX", (int)n, dir);
    }
    if (!mkdtemp(tmp))
        return wb_error_set(WB_E_IO, "mkdir %s: %s", tmp, strerror(errno));
    rc = build_log(tmp, origin);
    if (rc == 0) {
        if (rename(tmp, dir) == 0 || (rmdir(dir) == 0 && rename(tmp, dir) == 0)) {
            tmp[0] = '\0'; /* moved as a whole */
        } else {
            for (size_t i = 0; rc == 0 && i < 3; i++) {
                snprintf(from, sizeof(from), "%s/%s", tmp, files[i]);
                snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
                if (link(from, path) != 0) /* never replaces an existing file */
                    rc = wb_error_set(errno == EEXIST ? WB_E_EXISTS : WB_E_IO,
                                      "cannot place %s: %s", path, strerror(errno));
            }
        }
    }
    if (rc == 0) {
        char *parent = strdup(dir);
        if (parent) {
            char *slash = strrchr(parent, '/');
            if (slash && slash != parent)
                *slash = '\0';
            else if (!slash)
                strcpy(parent, ".");
            wb_fsync_dir(parent);
            wb_fsync_dir(dir);
            free(parent);
        }
    }
    if (tmp[0]) {
        char msg[WB_ERROR_MAX];
        snprintf(msg, sizeof(msg), "%s", wb_error_message());
        remove_build(tmp);
        if (rc)
            wb_error_set(rc, "%s", msg);
    }
    return rc;
}

/* the log over an open store (taken: closed on failure too), keys in dir */
static int open_with_store(wb_log **out, const char *dir, wb_store *store)
{
    char keypath[4096];
    char *origin = NULL, *verifier = NULL, *pub = NULL;
    wb_log *log;
    struct stat sb;
    int rc;

    if ((rc = join_path(keypath, sizeof(keypath), dir, KEY_FILE))) {
        wb_store_close(store);
        return rc;
    }
    log = calloc(1, sizeof(*log));
    if (!log || !(log->dir = strdup(dir))) {
        free(log);
        wb_store_close(store);
        return wb_error_set(WB_E_NOMEM, "out of memory");
    }
    log->store = store;
    rc = read_key_file(&log->verifier, dir, PUB_FILE, 0);
    if (rc == 0 && stat(keypath, &sb) == 0)
        rc = read_key_file(&log->signer, dir, KEY_FILE, 1);
    if (rc == 0)
        rc = wb_store_get_meta(log->store, "origin", &origin);
    if (rc == 0)
        rc = wb_store_get_meta(log->store, "verifier", &verifier);
    if (rc == 0)
        rc = wb_note_verifier_string(&pub, log->verifier);
    if (rc == 0 && strcmp(pub, verifier) != 0)
        rc = wb_error_set(WB_E_CORRUPT, "%s/" PUB_FILE " is not the key this log was "
                          "created with (%s)", dir, verifier);
    if (rc == 0 && log->signer &&
        wb_note_key_id(log->signer) != wb_note_key_id(log->verifier))
        rc = wb_error_set(WB_E_CORRUPT, "%s/" KEY_FILE " does not match %s/" PUB_FILE,
                          dir, dir);
    if (rc == 0 && check_origin(origin) != 0)
        rc = wb_error_set(WB_E_CORRUPT, "%s: stored origin is invalid", dir);
    if (rc == 0)
        memcpy(log->origin, origin, strlen(origin) + 1);
    free(origin);
    free(verifier);
    free(pub);
    if (rc) {
        wb_log_close(log);
        return rc;
    }
    *out = log;
    return 0;
}

int wb_log_open(wb_log **out, const char *dir, const wb_log_options *opt)
{
    char dbpath[4096];
    wb_store_options sopt = {0};
    wb_store *store;
    struct stat sb;
    int rc;

    if ((rc = join_path(dbpath, sizeof(dbpath), dir, DB_FILE)))
        return rc;
    if (stat(dbpath, &sb) != 0)
        return wb_error_set(WB_E_NOTFOUND, "%s is not a waybill log (no %s; create "
                            "one with 'waybill log init %s')", dir, DB_FILE, dir);
    sopt.sync_normal = opt ? opt->sync_normal : 0;
    sopt.manual_checkpoint = opt ? opt->manual_checkpoint : 0;
    rc = wb_store_open_sqlite(&store, dbpath, &sopt);
    if (rc)
        return rc;
    return open_with_store(out, dir, store);
}

int wb_log_open_store(wb_log **out, const char *key_dir, wb_store *store,
                      const wb_log_options *opt)
{
    (void)opt; /* its options are SQLite's, given when the store was opened */
    return open_with_store(out, key_dir, store);
}

void wb_log_close(wb_log *log)
{
    if (!log)
        return;
    wb_store_close(log->store);
    wb_note_key_free(log->signer);
    wb_note_key_free(log->verifier);
    free(log->dir);
    free(log);
}

const char *wb_log_origin(const wb_log *log)
{
    return log->origin;
}

const wb_note_key *wb_log_verifier(const wb_log *log)
{
    return log->verifier;
}

wb_store *wb_log_store(wb_log *log)
{
    return log->store;
}

/* ---- append ---- */

typedef struct {
    wb_log *log;
    tile_buf dirty[TILE_LEVELS]; /* the tile being extended, per tile level */
    int active[TILE_LEVELS];
    wb_buf bundle;               /* the entry bundle being extended */
    uint64_t bundle_index;
    int bundle_active;
} batch;

static int flush_tile(batch *b, unsigned L)
{
    wb_blob_key key = {WB_BLOB_TILE, (uint8_t)L, b->dirty[L].index};
    if (!b->active[L])
        return 0;
    b->active[L] = 0;
    return wb_store_put_blob(b->log->store, key, &b->dirty[L].hashes[0][0],
                             (size_t)b->dirty[L].width * WB_HASH_LEN);
}

static int flush_bundle(batch *b)
{
    wb_blob_key key = {WB_BLOB_BUNDLE, 0, b->bundle_index};
    int rc;
    if (!b->bundle_active)
        return 0;
    b->bundle_active = 0;
    rc = wb_buf_error(&b->bundle);
    if (rc == 0)
        rc = wb_store_put_blob(b->log->store, key, b->bundle.data, b->bundle.len);
    wb_buf_reset(&b->bundle);
    return rc;
}

/* the compact range reports each completed perfect subtree */
static int batch_visit(void *vctx, unsigned level, uint64_t index,
                       const uint8_t hash[WB_HASH_LEN])
{
    batch *b = vctx;
    unsigned L, pos;
    uint64_t N;
    tile_buf *t;
    int rc;

    if (level % WB_TILE_HEIGHT != 0)
        return 0;
    L = level / WB_TILE_HEIGHT;
    N = index / WB_TILE_WIDTH;
    pos = (unsigned)(index % WB_TILE_WIDTH);
    t = &b->dirty[L];
    if (b->active[L] && t->index != N && (rc = flush_tile(b, L)) != 0)
        return rc;
    if (!b->active[L]) {
        t->index = N;
        t->width = 0;
        if (pos > 0) {
            /* extend the stored partial tile: it must hold exactly pos hashes */
            const tile_buf *stored;
            rc = tile_get(b->log, &stored, L, N, pos);
            if (rc)
                return rc;
            if (stored->width != pos)
                return wb_error_set(WB_E_CORRUPT, "tile %u/%llu has %u hashes, "
                                    "the tree size says %u", L,
                                    (unsigned long long)N, stored->width, pos);
            memcpy(t->hashes, stored->hashes, (size_t)pos * WB_HASH_LEN);
            t->width = pos;
        }
        b->active[L] = 1;
    }
    if (t->width != pos)
        return wb_error_set(WB_E_INTERNAL, "tile %u/%llu: hash %u out of order", L,
                            (unsigned long long)N, pos);
    memcpy(t->hashes[pos], hash, WB_HASH_LEN);
    t->width = pos + 1;
    if (t->width == WB_TILE_WIDTH)
        return flush_tile(b, L);
    return 0;
}

static int bundle_add(batch *b, uint64_t index, const wb_entry *e)
{
    uint64_t N = index / WB_TILE_WIDTH;
    unsigned pos = (unsigned)(index % WB_TILE_WIDTH);
    int rc;

    if (b->bundle_active && b->bundle_index != N && (rc = flush_bundle(b)) != 0)
        return rc;
    if (!b->bundle_active) {
        b->bundle_index = N;
        wb_buf_reset(&b->bundle);
        if (pos > 0) {
            wb_blob_key key = {WB_BLOB_BUNDLE, 0, N};
            uint8_t *data;
            size_t len;
            unsigned count;
            rc = wb_store_get_blob(b->log->store, key, &data, &len);
            if (rc == WB_E_NOTFOUND)
                return wb_error_set(WB_E_CORRUPT, "entry bundle %llu is missing",
                                    (unsigned long long)N);
            if (rc)
                return rc;
            rc = wb_bundle_count(data, len, &count);
            if (rc == 0 && count != pos)
                rc = wb_error_set(WB_E_CORRUPT, "entry bundle %llu holds %u entries, "
                                  "the tree size says %u", (unsigned long long)N,
                                  count, pos);
            if (rc == 0)
                rc = wb_buf_add(&b->bundle, data, len);
            free(data);
            if (rc)
                return rc;
        }
        b->bundle_active = 1;
    }
    wb_buf_add_u16be(&b->bundle, (uint16_t)e->len);
    wb_buf_add(&b->bundle, e->data, e->len);
    rc = wb_buf_error(&b->bundle);
    if (rc == 0 && pos + 1 == WB_TILE_WIDTH)
        rc = flush_bundle(b);
    return rc;
}

static int check_entries(const wb_entry *entries, size_t n)
{
    if (n == 0)
        return wb_error_set(WB_E_INVALID, "nothing to append");
    if (n > WB_LOG_BATCH_MAX)
        return wb_error_set(WB_E_LIMIT, "batch of %zu entries is over the limit of %d",
                            n, WB_LOG_BATCH_MAX);
    for (size_t i = 0; i < n; i++) {
        if (entries[i].len == 0)
            return wb_error_set(WB_E_INVALID, "entry %zu of the batch is empty", i);
        if (entries[i].len > WB_ENTRY_MAX)
            return wb_error_set(WB_E_LIMIT, "entry %zu of the batch is %zu bytes, over "
                                "the %d-byte entry limit (tlog-tiles bundles use "
                                "16-bit lengths)", i, entries[i].len, WB_ENTRY_MAX);
    }
    return 0;
}

static int append_locked(wb_log *log, batch *b, const wb_entry *entries, size_t n,
                         uint64_t *first, wb_log_hooks *hooks)
{
    wb_store_state old = {0}, st = {0};
    wb_merkle_compact range;
    hash_ctx hctx = {log, 0};
    int rc;

    rc = wb_store_get_state(log->store, &old);
    if (rc)
        return rc;
    if (old.size > (uint64_t)INT64_MAX - n) {
        wb_store_state_cleanup(&old);
        return wb_error_set(WB_E_LIMIT, "the log is full");
    }
    hctx.size = old.size;
    rc = wb_merkle_compact_load(&range, old.size, tile_hash_fn, &hctx);
    if (rc == 0) {
        uint8_t check[WB_HASH_LEN];
        wb_merkle_compact_root(&range, check);
        if (!wb_ct_equal(check, old.root, WB_HASH_LEN))
            rc = wb_error_set(WB_E_CORRUPT, "the tiles of the log do not hash to the "
                              "stored root of size %llu",
                              (unsigned long long)old.size);
    }
    for (size_t i = 0; rc == 0 && i < n; i++) {
        uint8_t leaf[WB_HASH_LEN];
        uint64_t index = range.size;
        if (hooks && hooks->admit) {
            int verdict = hooks->admit(hooks->ctx, log->store, i, index);
            if (verdict < 0) {
                rc = verdict;
                break;
            }
            if (hooks->admitted)
                hooks->admitted[i] = verdict == 0;
            if (verdict > 0)
                continue;
        } else if (hooks && hooks->admitted) {
            hooks->admitted[i] = 1;
        }
        if (hooks)
            hooks->nadmitted++;
        wb_merkle_leaf_hash(leaf, entries[i].data, entries[i].len);
        rc = bundle_add(b, index, &entries[i]);
        if (rc == 0)
            rc = wb_merkle_compact_append(&range, leaf, batch_visit, b);
    }
    if (rc == 0 && range.size == old.size) {
        /* nothing admitted: nothing to write */
        if (first)
            *first = old.size;
        wb_store_state_cleanup(&old);
        return 1;
    }
    for (unsigned L = 0; rc == 0 && L < TILE_LEVELS; L++)
        rc = flush_tile(b, L);
    if (rc == 0)
        rc = flush_bundle(b);
    if (rc == 0) {
        st.size = range.size;
        wb_merkle_compact_root(&range, st.root);
        rc = sign_checkpoint(log, st.size, st.root, &st.checkpoint, &st.checkpoint_len);
    }
    if (rc == 0)
        rc = put_checkpoint(log, &st);
    if (rc == 0 && hooks && hooks->commit)
        rc = hooks->commit(hooks->ctx, log->store, old.size, st.size, st.root);
    if (rc == 0)
        rc = wb_store_cas_state(log->store, old.size, &st);
    if (rc == 0 && first)
        *first = old.size;
    wb_store_state_cleanup(&old);
    wb_store_state_cleanup(&st);
    return rc;
}

int wb_log_append(wb_log *log, const wb_entry *entries, size_t n, uint64_t *first)
{
    return wb_log_append_hooked(log, entries, n, first, NULL);
}

int wb_log_append_hooked(wb_log *log, const wb_entry *entries, size_t n,
                         uint64_t *first, wb_log_hooks *hooks)
{
    batch *b;
    int rc = check_entries(entries, n);
    if (rc)
        return rc;
    if (!log->signer)
        return wb_error_set(WB_E_NOTFOUND, "%s/" KEY_FILE " is missing: this log "
                            "cannot sign checkpoints", log->dir);
    b = calloc(1, sizeof(*b));
    if (!b)
        return wb_error_set(WB_E_NOMEM, "out of memory");
    b->log = log;
    wb_buf_init(&b->bundle, WB_BUNDLE_MAX);
    rc = wb_store_begin(log->store);
    if (rc == 0) {
        if (hooks)
            hooks->nadmitted = 0;
        rc = append_locked(log, b, entries, n, first, hooks);
        if (rc == 0) {
            rc = wb_store_commit(log->store);
        } else {
            wb_store_rollback(log->store);
            if (rc > 0)
                rc = 0; /* nothing admitted: a successful no-op */
        }
    }
    /* the cache may hold tiles read inside a rolled-back transaction */
    cache_clear(log);
    wb_buf_cleanup(&b->bundle);
    free(b);
    return rc;
}

/* ---- reads and proofs ---- */

int wb_log_head(wb_log *log, uint64_t *size, uint8_t root[WB_HASH_LEN],
                char **checkpoint, size_t *checkpoint_len)
{
    wb_store_state st;
    int rc = wb_store_get_state(log->store, &st);
    if (rc)
        return rc;
    if (size)
        *size = st.size;
    if (root)
        memcpy(root, st.root, WB_HASH_LEN);
    if (checkpoint) {
        *checkpoint = st.checkpoint;
        st.checkpoint = NULL;
        if (checkpoint_len)
            *checkpoint_len = st.checkpoint_len;
    }
    wb_store_state_cleanup(&st);
    return 0;
}

int wb_log_checkpoint_at(wb_log *log, uint64_t size, char **checkpoint,
                         size_t *checkpoint_len)
{
    wb_blob_key key = {WB_BLOB_CHECKPOINT, 0, size};
    uint8_t *data;
    size_t len;
    int rc;
    if (size > WB_BLOB_INDEX_MAX)
        return wb_error_set(WB_E_RANGE, "no checkpoint for size %llu",
                            (unsigned long long)size);
    rc = wb_store_get_blob(log->store, key, &data, &len);
    if (rc == WB_E_NOTFOUND)
        return wb_error_set(WB_E_NOTFOUND, "the log signed no checkpoint at tree size "
                            "%llu (checkpoints are signed where a batch ends)",
                            (unsigned long long)size);
    if (rc)
        return rc;
    *checkpoint = realloc(data, len + 1); /* room for a terminating NUL */
    if (!*checkpoint) {
        free(data);
        return wb_error_set(WB_E_NOMEM, "out of memory");
    }
    (*checkpoint)[len] = '\0';
    if (checkpoint_len)
        *checkpoint_len = len;
    return 0;
}

static int check_size(wb_log *log, uint64_t size)
{
    uint64_t cur;
    int rc = wb_log_head(log, &cur, NULL, NULL, NULL);
    if (rc)
        return rc;
    if (size > cur)
        return wb_error_set(WB_E_RANGE, "tree size %llu is past the log's size %llu",
                            (unsigned long long)size, (unsigned long long)cur);
    return 0;
}

int wb_log_inclusion_proof(wb_log *log, uint8_t (*proof)[WB_HASH_LEN], size_t *n,
                           uint64_t index, uint64_t size)
{
    hash_ctx ctx = {log, size};
    int rc = check_size(log, size);
    if (rc)
        return rc;
    if (index >= size)
        return wb_error_set(WB_E_RANGE, "index %llu is not in a tree of size %llu",
                            (unsigned long long)index, (unsigned long long)size);
    return wb_merkle_inclusion_proof(proof, n, index, size, tile_hash_fn, &ctx);
}

int wb_log_consistency_proof(wb_log *log, uint8_t (*proof)[WB_HASH_LEN], size_t *n,
                             uint64_t size1, uint64_t size2)
{
    hash_ctx ctx = {log, size2};
    int rc = check_size(log, size2);
    if (rc)
        return rc;
    if (size1 == 0 || size1 > size2)
        return wb_error_set(WB_E_RANGE, "no consistency proof from size %llu to %llu "
                            "(need 0 < old <= new)", (unsigned long long)size1,
                            (unsigned long long)size2);
    return wb_merkle_consistency_proof(proof, n, size1, size2, tile_hash_fn, &ctx);
}

int wb_log_root_at(wb_log *log, uint8_t root[WB_HASH_LEN], uint64_t size)
{
    hash_ctx ctx = {log, size};
    int rc = check_size(log, size);
    if (rc)
        return rc;
    return wb_merkle_root(root, size, tile_hash_fn, &ctx);
}

int wb_log_leaf_hash(wb_log *log, uint64_t index, uint8_t out[WB_HASH_LEN])
{
    uint64_t size;
    hash_ctx ctx = {log, 0};
    int rc = wb_log_head(log, &size, NULL, NULL, NULL);
    if (rc)
        return rc;
    if (index >= size)
        return wb_error_set(WB_E_RANGE, "index %llu is past the log's size %llu",
                            (unsigned long long)index, (unsigned long long)size);
    ctx.size = size;
    return tile_hash_fn(&ctx, out, 0, index);
}

/* the stored bundle holding index, with at least need entries */
static int bundle_get(wb_log *log, uint64_t N, unsigned need, uint8_t **data,
                      size_t *len)
{
    wb_blob_key key = {WB_BLOB_BUNDLE, 0, N};
    unsigned count;
    int rc = wb_store_get_blob(log->store, key, data, len);
    if (rc == WB_E_NOTFOUND)
        return wb_error_set(WB_E_CORRUPT, "entry bundle %llu is missing from the store",
                            (unsigned long long)N);
    if (rc)
        return rc;
    rc = wb_bundle_count(*data, *len, &count);
    if (rc == 0 && count < need)
        rc = wb_error_set(WB_E_CORRUPT, "entry bundle %llu holds %u entries, the tree "
                          "needs %u", (unsigned long long)N, count, need);
    if (rc) {
        free(*data);
        *data = NULL;
    }
    return rc;
}

int wb_log_entry(wb_log *log, uint64_t index, uint8_t **data, size_t *len)
{
    uint64_t size;
    uint8_t *bundle;
    size_t blen;
    wb_reader r, e;
    unsigned pos = (unsigned)(index % WB_TILE_WIDTH);
    int rc = wb_log_head(log, &size, NULL, NULL, NULL);
    if (rc)
        return rc;
    if (index >= size)
        return wb_error_set(WB_E_RANGE, "index %llu is past the log's size %llu",
                            (unsigned long long)index, (unsigned long long)size);
    rc = bundle_get(log, index / WB_TILE_WIDTH, pos + 1, &bundle, &blen);
    if (rc)
        return rc;
    wb_reader_init(&r, bundle, blen);
    for (unsigned i = 0; i <= pos; i++)
        wb_reader_get_u16_prefixed(&r, &e); /* counted above: cannot fail */
    *data = malloc(wb_reader_left(&e) + 1);
    if (!*data) {
        free(bundle);
        return wb_error_set(WB_E_NOMEM, "out of memory");
    }
    *len = wb_reader_left(&e);
    memcpy(*data, e.ptr, *len);
    (*data)[*len] = 0;
    free(bundle);
    return 0;
}

int wb_log_read_tile(wb_log *log, unsigned level, uint64_t index, unsigned width,
                     uint8_t **data, size_t *len)
{
    uint64_t size;
    const tile_buf *t;
    int rc;

    if (level > 63 || width < 1 || width > WB_TILE_WIDTH)
        return wb_error_set(WB_E_INVALID, "no tile %u/%llu of width %u", level,
                            (unsigned long long)index, width);
    rc = wb_log_head(log, &size, NULL, NULL, NULL);
    if (rc)
        return rc;
    if (level >= TILE_LEVELS || width > wb_tile_width(level, index, size))
        return wb_error_set(WB_E_NOTFOUND, "tile %u/%llu of width %u is past the tree "
                            "of size %llu", level, (unsigned long long)index, width,
                            (unsigned long long)size);
    rc = tile_get(log, &t, level, index, width);
    if (rc)
        return rc;
    *len = (size_t)width * WB_HASH_LEN;
    *data = malloc(*len);
    if (!*data)
        return wb_error_set(WB_E_NOMEM, "out of memory");
    memcpy(*data, t->hashes, *len);
    return 0;
}

int wb_log_read_bundle(wb_log *log, uint64_t index, unsigned width, uint8_t **data,
                       size_t *len)
{
    uint64_t size;
    wb_reader r, e;
    int rc;

    if (width < 1 || width > WB_TILE_WIDTH)
        return wb_error_set(WB_E_INVALID, "no entry bundle of width %u", width);
    rc = wb_log_head(log, &size, NULL, NULL, NULL);
    if (rc)
        return rc;
    if (width > wb_bundle_width(index, size))
        return wb_error_set(WB_E_NOTFOUND, "entry bundle %llu of width %u is past the "
                            "tree of size %llu", (unsigned long long)index, width,
                            (unsigned long long)size);
    rc = bundle_get(log, index, width, data, len);
    if (rc)
        return rc;
    wb_reader_init(&r, *data, *len);
    for (unsigned i = 0; i < width; i++)
        wb_reader_get_u16_prefixed(&r, &e);
    *len -= wb_reader_left(&r); /* keep the first width entries */
    return 0;
}
