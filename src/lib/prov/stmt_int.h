/*
 * stmt_int.h: helpers shared by the statement payload files (statements.c,
 * stmt_read.c, stmt_encode.c): a field path for error messages and strict
 * readers of one JSON value each.
 *
 * Every reader takes the value it checks (or the object and the field name)
 * and, on failure, sets "<kind>: <path>: <what is wrong>" and returns
 * WB_E_INVALID, so a message always names the payload kind and the field
 * (docs/statements.md).
 */
#ifndef WAYBILL_STMT_INT_H
#define WAYBILL_STMT_INT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "waybill/prov.h"

/* the largest payload wb_prov_parse reads and wb_prov_encode writes; the
 * same limit as a statement's payload (docs/statements.md) */
#define WB_STMT_PAYLOAD_MAX 65535
#define WB_STMT_PATH_MAX 160
#define WB_STMT_NONCE_MIN 32  /* hex characters: 16 bytes */
#define WB_STMT_NONCE_MAX 128 /* hex characters: 64 bytes */

/* where in the payload a reader or writer is: "devices[3].chain[0]" */
typedef struct {
    wb_kind kind;
    char path[WB_STMT_PATH_MAX];
    size_t plen;
} wb_stmt_ctx;

void stmt_ctx_init(wb_stmt_ctx *c, wb_kind kind);
/* append ".key" ("key" at the top) or "[i]"; return the length to pop to */
size_t stmt_push_key(wb_stmt_ctx *c, const char *key);
size_t stmt_push_index(wb_stmt_ctx *c, size_t i);
void stmt_pop(wb_stmt_ctx *c, size_t len);
/* sets "<kind>: <path>: <message>" and returns WB_E_INVALID */
int stmt_fail(const wb_stmt_ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* copies s (up to n bytes) into out (cap >= 4) for a message: printable
 * ASCII kept, anything else as '?', cut with "..." */
void stmt_printable(char *out, size_t cap, const char *s, size_t n);

/* ---- string rules ---- */
/* 0 if s[0..n) is UTF-8 without control characters (C0, DEL, C1); text
 * also allows tab and newline. Otherwise sets *why. */
int stmt_check_chars(const char *s, size_t n, int text, const char **why);
/* 1 if s[0..n) is UTF-8 (RFC 3629: no overlong forms, no surrogates) */
int stmt_utf8_valid(const char *s, size_t n);
/* 1 if s[0..n) is lowercase hex */
int stmt_is_hex(const char *s, size_t n);

/* ---- readers of one value (the context's path is at the value) ---- */
/* an object whose fields are all in the NULL-terminated list */
int stmt_object(wb_stmt_ctx *c, const json_t *v, const char *const *fields);
/* a name: 1..WB_PROV_NAME_MAX bytes, no control characters, no leading or
 * trailing space; copied NUL-terminated into out[cap] */
int stmt_name(wb_stmt_ctx *c, const json_t *v, char *out, size_t cap);
/* free text: 1..WB_PROV_TEXT_MAX bytes, tab and newline allowed */
int stmt_text(wb_stmt_ctx *c, const json_t *v, char *out, size_t cap);
/* lowercase hex of min..max characters (an even number) */
int stmt_hex(wb_stmt_ctx *c, const json_t *v, char *out, size_t cap, size_t min,
             size_t max);
/* one of names[1..n) (names[0] is the "none" value, never accepted) */
int stmt_enum(wb_stmt_ctx *c, const json_t *v, const char *const *names, size_t n,
              int *out);
/* standard padded base64 of 1..max bytes, decoded into a malloc'd buffer */
int stmt_base64(wb_stmt_ctx *c, const json_t *v, size_t max, uint8_t **out,
                size_t *len);
/* an array of min..max items */
int stmt_array(wb_stmt_ctx *c, const json_t *v, size_t min, size_t max);

/*
 * stmt_field looks up key in obj. If it is absent: fails with "missing" when
 * required, else sets *out = NULL and returns 0.
 */
int stmt_field(wb_stmt_ctx *c, const json_t *obj, const char *key, int required,
               const json_t **out);

/* ---- enum names (statements.c) ---- */
extern const char *const wb_stmt_kind_names[WB_KIND_COUNT];
extern const char *const wb_stmt_role_names[WB_ROLE_COUNT];
extern const char *const wb_stmt_class_names[WB_CLASS_COUNT];
extern const char *const wb_stmt_action_names[4];
extern const char *const wb_stmt_event_names[3];
extern const char *const wb_stmt_verdict_names[3];
extern const char *const wb_stmt_phase_names[4];
extern const char *const wb_stmt_check_names[WB_CHECK_COUNT];
extern const char *const wb_stmt_tag_names[4];
extern const char *const wb_stmt_revoke_names[5];
extern const char *const wb_stmt_format_names[3];

#endif
