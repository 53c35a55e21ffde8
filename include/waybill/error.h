/*
 * waybill/error.h: error codes and the per-thread error message.
 *
 * Every library function returns int: 0 on success, a negative WB_E_* code on
 * failure. Before returning a failure it records, through wb_error_set(), a
 * one-line message that says what was wrong and where ("entry 3: 70000 bytes,
 * over the 65535-byte entry limit"). Callers read it with wb_error_message()
 * and may prefix context with wb_error_prefix(). The message lives in
 * thread-local storage, so threads never see each other's errors.
 */
#ifndef WAYBILL_ERROR_H
#define WAYBILL_ERROR_H

#include <stddef.h>

enum {
    WB_OK = 0,
    WB_E_INVALID = -1,   /* malformed or out-of-range input */
    WB_E_NOMEM = -2,     /* allocation failed */
    WB_E_IO = -3,        /* file or socket I/O failed */
    WB_E_CRYPTO = -4,    /* a cryptographic library call failed */
    WB_E_VERIFY = -5,    /* a signature or proof did not verify */
    WB_E_NOTFOUND = -6,  /* the named object does not exist */
    WB_E_EXISTS = -7,    /* refusing to overwrite an existing object */
    WB_E_CONFLICT = -8,  /* compare-and-swap lost: state changed meanwhile */
    WB_E_RANGE = -9,     /* index or size beyond the tree */
    WB_E_LIMIT = -10,    /* a documented size limit was exceeded */
    WB_E_STORE = -11,    /* the storage backend failed */
    WB_E_INTERNAL = -12, /* an invariant broke: a bug or corruption */
    WB_E_CORRUPT = -13,  /* stored data does not match what it must be */
};

/* Maximum length of a recorded message, including the terminating NUL. */
#define WB_ERROR_MAX 512

/*
 * wb_error_set records a printf-style message for this thread and returns
 * code, so that failures read `return wb_error_set(WB_E_INVALID, "...");`.
 */
int wb_error_set(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * wb_error_prefix puts "<context>: " in front of this thread's message and
 * returns code unchanged, to add where an error happened on the way up.
 */
int wb_error_prefix(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* wb_error_message returns this thread's last message ("" if none). */
const char *wb_error_message(void);

/* wb_error_clear empties this thread's message. */
void wb_error_clear(void);

/* wb_error_name returns the symbolic name of a code ("WB_E_INVALID"). */
const char *wb_error_name(int code);

#endif
