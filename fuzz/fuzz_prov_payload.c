/*
 * fuzz_prov_payload.c: libFuzzer target for the provenance payload parser
 * and encoder (wb_prov_parse, wb_prov_encode; docs/statements.md).
 *
 * Input: the first byte selects the kind (1 + byte % 13, so 'A' is issuer,
 * 'B' manifest ... 'M' decommission, which keeps the seed files readable);
 * the rest is the JSON payload. Invariants checked, aborting on violation:
 *   - a refused payload leaves p empty (kind NONE, nothing to free);
 *   - a parsed payload has the kind asked for and encodes; its encoding
 *     parses again, and encoding that gives the same bytes;
 *   - the encoding is never longer than the 65535-byte limit.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "waybill/prov.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wb_prov_payload p, q;
    char *e1 = NULL, *e2 = NULL;
    size_t n1 = 0, n2 = 0;
    wb_kind kind;

    if (size < 1)
        return 0;
    kind = (wb_kind)(1 + data[0] % (WB_KIND_COUNT - 1));

    if (wb_prov_parse(&p, kind, data + 1, size - 1) != 0) {
        if (p.kind != WB_KIND_NONE || p.u.manifest.devices || p.u.issuer.keys)
            abort();
        return 0;
    }
    if (p.kind != kind || p.version != WB_PROV_VERSION)
        abort();
    if (wb_prov_encode(&e1, &n1, &p) != 0 || n1 > 65535 || strlen(e1) != n1)
        abort();
    if (wb_prov_parse(&q, kind, (const uint8_t *)e1, n1) != 0)
        abort();
    if (wb_prov_encode(&e2, &n2, &q) != 0 || n1 != n2 || memcmp(e1, e2, n1) != 0)
        abort();
    free(e1);
    free(e2);
    wb_prov_payload_cleanup(&p);
    wb_prov_payload_cleanup(&q);
    return 0;
}
