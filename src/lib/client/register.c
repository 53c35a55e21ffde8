/*
 * register.c: registering a signed statement with a SCITT service, as a
 * client of draft-ietf-scitt-scrapi-11 §2.1.2: POST /entries; 201 carries
 * the receipt; 202 (or the 303 of earlier drafts) gives a Location to poll,
 * which answers 204 (or 202) while pending and 200 with the receipt after.
 */
#include "waybill/client.h"
#include "waybill/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void wb_register_result_cleanup(wb_register_result *res)
{
    free(res->receipt);
    memset(res, 0, sizeof(*res));
}

static int refused(wb_register_result *res, const wb_http_response *r, const char *what)
{
    wb_http_problem(r, res->title, sizeof(res->title), res->detail, sizeof(res->detail));
    res->status = r->status;
    if (r->status == 404)
        return wb_error_set(WB_E_NOTFOUND, "%s: HTTP 404 %s%s%s", what, res->title,
                            res->detail[0] ? ": " : "", res->detail);
    return wb_error_set(r->status >= 400 && r->status < 500 && r->status != 429
                            ? WB_E_INVALID
                            : WB_E_INTERNAL,
                        "%s: HTTP %ld %s%s%s", what, r->status, res->title,
                        res->detail[0] ? ": " : "", res->detail);
}

int wb_client_register(wb_register_result *res, const char *base, const uint8_t *st,
                       size_t len, unsigned wait_s,
                       void (*on_poll)(void *ctx, const char *url), void *ctx)
{
    char endpoint[4200], poll[4200];
    wb_http_response r;
    time_t deadline;
    long delay;
    int rc;

    memset(res, 0, sizeof(*res));
    rc = wb_http_join(endpoint, sizeof(endpoint), base, "/entries");
    if (rc == 0)
        rc = wb_http_request(&r, "POST", endpoint, st, len, "application/cose",
                             "application/cose", 60);
    if (rc)
        return rc;
    res->status = r.status;
    snprintf(res->location, sizeof(res->location), "%s", r.location);
    if (r.status == 201) {
        res->receipt = r.body;
        res->receipt_len = r.len;
        r.body = NULL;
        wb_http_response_cleanup(&r);
        return 0;
    }
    if (r.status != 202 && r.status != 303) {
        rc = refused(res, &r, "registration refused");
        wb_http_response_cleanup(&r);
        return rc;
    }
    if (!res->location[0]) {
        rc = refused(res, &r, "accepted without a Location to poll");
        wb_http_response_cleanup(&r);
        return rc;
    }
    delay = r.retry_after > 0 ? r.retry_after : 1;
    wb_http_response_cleanup(&r);
    deadline = time(NULL) + (time_t)wait_s;
    rc = wb_http_join(poll, sizeof(poll), base, res->location);
    while (rc == 0) {
        if (time(NULL) + delay > deadline)
            return wb_error_set(WB_E_INTERNAL, "still pending after %u s; poll %s later (or "
                                "submit again: it returns the same entry)", wait_s, poll);
        if (on_poll)
            on_poll(ctx, poll);
        sleep((unsigned)delay);
        rc = wb_http_request(&r, "GET", poll, NULL, 0, NULL, "application/cose", 30);
        if (rc)
            return rc;
        res->status = r.status;
        if (r.status == 200) {
            res->receipt = r.body;
            res->receipt_len = r.len;
            r.body = NULL;
            wb_http_response_cleanup(&r);
            return 0;
        }
        if (r.status != 204 && r.status != 202) {
            rc = refused(res, &r, "polling for the receipt");
            wb_http_response_cleanup(&r);
            return rc;
        }
        delay = r.retry_after > 0 ? r.retry_after : 1;
        wb_http_response_cleanup(&r);
    }
    return rc;
}
