/*
 * checkpoint.c: the text of a C2SP tlog-checkpoint
 * (https://c2sp.org/tlog-checkpoint, "Note text").
 *
 * "The note text is a sequence of at least three non-empty lines, separated
 * by newlines": the origin (non-empty; it SHOULD be a schema-less URL, but
 * clients MUST NOT assume so, so any characters a note allows are accepted),
 * the tree size in ASCII decimal with no leading zeroes ("0" for the empty
 * tree), the base64 RFC 6962 root hash (SHA-256, so exactly 32 bytes), then
 * optional extension lines, which MUST be non-empty. As the text is a note
 * text it ends in a newline and obeys the signed-note character rules.
 *
 * Our limits: WB_CHECKPOINT_MAX_EXT extension lines, WB_NOTE_NAME_MAX bytes of
 * origin, WB_NOTE_MAX bytes in all. wb_checkpoint_format writes exactly the
 * form wb_checkpoint_parse accepts, and refuses what it would reject.
 */
#include "waybill/note.h"

#include "note/note_int.h"
#include "waybill/error.h"
#include "waybill/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROOT_LEN 32
#define ROOT_B64_MAX 64 /* longer lines are not worth decoding to say so */

void wb_checkpoint_cleanup(wb_checkpoint *cp)
{
    if (!cp)
        return;
    for (size_t i = 0; i < cp->next && i < WB_CHECKPOINT_MAX_EXT; i++)
        free(cp->ext[i]);
    memset(cp, 0, sizeof(*cp));
}

int wb_checkpoint_parse(wb_checkpoint *cp, const char *text, size_t len)
{
    const uint8_t *t = (const uint8_t *)text;
    wb_reader r, line;
    size_t nlines = 0;
    uint8_t root[ROOT_B64_MAX / 4 * 3];
    size_t root_len = 0;
    int rc;

    memset(cp, 0, sizeof(*cp));
    if (len > WB_NOTE_MAX)
        return wb_error_set(WB_E_LIMIT, "checkpoint: %zu bytes, over the %d-byte limit",
                            len, WB_NOTE_MAX);
    if (len == 0)
        return wb_error_set(WB_E_INVALID, "checkpoint: empty");
    rc = note_check_chars(t, len, "checkpoint", 1);
    if (rc != 0)
        return rc;

    /* count and check the lines before keeping anything */
    wb_reader_init(&r, t, len);
    while (wb_reader_left(&r) > 0) {
        nlines++;
        if (!wb_reader_get_until(&r, &line, '\n'))
            return wb_error_set(WB_E_INVALID,
                                "checkpoint line %zu: does not end in a newline",
                                nlines);
        if (wb_reader_left(&line) == 0)
            return wb_error_set(WB_E_INVALID,
                                "checkpoint line %zu: %s line is empty", nlines,
                                nlines == 1   ? "origin"
                                : nlines == 2 ? "tree size"
                                : nlines == 3 ? "root hash"
                                              : "extension");
    }
    if (nlines < 3)
        return wb_error_set(WB_E_INVALID,
                            "checkpoint: %zu line%s; needs origin, tree size and root "
                            "hash",
                            nlines, nlines == 1 ? "" : "s");
    if (nlines - 3 > WB_CHECKPOINT_MAX_EXT)
        return wb_error_set(WB_E_LIMIT,
                            "checkpoint: %zu extension lines, over the limit of %d",
                            nlines - 3, WB_CHECKPOINT_MAX_EXT);

    wb_reader_init(&r, t, len);
    /* origin */
    wb_reader_get_until(&r, &line, '\n');
    if (wb_reader_left(&line) > WB_NOTE_NAME_MAX)
        return wb_error_set(WB_E_LIMIT,
                            "checkpoint line 1: origin is %zu bytes, over the %d-byte "
                            "limit",
                            wb_reader_left(&line), WB_NOTE_NAME_MAX);
    wb_reader_copy(&line, cp->origin, wb_reader_left(&line));

    /* tree size */
    wb_reader_get_until(&r, &line, '\n');
    rc = wb_parse_u64(&cp->size, (const char *)line.ptr, wb_reader_left(&line));
    if (rc != 0) {
        memset(cp, 0, sizeof(*cp));
        return wb_error_prefix(rc, "checkpoint line 2: tree size");
    }

    /* root hash */
    wb_reader_get_until(&r, &line, '\n');
    if (wb_reader_left(&line) > ROOT_B64_MAX) {
        memset(cp, 0, sizeof(*cp));
        return wb_error_set(WB_E_INVALID,
                            "checkpoint line 3: root hash is %zu characters; the "
                            "base64 of %d bytes is 44",
                            wb_reader_left(&line), ROOT_LEN);
    }
    rc = wb_base64_decode(root, sizeof(root), &root_len, (const char *)line.ptr,
                          wb_reader_left(&line));
    if (rc != 0) {
        memset(cp, 0, sizeof(*cp));
        return wb_error_prefix(rc, "checkpoint line 3: root hash");
    }
    if (root_len != ROOT_LEN) {
        memset(cp, 0, sizeof(*cp));
        return wb_error_set(WB_E_INVALID,
                            "checkpoint line 3: root hash is %zu bytes, not %d",
                            root_len, ROOT_LEN);
    }
    memcpy(cp->root, root, ROOT_LEN);

    /* extension lines */
    while (wb_reader_left(&r) > 0) {
        size_t n;
        char *e;
        wb_reader_get_until(&r, &line, '\n');
        n = wb_reader_left(&line);
        e = malloc(n + 1);
        if (!e) {
            wb_checkpoint_cleanup(cp);
            return wb_error_set(WB_E_NOMEM, "checkpoint: out of memory");
        }
        wb_reader_copy(&line, e, n);
        e[n] = '\0';
        cp->ext[cp->next++] = e;
    }
    return 0;
}

/* check_line checks one line the formatter is about to write */
static int check_line(const char *s, size_t max, const char *what)
{
    size_t n;
    if (!s)
        return wb_error_set(WB_E_INVALID, "%s is NULL", what);
    n = strnlen(s, max + 1);
    if (n == 0)
        return wb_error_set(WB_E_INVALID, "%s is empty", what);
    if (n > max)
        return wb_error_set(WB_E_LIMIT, "%s is over the %zu-byte limit", what, max);
    if (memchr(s, '\n', n))
        return wb_error_set(WB_E_INVALID, "%s contains a newline", what);
    return note_check_chars((const uint8_t *)s, n, what, 1);
}

int wb_checkpoint_format(char **out, size_t *len, const wb_checkpoint *cp)
{
    wb_buf b;
    uint8_t *p = NULL;
    size_t n = 0;
    int rc;

    *out = NULL;
    if (len)
        *len = 0;
    if (cp->next > WB_CHECKPOINT_MAX_EXT)
        return wb_error_set(WB_E_LIMIT,
                            "checkpoint: %zu extension lines, over the limit of %d",
                            cp->next, WB_CHECKPOINT_MAX_EXT);
    rc = check_line(cp->origin, WB_NOTE_NAME_MAX, "checkpoint origin");
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < cp->next; i++) {
        char what[48];
        snprintf(what, sizeof(what), "checkpoint extension %zu", i + 1);
        rc = check_line(cp->ext[i], WB_NOTE_MAX, what);
        if (rc != 0)
            return rc;
    }

    wb_buf_init(&b, WB_NOTE_MAX);
    wb_buf_printf(&b, "%s\n%llu\n", cp->origin, (unsigned long long)cp->size);
    wb_buf_add_base64(&b, cp->root, ROOT_LEN);
    wb_buf_add_u8(&b, '\n');
    for (size_t i = 0; i < cp->next; i++) {
        wb_buf_add_str(&b, cp->ext[i]);
        wb_buf_add_u8(&b, '\n');
    }
    rc = wb_buf_finish(&b, &p, &n);
    if (rc != 0)
        return wb_error_prefix(rc, "checkpoint");
    *out = (char *)p;
    if (len)
        *len = n;
    return 0;
}
