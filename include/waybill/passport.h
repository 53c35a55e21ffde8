/*
 * waybill/passport.h: device passports (docs/passport.md): one
 * self-contained file with everything the ledger holds about a device, its
 * ancestors and its firmware, each entry a transparent statement whose
 * receipt proves it under the root of one signed checkpoint, so that an
 * auditor can check every claim offline, with nothing but the service's and
 * the log's public keys.
 */
#ifndef WAYBILL_PASSPORT_H
#define WAYBILL_PASSPORT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "waybill/scitt.h"
#include "waybill/witness.h"

#define WB_PASSPORT_FORMAT "waybill-passport/v1"
#define WB_PASSPORT_MAX (64u * 1024 * 1024) /* bytes of a passport we read */

/*
 * wb_passport_build: the passport of device from a running service (CBOR,
 * malloc'd), against the service's newest checkpoint; entries committed
 * after it are left out.
 */
int wb_passport_build(uint8_t **out, size_t *len, wb_service *svc, const char *device);

/*
 * wb_passport_build_at: the same against a given signed checkpoint of the
 * service's log (a note of cp_len bytes, opened with the log key; extra
 * signature lines, such as witness cosignatures, are kept and copied into
 * the passport as they are). Every entry about the device must be in that
 * checkpoint's tree: if one is not, it returns 1, the message naming it
 * (a newer checkpoint is needed; try again later).
 */
int wb_passport_build_at(uint8_t **out, size_t *len, wb_service *svc, const char *device,
                         const char *checkpoint, size_t cp_len);

/*
 * What the verifier trusts. Each may be NULL: then the copy inside the
 * passport is used and the report says so (pin them for a real audit).
 */
typedef struct {
    const uint8_t *service_keys;  /* a COSE Key Set */
    size_t service_keys_len;
    const char *log_key;          /* the log's verifier key string */
    const char *const *admin_key_files; /* PEM: governance signers */
    size_t nadmin;
    /* when not NULL, the checkpoint must be cosigned by a quorum of its
     * witnesses; the log key is then log_key, else the policy's, else the
     * passport's */
    const wb_witness_policy *witness_policy;
} wb_passport_trust;

/*
 * wb_passport_verify checks a passport completely offline:
 *   - the checkpoint verifies with the log key;
 *   - every entry's receipt verifies with the service keys and proves the
 *     entry under exactly the checkpoint's root;
 *   - every entry's issuer signature verifies with a key that an issuer
 *     entry in the passport registered for that issuer (findings: the
 *     service key; governance: the admin keys, when given);
 *   - every payload parses; the device's manifest names the device;
 *   - with a witness policy, the checkpoint carries valid cosignatures of a
 *     quorum of its witnesses (wb_witness_policy_check); the report's
 *     "witnessed" says how many cosigned, or which were missing.
 * The report (JSON) lists each entry with "ok" or the reason it failed.
 * Returns 0 if everything verified, WB_E_VERIFY if any claim failed,
 * WB_E_INVALID if the passport is malformed.
 */
int wb_passport_verify(json_t **report, const uint8_t *data, size_t len,
                       const wb_passport_trust *trust);

#endif
