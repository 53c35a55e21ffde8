/*
 * wbtest_pg.h: a throwaway PostgreSQL 15 cluster for tests.
 *
 * wbt_pg_start makes a temporary directory, runs initdb in it (trust
 * authentication, superuser "postgres", C locale, UTF-8), starts the server
 * on a free loopback port with its Unix socket in that directory, waits
 * until it accepts connections and creates the database "waybill".
 * CI runs as root and PostgreSQL refuses to: as root, the directory is
 * given to the unprivileged "postgres" user and initdb / pg_ctl run under
 * `runuser -u postgres --`; as anyone else they run as that user.
 * The binaries are taken from $WB_PG_BIN, else /usr/lib/postgresql/15/bin.
 * A missing binary or user fails the test with a message saying what to
 * install (scripts/install-deps.sh). wbt_pg_stop stops the server
 * (pg_ctl stop -m immediate) and removes the directory ($WB_KEEP keeps it).
 */
#ifndef WBTEST_PG_H
#define WBTEST_PG_H

#include "wbtest.h"

typedef struct {
    char dir[512];       /* the temporary directory: data/, log, socket */
    char bin[256];       /* directory of initdb, pg_ctl */
    int port;            /* loopback TCP port */
    int as_postgres;     /* commands run under runuser -u postgres */
    int started;
    unsigned ndbs;       /* databases made by wbt_pg_createdb */
    char conninfo[600];  /* libpq conninfo of the database "waybill" */
} wbt_pg;

/* starts a cluster (tag names the directory); fails the test on error */
void wbt_pg_start(wbt_pg *pg, const char *tag);
/* stops it and removes its directory; accepts a never-started pg */
void wbt_pg_stop(wbt_pg *pg);
/* a new empty database on the cluster ("wbtest_N"); its conninfo in out */
void wbt_pg_createdb(wbt_pg *pg, char *out, size_t cap);

#endif
