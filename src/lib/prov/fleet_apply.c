/*
 * fleet_apply.c: step 3 of docs/anomalies.md: how each kind of entry
 * changes the fleet tables. Pure: the tables after entry k depend only on
 * entries 0..k, which is what lets `waybill reindex` rebuild them exactly.
 *
 * What is recorded is what was claimed. A claim that contradicts the state
 * (a child placed twice, a receive without a ship) is still applied as
 * claimed; the anomaly rules, evaluated before this step, raise findings.
 *
 * Device states: manufactured -> assembled -> in-transit -> received ->
 * in-production -> decommissioned; "tagged" is not a state but an open
 * finding, so that resolving the finding needs no state to restore.
 */
#include "fleet_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "waybill/error.h"
#include "waybill/util.h"

/* names and ids are stored as newline-separated lists (they are single-line) */
static int join_names(char **out, char *const *names, size_t n)
{
    return fleet_list_join(out, (const char *const *)names, n);
}

static int join_ids(char **out, const wb_device_id *ids, size_t n)
{
    const char **p = calloc(n ? n : 1, sizeof(*p));
    int rc;
    if (!p)
        return wb_error_set(WB_E_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        p[i] = ids[i];
    rc = fleet_list_join(out, p, n);
    free(p);
    return rc;
}

static int set_state(wb_store *s, const char *id, const char *state)
{
    wb_sql_value a[2] = {WB_SQL_S(state), WB_SQL_S(id)};
    return fleet_exec(s, "UPDATE fleet_devices SET state = $1 WHERE id = $2 "
                         "AND decommissioned_idx IS NULL", a, 2);
}

/* state and site of a unit and everything placed under it, transitively */
static int set_tree(wb_store *s, const char *root, const char *state, const char *site)
{
    /* parameters numbered in order of first use (waybill/store.h): SQLite
     * binds $N by position of appearance, not by N */
    wb_sql_value a[3] = {WB_SQL_S(root), WB_SQL_S(state), WB_SQL_S(site)};
    static const char *with_site =
        "WITH RECURSIVE tree(id) AS (SELECT $1 UNION SELECT p.child FROM fleet_placements p"
        " JOIN tree t ON p.parent = t.id WHERE p.to_idx IS NULL)"
        " UPDATE fleet_devices SET state = $2, site = $3 WHERE id IN (SELECT id FROM tree)"
        " AND decommissioned_idx IS NULL";
    static const char *state_only =
        "WITH RECURSIVE tree(id) AS (SELECT $1 UNION SELECT p.child FROM fleet_placements p"
        " JOIN tree t ON p.parent = t.id WHERE p.to_idx IS NULL)"
        " UPDATE fleet_devices SET state = $2 WHERE id IN (SELECT id FROM tree)"
        " AND decommissioned_idx IS NULL";
    return fleet_exec(s, site ? with_site : state_only, a, site ? 3 : 2);
}

static int apply_issuer(wb_store *s, const wb_fleet_entry *e)
{
    const wb_p_issuer *p = &e->payload.u.issuer;
    char *mfr = NULL, *sites = NULL;
    int rc;
    if (p->action == WB_ISSUER_RETIRE) {
        wb_sql_value a[2] = {WB_SQL_I(e->index), WB_SQL_S(p->name)};
        rc = fleet_exec(s, "UPDATE fleet_issuers SET status = 'retired', changed_idx = $1 "
                           "WHERE name = $2", a, 2);
        if (rc == 0) {
            wb_sql_value b[1] = {WB_SQL_S(p->name)};
            rc = fleet_exec(s, "DELETE FROM fleet_issuer_keys WHERE name = $1", b, 1);
        }
        return rc;
    }
    rc = join_names(&mfr, p->manufacturers, p->nmanufacturers);
    if (rc == 0)
        rc = join_names(&sites, p->sites, p->nsites);
    if (rc == 0) {
        wb_sql_value a[6] = {WB_SQL_S(p->name), WB_SQL_S(wb_role_name(p->role)),
                             WB_SQL_S(mfr), WB_SQL_S(sites), WB_SQL_I(e->index),
                             WB_SQL_I(e->index)};
        /* add and update both leave exactly the statement's description */
        rc = fleet_exec(s, "INSERT INTO fleet_issuers (name, role, status, manufacturers,"
                           " sites, added_idx, changed_idx) VALUES ($1, $2, 'active', $3, $4,"
                           " $5, $6) ON CONFLICT (name) DO UPDATE SET role = $2,"
                           " status = 'active', manufacturers = $3, sites = $4,"
                           " changed_idx = $6", a, 6);
    }
    if (rc == 0) {
        wb_sql_value b[1] = {WB_SQL_S(p->name)};
        rc = fleet_exec(s, "DELETE FROM fleet_issuer_keys WHERE name = $1", b, 1);
        if (rc == 0)
            rc = fleet_exec(s, "DELETE FROM fleet_issuer_cas WHERE name = $1", b, 1);
    }
    for (size_t i = 0; rc == 0 && i < p->nkeys; i++) {
        uint8_t kid[32];
        char hex[65];
        wb_sha256(kid, p->keys[i], p->key_lens[i]);
        wb_hex_encode(hex, kid, 32);
        {
            wb_sql_value a[4] = {WB_SQL_S(hex), WB_SQL_S(p->name),
                                 WB_SQL_B(p->keys[i], p->key_lens[i]), WB_SQL_I(e->index)};
            /* a key already registered to another issuer stays with the first */
            rc = fleet_exec(s, "INSERT INTO fleet_issuer_keys (kid, name, spki, idx) VALUES"
                               " ($1, $2, $3, $4) ON CONFLICT DO NOTHING", a, 4);
        }
    }
    for (size_t i = 0; rc == 0 && i < p->ncas; i++) {
        wb_sql_value a[4] = {WB_SQL_S(p->name), WB_SQL_I((int64_t)i),
                             WB_SQL_B(p->cas[i], p->ca_lens[i]), WB_SQL_I(e->index)};
        rc = fleet_exec(s, "INSERT INTO fleet_issuer_cas (name, n, der, idx) VALUES"
                           " ($1, $2, $3, $4)", a, 4);
    }
    free(mfr);
    free(sites);
    return rc;
}

static int apply_manifest(wb_store *s, const wb_fleet_entry *e)
{
    const wb_p_manifest *p = &e->payload.u.manifest;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < p->ndevices; i++) {
        const wb_p_device *d = &p->devices[i];
        wb_sql_value a[7] = {WB_SQL_S(d->id), WB_SQL_S(wb_class_name(d->cls)),
                             WB_SQL_S(p->manufacturer), WB_SQL_S(d->model),
                             WB_SQL_S(d->serial), WB_SQL_S(e->iss), WB_SQL_I(e->index)};
        /* the first manifest of an identity stands; a second is a clone claim */
        rc = fleet_exec(s, "INSERT INTO fleet_devices (id, class, manufacturer, model, serial,"
                           " issuer, manifest_idx, state, site) VALUES ($1, $2, $3, $4, $5,"
                           " $6, $7, 'manufactured', '') ON CONFLICT DO NOTHING", a, 7);
        if (rc == 0)
            rc = fleet_touch(s, e, d->id);
    }
    return rc;
}

static int place(wb_store *s, const wb_fleet_entry *e, const char *parent, const char *slot,
                 const char *child)
{
    wb_sql_value a[3] = {WB_SQL_I(e->index), WB_SQL_S(parent), WB_SQL_S(slot)};
    int rc = fleet_exec(s, "UPDATE fleet_placements SET to_idx = $1 WHERE parent = $2 AND "
                           "slot = $3 AND to_idx IS NULL", a, 3);
    if (rc == 0) {
        wb_sql_value b[4] = {WB_SQL_S(parent), WB_SQL_S(slot), WB_SQL_S(child),
                             WB_SQL_I(e->index)};
        rc = fleet_exec(s, "INSERT INTO fleet_placements (parent, slot, child, from_idx) "
                           "VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING", b, 4);
    }
    if (rc == 0)
        rc = fleet_touch(s, e, child);
    return rc;
}

static int apply_assembly(wb_store *s, const wb_fleet_entry *e)
{
    const wb_p_assembly *p = &e->payload.u.assembly;
    int rc = fleet_touch(s, e, p->parent);
    for (size_t i = 0; rc == 0 && i < p->nchildren; i++) {
        rc = place(s, e, p->parent, p->children[i].slot, p->children[i].id);
        if (rc == 0)
            rc = set_state(s, p->children[i].id, "assembled");
    }
    if (rc == 0)
        rc = set_state(s, p->parent, "assembled");
    return rc;
}

static int apply_replacement(wb_store *s, const wb_fleet_entry *e)
{
    const wb_p_replacement *p = &e->payload.u.replacement;
    char state[32] = "assembled";
    wb_sql_value a[1] = {WB_SQL_S(p->parent)};
    int rc = fleet_touch(s, e, p->parent);
    if (rc == 0)
        rc = fleet_touch(s, e, p->old_id);
    if (rc == 0)
        rc = place(s, e, p->parent, p->slot, p->new_id);
    /* the new part takes the parent's state; the old one leaves the tree */
    if (rc == 0 && fleet_text(s, state, sizeof(state),
                              "SELECT state FROM fleet_devices WHERE id = $1", a, 1) != 0)
        snprintf(state, sizeof(state), "assembled");
    if (rc == 0)
        rc = set_state(s, p->new_id, state);
    if (rc == 0)
        rc = set_state(s, p->old_id, "removed");
    return rc;
}

static int apply_custody(wb_store *s, const wb_fleet_entry *e)
{
    const wb_p_custody *p = &e->payload.u.custody;
    char *units = NULL, *seals = NULL;
    int rc = join_ids(&units, p->units, p->nunits);
    if (rc == 0)
        rc = join_names(&seals, p->seals, p->nseals);
    if (rc == 0 && p->event == WB_CUSTODY_SHIP) {
        wb_sql_value a[6] = {WB_SQL_S(p->shipment), WB_SQL_S(p->from), WB_SQL_S(p->to),
                             WB_SQL_S(seals), WB_SQL_S(units), WB_SQL_I(e->index)};
        rc = fleet_exec(s, "INSERT INTO fleet_shipments (id, from_site, to_site, seals, units,"
                           " ship_idx) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
                        a, 6);
        for (size_t i = 0; rc == 0 && i < p->nunits; i++) {
            rc = fleet_touch(s, e, p->units[i]);
            if (rc == 0)
                rc = set_tree(s, p->units[i], "in-transit", NULL);
        }
    } else if (rc == 0) {
        wb_sql_value a[2] = {WB_SQL_I(e->index), WB_SQL_S(p->shipment)};
        rc = fleet_exec(s, "UPDATE fleet_shipments SET receive_idx = $1 WHERE id = $2 AND "
                           "receive_idx IS NULL", a, 2);
        for (size_t i = 0; rc == 0 && i < p->nunits; i++) {
            rc = fleet_touch(s, e, p->units[i]);
            if (rc == 0)
                rc = set_tree(s, p->units[i], "received", p->to);
        }
    }
    free(units);
    free(seals);
    return rc;
}

static int apply_intake(wb_store *s, const wb_fleet_entry *e)
{
    const wb_p_intake *p = &e->payload.u.intake;
    wb_sql_value a[2] = {WB_SQL_I(e->index), WB_SQL_S(p->shipment)};
    int rc = fleet_exec(s, "UPDATE fleet_shipments SET intake_idx = $1 WHERE id = $2 AND "
                           "intake_idx IS NULL", a, 2);
    for (size_t i = 0; rc == 0 && i < p->nunits; i++) {
        rc = fleet_touch(s, e, p->units[i].id);
        if (rc == 0)
            rc = set_tree(s, p->units[i].id, "received", p->site);
        for (size_t k = 0; rc == 0 && k < p->units[i].nfound; k++)
            rc = fleet_touch(s, e, p->units[i].found[k].id);
    }
    return rc;
}

static const char *phase_name(wb_attest_phase ph)
{
    return ph == WB_PHASE_ARRIVAL ? "arrival"
           : ph == WB_PHASE_PREPRODUCTION ? "pre-production"
                                          : "periodic";
}

static int apply_attestation(wb_store *s, const wb_fleet_entry *e)
{
    const wb_p_attestation *p = &e->payload.u.attestation;
    int pass = p->verdict == WB_VERDICT_PASS;
    wb_sql_value a[6] = {WB_SQL_I(e->index), WB_SQL_S(p->target), WB_SQL_S(p->site),
                         WB_SQL_S(phase_name(p->phase)), WB_SQL_S(pass ? "pass" : "fail"),
                         WB_SQL_I(e->iat)};
    int rc = fleet_exec(s, "INSERT INTO fleet_attestations (idx, device, site, phase, verdict,"
                           " iat) VALUES ($1, $2, $3, $4, $5, $6)", a, 6);
    if (rc == 0)
        rc = fleet_touch(s, e, p->target);
    for (size_t i = 0; rc == 0 && i < p->nseen; i++) {
        wb_sql_value b[3] = {WB_SQL_I(e->index), WB_SQL_S(p->seen[i].slot),
                             WB_SQL_S(p->seen[i].id)};
        rc = fleet_touch(s, e, p->seen[i].id);
        if (rc == 0)
            rc = fleet_exec(s, "INSERT INTO fleet_attestation_slots (idx, slot, device) VALUES"
                               " ($1, $2, $3) ON CONFLICT DO NOTHING", b, 3);
    }
    for (size_t i = 0; rc == 0 && i < p->nmeasurements; i++) {
        wb_sql_value m[3] = {WB_SQL_I(e->index), WB_SQL_S(p->measurements[i].component),
                             WB_SQL_S(p->measurements[i].digest)};
        rc = fleet_exec(s, "INSERT INTO fleet_attestation_measurements (idx, component, digest)"
                           " VALUES ($1, $2, $3) ON CONFLICT DO NOTHING", m, 3);
    }
    if (rc == 0 && pass) {
        wb_sql_value b[3] = {WB_SQL_I(e->index), WB_SQL_I(e->iat), WB_SQL_S(p->target)};
        rc = fleet_exec(s, "UPDATE fleet_devices SET attested_idx = $1, attested_iat = $2 "
                           "WHERE id = $3", b, 3);
        /* passing the pre-production or a periodic check puts the machine
         * (and what is in it) in production, once every part-holding unit in
         * it (each blade of a rack) has passed its own */
        if (rc == 0 && p->phase != WB_PHASE_ARRIVAL) {
            char slot[WB_PROV_NAME_MAX + 1], child[65];
            rc = fleet_unattested_child(s, p->target, slot, sizeof(slot), child);
            if (rc == 0)
                rc = set_tree(s, p->target, "in-production", p->site);
            else if (rc == 1)
                rc = 0;
        }
    }
    return rc;
}

static int apply_firmware(wb_store *s, const wb_fleet_entry *e)
{
    const wb_p_firmware *p = &e->payload.u.firmware;
    wb_sql_value a[7] = {WB_SQL_S(p->digest), WB_SQL_S(wb_class_name(p->cls)),
                         WB_SQL_S(p->vendor), WB_SQL_S(p->fw_version), WB_SQL_I(p->svn),
                         WB_SQL_S(e->iss), WB_SQL_I(e->index)};
    return fleet_exec(s, "INSERT INTO fleet_firmware (digest, class, vendor, fw_version, svn,"
                         " issuer, idx) VALUES ($1, $2, $3, $4, $5, $6, $7) "
                         "ON CONFLICT DO NOTHING", a, 7);
}

static int apply_review(wb_store *s, const wb_fleet_entry *e)
{
    const wb_p_review *p = &e->payload.u.review;
    double max = 0;
    for (size_t i = 0; i < p->nissues; i++)
        if (p->issues[i].cvss > max)
            max = p->issues[i].cvss;
    {
        wb_sql_value a[6] = {WB_SQL_I(e->index), WB_SQL_S(p->firmware_digest),
                             WB_SQL_S(p->reviewer), WB_SQL_S(e->iss),
                             WB_SQL_I((int64_t)(max * 10 + 0.5)),
                             WB_SQL_I((int64_t)p->nissues)};
        return fleet_exec(s, "INSERT INTO fleet_reviews (idx, firmware_digest, reviewer, issuer,"
                             " max_cvss_tenths, nissues) VALUES ($1, $2, $3, $4, $5, $6)", a, 6);
    }
}

static int apply_finding(wb_store *s, const wb_fleet_entry *e)
{
    const wb_p_finding *p = &e->payload.u.finding;
    wb_buf b;
    uint8_t *ev = NULL;
    size_t evlen;
    int rc;
    wb_buf_init(&b, 1 << 20);
    for (size_t i = 0; i < p->nevidence; i++) {
        if (i)
            wb_buf_add_str(&b, "\n");
        wb_buf_add_str(&b, p->evidence[i]);
    }
    rc = wb_buf_finish(&b, &ev, &evlen);
    if (rc == 0) {
        wb_sql_value a[9] = {WB_SQL_S(p->finding_id), WB_SQL_S(p->rule),
                             WB_SQL_S(wb_tag_name(p->tag)), WB_SQL_S(p->device),
                             WB_SQL_S(p->site), WB_SQL_S(p->reason), WB_SQL_S((char *)ev),
                             WB_SQL_S(e->iss), WB_SQL_I(e->index)};
        rc = fleet_exec(s, "INSERT INTO fleet_findings (id, rule, tag, device, site, reason,"
                           " evidence, issuer, idx, status) VALUES ($1, $2, $3, $4, $5, $6,"
                           " $7, $8, $9, 'open') ON CONFLICT DO NOTHING", a, 9);
    }
    if (rc == 0)
        rc = fleet_touch(s, e, p->device);
    free(ev);
    return rc;
}

static int close_finding(wb_store *s, const wb_fleet_entry *e, const char *id,
                         const char *status)
{
    wb_sql_value a[3] = {WB_SQL_S(status), WB_SQL_I(e->index), WB_SQL_S(id)};
    return fleet_exec(s, "UPDATE fleet_findings SET status = $1, closed_idx = $2 WHERE "
                         "id = $3 AND status = 'open'", a, 3);
}

static const char *revoke_kind_name(wb_revoke_target t)
{
    return t == WB_REVOKE_DEVICE     ? "device"
           : t == WB_REVOKE_KEY      ? "key"
           : t == WB_REVOKE_FIRMWARE ? "firmware"
                                     : "finding";
}

static int apply_revocation(wb_store *s, const wb_fleet_entry *e)
{
    const wb_p_revocation *p = &e->payload.u.revocation;
    wb_sql_value a[5] = {WB_SQL_I(e->index), WB_SQL_S(revoke_kind_name(p->target_kind)),
                         WB_SQL_S(p->target), WB_SQL_S(e->iss), WB_SQL_S(p->reason)};
    wb_sql_value b[2] = {WB_SQL_I(e->index), WB_SQL_S(p->target)};
    int rc = fleet_exec(s, "INSERT INTO fleet_revocations (idx, target_kind, target, issuer,"
                           " reason) VALUES ($1, $2, $3, $4, $5)", a, 5);
    if (rc)
        return rc;
    switch (p->target_kind) {
    case WB_REVOKE_DEVICE:
        rc = fleet_exec(s, "UPDATE fleet_devices SET revoked_idx = $1 WHERE id = $2 AND "
                           "revoked_idx IS NULL", b, 2);
        if (rc == 0)
            rc = fleet_touch(s, e, p->target);
        return rc;
    case WB_REVOKE_FIRMWARE:
        return fleet_exec(s, "UPDATE fleet_firmware SET revoked_idx = $1 WHERE digest = $2 "
                             "AND revoked_idx IS NULL", b, 2);
    case WB_REVOKE_KEY: {
        wb_sql_value k[1] = {WB_SQL_S(p->target)};
        return fleet_exec(s, "DELETE FROM fleet_issuer_keys WHERE kid = $1", k, 1);
    }
    default:
        return close_finding(s, e, p->target, "withdrawn");
    }
}

static int apply_decommission(wb_store *s, const wb_fleet_entry *e)
{
    const wb_p_decommission *p = &e->payload.u.decommission;
    wb_sql_value a[2] = {WB_SQL_I(e->index), WB_SQL_S(p->device)};
    int rc = fleet_exec(s, "UPDATE fleet_devices SET state = 'decommissioned', "
                           "decommissioned_idx = $1 WHERE id = $2", a, 2);
    if (rc == 0)
        rc = fleet_exec(s, "UPDATE fleet_placements SET to_idx = $1 WHERE (child = $2 OR "
                           "parent = $2) AND to_idx IS NULL", a, 2);
    if (rc == 0)
        rc = fleet_touch(s, e, p->device);
    return rc;
}

int wb_fleet_apply(wb_store *s, const wb_fleet_entry *e)
{
    char hex[65];
    const char *subject = e->msg && e->msg->hdr.sub ? e->msg->hdr.sub : "";
    int rc;
    wb_hex_encode(hex, e->id, 32);
    {
        wb_sql_value a[6] = {WB_SQL_I(e->index), WB_SQL_S(hex),
                             WB_SQL_S(e->kind ? wb_kind_name(e->kind) : "other"),
                             WB_SQL_S(e->iss), WB_SQL_S(subject), WB_SQL_I(e->iat)};
        rc = fleet_exec(s, "INSERT INTO fleet_entries (idx, entry_id, kind, issuer, subject,"
                           " iat) VALUES ($1, $2, $3, $4, $5, $6)", a, 6);
    }
    if (rc)
        return rc;
    switch (e->kind) {
    case WB_KIND_ISSUER:
        return apply_issuer(s, e);
    case WB_KIND_MANIFEST:
        return apply_manifest(s, e);
    case WB_KIND_ASSEMBLY:
        return apply_assembly(s, e);
    case WB_KIND_REPLACEMENT:
        return apply_replacement(s, e);
    case WB_KIND_CUSTODY:
        return apply_custody(s, e);
    case WB_KIND_INTAKE:
        return apply_intake(s, e);
    case WB_KIND_ATTESTATION:
        return apply_attestation(s, e);
    case WB_KIND_FIRMWARE:
        return apply_firmware(s, e);
    case WB_KIND_REVIEW:
        return apply_review(s, e);
    case WB_KIND_FINDING:
        return apply_finding(s, e);
    case WB_KIND_RESOLUTION:
        return close_finding(s, e, e->payload.u.resolution.finding_id, "resolved");
    case WB_KIND_REVOCATION:
        return apply_revocation(s, e);
    case WB_KIND_DECOMMISSION:
        return apply_decommission(s, e);
    default:
        return 0;
    }
}
