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

#define WB_PASSPORT_FORMAT "waybill-passport/v1"
#define WB_PASSPORT_MAX (64u * 1024 * 1024) /* bytes of a passport we read */

/* builds the passport of device from a running service (CBOR, malloc'd) */
int wb_passport_build(uint8_t **out, size_t *len, wb_service *svc, const char *device);

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
} wb_passport_trust;

/*
 * wb_passport_verify checks a passport completely offline:
 *   - the checkpoint verifies with the log key;
 *   - every entry's receipt verifies with the service keys and proves the
 *     entry under exactly the checkpoint's root;
 *   - every entry's issuer signature verifies with a key that an issuer
 *     entry in the passport registered for that issuer (findings: the
 *     service key; governance: the admin keys, when given);
 *   - every payload parses; the device's manifest names the device.
 * The report (JSON) lists each entry with "ok" or the reason it failed.
 * Returns 0 if everything verified, WB_E_VERIFY if any claim failed,
 * WB_E_INVALID if the passport is malformed.
 */
int wb_passport_verify(json_t **report, const uint8_t *data, size_t len,
                       const wb_passport_trust *trust);

#endif
