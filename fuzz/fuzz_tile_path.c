/*
 * fuzz_tile_path.c: libFuzzer target for the tlog-tiles path parser
 * (wb_tile_path_parse). A path that parses must format back to exactly the
 * same bytes: every tile has one spelling.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "waybill/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wb_tile_ref ref;
    char again[WB_TILE_PATH_MAX];
    if (wb_tile_path_parse(&ref, (const char *)data, size) != 0)
        return 0;
    if (wb_tile_path(again, sizeof(again), &ref) != 0 || strlen(again) != size ||
        memcmp(again, data, size) != 0)
        abort();
    return 0;
}
