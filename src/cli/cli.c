/*
 * cli.c: helpers shared by the command files: exit codes, error output,
 * a small option parser and JSON printing.
 */
#include "cli.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "waybill/client.h"
#include "waybill/error.h"
#include "waybill/util.h"

int cli_exit_code(int rc)
{
    switch (rc) {
    case WB_OK:
        return WB_EXIT_OK;
    case WB_E_VERIFY:
        return WB_EXIT_VERIFY;
    case WB_E_INVALID:
    case WB_E_LIMIT:
    case WB_E_RANGE:
        return WB_EXIT_INPUT;
    case WB_E_NOTFOUND:
    case WB_E_EXISTS:
    case WB_E_IO:
        return WB_EXIT_NOTFOUND;
    default:
        return WB_EXIT_INTERNAL;
    }
}

int cli_fail(const char *cmd, int rc)
{
    fprintf(stderr, "waybill %s: %s\n", cmd, wb_error_message());
    return cli_exit_code(rc);
}

static void cmd_fullname(char *out, size_t cap, const wb_cli_cmd *cmd)
{
    if (cmd->group)
        snprintf(out, cap, "%s %s", cmd->group, cmd->name);
    else
        snprintf(out, cap, "%s", cmd->name);
}

int cli_usage_error(const wb_cli_cmd *cmd, const char *fmt, ...)
{
    char name[64];
    va_list ap;
    cmd_fullname(name, sizeof(name), cmd);
    fprintf(stderr, "waybill %s: ", name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see 'waybill %s --help')\n", name);
    return WB_EXIT_USAGE;
}

int cli_parse(const wb_cli_cmd *cmd, int argc, char **argv, cli_opt *opts,
              size_t nopts, cli_args *out, char **posbuf, int maxpos)
{
    int only_pos = 0;
    memset(out, 0, sizeof(*out));
    out->pos = posbuf;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!only_pos && strcmp(a, "--") == 0) {
            only_pos = 1;
            continue;
        }
        if (!only_pos && a[0] == '-' && a[1] != '\0') {
            size_t k;
            const char *eq;
            if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
                fputs(cmd->usage, stdout);
                return -1;
            }
            if (strcmp(a, "--json") == 0) {
                out->json = 1;
                continue;
            }
            eq = strchr(a, '=');
            for (k = 0; k < nopts; k++) {
                size_t n = strlen(opts[k].name);
                if (strncmp(a, opts[k].name, n) != 0)
                    continue;
                if (a[n] == '=') {
                    *opts[k].value = a + n + 1;
                    break;
                }
                if (a[n] == '\0') {
                    if (i + 1 >= argc)
                        return cli_usage_error(cmd, "option %s needs a value",
                                               opts[k].name);
                    *opts[k].value = argv[++i];
                    break;
                }
            }
            if (k == nopts)
                return cli_usage_error(cmd, "unknown option '%.*s'",
                                       (int)(eq ? (size_t)(eq - a) : strlen(a)), a);
            continue;
        }
        if (out->npos == maxpos)
            return cli_usage_error(cmd, "too many arguments (from '%s')", a);
        posbuf[out->npos++] = argv[i];
    }
    return 0;
}

int cli_parse_u64(const wb_cli_cmd *cmd, const char *what, const char *s,
                  unsigned long long *out)
{
    uint64_t v;
    if (wb_parse_u64(&v, s, strlen(s)) != 0)
        return cli_usage_error(cmd, "%s '%s' is not a decimal number (%s)", what, s,
                               wb_error_message());
    *out = v;
    return 0;
}

int cli_get_json(json_t **out, const char *base, const char *path)
{
    char url[4200];
    wb_http_response r;
    json_error_t err;
    int rc = wb_http_join(url, sizeof(url), base, path);
    if (rc == 0)
        rc = wb_http_request(&r, "GET", url, NULL, 0, NULL, "application/json", 60);
    if (rc)
        return rc;
    if (r.status != 200) {
        char title[256], detail[1024];
        wb_http_problem(&r, title, sizeof(title), detail, sizeof(detail));
        rc = wb_error_set(r.status == 404                       ? WB_E_NOTFOUND
                          : r.status == 401 || r.status == 403 ? WB_E_IO
                          : r.status < 500                     ? WB_E_INVALID
                                                               : WB_E_INTERNAL,
                          "%s: HTTP %ld %s%s%s%s", url, r.status, title,
                          detail[0] ? ": " : "", detail,
                          r.status == 401 ? " (give --token TOKEN or WAYBILL_TOKEN)" : "");
    } else if (!(*out = json_loadb((const char *)r.body, r.len, 0, &err))) {
        rc = wb_error_set(WB_E_INVALID, "%s: the answer is not JSON: %s", url, err.text);
    }
    wb_http_response_cleanup(&r);
    return rc;
}

const char *cli_str(json_t *o, const char *k, const char *dflt)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v ? v : dflt;
}

void cli_print_json(json_t *obj)
{
    char *s = json_dumps(obj, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (s) {
        puts(s);
        free(s);
    }
    json_decref(obj);
}

int cli_take_flag(int *argc, char **argv, const char *flag)
{
    int found = 0;
    for (int i = 1; i < *argc; i++)
        if (strcmp(argv[i], flag) == 0) {
            found = 1;
            for (int k = i; k < *argc - 1; k++)
                argv[k] = argv[k + 1];
            (*argc)--;
            i--;
        }
    return found;
}

int cli_write_port_file(const char *path, unsigned short port)
{
    char tmp[4200], text[16];
    FILE *f;
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    snprintf(text, sizeof(text), "%u\n", port);
    f = fopen(tmp, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0)
        return wb_error_set(WB_E_IO, "cannot write %s", tmp);
    if (rename(tmp, path) != 0)
        return wb_error_set(WB_E_IO, "cannot rename %s to %s", tmp, path);
    return 0;
}
