/*
 * mirror.c: `waybill mirror URL DIR`: copy a log's C2SP tlog-tiles into a
 * directory that any static web server can serve (docs/deploy.md, "Read
 * scale"). Every hash tile and entry bundle of the latest checkpoint is
 * fetched, checked (the entries hash to the level-0 tiles, every tile hash
 * to the subtree above it, the whole to the checkpoint's root, signed by the
 * log key) and written under its tlog-tiles path; the checkpoint is written
 * last, so a mirror never serves a checkpoint whose tiles it lacks. Run it
 * again to catch up: full tiles already there are kept, they never change.
 */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "waybill/audit.h"
#include "waybill/error.h"
#include "waybill/log.h"
#include "waybill/merkle.h"
#include "waybill/util.h"

static int run(int argc, char **argv);

const wb_cli_cmd wb_cmd_mirror = {
    .group = NULL,
    .name = "mirror",
    .summary = "copy a log's tiles into a directory for a static web server",
    .usage =
        "usage: waybill mirror URL DIR --log-key VKEY [--json]\n"
        "\n"
        "Fetches the latest checkpoint of the log at URL and every hash tile and\n"
        "entry bundle of its tree (C2SP tlog-tiles), checks that they hash to the\n"
        "checkpoint's root and that the checkpoint verifies with --log-key (the key\n"
        "or a file holding it), and writes them under DIR as DIR/checkpoint,\n"
        "DIR/tile/<L>/<N>[.p/<W>] and DIR/tile/entries/<N>[.p/<W>]. Serve DIR with\n"
        "any web server: verifiers, auditors and witnesses read it like the log\n"
        "itself. Full tiles already in DIR are not fetched again; the checkpoint is\n"
        "written last. Nothing is written if the tree does not verify.\n"
        "\n"
        "exit codes: 0 mirrored, 1 the tree or checkpoint does not verify, 2 usage,\n"
        "            4 the log cannot be reached, 5 DIR cannot be written\n",
    .run = run,
};

typedef struct {
    wb_audit_source src;
    const char *dir;
    uint64_t size;
    uint64_t fetched, kept;
    /* the tiles of the tree, kept to write after the check */
    char **paths;
    uint8_t **data;
    size_t *lens;
    size_t n, cap;
} mirror;

static int mkdirs_for(const char *path)
{
    char buf[2048];
    size_t n = strlen(path);
    if (n >= sizeof(buf))
        return wb_error_set(WB_E_INVALID, "path too long: %s", path);
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i < n; i++)
        if (buf[i] == '/') {
            buf[i] = '\0';
            if (mkdir(buf, 0755) != 0 && errno != EEXIST)
                return wb_error_set(WB_E_IO, "cannot create %s", buf);
            buf[i] = '/';
        }
    return 0;
}

/* writes path atomically (temp file, fsync, rename) */
static int write_file(const char *path, const uint8_t *data, size_t len)
{
    char tmp[2100];
    FILE *f;
    int rc = mkdirs_for(path);
    if (rc)
        return rc;
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    f = fopen(tmp, "wb");
    if (!f)
        return wb_error_set(WB_E_IO, "cannot write %s", tmp);
    if ((len && fwrite(data, 1, len, f) != len) || fflush(f) != 0 || fsync(fileno(f)) != 0) {
        fclose(f);
        unlink(tmp);
        return wb_error_set(WB_E_IO, "cannot write %s", tmp);
    }
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        unlink(tmp);
        return wb_error_set(WB_E_IO, "cannot write %s", path);
    }
    return 0;
}

static int keep(mirror *m, const char *rel, uint8_t *data, size_t len)
{
    if (m->n == m->cap) {
        size_t cap = m->cap ? 2 * m->cap : 256;
        char **p = realloc(m->paths, cap * sizeof(*p));
        uint8_t **d = p ? realloc(m->data, cap * sizeof(*d)) : NULL;
        size_t *l = d ? realloc(m->lens, cap * sizeof(*l)) : NULL;
        if (p)
            m->paths = p;
        if (d)
            m->data = d;
        if (!l) {
            free(data);
            return wb_error_set(WB_E_NOMEM, "out of memory");
        }
        m->lens = l;
        m->cap = cap;
    }
    m->paths[m->n] = strdup(rel);
    if (!m->paths[m->n]) {
        free(data);
        return wb_error_set(WB_E_NOMEM, "out of memory");
    }
    m->data[m->n] = data;
    m->lens[m->n++] = len;
    return 0;
}

/* a tile from DIR if it is full and there, else from the log */
static int fetch(mirror *m, int entries, unsigned level, uint64_t index, unsigned width,
                 uint8_t **data, size_t *len)
{
    wb_tile_ref ref = {entries, level, index, width};
    char rel[WB_TILE_PATH_MAX], path[1800];
    int rc = wb_tile_path(rel, sizeof(rel), &ref);
    if (rc)
        return rc;
    /* fetched already in this run (the newest first: that is where repeats are) */
    for (size_t i = m->n; i-- > 0;)
        if (strcmp(m->paths[i], rel) == 0) {
            *data = malloc(m->lens[i] ? m->lens[i] : 1);
            if (!*data)
                return wb_error_set(WB_E_NOMEM, "out of memory");
            memcpy(*data, m->data[i], m->lens[i]);
            *len = m->lens[i];
            return 0;
        }
    snprintf(path, sizeof(path), "%s/%s", m->dir, rel);
    if (width == WB_TILE_WIDTH && wb_file_read(path, WB_BUNDLE_MAX, data, len) == 0) {
        m->kept++;
        return 0;
    }
    rc = entries ? m->src.bundle(m->src.ctx, index, width, data, len)
                 : m->src.tile(m->src.ctx, level, index, width, data, len);
    if (rc)
        return wb_error_prefix(rc, "%s", rel);
    m->fetched++;
    {
        uint8_t *copy = malloc(*len ? *len : 1);
        if (!copy)
            return wb_error_set(WB_E_NOMEM, "out of memory");
        memcpy(copy, *data, *len);
        return keep(m, rel, copy, *len);
    }
}

/* the hash of the perfect subtree (level, index) from the tiles */
typedef struct {
    mirror *m;
    int rc;
} hash_ctx;

static int tile_hash(void *vctx, uint8_t out[WB_HASH_LEN], unsigned level, uint64_t index)
{
    hash_ctx *c = vctx;
    mirror *m = c->m;
    /* always from the tile below: so the tiles above are checked, not trusted */
    unsigned tl = level == 0 ? 0 : (level - 1) / WB_TILE_HEIGHT;
    unsigned sub = level - tl * WB_TILE_HEIGHT;
    uint64_t first = index << sub; /* first hash at tile level tl */
    uint64_t t = first / WB_TILE_WIDTH;
    unsigned width = wb_tile_width(tl, t, m->size);
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = fetch(m, 0, tl, t, width, &data, &len);
    if (rc == 0 && len != (size_t)width * WB_HASH_LEN)
        rc = wb_error_set(WB_E_VERIFY, "tile %u/%llu has %zu bytes, not %u hashes", tl,
                          (unsigned long long)t, len, width);
    if (rc == 0) {
        /* the subtree over hashes [first, first + 2^sub) of this tile */
        uint64_t pos = first % WB_TILE_WIDTH, count = UINT64_C(1) << sub;
        uint8_t level_hashes[WB_TILE_WIDTH][WB_HASH_LEN];
        if (pos + count > width) {
            rc = wb_error_set(WB_E_VERIFY, "tile %u/%llu is too short", tl,
                              (unsigned long long)t);
        } else {
            memcpy(level_hashes, data + pos * WB_HASH_LEN, count * WB_HASH_LEN);
            for (uint64_t w = count; w > 1; w /= 2)
                for (uint64_t i = 0; i < w / 2; i++)
                    wb_merkle_node_hash(level_hashes[i], level_hashes[2 * i],
                                        level_hashes[2 * i + 1]);
            memcpy(out, level_hashes[0], WB_HASH_LEN);
        }
    }
    free(data);
    if (rc)
        c->rc = rc;
    return rc;
}

static int run(int argc, char **argv)
{
    const char *log_key_s = NULL;
    cli_opt opts[] = {{"--log-key", &log_key_s}};
    char *pos[2];
    cli_args a;
    mirror m;
    wb_note_key *key = NULL;
    wb_checkpoint cp;
    char *note = NULL;
    size_t note_len = 0;
    uint8_t root[WB_HASH_LEN];
    hash_ctx hc;
    int rc;

    memset(&m, 0, sizeof(m));
    memset(&cp, 0, sizeof(cp));
    rc = cli_parse(&wb_cmd_mirror, argc, argv, opts, 1, &a, pos, 2);
    if (rc)
        return rc < 0 ? 0 : rc;
    if (a.npos != 2)
        return cli_usage_error(&wb_cmd_mirror, "expected the log's URL and a directory");
    if (!log_key_s)
        return cli_usage_error(&wb_cmd_mirror, "--log-key is required: a mirror must not "
                                               "copy what it cannot check");
    m.dir = a.pos[1];
    rc = wb_note_verifier_load(&key, log_key_s);
    if (rc)
        rc = wb_error_prefix(rc, "--log-key");
    if (rc == 0)
        rc = wb_audit_source_http(&m.src, a.pos[0]);
    if (rc == 0)
        rc = m.src.checkpoint(m.src.ctx, &note, &note_len);
    if (rc == 0) {
        rc = wb_checkpoint_open(&cp, note, note_len, key);
        if (rc)
            rc = wb_error_prefix(WB_E_VERIFY, "the checkpoint");
    }
    m.size = cp.size;
    hc.m = &m;
    hc.rc = 0;
    /* the root from the hash tiles: every tile on the right edge is read */
    if (rc == 0)
        rc = wb_merkle_root(root, m.size, tile_hash, &hc);
    if (rc == 0 && memcmp(root, cp.root, WB_HASH_LEN) != 0)
        rc = wb_error_set(WB_E_VERIFY, "the tiles do not hash to the checkpoint's root");
    /* every tile and bundle, each level-0 tile checked against its entries */
    for (uint64_t b = 0; rc == 0 && b * WB_TILE_WIDTH < m.size; b++) {
        unsigned width = wb_bundle_width(b, m.size);
        uint8_t *bundle = NULL, *tile = NULL;
        size_t bl = 0, tl = 0;
        wb_reader r;
        rc = fetch(&m, 1, 0, b, width, &bundle, &bl);
        if (rc == 0)
            rc = fetch(&m, 0, 0, b, width, &tile, &tl);
        if (rc == 0 && tl != (size_t)width * WB_HASH_LEN)
            rc = wb_error_set(WB_E_VERIFY, "tile 0/%llu has %zu bytes", (unsigned long long)b,
                              tl);
        wb_reader_init(&r, bundle, bl);
        for (unsigned i = 0; rc == 0 && i < width; i++) {
            wb_reader e;
            uint8_t leaf[WB_HASH_LEN];
            if (!wb_reader_get_u16_prefixed(&r, &e)) {
                rc = wb_error_set(WB_E_VERIFY, "entry bundle %llu is cut short at entry %u",
                                  (unsigned long long)b, i);
                break;
            }
            wb_merkle_leaf_hash(leaf, e.ptr, wb_reader_left(&e));
            if (memcmp(leaf, tile + (size_t)i * WB_HASH_LEN, WB_HASH_LEN) != 0)
                rc = wb_error_set(WB_E_VERIFY, "entry %llu does not hash to its tile hash",
                                  (unsigned long long)(b * WB_TILE_WIDTH + i));
        }
        if (rc == 0 && wb_reader_left(&r) != 0)
            rc = wb_error_set(WB_E_VERIFY, "entry bundle %llu has bytes after its entries",
                              (unsigned long long)b);
        free(bundle);
        free(tile);
    }
    /* the level >= 1 tiles: each hash is the subtree of the level below */
    for (unsigned L = 1; rc == 0 && L < 8; L++)
        for (uint64_t t = 0; rc == 0 && wb_tile_width(L, t, m.size) > 0; t++) {
            unsigned width = wb_tile_width(L, t, m.size);
            uint8_t *tile = NULL;
            size_t len = 0;
            rc = fetch(&m, 0, L, t, width, &tile, &len);
            for (unsigned i = 0; rc == 0 && i < width; i++) {
                uint8_t h[WB_HASH_LEN];
                rc = tile_hash(&hc, h, L * WB_TILE_HEIGHT, t * WB_TILE_WIDTH + i);
                if (rc == 0 && (len != (size_t)width * WB_HASH_LEN ||
                                memcmp(h, tile + (size_t)i * WB_HASH_LEN, WB_HASH_LEN) != 0))
                    rc = wb_error_set(WB_E_VERIFY, "tile %u/%llu hash %u does not match the "
                                      "tile below it", L, (unsigned long long)t, i);
            }
            free(tile);
        }
    /* all checked: the tiles, then the checkpoint */
    for (size_t i = 0; rc == 0 && i < m.n; i++) {
        char path[2048];
        snprintf(path, sizeof(path), "%s/%s", m.dir, m.paths[i]);
        rc = write_file(path, m.data[i], m.lens[i]);
    }
    if (rc == 0) {
        char path[2048];
        snprintf(path, sizeof(path), "%s/checkpoint", m.dir);
        rc = write_file(path, (const uint8_t *)note, note_len);
    }
    if (rc == 0) {
        if (a.json) {
            json_t *o = json_object();
            json_object_set_new(o, "size", json_integer((json_int_t)m.size));
            json_object_set_new(o, "fetched", json_integer((json_int_t)m.fetched));
            json_object_set_new(o, "kept", json_integer((json_int_t)m.kept));
            cli_print_json(o);
        } else {
            printf("mirrored %s into %s: tree of %llu entries, %llu tiles fetched, %llu "
                   "already there\n", m.src.what, m.dir, (unsigned long long)m.size,
                   (unsigned long long)m.fetched, (unsigned long long)m.kept);
        }
    }
    for (size_t i = 0; i < m.n; i++) {
        free(m.paths[i]);
        free(m.data[i]);
    }
    free(m.paths);
    free(m.data);
    free(m.lens);
    free(note);
    wb_checkpoint_cleanup(&cp);
    wb_note_key_free(key);
    wb_audit_source_cleanup(&m.src);
    return rc ? cli_fail("mirror", rc) : WB_EXIT_OK;
}
