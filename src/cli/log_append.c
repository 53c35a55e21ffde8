/*
 * log_append.c: `waybill log append DIR FILE...`: append entries.
 *
 * Every FILE (or "-" for standard input) is one entry. All of them go in as
 * one batch: one transaction, one signed checkpoint; if any file is empty,
 * unreadable or over 65,535 bytes, nothing is appended.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#include "waybill/error.h"
#include "waybill/log.h"
#include "waybill/util.h"

static int run(int argc, char **argv);

const wb_cli_cmd wb_cmd_log_append = {
    .group = "log",
    .name = "append",
    .summary = "append files as entries (one batch, one checkpoint)",
    .usage =
        "usage: waybill log append DIR FILE... [--json]\n"
        "\n"
        "Appends each FILE as one entry of the log in DIR (\"-\" reads one entry\n"
        "from standard input), in the order given, as a single batch: one durable\n"
        "transaction and one newly signed checkpoint. Prints the index of each\n"
        "entry. An entry is 1 to 65,535 bytes (tlog-tiles entry bundles store a\n"
        "16-bit length); if any FILE is empty, too large or unreadable, nothing is\n"
        "appended. At most 100,000 entries per call.\n"
        "\n"
        "options:\n"
        "  --json   print {\"first\":..., \"size\":..., \"entries\":[...]} instead\n"
        "\n"
        "exit codes: 0 appended, 2 usage, 3 empty or oversized entry,\n"
        "            4 no such log or file, 5 storage failure\n",
    .run = run,
};

static int run(int argc, char **argv)
{
    char **pos;
    cli_args a;
    wb_entry *entries = NULL;
    uint8_t **bufs = NULL;
    wb_log *log = NULL;
    uint64_t first = 0;
    size_t n = 0;
    int rc, exit_code = 0, stdin_used = 0;

    pos = calloc((size_t)argc, sizeof(*pos));
    if (!pos)
        return WB_EXIT_INTERNAL;
    rc = cli_parse(&wb_cmd_log_append, argc, argv, NULL, 0, &a, pos, argc);
    if (rc) {
        free(pos);
        return rc < 0 ? 0 : rc;
    }
    if (a.npos < 2) {
        free(pos);
        return cli_usage_error(&wb_cmd_log_append, "expected DIR and at least one FILE");
    }
    n = (size_t)a.npos - 1;
    if (n > WB_LOG_BATCH_MAX) {
        free(pos);
        return cli_usage_error(&wb_cmd_log_append, "%zu files; at most %d per call", n,
                               WB_LOG_BATCH_MAX);
    }
    entries = calloc(n, sizeof(*entries));
    bufs = calloc(n, sizeof(*bufs));
    if (!entries || !bufs) {
        rc = wb_error_set(WB_E_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        const char *path = a.pos[i + 1];
        size_t len;
        if (strcmp(path, "-") == 0 && stdin_used++) {
            free(pos);
            pos = NULL;
            exit_code = cli_usage_error(&wb_cmd_log_append, "'-' (stdin) given twice");
            goto out;
        }
        /* read one byte past the limit so an oversized file is named */
        rc = wb_file_read(path, WB_ENTRY_MAX + 1, &bufs[i], &len);
        if (rc == WB_E_LIMIT || (rc == 0 && len > WB_ENTRY_MAX))
            rc = wb_error_set(WB_E_LIMIT, "%s: entry is over the 65535-byte limit "
                              "(tlog-tiles entry bundles use 16-bit lengths)", path);
        else if (rc == 0 && len == 0)
            rc = wb_error_set(WB_E_INVALID, "%s: entry is empty", path);
        if (rc)
            goto out;
        entries[i].data = bufs[i];
        entries[i].len = len;
    }
    rc = wb_log_open(&log, a.pos[0], NULL);
    if (rc)
        goto out;
    rc = wb_log_append(log, entries, n, &first);
    if (rc)
        goto out;
    if (a.json) {
        json_t *o = json_object(), *arr = json_array();
        json_object_set_new(o, "first", json_integer((json_int_t)first));
        json_object_set_new(o, "size", json_integer((json_int_t)(first + n)));
        for (size_t i = 0; i < n; i++) {
            uint8_t leaf[WB_HASH_LEN];
            char hex[2 * WB_HASH_LEN + 1];
            json_t *e = json_object();
            wb_merkle_leaf_hash(leaf, entries[i].data, entries[i].len);
            wb_hex_encode(hex, leaf, WB_HASH_LEN);
            json_object_set_new(e, "file", json_string(a.pos[i + 1]));
            json_object_set_new(e, "index", json_integer((json_int_t)(first + i)));
            json_object_set_new(e, "leaf_hash", json_string(hex));
            json_array_append_new(arr, e);
        }
        json_object_set_new(o, "entries", arr);
        cli_print_json(o);
    } else {
        for (size_t i = 0; i < n; i++)
            printf("%llu\t%s\n", (unsigned long long)(first + i), a.pos[i + 1]);
    }
out:
    if (rc)
        exit_code = cli_fail("log append", rc);
    wb_log_close(log);
    for (size_t i = 0; bufs && i < n; i++)
        free(bufs[i]);
    free(bufs);
    free(entries);
    free(pos);
    return exit_code;
}
