/*
 * sim.c: wb_sim_run, the journey of a simulated fleet from the factory to
 * production (waybill/sim.h, docs/simulator.md).
 *
 * The fleet: R racks of B blades of P parts. Slot k of a blade holds, in
 * order, a platform RoT ("rot"), a TPM ("tpm"), a BMC ("bmc"), then NICs
 * and SSDs ("nic0", "ssd0", "ssd1", "nic1", ...). Blade b of a rack sits
 * in rack slot "u<b+1>". Each supplier also manifests one spare of each
 * part class per rack; spares stay in the warehouse unless an injection
 * uses one.
 *
 * The phases (each waits for every receipt of the one before):
 *   governance   the admin key registers every party (issuer add, or
 *                update when a party of that name exists from an earlier
 *                run)
 *   manifests    suppliers manifest parts and spares, the integrator
 *                blades and racks; the firmware vendor releases firmware
 *   assemblies   reviews of the releases; blades assembled from parts
 *   racks        racks assembled from blades; firmware revocations
 *   ship         one shipment per rack: the rack and its blades, two seals
 *   receive      the carrier hands each shipment over at the site
 *   intake       the datacenter records what it found in every slot
 *   revocations  device revocations by their supplier
 *   arrival      arrival attestation of every blade
 *   production   pre-production attestation of every blade, then of every
 *                rack whose blades are all clean
 * A run with until = received stops after receive: the datacenter's work
 * (intake, attestations) is left to the real verifier (`waybill intake`,
 * `waybill attest` against `waybill sim devices`).
 *
 * With write_files, DIR/attest/devices.json (sim_devfile.c) gives every
 * blade and rack its identity key, chain, slots and measurements, for the
 * simulated devices.
 *
 * An injection changes what one party says at one point, as the anomaly it
 * stands for would; the datacenter then holds the affected blade
 * (quarantine) where a real one would, so that one anomaly raises its own
 * findings and no echo of them. The report lists the findings the rules
 * must raise for each injection, with the entries their evidence names.
 */
#include "sim_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "waybill/error.h"
#include "waybill/scitt.h"
#include "waybill/util.h"

#define SITE (s->site) /* the datacenter's site (wb_sim_options site) */
#define FACILITY "Woodgrove Integration Center, Brno"
#define REVIEWER "Trey Research"
#define FRAMEWORK "OCP SAFE SFR 1.1"

enum { SEEN_NONE = 0, SEEN_INTAKE, SEEN_ARRIVAL };
enum { Q_NONE = 0, Q_AFTER_INTAKE, Q_AFTER_ARRIVAL };

typedef struct {
    size_t dev;                /* the blade's device index */
    size_t rack;
    unsigned pos;              /* its position in the rack */
    int quarantine;            /* Q_*: the datacenter holds it after that */
    int seen_at;               /* SEEN_*: where an identity differs */
    unsigned seen_slot;
    wb_device_id seen_id;
    int fw_slot;               /* -1, or the slot whose arrival measurement differs */
    char fw_digest[WB_DIGEST384_HEX + 1];
    int attest_fail;
    int overdue;
    char assembly[65], intake[65], arrival[65], preprod[65];
} sim_blade;

typedef struct {
    size_t dev;
    char shipment[64];
    char seals[2][32];
    int no_ship;               /* custody-gap: the shipment is never shipped */
    int seal_tamper;           /* seal-mismatch: a seal is replaced in transit */
    int attest;                /* all its blades clean: the rack is attested */
    char assembly[65], ship[65], receive[65], attestation[65];
    char (*intakes)[65];       /* the intake statements of its shipment */
    size_t nintakes;
} sim_rack;

typedef struct {
    wb_device_class cls;
    int party;                 /* the supplier whose part runs it */
    char version[32];
    char digest[WB_DIGEST384_HEX + 1];
    int64_t svn;
    int review;                /* 0 none, 1 minor issues, 2 a critical issue */
    int revoke;
    char entry[65], review_entry[65], revoke_entry[65];
} sim_fw;

typedef struct {
    wb_sim_inject kind;
    long blade, blade2, rack;  /* -1 when not used */
    unsigned slot;
    long device;               /* the device index seen or tampered with, -1 */
    wb_device_id unknown;
    long fw;
    char revocation[65];       /* revoked-device */
} sim_plan;

typedef struct {
    const wb_sim_options *opt;
    wb_sim_report *rep;
    uint64_t rng;
    char run[16];
    const char *site;          /* the datacenter's site */
    sim_party_def datacenter;  /* its party, named by the options */
    sim_party parties[SIM_P_COUNT];
    wb_key *admin;
    wb_cose_signer admin_signer;
    uint8_t admin_kid[32];
    sim_device *dev;
    size_t ndev;
    size_t rack_base, blade_base, part_base, spare_base;
    sim_blade *blades;
    size_t nblades;
    sim_rack *racks;
    size_t nracks;
    wb_device_class classes[SIM_SUPPLIERS]; /* distinct part classes in a blade */
    size_t nclasses;
    sim_fw fw[SIM_SUPPLIERS + 8];
    size_t nfw;
    long current_fw[WB_CLASS_COUNT];
    sim_plan plan[WB_SIM_INJECT_COUNT];
    size_t nplan;
    sim_register_ctx reg;
} sim;

/* ---- the blade template ---- */

static wb_device_class slot_class(unsigned k)
{
    if (k == 0)
        return WB_CLASS_ROT;
    if (k == 1)
        return WB_CLASS_TPM;
    if (k == 2)
        return WB_CLASS_BMC;
    return (k - 3) % 3 == 0 ? WB_CLASS_NIC : WB_CLASS_SSD;
}

static void slot_name(char *out, size_t cap, unsigned k)
{
    unsigned j;
    if (k < 3) {
        snprintf(out, cap, "%s", k == 0 ? "rot" : k == 1 ? "tpm" : "bmc");
        return;
    }
    j = k - 3;
    if (j % 3 == 0)
        snprintf(out, cap, "nic%u", j / 3);
    else
        snprintf(out, cap, "ssd%u", j - j / 3 - 1);
}

static int supplier_of(wb_device_class c)
{
    for (int i = 0; i < SIM_SUPPLIERS; i++)
        if (sim_parties[i].cls == c)
            return i;
    return SIM_P_ROT;
}

static size_t part_index(const sim *s, size_t blade, unsigned k)
{
    return s->part_base + blade * s->opt->parts + k;
}

/* the slot of a blade that holds class c, or slot 0 */
static unsigned slot_for(const sim *s, wb_device_class c)
{
    for (unsigned k = 0; k < s->opt->parts; k++)
        if (slot_class(k) == c)
            return k;
    return 0;
}

/* ---- options ---- */

/*
 * Injections a run stopped at the receipt can play: each of the others is
 * seen at the intake (swap, unknown, seal-mismatch), by an attestation
 * (clone, the firmware ones, revoked-device, attest-fail, overdue) or is a
 * revocation that must come after the intake (revoked-device).
 */
#define RECEIVED_INJECTIONS (1u << WB_SIM_CUSTODY_GAP)

const char *wb_sim_until_name(wb_sim_until u)
{
    switch (u) {
    case WB_SIM_UNTIL_ALL:
        return "all";
    case WB_SIM_UNTIL_RECEIVED:
        return "received";
    default:
        return "unknown";
    }
}

int wb_sim_until_parse(wb_sim_until *u, const char *name)
{
    for (int k = 0; k < WB_SIM_UNTIL_COUNT; k++)
        if (name && strcmp(name, wb_sim_until_name((wb_sim_until)k)) == 0) {
            *u = (wb_sim_until)k;
            return 0;
        }
    return wb_error_set(WB_E_INVALID, "until '%.40s': want all (the whole journey) or "
                        "received (stop after the carrier's receipt)", name ? name : "");
}

void wb_sim_options_init(wb_sim_options *o)
{
    memset(o, 0, sizeof(*o));
    o->racks = 2;
    o->blades = 4;
    o->parts = 6;
    o->seed = 1;
    o->workers = 16;
    o->overdue_age_s = 7 * 86400;
    o->write_files = 1;
    o->site = WB_SIM_SITE;
    o->datacenter = WB_SIM_DATACENTER;
}

static int check_options(const wb_sim_options *o)
{
    if (!o->url || !o->url[0])
        return wb_error_set(WB_E_INVALID, "no service URL");
    if (!o->admin_key_file || !o->admin_key_file[0])
        return wb_error_set(WB_E_INVALID, "no admin key file");
    if (!o->dir || !o->dir[0])
        return wb_error_set(WB_E_INVALID, "no working directory");
    if (o->racks < 1 || o->racks > WB_SIM_RACKS_MAX)
        return wb_error_set(WB_E_INVALID, "racks: %u, not 1 to %d", o->racks,
                            WB_SIM_RACKS_MAX);
    if (o->blades < 1 || o->blades > WB_SIM_BLADES_MAX)
        return wb_error_set(WB_E_INVALID, "blades: %u per rack, not 1 to %d (a rack and "
                            "its blades travel as one shipment of at most 256 units)",
                            o->blades, WB_SIM_BLADES_MAX);
    if (o->parts < 1 || o->parts > WB_SIM_PARTS_MAX)
        return wb_error_set(WB_E_INVALID, "parts: %u per blade, not 1 to %d", o->parts,
                            WB_SIM_PARTS_MAX);
    if (o->inject >> WB_SIM_INJECT_COUNT)
        return wb_error_set(WB_E_INVALID, "unknown injection in the mask");
    if ((unsigned)o->until >= WB_SIM_UNTIL_COUNT)
        return wb_error_set(WB_E_INVALID, "until: %d is not a stop point", (int)o->until);
    if (o->until == WB_SIM_UNTIL_RECEIVED && (o->inject & ~RECEIVED_INJECTIONS)) {
        char names[256] = "";
        size_t n = 0;
        for (int k = 0; k < WB_SIM_INJECT_COUNT; k++)
            if ((o->inject & ~RECEIVED_INJECTIONS) & (1u << k))
                n += (size_t)snprintf(names + n, n < sizeof(names) ? sizeof(names) - n : 0,
                                      "%s%s", n ? ", " : "",
                                      wb_sim_inject_name((wb_sim_inject)k));
        return wb_error_set(WB_E_INVALID, "until received: %s cannot be injected: they need "
                            "the intake, the revocations after it or the attestations, "
                            "which a run stopped at the receipt does not play (only "
                            "custody-gap can)", names);
    }
    return 0;
}

/* ---- planning ---- */

static void shuffle(size_t *a, size_t n, uint64_t *rng)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)(sim_rand(rng) % i);
        size_t t = a[i - 1];
        a[i - 1] = a[j];
        a[j] = t;
    }
}

static int is_blade_kind(wb_sim_inject k)
{
    return k != WB_SIM_CUSTODY_GAP && k != WB_SIM_SEAL_MISMATCH;
}

static long add_fw(sim *s, wb_device_class cls, const char *version, int64_t svn, int review)
{
    sim_fw *f = &s->fw[s->nfw];
    char image[256];
    uint8_t h[WB_SHA384_LEN];
    memset(f, 0, sizeof(*f));
    f->cls = cls;
    f->party = supplier_of(cls);
    snprintf(f->version, sizeof(f->version), "%s", version);
    f->svn = svn;
    f->review = review;
    /* a stand-in for the image: its digest is all the ledger keeps */
    snprintf(image, sizeof(image), "waybill-sim firmware image|%s|%s|%s|run %s",
             sim_parties[f->party].manufacturer, wb_class_name(cls), version, s->run);
    wb_sha384(h, image, strlen(image));
    wb_hex_encode(f->digest, h, sizeof(h));
    return (long)s->nfw++;
}

static int plan_fleet(sim *s)
{
    const wb_sim_options *o = s->opt;
    size_t nparts, nblade_needed = 0, nrack_needed = 0, *order = NULL, *rorder = NULL;
    size_t next_blade = 0, next_rack = 0;
    int seen[WB_CLASS_COUNT] = {0};

    /* distinct part classes of the blade template */
    for (unsigned k = 0; k < o->parts; k++) {
        wb_device_class c = slot_class(k);
        if (!seen[c]) {
            seen[c] = 1;
            s->classes[s->nclasses++] = c;
        }
    }
    s->nracks = o->racks;
    s->nblades = (size_t)o->racks * o->blades;
    nparts = s->nblades * o->parts;
    s->rack_base = 0;
    s->blade_base = s->nracks;
    s->part_base = s->blade_base + s->nblades;
    s->spare_base = s->part_base + nparts;
    s->ndev = s->spare_base + s->nracks * s->nclasses;
    s->dev = calloc(s->ndev, sizeof(*s->dev));
    s->blades = calloc(s->nblades, sizeof(*s->blades));
    s->racks = calloc(s->nracks, sizeof(*s->racks));
    if (!s->dev || !s->blades || !s->racks)
        return wb_error_set(WB_E_NOMEM, "out of memory");

    for (size_t r = 0; r < s->nracks; r++) {
        sim_device *d = &s->dev[s->rack_base + r];
        sim_rack *rk = &s->racks[r];
        d->cls = WB_CLASS_RACK;
        d->party = SIM_P_INTEGRATOR;
        d->parent = -1;
        snprintf(d->serial, sizeof(d->serial), "WGR-%s-%04zu", s->run, r + 1);
        rk->dev = s->rack_base + r;
        rk->attest = 1;
        snprintf(rk->shipment, sizeof(rk->shipment), "NWF-%s-%04zu", s->run, r + 1);
        for (int k = 0; k < 2; k++)
            snprintf(rk->seals[k], sizeof(rk->seals[k]), "TS-%s-%05zu", s->run,
                     2 * r + (size_t)k + 1);
    }
    for (size_t i = 0; i < s->nblades; i++) {
        sim_blade *b = &s->blades[i];
        sim_device *d = &s->dev[s->blade_base + i];
        b->dev = s->blade_base + i;
        b->rack = i / o->blades;
        b->pos = (unsigned)(i % o->blades);
        b->fw_slot = -1;
        d->cls = WB_CLASS_BLADE;
        d->party = SIM_P_INTEGRATOR;
        d->parent = (int)(s->rack_base + b->rack);
        snprintf(d->slot, sizeof(d->slot), "u%02u", b->pos + 1);
        snprintf(d->serial, sizeof(d->serial), "WGB-%s-%06zu", s->run, i + 1);
        for (unsigned k = 0; k < o->parts; k++) {
            sim_device *p = &s->dev[part_index(s, i, k)];
            p->cls = slot_class(k);
            p->party = supplier_of(p->cls);
            p->parent = (int)b->dev;
            slot_name(p->slot, sizeof(p->slot), k);
        }
    }
    {
        /* serials count per supplier, parts first, then spares */
        size_t count[SIM_P_COUNT] = {0};
        for (size_t k = s->part_base; k < s->spare_base; k++) {
            sim_device *p = &s->dev[k];
            snprintf(p->serial, sizeof(p->serial), "%s-%s-%06zu",
                     sim_parties[p->party].serial_prefix, s->run, ++count[p->party]);
        }
        for (size_t r = 0; r < s->nracks; r++)
            for (size_t c = 0; c < s->nclasses; c++) {
                sim_device *p = &s->dev[s->spare_base + r * s->nclasses + c];
                p->cls = s->classes[c];
                p->party = supplier_of(p->cls);
                p->parent = -1;
                p->spare = 1;
                snprintf(p->serial, sizeof(p->serial), "%s-%s-%06zu",
                         sim_parties[p->party].serial_prefix, s->run, ++count[p->party]);
            }
    }

    /* the current firmware of every part class, reviewed */
    for (size_t c = 0; c < s->nclasses; c++) {
        const sim_party_def *def = &sim_parties[supplier_of(s->classes[c])];
        s->current_fw[s->classes[c]] = add_fw(s, s->classes[c], def->fw_version,
                                              def->fw_svn, 1);
    }

    /* the victims: blades in a seeded order, racks likewise */
    for (int k = 0; k < WB_SIM_INJECT_COUNT; k++) {
        if (!(o->inject & (1u << k)))
            continue;
        if (is_blade_kind((wb_sim_inject)k))
            nblade_needed += k == WB_SIM_CLONE ? 2 : 1;
        else
            nrack_needed++;
    }
    if (nblade_needed > s->nblades)
        return wb_error_set(WB_E_INVALID, "the injections asked for need %zu blades (one "
                            "each, two for clone), the fleet has %zu: add racks or blades",
                            nblade_needed, s->nblades);
    if (nrack_needed > s->nracks)
        return wb_error_set(WB_E_INVALID, "custody-gap and seal-mismatch each need a rack "
                            "of their own; the fleet has %zu", s->nracks);
    order = malloc(s->nblades * sizeof(*order));
    rorder = malloc(s->nracks * sizeof(*rorder));
    if (!order || !rorder) {
        free(order);
        free(rorder);
        return wb_error_set(WB_E_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < s->nblades; i++)
        order[i] = i;
    for (size_t i = 0; i < s->nracks; i++)
        rorder[i] = i;
    shuffle(order, s->nblades, &s->rng);
    shuffle(rorder, s->nracks, &s->rng);

    for (int k = 0; k < WB_SIM_INJECT_COUNT; k++) {
        sim_plan *p;
        sim_blade *b = NULL;
        if (!(o->inject & (1u << k)))
            continue;
        p = &s->plan[s->nplan++];
        memset(p, 0, sizeof(*p));
        p->kind = (wb_sim_inject)k;
        p->blade = p->blade2 = p->rack = p->device = p->fw = -1;
        if (is_blade_kind(p->kind)) {
            p->blade = (long)order[next_blade++];
            b = &s->blades[p->blade];
        } else {
            p->rack = (long)rorder[next_rack++];
        }
        switch (p->kind) {
        case WB_SIM_SWAP: {
            /* the last slot's part swapped for a spare of its class */
            size_t c = 0;
            p->slot = o->parts - 1;
            while (c < s->nclasses && s->classes[c] != slot_class(p->slot))
                c++;
            p->device = (long)(s->spare_base + b->rack * s->nclasses + c);
            b->seen_at = SEEN_INTAKE;
            b->seen_slot = p->slot;
            b->quarantine = Q_AFTER_INTAKE;
            break;
        }
        case WB_SIM_UNKNOWN: {
            /* a part with an identity no supplier manifested */
            wb_key *k2 = NULL;
            uint8_t *spki = NULL, h[32];
            size_t len;
            int rc = wb_key_generate(&k2, WB_ALG_ES384);
            if (rc == 0)
                rc = wb_key_spki_der(k2, &spki, &len);
            if (rc == 0)
                rc = wb_sha256(h, spki, len);
            free(spki);
            wb_key_free(k2);
            if (rc) {
                free(order);
                free(rorder);
                return rc;
            }
            wb_hex_encode(p->unknown, h, 32);
            p->slot = o->parts > 1 ? 1 : 0;
            b->seen_at = SEEN_INTAKE;
            b->seen_slot = p->slot;
            snprintf(b->seen_id, sizeof(b->seen_id), "%s", p->unknown);
            b->quarantine = Q_AFTER_INTAKE;
            break;
        }
        case WB_SIM_CLONE:
            /* blade2 is the genuine one whose RoT identity the clone presents */
            p->blade2 = (long)order[next_blade++];
            p->slot = 0;
            p->device = (long)part_index(s, (size_t)p->blade2, 0);
            b->seen_at = SEEN_ARRIVAL;
            b->seen_slot = 0;
            b->quarantine = Q_AFTER_ARRIVAL;
            break;
        case WB_SIM_REVOKED_FW:
            p->slot = slot_for(s, WB_CLASS_BMC);
            p->fw = add_fw(s, slot_class(p->slot), "1.0.0-withdrawn", 1, 1);
            s->fw[p->fw].revoke = 1;
            b->fw_slot = (int)p->slot;
            break;
        case WB_SIM_UNRELEASED_FW:
            p->slot = 0;
            b->fw_slot = (int)p->slot;
            b->quarantine = Q_AFTER_ARRIVAL;
            break;
        case WB_SIM_VULNERABLE_FW:
            p->slot = slot_for(s, WB_CLASS_NIC);
            p->fw = add_fw(s, slot_class(p->slot), "0.9.8-critical", 1, 2);
            b->fw_slot = (int)p->slot;
            break;
        case WB_SIM_UNREVIEWED_FW:
            p->slot = slot_for(s, WB_CLASS_SSD);
            p->fw = add_fw(s, slot_class(p->slot), "0.9.9-hotfix", 1, 0);
            b->fw_slot = (int)p->slot;
            break;
        case WB_SIM_REVOKED_DEVICE:
            p->slot = o->parts > 3 ? 3 : 0;
            p->device = (long)part_index(s, (size_t)p->blade, p->slot);
            b->quarantine = Q_AFTER_ARRIVAL;
            break;
        case WB_SIM_ATTEST_FAIL:
            b->attest_fail = 1;
            b->quarantine = Q_AFTER_ARRIVAL;
            break;
        case WB_SIM_OVERDUE:
            b->overdue = 1;
            break;
        case WB_SIM_CUSTODY_GAP:
            s->racks[p->rack].no_ship = 1;
            break;
        case WB_SIM_SEAL_MISMATCH:
            s->racks[p->rack].seal_tamper = 1;
            break;
        default:
            break;
        }
        if (b && b->fw_slot >= 0) {
            if (p->fw >= 0) {
                snprintf(b->fw_digest, sizeof(b->fw_digest), "%s", s->fw[p->fw].digest);
            } else {
                /* an image nobody released: a tampered build */
                char image[128];
                uint8_t h[WB_SHA384_LEN];
                snprintf(image, sizeof(image), "waybill-sim tampered image|run %s", s->run);
                wb_sha384(h, image, strlen(image));
                wb_hex_encode(b->fw_digest, h, sizeof(h));
            }
        }
    }
    free(order);
    free(rorder);
    /* racks with a held blade are not attested as a whole */
    for (size_t i = 0; i < s->nblades; i++)
        if (s->blades[i].quarantine)
            s->racks[s->blades[i].rack].attest = 0;
    return 0;
}

/* the clone's and the swap's seen identities need the device ids: after
 * the identities are made */
static void plan_seen_ids(sim *s)
{
    for (size_t i = 0; i < s->nplan; i++) {
        sim_plan *p = &s->plan[i];
        if (p->kind == WB_SIM_SWAP || p->kind == WB_SIM_CLONE)
            snprintf(s->blades[p->blade].seen_id, sizeof(wb_device_id), "%s",
                     s->dev[p->device].id);
    }
}

/* ---- statements ---- */

static int governance(sim *s)
{
    for (int i = 0; i < SIM_P_COUNT; i++) {
        const sim_party *pt = &s->parties[i];
        const sim_party_def *def = pt->def;
        char *mfr[1], *sites[2], label[128];
        uint8_t *keys[1], *cas[1];
        size_t key_lens[1], ca_lens[1];
        wb_prov_payload p;
        wb_p_issuer *is = &p.u.issuer;
        int rc = 0;
        memset(&p, 0, sizeof(p));
        p.kind = WB_KIND_ISSUER;
        p.version = WB_PROV_VERSION;
        snprintf(is->name, sizeof(is->name), "%s", def->name);
        is->role = def->role;
        if (def->manufacturer) {
            mfr[0] = (char *)def->manufacturer;
            is->manufacturers = mfr;
            is->nmanufacturers = 1;
        }
        if (def->role == WB_ROLE_DATACENTER) {
            sites[0] = (char *)SITE;
            is->sites = sites;
            is->nsites = 1;
        } else if (def->role == WB_ROLE_LOGISTICS) {
            sites[0] = (char *)FACILITY;
            sites[1] = (char *)SITE;
            is->sites = sites;
            is->nsites = 2;
        }
        keys[0] = pt->spki;
        key_lens[0] = pt->spki_len;
        is->keys = keys;
        is->key_lens = key_lens;
        is->nkeys = 1;
        if (pt->ca_der) {
            cas[0] = pt->ca_der;
            ca_lens[0] = pt->ca_len;
            is->cas = cas;
            is->ca_lens = ca_lens;
            is->ncas = 1;
        }
        /* add; a party of that name from an earlier run is updated instead */
        for (int attempt = 0; attempt < 2; attempt++) {
            sim_batch b = {0};
            is->action = attempt == 0 ? WB_ISSUER_ADD : WB_ISSUER_UPDATE;
            snprintf(label, sizeof(label), "issuer %s %s",
                     attempt == 0 ? "add" : "update", def->name);
            rc = sim_sign_admin(&b, NULL, s->admin, &s->admin_signer, s->admin_kid, &p,
                                def->name, label);
            if (rc == 0)
                rc = sim_register(&s->reg, &b, "governance");
            sim_batch_cleanup(&b);
            if (rc == 0 || rc != WB_E_INVALID ||
                !strstr(wb_error_message(), "already registered"))
                break;
        }
        if (rc)
            return rc;
    }
    return 0;
}

/* one manifest of devices idx[0..n), split in two while it is too large */
static int sign_manifest(sim *s, sim_batch *b, int party, const size_t *idx, size_t n,
                         size_t *seq)
{
    const sim_party *pt = &s->parties[party];
    wb_prov_payload p;
    wb_p_device *devs = calloc(n, sizeof(*devs));
    char label[128];
    int rc;
    if (!devs)
        return wb_error_set(WB_E_NOMEM, "out of memory");
    memset(&p, 0, sizeof(p));
    p.kind = WB_KIND_MANIFEST;
    p.version = WB_PROV_VERSION;
    snprintf(p.u.manifest.manufacturer, sizeof(p.u.manifest.manufacturer), "%s",
             pt->def->manufacturer);
    for (size_t i = 0; i < n; i++) {
        const sim_device *d = &s->dev[idx[i]];
        wb_p_device *v = &devs[i];
        snprintf(v->id, sizeof(v->id), "%s", d->id);
        v->cls = d->cls;
        snprintf(v->model, sizeof(v->model), "%s",
                 d->cls == WB_CLASS_BLADE  ? "WG-2U compute blade"
                 : d->cls == WB_CLASS_RACK ? "WG-42U rack"
                                           : sim_parties[d->party].model);
        snprintf(v->serial, sizeof(v->serial), "%s", d->serial);
        v->chain[0] = d->cert;
        v->chain_len[0] = d->cert_len;
        v->nchain = 1;
    }
    p.u.manifest.devices = devs;
    p.u.manifest.ndevices = n;
    snprintf(label, sizeof(label), "manifest %zu of %s", ++*seq, pt->def->name);
    rc = sim_sign(b, NULL, pt, &p, pt->def->manufacturer, 0, label);
    free(devs);
    if (rc == WB_E_LIMIT && n > 1) {
        --*seq;
        rc = sign_manifest(s, b, party, idx, n / 2, seq);
        if (rc == 0)
            rc = sign_manifest(s, b, party, idx + n / 2, n - n / 2, seq);
    }
    return rc;
}

static int sign_firmware(sim *s, sim_batch *b, long f, size_t *job)
{
    sim_fw *fw = &s->fw[f];
    wb_prov_payload p;
    char label[128];
    memset(&p, 0, sizeof(p));
    p.kind = WB_KIND_FIRMWARE;
    p.version = WB_PROV_VERSION;
    p.u.firmware.cls = fw->cls;
    snprintf(p.u.firmware.vendor, sizeof(p.u.firmware.vendor), "%s",
             sim_parties[fw->party].manufacturer);
    snprintf(p.u.firmware.fw_version, sizeof(p.u.firmware.fw_version), "%s", fw->version);
    snprintf(p.u.firmware.digest, sizeof(p.u.firmware.digest), "%s", fw->digest);
    p.u.firmware.svn = fw->svn;
    snprintf(label, sizeof(label), "firmware %s %s", wb_class_name(fw->cls), fw->version);
    return sim_sign(b, job, &s->parties[SIM_P_FIRMWARE], &p, fw->digest, 0, label);
}

static int sign_review(sim *s, sim_batch *b, long f, size_t *job)
{
    static const wb_review_issue minor[2] = {
        {"Integer underflow in the SPDM message parser leads to an out-of-bounds read", 3.7,
         ""},
        {"Static stack guard value in the thread implementation", 2.3, ""},
    };
    static const wb_review_issue critical[1] = {
        {"Authentication bypass in the firmware update path", 9.8, ""},
    };
    sim_fw *fw = &s->fw[f];
    wb_review_issue issues[2];
    wb_prov_payload p;
    char label[128];
    memset(&p, 0, sizeof(p));
    p.kind = WB_KIND_REVIEW;
    p.version = WB_PROV_VERSION;
    snprintf(p.u.review.firmware_digest, sizeof(p.u.review.firmware_digest), "%s",
             fw->digest);
    snprintf(p.u.review.reviewer, sizeof(p.u.review.reviewer), "%s", REVIEWER);
    snprintf(p.u.review.framework, sizeof(p.u.review.framework), "%s", FRAMEWORK);
    if (fw->review == 2) {
        issues[0] = critical[0];
        p.u.review.nissues = 1;
    } else {
        /* findings below the threshold, as most real reports have: none,
         * one or two low ones */
        p.u.review.nissues = (size_t)(f % 3);
        for (size_t i = 0; i < p.u.review.nissues; i++)
            issues[i] = minor[i];
    }
    p.u.review.issues = issues;
    snprintf(label, sizeof(label), "review of %s %s", wb_class_name(fw->cls), fw->version);
    return sim_sign(b, job, &s->parties[SIM_P_REVIEWER], &p, fw->digest, 0, label);
}

static int sign_revocation(sim *s, sim_batch *b, int party, wb_revoke_target kind,
                           const char *target, const char *reason, size_t *job)
{
    wb_prov_payload p;
    char label[160];
    memset(&p, 0, sizeof(p));
    p.kind = WB_KIND_REVOCATION;
    p.version = WB_PROV_VERSION;
    p.u.revocation.target_kind = kind;
    snprintf(p.u.revocation.target, sizeof(p.u.revocation.target), "%s", target);
    snprintf(p.u.revocation.reason, sizeof(p.u.revocation.reason), "%s", reason);
    snprintf(label, sizeof(label), "revocation of %.16s", target);
    return sim_sign(b, job, &s->parties[party], &p, target, 0, label);
}

static int sign_blade_assembly(sim *s, sim_batch *b, size_t i, size_t *job)
{
    const sim_blade *bl = &s->blades[i];
    unsigned np = s->opt->parts;
    wb_slot_entry *ch = calloc(np, sizeof(*ch));
    wb_prov_payload p;
    char label[128];
    int rc;
    if (!ch)
        return wb_error_set(WB_E_NOMEM, "out of memory");
    memset(&p, 0, sizeof(p));
    p.kind = WB_KIND_ASSEMBLY;
    p.version = WB_PROV_VERSION;
    snprintf(p.u.assembly.parent, sizeof(p.u.assembly.parent), "%s", s->dev[bl->dev].id);
    for (unsigned k = 0; k < np; k++) {
        const sim_device *d = &s->dev[part_index(s, i, k)];
        snprintf(ch[k].slot, sizeof(ch[k].slot), "%s", d->slot);
        snprintf(ch[k].id, sizeof(ch[k].id), "%s", d->id);
    }
    p.u.assembly.children = ch;
    p.u.assembly.nchildren = np;
    snprintf(label, sizeof(label), "assembly of blade %s", s->dev[bl->dev].serial);
    rc = sim_sign(b, job, &s->parties[SIM_P_INTEGRATOR], &p, s->dev[bl->dev].id, 0, label);
    free(ch);
    return rc;
}

/* a rack's blades by slot */
static wb_slot_entry *rack_slots(const sim *s, size_t r)
{
    unsigned nb = s->opt->blades;
    wb_slot_entry *ch = calloc(nb, sizeof(*ch));
    if (!ch)
        return NULL;
    for (unsigned k = 0; k < nb; k++) {
        const sim_device *d = &s->dev[s->blade_base + r * nb + k];
        snprintf(ch[k].slot, sizeof(ch[k].slot), "%s", d->slot);
        snprintf(ch[k].id, sizeof(ch[k].id), "%s", d->id);
    }
    return ch;
}

static int sign_rack_assembly(sim *s, sim_batch *b, size_t r, size_t *job)
{
    wb_slot_entry *ch = rack_slots(s, r);
    wb_prov_payload p;
    char label[128];
    int rc;
    if (!ch)
        return wb_error_set(WB_E_NOMEM, "out of memory");
    memset(&p, 0, sizeof(p));
    p.kind = WB_KIND_ASSEMBLY;
    p.version = WB_PROV_VERSION;
    snprintf(p.u.assembly.parent, sizeof(p.u.assembly.parent), "%s",
             s->dev[s->racks[r].dev].id);
    p.u.assembly.children = ch;
    p.u.assembly.nchildren = s->opt->blades;
    snprintf(label, sizeof(label), "assembly of rack %s", s->dev[s->racks[r].dev].serial);
    rc = sim_sign(b, job, &s->parties[SIM_P_INTEGRATOR], &p, p.u.assembly.parent, 0, label);
    free(ch);
    return rc;
}

static int sign_custody(sim *s, sim_batch *b, size_t r, wb_custody_event ev, size_t *job)
{
    const sim_rack *rk = &s->racks[r];
    unsigned nb = s->opt->blades;
    wb_device_id *units = calloc(nb + 1u, sizeof(*units));
    char *seals[2] = {(char *)rk->seals[0], (char *)rk->seals[1]}, label[160];
    wb_prov_payload p;
    int rc;
    if (!units)
        return wb_error_set(WB_E_NOMEM, "out of memory");
    memset(&p, 0, sizeof(p));
    p.kind = WB_KIND_CUSTODY;
    p.version = WB_PROV_VERSION;
    p.u.custody.event = ev;
    snprintf(p.u.custody.shipment, sizeof(p.u.custody.shipment), "%s", rk->shipment);
    snprintf(p.u.custody.from, sizeof(p.u.custody.from), "%s", FACILITY);
    snprintf(p.u.custody.to, sizeof(p.u.custody.to), "%s", SITE);
    /* the packing list: the rack and every blade in it */
    snprintf(units[0], sizeof(units[0]), "%s", s->dev[rk->dev].id);
    for (unsigned k = 0; k < nb; k++)
        snprintf(units[k + 1], sizeof(units[k + 1]), "%s",
                 s->dev[s->blade_base + r * nb + k].id);
    p.u.custody.units = units;
    p.u.custody.nunits = nb + 1u;
    p.u.custody.seals = seals;
    p.u.custody.nseals = 2;
    snprintf(label, sizeof(label), "custody %s of %s",
             ev == WB_CUSTODY_SHIP ? "ship" : "receive", rk->shipment);
    rc = sim_sign(b, job, &s->parties[SIM_P_CARRIER], &p, rk->shipment, 0, label);
    free(units);
    return rc;
}

/* what the datacenter finds in a blade: the ledger's parts, except where an
 * injection put something else */
static void blade_seen(const sim *s, size_t i, int when, wb_slot_entry *out)
{
    const sim_blade *bl = &s->blades[i];
    for (unsigned k = 0; k < s->opt->parts; k++) {
        const sim_device *d = &s->dev[part_index(s, i, k)];
        snprintf(out[k].slot, sizeof(out[k].slot), "%s", d->slot);
        snprintf(out[k].id, sizeof(out[k].id), "%s",
                 when != SEEN_NONE && bl->seen_at == when && bl->seen_slot == k ? bl->seen_id
                                                                            : d->id);
    }
}

typedef struct {
    size_t *jobs;              /* intake job indices, per rack */
    size_t njobs;
    size_t *blade_job;         /* the intake job that covers each blade */
} intake_jobs;

/*
 * An upper bound of the intake payload's JSON size. wb_prov_encode refuses a
 * payload over the statement limit with WB_E_INVALID (the payload alone is
 * over it), so sim_sign's WB_E_LIMIT never comes for it and an intake of
 * many large blades (40 blades of 60 parts: ~230 KB) could not be split.
 * Ids are hex and slot names plain ASCII, so nothing is escaped; each
 * found slot is {"slot":"..","id":".."}, plus a comma: 21 bytes of syntax.
 */
static size_t intake_bound(const wb_prov_payload *p)
{
    const wb_p_intake *in = &p->u.intake;
    size_t n = 1024; /* version, kind, site, shipment, seals, verdict, keys */
    for (size_t u = 0; u < in->nunits; u++) {
        n += 32 + strlen(in->units[u].id);
        for (size_t k = 0; k < in->units[u].nfound; k++)
            n += 24 + strlen(in->units[u].found[k].slot) + strlen(in->units[u].found[k].id);
    }
    return n;
}

/* the intake of rack r covering units [from, to) of its packing list (0 is
 * the rack, k + 1 its blade k), split while too large */
static int sign_intake(sim *s, sim_batch *b, size_t r, unsigned from, unsigned to,
                       intake_jobs *ij)
{
    const sim_rack *rk = &s->racks[r];
    unsigned nb = s->opt->blades, np = s->opt->parts, nu = to - from;
    wb_p_intake_unit *units = calloc(nu, sizeof(*units));
    wb_slot_entry *found = calloc((size_t)nu * (np > nb ? np : nb), sizeof(*found));
    char seal2[40], *seals[2] = {(char *)rk->seals[0], (char *)rk->seals[1]}, label[160];
    wb_prov_payload p;
    size_t job;
    int rc;
    if (!units || !found) {
        free(units);
        free(found);
        return wb_error_set(WB_E_NOMEM, "out of memory");
    }
    if (rk->seal_tamper) {
        /* the second seal was cut and replaced on the way */
        snprintf(seal2, sizeof(seal2), "TS-%s-R%04zu", s->run, r + 1);
        seals[1] = seal2;
    }
    memset(&p, 0, sizeof(p));
    p.kind = WB_KIND_INTAKE;
    p.version = WB_PROV_VERSION;
    snprintf(p.u.intake.site, sizeof(p.u.intake.site), "%s", SITE);
    snprintf(p.u.intake.shipment, sizeof(p.u.intake.shipment), "%s", rk->shipment);
    p.u.intake.seals = seals;
    p.u.intake.nseals = 2;
    for (unsigned u = from; u < to; u++) {
        wb_p_intake_unit *unit = &units[u - from];
        wb_slot_entry *f = &found[(size_t)(u - from) * (np > nb ? np : nb)];
        if (u == 0) {
            wb_slot_entry *ch = rack_slots(s, r);
            if (!ch) {
                free(units);
                free(found);
                return wb_error_set(WB_E_NOMEM, "out of memory");
            }
            memcpy(f, ch, nb * sizeof(*f));
            free(ch);
            snprintf(unit->id, sizeof(unit->id), "%s", s->dev[rk->dev].id);
            unit->nfound = nb;
        } else {
            size_t bi = r * nb + (u - 1);
            blade_seen(s, bi, SEEN_INTAKE, f);
            snprintf(unit->id, sizeof(unit->id), "%s", s->dev[s->blades[bi].dev].id);
            unit->nfound = np;
        }
        unit->found = f;
    }
    p.u.intake.units = units;
    p.u.intake.nunits = nu;
    p.u.intake.verdict = WB_VERDICT_PASS;
    snprintf(label, sizeof(label), "intake of %s (units %u-%u)", rk->shipment, from, to - 1);
    if (nu > 1 && intake_bound(&p) > WB_STATEMENT_MAX - 1024)
        rc = WB_E_LIMIT; /* the encoder would refuse it: split before signing */
    else
        rc = sim_sign(b, &job, &s->parties[SIM_P_DATACENTER], &p, rk->shipment, 0, label);
    free(units);
    free(found);
    if (rc == WB_E_LIMIT && nu > 1) {
        unsigned mid = from + nu / 2;
        rc = sign_intake(s, b, r, from, mid, ij);
        if (rc == 0)
            rc = sign_intake(s, b, r, mid, to, ij);
        return rc;
    }
    if (rc)
        return rc;
    {
        size_t *g = realloc(ij->jobs, (ij->njobs + 1) * sizeof(*g));
        if (!g)
            return wb_error_set(WB_E_NOMEM, "out of memory");
        ij->jobs = g;
        ij->jobs[ij->njobs++] = job;
        for (unsigned u = from; u < to; u++)
            if (u > 0)
                ij->blade_job[r * nb + (u - 1)] = job;
    }
    return 0;
}

static int sign_attestation(sim *s, sim_batch *b, size_t i, wb_attest_phase phase,
                            size_t *job)
{
    sim_blade *bl = &s->blades[i];
    unsigned np = s->opt->parts;
    wb_slot_entry *seen = calloc(np, sizeof(*seen));
    wb_measurement *m = calloc(np, sizeof(*m));
    char *reasons[1], label[160], evidence[8192];
    uint8_t h[32];
    wb_prov_payload p;
    wb_p_attestation *a = &p.u.attestation;
    int64_t iat = 0;
    int rc;
    if (!seen || !m) {
        free(seen);
        free(m);
        return wb_error_set(WB_E_NOMEM, "out of memory");
    }
    memset(&p, 0, sizeof(p));
    p.kind = WB_KIND_ATTESTATION;
    p.version = WB_PROV_VERSION;
    snprintf(a->site, sizeof(a->site), "%s", SITE);
    snprintf(a->target, sizeof(a->target), "%s", s->dev[bl->dev].id);
    a->phase = phase;
    sim_hex_rand(a->nonce, 32, &s->rng);
    blade_seen(s, i, phase == WB_PHASE_ARRIVAL ? SEEN_ARRIVAL : SEEN_NONE, seen);
    for (unsigned k = 0; k < np; k++) {
        const sim_device *d = &s->dev[part_index(s, i, k)];
        snprintf(m[k].component, sizeof(m[k].component), "%s", d->slot);
        snprintf(m[k].digest, sizeof(m[k].digest), "%s",
                 phase == WB_PHASE_ARRIVAL && bl->fw_slot == (int)k
                     ? bl->fw_digest
                     : s->fw[s->current_fw[d->cls]].digest);
    }
    /* the digest of the evidence the verifier checked: a stand-in */
    snprintf(evidence, sizeof(evidence), "evidence|%s|%s|%s", a->target, a->nonce,
             seen[0].id);
    wb_sha256(h, evidence, strlen(evidence));
    wb_hex_encode(a->evidence_digest, h, 32);
    a->seen = seen;
    a->nseen = np;
    a->measurements = m;
    a->nmeasurements = np;
    a->verdict = WB_VERDICT_PASS;
    if (phase == WB_PHASE_ARRIVAL && bl->attest_fail) {
        reasons[0] = "the quote's signature does not verify against the attestation key";
        a->verdict = WB_VERDICT_FAIL;
        a->reasons = reasons;
        a->nreasons = 1;
    }
    if (phase == WB_PHASE_PREPRODUCTION && bl->overdue)
        iat = (int64_t)time(NULL) - s->opt->overdue_age_s;
    snprintf(label, sizeof(label), "%s attestation of blade %s",
             phase == WB_PHASE_ARRIVAL ? "arrival" : "pre-production",
             s->dev[bl->dev].serial);
    rc = sim_sign(b, job, &s->parties[SIM_P_DATACENTER], &p, a->target, iat, label);
    free(seen);
    free(m);
    return rc;
}

static int sign_rack_attestation(sim *s, sim_batch *b, size_t r, size_t *job)
{
    wb_slot_entry *seen = rack_slots(s, r);
    wb_prov_payload p;
    wb_p_attestation *a = &p.u.attestation;
    char label[160], evidence[256];
    uint8_t h[32];
    int rc;
    if (!seen)
        return wb_error_set(WB_E_NOMEM, "out of memory");
    memset(&p, 0, sizeof(p));
    p.kind = WB_KIND_ATTESTATION;
    p.version = WB_PROV_VERSION;
    snprintf(a->site, sizeof(a->site), "%s", SITE);
    snprintf(a->target, sizeof(a->target), "%s", s->dev[s->racks[r].dev].id);
    a->phase = WB_PHASE_PREPRODUCTION;
    sim_hex_rand(a->nonce, 32, &s->rng);
    snprintf(evidence, sizeof(evidence), "rack evidence|%s|%s", a->target, a->nonce);
    wb_sha256(h, evidence, strlen(evidence));
    wb_hex_encode(a->evidence_digest, h, 32);
    a->seen = seen;
    a->nseen = s->opt->blades;
    a->verdict = WB_VERDICT_PASS;
    snprintf(label, sizeof(label), "pre-production attestation of rack %s",
             s->dev[s->racks[r].dev].serial);
    rc = sim_sign(b, job, &s->parties[SIM_P_DATACENTER], &p, a->target, 0, label);
    free(seen);
    return rc;
}

/* ---- the phases ---- */

static void copy_entry(char dst[65], const sim_batch *b, size_t job)
{
    snprintf(dst, 65, "%s", b->jobs[job].entry);
}

static int phase_manifests(sim *s)
{
    sim_batch b = {0};
    size_t *idx = malloc(s->ndev * sizeof(*idx)), *fwjob = NULL;
    int rc = idx ? 0 : wb_error_set(WB_E_NOMEM, "out of memory");
    for (int party = 0; rc == 0 && party <= SIM_P_INTEGRATOR; party++) {
        size_t n = 0, seq = 0;
        for (size_t k = 0; k < s->ndev; k++)
            if (s->dev[k].party == party)
                idx[n++] = k;
        for (size_t off = 0; rc == 0 && off < n; off += WB_SIM_MANIFEST_DEVICES) {
            size_t cnt = n - off < WB_SIM_MANIFEST_DEVICES ? n - off : WB_SIM_MANIFEST_DEVICES;
            rc = sign_manifest(s, &b, party, idx + off, cnt, &seq);
        }
    }
    fwjob = calloc(s->nfw, sizeof(*fwjob));
    if (rc == 0 && !fwjob)
        rc = wb_error_set(WB_E_NOMEM, "out of memory");
    for (size_t f = 0; rc == 0 && f < s->nfw; f++)
        rc = sign_firmware(s, &b, (long)f, &fwjob[f]);
    if (rc == 0)
        rc = sim_register(&s->reg, &b, "manifests");
    for (size_t f = 0; rc == 0 && f < s->nfw; f++)
        copy_entry(s->fw[f].entry, &b, fwjob[f]);
    free(idx);
    free(fwjob);
    sim_batch_cleanup(&b);
    return rc;
}

static int phase_assemblies(sim *s)
{
    sim_batch b = {0};
    size_t *job = calloc(s->nblades + s->nfw, sizeof(*job));
    int rc = job ? 0 : wb_error_set(WB_E_NOMEM, "out of memory");
    for (size_t f = 0; rc == 0 && f < s->nfw; f++)
        if (s->fw[f].review)
            rc = sign_review(s, &b, (long)f, &job[s->nblades + f]);
    for (size_t i = 0; rc == 0 && i < s->nblades; i++)
        rc = sign_blade_assembly(s, &b, i, &job[i]);
    if (rc == 0)
        rc = sim_register(&s->reg, &b, "assemblies");
    for (size_t i = 0; rc == 0 && i < s->nblades; i++)
        copy_entry(s->blades[i].assembly, &b, job[i]);
    for (size_t f = 0; rc == 0 && f < s->nfw; f++)
        if (s->fw[f].review)
            copy_entry(s->fw[f].review_entry, &b, job[s->nblades + f]);
    free(job);
    sim_batch_cleanup(&b);
    return rc;
}

static int phase_racks(sim *s)
{
    sim_batch b = {0};
    size_t *job = calloc(s->nracks + s->nfw, sizeof(*job));
    int rc = job ? 0 : wb_error_set(WB_E_NOMEM, "out of memory");
    for (size_t r = 0; rc == 0 && r < s->nracks; r++)
        rc = sign_rack_assembly(s, &b, r, &job[r]);
    for (size_t f = 0; rc == 0 && f < s->nfw; f++)
        if (s->fw[f].revoke)
            rc = sign_revocation(s, &b, SIM_P_FIRMWARE, WB_REVOKE_FIRMWARE, s->fw[f].digest,
                                 "withdrawn by the vendor: the image skips the signature "
                                 "check of its recovery partition",
                                 &job[s->nracks + f]);
    if (rc == 0)
        rc = sim_register(&s->reg, &b, "racks");
    for (size_t r = 0; rc == 0 && r < s->nracks; r++)
        copy_entry(s->racks[r].assembly, &b, job[r]);
    for (size_t f = 0; rc == 0 && f < s->nfw; f++)
        if (s->fw[f].revoke)
            copy_entry(s->fw[f].revoke_entry, &b, job[s->nracks + f]);
    free(job);
    sim_batch_cleanup(&b);
    return rc;
}

static int phase_custody(sim *s, wb_custody_event ev)
{
    sim_batch b = {0};
    size_t *job = calloc(s->nracks, sizeof(*job));
    int rc = job ? 0 : wb_error_set(WB_E_NOMEM, "out of memory");
    for (size_t r = 0; rc == 0 && r < s->nracks; r++) {
        if (ev == WB_CUSTODY_SHIP && s->racks[r].no_ship) {
            job[r] = SIZE_MAX;
            continue;
        }
        rc = sign_custody(s, &b, r, ev, &job[r]);
    }
    if (rc == 0)
        rc = sim_register(&s->reg, &b, ev == WB_CUSTODY_SHIP ? "ship" : "receive");
    for (size_t r = 0; rc == 0 && r < s->nracks; r++)
        if (job[r] != SIZE_MAX)
            copy_entry(ev == WB_CUSTODY_SHIP ? s->racks[r].ship : s->racks[r].receive, &b,
                       job[r]);
    free(job);
    sim_batch_cleanup(&b);
    return rc;
}

static int phase_intake(sim *s)
{
    sim_batch b = {0};
    intake_jobs ij = {NULL, 0, calloc(s->nblades, sizeof(size_t))};
    size_t *first = calloc(s->nracks + 1, sizeof(*first));
    int rc = ij.blade_job && first ? 0 : wb_error_set(WB_E_NOMEM, "out of memory");
    for (size_t r = 0; rc == 0 && r < s->nracks; r++) {
        first[r] = ij.njobs;
        rc = sign_intake(s, &b, r, 0, s->opt->blades + 1u, &ij);
    }
    if (rc == 0) {
        first[s->nracks] = ij.njobs;
        rc = sim_register(&s->reg, &b, "intake");
    }
    for (size_t r = 0; rc == 0 && r < s->nracks; r++) {
        sim_rack *rk = &s->racks[r];
        rk->nintakes = first[r + 1] - first[r];
        rk->intakes = calloc(rk->nintakes, sizeof(*rk->intakes));
        if (!rk->intakes) {
            rc = wb_error_set(WB_E_NOMEM, "out of memory");
            break;
        }
        for (size_t k = 0; k < rk->nintakes; k++)
            copy_entry(rk->intakes[k], &b, ij.jobs[first[r] + k]);
    }
    for (size_t i = 0; rc == 0 && i < s->nblades; i++)
        copy_entry(s->blades[i].intake, &b, ij.blade_job[i]);
    free(ij.jobs);
    free(ij.blade_job);
    free(first);
    sim_batch_cleanup(&b);
    return rc;
}

static int phase_device_revocations(sim *s)
{
    sim_batch b = {0};
    size_t job[WB_SIM_INJECT_COUNT];
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < s->nplan; i++)
        if (s->plan[i].kind == WB_SIM_REVOKED_DEVICE) {
            const sim_device *d = &s->dev[s->plan[i].device];
            rc = sign_revocation(s, &b, d->party, WB_REVOKE_DEVICE, d->id,
                                 "returned after a failed burn-in at the supplier: this "
                                 "identity must not appear in service", &job[i]);
        }
    if (rc == 0 && b.n)
        rc = sim_register(&s->reg, &b, "revocations");
    for (size_t i = 0; rc == 0 && i < s->nplan; i++)
        if (s->plan[i].kind == WB_SIM_REVOKED_DEVICE)
            copy_entry(s->plan[i].revocation, &b, job[i]);
    sim_batch_cleanup(&b);
    return rc;
}

static int phase_attest(sim *s, wb_attest_phase phase)
{
    sim_batch b = {0};
    size_t *job = calloc(s->nblades + s->nracks, sizeof(*job));
    int rc = job ? 0 : wb_error_set(WB_E_NOMEM, "out of memory");
    int held = phase == WB_PHASE_ARRIVAL ? Q_AFTER_INTAKE : Q_AFTER_ARRIVAL;
    for (size_t i = 0; rc == 0 && i < s->nblades; i++) {
        int q = s->blades[i].quarantine;
        if (q != Q_NONE && q <= held) {
            job[i] = SIZE_MAX;
            continue;
        }
        rc = sign_attestation(s, &b, i, phase, &job[i]);
    }
    if (rc == 0)
        rc = sim_register(&s->reg, &b, phase == WB_PHASE_ARRIVAL ? "arrival" : "production");
    for (size_t i = 0; rc == 0 && i < s->nblades; i++)
        if (job[i] != SIZE_MAX)
            copy_entry(phase == WB_PHASE_ARRIVAL ? s->blades[i].arrival
                                                 : s->blades[i].preprod,
                       &b, job[i]);
    sim_batch_cleanup(&b);
    /* then the racks, once their blades are in production */
    if (rc == 0 && phase == WB_PHASE_PREPRODUCTION) {
        for (size_t r = 0; rc == 0 && r < s->nracks; r++)
            if (s->racks[r].attest)
                rc = sign_rack_attestation(s, &b, r, &job[s->nblades + r]);
        if (rc == 0 && b.n)
            rc = sim_register(&s->reg, &b, "racks in production");
        for (size_t r = 0; rc == 0 && r < s->nracks; r++)
            if (s->racks[r].attest)
                copy_entry(s->racks[r].attestation, &b, job[s->nblades + r]);
        sim_batch_cleanup(&b);
    }
    free(job);
    return rc;
}

/* ---- the report ---- */

static wb_sim_expect *expect(wb_sim_injection *in, const char *rule, wb_tag tag,
                             const char *device)
{
    wb_sim_expect *g = realloc(in->expect, (in->nexpect + 1) * sizeof(*g)), *e;
    if (!g)
        return NULL;
    in->expect = g;
    e = &g[in->nexpect++];
    memset(e, 0, sizeof(*e));
    snprintf(e->rule, sizeof(e->rule), "%s", rule);
    e->tag = tag;
    snprintf(e->device, sizeof(e->device), "%s", device ? device : "");
    return e;
}

static void evidence(wb_sim_expect *e, const char *entry)
{
    if (e && entry && entry[0] && e->nevidence < 4)
        snprintf(e->evidence[e->nevidence++], 65, "%s", entry);
}

static int describe(sim *s, const sim_plan *p, wb_sim_injection *in)
{
    const sim_blade *bl = p->blade >= 0 ? &s->blades[p->blade] : NULL;
    const sim_rack *rk = p->rack >= 0 ? &s->racks[p->rack] : NULL;
    const sim_device *blade = bl ? &s->dev[bl->dev] : NULL;
    const sim_device *dv = p->device >= 0 ? &s->dev[p->device] : NULL;
    char slot[16] = "";
    wb_sim_expect *e = NULL;
    memset(in, 0, sizeof(*in));
    in->kind = p->kind;
    if (bl) {
        slot_name(slot, sizeof(slot), p->slot);
        snprintf(in->unit, sizeof(in->unit), "%s", blade->id);
    } else if (rk) {
        snprintf(in->unit, sizeof(in->unit), "%s", s->dev[rk->dev].id);
    }
    switch (p->kind) {
    case WB_SIM_SWAP: {
        const sim_device *orig = &s->dev[part_index(s, (size_t)p->blade, p->slot)];
        snprintf(in->device, sizeof(in->device), "%s", dv->id);
        snprintf(in->trigger, sizeof(in->trigger), "%s", bl->intake);
        snprintf(in->what, sizeof(in->what),
                 "blade %s slot %s: %s %.12s replaced by spare %.12s (serial %s) with no "
                 "replacement statement; seen at intake", blade->serial, slot,
                 wb_class_name(orig->cls), orig->id, dv->id, dv->serial);
        e = expect(in, "unauthorized-swap", WB_TAG_EVICT, dv->id);
        evidence(e, bl->assembly);
        evidence(e, bl->intake);
        break;
    }
    case WB_SIM_CLONE: {
        const sim_blade *genuine = &s->blades[p->blade2];
        snprintf(in->device, sizeof(in->device), "%s", dv->id);
        snprintf(in->trigger, sizeof(in->trigger), "%s", bl->arrival);
        snprintf(in->what, sizeof(in->what),
                 "blade %s: its RoT answers the arrival attestation with the identity "
                 "%.12s of the RoT of blade %s", blade->serial, dv->id,
                 s->dev[genuine->dev].serial);
        e = expect(in, "clone", WB_TAG_EVICT, dv->id);
        evidence(e, genuine->assembly);
        evidence(e, bl->arrival);
        /* and the slot no longer holds the RoT the ledger put there */
        e = expect(in, "unauthorized-swap", WB_TAG_EVICT, dv->id);
        evidence(e, bl->assembly);
        evidence(e, bl->arrival);
        break;
    }
    case WB_SIM_UNKNOWN:
        snprintf(in->device, sizeof(in->device), "%s", p->unknown);
        snprintf(in->trigger, sizeof(in->trigger), "%s", bl->intake);
        snprintf(in->what, sizeof(in->what),
                 "blade %s slot %s: a part with identity %.12s that no supplier "
                 "manifested; seen at intake", blade->serial, slot, p->unknown);
        e = expect(in, "unknown-identity", WB_TAG_EVICT, p->unknown);
        evidence(e, bl->intake);
        break;
    case WB_SIM_CUSTODY_GAP:
        snprintf(in->trigger, sizeof(in->trigger), "%s", rk->receive);
        snprintf(in->what, sizeof(in->what),
                 "rack %s: shipment %s is received%s at %s but was never shipped",
                 s->dev[rk->dev].serial, rk->shipment,
                 s->opt->until == WB_SIM_UNTIL_ALL ? " and taken in" : "", SITE);
        e = expect(in, "custody-gap", WB_TAG_INVESTIGATE, NULL);
        evidence(e, rk->receive);
        for (size_t k = 0; k < rk->nintakes; k++) {
            e = expect(in, "custody-gap", WB_TAG_INVESTIGATE, NULL);
            evidence(e, rk->intakes[k]);
        }
        break;
    case WB_SIM_SEAL_MISMATCH:
        snprintf(in->trigger, sizeof(in->trigger), "%s", rk->nintakes ? rk->intakes[0] : "");
        snprintf(in->what, sizeof(in->what),
                 "rack %s: shipment %s left with seals %s and %s; the intake found %s and "
                 "a replacement", s->dev[rk->dev].serial, rk->shipment, rk->seals[0],
                 rk->seals[1], rk->seals[0]);
        for (size_t k = 0; k < rk->nintakes; k++) {
            e = expect(in, "seal-mismatch", WB_TAG_INVESTIGATE, NULL);
            evidence(e, rk->ship);
            evidence(e, rk->intakes[k]);
        }
        break;
    case WB_SIM_REVOKED_FW:
    case WB_SIM_VULNERABLE_FW:
    case WB_SIM_UNREVIEWED_FW:
    case WB_SIM_UNRELEASED_FW: {
        const sim_fw *fw = p->fw >= 0 ? &s->fw[p->fw] : NULL;
        const char *rule = p->kind == WB_SIM_REVOKED_FW      ? "firmware-revoked"
                           : p->kind == WB_SIM_VULNERABLE_FW ? "firmware-vulnerable"
                           : p->kind == WB_SIM_UNREVIEWED_FW ? "firmware-unreviewed"
                                                             : "firmware-unreleased";
        const char *how =
            p->kind == WB_SIM_REVOKED_FW      ? "released, then revoked by its vendor"
            : p->kind == WB_SIM_VULNERABLE_FW ? "released with a review that has a CVSS 9.8 "
                                                "issue"
            : p->kind == WB_SIM_UNREVIEWED_FW ? "released without any review"
                                              : "that nobody released";
        snprintf(in->device, sizeof(in->device), "%s", blade->id);
        snprintf(in->trigger, sizeof(in->trigger), "%s", bl->arrival);
        snprintf(in->what, sizeof(in->what),
                 "blade %s: the arrival attestation measures %s firmware %.16s... %s%s",
                 blade->serial, slot, bl->fw_digest, how,
                 p->kind == WB_SIM_UNRELEASED_FW ? "" : "; updated before pre-production");
        e = expect(in, rule,
                   p->kind == WB_SIM_UNRELEASED_FW ? WB_TAG_EVICT : WB_TAG_REMEDIATE,
                   blade->id);
        if (fw)
            evidence(e, fw->entry);
        if (fw && p->kind == WB_SIM_REVOKED_FW)
            evidence(e, fw->revoke_entry);
        if (fw && p->kind == WB_SIM_VULNERABLE_FW)
            evidence(e, fw->review_entry);
        evidence(e, bl->arrival);
        break;
    }
    case WB_SIM_REVOKED_DEVICE:
        snprintf(in->device, sizeof(in->device), "%s", dv->id);
        snprintf(in->trigger, sizeof(in->trigger), "%s", bl->arrival);
        snprintf(in->what, sizeof(in->what),
                 "blade %s slot %s: %s %.12s (serial %s) revoked by %s after intake, then "
                 "seen at the arrival attestation", blade->serial, slot,
                 wb_class_name(dv->cls), dv->id, dv->serial, sim_parties[dv->party].name);
        e = expect(in, "revoked-in-service", WB_TAG_EVICT, dv->id);
        evidence(e, p->revocation);
        evidence(e, bl->arrival);
        break;
    case WB_SIM_ATTEST_FAIL:
        snprintf(in->device, sizeof(in->device), "%s", blade->id);
        snprintf(in->trigger, sizeof(in->trigger), "%s", bl->arrival);
        snprintf(in->what, sizeof(in->what),
                 "blade %s: the arrival attestation fails (bad quote signature) with every "
                 "identity and measurement as expected", blade->serial);
        e = expect(in, "attestation-failed", WB_TAG_INVESTIGATE, blade->id);
        evidence(e, bl->arrival);
        break;
    case WB_SIM_OVERDUE:
        snprintf(in->device, sizeof(in->device), "%s", blade->id);
        snprintf(in->trigger, sizeof(in->trigger), "%s", bl->preprod);
        snprintf(in->what, sizeof(in->what),
                 "blade %s: its pre-production attestation is dated %lld s back; raised by "
                 "the service's periodic scan ([policy] overdue_scan_s)", blade->serial,
                 (long long)s->opt->overdue_age_s);
        e = expect(in, "attestation-overdue", WB_TAG_INVESTIGATE, blade->id);
        evidence(e, bl->preprod);
        break;
    default:
        break;
    }
    if (in->nexpect && !in->expect)
        return wb_error_set(WB_E_NOMEM, "out of memory");
    for (size_t k = 0; k < in->nexpect; k++)
        if (!in->expect[k].rule[0])
            return wb_error_set(WB_E_NOMEM, "out of memory");
    return 0;
}

static void expected_states(sim *s, wb_sim_report *r)
{
    /* stopped at the receipt: every unit shipped and its parts are received */
    wb_sim_state done = s->opt->until == WB_SIM_UNTIL_RECEIVED ? WB_SIM_STATE_RECEIVED
                                                               : WB_SIM_STATE_IN_PRODUCTION;
    for (size_t k = 0; k < s->ndev; k++)
        s->dev[k].state = s->dev[k].spare ? WB_SIM_STATE_MANUFACTURED : done;
    for (size_t i = 0; i < s->nblades; i++)
        if (s->blades[i].quarantine) {
            s->dev[s->blades[i].dev].state = WB_SIM_STATE_RECEIVED;
            for (unsigned k = 0; k < s->opt->parts; k++)
                s->dev[part_index(s, i, k)].state = WB_SIM_STATE_RECEIVED;
        }
    for (size_t r2 = 0; r2 < s->nracks; r2++)
        if (!s->racks[r2].attest)
            s->dev[s->racks[r2].dev].state = WB_SIM_STATE_RECEIVED;
    for (size_t k = 0; k < s->ndev; k++) {
        r->by_state[s->dev[k].state]++;
        r->by_class[s->dev[k].cls]++;
    }
}

static int fill_report(sim *s, wb_sim_report *r)
{
    snprintf(r->run, sizeof(r->run), "%s", s->run);
    r->seed = s->opt->seed;
    r->racks = s->opt->racks;
    r->blades = s->opt->blades;
    r->parts = s->opt->parts;
    r->devices = s->ndev;
    r->spares = s->ndev - s->spare_base;
    r->statements = s->reg.registered;
    memcpy(r->by_kind, s->reg.by_kind, sizeof(r->by_kind));
    snprintf(r->site, sizeof(r->site), "%s", SITE);
    expected_states(s, r);
    /* a rack and a blade with nothing injected, to explore */
    for (size_t i = 0; i < s->nblades; i++) {
        const sim_blade *bl = &s->blades[i];
        int touched = bl->quarantine || bl->fw_slot >= 0 || bl->overdue ||
                      !s->racks[bl->rack].attest || s->racks[bl->rack].no_ship ||
                      s->racks[bl->rack].seal_tamper;
        for (size_t k = 0; k < s->nplan; k++)
            if (s->plan[k].blade2 == (long)i)
                touched = 1;
        if (!touched || i + 1 == s->nblades) {
            snprintf(r->sample_blade, sizeof(r->sample_blade), "%s", s->dev[bl->dev].id);
            snprintf(r->sample_rack, sizeof(r->sample_rack), "%s",
                     s->dev[s->racks[bl->rack].dev].id);
            if (!touched)
                break;
        }
    }
    r->until = s->opt->until;
    r->shipments = calloc(s->nracks, sizeof(*r->shipments));
    if (!r->shipments)
        return wb_error_set(WB_E_NOMEM, "out of memory");
    for (size_t k = 0; k < s->nracks; k++) {
        const sim_rack *rk = &s->racks[k];
        wb_sim_shipment *sh = &r->shipments[k];
        unsigned nb = s->opt->blades;
        snprintf(sh->id, sizeof(sh->id), "%s", rk->shipment);
        for (int q = 0; q < 2; q++)
            snprintf(sh->seals[q], sizeof(sh->seals[q]), "%s", rk->seals[q]);
        sh->shipped = !rk->no_ship;
        sh->units = calloc(nb + 1u, sizeof(*sh->units));
        if (!sh->units)
            return wb_error_set(WB_E_NOMEM, "out of memory");
        r->nshipments++;
        /* the packing list, as the custody statements give it */
        snprintf(sh->units[0], sizeof(sh->units[0]), "%s", s->dev[rk->dev].id);
        for (unsigned b = 0; b < nb; b++)
            snprintf(sh->units[b + 1], sizeof(sh->units[b + 1]), "%s",
                     s->dev[s->blade_base + k * nb + b].id);
        sh->nunits = nb + 1u;
    }
    r->injections = calloc(s->nplan ? s->nplan : 1, sizeof(*r->injections));
    if (!r->injections)
        return wb_error_set(WB_E_NOMEM, "out of memory");
    for (size_t i = 0; i < s->nplan; i++) {
        int rc = describe(s, &s->plan[i], &r->injections[i]);
        r->ninjections++;
        if (rc)
            return rc;
    }
    return 0;
}

/* ---- the run ---- */

/* DIR/attest/devices.json: what the attesting units hold and report */
static int write_devfile(sim *s)
{
    sim_devfile_info info;
    memset(&info, 0, sizeof(info));
    info.run = s->run;
    info.site = SITE;
    for (int c = 0; c < WB_CLASS_COUNT; c++)
        if (s->current_fw[c] >= 0)
            info.fw_digest[c] = s->fw[s->current_fw[c]].digest;
    return sim_write_devfile(s->opt->dir, s->parties, s->dev, s->ndev, &info);
}

static void sim_cleanup(sim *s)
{
    for (int i = 0; i < SIM_P_COUNT; i++)
        sim_party_cleanup(&s->parties[i]);
    wb_key_free(s->admin);
    sim_devices_free(s->dev, s->ndev);
    free(s->dev);
    for (size_t r = 0; s->racks && r < s->nracks; r++)
        free(s->racks[r].intakes);
    free(s->racks);
    free(s->blades);
}

static int load_admin(sim *s)
{
    int rc = wb_key_read_file(&s->admin, s->opt->admin_key_file);
    if (rc == 0 && !wb_key_is_private(s->admin))
        rc = wb_error_set(WB_E_INVALID, "%s is a public key; the admin key's private part "
                          "signs", s->opt->admin_key_file);
    if (rc == 0)
        rc = wb_cose_signer_for_key(&s->admin_signer, s->admin);
    if (rc == 0)
        rc = wb_key_default_kid(s->admin_kid, s->admin);
    return rc ? wb_error_prefix(rc, "admin key %s", s->opt->admin_key_file) : 0;
}

static int write_report(const wb_sim_report *r, const char *dir)
{
    char path[4400], *json = NULL;
    int rc = wb_sim_report_json(&json, r);
    snprintf(path, sizeof(path), "%s/report.json", dir);
    if (rc == 0)
        rc = wb_file_replace(path, json, strlen(json), 0644);
    free(json);
    return rc;
}

int wb_sim_run(wb_sim_report *r, const wb_sim_options *opt)
{
    sim s;
    uint8_t tag[3];
    uint64_t ca_serial = 1;
    double t0 = sim_now(), t1;
    int rc;

    memset(r, 0, sizeof(*r));
    rc = check_options(opt);
    if (rc)
        return rc;
    memset(&s, 0, sizeof(s));
    s.opt = opt;
    s.rep = r;
    s.rng = opt->seed;
    s.reg.opt = opt;
    for (size_t c = 0; c < WB_CLASS_COUNT; c++)
        s.current_fw[c] = -1;
    /* the run tag keeps serials and shipment ids of several runs apart */
    rc = wb_random_bytes(tag, sizeof(tag));
    if (rc)
        return rc;
    wb_hex_encode(s.run, tag, sizeof(tag));

    rc = sim_mkdirs(opt->dir);
    if (rc == 0)
        rc = load_admin(&s);
    /* the datacenter and its site may be another one than the default, so
     * that several datacenters' fleets share one ledger */
    s.site = opt->site && opt->site[0] ? opt->site : WB_SIM_SITE;
    s.datacenter = sim_parties[SIM_P_DATACENTER];
    if (opt->datacenter && opt->datacenter[0])
        s.datacenter.name = opt->datacenter;
    for (int i = 0; rc == 0 && i < SIM_P_COUNT; i++)
        rc = sim_party_make(&s.parties[i],
                            i == SIM_P_DATACENTER ? &s.datacenter : &sim_parties[i], &ca_serial);
    if (rc == 0)
        rc = plan_fleet(&s);
    if (rc == 0)
        rc = sim_devices_make(s.dev, s.ndev, s.parties, s.run, opt);
    if (rc == 0)
        plan_seen_ids(&s);
    if (rc == 0 && opt->write_files)
        rc = sim_write_files(opt->dir, s.parties, s.dev, s.ndev);
    if (rc == 0 && opt->write_files)
        rc = write_devfile(&s);
    t1 = sim_now();
    r->keygen_s = t1 - t0;

    if (rc == 0)
        rc = governance(&s);
    if (rc == 0)
        rc = phase_manifests(&s);
    if (rc == 0)
        rc = phase_assemblies(&s);
    if (rc == 0)
        rc = phase_racks(&s);
    if (rc == 0)
        rc = phase_custody(&s, WB_CUSTODY_SHIP);
    if (rc == 0)
        rc = phase_custody(&s, WB_CUSTODY_RECEIVE);
    if (opt->until == WB_SIM_UNTIL_ALL) {
        if (rc == 0)
            rc = phase_intake(&s);
        if (rc == 0)
            rc = phase_device_revocations(&s);
        if (rc == 0)
            rc = phase_attest(&s, WB_PHASE_ARRIVAL);
        if (rc == 0)
            rc = phase_attest(&s, WB_PHASE_PREPRODUCTION);
    }
    r->register_s = sim_now() - t1;
    r->elapsed_s = sim_now() - t0;
    if (rc == 0)
        rc = fill_report(&s, r);
    if (rc == 0 && opt->write_files)
        rc = write_report(r, opt->dir);
    sim_cleanup(&s);
    if (rc)
        wb_sim_report_cleanup(r);
    return rc;
}

void wb_sim_report_cleanup(wb_sim_report *r)
{
    for (size_t i = 0; r->injections && i < r->ninjections; i++)
        free(r->injections[i].expect);
    free(r->injections);
    for (size_t i = 0; r->shipments && i < r->nshipments; i++)
        free(r->shipments[i].units);
    free(r->shipments);
    memset(r, 0, sizeof(*r));
}
