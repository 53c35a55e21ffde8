/*
 * witness_client.c: the log's side of C2SP tlog-witness add-checkpoint
 * (https://c2sp.org/tlog-witness): POST <prefix>/add-checkpoint with
 *     "old <size>\n" <one base64 proof hash per line> "\n" <signed checkpoint>
 * and read the answer: 200 with cosignature lines, 409 with the witness's
 * size as "<decimal>\n" (text/x.tlog.size), or another status with a reason.
 * The request goes through the project's one HTTP helper (client/http.c);
 * its timeout has a granularity of seconds, so timeout_ms is rounded up.
 */
#include "waybill/witness.h"

#include "waybill/client.h"
#include "waybill/error.h"
#include "waybill/util.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DETAIL_MAX 1024 /* most bytes of a witness's error text we keep */

/* "— ": U+2014 EM DASH in UTF-8, then a space */
static const uint8_t sig_prefix[4] = {0xE2, 0x80, 0x94, 0x20};

/* cosig_lines: body is one or more lines, each "— ...\n" */
static int cosig_lines(const uint8_t *p, size_t n)
{
    wb_reader r, line;
    const uint8_t *pre;

    if (n == 0)
        return 0;
    wb_reader_init(&r, p, n);
    while (wb_reader_left(&r) > 0) {
        if (!wb_reader_get_until(&r, &line, '\n'))
            return 0;
        if (!wb_reader_get_bytes(&line, &pre, sizeof(sig_prefix)) ||
            memcmp(pre, sig_prefix, sizeof(sig_prefix)) != 0 || wb_reader_left(&line) == 0)
            return 0;
    }
    return 1;
}

/* detail: a printable copy of at most DETAIL_MAX bytes of the body */
static char *detail(const uint8_t *p, size_t n)
{
    char *d;
    size_t k;

    while (n > 0 && (p[n - 1] == '\n' || p[n - 1] == ' '))
        n--;
    k = n > DETAIL_MAX ? DETAIL_MAX : n;
    d = malloc(k + 1);
    if (!d)
        return NULL;
    for (size_t i = 0; i < k; i++)
        d[i] = (p[i] >= 0x20 && p[i] != 0x7f) || p[i] >= 0x80 ? (char)p[i] : ' ';
    d[k] = '\0';
    return d;
}

int wb_witness_add_checkpoint(wb_witness_reply *reply, const char *url, uint64_t old_size,
                              const uint8_t (*proof)[WB_HASH_LEN], size_t nproof,
                              const char *signed_cp, size_t len, long timeout_ms)
{
    wb_http_response r;
    char target[2048];
    uint8_t *body = NULL;
    size_t body_len = 0;
    wb_buf b;
    int rc;

    memset(reply, 0, sizeof(*reply));
    if (nproof > WB_WITNESS_MAX_PROOF)
        return wb_error_set(WB_E_LIMIT, "add-checkpoint: %zu proof hashes, over %d", nproof,
                            WB_WITNESS_MAX_PROOF);
    if (nproof > 0 && !proof)
        return wb_error_set(WB_E_INVALID, "add-checkpoint: no proof array");
    if (!signed_cp || len == 0)
        return wb_error_set(WB_E_INVALID, "add-checkpoint: no checkpoint");
    rc = wb_http_join(target, sizeof(target), url, "/add-checkpoint");
    if (rc != 0)
        return wb_error_prefix(rc, "witness %s", url);
    wb_buf_init(&b, WB_WITNESS_BODY_MAX);
    wb_buf_printf(&b, "old %" PRIu64 "\n", old_size);
    for (size_t i = 0; i < nproof; i++) {
        wb_buf_add_base64(&b, proof[i], WB_HASH_LEN);
        wb_buf_add_u8(&b, '\n');
    }
    wb_buf_add_u8(&b, '\n');
    wb_buf_add(&b, signed_cp, len);
    rc = wb_buf_finish(&b, &body, &body_len);
    if (rc != 0)
        return wb_error_prefix(rc, "add-checkpoint body");

    rc = wb_http_request_anon(&r, "POST", target, body, body_len, "text/plain", NULL,
                              timeout_ms > 0 ? (timeout_ms + 999) / 1000 : 0);
    free(body);
    if (rc != 0) {
        reply->status = 0;
        return wb_error_prefix(rc, "witness");
    }
    reply->status = (int)r.status;
    if (r.status == 200) {
        if (!cosig_lines(r.body, r.len)) {
            reply->status = 502;
            reply->detail = strdup("the witness answered 200 without cosignature lines");
        } else {
            reply->cosig = (char *)r.body;
            reply->cosig_len = r.len;
            r.body = NULL;
        }
    } else {
        if (r.status == 409 && strncasecmp(r.content_type, "text/x.tlog.size", 16) == 0 &&
            r.len >= 2 && r.body[r.len - 1] == '\n' &&
            wb_parse_u64(&reply->size, (const char *)r.body, r.len - 1) != 0)
            reply->size = 0;
        reply->detail = detail(r.body, r.len);
    }
    wb_http_response_cleanup(&r);
    if (reply->status == 200 ? !reply->cosig : !reply->detail) {
        wb_witness_reply_cleanup(reply);
        return wb_error_set(WB_E_NOMEM, "witness reply: out of memory");
    }
    return 0;
}

void wb_witness_reply_cleanup(wb_witness_reply *reply)
{
    if (!reply)
        return;
    free(reply->cosig);
    free(reply->detail);
    memset(reply, 0, sizeof(*reply));
}
