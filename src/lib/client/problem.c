/*
 * problem.c: reading the RFC 9290 concise problem details a SCRAPI service
 * sends with an error (application/concise-problem-details+cbor), so the
 * command line can say what the service said. Best effort: anything that
 * is not such a map yields empty strings.
 */
#include "waybill/client.h"

#include <cbor.h>
#include <stdio.h>
#include <string.h>

static void copy_text(char *dst, size_t cap, cbor_item_t *v)
{
    size_t n;
    if (!cbor_isa_string(v) || !cbor_string_is_definite(v))
        return;
    n = cbor_string_length(v);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, cbor_string_handle(v), n);
    dst[n] = '\0';
    for (size_t i = 0; i < n; i++) /* keep one-line, printable output */
        if ((unsigned char)dst[i] < 0x20)
            dst[i] = ' ';
}

void wb_http_problem(const wb_http_response *resp, char *title, size_t tcap,
                     char *detail, size_t dcap)
{
    struct cbor_load_result res;
    cbor_item_t *item;
    title[0] = detail[0] = '\0';
    if (!resp->body || resp->len == 0 || resp->len > 65536 ||
        !strstr(resp->content_type, "problem-details+cbor"))
        return;
    item = cbor_load(resp->body, resp->len, &res);
    if (!item)
        return;
    if (cbor_isa_map(item) && cbor_map_is_definite(item)) {
        struct cbor_pair *pairs = cbor_map_handle(item);
        for (size_t i = 0; i < cbor_map_size(item); i++) {
            cbor_item_t *k = pairs[i].key;
            if (!cbor_isa_negint(k))
                continue;
            if (cbor_get_int(k) == 0) /* -1: title */
                copy_text(title, tcap, pairs[i].value);
            else if (cbor_get_int(k) == 1) /* -2: detail */
                copy_text(detail, dcap, pairs[i].value);
        }
    }
    cbor_decref(&item);
}
