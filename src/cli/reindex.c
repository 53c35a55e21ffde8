/*
 * reindex.c: `waybill reindex DIR`: rebuild the fleet tables from the log
 * alone (they are derived data), and with --check show that the rebuilt
 * tables equal the ones the service built entry by entry.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "waybill/error.h"
#include "waybill/fleet.h"
#include "waybill/log.h"

static int run(int argc, char **argv);

const wb_cli_cmd wb_cmd_reindex = {
    .group = NULL,
    .name = "reindex",
    .summary = "rebuild the fleet state from the log alone",
    .usage =
        "usage: waybill reindex DIR [--database CONNINFO] [--check] [--json]\n"
        "\n"
        "Drops the fleet tables of the log in DIR and rebuilds them by applying\n"
        "every entry in order (docs/anomalies.md). The tables are derived from the log\n"
        "only, so nothing is lost. With --check it first dumps the tables as they\n"
        "are, then rebuilds, then compares: exit 1 and the first difference if the\n"
        "rebuild does not reproduce them exactly. Stop the server first, or expect\n"
        "the rebuild to wait for its writer lock. With --database the log and the\n"
        "tables are in that PostgreSQL database ([service] database) and DIR holds\n"
        "the log's keys.\n"
        "\n"
        "exit codes: 0 rebuilt (and equal), 1 the rebuilt tables differ, 2 usage,\n"
        "            4 no such log, 5 storage failure\n",
    .run = run,
};

typedef struct {
    wb_log *log;
    int tty;
} ctx;

static int read_entry(void *vctx, uint64_t index, uint8_t **data, size_t *len)
{
    return wb_log_entry(((ctx *)vctx)->log, index, data, len);
}

static void progress(void *vctx, uint64_t done, uint64_t total)
{
    ctx *c = vctx;
    if (c->tty)
        fprintf(stderr, "\rreindex: %llu / %llu entries", (unsigned long long)done,
                (unsigned long long)total);
    if (c->tty && done == total)
        fprintf(stderr, "\n");
}

static int run(int argc, char **argv)
{
    char *pos[2];
    const char *database = NULL;
    cli_opt opts[] = {{"--database", &database}};
    cli_args a;
    ctx c = {NULL, isatty(2)};
    uint64_t size;
    char *before = NULL, *after = NULL;
    size_t lb = 0, la = 0;
    int rc, want_check = 0, differ = 0;

    /* --check is a flag: take it out before the common parser */
    want_check = cli_take_flag(&argc, argv, "--check");
    rc = cli_parse(&wb_cmd_reindex, argc, argv, opts, 1, &a, pos, 1);
    if (rc)
        return rc < 0 ? 0 : rc;
    if (a.npos != 1)
        return cli_usage_error(&wb_cmd_reindex, "expected the log directory");
    if (database) {
        wb_store *store = NULL;
        rc = wb_store_open_postgres(&store, database, NULL);
        if (rc == 0)
            rc = wb_log_open_store(&c.log, a.pos[0], store, NULL);
    } else {
        rc = wb_log_open(&c.log, a.pos[0], NULL);
    }
    if (rc == 0)
        rc = wb_log_head(c.log, &size, NULL, NULL, NULL);
    if (rc == 0)
        rc = wb_fleet_schema(wb_log_store(c.log));
    if (rc == 0 && want_check)
        rc = wb_fleet_dump(wb_log_store(c.log), &before, &lb);
    if (rc == 0)
        rc = wb_fleet_reindex(wb_log_store(c.log), size, read_entry, &c, progress);
    if (rc == 0 && want_check) {
        rc = wb_fleet_dump(wb_log_store(c.log), &after, &la);
        differ = rc == 0 && (la != lb || memcmp(before, after, la) != 0);
    }
    wb_log_close(c.log);
    if (rc) {
        free(before);
        free(after);
        return cli_fail("reindex", rc);
    }
    if (differ) {
        /* the first line that differs */
        size_t i = 0, line = 1, start = 0;
        while (i < la && i < lb && before[i] == after[i]) {
            if (before[i] == '\n') {
                line++;
                start = i + 1;
            }
            i++;
        }
        fprintf(stderr, "waybill reindex: the rebuilt tables differ at line %zu:\n  was: %.*s\n"
                        "  now: %.*s\n", line, (int)strcspn(before + start, "\n"),
                before + start, (int)strcspn(after + start, "\n"), after + start);
    }
    if (a.json) {
        json_t *o = json_object();
        json_object_set_new(o, "entries", json_integer((json_int_t)size));
        if (want_check)
            json_object_set_new(o, "equal", json_boolean(!differ));
        cli_print_json(o);
    } else {
        printf("rebuilt the fleet state from %llu entries%s\n", (unsigned long long)size,
               want_check ? (differ ? ": DIFFERENT from before" : ": identical to before")
                          : "");
    }
    free(before);
    free(after);
    return differ ? WB_EXIT_VERIFY : WB_EXIT_OK;
}
