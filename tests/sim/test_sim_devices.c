/*
 * test_sim_devices.c: `waybill sim devices` (waybill/sim.h "the simulated
 * devices", docs/attestation.md "The device side"), end to end:
 *
 *   a development-mode server on a free loopback port; a fleet played
 *   into it up to the carrier's receipt (wb_sim_run, until received); then
 *   the command `waybill sim devices --dir DIR` started as its own process
 *   (two faults given on its command line), and every request made over
 *   HTTP with wb_http_request, every answer checked with
 *   wb_evidence_verify against the integrator's CA of the run's files.
 *
 *   - GET /devices and /devices/{id}: every unit, its fault, its slots;
 *     never its key; 404 for a unit that is not there;
 *   - a clean blade's answer verifies as that blade, carries the nonce,
 *     the measurements and slots of devices.json, x5chain [alias, identity,
 *     CA], and the same alias certificate on every answer;
 *   - bad requests: nonce length, body size, media type, method, fault
 *     name, a fault that does not apply;
 *   - each fault mode, set at run time on one blade between two rounds,
 *     does what docs/attestation.md says: swap, clone, unknown (a verified
 *     answer with another identity in the first slot: a manifested spare of
 *     the same class, another blade's part of the same class, an identity
 *     nobody manifested), rogue-fw (a verified answer with a first digest
 *     nobody released), stale (STALE, also for a unit stale from the start
 *     with nothing to replay), bad-sig (SIGNATURE), impostor (CHAIN),
 *     offline (no answer), none (verifies again); racks: clone from the
 *     command line, swap and unknown among their blades;
 *   - concurrent challenges from several threads all verify;
 *   - SIGTERM stops the command with exit status 0.
 */
#include "sim_test_util.h"

#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "waybill/attest.h"
#include "waybill/client.h"
#include "waybill/util.h"

#define RACKS 2
#define BLADES 4
#define PARTS 4
#define MAX_UNITS 16

typedef struct {
    const char *id, *cls;
    const json_t *json;
} unit_ref;

typedef struct {
    simfix f;
    wb_sim_report r;
    char dir[4400];
    json_t *doc;
    unit_ref units[MAX_UNITS];
    size_t n;
    const unit_ref *blades[RACKS * BLADES], *racks[RACKS];
    uint8_t **ca;
    size_t *ca_len, nca;
    pid_t pid;
    char url[64];
} fixture;

static fixture *F;

static void progress_quiet(void *ctx, const char *phase, size_t done, size_t total)
{
    (void)ctx;
    (void)phase;
    (void)done;
    (void)total;
}

/* ---- the device server, as its own process ---- */

static void start_devices(fixture *fx)
{
    char port_file[4600], out[4600], err[4600], f1[128], f2[128];
    const char *bin = getenv("WB_BIN");
    assert_non_null(bin);
    snprintf(port_file, sizeof(port_file), "%s/devices.port", fx->f.dir);
    snprintf(out, sizeof(out), "%s/devices.out", fx->f.dir);
    snprintf(err, sizeof(err), "%s/devices.err", fx->f.dir);
    /* from the start: blade 0 stale (nothing to replay yet), rack 1 a clone */
    snprintf(f1, sizeof(f1), "%s=stale", fx->blades[0]->id);
    snprintf(f2, sizeof(f2), "--fault=%s=clone", fx->racks[1]->id);
    fx->pid = fork();
    assert_true(fx->pid >= 0);
    if (fx->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the test */
        if (!freopen(out, "w", stdout) || !freopen(err, "w", stderr))
            _exit(127);
        execl(bin, bin, "sim", "devices", "--dir", fx->dir, "--listen", "127.0.0.1:0",
              "--port-file", port_file, "--threads", "4", "--fault", f1, f2, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 300; i++) {
        FILE *pf = fopen(port_file, "r");
        unsigned port = 0;
        int status;
        if (pf) {
            int ok = fscanf(pf, "%u", &port) == 1;
            fclose(pf);
            if (ok && port > 0) {
                char *printed;
                size_t n;
                snprintf(fx->url, sizeof(fx->url), "http://127.0.0.1:%u", port);
                /* it printed its URL */
                printed = wbt_read_file(out, &n);
                assert_non_null(strstr(printed, fx->url));
                free(printed);
                return;
            }
        }
        if (waitpid(fx->pid, &status, WNOHANG) == fx->pid) {
            size_t n;
            char *e = wbt_read_file(err, &n);
            fx->pid = 0;
            fail_msg("waybill sim devices exited (%d): %s", status, e);
        }
        usleep(50000);
    }
    fail_msg("waybill sim devices did not start (see %s)", err);
}

/* SIGTERM: it stops, exit status 0 */
static int stop_devices(fixture *fx)
{
    int status = 0;
    if (fx->pid <= 0)
        return 0;
    kill(fx->pid, SIGTERM);
    if (waitpid(fx->pid, &status, 0) != fx->pid)
        return -1;
    fx->pid = 0;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* ---- the fleet ---- */

static const unit_ref *unit_of(const char *id)
{
    for (size_t i = 0; i < F->n; i++)
        if (strcmp(F->units[i].id, id) == 0)
            return &F->units[i];
    return NULL;
}

/* a part's or spare's class, "" if it is neither */
static const char *class_in(const char *list, const char *id)
{
    const json_t *e;
    size_t i;
    json_array_foreach(json_object_get(F->doc, list), i, e)
        if (strcmp(json_string_value(json_object_get(e, "id")), id) == 0)
            return json_string_value(json_object_get(e, "class"));
    return "";
}

static const char *blade_of_part(const char *id)
{
    const json_t *e;
    size_t i;
    json_array_foreach(json_object_get(F->doc, "parts"), i, e)
        if (strcmp(json_string_value(json_object_get(e, "id")), id) == 0)
            return json_string_value(json_object_get(e, "blade"));
    return "";
}

static const char *slot_id(const unit_ref *u, size_t k)
{
    return json_string_value(json_object_get(json_array_get(json_object_get(u->json, "slots"),
                                                            k), "id"));
}

static const char *digest(const unit_ref *u, size_t k)
{
    return json_string_value(json_object_get(
        json_array_get(json_object_get(u->json, "measurements"), k), "digest"));
}

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof(*fx));
    wb_sim_options o;
    json_error_t err;
    const json_t *e;
    size_t i, nb = 0, nr = 0;
    char path[4600];
    assert_non_null(fx);
    if (!getenv("WB_BIN")) {
        free(fx);
        return -1;
    }
    simfix_start(&fx->f, "simdevs");
    simfix_options(&fx->f, &o, "fleet");
    o.racks = RACKS;
    o.blades = BLADES;
    o.parts = PARTS;
    o.seed = 9;
    o.until = WB_SIM_UNTIL_RECEIVED;
    o.progress = progress_quiet;
    if (wb_sim_run(&fx->r, &o) != 0)
        fail_msg("sim: %s", wb_error_message());
    snprintf(fx->dir, sizeof(fx->dir), "%s", o.dir);
    snprintf(path, sizeof(path), "%s/attest/devices.json", fx->dir);
    fx->doc = json_load_file(path, JSON_REJECT_DUPLICATES, &err);
    if (!fx->doc)
        fail_msg("%s: %s", path, err.text);
    json_array_foreach(json_object_get(fx->doc, "units"), i, e) {
        unit_ref *u = &fx->units[fx->n++];
        assert_true(fx->n <= MAX_UNITS);
        u->id = json_string_value(json_object_get(e, "id"));
        u->cls = json_string_value(json_object_get(e, "class"));
        u->json = e;
        if (strcmp(u->cls, "blade") == 0)
            fx->blades[nb++] = u;
        else
            fx->racks[nr++] = u;
    }
    assert_int_equal(nb, RACKS * BLADES);
    assert_int_equal(nr, RACKS);
    snprintf(path, sizeof(path), "%s/cas/woodgrove-integration-ca.pem", fx->dir);
    assert_int_equal(wb_x509_pem_chain(&fx->ca, &fx->ca_len, &fx->nca, path), 0);
    F = fx;
    start_devices(fx);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    int rc = stop_devices(fx);
    wb_x509_chain_free(fx->ca, fx->ca_len, fx->nca);
    json_decref(fx->doc);
    wb_sim_report_cleanup(&fx->r);
    simfix_stop(&fx->f);
    free(fx);
    return rc;
}

/* ---- requests ---- */

static long request(wb_http_response *r, const char *method, const char *path,
                    const void *body, size_t len, const char *ctype)
{
    char url[4200];
    snprintf(url, sizeof(url), "%s%s", F->url, path);
    if (wb_http_request(r, method, url, body, len, ctype, NULL, 10) != 0)
        return -1; /* no answer at all */
    return r->status;
}

static long set_fault(const unit_ref *u, const char *mode)
{
    wb_http_response r;
    char path[200];
    long st;
    snprintf(path, sizeof(path), "/devices/%s/fault", u->id);
    st = request(&r, "POST", path, mode, strlen(mode), "text/plain");
    if (st >= 0)
        wb_http_response_cleanup(&r);
    return st;
}

/*
 * challenges u with a fresh nonce; the answer's status (-1: none) and,
 * on 200, the verification of its evidence (*why, ev filled; the
 * caller cleans ev up)
 */
static long challenge(const unit_ref *u, wb_evidence *ev, wb_evidence_failure *why,
                      uint8_t **raw, size_t *raw_len)
{
    uint8_t nonce[32];
    wb_http_response r;
    wb_evidence_check c;
    char path[200];
    long st;
    memset(ev, 0, sizeof(*ev));
    *why = WB_EV_UNREACHABLE;
    assert_int_equal(wb_random_bytes(nonce, sizeof(nonce)), 0);
    snprintf(path, sizeof(path), "/devices/%s/challenge", u->id);
    st = request(&r, "POST", path, nonce, sizeof(nonce), "application/octet-stream");
    if (st != 200) {
        if (st >= 0)
            wb_http_response_cleanup(&r);
        return st;
    }
    assert_string_equal(r.content_type, "application/cose");
    memset(&c, 0, sizeof(c));
    c.nonce = nonce;
    c.nonce_len = sizeof(nonce);
    c.cas = (const uint8_t *const *)F->ca;
    c.ca_len = F->ca_len;
    c.ncas = F->nca;
    c.expect_device = u->id;
    if (wb_evidence_verify(ev, why, r.body, r.len, &c) != 0 && *why == WB_EV_OK)
        fail_msg("a failure without a class: %s", wb_error_message());
    if (raw) {
        *raw = malloc(r.len);
        assert_non_null(*raw);
        memcpy(*raw, r.body, r.len);
        *raw_len = r.len;
    }
    wb_http_response_cleanup(&r);
    return st;
}

/* a challenge that must verify; ev filled */
static void challenge_ok(const unit_ref *u, wb_evidence *ev, const char *what)
{
    wb_evidence_failure why;
    long st = challenge(u, ev, &why, NULL, NULL);
    if (st != 200 || why != WB_EV_OK)
        fail_msg("%s: %s %.16s...: status %ld, %s: %s", what, u->cls, u->id, st,
                 wb_evidence_failure_name(why), wb_error_message());
}

static void challenge_fails(const unit_ref *u, wb_evidence_failure want, const char *what)
{
    wb_evidence ev;
    wb_evidence_failure why;
    long st = challenge(u, &ev, &why, NULL, NULL);
    if (st != 200 || why != want)
        fail_msg("%s: want %s, got status %ld, %s: %s", what, wb_evidence_failure_name(want),
                 st, wb_evidence_failure_name(why), wb_error_message());
    wb_evidence_cleanup(&ev);
}

/* what the answer reports is devices.json's */
static void same_as_file(const wb_evidence *ev, const unit_ref *u, size_t skip_slot,
                         size_t skip_meas)
{
    const json_t *slots = json_object_get(u->json, "slots"),
                 *meas = json_object_get(u->json, "measurements");
    assert_string_equal(ev->device, u->id);
    assert_int_equal(ev->nslots, json_array_size(slots));
    assert_int_equal(ev->nmeasurements, json_array_size(meas));
    for (size_t k = 0; k < ev->nslots; k++) {
        assert_string_equal(ev->slots[k].slot, json_string_value(json_object_get(
                                                   json_array_get(slots, k), "slot")));
        if (k != skip_slot)
            assert_string_equal(ev->slots[k].id, slot_id(u, k));
    }
    for (size_t k = 0; k < ev->nmeasurements; k++) {
        assert_string_equal(ev->measurements[k].component,
                            json_string_value(json_object_get(json_array_get(meas, k),
                                                              "component")));
        if (k != skip_meas)
            assert_string_equal(ev->measurements[k].digest, digest(u, k));
    }
}

/* ---- the tests ---- */

static void test_list_and_show(void **state)
{
    wb_http_response r;
    json_t *j, *devs, *e;
    size_t i;
    char path[200];
    (void)state;
    assert_int_equal(request(&r, "GET", "/devices", NULL, 0, NULL), 200);
    j = json_loadb((const char *)r.body, r.len, 0, NULL);
    wb_http_response_cleanup(&r);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "site")), "AMS-1");
    devs = json_object_get(j, "devices");
    assert_int_equal(json_array_size(devs), F->n);
    json_array_foreach(devs, i, e) {
        const char *id = json_string_value(json_object_get(e, "id"));
        const char *fault = json_string_value(json_object_get(e, "fault"));
        const unit_ref *u = unit_of(id);
        assert_non_null(u);
        assert_string_equal(json_string_value(json_object_get(e, "class")), u->cls);
        /* the faults of the command line */
        assert_string_equal(fault, u == F->blades[0]   ? "stale"
                                   : u == F->racks[1] ? "clone"
                                                      : "none");
    }
    json_decref(j);
    /* one unit: its slots and chain, never its key */
    snprintf(path, sizeof(path), "/devices/%s", F->blades[1]->id);
    assert_int_equal(request(&r, "GET", path, NULL, 0, NULL), 200);
    assert_string_equal(r.content_type, "application/json");
    j = json_loadb((const char *)r.body, r.len, 0, NULL);
    wb_http_response_cleanup(&r);
    assert_non_null(j);
    assert_true(json_equal(json_object_get(j, "slots"), json_object_get(F->blades[1]->json,
                                                                       "slots")));
    assert_true(json_equal(json_object_get(j, "chain"), json_object_get(F->blades[1]->json,
                                                                       "chain")));
    assert_null(json_object_get(j, "key"));
    json_decref(j);
    /* not here */
    assert_int_equal(request(&r, "GET", "/devices/0123", NULL, 0, NULL), 404);
    assert_non_null(strstr((const char *)r.body, "no device 0123"));
    wb_http_response_cleanup(&r);
    snprintf(path, sizeof(path), "/devices/%064d/challenge", 0); /* an id, not here */
    assert_int_equal(request(&r, "POST", path, "0123456789abcdef", 16,
                             "application/octet-stream"), 404);
    wb_http_response_cleanup(&r);
}

static void test_clean_blade(void **state)
{
    const unit_ref *u = F->blades[1];
    wb_evidence ev, ev2;
    wb_evidence_failure why;
    wb_cose_sign1 m, m2;
    uint8_t *raw, *raw2;
    size_t len, len2;
    (void)state;
    assert_int_equal(challenge(u, &ev, &why, &raw, &len), 200);
    if (why != WB_EV_OK)
        fail_msg("%s", wb_error_message());
    same_as_file(&ev, u, (size_t)-1, (size_t)-1);
    wb_evidence_cleanup(&ev);
    /* x5chain [alias, identity, CA], ES384; the alias key is kept */
    assert_int_equal(challenge(u, &ev2, &why, &raw2, &len2), 200);
    assert_int_equal(why, WB_EV_OK);
    wb_evidence_cleanup(&ev2);
    assert_int_equal(wb_cose_sign1_decode(&m, raw, len, WB_EVIDENCE_MAX), 0);
    assert_int_equal(wb_cose_sign1_decode(&m2, raw2, len2, WB_EVIDENCE_MAX), 0);
    assert_int_equal(m.hdr.alg, WB_COSE_ALG_ES384);
    assert_int_equal(m.hdr.nx5chain, 3);
    assert_int_equal(m.hdr.x5chain[2].len, F->ca_len[0]);
    assert_memory_equal(m.hdr.x5chain[2].ptr, F->ca[0], F->ca_len[0]);
    assert_int_equal(wb_x509_issued_by(m.hdr.x5chain[0].ptr, m.hdr.x5chain[0].len,
                                       m.hdr.x5chain[1].ptr, m.hdr.x5chain[1].len), 0);
    assert_int_equal(m.hdr.x5chain[0].len, m2.hdr.x5chain[0].len);
    assert_memory_equal(m.hdr.x5chain[0].ptr, m2.hdr.x5chain[0].ptr, m.hdr.x5chain[0].len);
    wb_cose_sign1_cleanup(&m);
    wb_cose_sign1_cleanup(&m2);
    free(raw);
    free(raw2);
    /* a rack answers too: its blades in its slots, no measurement */
    challenge_ok(F->racks[0], &ev, "rack");
    same_as_file(&ev, F->racks[0], (size_t)-1, (size_t)-1);
    assert_int_equal(ev.nmeasurements, 0);
    wb_evidence_cleanup(&ev);
}

static void test_bad_requests(void **state)
{
    wb_http_response r;
    uint8_t big[2000];
    char path[200];
    (void)state;
    memset(big, 0x5a, sizeof(big));
    snprintf(path, sizeof(path), "/devices/%s/challenge", F->blades[1]->id);
    assert_int_equal(request(&r, "POST", path, big, 15, "application/octet-stream"), 400);
    assert_non_null(strstr((const char *)r.body, "16 to 64"));
    wb_http_response_cleanup(&r);
    assert_int_equal(request(&r, "POST", path, big, 65, "application/octet-stream"), 400);
    wb_http_response_cleanup(&r);
    assert_int_equal(request(&r, "POST", path, big, sizeof(big), "application/octet-stream"),
                     413);
    wb_http_response_cleanup(&r);
    assert_int_equal(request(&r, "POST", path, big, 32, "application/cbor"), 415);
    wb_http_response_cleanup(&r);
    assert_int_equal(request(&r, "GET", path, NULL, 0, NULL), 405);
    wb_http_response_cleanup(&r);
    /* faults: an unknown name; one that does not apply to a rack */
    assert_int_equal(set_fault(F->blades[1], "melt"), 400);
    assert_int_equal(set_fault(F->racks[0], "rogue-fw"), 400);
    snprintf(path, sizeof(path), "/devices/%s/fault", F->racks[0]->id);
    assert_int_equal(request(&r, "POST", path, "rogue-fw", 8, "text/plain"), 400);
    assert_non_null(strstr((const char *)r.body, "measures no firmware"));
    wb_http_response_cleanup(&r);
    /* and nothing changed */
    {
        wb_evidence ev;
        challenge_ok(F->blades[1], &ev, "after bad requests");
        wb_evidence_cleanup(&ev);
    }
}

/* every fault on one blade, set at run time between rounds */
static void test_faults_at_run_time(void **state)
{
    const unit_ref *u = F->blades[2];
    wb_evidence ev;
    wb_evidence_failure why;
    const char *orig0 = slot_id(u, 0), *cls0 = class_in("parts", orig0);
    (void)state;
    challenge_ok(u, &ev, "before any fault");
    wb_evidence_cleanup(&ev);

    /* swap: a manifested spare of the first part's class in its slot */
    assert_int_equal(set_fault(u, "swap"), 204);
    challenge_ok(u, &ev, "swap");
    same_as_file(&ev, u, 0, (size_t)-1);
    assert_string_not_equal(ev.slots[0].id, orig0);
    assert_string_equal(class_in("spares", ev.slots[0].id), cls0);
    wb_evidence_cleanup(&ev);

    /* clone: another blade's part of that class */
    assert_int_equal(set_fault(u, "clone"), 204);
    challenge_ok(u, &ev, "clone");
    same_as_file(&ev, u, 0, (size_t)-1);
    assert_string_equal(class_in("parts", ev.slots[0].id), cls0);
    assert_string_not_equal(blade_of_part(ev.slots[0].id), u->id);
    wb_evidence_cleanup(&ev);

    /* unknown: an identity nobody manifested */
    assert_int_equal(set_fault(u, "unknown"), 204);
    challenge_ok(u, &ev, "unknown");
    same_as_file(&ev, u, 0, (size_t)-1);
    assert_string_equal(class_in("parts", ev.slots[0].id), "");
    assert_string_equal(class_in("spares", ev.slots[0].id), "");
    assert_null(unit_of(ev.slots[0].id));
    wb_evidence_cleanup(&ev);

    /* rogue-fw: the first measurement is an image nobody released */
    assert_int_equal(set_fault(u, "rogue-fw"), 204);
    challenge_ok(u, &ev, "rogue-fw");
    same_as_file(&ev, u, (size_t)-1, 0);
    assert_string_not_equal(ev.measurements[0].digest, digest(u, 0));
    {
        wb_sql_value a[1] = {WB_SQL_S(ev.measurements[0].digest)};
        assert_int_equal(sql_count(&F->f, "SELECT count(*) FROM fleet_firmware WHERE digest = "
                                          "$1", a, 1), 0);
    }
    wb_evidence_cleanup(&ev);

    /* bad-sig */
    assert_int_equal(set_fault(u, "bad-sig"), 204);
    challenge_fails(u, WB_EV_SIGNATURE, "bad-sig");

    /* impostor: an identity under a CA the ledger never registered */
    assert_int_equal(set_fault(u, "impostor"), 204);
    assert_int_equal(challenge(u, &ev, &why, NULL, NULL), 200);
    if (why != WB_EV_CHAIN)
        fail_msg("impostor: %s: %s", wb_evidence_failure_name(why), wb_error_message());
    assert_non_null(strstr(wb_error_message(), "not under the supplier CAs"));
    /* the report names the identity that answered, not the one it claims */
    assert_string_not_equal(ev.device, u->id);
    wb_evidence_cleanup(&ev);

    /* offline: no answer at all */
    assert_int_equal(set_fault(u, "offline"), 204);
    assert_int_not_equal(challenge(u, &ev, &why, NULL, NULL), 200);

    /* none: the truth again, then stale: the last answer replayed */
    assert_int_equal(set_fault(u, "none"), 204);
    challenge_ok(u, &ev, "none after offline");
    same_as_file(&ev, u, (size_t)-1, (size_t)-1);
    wb_evidence_cleanup(&ev);
    assert_int_equal(set_fault(u, "stale"), 204);
    challenge_fails(u, WB_EV_STALE, "stale");
    challenge_fails(u, WB_EV_STALE, "stale, again");
    assert_int_equal(set_fault(u, "none"), 204);
    challenge_ok(u, &ev, "none after stale");
    wb_evidence_cleanup(&ev);

    /* stale from the command line, nothing to replay: an old answer */
    challenge_fails(F->blades[0], WB_EV_STALE, "stale from the start");
}

static void test_rack_faults(void **state)
{
    const unit_ref *r0 = F->racks[0], *r1 = F->racks[1];
    wb_evidence ev;
    (void)state;
    /* clone from the command line: another rack's blade in its first slot */
    challenge_ok(r1, &ev, "rack clone");
    same_as_file(&ev, r1, 0, (size_t)-1);
    assert_non_null(unit_of(ev.slots[0].id));
    assert_string_equal(unit_of(ev.slots[0].id)->cls, "blade");
    assert_string_not_equal(ev.slots[0].id, slot_id(r1, 0));
    assert_string_equal(ev.slots[0].id, slot_id(r0, 0));
    wb_evidence_cleanup(&ev);
    /* swap: a spare (no blade is spare: any) */
    assert_int_equal(set_fault(r0, "swap"), 204);
    challenge_ok(r0, &ev, "rack swap");
    same_as_file(&ev, r0, 0, (size_t)-1);
    assert_string_not_equal(class_in("spares", ev.slots[0].id), "");
    wb_evidence_cleanup(&ev);
    /* unknown */
    assert_int_equal(set_fault(r0, "unknown"), 204);
    challenge_ok(r0, &ev, "rack unknown");
    assert_null(unit_of(ev.slots[0].id));
    assert_string_equal(class_in("spares", ev.slots[0].id), "");
    wb_evidence_cleanup(&ev);
    assert_int_equal(set_fault(r0, "none"), 204);
}

typedef struct {
    size_t ok, total;
    unsigned seed;
} worker;

/* no cmocka assertion off the main thread: counts what verified */
static void *challenge_many(void *arg)
{
    worker *w = arg;
    for (size_t i = 0; i < w->total; i++) {
        /* the clean blades */
        const unit_ref *u = F->blades[3 + (w->seed + i) % (RACKS * BLADES - 3)];
        uint8_t nonce[WB_NONCE_MAX];
        size_t n = WB_NONCE_MIN + (w->seed + i) % (WB_NONCE_MAX - WB_NONCE_MIN + 1);
        char url[4200];
        wb_http_response r;
        wb_evidence ev;
        wb_evidence_failure why = WB_EV_UNREACHABLE;
        wb_evidence_check c;
        memset(&ev, 0, sizeof(ev));
        snprintf(url, sizeof(url), "%s/devices/%s/challenge", F->url, u->id);
        if (wb_random_bytes(nonce, n) != 0 ||
            wb_http_request(&r, "POST", url, nonce, n, "application/octet-stream", NULL, 10) != 0)
            continue;
        memset(&c, 0, sizeof(c));
        c.nonce = nonce;
        c.nonce_len = n;
        c.cas = (const uint8_t *const *)F->ca;
        c.ca_len = F->ca_len;
        c.ncas = F->nca;
        c.expect_device = u->id;
        if (r.status == 200 && wb_evidence_verify(&ev, &why, r.body, r.len, &c) == 0 &&
            strcmp(ev.device, u->id) == 0)
            w->ok++;
        wb_evidence_cleanup(&ev);
        wb_http_response_cleanup(&r);
    }
    return NULL;
}

static void test_concurrent(void **state)
{
    pthread_t t[8];
    worker w[8];
    (void)state;
    for (unsigned i = 0; i < 8; i++) {
        w[i].ok = 0;
        w[i].total = 12;
        w[i].seed = i;
        assert_int_equal(pthread_create(&t[i], NULL, challenge_many, &w[i]), 0);
    }
    for (unsigned i = 0; i < 8; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(w[i].ok, w[i].total);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_list_and_show),
        cmocka_unit_test(test_clean_blade),
        cmocka_unit_test(test_bad_requests),
        cmocka_unit_test(test_faults_at_run_time),
        cmocka_unit_test(test_rack_faults),
        cmocka_unit_test(test_concurrent),
    };
    if (!getenv("WB_BIN")) {
        print_message("WB_BIN is not set: skipped\n");
        return 0;
    }
    return cmocka_run_group_tests(tests, setup, teardown);
}
