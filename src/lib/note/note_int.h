/*
 * note_int.h: helpers shared by the files of src/lib/note (not public).
 *
 * The character rules of C2SP signed-note ("Signed notes MUST be valid UTF-8
 * and MUST NOT contain any ASCII control characters (those below U+0020)
 * other than newline") and its key-name rule ("Key names MUST be non-empty
 * and MUST NOT contain any Unicode spaces or plus (U+002B) characters") are
 * used by the note parser, the key parser and the checkpoint parser alike,
 * so that every string they accept can appear in a signed note.
 */
#ifndef WAYBILL_NOTE_INT_H
#define WAYBILL_NOTE_INT_H

#include <stddef.h>
#include <stdint.h>

/*
 * note_check_chars checks that p[0..n) is valid UTF-8 (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF) with no control character
 * below U+0020 except '\n'. On failure the message reads
 * "<what> line <L>: ..." where L counts lines from first_line.
 */
int note_check_chars(const uint8_t *p, size_t n, const char *what,
                     size_t first_line);

/*
 * note_check_name checks a key name: 1..WB_NOTE_NAME_MAX bytes (WB_E_LIMIT
 * beyond), valid UTF-8, no control character, no Unicode White_Space
 * character and no '+'. what names the context for the message.
 */
int note_check_name(const uint8_t *p, size_t n, const char *what);

/* note_wipe overwrites n bytes at p with zeros in a way the compiler keeps */
void note_wipe(void *p, size_t n);

#endif
