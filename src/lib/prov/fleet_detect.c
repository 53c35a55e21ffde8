/*
 * fleet_detect.c: the anomaly rules (docs/anomalies.md). Each rule compares
 * what an entry claims with the state the log built before it, and each
 * contradiction becomes a finding: rule name, tag (evict, investigate or
 * remediate), the device, a reason a person can act on, and the ids of the
 * entries that prove it. The service signs and registers each finding as
 * an ordinary entry, so findings carry receipts like everything else.
 *
 * A finding's id is the hex SHA-256 of "rule\ndevice\n<id of the entry that
 * raised it>\n<detail>": the same contradiction raised twice is one finding.
 */
#include "fleet_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "waybill/error.h"
#include "waybill/util.h"

typedef struct {
    wb_store *s;
    const wb_fleet_config *c;
    const wb_fleet_entry *e;
    char self[65];          /* this entry's id */
    int dry_run;            /* wb_fleet_dry_run: what would be raised */
    size_t repeated;        /* findings not raised again: already open */
    wb_fleet_finding **out;
    size_t *n;
    int rc;
} det;

/* adds a finding unless the same one exists (here or in the ledger) */
static void raise_finding(det *d, const char *rule, wb_tag tag, const char *device,
                          const char *site, const char *detail, const int64_t *evidence_idx,
                          size_t nev, const char *fmt, ...)
    __attribute__((format(printf, 9, 10)));

static void raise_finding(det *d, const char *rule, wb_tag tag, const char *device,
                          const char *site, const char *detail, const int64_t *evidence_idx,
                          size_t nev, const char *fmt, ...)
{
    char seed[512], id[65];
    uint8_t h[32];
    wb_fleet_finding *grown, *f;
    wb_p_finding *p;
    va_list ap;
    int64_t exists;

    char reason[WB_PROV_TEXT_MAX + 1];

    if (d->rc)
        return;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    /* attestations repeat every period, and an intake sees what the arrival
     * attestations just saw: a contradiction that is already an open finding
     * is not raised again until that finding is closed (a dry run still
     * reports it: it decides the verdict) */
    if (!d->dry_run && d->e && device && device[0] &&
        (d->e->kind == WB_KIND_ATTESTATION || d->e->kind == WB_KIND_INTAKE)) {
        /* an attestation repeats the same words; an intake words what the
         * arrival attestation saw its own way, so same rule and device */
        wb_sql_value a[3] = {WB_SQL_S(rule), WB_SQL_S(device), WB_SQL_S(reason)};
        int intake = d->e->kind == WB_KIND_INTAKE;
        if (fleet_int(d->s, &exists,
                      intake ? "SELECT 1 FROM fleet_findings WHERE rule = $1 AND device = $2 "
                               "AND status = 'open'"
                             : "SELECT 1 FROM fleet_findings WHERE rule = $1 AND device = $2 "
                               "AND reason = $3 AND status = 'open'",
                      a, intake ? 2 : 3) == 0) {
            d->repeated++;
            return;
        }
    }
    snprintf(seed, sizeof(seed), "%s\n%s\n%s\n%s", rule, device ? device : "", d->self,
             detail ? detail : "");
    wb_sha256(h, seed, strlen(seed));
    wb_hex_encode(id, h, 32);
    for (size_t i = 0; i < *d->n; i++)
        if (strcmp((*d->out)[i].payload.u.finding.finding_id, id) == 0)
            return;
    {
        wb_sql_value a[1] = {WB_SQL_S(id)};
        if (fleet_int(d->s, &exists, "SELECT 1 FROM fleet_findings WHERE id = $1", a, 1) == 0)
            return;
    }
    grown = realloc(*d->out, (*d->n + 1) * sizeof(*grown));
    if (!grown) {
        d->rc = wb_error_set(WB_E_NOMEM, "out of memory");
        return;
    }
    *d->out = grown;
    f = &grown[*d->n];
    memset(f, 0, sizeof(*f));
    f->payload.kind = WB_KIND_FINDING;
    f->payload.version = WB_PROV_VERSION;
    p = &f->payload.u.finding;
    snprintf(p->finding_id, sizeof(p->finding_id), "%s", id);
    snprintf(p->rule, sizeof(p->rule), "%s", rule);
    p->tag = tag;
    snprintf(p->device, sizeof(p->device), "%s", device ? device : "");
    snprintf(p->site, sizeof(p->site), "%s", site ? site : "");
    snprintf(p->reason, sizeof(p->reason), "%s", reason);
    p->evidence = calloc(nev + 1, sizeof(*p->evidence));
    if (!p->evidence) {
        d->rc = wb_error_set(WB_E_NOMEM, "out of memory");
        return;
    }
    for (size_t i = 0; i < nev; i++) {
        char hex[65] = "";
        fleet_entry_hex(d->s, evidence_idx[i], hex);
        if (hex[0])
            snprintf(p->evidence[p->nevidence++], 65, "%s", hex);
    }
    if (strlen(d->self) == 64) /* the entry that raised it (none for the scheduler) */
        snprintf(p->evidence[p->nevidence++], 65, "%s", d->self);
    snprintf(f->subject, sizeof(f->subject), "%s", device && device[0] ? device : rule);
    (*d->n)++;
}

/* ---- state lookups ---- */

typedef struct {
    int known;
    int64_t manifest_idx;
    int revoked;
    int64_t revoked_idx;
    int decommissioned;
    int64_t decommissioned_idx;
    int64_t placed_idx;      /* the entry that last set its site: an attestation, */
    int attested;            /* intake or receipt (-1 if none) */
    char state[32];
    char site[WB_PROV_NAME_MAX + 1];
} devinfo;

static int dev_row(void *vctx, const wb_sql_value *cols, size_t n)
{
    devinfo *d = vctx;
    if (n < 6)
        return 1;
    d->known = 1;
    d->manifest_idx = cols[0].i;
    d->revoked = cols[1].type == WB_SQL_INT;
    d->revoked_idx = cols[1].i;
    d->decommissioned = cols[2].type == WB_SQL_INT;
    d->decommissioned_idx = cols[2].i;
    d->attested = cols[5].type == WB_SQL_INT;
    d->placed_idx = d->attested ? cols[5].i : -1;
    snprintf(d->state, sizeof(d->state), "%s", cols[3].s ? cols[3].s : "");
    snprintf(d->site, sizeof(d->site), "%s", cols[4].s ? cols[4].s : "");
    return 1;
}

static devinfo device(det *d, const char *id)
{
    devinfo info;
    wb_sql_value a[1] = {WB_SQL_S(id)};
    memset(&info, 0, sizeof(info));
    if (wb_store_sql(d->s, "SELECT manifest_idx, revoked_idx, decommissioned_idx, state, site,"
                           " attested_idx FROM fleet_devices WHERE id = $1", a, 1, dev_row,
                     &info) < 0)
        d->rc = WB_E_STORE;
    return info;
}

typedef struct {
    int found;
    char other[WB_DEVICE_ID_HEX + WB_PROV_NAME_MAX + 2];
    char child[WB_DEVICE_ID_HEX + 1];
    int64_t from_idx;
} place_info;

static int place_row(void *vctx, const wb_sql_value *cols, size_t n)
{
    place_info *p = vctx;
    if (n < 2)
        return 1;
    p->found = 1;
    snprintf(p->child, sizeof(p->child), "%s", cols[0].s ? cols[0].s : "");
    p->from_idx = cols[1].i;
    return 1;
}

/* the device a slot holds now */
static place_info slot_holds(det *d, const char *parent, const char *slot)
{
    place_info p;
    wb_sql_value a[2] = {WB_SQL_S(parent), WB_SQL_S(slot)};
    memset(&p, 0, sizeof(p));
    if (wb_store_sql(d->s, "SELECT child, from_idx FROM fleet_placements WHERE parent = $1 "
                           "AND slot = $2 AND to_idx IS NULL", a, 2, place_row, &p) < 0)
        d->rc = WB_E_STORE;
    return p;
}

static int where_row(void *vctx, const wb_sql_value *cols, size_t n)
{
    place_info *p = vctx;
    if (n < 3)
        return 1;
    p->found = 1;
    snprintf(p->other, sizeof(p->other), "%s/%s", cols[0].s ? cols[0].s : "",
             cols[1].s ? cols[1].s : "");
    p->from_idx = cols[2].i;
    return 1;
}

/* where a device is placed now, other than under parent (if parent given) */
static place_info placed_elsewhere(det *d, const char *child, const char *parent,
                                   const char *slot)
{
    place_info p;
    wb_sql_value a[3] = {WB_SQL_S(child), WB_SQL_S(parent ? parent : ""),
                         WB_SQL_S(slot ? slot : "")};
    memset(&p, 0, sizeof(p));
    if (wb_store_sql(d->s, "SELECT parent, slot, from_idx FROM fleet_placements WHERE "
                           "child = $1 AND to_idx IS NULL AND NOT (parent = $2 AND slot = $3)",
                     a, 3, where_row, &p) < 0)
        d->rc = WB_E_STORE;
    return p;
}

/* the first 12 hex digits of an id; a ring of buffers, so that one message
 * can name several devices */
static const char *short_id(const char *id)
{
    static _Thread_local char buf[4][20];
    static _Thread_local unsigned next;
    char *b = buf[next++ % 4];
    snprintf(b, sizeof(buf[0]), "%.12s", id);
    return b;
}

/* unknown, revoked or decommissioned: the checks any sighting of a device gets */
static int check_identity(det *d, const char *id, const char *site, const char *where)
{
    devinfo info = device(d, id);
    if (!info.known) {
        raise_finding(d, "unknown-identity", WB_TAG_EVICT, id, site, where, NULL, 0,
                      "%s: identity %s was never manifested by a supplier", where,
                      short_id(id));
        return 0;
    }
    if (info.revoked) {
        raise_finding(d, "revoked-in-service", WB_TAG_EVICT, id, site, where,
                      &info.revoked_idx, 1, "%s: device %s was revoked by its supplier",
                      where, short_id(id));
    }
    if (info.decommissioned) {
        raise_finding(d, "revoked-in-service", WB_TAG_EVICT, id, site, "decommissioned",
                      &info.decommissioned_idx, 1,
                      "%s: device %s was decommissioned and is seen again", where,
                      short_id(id));
    }
    return 1;
}

/* a slot report (intake or attestation) against the expected placement */
static void check_slots(det *d, const char *parent, const wb_slot_entry *seen, size_t n,
                        const char *site, const char *what)
{
    for (size_t i = 0; i < n && !d->rc; i++) {
        place_info want = slot_holds(d, parent, seen[i].slot);
        char where[256];
        snprintf(where, sizeof(where), "%s of %s, slot %s", what, short_id(parent),
                 seen[i].slot);
        if (!check_identity(d, seen[i].id, site, where))
            continue;
        if (want.found && strcmp(want.child, seen[i].id) != 0) {
            int64_t ev[1] = {want.from_idx};
            raise_finding(d, "unauthorized-swap", WB_TAG_EVICT, seen[i].id, site,
                          seen[i].slot, ev, 1,
                          "%s holds %s, but the ledger places %s there and no replacement "
                          "authorizes the change", where, short_id(seen[i].id),
                          short_id(want.child));
        } else if (!want.found) {
            raise_finding(d, "unauthorized-swap", WB_TAG_INVESTIGATE, seen[i].id, site,
                          seen[i].slot, NULL, 0,
                          "%s holds %s, but the ledger records no part in that slot", where,
                          short_id(seen[i].id));
        }
        {
            place_info other = placed_elsewhere(d, seen[i].id, parent, seen[i].slot);
            if (other.found) {
                int64_t ev[1] = {other.from_idx};
                raise_finding(d, "clone", WB_TAG_EVICT, seen[i].id, site, "placed-elsewhere",
                              ev, 1, "%s: identity %s is also placed in %s: one of them is "
                              "a clone", where, short_id(seen[i].id), other.other);
            }
        }
    }
}

typedef struct {
    char (*slots)[WB_PROV_NAME_MAX + 1];
    char (*children)[WB_DEVICE_ID_HEX + 1];
    int64_t *from;
    size_t n;
} expected_slots;

static int expect_row(void *vctx, const wb_sql_value *cols, size_t n)
{
    expected_slots *x = vctx;
    void *a, *b, *c;
    if (n < 3)
        return 1;
    a = realloc(x->slots, (x->n + 1) * sizeof(*x->slots));
    if (a)
        x->slots = a;
    b = realloc(x->children, (x->n + 1) * sizeof(*x->children));
    if (b)
        x->children = b;
    c = realloc(x->from, (x->n + 1) * sizeof(*x->from));
    if (c)
        x->from = c;
    if (!a || !b || !c)
        return 1;
    snprintf(x->slots[x->n], WB_PROV_NAME_MAX + 1, "%s", cols[0].s ? cols[0].s : "");
    snprintf(x->children[x->n], WB_DEVICE_ID_HEX + 1, "%s", cols[1].s ? cols[1].s : "");
    x->from[x->n++] = cols[2].i;
    return 0;
}

/* expected slots that a report did not mention: the part is gone */
static void check_missing(det *d, const char *parent, const wb_slot_entry *seen, size_t n,
                          const char *site, const char *what)
{
    expected_slots x = {0};
    wb_sql_value a[1] = {WB_SQL_S(parent)};
    if (wb_store_sql(d->s, "SELECT slot, child, from_idx FROM fleet_placements WHERE "
                           "parent = $1 AND to_idx IS NULL ORDER BY slot", a, 1, expect_row,
                     &x) < 0)
        d->rc = WB_E_STORE;
    for (size_t i = 0; i < x.n && !d->rc; i++) {
        int reported = 0;
        for (size_t k = 0; k < n; k++)
            if (strcmp(seen[k].slot, x.slots[i]) == 0)
                reported = 1;
        if (!reported) {
            int64_t ev[1] = {x.from[i]};
            raise_finding(d, "unauthorized-swap", WB_TAG_INVESTIGATE, x.children[i], site,
                          x.slots[i], ev, 1, "%s of %s: slot %s should hold %s but was not "
                          "reported", what, short_id(parent), x.slots[i],
                          short_id(x.children[i]));
        }
    }
    free(x.slots);
    free(x.children);
    free(x.from);
}

/* ---- per kind ---- */

static void detect_manifest(det *d, const wb_p_manifest *p)
{
    for (size_t i = 0; i < p->ndevices && !d->rc; i++) {
        devinfo info = device(d, p->devices[i].id);
        if (info.known)
            raise_finding(d, "clone", WB_TAG_INVESTIGATE, p->devices[i].id, NULL, "manifest",
                          &info.manifest_idx, 1,
                          "identity %s is manifested a second time (serial %s)",
                          short_id(p->devices[i].id), p->devices[i].serial);
    }
}

static void detect_assembly(det *d, const wb_p_assembly *p)
{
    char where[200];
    snprintf(where, sizeof(where), "assembly of %s", short_id(p->parent));
    check_identity(d, p->parent, NULL, where);
    for (size_t i = 0; i < p->nchildren && !d->rc; i++) {
        place_info other;
        snprintf(where, sizeof(where), "assembly of %s, slot %s", short_id(p->parent),
                 p->children[i].slot);
        if (!check_identity(d, p->children[i].id, NULL, where))
            continue;
        other = placed_elsewhere(d, p->children[i].id, p->parent, p->children[i].slot);
        if (other.found) {
            int64_t ev[1] = {other.from_idx};
            raise_finding(d, "clone", WB_TAG_EVICT, p->children[i].id, NULL, "assembly", ev, 1,
                          "%s: identity %s is already placed in %s", where,
                          short_id(p->children[i].id), other.other);
        }
    }
}

static void detect_replacement(det *d, const wb_p_replacement *p)
{
    place_info now = slot_holds(d, p->parent, p->slot);
    char where[200];
    snprintf(where, sizeof(where), "replacement in %s, slot %s", short_id(p->parent), p->slot);
    check_identity(d, p->new_id, NULL, where);
    if (now.found && strcmp(now.child, p->old_id) != 0) {
        int64_t ev[1] = {now.from_idx};
        raise_finding(d, "unauthorized-swap", WB_TAG_INVESTIGATE, p->old_id, NULL, p->slot, ev,
                      1, "%s replaces %s, but the slot holds %s", where, short_id(p->old_id),
                      short_id(now.child));
    }
    {
        place_info other = placed_elsewhere(d, p->new_id, p->parent, p->slot);
        if (other.found) {
            int64_t ev[1] = {other.from_idx};
            raise_finding(d, "clone", WB_TAG_EVICT, p->new_id, NULL, "replacement", ev, 1,
                          "%s: the new part %s is already placed in %s", where,
                          short_id(p->new_id), other.other);
        }
    }
}

typedef struct {
    int found;
    char from[WB_PROV_NAME_MAX + 1];
    char to[WB_PROV_NAME_MAX + 1];
    char *seals;
    char *units;
    int64_t ship_idx;
    int received;
} ship_info;

static int ship_row(void *vctx, const wb_sql_value *cols, size_t n)
{
    ship_info *s = vctx;
    if (n < 6)
        return 1;
    s->found = 1;
    snprintf(s->from, sizeof(s->from), "%s", cols[0].s ? cols[0].s : "");
    snprintf(s->to, sizeof(s->to), "%s", cols[1].s ? cols[1].s : "");
    s->seals = strdup(cols[2].s ? cols[2].s : "");
    s->units = strdup(cols[3].s ? cols[3].s : "");
    s->ship_idx = cols[4].i;
    s->received = cols[5].type == WB_SQL_INT;
    return 1;
}

static ship_info shipment(det *d, const char *id)
{
    ship_info s;
    wb_sql_value a[1] = {WB_SQL_S(id)};
    memset(&s, 0, sizeof(s));
    if (wb_store_sql(d->s, "SELECT from_site, to_site, seals, units, ship_idx, receive_idx "
                           "FROM fleet_shipments WHERE id = $1", a, 1, ship_row, &s) < 0)
        d->rc = WB_E_STORE;
    return s;
}


/* the seals of a report equal the shipped ones (as sets) */
static int seals_match(const char *shipped, char *const *seals, size_t n)
{
    if (fleet_list_count(shipped) != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!fleet_list_has(shipped, seals[i]))
            return 0;
    return 1;
}

static void detect_custody(det *d, const wb_p_custody *p)
{
    ship_info s = shipment(d, p->shipment);
    for (size_t i = 0; i < p->nunits && !d->rc; i++) {
        char where[200];
        snprintf(where, sizeof(where), "shipment %s", p->shipment);
        check_identity(d, p->units[i], p->to, where);
    }
    if (p->event == WB_CUSTODY_SHIP) {
        if (s.found)
            raise_finding(d, "custody-gap", WB_TAG_INVESTIGATE, NULL, p->from, p->shipment,
                          &s.ship_idx, 1, "shipment %s is shipped a second time",
                          p->shipment);
    } else if (!s.found) {
        raise_finding(d, "custody-gap", WB_TAG_INVESTIGATE, NULL, p->to, p->shipment, NULL, 0,
                      "shipment %s is received at %s but was never shipped", p->shipment,
                      p->to);
    } else {
        if (strcmp(s.to, p->to) != 0)
            raise_finding(d, "custody-gap", WB_TAG_INVESTIGATE, NULL, p->to, "destination",
                          &s.ship_idx, 1, "shipment %s was shipped to %s but received at %s",
                          p->shipment, s.to, p->to);
        if (!seals_match(s.seals, p->seals, p->nseals))
            raise_finding(d, "seal-mismatch", WB_TAG_INVESTIGATE, NULL, p->to, "receive",
                          &s.ship_idx, 1, "shipment %s: the seals at receipt differ from "
                          "the seals at shipping", p->shipment);
        for (size_t i = 0; i < p->nunits; i++)
            if (!fleet_list_has(s.units, p->units[i]))
                raise_finding(d, "custody-gap", WB_TAG_INVESTIGATE, p->units[i], p->to,
                              "unit", &s.ship_idx, 1, "shipment %s: unit %s is received "
                              "but was not shipped", p->shipment, short_id(p->units[i]));
        if (fleet_list_count(s.units) != p->nunits)
            raise_finding(d, "custody-gap", WB_TAG_INVESTIGATE, NULL, p->to, "count",
                          &s.ship_idx, 1, "shipment %s: %zu units shipped, %zu received",
                          p->shipment, fleet_list_count(s.units), p->nunits);
    }
    free(s.seals);
    free(s.units);
}

static void detect_intake(det *d, const wb_p_intake *p)
{
    ship_info s = shipment(d, p->shipment);
    int other = 0;
    size_t before = *d->n, repeated = d->repeated;
    if (!s.found) {
        raise_finding(d, "custody-gap", WB_TAG_INVESTIGATE, NULL, p->site, "intake", NULL, 0,
                      "intake at %s of shipment %s, which was never shipped", p->site,
                      p->shipment);
    } else {
        if (strcmp(s.to, p->site) != 0)
            raise_finding(d, "custody-gap", WB_TAG_INVESTIGATE, NULL, p->site, "intake-site",
                          &s.ship_idx, 1, "shipment %s was shipped to %s but taken in at %s",
                          p->shipment, s.to, p->site);
        if (!seals_match(s.seals, p->seals, p->nseals))
            raise_finding(d, "seal-mismatch", WB_TAG_INVESTIGATE, NULL, p->site, "intake",
                          &s.ship_idx, 1, "shipment %s: the seals found at intake differ "
                          "from the seals at shipping", p->shipment);
    }
    for (size_t i = 0; i < p->nunits && !d->rc; i++) {
        char what[200];
        if (s.found && !fleet_list_has(s.units, p->units[i].id))
            raise_finding(d, "custody-gap", WB_TAG_INVESTIGATE, p->units[i].id, p->site,
                          "intake-unit", &s.ship_idx, 1,
                          "intake: unit %s was not in shipment %s",
                          short_id(p->units[i].id), p->shipment);
        snprintf(what, sizeof(what), "intake at %s", p->site);
        if (!check_identity(d, p->units[i].id, p->site, what))
            continue;
        check_slots(d, p->units[i].id, p->units[i].found, p->units[i].nfound, p->site, what);
        check_missing(d, p->units[i].id, p->units[i].found, p->units[i].nfound, p->site, what);
    }
    other = *d->n > before || d->repeated > repeated;
    if (p->verdict == WB_VERDICT_FAIL && !other)
        raise_finding(d, "intake-failed", WB_TAG_INVESTIGATE, NULL, p->site, p->shipment,
                      NULL, 0, "intake of shipment %s at %s failed", p->shipment, p->site);
    free(s.seals);
    free(s.units);
}

typedef struct {
    int released;
    int revoked;
    int64_t fw_idx;
    int64_t revoked_idx;
    int reviews;
    int64_t max_tenths;
    int64_t review_idx;
} fw_info;

static int fw_row(void *vctx, const wb_sql_value *cols, size_t n)
{
    fw_info *f = vctx;
    if (n < 2)
        return 1;
    f->released = 1;
    f->fw_idx = cols[0].i;
    f->revoked = cols[1].type == WB_SQL_INT;
    f->revoked_idx = cols[1].i;
    return 1;
}

static int review_row(void *vctx, const wb_sql_value *cols, size_t n)
{
    fw_info *f = vctx;
    if (n < 2)
        return 1;
    f->reviews++;
    /* the newest review speaks for the firmware */
    f->max_tenths = cols[0].i;
    f->review_idx = cols[1].i;
    return 0;
}

static void detect_measurements(det *d, const wb_p_attestation *p)
{
    for (size_t i = 0; i < p->nmeasurements && !d->rc; i++) {
        const wb_measurement *m = &p->measurements[i];
        fw_info f;
        wb_sql_value a[1] = {WB_SQL_S(m->digest)};
        memset(&f, 0, sizeof(f));
        if (wb_store_sql(d->s, "SELECT idx, revoked_idx FROM fleet_firmware WHERE digest = $1",
                         a, 1, fw_row, &f) < 0 ||
            wb_store_sql(d->s, "SELECT max_cvss_tenths, idx FROM fleet_reviews WHERE "
                               "firmware_digest = $1 ORDER BY idx", a, 1, review_row, &f) < 0) {
            d->rc = WB_E_STORE;
            return;
        }
        if (!f.released) {
            raise_finding(d, "firmware-unreleased", WB_TAG_EVICT, p->target, p->site,
                          m->digest, NULL, 0, "%s of %s runs firmware %.16s... that no "
                          "vendor released", m->component, short_id(p->target), m->digest);
            continue;
        }
        if (f.revoked) {
            int64_t ev[2] = {f.fw_idx, f.revoked_idx};
            raise_finding(d, "firmware-revoked", WB_TAG_REMEDIATE, p->target, p->site,
                          m->digest, ev, 2, "%s of %s runs firmware %.16s... that its vendor "
                          "revoked", m->component, short_id(p->target), m->digest);
            continue;
        }
        if (f.reviews == 0) {
            int64_t ev[1] = {f.fw_idx};
            raise_finding(d, "firmware-unreviewed", WB_TAG_REMEDIATE, p->target, p->site,
                          m->digest, ev, 1, "%s of %s runs firmware %.16s... that has no "
                          "security review", m->component, short_id(p->target), m->digest);
        } else if ((double)f.max_tenths / 10.0 >= d->c->cvss_threshold) {
            int64_t ev[2] = {f.fw_idx, f.review_idx};
            raise_finding(d, "firmware-vulnerable", WB_TAG_REMEDIATE, p->target, p->site,
                          m->digest, ev, 2, "%s of %s runs firmware %.16s... whose review has "
                          "an issue of CVSS %.1f (threshold %.1f)", m->component,
                          short_id(p->target), m->digest, (double)f.max_tenths / 10.0,
                          d->c->cvss_threshold);
        }
    }
}

/* an answer that could not be trusted at all, by the check it failed */
static void detect_failed_check(det *d, const wb_p_attestation *p, const devinfo *info,
                                const char *what)
{
    const char *first = p->nreasons ? p->reasons[0] : "no reason given";
    switch (p->failed_check) {
    case WB_CHECK_UNREACHABLE:
        raise_finding(d, "attestation-overdue", WB_TAG_INVESTIGATE, p->target, p->site,
                      "unreachable", info->attested ? &info->placed_idx : NULL,
                      info->attested ? 1 : 0, "%s: device %s could not be reached, so it "
                      "has no fresh attestation", what, short_id(p->target));
        break;
    case WB_CHECK_STALE:
        raise_finding(d, "evidence-stale", WB_TAG_INVESTIGATE, p->target, p->site, "stale",
                      NULL, 0, "%s: device %s answered with stale or replayed evidence: %s",
                      what, short_id(p->target), first);
        break;
    default:
        raise_finding(d, "evidence-invalid", WB_TAG_EVICT, p->target, p->site,
                      wb_failed_check_name(p->failed_check), NULL, 0,
                      "%s: device %s could not prove its identity (%s check): %s", what,
                      short_id(p->target), wb_failed_check_name(p->failed_check), first);
        break;
    }
}

static void detect_attestation(det *d, const wb_p_attestation *p)
{
    size_t before = *d->n, repeated = d->repeated;
    char what[200];
    devinfo info;
    snprintf(what, sizeof(what), "attestation at %s", p->site);
    if (!check_identity(d, p->target, p->site, what))
        return;
    info = device(d, p->target);
    if (p->failed_check != WB_CHECK_NONE) {
        /* what it reported is not evidence of anything */
        detect_failed_check(d, p, &info, what);
        return;
    }
    /* one identity, two places: it answered here while the ledger has it
     * at another site, with no shipment in between */
    if (info.site[0] && strcmp(info.site, p->site) != 0 &&
        strcmp(info.state, "in-transit") != 0)
        raise_finding(d, "clone", WB_TAG_EVICT, p->target, p->site, "site",
                      info.attested ? &info.placed_idx : &info.manifest_idx, 1,
                      "%s: device %s answered at %s, but the ledger has it at %s with no "
                      "shipment since", what, short_id(p->target), p->site, info.site);
    check_slots(d, p->target, p->seen, p->nseen, p->site, what);
    check_missing(d, p->target, p->seen, p->nseen, p->site, what);
    detect_measurements(d, p);
    if (p->verdict == WB_VERDICT_PASS && p->phase == WB_PHASE_PREPRODUCTION && !d->rc) {
        char slot[WB_PROV_NAME_MAX + 1], child[65];
        int r = fleet_unattested_child(d->s, p->target, slot, sizeof(slot), child);
        if (r < 0)
            d->rc = r;
        else if (r == 1)
            raise_finding(d, "production-gate", WB_TAG_INVESTIGATE, p->target, p->site, child,
                          NULL, 0, "%s: %s passes pre-production, but %s in slot %s has no "
                          "passing attestation of its own: it stays out of production",
                          what, short_id(p->target), short_id(child), slot);
    }
    if (p->verdict == WB_VERDICT_FAIL && *d->n == before && d->repeated == repeated)
        raise_finding(d, "attestation-failed", WB_TAG_INVESTIGATE, p->target, p->site, "fail",
                      NULL, 0, "%s: device %s failed attestation: %s", what,
                      short_id(p->target), p->nreasons ? p->reasons[0] : "no reason given");
}

static void det_init(det *d, wb_store *s, const wb_fleet_config *c, const wb_fleet_entry *e,
                     wb_fleet_finding **out, size_t *n)
{
    memset(d, 0, sizeof(*d));
    d->s = s;
    d->c = c;
    d->e = e;
    d->out = out;
    d->n = n;
}

int wb_fleet_detect(wb_store *s, const wb_fleet_config *c, const wb_fleet_entry *e,
                    wb_fleet_finding **out, size_t *n)
{
    det d;
    det_init(&d, s, c, e, out, n);
    wb_hex_encode(d.self, e->id, 32);
    switch (e->kind) {
    case WB_KIND_MANIFEST:
        detect_manifest(&d, &e->payload.u.manifest);
        break;
    case WB_KIND_ASSEMBLY:
        detect_assembly(&d, &e->payload.u.assembly);
        break;
    case WB_KIND_REPLACEMENT:
        detect_replacement(&d, &e->payload.u.replacement);
        break;
    case WB_KIND_CUSTODY:
        detect_custody(&d, &e->payload.u.custody);
        break;
    case WB_KIND_INTAKE:
        detect_intake(&d, &e->payload.u.intake);
        break;
    case WB_KIND_ATTESTATION:
        detect_attestation(&d, &e->payload.u.attestation);
        break;
    case WB_KIND_DECOMMISSION:
        check_identity(&d, e->payload.u.decommission.device, e->payload.u.decommission.site,
                       "decommission");
        break;
    default:
        break;
    }
    return d.rc;
}

int wb_fleet_dry_run(wb_store *s, const wb_fleet_config *c, const wb_fleet_entry *e,
                     wb_fleet_finding **out, size_t *n)
{
    det d;
    det_init(&d, s, c, e, out, n);
    d.dry_run = 1;
    /* no entry id yet: findings name no raising entry */
    if (e->kind == WB_KIND_ATTESTATION)
        detect_attestation(&d, &e->payload.u.attestation);
    else if (e->kind == WB_KIND_INTAKE)
        detect_intake(&d, &e->payload.u.intake);
    else
        return wb_error_set(WB_E_INVALID, "dry run: only attestations and intakes, not %s",
                            wb_kind_name(e->kind));
    return d.rc;
}

void wb_fleet_findings_free(wb_fleet_finding *f, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(f[i].payload.u.finding.evidence);
    free(f);
}

typedef struct {
    det *d;
    int64_t now;
} overdue_ctx;

static int overdue_row(void *vctx, const wb_sql_value *cols, size_t n)
{
    overdue_ctx *o = vctx;
    char detail[32];
    if (n < 4)
        return 1;
    snprintf(detail, sizeof(detail), "%lld", (long long)cols[2].i);
    raise_finding(o->d, "attestation-overdue", WB_TAG_INVESTIGATE, cols[0].s, cols[1].s,
                  detail, &cols[3].i, 1,
                  "device %s in production at %s was last attested %lld s ago (period %lld s)",
                  short_id(cols[0].s), cols[1].s, (long long)(o->now - cols[2].i),
                  (long long)o->d->c->attest_period_s);
    return o->d->rc ? 1 : 0;
}

int wb_fleet_overdue(wb_store *s, const wb_fleet_config *c, int64_t now,
                     wb_fleet_finding **out, size_t *n)
{
    det d;
    overdue_ctx o = {&d, now};
    wb_sql_value a[1] = {WB_SQL_I(now - c->attest_period_s)};
    int rc;
    det_init(&d, s, c, NULL, out, n);
    /* the finding names the last attestation; "self" is the device's last
     * attestation entry, so one finding per overdue period */
    snprintf(d.self, sizeof(d.self), "overdue");
    rc = wb_store_sql(s, "SELECT d.id, d.site, d.attested_iat, d.attested_idx FROM "
                         "fleet_devices d WHERE d.state = 'in-production' AND "
                         "d.attested_iat < $1 AND NOT EXISTS (SELECT 1 FROM fleet_findings f "
                         "WHERE f.device = d.id AND f.rule = 'attestation-overdue' AND "
                         "f.status = 'open') ORDER BY d.id", a, 1, overdue_row, &o);
    if (rc < 0)
        return rc;
    return d.rc;
}
