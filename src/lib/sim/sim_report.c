/*
 * sim_report.c: the simulator's names (injections, states) and its report
 * as JSON: the fleet, the statements registered, how long it took, and per
 * injection what was done and which findings the rules must raise, with the
 * entry ids their evidence must list.
 */
#include "sim_int.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "waybill/error.h"

static const char *const inject_names[WB_SIM_INJECT_COUNT] = {
    [WB_SIM_SWAP] = "swap",
    [WB_SIM_CLONE] = "clone",
    [WB_SIM_UNKNOWN] = "unknown",
    [WB_SIM_CUSTODY_GAP] = "custody-gap",
    [WB_SIM_SEAL_MISMATCH] = "seal-mismatch",
    [WB_SIM_REVOKED_FW] = "revoked-fw",
    [WB_SIM_UNRELEASED_FW] = "unreleased-fw",
    [WB_SIM_VULNERABLE_FW] = "vulnerable-fw",
    [WB_SIM_UNREVIEWED_FW] = "unreviewed-fw",
    [WB_SIM_REVOKED_DEVICE] = "revoked-device",
    [WB_SIM_ATTEST_FAIL] = "attest-fail",
    [WB_SIM_OVERDUE] = "overdue",
};

const char *wb_sim_inject_name(wb_sim_inject k)
{
    return (unsigned)k < WB_SIM_INJECT_COUNT ? inject_names[k] : "unknown";
}

int wb_sim_inject_parse(unsigned *mask, const char *list)
{
    const char *p = list;
    *mask = 0;
    while (p && *p) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        int found = 0;
        while (n && *p == ' ') {
            p++;
            n--;
        }
        while (n && p[n - 1] == ' ')
            n--;
        if (n == 3 && memcmp(p, "all", 3) == 0) {
            *mask = (1u << WB_SIM_INJECT_COUNT) - 1;
            found = 1;
        }
        for (int k = 0; !found && k < WB_SIM_INJECT_COUNT; k++)
            if (strlen(inject_names[k]) == n && memcmp(p, inject_names[k], n) == 0) {
                *mask |= 1u << k;
                found = 1;
            }
        if (!found && n > 0) {
            char word[64];
            snprintf(word, sizeof(word), "%.*s", (int)(n < 60 ? n : 60), p);
            *mask = 0;
            return wb_error_set(WB_E_INVALID, "unknown injection '%s' (swap, clone, unknown, "
                                "custody-gap, seal-mismatch, revoked-fw, unreleased-fw, "
                                "vulnerable-fw, unreviewed-fw, revoked-device, attest-fail, "
                                "overdue or all)", word);
        }
        p = end ? end + 1 : NULL;
    }
    return 0;
}

const char *wb_sim_state_name(wb_sim_state s)
{
    switch (s) {
    case WB_SIM_STATE_MANUFACTURED:
        return "manufactured";
    case WB_SIM_STATE_RECEIVED:
        return "received";
    case WB_SIM_STATE_IN_PRODUCTION:
        return "in-production";
    default:
        return "unknown";
    }
}

int wb_sim_report_json(char **out, const wb_sim_report *r)
{
    json_t *o = json_object(), *classes = json_object(), *states = json_object(),
           *kinds = json_object(), *inj = json_array(), *fleet = json_object();
    char *text;
    if (!o || !classes || !states || !kinds || !inj || !fleet) {
        json_decref(o);
        json_decref(classes);
        json_decref(states);
        json_decref(kinds);
        json_decref(inj);
        json_decref(fleet);
        return wb_error_set(WB_E_NOMEM, "out of memory");
    }
    json_object_set_new(o, "run", json_string(r->run));
    json_object_set_new(o, "seed", json_integer((json_int_t)r->seed));
    json_object_set_new(fleet, "racks", json_integer(r->racks));
    json_object_set_new(fleet, "blades_per_rack", json_integer(r->blades));
    json_object_set_new(fleet, "parts_per_blade", json_integer(r->parts));
    json_object_set_new(fleet, "site", json_string(r->site));
    json_object_set_new(fleet, "sample_rack", json_string(r->sample_rack));
    json_object_set_new(fleet, "sample_blade", json_string(r->sample_blade));
    json_object_set_new(o, "fleet", fleet);
    json_object_set_new(o, "devices", json_integer((json_int_t)r->devices));
    json_object_set_new(o, "spares", json_integer((json_int_t)r->spares));
    for (int c = 1; c < WB_CLASS_COUNT; c++)
        if (r->by_class[c])
            json_object_set_new(classes, wb_class_name((wb_device_class)c),
                                json_integer((json_int_t)r->by_class[c]));
    json_object_set_new(o, "devices_by_class", classes);
    for (int st = 0; st < WB_SIM_STATE_COUNT; st++)
        if (r->by_state[st])
            json_object_set_new(states, wb_sim_state_name((wb_sim_state)st),
                                json_integer((json_int_t)r->by_state[st]));
    json_object_set_new(o, "expected_states", states);
    json_object_set_new(o, "statements", json_integer((json_int_t)r->statements));
    for (int k = 1; k < WB_KIND_COUNT; k++)
        if (r->by_kind[k])
            json_object_set_new(kinds, wb_kind_name((wb_kind)k),
                                json_integer((json_int_t)r->by_kind[k]));
    json_object_set_new(o, "statements_by_kind", kinds);
    json_object_set_new(o, "keygen_s", json_real(r->keygen_s));
    json_object_set_new(o, "register_s", json_real(r->register_s));
    json_object_set_new(o, "elapsed_s", json_real(r->elapsed_s));
    for (size_t i = 0; i < r->ninjections; i++) {
        const wb_sim_injection *in = &r->injections[i];
        json_t *j = json_object(), *ex = json_array();
        json_object_set_new(j, "kind", json_string(wb_sim_inject_name(in->kind)));
        json_object_set_new(j, "what", json_string(in->what));
        json_object_set_new(j, "device", json_string(in->device));
        json_object_set_new(j, "unit", json_string(in->unit));
        json_object_set_new(j, "trigger", json_string(in->trigger));
        for (size_t k = 0; k < in->nexpect; k++) {
            const wb_sim_expect *e = &in->expect[k];
            json_t *f = json_object(), *ev = json_array();
            json_object_set_new(f, "rule", json_string(e->rule));
            json_object_set_new(f, "tag", json_string(wb_tag_name(e->tag)));
            json_object_set_new(f, "device", json_string(e->device));
            for (size_t m = 0; m < e->nevidence; m++)
                json_array_append_new(ev, json_string(e->evidence[m]));
            json_object_set_new(f, "evidence", ev);
            json_array_append_new(ex, f);
        }
        json_object_set_new(j, "expected_findings", ex);
        json_array_append_new(inj, j);
    }
    json_object_set_new(o, "injections", inj);
    json_object_set_new(o, "until", json_string(wb_sim_until_name(r->until)));
    {
        json_t *ships = json_array();
        for (size_t i = 0; ships && i < r->nshipments; i++) {
            const wb_sim_shipment *sh = &r->shipments[i];
            json_t *j = json_object(), *seals = json_array(), *units = json_array();
            for (int k = 0; seals && k < 2; k++)
                json_array_append_new(seals, json_string(sh->seals[k]));
            for (size_t k = 0; units && k < sh->nunits; k++)
                json_array_append_new(units, json_string(sh->units[k]));
            json_object_set_new(j, "id", json_string(sh->id));
            json_object_set_new(j, "shipped", json_boolean(sh->shipped));
            json_object_set_new(j, "seals", seals);
            json_object_set_new(j, "units", units);
            json_array_append_new(ships, j);
        }
        json_object_set_new(o, "shipments", ships);
    }
    text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (!text)
        return wb_error_set(WB_E_NOMEM, "out of memory");
    *out = text;
    return 0;
}
