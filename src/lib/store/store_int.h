/*
 * store_int.h: what the two backends share (store_sqlite.c, store_pg.c):
 * the schema of the store's own tables, written in SQLite's dialect (the
 * PostgreSQL backend translates it like every other statement).
 */
#ifndef WAYBILL_STORE_INT_H
#define WAYBILL_STORE_INT_H

#define SCHEMA_VERSION "1"

#define WB_STORE_SCHEMA_SQL                                                              \
    "CREATE TABLE wb_meta (name TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);"         \
    "CREATE TABLE wb_blob (key INTEGER PRIMARY KEY, data BLOB NOT NULL);"                 \
    "CREATE TABLE wb_state (id INTEGER PRIMARY KEY CHECK (id = 1),"                       \
    " size INTEGER NOT NULL, root BLOB NOT NULL, checkpoint BLOB NOT NULL);"               \
    "CREATE TABLE wb_entry_id (id BLOB PRIMARY KEY NOT NULL, idx INTEGER NOT NULL)"       \
    " WITHOUT ROWID;"                                                                     \
    "INSERT INTO wb_meta VALUES ('schema_version', '" SCHEMA_VERSION "');"

#endif
