/*
 * store.c: backend-independent pieces of the storage interface
 * (waybill/store.h): argument checks and dispatch through the ops table.
 */
#include "waybill/store.h"
#include "waybill/error.h"

#include <stdlib.h>
#include <string.h>

void wb_store_state_cleanup(wb_store_state *st)
{
    if (!st)
        return;
    free(st->checkpoint);
    st->checkpoint = NULL;
    st->checkpoint_len = 0;
}

static int check_key(wb_blob_key key)
{
    if (key.kind < WB_BLOB_TILE || key.kind > WB_BLOB_RECEIPT_SIG)
        return wb_error_set(WB_E_INVALID, "store: unknown blob kind %u", key.kind);
    if (key.level > 63)
        return wb_error_set(WB_E_INVALID, "store: tile level %u out of range",
                            key.level);
    if (key.index > WB_BLOB_INDEX_MAX)
        return wb_error_set(WB_E_INVALID, "store: blob index %llu out of range",
                            (unsigned long long)key.index);
    return 0;
}

int wb_store_get_blob(wb_store *s, wb_blob_key key, uint8_t **data, size_t *len)
{
    int rc = check_key(key);
    return rc ? rc : s->ops->get_blob(s, key, data, len);
}

int wb_store_put_blob(wb_store *s, wb_blob_key key, const uint8_t *data, size_t len)
{
    int rc = check_key(key);
    return rc ? rc : s->ops->put_blob(s, key, data, len);
}

int wb_store_get_state(wb_store *s, wb_store_state *out)
{
    memset(out, 0, sizeof(*out));
    return s->ops->get_state(s, out);
}

int wb_store_cas_state(wb_store *s, uint64_t expected_size, const wb_store_state *st)
{
    return s->ops->cas_state(s, expected_size, st);
}

int wb_store_get_entry_id(wb_store *s, const uint8_t id[32], uint64_t *index)
{
    return s->ops->get_entry_id(s, id, index);
}

int wb_store_put_entry_id(wb_store *s, const uint8_t id[32], uint64_t index)
{
    if (index > (uint64_t)INT64_MAX)
        return wb_error_set(WB_E_INVALID, "store: entry index out of range");
    return s->ops->put_entry_id(s, id, index);
}

static int check_meta_name(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 64)
        return wb_error_set(WB_E_INVALID, "store: metadata name must be 1-64 bytes");
    return 0;
}

int wb_store_get_meta(wb_store *s, const char *name, char **value)
{
    int rc = check_meta_name(name);
    return rc ? rc : s->ops->get_meta(s, name, value);
}

int wb_store_put_meta(wb_store *s, const char *name, const char *value)
{
    int rc = check_meta_name(name);
    if (rc)
        return rc;
    if (strlen(value) > WB_STORE_META_MAX)
        return wb_error_set(WB_E_LIMIT, "store: metadata '%s' is over %d bytes",
                            name, WB_STORE_META_MAX);
    return s->ops->put_meta(s, name, value);
}

int wb_store_sql(wb_store *s, const char *sql, const wb_sql_value *args, size_t nargs,
                 wb_sql_row_fn row, void *ctx)
{
    return s->ops->sql(s, sql, args, nargs, row, ctx);
}

int wb_store_sql_script(wb_store *s, const char *script)
{
    return s->ops->sql_script(s, script);
}

int64_t wb_store_sql_changes(wb_store *s)
{
    return s->ops->changes(s);
}

int wb_store_maintain(wb_store *s)
{
    return s->ops->maintain ? s->ops->maintain(s) : 0;
}

int wb_store_begin(wb_store *s)
{
    return s->ops->begin(s);
}

int wb_store_commit(wb_store *s)
{
    return s->ops->commit(s);
}

int wb_store_rollback(wb_store *s)
{
    return s->ops->rollback(s);
}

void wb_store_close(wb_store *s)
{
    if (s)
        s->ops->close(s);
}
