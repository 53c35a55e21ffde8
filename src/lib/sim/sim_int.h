/*
 * sim_int.h: what the simulator's files share: the parties, the fleet
 * model, the statements in flight and the thread pools.
 *
 *   sim.c         the journey, phase by phase, and the injections
 *   sim_fleet.c   the parties' keys and CAs, the device identities (in
 *                 parallel), the files written to the working directory
 *   sim_pool.c    signing statements and registering a phase of them with
 *                 several in flight; a small parallel-for
 *   sim_report.c  names, the report and its JSON
 *   sim_devfile.c attest/devices.json: what every attesting unit (blade,
 *                 rack) holds and reports when challenged
 *   sim_devices.c the device server (`waybill sim devices`): answers
 *                 challenges for every unit of devices.json
 */
#ifndef WAYBILL_SIM_INT_H
#define WAYBILL_SIM_INT_H

#include "waybill/cose.h"
#include "waybill/crypto.h"
#include "waybill/prov.h"
#include "waybill/sim.h"

/* ---- parties ---- */

enum {
    SIM_P_ROT = 0,    /* suppliers first, one per part class */
    SIM_P_TPM,
    SIM_P_BMC,
    SIM_P_NIC,
    SIM_P_SSD,
    SIM_P_INTEGRATOR,
    SIM_P_CARRIER,
    SIM_P_DATACENTER,
    SIM_P_FIRMWARE,
    SIM_P_REVIEWER,
    SIM_P_COUNT
};
#define SIM_SUPPLIERS 5

typedef struct {
    const char *name;          /* issuer name: the CWT iss of its statements */
    wb_role role;
    const char *manufacturer;  /* suppliers and the integrator */
    wb_device_class cls;       /* suppliers: what they make */
    const char *model;         /* suppliers: the part's model */
    const char *serial_prefix;
    const char *fw_version;    /* suppliers: the current firmware */
    int64_t fw_svn;
    const char *ca_name;       /* suppliers and integrator: the device CA's CN */
} sim_party_def;

extern const sim_party_def sim_parties[SIM_P_COUNT];

typedef struct {
    const sim_party_def *def;
    wb_key *key;               /* ES256 statement signing key */
    uint8_t kid[32];           /* SHA-256 of its SPKI */
    wb_cose_signer signer;
    uint8_t *spki;
    size_t spki_len;
    wb_key *ca_key;            /* P-384 device identity CA, or NULL */
    uint8_t *ca_der;
    size_t ca_len;
} sim_party;

/* ---- the fleet ---- */

typedef struct {
    wb_device_id id;
    wb_device_class cls;
    int party;                 /* who manifests it */
    char serial[48];
    uint8_t *cert;             /* its RoT identity certificate (DER) */
    size_t cert_len;
    int parent;                /* device index of its blade or rack, -1 */
    char slot[16];
    int spare;
    wb_sim_state state;        /* expected at the end */
    /* with write_files, blades and racks only: the identity private key,
     * which devices.json gives the simulated device (PKCS#8 PEM) */
    char *key_pem;
} sim_device;

/* ---- statements ---- */

typedef struct {
    uint8_t *st;               /* the signed statement */
    size_t len;
    wb_kind kind;
    char label[128];           /* "manifest 3 of contoso-silicon", for errors */
    char entry[65];            /* out: the entry id */
    int rc;                    /* out */
    char err[1024];
} sim_job;

typedef struct {
    sim_job *jobs;
    size_t n, cap;
} sim_batch;

/*
 * sim_sign encodes payload p, signs it as party (CWT iss = its name, sub,
 * iat, kid) and appends the statement to b; returns the job's index.
 * WB_E_LIMIT when the statement would be over WB_STATEMENT_MAX (nothing
 * appended: the caller splits).
 */
int sim_sign(sim_batch *b, size_t *index, const sim_party *party, const wb_prov_payload *p,
             const char *sub, int64_t iat, const char *label);
/* the same for the operator (governance), signed by the admin key */
int sim_sign_admin(sim_batch *b, size_t *index, const wb_key *admin,
                   const wb_cose_signer *signer, const uint8_t kid[32],
                   const wb_prov_payload *p, const char *sub, const char *label);
void sim_batch_cleanup(sim_batch *b);

typedef struct {
    const wb_sim_options *opt;
    size_t registered;
    size_t by_kind[WB_KIND_COUNT];
} sim_register_ctx;

/*
 * sim_register registers every job of b at the service (opt->workers in
 * flight), waits for all receipts, and fills each job's entry id. The first
 * refusal or failure stops the phase: its message names the job.
 */
int sim_register(sim_register_ctx *rc, sim_batch *b, const char *phase);

/* runs fn(ctx, i) for i in [0, n) on threads threads; the first error wins */
int sim_parallel(unsigned threads, size_t n, int (*fn)(void *ctx, size_t i), void *ctx,
                 const wb_sim_options *opt, const char *phase);

/* ---- generation (sim_fleet.c) ---- */

int sim_party_make(sim_party *p, const sim_party_def *def, uint64_t *serial);
void sim_party_cleanup(sim_party *p);
/* keys and certificates of devices [0, n) in parallel */
int sim_devices_make(sim_device *d, size_t n, const sim_party *parties, const char *run,
                     const wb_sim_options *opt);
/* writes keys, CA certificates, device certificates and devices.tsv */
int sim_write_files(const char *dir, const sim_party *parties, const sim_device *d, size_t n);
/* frees what sim_devices_make added to d[0..n) (and wipes the keys) */
void sim_devices_free(sim_device *d, size_t n);

/* ---- devices.json (sim_devfile.c) ---- */

/* what devices.json needs beyond the devices themselves */
typedef struct {
    const char *run;
    const char *site;
    /* the digest of the current firmware of each part class (hex SHA-384),
     * NULL for a class with none */
    const char *fw_digest[WB_CLASS_COUNT];
} sim_devfile_info;

/* writes DIR/attest/devices.json (mode 0600: it holds private keys) */
int sim_write_devfile(const char *dir, const sim_party *parties, const sim_device *d,
                      size_t n, const sim_devfile_info *info);

/* ---- small things ---- */

uint64_t sim_rand(uint64_t *state);
void sim_hex_rand(char *out, size_t nbytes, uint64_t *state); /* 2n hex + NUL */
double sim_now(void);
int sim_mkdirs(const char *path);

#endif
