/*
 * audit_source.c: where an audit reads the log from (waybill/audit.h).
 *
 * Over HTTP it is exactly what any outsider sees: the C2SP tlog-tiles read
 * API (/checkpoint, /tile/<L>/<N>[.p/<W>], /tile/entries/<N>[.p/<W>]), the
 * consistency proofs and the fleet state a waybill server reports at
 * /audit/fleet. On a store it is a copy of a server's data directory, read
 * through the same log functions the server uses to answer those requests:
 * nothing is recomputed or checked here, that is the auditor's job.
 */
#include "waybill/audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "waybill/client.h"
#include "waybill/error.h"
#include "waybill/fleet.h"
#include "waybill/log.h"
#include "waybill/util.h"

#define HTTP_TIMEOUT_S 60

/* ---- HTTP ---- */

typedef struct {
    char base[1024];
} http_src;

static int http_get(http_src *h, const char *path, const char *accept, uint8_t **data,
                    size_t *len)
{
    char url[1400];
    wb_http_response r;
    int rc = wb_http_join(url, sizeof(url), h->base, path);
    if (rc)
        return rc;
    rc = wb_http_request(&r, "GET", url, NULL, 0, NULL, accept, HTTP_TIMEOUT_S);
    if (rc)
        return rc;
    if (r.status != 200) {
        char title[256], detail[512];
        wb_http_problem(&r, title, sizeof(title), detail, sizeof(detail));
        rc = wb_error_set(r.status == 404 ? WB_E_NOTFOUND : WB_E_IO,
                          "GET %s: HTTP %ld%s%s", path, r.status, detail[0] ? ": " : "",
                          detail);
        wb_http_response_cleanup(&r);
        return rc;
    }
    *data = r.body; /* NUL-terminated, owned by the caller now */
    *len = r.len;
    r.body = NULL;
    wb_http_response_cleanup(&r);
    return 0;
}

static int http_checkpoint(void *ctx, char **note, size_t *len)
{
    return http_get(ctx, "/checkpoint", "text/plain", (uint8_t **)note, len);
}

static int http_tile_common(void *ctx, int entries, unsigned level, uint64_t index,
                            unsigned width, uint8_t **data, size_t *len)
{
    char path[WB_TILE_PATH_MAX + 2];
    wb_tile_ref ref = {entries, level, index, width};
    int rc;
    path[0] = '/';
    rc = wb_tile_path(path + 1, sizeof(path) - 1, &ref);
    return rc ? rc : http_get(ctx, path, "application/octet-stream", data, len);
}

static int http_tile(void *ctx, unsigned level, uint64_t index, unsigned width,
                     uint8_t **data, size_t *len)
{
    return http_tile_common(ctx, 0, level, index, width, data, len);
}

static int http_bundle(void *ctx, uint64_t index, unsigned width, uint8_t **data,
                       size_t *len)
{
    return http_tile_common(ctx, 1, 0, index, width, data, len);
}

static int http_consistency(void *ctx, uint64_t old_size, uint64_t new_size,
                            uint8_t (*proof)[WB_HASH_LEN], size_t *n)
{
    char path[128];
    uint8_t *text = NULL;
    size_t len = 0;
    wb_proof_text p;
    int rc;
    snprintf(path, sizeof(path), "/proofs/consistency?old=%llu&new=%llu",
             (unsigned long long)old_size, (unsigned long long)new_size);
    rc = http_get(ctx, path, "text/plain", &text, &len);
    if (rc)
        return rc;
    rc = wb_proof_text_parse(&p, (const char *)text, len);
    if (rc == 0) {
        if (!p.consistency || p.old_size != old_size)
            rc = wb_error_set(WB_E_INVALID, "the consistency proof served is for another "
                              "size");
        else {
            memcpy(proof, p.hashes, p.nhashes * WB_HASH_LEN);
            *n = p.nhashes;
        }
        wb_proof_text_cleanup(&p);
    }
    free(text);
    return rc;
}

/*
 * /audit/fleet: "waybill.dev/fleet-dump@v1\nsize <N>\n\n" then the dump.
 * The header is parsed strictly; the dump is compared byte for byte.
 */
static int http_fleet(void *ctx, uint64_t *size, char **dump, size_t *len)
{
    uint8_t *body;
    size_t blen;
    const char *p, *nl;
    int rc = http_get(ctx, "/audit/fleet", "text/plain", &body, &blen);
    size_t hl = strlen(WB_FLEET_DUMP_FORMAT);
    if (rc)
        return rc;
    p = (const char *)body;
    if (blen < hl + 8 || memcmp(p, WB_FLEET_DUMP_FORMAT "\nsize ", hl + 6) != 0)
        goto bad;
    p += hl + 6;
    nl = memchr(p, '\n', blen - (size_t)(p - (const char *)body));
    if (!nl || wb_parse_u64(size, p, (size_t)(nl - p)) != 0)
        goto bad;
    p = nl + 1;
    if ((size_t)(p - (const char *)body) >= blen || *p != '\n')
        goto bad;
    p++;
    *len = blen - (size_t)(p - (const char *)body);
    *dump = malloc(*len + 1);
    if (!*dump) {
        free(body);
        return wb_error_set(WB_E_NOMEM, "out of memory");
    }
    memcpy(*dump, p, *len);
    (*dump)[*len] = '\0';
    free(body);
    return 0;
bad:
    free(body);
    return wb_error_set(WB_E_INVALID, "/audit/fleet: not a %s document", WB_FLEET_DUMP_FORMAT);
}

int wb_audit_source_http(wb_audit_source *src, const char *base_url)
{
    http_src *h = calloc(1, sizeof(*h));
    size_t n = strlen(base_url);
    memset(src, 0, sizeof(*src));
    if (!h)
        return wb_error_set(WB_E_NOMEM, "out of memory");
    if (n == 0 || n >= sizeof(h->base)) {
        free(h);
        return wb_error_set(WB_E_INVALID, "log URL is empty or over %zu bytes",
                            sizeof(h->base) - 1);
    }
    while (n > 1 && base_url[n - 1] == '/')
        n--;
    memcpy(h->base, base_url, n);
    src->checkpoint = http_checkpoint;
    src->tile = http_tile;
    src->bundle = http_bundle;
    src->consistency = http_consistency;
    src->fleet = http_fleet;
    src->free = free;
    src->ctx = h;
    snprintf(src->what, sizeof(src->what), "%.500s", h->base);
    return 0;
}

/* ---- store ---- */

static int store_checkpoint(void *ctx, char **note, size_t *len)
{
    int rc = wb_log_head(ctx, NULL, NULL, note, len);
    if (rc == 0 && !*note)
        rc = wb_error_set(WB_E_NOTFOUND, "the log has no signed checkpoint");
    return rc;
}

static int store_tile(void *ctx, unsigned level, uint64_t index, unsigned width,
                      uint8_t **data, size_t *len)
{
    return wb_log_read_tile(ctx, level, index, width, data, len);
}

/*
 * The bundle as stored, cut to width entries as the server would serve it,
 * but without the log's own check of its entry count: a bundle an insider
 * shortened must reach the auditor as it is, so that it can say which entry
 * is wrong.
 */
static int store_bundle(void *ctx, uint64_t index, unsigned width, uint8_t **data,
                        size_t *len)
{
    wb_blob_key key = {WB_BLOB_BUNDLE, 0, index};
    wb_reader r;
    unsigned n = 0;
    int rc = wb_store_get_blob(wb_log_store(ctx), key, data, len);
    if (rc)
        return rc;
    wb_reader_init(&r, *data, *len);
    while (n < width) {
        wb_reader e;
        if (!wb_reader_get_u16_prefixed(&r, &e))
            return 0; /* short or malformed: the auditor reports where */
        n++;
    }
    *len -= wb_reader_left(&r); /* entries past width belong to a larger tree */
    return 0;
}

static int store_consistency(void *ctx, uint64_t old_size, uint64_t new_size,
                             uint8_t (*proof)[WB_HASH_LEN], size_t *n)
{
    return wb_log_consistency_proof(ctx, proof, n, old_size, new_size);
}

static int has_fleet(void *vctx, const wb_sql_value *cols, size_t n)
{
    (void)cols;
    (void)n;
    *(int *)vctx = 1;
    return 0;
}

static int store_fleet(void *ctx, uint64_t *size, char **dump, size_t *len)
{
    wb_store *s = wb_log_store(ctx);
    int found = 0;
    int rc = wb_store_sql(s, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND "
                             "name = 'fleet_entries'", NULL, 0, has_fleet, &found);
    if (rc)
        return rc;
    if (!found)
        return wb_error_set(WB_E_NOTFOUND, "the store keeps no fleet state");
    rc = wb_log_head(ctx, size, NULL, NULL, NULL);
    return rc ? rc : wb_fleet_dump(s, dump, len);
}

static void store_free(void *ctx)
{
    wb_log_close(ctx);
}

int wb_audit_source_store(wb_audit_source *src, const char *dir)
{
    wb_log *log;
    int rc;
    memset(src, 0, sizeof(*src));
    rc = wb_log_open(&log, dir, NULL);
    if (rc)
        return rc;
    src->checkpoint = store_checkpoint;
    src->tile = store_tile;
    src->bundle = store_bundle;
    src->consistency = store_consistency;
    src->fleet = store_fleet;
    src->free = store_free;
    src->ctx = log;
    snprintf(src->what, sizeof(src->what), "store %.490s", dir);
    return 0;
}

/* ---- a directory of static tiles (waybill mirror) ---- */

typedef struct {
    char dir[1024];
} dir_src;

static int dir_read(dir_src *d, const char *rel, uint8_t **data, size_t *len)
{
    char path[1200];
    int rc;
    snprintf(path, sizeof(path), "%s/%s", d->dir, rel);
    rc = wb_file_read(path, WB_BUNDLE_MAX, data, len);
    return rc == WB_E_NOTFOUND ? wb_error_set(WB_E_NOTFOUND, "%s is missing", path) : rc;
}

static int dir_checkpoint(void *ctx, char **note, size_t *len)
{
    return dir_read(ctx, "checkpoint", (uint8_t **)note, len);
}

static int dir_tile_common(void *ctx, int entries, unsigned level, uint64_t index,
                           unsigned width, uint8_t **data, size_t *len)
{
    char rel[WB_TILE_PATH_MAX];
    wb_tile_ref ref = {entries, level, index, width};
    int rc = wb_tile_path(rel, sizeof(rel), &ref);
    return rc ? rc : dir_read(ctx, rel, data, len);
}

static int dir_tile(void *ctx, unsigned level, uint64_t index, unsigned width,
                    uint8_t **data, size_t *len)
{
    return dir_tile_common(ctx, 0, level, index, width, data, len);
}

static int dir_bundle(void *ctx, uint64_t index, unsigned width, uint8_t **data, size_t *len)
{
    return dir_tile_common(ctx, 1, 0, index, width, data, len);
}

static int dir_consistency(void *ctx, uint64_t old_size, uint64_t new_size,
                           uint8_t (*proof)[WB_HASH_LEN], size_t *n)
{
    (void)ctx;
    (void)proof;
    (void)n;
    return wb_error_set(WB_E_NOTFOUND, "a directory of tiles serves no consistency proof "
                        "(%llu to %llu)", (unsigned long long)old_size,
                        (unsigned long long)new_size);
}

static int dir_fleet(void *ctx, uint64_t *size, char **dump, size_t *len)
{
    (void)ctx;
    (void)size;
    (void)dump;
    (void)len;
    return WB_E_NOTFOUND;
}

int wb_audit_source_dir(wb_audit_source *src, const char *dir)
{
    dir_src *d = calloc(1, sizeof(*d));
    memset(src, 0, sizeof(*src));
    if (!d)
        return wb_error_set(WB_E_NOMEM, "out of memory");
    if (strlen(dir) >= sizeof(d->dir)) {
        free(d);
        return wb_error_set(WB_E_INVALID, "directory name too long");
    }
    snprintf(d->dir, sizeof(d->dir), "%s", dir);
    src->checkpoint = dir_checkpoint;
    src->tile = dir_tile;
    src->bundle = dir_bundle;
    src->consistency = dir_consistency;
    src->fleet = dir_fleet;
    src->free = free;
    src->ctx = d;
    snprintf(src->what, sizeof(src->what), "tiles %.490s", dir);
    return 0;
}

void wb_audit_source_cleanup(wb_audit_source *src)
{
    if (src && src->free && src->ctx)
        src->free(src->ctx);
    if (src)
        src->ctx = NULL;
}
