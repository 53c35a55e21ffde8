/*
 * waybill/prov.h: the hardware-provenance model (DESIGN.md "Provenance
 * model"): the statement kinds and their JSON payloads, who may say what
 * (the registration policy, replayable from the log), the fleet-state
 * projection, the anomaly rules and the queries.
 *
 * Every provenance statement is a SCITT signed statement whose payload is
 * JSON with media type application/vnd.waybill.<kind>+json, whose CWT iss is
 * the name of a registered issuer and whose sub is the statement's main
 * subject (docs/statements.md). Payloads are parsed strictly into the typed
 * form below (statements.c): unknown fields, wrong types, malformed ids and
 * over-long strings are refused with a message naming the field.
 */
#ifndef WAYBILL_PROV_H
#define WAYBILL_PROV_H

#include <stddef.h>
#include <stdint.h>

#define WB_PROV_VERSION 1          /* the payload version this code writes */
#define WB_DEVICE_ID_HEX 64        /* a device id: hex SHA-256 of the RoT SPKI DER */
#define WB_DIGEST384_HEX 96        /* a firmware digest: hex SHA-384 */
#define WB_PROV_NAME_MAX 128       /* names: issuers, manufacturers, sites, slots... */
#define WB_PROV_TEXT_MAX 1024      /* free text: reasons, notes */
#define WB_PROV_LIST_MAX 256       /* items in one list (devices, units, slots...) */
#define WB_PROV_CHAIN_MAX 6        /* certificates in a device identity chain */
#define WB_PROV_CERT_MAX 16384     /* bytes in one certificate (ML-DSA certs are ~8 KB) */

typedef enum {
    WB_KIND_NONE = 0,
    WB_KIND_ISSUER,
    WB_KIND_MANIFEST,
    WB_KIND_ASSEMBLY,
    WB_KIND_REPLACEMENT,
    WB_KIND_CUSTODY,
    WB_KIND_INTAKE,
    WB_KIND_ATTESTATION,
    WB_KIND_FIRMWARE,
    WB_KIND_REVIEW,
    WB_KIND_FINDING,
    WB_KIND_RESOLUTION,
    WB_KIND_REVOCATION,
    WB_KIND_DECOMMISSION,
    WB_KIND_COUNT
} wb_kind;

/* "manifest" <-> WB_KIND_MANIFEST; the media type is
 * application/vnd.waybill.<name>+json */
const char *wb_kind_name(wb_kind k);
wb_kind wb_kind_from_name(const char *name);
/* the kind of a content type, WB_KIND_NONE if it is not a waybill one */
wb_kind wb_kind_from_content_type(const char *cty);

typedef enum {
    WB_ROLE_NONE = 0,
    WB_ROLE_SUPPLIER,
    WB_ROLE_INTEGRATOR,
    WB_ROLE_LOGISTICS,
    WB_ROLE_DATACENTER,
    WB_ROLE_FIRMWARE_VENDOR,
    WB_ROLE_REVIEWER,
    WB_ROLE_AUDITOR,
    WB_ROLE_COUNT
} wb_role;

const char *wb_role_name(wb_role r);   /* "firmware-vendor" */
wb_role wb_role_from_name(const char *name);

typedef enum {
    WB_CLASS_NONE = 0,
    WB_CLASS_ROT,         /* "rot": Cerberus-style platform root of trust */
    WB_CLASS_TPM,         /* "tpm" */
    WB_CLASS_CALIPTRA,    /* "caliptra": Caliptra-style silicon RoT */
    WB_CLASS_BMC,         /* "bmc" */
    WB_CLASS_MOTHERBOARD, /* "motherboard" */
    WB_CLASS_NIC,         /* "nic" */
    WB_CLASS_SSD,         /* "ssd" */
    WB_CLASS_GPU,         /* "gpu" */
    WB_CLASS_BLADE,       /* "blade": an assembled server */
    WB_CLASS_RACK,        /* "rack" */
    WB_CLASS_COUNT
} wb_device_class;

const char *wb_class_name(wb_device_class c);
wb_device_class wb_class_from_name(const char *name);

/* ---- payloads ---- */

typedef char wb_device_id[WB_DEVICE_ID_HEX + 1]; /* lowercase hex, NUL-terminated */

typedef struct {
    char slot[WB_PROV_NAME_MAX + 1];
    wb_device_id id;
} wb_slot_entry;

/* issuer (governance, signed by an operator admin key) */
typedef enum { WB_ISSUER_ADD = 1, WB_ISSUER_UPDATE, WB_ISSUER_RETIRE } wb_issuer_action;

typedef struct {
    wb_issuer_action action;
    char name[WB_PROV_NAME_MAX + 1];   /* the issuer's name: CWT iss of its statements */
    wb_role role;                      /* not for retire */
    char **manufacturers;              /* supplier/integrator scope: names it may use */
    size_t nmanufacturers;
    char **sites;                      /* datacenter/logistics scope: sites */
    size_t nsites;
    uint8_t **keys;                    /* SubjectPublicKeyInfo DER of its signing keys */
    size_t *key_lens;
    size_t nkeys;
    uint8_t **cas;                     /* DER CA certificates: x5chain anchors and, for
                                          suppliers, the CA of its devices' RoT chains */
    size_t *ca_lens;
    size_t ncas;
} wb_p_issuer;

/* manifest (supplier; integrator for blades and racks) */
typedef struct {
    wb_device_id id;                   /* = hex SHA-256(SPKI DER of chain[0]) */
    wb_device_class cls;
    char model[WB_PROV_NAME_MAX + 1];
    char serial[WB_PROV_NAME_MAX + 1];
    uint8_t *chain[WB_PROV_CHAIN_MAX]; /* DER, leaf (the RoT identity) first */
    size_t chain_len[WB_PROV_CHAIN_MAX];
    size_t nchain;
} wb_p_device;

typedef struct {
    char manufacturer[WB_PROV_NAME_MAX + 1];
    wb_p_device *devices;
    size_t ndevices;
} wb_p_manifest;

/* assembly (integrator): a parent and its children by slot */
typedef struct {
    wb_device_id parent;
    wb_slot_entry *children;
    size_t nchildren;
} wb_p_assembly;

/* replacement (integrator or datacenter): an authorized swap */
typedef struct {
    wb_device_id parent;
    char slot[WB_PROV_NAME_MAX + 1];
    wb_device_id old_id;
    wb_device_id new_id;
    char ticket[WB_PROV_NAME_MAX + 1];
} wb_p_replacement;

/* custody (logistics): a shipment leaves or arrives */
typedef enum { WB_CUSTODY_SHIP = 1, WB_CUSTODY_RECEIVE } wb_custody_event;

typedef struct {
    wb_custody_event event;
    char shipment[WB_PROV_NAME_MAX + 1];
    char from[WB_PROV_NAME_MAX + 1];   /* a site or facility name */
    char to[WB_PROV_NAME_MAX + 1];
    wb_device_id *units;
    size_t nunits;
    char **seals;
    size_t nseals;
} wb_p_custody;

/* intake (datacenter): what was found on arrival */
typedef struct {
    wb_device_id id;                   /* a unit of the shipment (blade, rack) */
    wb_slot_entry *found;              /* slot -> device actually found */
    size_t nfound;
} wb_p_intake_unit;

typedef enum { WB_VERDICT_PASS = 1, WB_VERDICT_FAIL } wb_verdict;

typedef struct {
    char site[WB_PROV_NAME_MAX + 1];
    char shipment[WB_PROV_NAME_MAX + 1];
    char **seals;                      /* seals found intact */
    size_t nseals;
    wb_p_intake_unit *units;
    size_t nunits;
    wb_verdict verdict;
} wb_p_intake;

/* attestation (datacenter verifier) */
typedef enum {
    WB_PHASE_ARRIVAL = 1,
    WB_PHASE_PREPRODUCTION,
    WB_PHASE_PERIODIC
} wb_attest_phase;

/*
 * the check an answer failed, when it could not be trusted at all (the
 * same order as wb_evidence_failure in attest.h): its slots and
 * measurements are then not evidence of anything
 */
typedef enum {
    WB_CHECK_NONE = 0,
    WB_CHECK_FORMAT,      /* "format" */
    WB_CHECK_CHAIN,       /* "chain" */
    WB_CHECK_IDENTITY,    /* "identity" */
    WB_CHECK_SIGNATURE,   /* "signature" */
    WB_CHECK_STALE,       /* "stale" */
    WB_CHECK_UNREACHABLE, /* "unreachable" */
    WB_CHECK_COUNT
} wb_failed_check;

const char *wb_failed_check_name(wb_failed_check f);

typedef struct {
    char component[WB_PROV_NAME_MAX + 1]; /* e.g. "bmc", "rot", "nic0" */
    char digest[WB_DIGEST384_HEX + 1];    /* SHA-384, lowercase hex */
} wb_measurement;

typedef struct {
    char site[WB_PROV_NAME_MAX + 1];
    wb_device_id target;               /* the device that was challenged */
    wb_attest_phase phase;
    char nonce[129];                   /* hex, 16..64 bytes */
    char evidence_digest[65];          /* hex SHA-256 of the evidence */
    wb_slot_entry *seen;               /* identities the device reported, by slot */
    size_t nseen;
    wb_measurement *measurements;
    size_t nmeasurements;
    wb_verdict verdict;
    wb_failed_check failed_check;      /* optional "failed_check"; NONE if absent */
    char **reasons;
    size_t nreasons;
} wb_p_attestation;

/* firmware (firmware vendor): a released image */
typedef struct {
    wb_device_class cls;
    char vendor[WB_PROV_NAME_MAX + 1];
    char fw_version[WB_PROV_NAME_MAX + 1];
    char digest[WB_DIGEST384_HEX + 1];
    int64_t svn;                       /* security version number */
} wb_p_firmware;

/* review (security reviewer), e.g. an OCP SAFE short-form report */
typedef struct {
    char title[WB_PROV_TEXT_MAX + 1];
    double cvss;                       /* 0.0 .. 10.0 */
    char cve[WB_PROV_NAME_MAX + 1];    /* "" if none */
} wb_review_issue;

typedef struct {
    char firmware_digest[WB_DIGEST384_HEX + 1]; /* SHA-384 the review covers */
    char reviewer[WB_PROV_NAME_MAX + 1];        /* the review provider */
    char framework[WB_PROV_NAME_MAX + 1];       /* e.g. "OCP SAFE SFR v1" */
    wb_review_issue *issues;
    size_t nissues;
    char *original_format;             /* "jws", "cose-sign" or NULL */
    uint8_t *original;                 /* the reviewer's signed bytes, kept as is */
    size_t original_len;
} wb_p_review;

/* finding (datacenter, or the service itself) */
typedef enum { WB_TAG_EVICT = 1, WB_TAG_INVESTIGATE, WB_TAG_REMEDIATE } wb_tag;

const char *wb_tag_name(wb_tag t);

typedef struct {
    char finding_id[65];               /* hex: stable id of the finding */
    char rule[WB_PROV_NAME_MAX + 1];   /* e.g. "unauthorized-swap" (docs/anomalies.md) */
    wb_tag tag;
    wb_device_id device;               /* "" if the finding is not about one device */
    char site[WB_PROV_NAME_MAX + 1];
    char reason[WB_PROV_TEXT_MAX + 1];
    char (*evidence)[65];              /* entry ids (hex SHA-256) that prove it */
    size_t nevidence;
} wb_p_finding;

/* resolution (datacenter): closes a finding */
typedef struct {
    char finding_id[65];
    char action[WB_PROV_NAME_MAX + 1]; /* "evicted", "remediated", "false-positive", ... */
    char note[WB_PROV_TEXT_MAX + 1];
} wb_p_resolution;

/* revocation (the issuer of what it revokes; a datacenter for findings) */
typedef enum {
    WB_REVOKE_DEVICE = 1,
    WB_REVOKE_KEY,
    WB_REVOKE_FIRMWARE,
    WB_REVOKE_FINDING
} wb_revoke_target;

typedef struct {
    wb_revoke_target target_kind;
    char target[WB_DIGEST384_HEX + 1]; /* device id, key SPKI hash, fw digest, finding id */
    char reason[WB_PROV_TEXT_MAX + 1];
} wb_p_revocation;

/* decommission (datacenter) */
typedef struct {
    wb_device_id device;
    char site[WB_PROV_NAME_MAX + 1];
    char reason[WB_PROV_TEXT_MAX + 1];
} wb_p_decommission;

/* a parsed provenance payload */
typedef struct {
    wb_kind kind;
    int version;
    union {
        wb_p_issuer issuer;
        wb_p_manifest manifest;
        wb_p_assembly assembly;
        wb_p_replacement replacement;
        wb_p_custody custody;
        wb_p_intake intake;
        wb_p_attestation attestation;
        wb_p_firmware firmware;
        wb_p_review review;
        wb_p_finding finding;
        wb_p_resolution resolution;
        wb_p_revocation revocation;
        wb_p_decommission decommission;
    } u;
} wb_prov_payload;

/*
 * wb_prov_parse parses and validates a JSON payload of the given kind
 * (from the statement's content type) strictly: the "kind" field must
 * equal it, "version" must be 1, every required field present with its
 * type, no unknown fields, ids lowercase hex of the right length, names
 * within WB_PROV_NAME_MAX, lists within WB_PROV_LIST_MAX. WB_E_INVALID with
 * a message naming the field ("manifest: devices[3].id: not 64 lowercase
 * hex digits"). On failure p is empty; free with wb_prov_payload_cleanup.
 */
int wb_prov_parse(wb_prov_payload *p, wb_kind kind, const uint8_t *json, size_t len);
void wb_prov_payload_cleanup(wb_prov_payload *p);

/*
 * wb_prov_encode writes p as compact JSON (the inverse of wb_prov_parse):
 * used by the simulator, `waybill issuer`, and the service's findings.
 */
int wb_prov_encode(char **out, size_t *len, const wb_prov_payload *p);

/* the device id of a DER certificate: hex SHA-256 of its SPKI DER */
int wb_device_id_of_cert(wb_device_id out, const uint8_t *der, size_t len);

#endif
