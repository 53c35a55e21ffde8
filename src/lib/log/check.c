/*
 * check.c: full self-check of a stored log (wb_log_check in waybill/log.h).
 *
 * Trusts nothing stored but the entry bundles: recomputes every leaf hash
 * from them, rebuilds the tree with a compact range, and requires every
 * stored tile (each level, full and partial) to equal what the rebuild
 * produced, the state root to equal the rebuilt root, and the latest
 * checkpoint to verify under the log's key for exactly that size and root.
 * The crash tests run it after every SIGKILL; the audit builds on it.
 *
 * It may run while another process appends: tiles and bundles only grow, so
 * everything is checked up to the tree size read at the start, and a tile
 * or bundle that has grown past it is compared on its prefix.
 */
#include "waybill/log.h"
#include "waybill/error.h"
#include "waybill/util.h"

#include <stdlib.h>
#include <string.h>

#define LEVELS 8

typedef struct {
    wb_log *log;
    uint8_t (*tiles)[WB_TILE_WIDTH][WB_HASH_LEN]; /* one growing tile per level */
    unsigned width[LEVELS];
    uint64_t index[LEVELS];
} check_ctx;

static int compare_tile(check_ctx *c, unsigned L)
{
    wb_blob_key key = {WB_BLOB_TILE, (uint8_t)L, c->index[L]};
    uint8_t *data;
    size_t len;
    int rc = wb_store_get_blob(wb_log_store(c->log), key, &data, &len);
    if (rc == WB_E_NOTFOUND)
        return wb_error_set(WB_E_CORRUPT, "tile %u/%llu is missing", L,
                            (unsigned long long)c->index[L]);
    if (rc)
        return rc;
    if (len % WB_HASH_LEN != 0 || len < (size_t)c->width[L] * WB_HASH_LEN) {
        rc = wb_error_set(WB_E_CORRUPT, "tile %u/%llu has %zu bytes, the entries give "
                          "%u hashes", L, (unsigned long long)c->index[L], len,
                          c->width[L]);
    } else {
        for (unsigned i = 0; i < c->width[L]; i++) {
            if (memcmp(data + (size_t)i * WB_HASH_LEN, c->tiles[L][i], WB_HASH_LEN) != 0) {
                rc = wb_error_set(WB_E_CORRUPT, "tile %u/%llu hash %u differs from the "
                                  "hash recomputed from the entries (subtree starting "
                                  "at entry %llu)", L, (unsigned long long)c->index[L], i,
                                  (unsigned long long)((c->index[L] * WB_TILE_WIDTH + i)
                                                       << (8 * L)));
                break;
            }
        }
    }
    free(data);
    return rc;
}

static int visit(void *vctx, unsigned level, uint64_t index,
                 const uint8_t hash[WB_HASH_LEN])
{
    check_ctx *c = vctx;
    unsigned L = level / WB_TILE_HEIGHT;
    if (level % WB_TILE_HEIGHT != 0 || L >= LEVELS)
        return 0;
    memcpy(c->tiles[L][index % WB_TILE_WIDTH], hash, WB_HASH_LEN);
    c->index[L] = index / WB_TILE_WIDTH;
    c->width[L] = (unsigned)(index % WB_TILE_WIDTH) + 1;
    if (c->width[L] == WB_TILE_WIDTH) {
        int rc = compare_tile(c, L);
        c->width[L] = 0;
        return rc;
    }
    return 0;
}

int wb_log_check(wb_log *log, uint64_t *checked)
{
    check_ctx c;
    wb_merkle_compact range;
    uint64_t size;
    uint8_t root[WB_HASH_LEN], rebuilt[WB_HASH_LEN];
    char *note = NULL;
    size_t note_len;
    wb_checkpoint cp;
    int rc;

    memset(&c, 0, sizeof(c));
    c.log = log;
    c.tiles = malloc(sizeof(*c.tiles) * LEVELS);
    if (!c.tiles)
        return wb_error_set(WB_E_NOMEM, "out of memory");
    wb_merkle_compact_init(&range);
    rc = wb_log_head(log, &size, root, &note, &note_len);
    for (uint64_t N = 0; rc == 0 && N * WB_TILE_WIDTH < size; N++) {
        wb_blob_key key = {WB_BLOB_BUNDLE, 0, N};
        unsigned want = wb_bundle_width(N, size), count;
        uint8_t *data;
        size_t len;
        wb_reader r, e;

        rc = wb_store_get_blob(wb_log_store(log), key, &data, &len);
        if (rc == WB_E_NOTFOUND)
            rc = wb_error_set(WB_E_CORRUPT, "entry bundle %llu is missing",
                              (unsigned long long)N);
        if (rc)
            break;
        rc = wb_bundle_count(data, len, &count);
        if (rc)
            rc = wb_error_prefix(WB_E_CORRUPT, "entry bundle %llu",
                                 (unsigned long long)N);
        else if (count < want)
            rc = wb_error_set(WB_E_CORRUPT, "entry bundle %llu holds %u entries, the "
                              "tree of size %llu needs %u", (unsigned long long)N, count,
                              (unsigned long long)size, want);
        wb_reader_init(&r, data, len);
        for (unsigned i = 0; rc == 0 && i < want; i++) {
            uint8_t leaf[WB_HASH_LEN];
            wb_reader_get_u16_prefixed(&r, &e);
            wb_merkle_leaf_hash(leaf, e.ptr, wb_reader_left(&e));
            rc = wb_merkle_compact_append(&range, leaf, visit, &c);
        }
        free(data);
        if (checked && rc == 0)
            *checked = range.size;
    }
    /* the partial tiles on the right edge */
    for (unsigned L = 0; rc == 0 && L < LEVELS; L++)
        if (c.width[L] > 0)
            rc = compare_tile(&c, L);
    if (rc == 0) {
        wb_merkle_compact_root(&range, rebuilt);
        if (memcmp(rebuilt, root, WB_HASH_LEN) != 0)
            rc = wb_error_set(WB_E_CORRUPT, "the entries hash to a root that differs "
                              "from the stored root of size %llu",
                              (unsigned long long)size);
    }
    if (rc == 0) {
        rc = wb_checkpoint_open(&cp, note, note_len, wb_log_verifier(log));
        if (rc)
            rc = wb_error_prefix(WB_E_CORRUPT, "latest checkpoint");
        else {
            if (cp.size != size || memcmp(cp.root, root, WB_HASH_LEN) != 0)
                rc = wb_error_set(WB_E_CORRUPT, "latest checkpoint names size %llu, "
                                  "the stored tree has size %llu or another root",
                                  (unsigned long long)cp.size, (unsigned long long)size);
            wb_checkpoint_cleanup(&cp);
        }
    }
    free(note);
    free(c.tiles);
    return rc;
}
