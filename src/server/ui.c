/*
 * ui.c: the web console's static files (docs/console.md), served at
 *
 *   GET /ui/          index.html
 *   GET /ui/<file>    a file of the console's directory
 *
 * The directory is `[ui] dir`, by default the ui/ directory of the source
 * tree the binary was built from (WB_UI_DIR). Paths are handled strictly:
 * only the characters [A-Za-z0-9._-] and '/', no empty segment, no segment
 * that starts with '.' (so no "..", no hidden files), a regular file whose
 * resolved path (symbolic links followed) is inside the directory, and an
 * extension of the table below; anything else is 404. Every answer says
 * Cache-Control: no-cache, so an upgraded console is seen at once, and
 * carries a Content-Security-Policy that allows nothing but this origin:
 * the console loads no script, style or font from anywhere else.
 *
 * The files are public (they hold no data); what the console shows comes
 * from the JSON and COSE routes, each authorized by the persona token the
 * page sends.
 */
#include "server_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "waybill/cose.h"

#ifndef WB_UI_DIR
#define WB_UI_DIR "ui"
#endif

#define UI_PATH_MAX 200           /* the longest file path under /ui/ */
#define UI_FILE_MAX (8u << 20)    /* the largest file served */

static const struct {
    const char *ext, *type;
} ui_types[] = {
    {".html", "text/html; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".json", "application/json"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".txt", "text/plain; charset=utf-8"},
    {".woff2", "font/woff2"},
};

#define UI_CSP                                                                           \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "   \
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

void srv_ui_init(wb_server *s, const wb_server_config *c)
{
    const char *dir = c->ui.dir ? c->ui.dir : WB_UI_DIR;
    char *real;
    struct stat st;
    s->ui_dir = NULL;
    if (!c->ui.enabled)
        return;
    real = realpath(dir, NULL);
    if (!real || stat(real, &st) != 0 || !S_ISDIR(st.st_mode)) {
        srv_log("warn", "msg=\"web console not served: no such directory\" dir=\"%s\"", dir);
        free(real);
        return;
    }
    s->ui_dir = real;
    srv_log("info", "msg=\"web console\" path=/ui/ dir=\"%s\"", real);
}

static enum MHD_Result ui_answer(wb_server *s, struct MHD_Connection *c, unsigned status,
                                 const char *ctype, void *body, size_t len,
                                 const char *location)
{
    struct MHD_Response *resp = srv_response(s, status, ctype, body, len);
    enum MHD_Result ret;
    if (!resp)
        return MHD_NO;
    if (location)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, location);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Content-Security-Policy", UI_CSP);
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    ret = MHD_queue_response(c, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result ui_not_found(wb_server *s, struct MHD_Connection *c, const char *why)
{
    uint8_t *body;
    size_t len;
    if (wb_cbor_problem(&body, &len, "Not found", why, 0) != 0)
        return MHD_NO;
    return ui_answer(s, c, MHD_HTTP_NOT_FOUND, "application/concise-problem-details+cbor",
                     body, len, NULL);
}

/* the Content-Type of a file name, or NULL for an extension not served */
static const char *ui_type(const char *name)
{
    const char *dot = strrchr(name, '.'), *slash = strrchr(name, '/');
    if (!dot || (slash && dot < slash))
        return NULL;
    for (size_t i = 0; i < sizeof(ui_types) / sizeof(ui_types[0]); i++)
        if (strcmp(dot, ui_types[i].ext) == 0)
            return ui_types[i].type;
    return NULL;
}

/* 1 if rel is a path the console may serve: see the comment at the top */
static int ui_path_ok(const char *rel)
{
    size_t n = strlen(rel);
    int seg_start = 1;
    if (n == 0 || n > UI_PATH_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = rel[i];
        if (ch == '/') {
            if (seg_start) /* empty segment: "//" or a leading '/' */
                return 0;
            seg_start = 1;
            continue;
        }
        if (seg_start && ch == '.')
            return 0;
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '.' || ch == '_' || ch == '-'))
            return 0;
        seg_start = 0;
    }
    return !seg_start; /* no trailing '/' */
}

/* reads the regular file at path (at most UI_FILE_MAX bytes); 0 on success */
static int ui_read(const char *path, uint8_t **out, size_t *len)
{
    struct stat st;
    uint8_t *buf;
    size_t got = 0;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -1;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 0 ||
        (uint64_t)st.st_size > UI_FILE_MAX) {
        close(fd);
        return -1;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        close(fd);
        return -1;
    }
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    if (got != (size_t)st.st_size) {
        free(buf);
        return -1;
    }
    *out = buf;
    *len = got;
    return 0;
}

enum MHD_Result srv_route_ui(wb_server *s, struct MHD_Connection *c, const char *url)
{
    const char *rel, *ctype;
    char path[PATH_MAX + UI_PATH_MAX + 2], *real;
    size_t dlen;
    uint8_t *body = NULL;
    size_t len = 0;
    if (!s->ui_dir)
        return ui_not_found(s, c, "the web console is not served here ([ui] enabled, dir)");
    if (strcmp(url, "/ui") == 0) {
        char *none = NULL;
        return ui_answer(s, c, MHD_HTTP_MOVED_PERMANENTLY, NULL, none, 0, "/ui/");
    }
    rel = url + strlen("/ui/");
    if (rel[0] == '\0')
        rel = "index.html";
    if (!ui_path_ok(rel) || !(ctype = ui_type(rel)))
        return ui_not_found(s, c, "no such file in the web console");
    snprintf(path, sizeof(path), "%s/%s", s->ui_dir, rel);
    /* the file itself, symbolic links followed, must be inside the directory */
    real = realpath(path, NULL);
    dlen = strlen(s->ui_dir);
    if (!real || strncmp(real, s->ui_dir, dlen) != 0 || real[dlen] != '/' ||
        ui_read(real, &body, &len) != 0) {
        free(real);
        return ui_not_found(s, c, "no such file in the web console");
    }
    free(real);
    return ui_answer(s, c, MHD_HTTP_OK, ctype, body, len, NULL);
}
