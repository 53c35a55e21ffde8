/*
 * fuzz_checkpoint.c: libFuzzer target for the C2SP tlog-checkpoint parser
 * (wb_checkpoint_parse).
 *
 * The checkpoint text has exactly one spelling, so every input that parses
 * must format back to the same bytes (wb_checkpoint_format), and a failed
 * parse must leave nothing behind. Violations abort.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "waybill/note.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wb_checkpoint cp;
    char *out = NULL;
    size_t len = 0;

    if (wb_checkpoint_parse(&cp, (const char *)data, size) != 0) {
        if (cp.next != 0 || cp.size != 0 || cp.origin[0] != '\0')
            abort();
        return 0;
    }
    if (wb_checkpoint_format(&out, &len, &cp) != 0 || len != size ||
        memcmp(out, data, size) != 0)
        abort();
    free(out);
    wb_checkpoint_cleanup(&cp);
    return 0;
}
