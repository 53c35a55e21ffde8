/*
 * fleet_int.h: helpers shared by the fleet files (schema, apply, policy,
 * detect, queries): small SQL conveniences over wb_store_sql.
 */
#ifndef WAYBILL_FLEET_INT_H
#define WAYBILL_FLEET_INT_H

#include "waybill/fleet.h"
#include "waybill/query.h"

/* the first column of the first row as int64 / text (into buf); 0 found,
 * WB_E_NOTFOUND if no row */
int fleet_int(wb_store *s, int64_t *out, const char *sql, const wb_sql_value *args,
              size_t n);
int fleet_text(wb_store *s, char *buf, size_t cap, const char *sql,
               const wb_sql_value *args, size_t n);
/* run a statement without results */
int fleet_exec(wb_store *s, const char *sql, const wb_sql_value *args, size_t n);
/* the hex entry id of a log index ("" if unknown) */
int fleet_entry_hex(wb_store *s, int64_t idx, char out[65]);
/* records that entry e concerns device */
int fleet_touch(wb_store *s, const wb_fleet_entry *e, const char *device);

/*
 * the production gate: a part-holding child of parent (a blade in a rack)
 * that is not in production, i.e. has no passing pre-production or
 * periodic attestation of its own. 1 and its slot and id if there is one,
 * 0 if none, or an error.
 */
int fleet_unattested_child(wb_store *s, const char *parent, char *slot, size_t slot_cap,
                           char child[65]);

/* newline-separated lists, the form names and ids are stored in */
int fleet_list_join(char **out, const char *const *items, size_t n);
int fleet_list_has(const char *list, const char *item);
size_t fleet_list_count(const char *list);

/*
 * the SQL predicate (into buf) that keeps the rows whose device column
 * dev_col, or for a site scope also whose site column site_col (may be
 * NULL), is in scope (query_scope.c); "1 = 1" for the whole fleet. The
 * scope's names are parameters $first.., stored in args (room for
 * WB_SCOPE_NAMES_MAX). Returns how many parameters it used, or an error.
 */
int fleet_scope_sql(char *buf, size_t cap, const wb_query_scope *scope, const char *dev_col,
                    const char *site_col, int first, wb_sql_value *args);

#endif
