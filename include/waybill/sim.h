/*
 * waybill/sim.h: the fleet simulator (`waybill sim`, docs/simulator.md).
 *
 * wb_sim_run makes a realistic fleet with its own keys and certificates and
 * plays its journey from the factory to production through a running
 * waybill service, as every party would:
 *
 *   - suppliers (platform RoT, TPM, BMC, NIC and SSD makers), each with a
 *     P-384 device-identity CA; every part has a P-384 RoT identity key and
 *     a certificate issued by its supplier's CA (the device id is the
 *     SHA-256 of that key's SubjectPublicKeyInfo, DESIGN.md);
 *   - an integrator with its own CA and identities for blades and racks;
 *   - a carrier, a datacenter with one site, a firmware vendor and a
 *     security reviewer.
 *
 * The operator admin key registers every party (governance statements of
 * kind issuer); then the parties register, in order: manifests (up to 40
 * devices each, every device with its certificate chain), firmware releases
 * and their reviews, blade assemblies (parts by slot) and rack assemblies
 * (blades by slot), shipments (ship, receive, with seals), the intake at
 * the site (what was found in every slot), arrival and pre-production
 * attestations (identities seen by slot, firmware measurements) and a
 * rack-level attestation. Every statement is signed and registered with
 * wb_client_register, several in flight at once. A clean run raises no
 * finding.
 *
 * Anomalies are injected on request, each on its own blade (or shipment),
 * so that every finding the service raises can be traced to one injection;
 * the report says, per injection, what was done, to which device, and which
 * findings the anomaly rules must raise with which evidence entries.
 *
 * A run can stop after the carrier's receipt (WB_SIM_UNTIL_RECEIVED), leaving
 * the intake and the attestations to the datacenter's real tools; with
 * write_files it leaves DIR/attest/devices.json, from which `waybill sim
 * devices` (below) plays every blade and rack for a verifier.
 *
 * Keys are random; the seed decides the shape of the fleet, the victims of
 * injections, serial numbers and nonces. Each run has a random run tag in
 * its serials and shipment ids, so several runs can share one ledger.
 */
#ifndef WAYBILL_SIM_H
#define WAYBILL_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "waybill/crypto.h"
#include "waybill/prov.h"

#define WB_SIM_RACKS_MAX 10000
#define WB_SIM_BLADES_MAX 255  /* a rack and its blades ship as one shipment */
#define WB_SIM_PARTS_MAX 256   /* parts in one blade (one assembly statement) */
#define WB_SIM_MANIFEST_DEVICES 40 /* devices per manifest statement */
/* the datacenter: its issuer name (its key is DIR/keys/<name>.key) and site */
#define WB_SIM_DATACENTER "ams1-operations"
#define WB_SIM_SITE "AMS-1"

/* what can be injected; each on a different device */
typedef enum {
    WB_SIM_SWAP = 0,       /* a part replaced by a spare, no replacement statement:
                              found at intake */
    WB_SIM_CLONE,          /* a blade's RoT answers with the identity of another
                              blade's RoT at its arrival attestation */
    WB_SIM_UNKNOWN,        /* a part whose identity was never manifested, found at
                              intake */
    WB_SIM_CUSTODY_GAP,    /* a rack received (and taken in) under a shipment that
                              was never shipped */
    WB_SIM_SEAL_MISMATCH,  /* the seals found at intake differ from those shipped */
    WB_SIM_REVOKED_FW,     /* firmware revoked by its vendor, then measured */
    WB_SIM_UNRELEASED_FW,  /* a measured image nobody released */
    WB_SIM_VULNERABLE_FW,  /* a measured image whose review has a CVSS 9.8 issue */
    WB_SIM_UNREVIEWED_FW,  /* a measured image released without a review */
    WB_SIM_REVOKED_DEVICE, /* a part revoked by its supplier, then seen in service */
    WB_SIM_ATTEST_FAIL,    /* an attestation fails with nothing else wrong */
    WB_SIM_OVERDUE,        /* a blade's last attestation is older than the period */
    WB_SIM_INJECT_COUNT
} wb_sim_inject;

/* "swap", "clone", "unknown", "custody-gap", "seal-mismatch", "revoked-fw",
 * "unreleased-fw", "vulnerable-fw", "unreviewed-fw", "revoked-device",
 * "attest-fail", "overdue" */
const char *wb_sim_inject_name(wb_sim_inject k);
/*
 * wb_sim_inject_parse reads a comma-separated list of those names (or
 * "all") into a bit mask (1u << wb_sim_inject). WB_E_INVALID naming the
 * unknown word.
 */
int wb_sim_inject_parse(unsigned *mask, const char *list);

/* where a run stops */
typedef enum {
    WB_SIM_UNTIL_ALL = 0,       /* the whole journey, to production */
    WB_SIM_UNTIL_RECEIVED,      /* after the carrier's receipt of every shipment:
                                   no intake, no revocation after intake, no
                                   attestation (the datacenter's work is left to
                                   `waybill intake` / `waybill attest`) */
    WB_SIM_UNTIL_COUNT
} wb_sim_until;

/* "all", "received" */
const char *wb_sim_until_name(wb_sim_until u);
/* WB_E_INVALID naming the word */
int wb_sim_until_parse(wb_sim_until *u, const char *name);

typedef struct {
    const char *url;            /* the service, "http://127.0.0.1:8080" */
    const char *admin_key_file; /* PEM private key of an operator admin */
    const char *dir;            /* keys, certificates and the report go here */
    unsigned racks;             /* default 2 */
    unsigned blades;            /* per rack, default 4 */
    unsigned parts;             /* per blade, default 6 */
    uint64_t seed;              /* default 1 */
    unsigned inject;            /* mask of 1u << wb_sim_inject */
    unsigned workers;           /* registrations in flight, default 16 */
    unsigned threads;           /* key generation threads, 0: one per core */
    int64_t overdue_age_s;      /* how old the overdue blade's attestation is
                                   (default 7 days; the service's default
                                   period is 1 day) */
    int write_files;            /* write keys and certificates to dir (default 1
                                   via wb_sim_options_init), and
                                   dir/attest/devices.json */
    wb_sim_until until;         /* default WB_SIM_UNTIL_ALL; with
                                   WB_SIM_UNTIL_RECEIVED only custody-gap can
                                   be injected (the others need the skipped
                                   phases) */
    const char *site;           /* the datacenter's site (default WB_SIM_SITE) */
    const char *datacenter;     /* its issuer name (default WB_SIM_DATACENTER):
                                   another site and datacenter let a second run
                                   put a second site's fleet in the same ledger */
    /* called from the calling thread as the run goes (may be NULL) */
    void (*progress)(void *ctx, const char *phase, size_t done, size_t total);
    void *progress_ctx;
} wb_sim_options;

void wb_sim_options_init(wb_sim_options *o);

/* a finding the anomaly rules must raise for an injection */
typedef struct {
    char rule[WB_PROV_NAME_MAX + 1]; /* docs/anomalies.md */
    wb_tag tag;
    wb_device_id device;             /* "" for a finding about no one device */
    char evidence[4][65];            /* entry ids its evidence must list */
    size_t nevidence;
} wb_sim_expect;

typedef struct {
    wb_sim_inject kind;
    char what[512];                  /* what was done, for people */
    wb_device_id device;             /* the device tampered with or seen */
    wb_device_id unit;               /* its blade (or rack) */
    char trigger[65];                /* the entry that shows the anomaly */
    wb_sim_expect *expect;           /* the findings it must raise, no more */
    size_t nexpect;
} wb_sim_injection;

/* a shipment of the run: a rack and its blades */
typedef struct {
    char id[WB_PROV_NAME_MAX + 1];   /* the custody statements' shipment id */
    char seals[2][32];               /* the seals it left with */
    wb_device_id *units;             /* the packing list: the rack, then its blades */
    size_t nunits;
    int shipped;                     /* 0 for the custody-gap shipment */
} wb_sim_shipment;

/* expected device states at the end of the run (fleet_devices.state) */
typedef enum {
    WB_SIM_STATE_MANUFACTURED = 0,
    WB_SIM_STATE_RECEIVED,
    WB_SIM_STATE_IN_PRODUCTION,
    WB_SIM_STATE_COUNT
} wb_sim_state;

const char *wb_sim_state_name(wb_sim_state s); /* "manufactured", ... */

typedef struct {
    char run[16];                    /* the run tag in serials and shipments */
    uint64_t seed;
    unsigned racks, blades, parts;
    size_t devices;                  /* manifested */
    size_t spares;                   /* of which spare parts, never assembled */
    size_t by_class[WB_CLASS_COUNT];
    size_t by_state[WB_SIM_STATE_COUNT];
    size_t statements;               /* registered */
    size_t by_kind[WB_KIND_COUNT];
    double keygen_s;                 /* making keys and certificates */
    double register_s;               /* the journey through the service */
    double elapsed_s;
    char site[WB_PROV_NAME_MAX + 1]; /* the datacenter site */
    wb_device_id sample_rack;        /* a clean rack and blade, to explore */
    wb_device_id sample_blade;
    wb_sim_injection *injections;
    size_t ninjections;
    wb_sim_until until;              /* where the run stopped */
    wb_sim_shipment *shipments;      /* one per rack, so that a caller can take
                                        them in later (`waybill intake`) */
    size_t nshipments;
} wb_sim_report;

/*
 * wb_sim_run generates the fleet and plays its journey through the service
 * at opt->url. On success *r describes the run (free with
 * wb_sim_report_cleanup). A refused statement stops the run with
 * WB_E_INVALID naming the statement and the service's reason; WB_E_IO if
 * the service cannot be reached.
 */
int wb_sim_run(wb_sim_report *r, const wb_sim_options *opt);
void wb_sim_report_cleanup(wb_sim_report *r);

/* the report as JSON text (malloc'd, NUL-terminated) */
int wb_sim_report_json(char **out, const wb_sim_report *r);

/* ---- the simulated devices (sim_devices.c, `waybill sim devices`) ---- */

/*
 * A device server plays every attesting unit (blade and rack) of a
 * simulated fleet on one HTTP listener, from DIR/attest/devices.json that
 * a run with write_files wrote (docs/attestation.md "The device side"):
 *
 *   POST /devices/{id}/challenge   body: the nonce, raw bytes (16..64,
 *        application/octet-stream) -> 200 application/cose: evidence
 *        (waybill/attest.h) signed by the unit's alias key
 *   GET  /devices                  -> 200 JSON: every unit and its fault
 *   GET  /devices/{id}             -> 200 JSON: that unit (no private key)
 *   POST /devices/{id}/fault       body: a mode name (text/plain) -> 204
 *
 * Each unit gets, on its first challenge, a fresh alias key (P-384 unless
 * alias_alg says otherwise) and an alias certificate issued by its
 * identity key; x5chain is [alias, identity, supplier CA]. 404 for an
 * unknown unit, 400 for a bad request (text/plain, one line).
 */

/* fault modes: what a unit gets wrong on purpose */
typedef enum {
    WB_SIM_FAULT_NONE = 0,
    WB_SIM_FAULT_SWAP,     /* first slot: a manifested spare of the same class */
    WB_SIM_FAULT_CLONE,    /* first slot: the same-class part of another unit */
    WB_SIM_FAULT_UNKNOWN,  /* first slot: an identity nobody manifested */
    WB_SIM_FAULT_ROGUE_FW, /* first measurement: an image nobody released (blades) */
    WB_SIM_FAULT_STALE,    /* replays an earlier answer (or one an hour old) */
    WB_SIM_FAULT_BAD_SIG,  /* a byte of the signature flipped */
    WB_SIM_FAULT_IMPOSTOR, /* signed under a CA the ledger never registered */
    WB_SIM_FAULT_OFFLINE,  /* closes the connection without an answer */
    WB_SIM_FAULT_COUNT
} wb_sim_fault;

/* "none", "swap", "clone", "unknown", "rogue-fw", "stale", "bad-sig",
 * "impostor", "offline" */
const char *wb_sim_fault_name(wb_sim_fault f);
/* WB_E_INVALID naming the word and the modes */
int wb_sim_fault_parse(wb_sim_fault *f, const char *name);

#define WB_SIM_DEVICES_BODY_MAX 1024 /* bytes of a request body */
#define WB_SIM_DEVICES_FILE_MAX ((size_t)1 << 30) /* bytes of devices.json */

typedef struct {
    const char *dir;            /* the run's DIR (reads DIR/attest/devices.json) */
    const char *listen;         /* "ADDR:PORT"; default "127.0.0.1:0" (a free port) */
    wb_alg alias_alg;           /* default WB_ALG_ES384 */
    unsigned threads;           /* HTTP threads; 0: one per core */
} wb_sim_devices_options;

void wb_sim_devices_options_init(wb_sim_devices_options *o);

typedef struct wb_sim_devices wb_sim_devices;

/*
 * wb_sim_devices_start loads the units and listens. WB_E_IO (missing file,
 * cannot listen), WB_E_INVALID (devices.json malformed, naming where).
 */
int wb_sim_devices_start(wb_sim_devices **out, const wb_sim_devices_options *o);
unsigned short wb_sim_devices_port(const wb_sim_devices *d);
size_t wb_sim_devices_count(const wb_sim_devices *d);
/*
 * wb_sim_devices_set_fault sets unit id's fault (WB_SIM_FAULT_NONE clears
 * it); it applies to the next challenge. WB_E_NOTFOUND for an unknown
 * unit; WB_E_INVALID when the mode does not apply to it (rogue-fw on a
 * rack, clone with no other unit to borrow from, swap with no spare).
 */
int wb_sim_devices_set_fault(wb_sim_devices *d, const char *id, wb_sim_fault f);
/* stops listening (requests in flight finish) and frees everything; NULL is fine */
void wb_sim_devices_stop(wb_sim_devices *d);

#endif
